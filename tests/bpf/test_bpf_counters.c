/* test_bpf_counters.c: the BPF side against the real kernel. BPF_PROG_TEST_RUN drives the
 * same inline code the hooks run (sampling, attribution to the caller's memcg and its
 * watched ancestors, the rate window); then the real hooks, attached by the loader, must
 * see a child process in its own memcg allocate a known amount. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "test.h"
#include "loader.h"
#include "oomcast.skel.h"

#define MEMCG "/sys/fs/cgroup/memory"
#define MiB (1024ULL * 1024)

static char cg_parent[200], cg_child[256];

static void write_file(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(val, f);
		fclose(f);
	}
}

static uint64_t ino(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_ino;
}

static void enter(const char *cg)
{
	char path[300], pid[32];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	snprintf(pid, sizeof(pid), "%d", getpid());
	write_file(path, pid);
}

static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* One BPF_PROG_TEST_RUN with n context words; on CPU `cpu` if it is not negative. */
static int test_run_on(int fd, __u64 *ctx, size_t n, int cpu)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = ctx, .ctx_size_in = n * sizeof(__u64),
		    .flags = cpu >= 0 ? BPF_F_TEST_RUN_ON_CPU : 0, .cpu = cpu >= 0 ? cpu : 0);
	int r = bpf_prog_test_run_opts(fd, &o);

	return r ? r : (int)o.retval;
}

static int test_run(int fd, __u64 *ctx, size_t n)
{
	return test_run_on(fd, ctx, n, -1);
}

/* Load the skeleton with only `want` (and `also`, if not NULL) of its programs: the test
 * programs, without the hooks. Sampling every 64 pages of 4 KiB. */
static int load_only(struct oomcast *s, struct bpf_program *want, struct bpf_program *also)
{
	struct bpf_program *p;

	s->rodata->sample_bytes = 64 * 4096;
	s->rodata->page_shift = 12;
	bpf_object__for_each_program(p, s->obj)
		bpf_program__set_autoload(p, p == want || p == also);
	return oomcast__load(s);
}

/* Sampling and attribution through oc_test_page_alloc, in this process's own memcg (a
 * child of a watched parent: the pod/container case). */
static void test_sampling_and_attribution(void)
{
	struct oomcast *s = oomcast__open();
	uint64_t parent = ino(cg_parent), child = ino(cg_child);
	struct oc_cgroup zero = { 0 }, c;
	struct oc_task t;
	__u64 ctx[1] = { 0 };
	__u32 tgid = getpid();
	int fd, i, hits = 0;

	ASSERT_TRUE(s != NULL, "open skeleton");
	if (!s)
		return;
	ASSERT_EQ(load_only(s, s->progs.oc_test_page_alloc, s->progs.oc_test_rate), 0,
		  "load test programs");
	fd = bpf_program__fd(s->progs.oc_test_page_alloc);
	ASSERT_EQ(bpf_map_update_elem(bpf_map__fd(s->maps.cgroups), &parent, &zero, 0), 0, "watch parent");

	for (i = 0; i < 1000; i++)                      /* 1000 order-0 pages */
		hits += test_run(fd, ctx, 1) > 0;
	ASSERT_EQ(hits, 1000 / 64, "samples taken (one per 64 pages)");
	ASSERT_EQ(bpf_map_lookup_elem(bpf_map__fd(s->maps.cgroups), &parent, &c), 0, "parent entry");
	ASSERT_EQ(c.alloc_bytes, (1000 / 64) * 64 * 4096ULL, "parent credited whole periods");
	ASSERT_EQ(bpf_map_lookup_elem(bpf_map__fd(s->maps.cgroups), &child, &c), -ENOENT,
		  "unwatched child not created");
	ASSERT_EQ(bpf_map_lookup_elem(bpf_map__fd(s->maps.tasks), &tgid, &t), 0, "task entry");
	ASSERT_EQ(t.cgroup_id, child, "task's own memcg is the child (kn->id == inode)");
	ASSERT_EQ(t.watched_id, parent, "task's watched cgroup is the parent");
	ASSERT_EQ(t.alloc_bytes, (1000 / 64) * 64 * 4096ULL, "task credited");

	/* an order-9 (2 MiB) allocation is 8 whole periods at once */
	ctx[0] = 9;
	ASSERT_EQ(test_run(fd, ctx, 1), 1, "order-9 sampled");
	bpf_map_lookup_elem(bpf_map__fd(s->maps.cgroups), &parent, &c);
	ASSERT_EQ(c.alloc_bytes, (1000 / 64) * 64 * 4096ULL + 2 * MiB, "order-9 credit");

	/* watching the child too credits both (nested limits) */
	ASSERT_EQ(bpf_map_update_elem(bpf_map__fd(s->maps.cgroups), &child, &zero, 0), 0, "watch child");
	ASSERT_EQ(test_run(fd, ctx, 1), 2, "both levels credited");
	oomcast__destroy(s);
}

