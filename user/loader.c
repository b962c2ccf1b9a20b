/* loader.c: mount tracefs/bpffs when missing, probe the kernel's hooks, load and attach the
 * BPF skeleton with fallbacks (tp_btf where it loads, classic tracepoints where not), pin
 * the maps with BTF for bpftool, and undo all of it on close. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "loader.h"
#include "oomcast.skel.h"

#define TRACEFS "/sys/kernel/tracing"
#define BPFFS "/sys/fs/bpf"

static void say(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

int ld_ensure_mount(const char *target, const char *fstype, long magic)
{
	struct statfs st;

	if (statfs(target, &st) == 0 && (long)st.f_type == magic)
		return 0;
	if (mkdir(target, 0755) && errno != EEXIST)
		return -errno;
	if (mount(fstype, target, fstype, 0, NULL))
		return -errno;
	return 1;
}

static int tracefs_has(const char *event)
{
	char path[256];

	snprintf(path, sizeof(path), TRACEFS "/events/%s/id", event);
	return access(path, R_OK) == 0;
}

/* The BTF prototype of a tracepoint: its typedef btf_trace_<tp> -> pointer -> func proto.
 * Returns the proto's type id, or 0 when the kernel's BTF lacks it. */
static int tp_btf_proto(const struct btf *btf, const char *tp)
{
	char name[128];
	const struct btf_type *t;
	int id;

	if (!btf)
		return 0;
	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id <= 0)
		return 0;
	t = btf__type_by_id(btf, id);
	t = t ? btf__type_by_id(btf, t->type) : NULL;       /* pointer */
	if (!t || !btf_is_ptr(t))
		return 0;
	return t->type;
}

/* Whether tracepoint tp's first real argument (after the void *ctx) is a pointer. */
static int tp_btf_first_arg_is_ptr(const struct btf *btf, const char *tp)
{
	int proto = tp_btf_proto(btf, tp);
	const struct btf_type *t = proto ? btf__type_by_id(btf, proto) : NULL;
	const struct btf_param *p;

	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 2)
		return 0;
	p = btf_params(t);
	t = btf__type_by_id(btf, p[1].type);
	return t && btf_is_ptr(t);
}

static struct ld_hook *hook_add(struct loader *l, const char *name, struct bpf_program *prog,
				const char *how)
{
	struct ld_hook *h = &l->hooks[l->nhooks++];

	memset(h, 0, sizeof(*h));       /* a retry's hooks owe nothing to the try before */
	h->name = name;
	h->how = how;
	h->prog_name = prog ? bpf_program__name(prog) : NULL;
	h->prog_fd = -1;
	return h;
}

/* Whether the kernel refused prog in an earlier try of this load (ld_open). */
static int refused(const struct loader *l, const struct bpf_program *prog)
{
	for (int i = 0; i < l->nrefused; i++)
		if (!strcmp(l->refused[i], bpf_program__name(prog)))
			return 1;
	return 0;
}

static void disable(struct ld_hook *h, struct bpf_program *prog, const char *why)
{
	if (prog)
		bpf_program__set_autoload(prog, false);
	h->how = "disabled";
	h->prog_name = NULL;
	snprintf(h->why, sizeof(h->why), "%s", why);
}

/* A hook with a tp_btf program only: loaded where the kernel's BTF has the tracepoint
 * (and tp_btf is wanted), else off, saying why and what is lost (`without`). */
static void tp_btf_only(struct loader *l, const struct btf *btf, int classic_only,
			const char *name, struct bpf_program *prog, const char *tp,
			const char *without)
{
	struct ld_hook *h = hook_add(l, name, prog, "tp_btf");
	char why[sizeof(h->why)];

	if (!classic_only && tp_btf_proto(btf, tp) && !refused(l, prog)) {
		bpf_program__set_autoload(prog, true);
		return;
	}
	if (classic_only)
		snprintf(why, sizeof(why), "classic tracepoints only: %s", without);
	else if (refused(l, prog))
		snprintf(why, sizeof(why), "the kernel refused its program: %s", without);
	else
		snprintf(why, sizeof(why), "no tp_btf/%s: %s", tp, without);
	disable(h, NULL, why);
}

