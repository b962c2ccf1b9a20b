/* cgroup.c: the memory-cgroup backend: validate a cgroup path, read its counters (v1 and v2),
 * discover limited cgroups, list their tasks, and label them from their path. */
#include "cgroup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* v1 spells "no limit" as PAGE_COUNTER_MAX in pages times the page size
 * (9223372036854771712 with 4 KiB pages, other values elsewhere): no real limit is this big. */
#define V1_NO_LIMIT_MIN (1ULL << 62)
#define WALK_MAX_DEPTH 32
#define SMALL_BUF 256
#define EVENTS_BUF 1024          /* memory.events grows a line every few kernel releases */
#define STAT_BUF 8192
#define MAX_MOUNTS 16
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- pure parsing ---- */

static size_t rtrim(const char *s, size_t n)
{
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return n;
}

/* Digits only: no sign, blanks or base prefix, and no silent wrap-around, all of which
 * strtoull would let through. */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* PSI averages ("12.34"): a hand parser, as strtod follows the locale's decimal point. */
static int parse_decimal(const char *s, size_t n, double *out)
{
	const char *dot = memchr(s, '.', n);
	size_t ilen = dot ? (size_t)(dot - s) : n, flen = dot ? n - ilen - 1 : 0;
	uint64_t ip, fp = 0;
	double scale = 1;

	if (parse_u64(s, ilen, &ip))
		return -EINVAL;
	if (dot && (flen == 0 || flen > 9 || parse_u64(dot + 1, flen, &fp)))
		return -EINVAL;
	while (flen--)
		scale *= 10;
	*out = (double)ip + (double)fp / scale;
	return 0;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static uint64_t v1_limit(uint64_t v)
{
	return v >= V1_NO_LIMIT_MIN ? CG_NO_LIMIT : v;
}

int cg_parse_u64_or_max(const char *buf, uint64_t *out)
{
	size_t n;

	if (!buf || !out)
		return -EINVAL;
	n = rtrim(buf, strlen(buf));
	if (n == 3 && !memcmp(buf, "max", 3)) {
		*out = CG_NO_LIMIT;
		return 0;
	}
	return parse_u64(buf, n, out);
}

static int parse_kv_line(const char *s, size_t n, const char *const *keys, size_t nk,
			 uint64_t *vals, unsigned *seen)
{
	const char *sp = memchr(s, ' ', n), *v;
	uint64_t val;

	if (!sp || sp == s)
		return -EINVAL;
	for (v = sp; v < s + n && *v == ' '; v++)
		;
	if (parse_u64(v, (size_t)(s + n - v), &val))
		return -EINVAL;
	for (size_t i = 0; i < nk; i++) {
		if (strlen(keys[i]) == (size_t)(sp - s) && !memcmp(keys[i], s, (size_t)(sp - s))) {
			vals[i] = val;
			*seen |= 1u << i;
		}
	}
	return 0;
}

/* The next line of the text at *pos that is not blank, right-trimmed: its start (its
 * length in *n), *pos moved past it; NULL at the end of the text. */
static const char *next_line(const char **pos, size_t *n)
{
	while (**pos) {
		const char *line = *pos, *end = strchrnul(line, '\n');

		*pos = *end ? end + 1 : end;
		*n = rtrim(line, (size_t)(end - line));
		if (*n)
			return line;
	}
	return NULL;
}

/* memory.stat, memory.events and memory.oom_control share one shape, "key value" a line.
 * Every line must have it, known key or not, so a corrupt file is refused rather than
 * half read. vals[i] gets keys[i]'s value and bit i of *seen is set when it was there. */
static int parse_kv(const char *buf, const char *const *keys, size_t nk, uint64_t *vals,
		    unsigned *seen)
{
	const char *pos = buf, *line;
	int lines = 0;
	size_t n;

	*seen = 0;
	if (!buf)
		return -EINVAL;
	for (; (line = next_line(&pos, &n)); lines++)
		if (parse_kv_line(line, n, keys, nk, vals, seen))
			return -EINVAL;
	return lines ? 0 : -EINVAL;
}

enum { V1_CACHE, V1_RSS, V1_SHMEM, V1_ACT, V1_INACT, V1_MAJ, V1_RF_FILE, V1_RF, V1_LIMIT,
       V1_SWAP, V1_MEMSW_LIMIT, V1_N };
static const char *const v1_stat_keys[V1_N] = {
	[V1_CACHE] = "total_cache", [V1_RSS] = "total_rss", [V1_SHMEM] = "total_shmem",
	[V1_ACT] = "total_active_file", [V1_INACT] = "total_inactive_file",
	[V1_MAJ] = "total_pgmajfault", [V1_RF_FILE] = "total_workingset_refault_file",
	[V1_RF] = "total_workingset_refault", [V1_LIMIT] = "hierarchical_memory_limit",
	[V1_SWAP] = "total_swap",
	[V1_MEMSW_LIMIT] = "hierarchical_memsw_limit",
};

/* The total_* fields, because the plain ones leave out the children's pages, which the
 * limit counts. shmem is in "cache" but lives on the anon LRU and only goes to swap, so it
 * moves from file to anon. limit is only written when the file has it; *memsw_limit (memory
 * plus swap) is CG_NO_LIMIT without swap accounting (the kernel then writes no swap lines). */
static int parse_stat_v1(const char *buf, struct cg_stat *st, int *have_limit,
			 uint64_t *memsw_limit)
{
	uint64_t v[V1_N] = { 0 };
	unsigned seen;

	if (parse_kv(buf, v1_stat_keys, V1_N, v, &seen))
		return -EINVAL;
	st->swap = v[V1_SWAP];
	*memsw_limit = (seen & 1u << V1_MEMSW_LIMIT) ? v1_limit(v[V1_MEMSW_LIMIT]) : CG_NO_LIMIT;
	st->anon = sat_add(v[V1_RSS], v[V1_SHMEM]);
	st->file = sat_sub(v[V1_CACHE], v[V1_SHMEM]);
	st->active_file = v[V1_ACT];
	st->inactive_file = v[V1_INACT];
	st->reclaimable = sat_add(v[V1_ACT], v[V1_INACT]);
	st->workingset_refault = (seen & 1u << V1_RF_FILE) ? v[V1_RF_FILE] : v[V1_RF];
	st->pgmajfault = v[V1_MAJ];
	*have_limit = !!(seen & 1u << V1_LIMIT);
	if (*have_limit)
		st->limit = v1_limit(v[V1_LIMIT]);
	return 0;
}

int cg_parse_stat_v1(const char *buf, struct cg_stat *st)
{
	uint64_t memsw_limit;
	int have_limit;

	return st ? parse_stat_v1(buf, st, &have_limit, &memsw_limit) : -EINVAL;
}

enum { V2_ANON, V2_FILE, V2_SHMEM, V2_ACT, V2_INACT, V2_SLAB_R, V2_RF_FILE, V2_RF, V2_MAJ,
       V2_KERNEL, V2_SOCK, V2_HUGETLB, V2_N };
static const char *const v2_stat_keys[V2_N] = {
	[V2_ANON] = "anon", [V2_FILE] = "file", [V2_SHMEM] = "shmem",
	[V2_ACT] = "active_file", [V2_INACT] = "inactive_file",
	[V2_SLAB_R] = "slab_reclaimable", [V2_RF_FILE] = "workingset_refault_file",
	[V2_RF] = "workingset_refault", [V2_MAJ] = "pgmajfault", [V2_KERNEL] = "kernel",
	[V2_SOCK] = "sock", [V2_HUGETLB] = "hugetlb",
};

/* Kernels before 5.9 have a single workingset_refault; later ones split anon and file, and
 * only file refaults say the page cache is being squeezed. */
int cg_parse_stat_v2(const char *buf, struct cg_stat *st)
{
	uint64_t v[V2_N] = { 0 };
	unsigned seen;

	if (!st || parse_kv(buf, v2_stat_keys, V2_N, v, &seen))
		return -EINVAL;
	st->anon = sat_add(v[V2_ANON], v[V2_SHMEM]);
	st->file = sat_sub(v[V2_FILE], v[V2_SHMEM]);
	st->active_file = v[V2_ACT];
	st->inactive_file = v[V2_INACT];
	st->reclaimable = sat_add(sat_add(v[V2_ACT], v[V2_INACT]), v[V2_SLAB_R]);
	st->workingset_refault = (seen & 1u << V2_RF_FILE) ? v[V2_RF_FILE] : v[V2_RF];
	st->pgmajfault = v[V2_MAJ];
	/* "kernel" (5.18+) is every kernel page charged (slab, stacks, page tables, percpu,
	 * vmalloc, zswap); socket buffers are charged beside it, and so is hugetlb where
	 * memory_hugetlb_accounting puts it in memory.stat. Before 5.18 there is no total. */
	st->have_kernel = !!(seen & 1u << V2_KERNEL);
	st->kernel = st->have_kernel ? sat_add(sat_add(v[V2_KERNEL], v[V2_SOCK]),
					       v[V2_HUGETLB]) : 0;
	return 0;
}

enum { OOM_DISABLE, OOM_UNDER, OOM_KILL, OOM_N };
static const char *const oom_keys[OOM_N] = {
	[OOM_DISABLE] = "oom_kill_disable", [OOM_UNDER] = "under_oom", [OOM_KILL] = "oom_kill",
};

int cg_parse_oom_control(const char *buf, struct cg_stat *st)
{
	uint64_t v[OOM_N] = { 0 };
	unsigned seen;

	if (!st || parse_kv(buf, oom_keys, OOM_N, v, &seen))
		return -EINVAL;
	st->oom_kill_disable = v[OOM_DISABLE] != 0;
	st->under_oom = v[OOM_UNDER] != 0;
	st->oom_kills = v[OOM_KILL];
	return 0;
}

enum { EV_OOM, EV_OOM_KILL, EV_HIGH, EV_MAX, EV_N };
static const char *const event_keys[EV_N] = {
	[EV_OOM] = "oom", [EV_OOM_KILL] = "oom_kill", [EV_HIGH] = "high", [EV_MAX] = "max",
};

int cg_parse_events(const char *buf, struct cg_stat *st)
{
	uint64_t v[EV_N] = { 0 };
	unsigned seen;

	if (!st || parse_kv(buf, event_keys, EV_N, v, &seen))
		return -EINVAL;
	st->oom_events = v[EV_OOM];
	st->oom_kills = v[EV_OOM_KILL];
	st->high_events = v[EV_HIGH];
	st->max_events = v[EV_MAX];
	return 0;
}

/* One "key=value" token of a pressure line; avg10 goes to *avg10. */
static int parse_psi_token(const char *t, size_t n, double *avg10, int *found)
{
	const char *eq = memchr(t, '=', n);
	size_t klen = eq ? (size_t)(eq - t) : 0, vlen = eq ? n - klen - 1 : 0;
	uint64_t total;
	double avg;

	if (!eq || klen == 0)
		return -EINVAL;
	if (klen == 5 && !memcmp(t, "total", 5))
		return parse_u64(eq + 1, vlen, &total);
	if (parse_decimal(eq + 1, vlen, &avg))
		return -EINVAL;
	if (klen == 5 && !memcmp(t, "avg10", 5)) {
		*avg10 = avg;
		*found = 1;
	}
	return 0;
}

/* "some avg10=1.53 avg60=0.87 avg300=0.20 total=123456" (and the same for "full"). */
static int parse_psi_line(const char *s, size_t n, struct cg_stat *st)
{
	const char *end = s + n, *t;
	double *avg10;
	int found = 0;

	if (n > 5 && !memcmp(s, "some ", 5))
		avg10 = &st->psi_some_avg10;
	else if (n > 5 && !memcmp(s, "full ", 5))
		avg10 = &st->psi_full_avg10;
	else
		return -EINVAL;
	for (t = s + 5; t < end;) {
		size_t tl = strcspn(t, " \n");

		if (tl > (size_t)(end - t))
			tl = (size_t)(end - t);
		if (tl && parse_psi_token(t, tl, avg10, &found))
			return -EINVAL;
		t += tl + 1;
	}
	return found ? 0 : -EINVAL;
}

int cg_parse_pressure(const char *buf, struct cg_stat *st)
{
	const char *pos = buf, *line;
	struct cg_stat tmp = { 0 };
	int lines = 0;
	size_t n;

	if (!buf || !st)
		return -EINVAL;
	for (; (line = next_line(&pos, &n)); lines++)
		if (parse_psi_line(line, n, &tmp))
			return -EINVAL;
	if (!lines)
		return -EINVAL;
	st->psi_some_avg10 = tmp.psi_some_avg10;
	st->psi_full_avg10 = tmp.psi_full_avg10;
	return 0;
}

/* ---- file access ---- */

/* kernfs answers ENODEV on a file opened before its cgroup was removed: to the caller that
 * is the same as the cgroup being gone. */
static int gone(int err)
{
	return err == ENODEV ? -ENOENT : -err;
}

static int read_fd_all(int fd, char *buf, size_t len)
{
	size_t n = 0;
	char extra;

	while (n < len - 1) {
		ssize_t r = read(fd, buf + n, len - 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return gone(errno);
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	/* A file cut at the buffer's end would parse as a different, wrong file. */
	if (n == len - 1 && read(fd, &extra, 1) > 0)
		return -EFBIG;
	return (int)n;
}

/* Reads the whole small file dir/name into buf (NUL-terminated): its length or -errno. */
static int read_small(const char *dir, const char *name, char *buf, size_t len)
{
	char path[CG_PATH_MAX + 64];
	int fd, n;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	do
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return gone(errno);
	n = read_fd_all(fd, buf, len);
	close(fd);
	return n;
}

/* Like read_small, but a file this kernel or this cgroup lacks (the root has no memory.max,
 * memory.pressure needs PSI) reads as absent: returns 1 if read, 0 if absent. */
static int read_optional(const char *dir, const char *name, char *buf, size_t len)
{
	int n = read_small(dir, name, buf, len);

	if (n == -ENOENT || n == -EOPNOTSUPP)
		return 0;
	return n < 0 ? n : 1;
}

static int read_u64(const char *dir, const char *name, uint64_t *out)
{
	char buf[SMALL_BUF];
	int n = read_small(dir, name, buf, sizeof(buf));

	return n < 0 ? n : cg_parse_u64_or_max(buf, out);
}

static int has_file(const char *dir, const char *name)
{
	char path[CG_PATH_MAX + 64];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return 0;
	return access(path, F_OK) == 0;
}

/* ---- reading a cgroup ---- */

/* A charge takes MEMCG_CHARGE_BATCH (64) pages from the counter at once and keeps what it
 * did not use in a per-CPU stock for the next ones: usage counts pages no one holds yet.
 * When reclaim at the limit does not make room, the kernel drains every CPU's stock and
 * retries before it kills, so the stock is taken back like page cache: at 1 MB/s on 2 CPUs
 * the kill came 0.3-0.5 s after usage less page cache met the limit, the stock drained to
 * 0 in between (a 40 MiB cgroup read 20 times a second: usage 40960 KiB of which 316 KiB
 * were neither anon, file nor kernel, then 40900 with none). Two things read as stock that
 * are not: memory.stat lags the counters by up to a charge batch of updates per CPU (for
 * at most 2 s) while the cgroup grows, and a charge this code does not count (deferred
 * splits of partly unmapped large folios, unmapped swap cache). The cap bounds both; the
 * daemon also keeps the smaller of two reads' stock (the lag varies from read to read, the
 * stock less so). Usage is read before memory.stat and the kernel counter, so growth
 * between the reads themselves makes the stock smaller. A parent on 6.16+ can hold up to
 * 7 times the cap (a CPU keeps stock for several cgroups): undercounted, never over. */
uint64_t cg_charge_stock(const struct cg_stat *st, uint64_t cap)
{
	uint64_t held;

	if (!st || !st->have_kernel)
		return 0;
	held = sat_add(sat_add(st->anon, st->file), st->kernel);
	if (st->usage <= held)
		return 0;
	return st->usage - held < cap ? st->usage - held : cap;
}

uint64_t cg_stock_cap(void)
{
	static uint64_t cap;

	if (!cap) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN), page = sysconf(_SC_PAGESIZE);

		cap = (uint64_t)(cpus > 0 ? cpus : 1) * 64 * (uint64_t)(page > 0 ? page : 4096);
	}
	return cap;
}

static void add_stock(struct cg_stat *st)
{
	st->charge_stock = cg_charge_stock(st, cg_stock_cap());
	st->reclaimable = sat_add(st->reclaimable, st->charge_stock);
}

/* ---- swap ---- */

uint64_t cg_swap_limit(uint64_t swap, uint64_t room_by_limits, int have_swap, uint64_t swap_free,
		       int swappiness)
{
	uint64_t room = room_by_limits < swap_free ? room_by_limits : swap_free;

	return sat_add(swap, have_swap && swappiness > 0 ? room : 0);
}

static int swap_override = -1;  /* cg_override_host_swap: -1 = ask the kernel */
static uint64_t swap_override_free;
static int swap_override_swappiness;

void cg_override_host_swap(int have, uint64_t free, int swappiness)
{
	swap_override = have;
	swap_override_free = free;
	swap_override_swappiness = swappiness;
}

/* The host's swap: 1 when it has any, with what is free of it in *free. */
int cg_host_swap(uint64_t *free)
{
	struct sysinfo si;

	*free = 0;
	if (swap_override >= 0) {
		*free = swap_override > 0 ? swap_override_free : 0;
		return swap_override > 0;
	}
	if (sysinfo(&si) || !si.totalswap)
		return 0;
	*free = (uint64_t)si.freeswap * (si.mem_unit ? si.mem_unit : 1);
	return 1;
}

/* The swappiness a cgroup's reclaim uses; the kernel's default (60) where the file cannot
 * be read. With 0, reclaim inside a memory cgroup takes no anonymous pages at all. */
static int read_swappiness(const char *dir, const char *name)
{
	char buf[SMALL_BUF];
	uint64_t v;

	if (read_optional(dir, name, buf, sizeof(buf)) != 1 || cg_parse_u64_or_max(buf, &v) ||
	    v > 200)
		return 60;
	return (int)v;
}

/* The swappiness of v2 reclaim: the host's vm.swappiness (v2 has no per-cgroup knob). */
static int v2_swappiness(void)
{
	return swap_override >= 0 ? swap_override_swappiness
				  : read_swappiness("/proc/sys/vm", "swappiness");
}

/* v1: memory plus swap is held by hierarchical_memsw_limit, and memory by limit: the kill
 * comes at min(memsw_limit, limit + swap + what the host can still swap), so swap_limit
 * is at most memsw_limit - limit, which can be less than the swap held (a cgroup swapped
 * out by the host's own reclaim, or whose memsw limit equals its limit, as Docker's
 * --memory-swap equal to --memory sets it). Without swap accounting there is no swap line
 * and no memsw limit: what the cgroup swapped is not known (0), and it may swap as far as
 * the host's swap goes. */
static void v1_swap(const char *dir, struct cg_stat *st, uint64_t memsw_limit)
{
	uint64_t free, cap;
	int have = cg_host_swap(&free);

	if (!have && !st->swap)
		return;
	st->swap_limit = cg_swap_limit(st->swap, CG_NO_LIMIT, have, free,
				       have ? read_swappiness(dir, "memory.swappiness") : 0);
	cap = memsw_limit == CG_NO_LIMIT ? CG_NO_LIMIT : sat_sub(memsw_limit, st->limit);
	if (st->swap_limit > cap)
		st->swap_limit = cap;
}

static int read_v1(const char *dir, struct cg_stat *st)
{
	char buf[STAT_BUF];
	uint64_t memsw_limit = CG_NO_LIMIT;
	int have_limit = 0, err;

	err = read_u64(dir, "memory.usage_in_bytes", &st->usage);
	if (!err)
		err = read_small(dir, "memory.stat", buf, sizeof(buf));
	if (err >= 0)
		err = parse_stat_v1(buf, st, &have_limit, &memsw_limit);
	if (!err && !have_limit) {
		err = read_u64(dir, "memory.limit_in_bytes", &st->limit);
		st->limit = v1_limit(st->limit);
	}
	if (!err)
		v1_swap(dir, st, memsw_limit);
	/* v1 charges kernel pages to this counter and to usage both, unless booted with
	 * cgroup.memory=nokmem (then it reads 0 and is not in usage either). */
	if (!err) {
		/* Only for the stock: a kernel without it, or a bad read, means no stock. */
		st->have_kernel = read_optional(dir, "memory.kmem.usage_in_bytes", buf,
						sizeof(buf)) == 1 &&
				  cg_parse_u64_or_max(buf, &st->kernel) == 0 &&
				  st->kernel != CG_NO_LIMIT;
		if (!st->have_kernel)
			st->kernel = 0;
		add_stock(st);
	}
	if (!err)
		err = read_optional(dir, "memory.oom_control", buf, sizeof(buf));
	if (err == 1)
		err = cg_parse_oom_control(buf, st);
	return err;
}

/* A v2 cgroup's swap (memory.swap.current) and the room its own memory.swap.max leaves; -1
 * where either file is missing (swap accounting off, not a memory cgroup, or gone). */
static int v2_swap_room(const char *p, uint64_t *cur, uint64_t *room)
{
	uint64_t max;

	if (read_u64(p, "memory.swap.current", cur) || read_u64(p, "memory.swap.max", &max))
		return -1;
	*room = sat_sub(max, *cur);
	return 0;
}

/* A v2 cgroup is held by every ancestor's memory.max as well as its own, and its swap by
 * every memory.swap.max (each less what its subtree holds); the walk stops at the root
 * (which has neither) or where the cgroup2 mount begins. *swap_room is only walked for when
 * non-NULL (the host has swap), and stays CG_NO_LIMIT where no swap file is found (swap
 * accounting off: the cgroup swaps as far as the host's swap goes). */
static int v2_limits(const char *dir, uint64_t *limit, uint64_t *swap_room, uint64_t *swap)
{
	char p[CG_PATH_MAX];
	uint64_t v, cur, room;
	int self = 1;

	*limit = CG_NO_LIMIT;
	if (swap_room)
		*swap_room = CG_NO_LIMIT;
	if ((size_t)snprintf(p, sizeof(p), "%s", dir) >= sizeof(p))
		return -ENAMETOOLONG;
	for (;; self = 0) {
		int err = read_u64(p, "memory.max", &v);
		char *slash;

		if (err == -ENOENT)
			return 0;
		if (err)
			return err;
		if (v < *limit)
			*limit = v;
		if (swap_room && v2_swap_room(p, &cur, &room) == 0) {
			if (self)
				*swap = cur;
			if (room < *swap_room)
				*swap_room = room;
		}
		slash = strrchr(p, '/');
		if (!slash || slash == p)
			return 0;
		*slash = '\0';
	}
}

#define SWAP_WALK_MAX 64        /* directories below a cgroup walked for their swap room */
#define SWAP_WALK_BIG 64        /* subtrees remembered as too big to walk ... */
#define SWAP_WALK_RECHECK 60.0  /* ... for this many seconds */

/* Does the cgroup at p have tasks in it or below (cgroup.events "populated 1")? A directory
 * without the file counts as populated. */
static int v2_populated(const char *p)
{
	char buf[SMALL_BUF];

	return read_optional(p, "cgroup.events", buf, sizeof(buf)) != 1 ||
	       !strstr(buf, "populated 0");
}

/* The most swap a task below dir can still take by dir's subtree's own limits: tasks live in
 * the leaves, and reclaim swaps a page out only if every memory.swap.max from the page's
 * own cgroup up has room (mem_cgroup_get_nr_swap_pages), so a parent whose children all
 * have memory.swap.max 0 (Kubernetes' containers on a node with swap but NoSwap) cannot
 * swap, whatever its own file says. CG_NO_LIMIT for a leaf (dir holds the tasks itself)
 * or children without swap files; otherwise the best of the children that have tasks (an
 * empty one makes no room; one removed meanwhile is left out). More than *budget
 * directories: 0 (swap not counted, as without swap). */
static uint64_t v2_subtree_walk(const char *dir, int *budget)
{
	uint64_t best = 0, cur, room, below;
	char p[CG_PATH_MAX];
	struct dirent *e;
	int children = 0;
	DIR *d = opendir(dir);

	if (!d)
		return CG_NO_LIMIT;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		if (--*budget < 0 ||
		    (size_t)snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) >= sizeof(p)) {
			*budget = -1;
			break;
		}
		children++;
		if (!v2_populated(p))
			continue;
		if (v2_swap_room(p, &cur, &room)) {
			if (access(p, F_OK))
				continue;       /* removed since the listing */
			room = CG_NO_LIMIT;     /* no swap files: not held below */
		}
		below = v2_subtree_walk(p, budget);
		if (*budget < 0)
			break;
		room = below < room ? below : room;
		best = room > best ? room : best;
	}
	closedir(d);
	if (*budget < 0)
		return 0;
	return children ? best : CG_NO_LIMIT;
}

