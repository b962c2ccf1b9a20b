/* cgroup.h: the memory-cgroup backend (cgroup v1 and v2): validate a path, read its
 * counters, discover limited cgroups, list its tasks, and label it (container, pod, unit). */
#ifndef OOMCAST_CGROUP_H
#define OOMCAST_CGROUP_H
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#define CG_PATH_MAX 1024        /* k8s paths are ~200; longer ones are refused, by name */
#define CG_NO_LIMIT UINT64_MAX

enum cg_version { CG_V1 = 1, CG_V2 = 2 };

struct cg_info {
	enum cg_version version;
	uint64_t id;                    /* inode of the directory == the kernel's memcg kn->id */
	char path[CG_PATH_MAX];         /* the directory, as the user passes it to --cgroup */
};

/* One reading of a cgroup's files. Fields a version lacks are 0 (or CG_NO_LIMIT). */
struct cg_stat {
	uint64_t usage;                 /* v1 memory.usage_in_bytes, v2 memory.current */
	uint64_t limit;                 /* effective hard limit: v1 hierarchical_memory_limit,
	                                   v2 min(memory.max) over the cgroup and its ancestors */
	uint64_t high;                  /* v2 memory.high (CG_NO_LIMIT if "max"); v1: CG_NO_LIMIT */
	uint64_t anon;                  /* anonymous + swap-backed (shmem) bytes */
	uint64_t file;                  /* page cache bytes, less shmem (counted in anon) */
	uint64_t active_file, inactive_file;
	uint64_t reclaimable;           /* what the kernel takes back before it kills, without
	                                   swap: inactive_file + active_file (+ v2
	                                   slab_reclaimable) + charge_stock */
	uint64_t kernel;                /* charged beside anon and file: v1
	                                   memory.kmem.usage_in_bytes, v2 "kernel" + "sock"
	                                   (+ "hugetlb" where it is accounted) */
	int have_kernel;                /* kernel was read (v1 without kmem files, v2 before
	                                   "kernel" (5.18): no charge_stock) */
	uint64_t charge_stock;          /* usage no page is behind: pre-charged per CPU, which
	                                   the kernel drains before it kills (cg_charge_stock) */
	uint64_t swap;                  /* swap the cgroup's pages hold: v1 total_swap, v2
	                                   memory.swap.current (which counts a page from when
	                                   it is added to the swap cache, while usage still
	                                   does); 0 without swap accounting */
	uint64_t swap_limit;            /* the most swap it can hold now: swap plus what it can
	                                   still swap out (its and its children's swap limits,
	                                   the free swap); swap itself where its reclaim cannot
	                                   swap (swappiness 0); v1: at most memsw limit - limit,
	                                   which can be below swap; 0 on a host without swap.
	                                   The kill comes when usage less reclaimable plus swap
	                                   meets limit plus swap_limit. */
	uint64_t workingset_refault;    /* cumulative refaults (v1 may lack it: 0) */
	uint64_t pgmajfault;
	int under_oom;                  /* v1 memory.oom_control under_oom */
	int oom_kill_disable;           /* v1 memory.oom_control oom_kill_disable */
	uint64_t oom_kills;             /* v1 oom_control oom_kill, v2 memory.events oom_kill */
	uint64_t oom_events;            /* v2 memory.events oom; v1: 0 */
	uint64_t high_events;           /* v2 memory.events high */
	uint64_t max_events;            /* v2 memory.events max */
	double psi_some_avg10;          /* v2 memory.pressure; v1: 0 */
	double psi_full_avg10;
};

/* Kubernetes names of a pod's or container's cgroup (kube.h), each up to its longest */
struct cg_kube_names {
	char ns[64];                    /* namespace */
	char pod[254];
	char container[64];             /* "" for a pod's own cgroup */
};

struct cg_labels {
	char runtime[16];               /* "docker", "containerd", "cri-o", "podman", "" */
	char container_id[72];          /* 64-hex id when the path carries one */
	char pod_uid[40];               /* Kubernetes pod UID (dashes restored) */
	char qos[16];                   /* "guaranteed", "burstable", "besteffort" */
	char unit[256];                 /* systemd unit (last *.service / *.scope component) */
	struct cg_kube_names *kube;     /* NULL until found (the owner frees it) */
};