/* A hook with a tp_btf program and a classic one: the tp_btf where btf_ok and the kernel
 * took it, else the classic where tracefs has tp (saying why: no_btf, or the refusal),
 * else off, saying what is lost (`without`). */
static void btf_or_classic(struct loader *l, const char *name, int btf_ok,
			   struct bpf_program *btf_prog, struct bpf_program *tp_prog,
			   const char *tp, const char *no_btf, const char *without)
{
	struct ld_hook *h;

	if (btf_ok && !refused(l, btf_prog)) {
		hook_add(l, name, btf_prog, "tp_btf");
		bpf_program__set_autoload(btf_prog, true);
	} else if (tracefs_has(tp) && !refused(l, tp_prog)) {
		h = hook_add(l, name, tp_prog, "tracepoint");
		bpf_program__set_autoload(tp_prog, true);
		snprintf(h->why, sizeof(h->why), "%s", btf_ok ? "the kernel refused the tp_btf one"
			 : no_btf);
	} else {
		char why[sizeof(h->why)];

		if (refused(l, tp_prog))
			snprintf(why, sizeof(why), "the kernel refused its classic program: %s",
				 without);
		else
			snprintf(why, sizeof(why), "no %s tracepoint: %s", tp, without);
		disable(hook_add(l, name, NULL, "disabled"), NULL, why);
	}
}

/* Pick one program per hook. classic_only: classic tracepoints only (--classic-tracepoints,
 * or the retry after a tp_btf load failure). */
static void choose(struct loader *l, const struct ld_opts *o, const struct btf *btf,
		   int classic_only)
{
	struct oomcast *s = l->skel;
	struct ld_hook *h;
	struct bpf_program *all[] = {
		s->progs.oc_page_alloc_btf, s->progs.oc_page_alloc_tp, s->progs.oc_mmap,
		s->progs.oc_munmap, s->progs.oc_brk, s->progs.oc_memcg_reclaim,
		s->progs.oc_victim_btf, s->progs.oc_victim_tp, s->progs.oc_score_adj,
		s->progs.oc_rss_stat, s->progs.oc_test_page_alloc, s->progs.oc_test_rate,
	};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		bpf_program__set_autoload(all[i], false);
	l->nhooks = 0;

	btf_or_classic(l, "mm_page_alloc", !classic_only && tp_btf_proto(btf, "mm_page_alloc"),
		       s->progs.oc_page_alloc_btf, s->progs.oc_page_alloc_tp, "kmem/mm_page_alloc",
		       classic_only ? "classic tracepoints only" : "no BTF for tp_btf/mm_page_alloc",
		       "rates come from polling only");

	struct { const char *name, *tp; struct bpf_program *p; } sys[] = {
		{ "mmap", "syscalls/sys_enter_mmap", s->progs.oc_mmap },
		{ "munmap", "syscalls/sys_enter_munmap", s->progs.oc_munmap },
		{ "brk", "syscalls/sys_enter_brk", s->progs.oc_brk },
	};
	for (i = 0; i < 3; i++) {
		h = hook_add(l, sys[i].name, sys[i].p, "tracepoint");
		if (refused(l, sys[i].p))
			disable(h, NULL, "the kernel refused its program");
		else if (tracefs_has(sys[i].tp))
			bpf_program__set_autoload(sys[i].p, true);
		else
			disable(h, NULL, "no syscall tracepoints (CONFIG_FTRACE_SYSCALLS off)");
	}

	tp_btf_only(l, btf, classic_only, "memcg_reclaim", s->progs.oc_memcg_reclaim,
		    "mm_vmscan_memcg_reclaim_begin", "reclaim counts off");

	btf_or_classic(l, "mark_victim",
		       !classic_only && tp_btf_first_arg_is_ptr(btf, "mark_victim"),
		       s->progs.oc_victim_btf, s->progs.oc_victim_tp, "oom/mark_victim",
		       classic_only ? "classic tracepoints only" :
		       "tp_btf/mark_victim passes only the pid on this kernel",
		       "oom_kill events from the kernel's counts, without the victim");

	tp_btf_only(l, btf, classic_only, "oom_score_adj_update", s->progs.oc_score_adj,
		    "oom_score_adj_update", "oom_score_adj read when a task is seen");

	if (o->task_rss)
		tp_btf_only(l, btf, classic_only, "rss_stat", s->progs.oc_rss_stat, "rss_stat",
			    "no --task-rss");
	else
		disable(hook_add(l, "rss_stat", s->progs.oc_rss_stat, "tp_btf"), NULL,
			"off (per-page cost; enable with --task-rss)");
}