/* v2_subtree_walk within SWAP_WALK_MAX directories. A subtree found bigger (the parent of
 * every pod on a node) is not walked again for SWAP_WALK_RECHECK seconds: a walk that
 * gives up costs about 900 system calls, and a cgroup near its limit is read up to 4
 * times a second. */
static uint64_t v2_subtree_room(const char *dir)
{
	static struct { uint64_t hash; double until; } big[SWAP_WALK_BIG];
	uint64_t h = 1469598103934665603ULL, room;
	struct timespec ts;
	double now;
	int budget = SWAP_WALK_MAX, i, slot = 0;

	for (const char *c = dir; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	for (i = 0; i < SWAP_WALK_BIG; i++) {
		if (big[i].hash == h && big[i].until > now)
			return 0;
		if (big[i].until < big[slot].until)
			slot = i;
	}
	room = v2_subtree_walk(dir, &budget);
	if (budget < 0)
		big[slot].hash = h, big[slot].until = now + SWAP_WALK_RECHECK;
	return room;
}

static int read_v2_extras(const char *dir, struct cg_stat *st)
{
	char buf[EVENTS_BUF];
	int err;

	err = read_optional(dir, "memory.high", buf, sizeof(buf));
	if (err == 1)
		err = cg_parse_u64_or_max(buf, &st->high);
	if (!err)
		err = read_optional(dir, "memory.events", buf, sizeof(buf));
	if (err == 1)
		err = cg_parse_events(buf, st);
	if (!err)
		err = read_optional(dir, "memory.pressure", buf, sizeof(buf));
	if (err == 1)
		err = cg_parse_pressure(buf, st);
	return err;
}

static int read_v2(const char *dir, struct cg_stat *st)
{
	char buf[STAT_BUF];
	int err;

	err = read_u64(dir, "memory.current", &st->usage);
	if (!err)
		err = read_small(dir, "memory.stat", buf, sizeof(buf));
	if (err >= 0)
		err = cg_parse_stat_v2(buf, st);
	if (!err)
		add_stock(st);
	if (!err) {
		uint64_t free, room, swap = 0;
		int have = cg_host_swap(&free);

		err = v2_limits(dir, &st->limit, have ? &room : NULL, &swap);
		if (!err && have) {
			uint64_t below = v2_subtree_room(dir);

			st->swap = swap;
			st->swap_limit = cg_swap_limit(swap, below < room ? below : room, have,
						       free, v2_swappiness());
		}
	}
	if (!err)
		err = read_v2_extras(dir, st);
	return err;
}

int cg_read(const struct cg_info *cg, struct cg_stat *st)
{
	if (!cg || !st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->limit = CG_NO_LIMIT;
	st->high = CG_NO_LIMIT;
	if (cg->version == CG_V1)
		return read_v1(cg->path, st);
	if (cg->version == CG_V2)
		return read_v2(cg->path, st);
	return -EINVAL;
}

int cg_read_usage(const struct cg_info *cg, uint64_t *usage)
{
	if (!cg || !usage || (cg->version != CG_V1 && cg->version != CG_V2))
		return -EINVAL;
	return read_u64(cg->path, cg->version == CG_V1 ? "memory.usage_in_bytes" : "memory.current",
			usage);
}

int cg_pids(const struct cg_info *cg, pid_t *pids, size_t max)
{
	char path[CG_PATH_MAX + 64], line[32];
	size_t n = 0;
	FILE *f;
	int err = 0;

	if (!cg || (!pids && max))
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/cgroup.procs", cg->path) >= sizeof(path))
		return -ENAMETOOLONG;
	/* stdio, not read_small: a busy cgroup lists more pids than a stack buffer holds. */
	f = fopen(path, "re");
	if (!f)
		return gone(errno);
	while (n < max && fgets(line, sizeof(line), f)) {
		uint64_t v;

		if (parse_u64(line, rtrim(line, strlen(line)), &v) || v == 0 || v > INT_MAX) {
			err = -EINVAL;
			break;
		}
		pids[n++] = (pid_t)v;
	}
	if (!err && ferror(f))
		err = gone(errno);
	fclose(f);
	return err ? err : (int)n;
}

/* ---- mounts ---- */

struct cg_mount {
	enum cg_version version;
	dev_t dev;
	char path[CG_PATH_MAX];
};

typedef int (*mount_fn)(const struct cg_mount *m, void *arg);

/* Is word one of the items of list, split at any of seps? */
static int has_word(const char *list, const char *word, const char *seps)
{
	size_t wl = strlen(word);

	while (*list) {
		size_t n = strcspn(list, seps);

		if (n == wl && !memcmp(list, word, wl))
			return 1;
		list += n;
		list += strspn(list, seps);
	}
	return 0;
}

/* mountinfo escapes blanks and backslashes in paths as \ooo octal. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

static int v2_mount_has_memory(const char *mnt)
{
	char buf[SMALL_BUF];

	return read_small(mnt, "cgroup.controllers", buf, sizeof(buf)) >= 0 &&
	       has_word(buf, "memory", " \n");
}

/* "36 25 0:31 / /sys/fs/cgroup/memory rw shared:15 - cgroup cgroup rw,memory": the number
 * of optional fields before the lone "-" varies, so find it rather than count. Returns 1
 * and fills m if the line mounts a memory cgroup hierarchy. */
static int parse_mount_line(char *line, struct cg_mount *m)
{
	char *f[6] = { 0 }, *tok, *save = NULL, *fstype, *opts;
	unsigned maj, min;
	int i = 0;

	for (tok = strtok_r(line, " \n", &save); tok && i < 6; tok = strtok_r(NULL, " \n", &save))
		f[i++] = tok;
	while (tok && strcmp(tok, "-"))
		tok = strtok_r(NULL, " \n", &save);
	fstype = tok ? strtok_r(NULL, " \n", &save) : NULL;
	opts = fstype && strtok_r(NULL, " \n", &save) ? strtok_r(NULL, " \n", &save) : NULL;
	if (!opts || i < 6 || sscanf(f[2], "%u:%u", &maj, &min) != 2)
		return 0;
	unescape_octal(f[4]);
	if (strlen(f[4]) >= sizeof(m->path))
		return 0;
	strcpy(m->path, f[4]);
	m->dev = makedev(maj, min);
	if (!strcmp(fstype, "cgroup") && has_word(opts, "memory", ","))
		m->version = CG_V1;
	else if (!strcmp(fstype, "cgroup2") && v2_mount_has_memory(m->path))
		m->version = CG_V2;
	else
		return 0;
	return 1;
}

/* Calls fn for each mounted memory hierarchy until it returns non-zero: how many it was
 * called for, or -errno. */
static int for_each_memory_mount(mount_fn fn, void *arg)
{
	struct cg_mount *m = malloc(sizeof(*m));
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int n = 0;

	if (!f || !m) {
		n = f ? -ENOMEM : -errno;
		goto cleanup;
	}
	while (getline(&line, &cap, f) > 0) {
		if (!parse_mount_line(line, m))
			continue;
		n++;
		if (fn(m, arg))
			break;
	}
cleanup:
	free(line);
	free(m);
	if (f)
		fclose(f);
	return n;
}

static int memory_on(const struct cg_mount *m, void *arg)
{
	*(int *)arg = m->version == CG_V1 ? 1 : 2;
	return 1;
}

int cg_memory_version(void)
{
	int v = 0;

	for_each_memory_mount(memory_on, &v);
	return v;
}

static int first_mount(const struct cg_mount *m, void *arg)
{
	snprintf(arg, CG_PATH_MAX, "%s", m->path);
	return 1;
}

/* Where to look instead, for the error message of a path that is not a memory cgroup. */
static void memory_mount_hint(char *hint, size_t len)
{
	char mnt[CG_PATH_MAX] = "";

	if (for_each_memory_mount(first_mount, mnt) > 0)
		snprintf(hint, len, "memory cgroups on this host are under %s", mnt);
	else
		snprintf(hint, len, "no memory cgroup hierarchy is mounted on this host");
}

/* ---- cg_open ---- */

__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* A cgroup directory without the memory controller: say which kind, and where to look. */
static int fail_not_memory(const char *path, enum cg_version v, char *err, size_t errlen)
{
	char hint[CG_PATH_MAX + 64];

	memory_mount_hint(hint, sizeof(hint));
	/* The v2 root has memory.stat but, limitless, no memory.current. */
	if (v == CG_V2 && has_file(path, "memory.stat"))
		return fail(err, errlen, -ENODEV,
			    "%s is the root of a cgroup v2 hierarchy, which has no memory.current "
			    "and no limit; name a cgroup below it", path);
	if (v == CG_V1)
		return fail(err, errlen, -ENODEV,
			    "%s is a cgroup v1 hierarchy without the memory controller "
			    "(no memory.usage_in_bytes); %s", path, hint);
	return fail(err, errlen, -ENODEV,
		    "%s is a cgroup v2 directory without the memory controller (no memory.current: "
		    "the controller is bound to a v1 hierarchy, or the parent's "
		    "cgroup.subtree_control lacks +memory); %s", path, hint);
}

static int cgroup_version(const char *path, enum cg_version *v, char *err, size_t errlen)
{
	struct statfs sfs;
	char hint[CG_PATH_MAX + 64];

	if (statfs(path, &sfs))
		return fail(err, errlen, -errno, "cannot statfs %s: %s", path, strerror(errno));
	if (sfs.f_type == CGROUP_SUPER_MAGIC) {
		*v = CG_V1;
		return 0;
	}
	if (sfs.f_type == CGROUP2_SUPER_MAGIC) {
		*v = CG_V2;
		return 0;
	}
	memory_mount_hint(hint, sizeof(hint));
	return fail(err, errlen, -EINVAL, "%s is not a cgroup (filesystem type 0x%lx, neither "
		    "cgroup nor cgroup2); %s", path, (unsigned long)sfs.f_type, hint);
}

int cg_open(const char *path, struct cg_info *out, char *err, size_t errlen)
{
	char real[PATH_MAX];
	struct stat st;
	enum cg_version v = CG_V1;
	int rc;

	if (!path || !*path || !out)
		return fail(err, errlen, -EINVAL, "no cgroup path given");
	if (stat(path, &st))
		return fail(err, errlen, -errno, errno == ENOENT ? "%s does not exist" :
			    "cannot stat %s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail(err, errlen, -ENOTDIR, "%s is not a directory (a cgroup is one)", path);
	rc = cgroup_version(path, &v, err, errlen);
	if (rc)
		return rc;
	if (!realpath(path, real))
		return fail(err, errlen, -errno, "cannot resolve %s: %s", path, strerror(errno));
	if (strlen(real) >= sizeof(out->path))
		return fail(err, errlen, -ENAMETOOLONG, "%s: path too long", path);
	if (!has_file(real, v == CG_V1 ? "memory.usage_in_bytes" : "memory.current"))
		return fail_not_memory(real, v, err, errlen);
	out->version = v;
	out->id = st.st_ino;
	strcpy(out->path, real);
	return 0;
}

/* ---- cg_discover ---- */

struct discover {
	cg_visit_fn fn;
	cg_known_fn known;
	void *arg;
	struct cg_info info;            /* info.path is the walk's cursor */
	dev_t seen[MAX_MOUNTS];         /* a hierarchy mounted twice is walked once */
	size_t nseen;
	int visited;
	int stop;
};

static int has_own_limit(const char *dir, enum cg_version v)
{
	uint64_t lim;

	if (v == CG_V1)
		return read_u64(dir, "memory.limit_in_bytes", &lim) == 0 && lim < V1_NO_LIMIT_MIN;
	return read_u64(dir, "memory.max", &lim) == 0 && lim != CG_NO_LIMIT;
}

/* A cgroup the caller already knows is visited without reading its limit again: on a node
 * with thousands of cgroups, that read is most of a rescan's cost. */
static void visit_if_limited(struct discover *d)
{
	struct stat st;

	if (stat(d->info.path, &st))
		return;         /* removed meanwhile */
	d->info.id = st.st_ino;
	if (!(d->known && d->known(st.st_ino, d->arg)) &&
	    !has_own_limit(d->info.path, d->info.version))
		return;
	d->visited++;
	if (d->fn(&d->info, d->arg))
		d->stop = 1;
}

/* Symlinks are skipped: cgroupfs has none, and following one could leave the hierarchy. */
static int is_subdir(DIR *dir, const struct dirent *e)
{
	struct stat st;

	if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
		return 0;
	if (e->d_type != DT_UNKNOWN)
		return e->d_type == DT_DIR;
	return fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISDIR(st.st_mode);
}

/* Cgroups come and go during the walk: a directory that vanished is skipped, not an error. */
static void walk(struct discover *d, size_t len, int depth)
{
	char *p = d->info.path;
	size_t base = (len == 1 && p[0] == '/') ? 0 : len;
	struct dirent *e;
	DIR *dir;

	visit_if_limited(d);
	if (d->stop || depth >= WALK_MAX_DEPTH || !(dir = opendir(p)))
		return;
	while (!d->stop && (e = readdir(dir))) {
		size_t nl = strlen(e->d_name);

		if (!is_subdir(dir, e) || base + 1 + nl >= sizeof(d->info.path))
			continue;
		p[base] = '/';
		memcpy(p + base + 1, e->d_name, nl + 1);
		walk(d, base + 1 + nl, depth + 1);
		p[len] = '\0';
	}
	closedir(dir);
}

static int discover_mount(const struct cg_mount *m, void *arg)
{
	struct discover *d = arg;

	for (size_t i = 0; i < d->nseen; i++)
		if (d->seen[i] == m->dev)
			return 0;
	if (d->nseen < MAX_MOUNTS)
		d->seen[d->nseen++] = m->dev;
	d->info.version = m->version;
	strcpy(d->info.path, m->path);
	walk(d, strlen(d->info.path), 0);
	return d->stop;
}

int cg_discover(cg_visit_fn fn, void *arg)
{
	return cg_discover_known(fn, NULL, arg);
}

int cg_discover_known(cg_visit_fn fn, cg_known_fn known, void *arg)
{
	struct discover *d = calloc(1, sizeof(*d));
	int n;

	if (!fn || !d) {
		free(d);
		return fn ? -ENOMEM : -EINVAL;
	}
	d->fn = fn;
	d->known = known;
	d->arg = arg;
	n = for_each_memory_mount(discover_mount, d);
	if (n == 0)
		n = -ENOENT;            /* no memory controller mounted anywhere */
	else if (n > 0)
		n = d->visited;
	free(d);
	return n;
}

/* ---- labels ---- */

int cg_is_hex64(const char *s, size_t n)
{
	if (n != 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && (s[i] < 'a' || s[i] > 'f'))
			return 0;
	return 1;
}

static int comp_eq(const char *c, size_t n, const char *word)
{
	return strlen(word) == n && !memcmp(c, word, n);
}

static int has_prefix(const char *c, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);

	return n >= pl && !memcmp(c, prefix, pl);
}

static int has_suffix(const char *c, size_t n, const char *suffix)
{
	size_t sl = strlen(suffix);

	return n >= sl && !memcmp(c + n - sl, suffix, sl);
}

static void copy_comp(char *dst, size_t size, const char *c, size_t n)
{
	if (n >= size)
		return;
	memcpy(dst, c, n);
	dst[n] = '\0';
}

/* Container directories the runtimes name "<prefix><64 hex><suffix>". */
static const struct {
	const char *prefix, *suffix, *runtime;
} id_dirs[] = {
	{ "docker-", ".scope", "docker" },
	{ "cri-containerd-", ".scope", "containerd" },
	{ "crio-", ".scope", "cri-o" },
	{ "crio-", "", "cri-o" },               /* cri-o with the cgroupfs driver */
	{ "libpod-", ".scope", "podman" },
	{ "libpod-", "", "podman" },            /* podman with cgroupfs: libpod_parent/libpod-<id> */
};

static void set_container(struct cg_labels *out, const char *runtime, const char *id)
{
	copy_comp(out->runtime, sizeof(out->runtime), runtime, strlen(runtime));
	copy_comp(out->container_id, sizeof(out->container_id), id, 64);
}

static int label_id_dir(struct cg_labels *out, const char *c, size_t n)
{
	for (size_t i = 0; i < ARRAY_SIZE(id_dirs); i++) {
		size_t pl = strlen(id_dirs[i].prefix), sl = strlen(id_dirs[i].suffix);

		if (n != pl + 64 + sl || !has_prefix(c, n, id_dirs[i].prefix) ||
		    !has_suffix(c, n, id_dirs[i].suffix) || !cg_is_hex64(c + pl, 64))
			continue;
		set_container(out, id_dirs[i].runtime, c + pl);
		return 1;
	}
	return 0;
}

/* A pod UID as the path spells it; the systemd driver turns its dashes into underscores,
 * as a dash separates slice levels there. */
static int label_pod(struct cg_labels *out, const char *uid, size_t n, const char *qos)
{
	if (n == 0 || n >= sizeof(out->pod_uid))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)uid[i]) && uid[i] != '-' && uid[i] != '_')
			return 0;
	for (size_t i = 0; i < n; i++)
		out->pod_uid[i] = uid[i] == '_' ? '-' : uid[i];
	out->pod_uid[n] = '\0';
	copy_comp(out->qos, sizeof(out->qos), qos, strlen(qos));
	return 1;
}

