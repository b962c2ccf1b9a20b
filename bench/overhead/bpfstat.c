/* bpfstat.c: the overhead bench's driver. Turns on BPF run-time statistics for as long as it
 * runs (BPF_ENABLE_STATS: an fd, so nothing machine-wide outlives it), attaches the empty
 * program to mm_page_alloc beside the daemon's, runs a command (the workload), and prints
 * as JSON what each of the daemon's programs cost in that window: run count, ns per run,
 * and all of them together per page allocation, against the empty program's ns per run. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "empty.skel.h"

#define MAX_PROGS 64

struct prog_stat {
	__u32 id;
	char name[BPF_OBJ_NAME_LEN];
	__u64 run_cnt, run_time_ns;
};

static int prog_stat_fd(int fd, struct prog_stat *s)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	s->id = info.id;
	memcpy(s->name, info.name, sizeof(s->name));
	s->run_cnt = info.run_cnt;
	s->run_time_ns = info.run_time_ns;
	return 0;
}

static int prog_stat(__u32 id, struct prog_stat *s)
{
	int fd = bpf_prog_get_fd_by_id(id), r;

	if (fd < 0)
		return -errno;
	r = prog_stat_fd(fd, s);
	close(fd);
	return r;
}

/* The programs process pid holds, from the "prog_id:" lines of its fds' fdinfo (program fds
 * and link fds both carry one): exactly the daemon's, whatever else is loaded. */
static int daemon_prog_ids(pid_t pid, __u32 *ids, int max)
{
	char path[320], line[128];
	struct dirent *e;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((e = readdir(dir)) && n < max) {
		FILE *f;
		unsigned id;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid, e->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f)) {
			if (sscanf(line, "prog_id: %u", &id) != 1)
				continue;
			int dup = 0;

			for (int i = 0; i < n; i++)
				dup |= ids[i] == id;
			if (!dup)
				ids[n++] = id;
		}
		if (f)
			fclose(f);
	}
	closedir(dir);
	return n;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct json_object *stat_json(const struct prog_stat *a, const struct prog_stat *b)
{
	struct json_object *o = json_object_new_object();
	__u64 cnt = b->run_cnt - a->run_cnt, ns = b->run_time_ns - a->run_time_ns;

	json_object_object_add(o, "id", json_object_new_int64(b->id));
	json_object_object_add(o, "name", json_object_new_string(b->name));
	json_object_object_add(o, "run_cnt", json_object_new_int64((int64_t)cnt));
	json_object_object_add(o, "run_time_ns", json_object_new_int64((int64_t)ns));
	json_object_object_add(o, "ns_per_run", json_object_new_double(cnt ? (double)ns / cnt : 0));
	return o;
}

static void usage(void)
{
	fprintf(stderr, "usage: bpfstat [--pid DAEMON_PID] -- CMD [ARGS...]\n"
		"Attach an empty program to mm_page_alloc, run CMD with BPF stats on, and print "
		"the cost of DAEMON_PID's BPF programs in that window as JSON.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct prog_stat before[MAX_PROGS], after[MAX_PROGS], e0, e1;
	__u32 ids[MAX_PROGS];
	struct json_object *out, *progs;
	struct empty *skel = NULL;
	pid_t daemon = 0, child;
	int i, n = 0, stats_fd, status, ret = 1;
	double t0, t1;
	__u64 total_ns = 0;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--pid") && i + 1 < argc)
			daemon = atoi(argv[++i]);
		else
			usage();
	}
	if (i + 1 >= argc)
		usage();
	argv += i + 1;

	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0) {
		fprintf(stderr, "bpfstat: cannot enable BPF stats: %s\n", strerror(errno));
		return 1;
	}
	skel = empty__open_and_load();
	if (!skel || empty__attach(skel)) {
		fprintf(stderr, "bpfstat: cannot attach the empty program: %s\n", strerror(errno));
		goto out;
	}
	if (daemon && (n = daemon_prog_ids(daemon, ids, MAX_PROGS)) < 0) {
		fprintf(stderr, "bpfstat: cannot read pid %d's fds: %s\n", daemon, strerror(-n));
		goto out;
	}
	for (i = 0; i < n; i++)
		prog_stat(ids[i], &before[i]);
	prog_stat_fd(bpf_program__fd(skel->progs.empty_page_alloc), &e0);

	t0 = mono();
	child = fork();
	if (child == 0) {
		execvp(argv[0], argv);
		perror("bpfstat: exec");
		_exit(127);
	}
	if (child < 0 || waitpid(child, &status, 0) < 0)
		goto out;
	t1 = mono();

	prog_stat_fd(bpf_program__fd(skel->progs.empty_page_alloc), &e1);
	out = json_object_new_object();
	progs = json_object_new_array();
	for (i = 0; i < n; i++) {
		if (prog_stat(ids[i], &after[i]))
			continue;
		total_ns += after[i].run_time_ns - before[i].run_time_ns;
		json_object_array_add(progs, stat_json(&before[i], &after[i]));
	}
	__u64 allocs = e1.run_cnt - e0.run_cnt;
	double empty_ns = allocs ? (double)(e1.run_time_ns - e0.run_time_ns) / allocs : 0;
	double per_alloc = allocs ? (double)total_ns / allocs : 0;

	json_object_object_add(out, "empty", stat_json(&e0, &e1));
	json_object_object_add(out, "progs", progs);
	json_object_object_add(out, "page_allocs", json_object_new_int64((int64_t)allocs));
	json_object_object_add(out, "daemon_ns_per_alloc", json_object_new_double(per_alloc));
	json_object_object_add(out, "ratio_to_empty",
			       json_object_new_double(empty_ns ? per_alloc / empty_ns : 0));
	json_object_object_add(out, "cmd_seconds", json_object_new_double(t1 - t0));
	json_object_object_add(out, "cmd_status", json_object_new_int(WIFEXITED(status) ?
				WEXITSTATUS(status) : 128 + WTERMSIG(status)));
	printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
	json_object_put(out);
	ret = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
out:
	empty__destroy(skel);
	close(stats_fd);
	return ret;
}