/* Tests only: OOMCAST_TEST_REFUSE=PROG[,PROG...] makes the kernel refuse those programs
 * (with a load flag no kernel knows: EINVAL, as a verifier's refusal), to exercise the
 * fallbacks below on a kernel that loads every program. */
static void test_refuse(struct oomcast *s)
{
	const char *env = getenv("OOMCAST_TEST_REFUSE");
	char names[512], *save = NULL;
	struct bpf_program *p;

	if (!env)
		return;
	snprintf(names, sizeof(names), "%s", env);
	for (char *n = strtok_r(names, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
		p = bpf_object__find_program_by_name(s->obj, n);
		if (p && bpf_program__autoload(p))
			bpf_program__set_flags(p, bpf_program__flags(p) | 1u << 31);
	}
}

static int open_skel(struct loader *l, const struct ld_opts *o, const struct btf *btf,
		     int classic_only)
{
	l->skel = oomcast__open();
	if (!l->skel)
		return -errno ? -errno : -EINVAL;
	l->skel->rodata->sample_bytes = o->sample_bytes;
	l->skel->rodata->page_shift = __builtin_ctzl(sysconf(_SC_PAGESIZE));
	l->skel->rodata->memory_v1 = o->memory_v1;
	if (o->ring_bytes)
		bpf_map__set_max_entries(l->skel->maps.events, o->ring_bytes);
	bpf_map__set_max_entries(l->skel->maps.cpu_acc, l->ncpus);
	choose(l, o, btf, classic_only);
	test_refuse(l->skel);
	return oomcast__load(l->skel);
}

static int attach_all(struct loader *l, int verbose)
{
	int i, attached = 0;

	for (i = 0; i < l->nhooks; i++) {
		struct ld_hook *h = &l->hooks[i];
		struct bpf_program *p;
		struct bpf_link *link;

		if (!h->prog_name)
			continue;
		p = bpf_object__find_program_by_name(l->skel->obj, h->prog_name);
		link = p ? bpf_program__attach(p) : NULL;
		if (!link) {
			char why[128];

			snprintf(why, sizeof(why), "attach failed: %s", strerror(errno));
			disable(h, NULL, why);
			fprintf(stderr, "oomcast: hook %s disabled: %s\n", h->name, h->why);
			continue;
		}
		h->prog_fd = bpf_program__fd(p);
		l->links[l->nlinks++] = link;
		attached++;
	}
	for (i = 0; i < l->nhooks; i++) {
		struct ld_hook *h = &l->hooks[i];

		if (!strcmp(h->how, "disabled")) {
			if (strncmp(h->why, "off", 3) && strncmp(h->why, "attach failed", 13))
				fprintf(stderr, "oomcast: hook %s disabled: %s\n", h->name, h->why);
			else if (verbose && !strncmp(h->why, "off", 3))
				fprintf(stderr, "oomcast: hook %s %s\n", h->name, h->why);
		} else if (verbose) {
			fprintf(stderr, "oomcast: hook %s: %s%s%s%s\n", h->name, h->how,
				h->why[0] ? " (" : "", h->why, h->why[0] ? ")" : "");
		}
	}
	return attached;
}

static int pin_maps(struct loader *l, const char *dir, char *err, size_t len)
{
	struct bpf_map *maps[] = { l->skel->maps.cgroups, l->skel->maps.tasks,
				   l->skel->maps.trips, l->skel->maps.health };
	char path[512];
	struct statfs fs;
	size_t i;
	int made = mkdir(dir, 0700) == 0;

	if (!made && errno != EEXIST) {
		say(err, len, "cannot create pin directory %s: %s", dir, strerror(errno));
		return -errno;
	}
	if (statfs(dir, &fs) || (long)fs.f_type != BPF_FS_MAGIC) {
		say(err, len, "--pin-dir %s is not on a BPF filesystem: maps are pinned under "
		    "/sys/fs/bpf (or a bpffs of your own: mount -t bpf bpf DIR), or use --no-pin",
		    dir);
		if (made)
			rmdir(dir);
		return -EINVAL;
	}
	l->pin_lock_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->pin_lock_fd < 0 || flock(l->pin_lock_fd, LOCK_EX | LOCK_NB)) {
		say(err, len, "%s is in use by another oomcast (use --pin-dir or --no-pin)", dir);
		return -EBUSY;
	}
	snprintf(l->pin_dir, sizeof(l->pin_dir), "%s", dir);
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(maps[i]));
		unlink(path);   /* a stale pin of a daemon that crashed: we hold the lock now */
		if (bpf_map__pin(maps[i], path)) {
			say(err, len, "cannot pin %s: %s", path, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* tracefs is needed by the classic tracepoints only (tp_btf attaches without it): a failed
 * mount turns those hooks off, with a warning, rather than stopping. bpffs only for pins. */
static int mount_fs(struct loader *l, const struct ld_opts *o, char *err, size_t len)
{
	int r = ld_ensure_mount(TRACEFS, "tracefs", TRACEFS_MAGIC);

	if (r < 0)
		fprintf(stderr, "oomcast: warning: cannot mount tracefs on " TRACEFS " (%s): the "
			"hooks on classic tracepoints are off\n", strerror(-r));
	else
		l->mounted_tracefs = r;
	if (!o->pin_dir)
		return 0;
	r = ld_ensure_mount(BPFFS, "bpf", BPF_FS_MAGIC);
	if (r < 0) {
		say(err, len, "cannot mount bpffs on " BPFFS " to pin the maps: %s (--no-pin runs "
		    "without it)", strerror(-r));
		return r;
	}
	l->mounted_bpffs = r;
	return 0;
}

/* What every program needs, asked of the kernel before the load, so that an old or locked
 * down kernel is told in one sentence rather than by a verifier log. */
static int kernel_can(char *err, size_t len)
{
	struct utsname u;
	char mode[128] = "";
	int fd;
	FILE *f = fopen("/sys/kernel/security/lockdown", "r");

	if (f) {
		if (!fgets(mode, sizeof(mode), f))
			mode[0] = 0;
		fclose(f);
	}
	if (strstr(mode, "[confidentiality]")) {
		say(err, len, "the kernel is locked down in confidentiality mode "
		    "(/sys/kernel/security/lockdown): BPF programs may not read kernel memory, "
		    "which oomcast's need; it runs under lockdown=integrity or none");
		return -EPERM;
	}
	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "?");
	/* A ring buffer of one page, made here rather than by libbpf's probe, which answers 0
	 * for any failure (no privilege as well) and asks for 4 KiB (too small for 64-KiB
	 * pages). EINVAL is a kernel without the map type; EPERM a missing capability. */
	fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0, (__u32)sysconf(_SC_PAGESIZE), NULL);
	if (fd >= 0) {
		close(fd);
	} else if (errno == EPERM || errno == EACCES) {
		say(err, len, "not allowed to create BPF maps (%s): oomcast needs root with "
		    "CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN (a privileged container)",
		    strerror(errno));
		return -EPERM;
	} else if (errno == EINVAL) {
		say(err, len, "this kernel (%s) has no BPF ring buffer (Linux 5.8): oomcast needs "
		    "Linux 5.11 or later", u.release);
		return -ENOTSUP;
	}
	/* libbpf's helper probe answers 0 only when the verifier names the helper unknown; a
	 * load it cannot make at all answers < 0, and the real load then says why */
	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_get_current_task_btf,
				    NULL) == 0) {
		say(err, len, "this kernel (%s) lacks the BPF helper bpf_get_current_task_btf "
		    "(Linux 5.11): oomcast needs Linux 5.11 or later", u.release);
		return -ENOTSUP;
	}
	return 0;
}