/* systemd driver: kubepods-burstable.slice, kubepods-besteffort-pod<uid>.slice, and
 * kubepods-pod<uid>.slice for guaranteed pods, which get no QoS slice of their own. */
static void label_kube_slice(struct cg_labels *out, const char *c, size_t n)
{
	static const char *const qos[] = { "burstable", "besteffort" };
	const char *mid = c + strlen("kubepods-");
	size_t ml = n - strlen("kubepods-") - strlen(".slice");

	for (size_t i = 0; i < ARRAY_SIZE(qos); i++) {
		size_t ql = strlen(qos[i]);

		if (comp_eq(mid, ml, qos[i]))
			copy_comp(out->qos, sizeof(out->qos), qos[i], ql);
		else if (ml > ql + 4 && has_prefix(mid, ml, qos[i]) && !memcmp(mid + ql, "-pod", 4))
			label_pod(out, mid + ql + 4, ml - ql - 4, qos[i]);
	}
	if (has_prefix(mid, ml, "pod"))
		label_pod(out, mid + 3, ml - 3, "guaranteed");
}

/* cgroupfs driver: /kubepods/burstable/pod<uid>/<id>, and /kubepods/pod<uid>/<id> for
 * guaranteed pods. */
static void label_kube_dir(struct cg_labels *out, const char *c, size_t n, const char *prev,
			   size_t plen)
{
	if (comp_eq(prev, plen, "kubepods") &&
	    (comp_eq(c, n, "burstable") || comp_eq(c, n, "besteffort")))
		copy_comp(out->qos, sizeof(out->qos), c, n);
	else if (has_prefix(c, n, "pod"))
		label_pod(out, c + 3, n - 3, out->qos[0] ? out->qos : "guaranteed");
	else if (cg_is_hex64(c, n) && out->pod_uid[0])
		set_container(out, "containerd", c);
}