/* Validate `path`: it exists, is a directory, and is a memory cgroup (the v1 memory
 * hierarchy, or v2 with the memory controller enabled on it). On error returns -errno and
 * writes a sentence naming the problem into err: -ENOENT missing, -ENOTDIR not a directory,
 * -EINVAL not a cgroup, -ENODEV a cgroup without the memory controller. */
int cg_open(const char *path, struct cg_info *out, char *err, size_t errlen);

/* Read all counters of the cgroup. Returns 0, or -errno (e.g. -ENOENT once removed). */
int cg_read(const struct cg_info *cg, struct cg_stat *st);

/* Cheap read of usage alone (one small file). */
int cg_read_usage(const struct cg_info *cg, uint64_t *usage);

/* Walk every memory cgroup mounted on this host (v1 memory hierarchy and/or v2 with the
 * memory controller) and call fn for each directory that has a finite limit of its own
 * (v1 memory.limit_in_bytes, v2 memory.max). Stops early if fn returns non-zero. Returns
 * the number of cgroups visited (fn calls) or -errno (-ENOENT: no memory hierarchy is
 * mounted). */
typedef int (*cg_visit_fn)(const struct cg_info *cg, void *arg);
int cg_discover(cg_visit_fn fn, void *arg);
/* The same, but a directory for which known(id) says 1 is visited without reading its
 * limit (the caller already watches it). */
typedef int (*cg_known_fn)(uint64_t id, void *arg);
int cg_discover_known(cg_visit_fn fn, cg_known_fn known, void *arg);

/* Where the memory controller is: 1 (the v1 memory hierarchy), 2 (cgroup v2), 0 (nowhere
 * mounted). The kernel binds it to one hierarchy at a time. */
int cg_memory_version(void);

/* The pids in the cgroup (cgroup.procs), up to max. Returns how many, or -errno. */
int cg_pids(const struct cg_info *cg, pid_t *pids, size_t max);

/* Labels parsed from the path alone (no I/O). */
void cg_labels(const char *path, struct cg_labels *out);
/* s[0..n) is a container id as runtimes write it: 64 lowercase hex digits. */
int cg_is_hex64(const char *s, size_t n);

/* The per-CPU charge stock in usage: usage less every page memory.stat and the kernel
 * counter account for (anon, file, kernel), at most cap (cg_stock_cap()); 0 when the kernel
 * memory is not known (it would be taken for stock). No I/O. */
uint64_t cg_charge_stock(const struct cg_stat *st, uint64_t cap);
/* The most a cgroup can hold pre-charged: MEMCG_CHARGE_BATCH (64) pages per online CPU. */
uint64_t cg_stock_cap(void);

/* swap_limit from what the cgroup's own limits leave (room_by_limits: CG_NO_LIMIT if none),
 * the free swap on the host, whether the host has any, and the swappiness that applies to
 * the cgroup's reclaim (v1 memory.swappiness, v2 vm.swappiness; 0 swaps nothing). No I/O. */
uint64_t cg_swap_limit(uint64_t swap, uint64_t room_by_limits, int have_swap, uint64_t swap_free,
		       int swappiness);

/* The host's swap: 1 when it has any (free bytes of it in *free), else 0. */
int cg_host_swap(uint64_t *free);

/* For unit tests on a host without swap: have < 0 asks the kernel again (the default),
 * otherwise cg_read takes the host to have swap (have > 0, free bytes of it, v2 reclaim
 * with this vm.swappiness) or none. */
void cg_override_host_swap(int have, uint64_t free, int swappiness);

/* Parsers, exposed for unit tests: no I/O. Each returns 0 or -EINVAL on bad input. */
int cg_parse_u64_or_max(const char *buf, uint64_t *out);     /* "123\n", "max\n" */
int cg_parse_stat_v1(const char *buf, struct cg_stat *st);   /* memory.stat (v1) */
int cg_parse_stat_v2(const char *buf, struct cg_stat *st);   /* memory.stat (v2) */
int cg_parse_oom_control(const char *buf, struct cg_stat *st);
int cg_parse_events(const char *buf, struct cg_stat *st);    /* memory.events (v2) */
int cg_parse_pressure(const char *buf, struct cg_stat *st);  /* memory.pressure (v2) */

#endif