/* Without -vv: libbpf's warnings, but a verifier log (dozens of lines, printed by libbpf in
 * one call) only as the name of the program it rejected, which the retry message then
 * gives. */
static char failed_prog[64];

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];
	const char *q;

	if (level != LIBBPF_WARN || strstr(fmt, "PROG LOAD LOG"))
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	/* what the load's failure says next, and ours says after it */
	if (strstr(line, "failed to load object") || strstr(line, "failed to load BPF skeleton") ||
	    strstr(line, "': failed to load: "))
		return 0;
	if ((q = strstr(line, "prog '")) && strstr(line, "load failed")) {
		size_t n = strcspn(q + 6, "'");

		snprintf(failed_prog, sizeof(failed_prog), "%.*s", (int)n, q + 6);
		return 0;
	}
	return fputs(line, stderr);
}

static int libbpf_loud(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];
	const char *q;
	va_list aq;

	va_copy(aq, ap);
	vsnprintf(line, sizeof(line), fmt, aq);
	va_end(aq);
	if (level == LIBBPF_WARN && (q = strstr(line, "prog '")) && strstr(line, "load failed"))
		snprintf(failed_prog, sizeof(failed_prog), "%.*s", (int)strcspn(q + 6, "'"), q + 6);
	return vfprintf(stderr, fmt, ap);
}

