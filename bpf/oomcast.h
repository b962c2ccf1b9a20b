/* oomcast.h: the whole kernel/user contract: map values and ring-buffer records. */
#ifndef OOMCAST_H
#define OOMCAST_H

/* Plain fixed-width types only, so both sides (vmlinux.h in BPF, <linux/types.h> in
 * userspace) compile this header unchanged. */

#define OC_COMM_LEN 16
#define OC_MAX_DEPTH 8          /* memcg ancestors walked when crediting a watched cgroup */
#define OC_CHARGE_BATCH 64      /* pages: the kernel's MEMCG_CHARGE_BATCH */
#define OC_MAX_CGROUPS 16384    /* watched memory cgroups */
#define OC_MAX_TASKS 32768      /* tasks tracked (LRU: idle ones are evicted first) */

/* The early filter: bit (id % OC_FILTER_BITS) of the BPF side's watched_filter is set while
 * some watched cgroup's id maps to it, so most unwatched levels of a task's memcg hierarchy
 * cost one load instead of a hash lookup. Userspace keeps a reference count per bit. */
#define OC_FILTER_BITS 65536

/* Key of the `cgroups` map: the memcg's id, which is the kernfs id of its directory,
 * i.e. the inode number userspace gets from stat(2) on the cgroup directory. */

/* Value of the `cgroups` map. Userspace inserts an entry to start watching a cgroup
 * (so unwatched cgroups cost one failed lookup on the sampled path and nothing else)
 * and deletes it when the cgroup goes away. Counters are cumulative. */
struct oc_cgroup {
	__u64 alloc_bytes;      /* page allocations by tasks in it or below, sampled */
	__u64 mmap_bytes;       /* address space mapped with mmap(2) */
	__u64 munmap_bytes;     /* address space unmapped with munmap(2) */
	__u64 brk_bytes;        /* heap growth through brk(2) */
	__u64 rate_bps;         /* allocation rate, bytes/s: EWMA over OC windows */
	__u64 win_start_ns;     /* start of the current rate window */
	__u64 win_bytes;        /* bytes credited in the current window */
	__u64 last_summary_ns;  /* last OC_REC_SUMMARY sent */
	__u64 reclaim_count;    /* memcg reclaim passes started in it or below */
	__u64 last_reclaim_ns;  /* last OC_REC_RECLAIM sent */
	__u64 last_trip_ns;     /* last OC_REC_TRIP sent */
	__u64 victims;          /* OOM victims marked in it or below */
	__u64 trip_bytes;       /* the kernel's copy of `trips`, refreshed once a summary gap */
};

/* Value of the per-CPU `health` map: counters userspace sums over CPUs. */
struct oc_health {
	__u64 samples;          /* sampled allocations taken */
	__u64 rb_drops;         /* records lost because the ring buffer was full */
};

/* Default entries of `cpu_acc`; the loader sets it to the number of possible CPUs. */
#define OC_MAX_CPUS 512

/* Value of the `cpu_acc` array, indexed by CPU: the sampling accumulator, with the two
 * constants the hot path needs copied beside it, so that a page allocation touches this
 * one cache line and nothing else (the array is mmapable: its values start page-aligned,
 * 64 bytes each, so with 64-byte cache lines each CPU's line is its own). */
struct oc_cpu_acc {
	__u64 acc;              /* bytes allocated on this CPU since its last sample */
	__u64 period;           /* sample_bytes; 0 until this CPU's first page allocation */
	__u32 page_shift;
	__u32 pad32;
	__u64 pad[5];           /* to 64 bytes */
};

/* The `trips` map (hash: memcg id -> __u64 bytes) is written by userspace only: the usage
 * at which the forecast would fall within the horizon at the current rate. Crossing it
 * sends one OC_REC_TRIP at once instead of waiting for the next summary or poll. Kept out of
 * struct oc_cgroup so that userspace never overwrites counters the kernel is updating. */

/* Value of the `tasks` map (LRU hash keyed by tgid). */
struct oc_task {
	__u64 cgroup_id;        /* the task's own memcg */
	__u64 watched_id;       /* the nearest watched cgroup at or above it */
	__u64 alloc_bytes;      /* sampled page allocations */
	__s64 mapped_bytes;     /* mmap - munmap + brk growth */
	__u64 rate_bps;         /* EWMA allocation rate */
	__u64 win_start_ns;
	__u64 win_bytes;
	__u64 last_ns;          /* last time anything was credited */
	__s64 rss_pages[4];     /* from kmem/rss_stat when enabled: file, anon, swap, shmem */
	__s32 oom_score_adj;
	__u32 pad;
	char comm[OC_COMM_LEN];
};

enum oc_rec_type {
	OC_REC_SUMMARY = 1,     /* periodic, per watched cgroup that allocates */
	OC_REC_TRIP = 2,        /* usage crossed the cgroup's trip_bytes */
	OC_REC_VICTIM = 3,      /* the OOM killer marked a victim */
	OC_REC_RECLAIM = 4,     /* memcg reclaim at the limit (rate-limited) */
	OC_REC_SCORE_ADJ = 5,   /* a task's oom_score_adj changed */
};

/* One ring-buffer record; 72 bytes. Field use by type:
 *   SUMMARY   cgroup_id, usage_bytes, a = alloc_bytes, b = rate_bps, pid/comm = last sampled task
 *   TRIP      cgroup_id, usage_bytes, a = trip_bytes,  b = rate_bps
 *   VICTIM    cgroup_id (nearest watched at its limit, else nearest watched, else the
 *             victim's own memcg), usage_bytes (of cgroup_id),
 *             a = victim's own memcg id (0 if not known: before Linux 6.8, unless the
 *             victim was the task whose charge failed or the tasks map saw it allocate
 *             within a minute), b = victim's RSS in pages,
 *             pid/comm/oom_score_adj
 *   RECLAIM   cgroup_id, usage_bytes, a = reclaim_count
 *   SCORE_ADJ cgroup_id (task's memcg), pid/comm/oom_score_adj */
struct oc_rec {
	__u32 type;
	__u32 pid;
	__u64 ts_ns;            /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) */
	__u64 cgroup_id;
	__u64 usage_bytes;
	__u64 a;
	__u64 b;
	__s32 oom_score_adj;
	__u32 flags;
	char comm[OC_COMM_LEN];
};

#endif