/* The second online CPU (the first is 0 on Linux), or -1. */
static int second_online_cpu(void)
{
	char buf[256];
	FILE *f = fopen("/sys/devices/system/cpu/online", "r");
	int a, b, n, cpu = -1;
	char *p = buf;

	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	while (cpu < 0 && sscanf(p, "%d%n", &a, &n) == 1) {     /* "0-3,5,7-9" */
		p += n;
		b = a;
		if (*p == '-' && sscanf(p + 1, "%d%n", &b, &n) == 1)
			p += 1 + n;
		if (b > 0)
			cpu = a > 0 ? a : 1;
		if (*p == ',')
			p++;
	}
	return cpu;
}

/* The accumulator is one line per CPU in `cpu_acc`: each CPU counts its own pages, the
 * first page on a CPU counts (it also copies the constants in), and the loader sizes the
 * array to the machine's CPUs. */
static void test_per_cpu_accumulator(void)
{
	struct oomcast *s = oomcast__open();
	uint64_t parent = ino(cg_parent);
	struct oc_cgroup zero = { 0 };
	struct oc_cpu_acc a0, a1;
	__u64 ctx[1] = { 0 };
	int fd, i, hits = 0, other = second_online_cpu();
	__u32 k0 = 0, k1 = other;

	ASSERT_TRUE(s != NULL, "open skeleton");
	if (!s)
		return;
	ASSERT_EQ(sizeof(struct oc_cpu_acc), 64, "one cache line per CPU");
	ASSERT_EQ(load_only(s, s->progs.oc_test_page_alloc, NULL), 0, "load");
	fd = bpf_program__fd(s->progs.oc_test_page_alloc);
	bpf_map_update_elem(bpf_map__fd(s->maps.cgroups), &parent, &zero, 0);
	if (other < 0) {
		printf("# per-CPU accumulator: one CPU online, nothing to tell apart\n");
		oomcast__destroy(s);
		return;
	}
	for (i = 0; i < 40; i++) {                      /* 40 pages on each of two CPUs */
		hits += test_run_on(fd, ctx, 1, 0) > 0;
		hits += test_run_on(fd, ctx, 1, other) > 0;
	}
	ASSERT_EQ(hits, 0, "80 pages over two CPUs: no CPU reached a 64-page period");
	bpf_map_lookup_elem(bpf_map__fd(s->maps.cpu_acc), &k0, &a0);
	bpf_map_lookup_elem(bpf_map__fd(s->maps.cpu_acc), &k1, &a1);
	ASSERT_EQ(a0.acc, 40 * 4096ULL, "CPU 0 counted its 40 pages, the first included");
	ASSERT_EQ(a1.acc, 40 * 4096ULL, "the other CPU counted its own");
	ASSERT_EQ(a0.period, 64 * 4096ULL, "period copied in");
	ASSERT_EQ(a0.page_shift, 12, "page shift copied in");
	for (i = 0; i < 24; i++)
		hits += test_run_on(fd, ctx, 1, 0) > 0;
	ASSERT_EQ(hits, 1, "CPU 0's 64th page takes the sample");
	bpf_map_lookup_elem(bpf_map__fd(s->maps.cpu_acc), &k0, &a0);
	ASSERT_EQ(a0.acc, 0, "CPU 0 starts a new period");
	oomcast__destroy(s);
}

/* The rate window through oc_test_rate: 1 MiB every 100 ms is 10 MiB/s. */
static void test_rate_window(void)
{
	struct oomcast *s = oomcast__open();
	struct oc_cgroup zero = { 0 }, c;
	__u64 id = 12345, ctx[3], now = 1000000000ULL;
	int fd, i;

	if (!s)
		return;
	ASSERT_EQ(load_only(s, s->progs.oc_test_rate, NULL), 0, "load");
	fd = bpf_program__fd(s->progs.oc_test_rate);
	bpf_map_update_elem(bpf_map__fd(s->maps.cgroups), &id, &zero, 0);
	for (i = 0; i <= 20; i++) {
		ctx[0] = MiB; ctx[1] = now + i * 100000000ULL; ctx[2] = id;
		ASSERT_EQ(test_run(fd, ctx, 3), 0, "run");
	}
	bpf_map_lookup_elem(bpf_map__fd(s->maps.cgroups), &id, &c);
	ASSERT_NEAR((double)c.rate_bps, 10.0 * MiB, 0.15 * 10 * MiB, "rate 10 MiB/s");
	/* after an idle gap, the first window restarts the rate instead of averaging */
	ctx[1] = now + 60ULL * 1000000000ULL; ctx[0] = MiB;
	test_run(fd, ctx, 3);
	ctx[1] += 300000000ULL;
	test_run(fd, ctx, 3);
	bpf_map_lookup_elem(bpf_map__fd(s->maps.cgroups), &id, &c);
	ASSERT_TRUE(c.rate_bps < 8 * MiB, "idle gap restarts the rate");
	oomcast__destroy(s);
}