/* Load; where the kernel refuses a program, again without it: its hook falls back to its
 * classic tracepoint, or goes without, and the others keep theirs. A refusal that names no
 * program falls back to classic tracepoints for all. */
static int load_with_fallbacks(struct loader *l, const struct ld_opts *o, const struct btf *btf)
{
	int classic = o->classic_only, r;

	for (;;) {
		failed_prog[0] = '\0';
		r = open_skel(l, o, btf, classic);
		if (!r)
			return 0;
		/* the verifier's refusals; not a cause that every program shares (EPERM, an LSM,
		 * ENOMEM): that one is said as it is */
		if (r != -EINVAL && r != -EACCES && r != -E2BIG && r != -524 /* ENOTSUPP */)
			return r;
		if (failed_prog[0] && l->nrefused < LD_MAX_HOOKS) {
			struct bpf_program *p = bpf_object__find_program_by_name(l->skel->obj,
										 failed_prog);

			if (p && !refused(l, p)) {
				fprintf(stderr, "oomcast: the kernel refused program %s (%s; -vv shows "
					"the verifier's log): loading again without it\n", failed_prog,
					strerror(-r));
				snprintf(l->refused[l->nrefused++], sizeof(l->refused[0]), "%s",
					 failed_prog);
				oomcast__destroy(l->skel);
				l->skel = NULL;
				continue;
			}
		}
		if (classic)
			return r;
		fprintf(stderr, "oomcast: loading with tp_btf failed (%s); retrying with classic "
			"tracepoints (-vv shows the verifier's log)\n", strerror(-r));
		oomcast__destroy(l->skel);
		l->skel = NULL;
		classic = 1;
	}
}

int ld_open(struct loader *l, const struct ld_opts *o, char *err, size_t len)
{
	struct btf *btf = NULL;
	int r;

	memset(l, 0, sizeof(*l));
	l->pin_lock_fd = -1;
	libbpf_set_print(o->verbose > 1 ? libbpf_loud : libbpf_quiet);
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		say(err, len, "this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): "
		    "oomcast needs CONFIG_DEBUG_INFO_BTF=y for CO-RE");
		return -ENOTSUP;
	}
	r = kernel_can(err, len);
	if (r)
		goto fail;
	r = mount_fs(l, o, err, len);
	if (r)
		goto fail;
	/* The per-CPU maps and the hot path's array are sized by it: a CPU beyond it would go
	 * unsampled, silently. */
	l->ncpus = libbpf_num_possible_cpus();
	if (l->ncpus <= 0) {
		r = l->ncpus < 0 ? l->ncpus : -EINVAL;
		say(err, len, "cannot count the possible CPUs (/sys/devices/system/cpu/possible): %s",
		    strerror(-r));
		goto fail;
	}
	btf = btf__load_vmlinux_btf();
	if (btf && btf__pointer_size(btf) == 4) {
		/* a 32-bit kernel's kernfs ids are generation << 32 | inode: no cgroup's inode
		 * would ever match what the programs report */
		say(err, len, "this is a 32-bit kernel: oomcast needs a 64-bit one");
		r = -ENOTSUP;
		goto fail;
	}
	r = load_with_fallbacks(l, o, btf);
	if (r) {
		say(err, len, "cannot load the BPF programs: %s (run with -vv for the verifier log)",
		    strerror(-r));
		goto fail;
	}
	l->cgroups_fd = bpf_map__fd(l->skel->maps.cgroups);
	l->trips_fd = bpf_map__fd(l->skel->maps.trips);
	l->tasks_fd = bpf_map__fd(l->skel->maps.tasks);
	l->health_fd = bpf_map__fd(l->skel->maps.health);
	l->events_fd = bpf_map__fd(l->skel->maps.events);
	l->filter_refs = calloc(OC_FILTER_BITS, sizeof(*l->filter_refs));
	if (l->filter_refs)
		l->skel->bss->filter_on = 1;    /* else: no filter, every level is looked up */
	if (attach_all(l, o->verbose) == 0) {
		say(err, len, "no BPF hook could be attached on this kernel");
		r = -ENOTSUP;
		goto fail;
	}
	if (o->pin_dir && (r = pin_maps(l, o->pin_dir, err, len)))
		goto fail;
	btf__free(btf);
	return 0;