struct label_state {
	const char *prev;
	size_t plen;
	int kube;                       /* below a cgroupfs-driver /kubepods */
};

static void label_component(struct cg_labels *out, const char *c, size_t n,
			    struct label_state *ls)
{
	if (has_suffix(c, n, ".service") || has_suffix(c, n, ".scope"))
		copy_comp(out->unit, sizeof(out->unit), c, n);
	if (label_id_dir(out, c, n))
		return;
	if (cg_is_hex64(c, n) && ls->prev && comp_eq(ls->prev, ls->plen, "docker")) {
		set_container(out, "docker", c);
	} else if (has_prefix(c, n, "kubepods-") && has_suffix(c, n, ".slice") &&
		   n > strlen("kubepods-.slice")) {
		label_kube_slice(out, c, n);
	} else if (comp_eq(c, n, "kubepods")) {
		ls->kube = 1;
	} else if (ls->kube && ls->prev) {
		label_kube_dir(out, c, n, ls->prev, ls->plen);
	}
}

void cg_labels(const char *path, struct cg_labels *out)
{
	struct label_state ls = { 0 };
	const char *c = path;

	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	while (c && *c) {
		size_t n;

		if (*c == '/') {
			c++;
			continue;
		}
		n = strcspn(c, "/");
		label_component(out, c, n, &ls);
		ls.prev = c;
		ls.plen = n;
		c += n;
	}
}