/* The real hooks: a child in the child memcg maps and touches 64 MiB. */
static void test_live_hooks(void)
{
	struct ld_opts o = { .sample_bytes = 256 * 1024 };
	uint64_t child = ino(cg_child);
	struct oc_cgroup c;
	struct oc_task t;
	struct loader l;
	char err[256];
	int pfd[2], status;
	pid_t pid;
	char go;

	ASSERT_EQ(ld_open(&l, &o, err, sizeof(err)), 0, err);
	if (!l.skel)
		return;
	ASSERT_EQ(bpf_map__max_entries(l.skel->maps.cpu_acc), (__u32)libbpf_num_possible_cpus(),
		  "the loader sizes cpu_acc to the possible CPUs");
	ASSERT_EQ(ld_watch(&l, child), 0, "watch");
	if (pipe(pfd))
		return;
	pid = fork();
	if (pid == 0) {
		size_t len = 64 * MiB;
		char *p;

		close(pfd[1]);
		if (read(pfd[0], &go, 1) != 1)
			_exit(1);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(1);
		/* in four steps over ~0.4 s, so that the kernel closes a rate window */
		for (size_t i = 0; i < len; i += 4096) {
			p[i] = 1;
			if (i % (len / 4) == 0)
				usleep(100000);
		}
		sleep(1);
		_exit(0);
	}
	close(pfd[0]);
	if (write(pfd[1], "g", 1) != 1)
		return;
	waitpid(pid, &status, 0);
	ASSERT_EQ(ld_read_cgroup(&l, child, &c), 0, "cgroup entry");
	/* byte sampling: +- one period per CPU, plus page tables and libc's own pages */
	ASSERT_RANGE((double)c.alloc_bytes, 60.0 * MiB, 80.0 * MiB, "alloc_bytes ~ 64 MiB");
	ASSERT_RANGE((double)c.mmap_bytes, 64.0 * MiB, 70.0 * MiB, "mmap_bytes >= 64 MiB");
	__u32 key = pid;
	ASSERT_EQ(bpf_map_lookup_elem(l.tasks_fd, &key, &t), 0, "child's task entry");
	ASSERT_RANGE((double)t.alloc_bytes, 56.0 * MiB, 80.0 * MiB, "task alloc_bytes ~ 64 MiB");
	ASSERT_RANGE((double)t.mapped_bytes, 64.0 * MiB, 70.0 * MiB, "task mapped ~ 64 MiB");
	ASSERT_TRUE(t.rate_bps > 0, "task rate computed in the kernel");
	ld_close(&l);
}

/* The memcg this process started in, to return to it before removing ours. */
static void orig_memcg(char *out, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/self/cgroup", "r");

	snprintf(out, len, MEMCG);
	while (f && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, ":memory:");

		if (p) {
			p[strcspn(p, "\n")] = 0;
			snprintf(out, len, MEMCG "%s", p + 8);
		}
	}
	if (f)
		fclose(f);
}

int main(void)
{
	char orig[512];
	int r;

	if (geteuid()) {
		printf("not ok - bpf tests need root\n");
		return 1;
	}
	snprintf(cg_parent, sizeof(cg_parent), MEMCG "/oomcast-bpftest-%d", getpid());
	snprintf(cg_child, sizeof(cg_child), "%s/child", cg_parent);
	if (mkdir(cg_parent, 0755) || mkdir(cg_child, 0755)) {
		printf("not ok - create test cgroups: %s\n", strerror(errno));
		rmdir(cg_parent);
		return 1;
	}
	orig_memcg(orig, sizeof(orig));
	enter(cg_child);
	pin_cpu0();
	RUN(test_sampling_and_attribution);
	RUN(test_per_cpu_accumulator);
	RUN(test_rate_window);
	RUN(test_live_hooks);
	enter(orig);            /* back where we started, then remove what we made */
	rmdir(cg_child);
	rmdir(cg_parent);
	r = TEST_EXIT();
	return r;
}