fail:
	btf__free(btf);
	ld_close(l);
	return r;
}

void ld_close(struct loader *l)
{
	int i;

	for (i = 0; i < l->nlinks; i++)
		bpf_link__destroy(l->links[i]);
	l->nlinks = 0;
	if (l->pin_dir[0]) {
		const char *names[] = { "cgroups", "tasks", "trips", "health" };
		char path[512];

		for (i = 0; i < 4; i++) {
			snprintf(path, sizeof(path), "%s/%s", l->pin_dir, names[i]);
			unlink(path);
		}
		rmdir(l->pin_dir);
		l->pin_dir[0] = 0;
	}
	if (l->pin_lock_fd >= 0)
		close(l->pin_lock_fd);
	l->pin_lock_fd = -1;
	if (l->skel)
		oomcast__destroy(l->skel);
	l->skel = NULL;
	free(l->filter_refs);
	l->filter_refs = NULL;
	/* tracefs and bpffs stay mounted: they are the system's standard mounts (systemd makes
	 * both at boot), other tools expect them, and unmounting tracefs right after the last
	 * tracepoint detaches is kernel work on the exit path that buys nothing. */
	l->mounted_tracefs = l->mounted_bpffs = 0;
}

/* The BPF side skips the hash lookup of a memcg whose bit is clear: set it once the entry
 * exists, clear it when the last watched cgroup on it goes. */
static void filter_ref(struct loader *l, uint64_t id, int delta)
{
	uint32_t bit = id % OC_FILTER_BITS;
	__u64 mask = 1ULL << (bit % 64), *word;

	if (!l->filter_refs || !l->skel->bss)
		return;
	word = &l->skel->bss->watched_filter[bit / 64];
	l->filter_refs[bit] += delta;
	if (l->filter_refs[bit])
		__atomic_or_fetch(word, mask, __ATOMIC_RELEASE);
	else
		__atomic_and_fetch(word, ~mask, __ATOMIC_RELEASE);
}

int ld_watch(struct loader *l, uint64_t id)
{
	struct oc_cgroup zero = { 0 };

	if (bpf_map_update_elem(l->cgroups_fd, &id, &zero, BPF_NOEXIST))
		return errno == EEXIST ? 0 : -errno;
	filter_ref(l, id, 1);
	return 0;
}

int ld_unwatch(struct loader *l, uint64_t id)
{
	bpf_map_delete_elem(l->trips_fd, &id);
	if (bpf_map_delete_elem(l->cgroups_fd, &id))
		return -errno;
	filter_ref(l, id, -1);
	return 0;
}

int ld_set_trip(struct loader *l, uint64_t id, uint64_t bytes)
{
	return bpf_map_update_elem(l->trips_fd, &id, &bytes, BPF_ANY) ? -errno : 0;
}

int ld_read_cgroup(struct loader *l, uint64_t id, struct oc_cgroup *out)
{
	return bpf_map_lookup_elem(l->cgroups_fd, &id, out) ? -errno : 0;
}

int ld_health(struct loader *l, uint64_t *samples, uint64_t *rb_drops)
{
	struct oc_health v[l->ncpus > 0 ? l->ncpus : 1];
	__u32 zero = 0;
	int i;

	*samples = *rb_drops = 0;
	if (bpf_map_lookup_elem(l->health_fd, &zero, v))
		return -errno;
	for (i = 0; i < l->ncpus; i++) {
		*samples += v[i].samples;
		*rb_drops += v[i].rb_drops;
	}
	return 0;
}
