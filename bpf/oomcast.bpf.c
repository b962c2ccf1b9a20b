// SPDX-License-Identifier: GPL-2.0
/* oomcast.bpf.c: the kernel side: sampled page-allocation accounting per memory cgroup and
 * per task, address-space growth from mmap/munmap/brk, the in-kernel tripwire, and the OOM
 * path (reclaim at the limit, victims, oom_score_adj), pushed to userspace as records. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "core_fixes.bpf.h"
#include "oomcast.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load (rodata). sample_bytes must be a power of two. */
const volatile __u64 sample_bytes = 256 * 1024;
const volatile __u32 page_shift = 12;
const volatile __u64 summary_gap_ns = 100000000ULL;  /* per-cgroup SUMMARY at most 10/s */
const volatile __u64 trip_gap_ns = 50000000ULL;      /* per-cgroup TRIP at most 20/s */
const volatile __u64 reclaim_gap_ns = 100000000ULL;  /* per-cgroup RECLAIM at most 10/s */
const volatile bool memory_v1 = false;  /* the memory controller is on the v1 hierarchy */
const volatile __u64 rate_window_ns = 250000000ULL;  /* rate is measured over >= 250 ms */

/* The early filter (see OC_FILTER_BITS), written by userspace through the skeleton's mmap
 * of .bss; filter_on stays 0 for users of the bare skeleton (tests), who get every lookup. */
__u64 watched_filter[OC_FILTER_BITS / 64];
__u32 filter_on;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OC_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, struct oc_cgroup);
} cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OC_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, __u64);
} trips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, OC_MAX_TASKS);
	__type(key, __u32);
	__type(value, struct oc_task);
} tasks SEC(".maps");

/* Per CPU: the health counters, touched once per sample, not per page. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct oc_health);
} health SEC(".maps");

/* Per CPU, by index: the hot path's one cache line (struct oc_cpu_acc). A plain array, not a
 * per-CPU one, because its inlined lookup needs no load from the map itself (a per-CPU
 * array's reads the map's pointer table first); mmapable, so its values start page-aligned.
 * The loader sizes it to the possible CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, OC_MAX_CPUS);
	__type(key, __u32);
	__type(value, struct oc_cpu_acc);
} cpu_acc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

static __always_inline struct oc_health *health_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&health, &zero);
}

static __always_inline struct oc_rec *rec_reserve(__u32 type, __u64 now)
{
	struct oc_rec *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	struct oc_health *h;

	if (!r) {
		h = health_get();
		if (h)
			h->rb_drops++;
		return NULL;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->type = type;
	r->ts_ns = now;
	return r;
}

/* task is a BTF pointer (a tp_btf argument or bpf_get_current_task_btf()): the walk from a
 * task to its memcg ids is plain loads, no bpf_probe_read_kernel() calls. */
static __always_inline struct cgroup_subsys_state *task_memcg_css(struct task_struct *task)
{
	return task->cgroups->subsys[oc_memory_cgrp_id()];
}

static __always_inline __u64 css_id(struct cgroup_subsys_state *css)
{
	return oc_kernfs_id_fast(css->cgroup->kn);
}

/* 0: no watched cgroup has this id (no lookup needed); 1: maybe one has. */
static __always_inline int maybe_watched(__u64 id)
{
	if (!filter_on)
		return 1;
	return (watched_filter[(id / 64) & (OC_FILTER_BITS / 64 - 1)] >> (id & 63)) & 1;
}

static __always_inline struct oc_cgroup *watched_lookup(__u64 *id)
{
	return maybe_watched(*id) ? bpf_map_lookup_elem(&cgroups, id) : NULL;
}

/* The memcg's own page counter: the same number memory.usage_in_bytes / memory.current show. */
static __always_inline __u64 css_usage_bytes(struct cgroup_subsys_state *css)
{
	struct mem_cgroup *memcg;

	memcg = (void *)css - bpf_core_field_offset(struct mem_cgroup, css);
	return (__u64)BPF_CORE_READ(memcg, memory.usage.counter) << page_shift;
}

/* EWMA of bytes/s over windows of at least rate_window_ns; a stale rate (no credit for a
 * while) is aged out by userspace, which sees win_start_ns. Races between CPUs can lose a
 * window's bytes in the rate (never in the cumulative counters, which are atomic). */
static __always_inline void rate_update(__u64 *rate, __u64 *win_start, __u64 *win_bytes,
					__u64 credit, __u64 now)
{
	__u64 dt, inst;

	if (*win_start == 0 || now < *win_start) {
		*win_start = now;
		*win_bytes = credit;
		return;
	}
	*win_bytes += credit;
	dt = now - *win_start;
	if (dt < rate_window_ns)
		return;
	inst = *win_bytes * 1000 / (dt / 1000000);
	/* After an idle gap the old rate says nothing about now: restart from this window. */
	*rate = dt > 4 * rate_window_ns || *rate == 0 ? inst : (*rate + inst) / 2;
	*win_start = now;
	*win_bytes = 0;
}

static __always_inline void emit_cgroup(__u32 type, __u64 id, struct cgroup_subsys_state *css,
					__u64 now, __u64 a, __u64 b)
{
	struct oc_rec *r = rec_reserve(type, now);

	if (!r)
		return;
	r->cgroup_id = id;
	r->usage_bytes = css_usage_bytes(css);
	r->a = a;
	r->b = b;
	r->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	bpf_ringbuf_submit(r, 0);
}

static __always_inline void credit_cgroup(struct oc_cgroup *c, __u64 id,
					  struct cgroup_subsys_state *css, __u64 credit,
					  __u64 now)
{
	int summary_due = now - c->last_summary_ns >= summary_gap_ns;
	__u64 *trip;

	__sync_fetch_and_add(&c->alloc_bytes, credit);
	rate_update(&c->rate_bps, &c->win_start_ns, &c->win_bytes, credit, now);

	/* The threshold is re-read from `trips` at most once per summary gap (userspace changes
	 * it once per poll); the crossing itself is checked on every sample. */
	if (summary_due) {
		trip = bpf_map_lookup_elem(&trips, &id);
		c->trip_bytes = trip ? *trip : 0;
	}
	if (c->trip_bytes && now - c->last_trip_ns >= trip_gap_ns &&
	    css_usage_bytes(css) >= c->trip_bytes) {
		c->last_trip_ns = now;
		c->last_summary_ns = now;
		emit_cgroup(OC_REC_TRIP, id, css, now, c->trip_bytes, c->rate_bps);
		return;
	}
	if (summary_due) {
		c->last_summary_ns = now;
		emit_cgroup(OC_REC_SUMMARY, id, css, now, c->alloc_bytes, c->rate_bps);
	}
}

static __always_inline void credit_task(struct task_struct *task, __u64 own_id, __u64 watched,
					__u64 credit, __s64 mapped, __u64 now)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct oc_task *t = bpf_map_lookup_elem(&tasks, &tgid);

	if (!t) {
		struct oc_task nt = {};

		nt.oom_score_adj = BPF_CORE_READ(task, signal, oom_score_adj);
		BPF_CORE_READ_STR_INTO(&nt.comm, task, group_leader, comm);
		bpf_map_update_elem(&tasks, &tgid, &nt, BPF_NOEXIST);
		t = bpf_map_lookup_elem(&tasks, &tgid);
		if (!t)
			return;
	}
	t->cgroup_id = own_id;
	t->watched_id = watched;
	t->last_ns = now;
	if (credit) {
		__sync_fetch_and_add(&t->alloc_bytes, credit);
		rate_update(&t->rate_bps, &t->win_start_ns, &t->win_bytes, credit, now);
		/* A task that exec()s after its first sample changes its name: refreshed once
		 * a rate window (>= 250 ms), not on every sample. */
		if (t->win_start_ns == now)
			BPF_CORE_READ_STR_INTO(&t->comm, task, group_leader, comm);
	}
	if (mapped)
		__sync_fetch_and_add(&t->mapped_bytes, mapped);
}

enum oc_credit_kind { OC_ALLOC, OC_MMAP, OC_MUNMAP, OC_BRK };

/* Credit the current task's memcg and every watched ancestor (a pod's limit covers its
 * containers). Returns how many watched cgroups were credited. */
static __always_inline int credit_current(enum oc_credit_kind kind, __s64 bytes)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct cgroup_subsys_state *css = task_memcg_css(task);
	__u64 now = 0, own_id = 0, first = 0, id;
	struct oc_cgroup *c;
	int i, hits = 0;

	for (i = 0; i < OC_MAX_DEPTH && css; i++) {
		id = css_id(css);
		if (i == 0)
			own_id = id;
		c = watched_lookup(&id);
		if (c && !now)
			now = bpf_ktime_get_ns();
		if (c) {
			if (!hits++)
				first = id;
			if (kind == OC_ALLOC)
				credit_cgroup(c, id, css, bytes, now);
			else if (kind == OC_MMAP)
				__sync_fetch_and_add(&c->mmap_bytes, bytes);
			else if (kind == OC_MUNMAP)
				__sync_fetch_and_add(&c->munmap_bytes, bytes);
			else
				__sync_fetch_and_add(&c->brk_bytes, bytes);
		}
		css = css->parent;
	}
	if (hits)
		credit_task(task, own_id, first, kind == OC_ALLOC ? bytes : 0,
			    kind == OC_ALLOC ? 0 : (kind == OC_MUNMAP ? -bytes : bytes), now);
	return hits;
}

/* The hot path: one add and compare on this CPU's line per page allocation. Every
 * sample_bytes allocated on a CPU, the task that crosses the boundary is charged the whole
 * period (byte sampling, as heap profilers do): unbiased for rates, and the costly
 * attribution runs once per 64 pages instead of once per page. Measured (`make
 * bench-overhead`), the cost of a page was in the cache lines it touched, not in its
 * instructions: the per-CPU array's pointer table, .rodata's constants and the per-CPU
 * value, three lines that a fault-heavy workload evicts between allocations; now one. */
static __always_inline int on_page_alloc(unsigned int order)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct oc_cpu_acc *a = bpf_map_lookup_elem(&cpu_acc, &cpu);
	struct oc_health *h;
	__u64 v, credit;

	if (!a)
		return 0;
	v = a->acc + ((__u64)1 << (a->page_shift + order));
	if (v < a->period) {
		a->acc = v;
		return 0;
	}
	if (!a->period) {       /* this CPU's first page: take the constants, count the page */
		a->period = sample_bytes;
		a->page_shift = page_shift;
		v = a->acc + ((__u64)1 << (page_shift + order));
		if (v < sample_bytes) {
			a->acc = v;
			return 0;
		}
	}
	credit = v & ~(a->period - 1);
	a->acc = v & (a->period - 1);
	h = health_get();
	if (h)
		h->samples++;
	return credit_current(OC_ALLOC, credit);
}

SEC("tp_btf/mm_page_alloc")
int BPF_PROG(oc_page_alloc_btf, struct page *page, unsigned int order)
{
	on_page_alloc(order);
	return 0;
}

SEC("tracepoint/kmem/mm_page_alloc")
int oc_page_alloc_tp(struct trace_event_raw_mm_page_alloc *ctx)
{
	on_page_alloc(BPF_CORE_READ(ctx, order));
	return 0;
}

/* Address-space growth: a leading indicator (allocators map before they touch). Only
 * writable mappings count: runtimes reserve large PROT_NONE ranges they may never use. */
SEC("tracepoint/syscalls/sys_enter_mmap")
int oc_mmap(struct trace_event_raw_sys_enter *ctx)
{
	__u64 len = BPF_CORE_READ(ctx, args[1]), prot = BPF_CORE_READ(ctx, args[2]);

	if (prot & 2 /* PROT_WRITE */)
		credit_current(OC_MMAP, len);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_munmap")
int oc_munmap(struct trace_event_raw_sys_enter *ctx)
{
	credit_current(OC_MUNMAP, BPF_CORE_READ(ctx, args[1]));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_brk")
int oc_brk(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 want = BPF_CORE_READ(ctx, args[0]);
	__u64 cur = task->mm ? task->mm->brk : 0;

	if (want && cur && want != cur)
		credit_current(OC_BRK, (__s64)(want - cur));
	return 0;
}

/* Reclaim inside a memcg: the cgroup is at its limit (or memory.high) and the kernel is
 * taking pages back before it can charge more. Counted always; a record at most 10/s. */
SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(oc_memcg_reclaim)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct cgroup_subsys_state *css = task_memcg_css(task);
	__u64 now = bpf_ktime_get_ns(), id;
	struct oc_cgroup *c;
	int i;

	for (i = 0; i < OC_MAX_DEPTH && css; i++) {
		id = css_id(css);
		c = watched_lookup(&id);
		if (c) {
			__sync_fetch_and_add(&c->reclaim_count, 1);
			if (now - c->last_reclaim_ns >= reclaim_gap_ns) {
				c->last_reclaim_ns = now;
				emit_cgroup(OC_REC_RECLAIM, id, css, now, c->reclaim_count, 0);
			}
		}
		css = css->parent;
	}
	return 0;
}

/* A page counter within reach of its max: the charge that failed was at most a batch of
 * pages (a large folio that cannot be charged falls back to base pages instead, it does
 * not OOM), and the per-CPU stocks were drained before the kill; another task may free a
 * little meanwhile: two batches. Not a share of the limit: a container whose JVM sits at
 * 99% of its own 8 GiB (80 MiB under it) is not at its limit when its pod's is met. No
 * limit is PAGE_COUNTER_MAX: never within reach. */
static __always_inline bool counter_full(__u64 usage, __u64 max)
{
	return usage + 2 * OC_CHARGE_BATCH >= max;
}

/* The memcg the OOM killer acts for is at its limit: memory, or on v1 memory plus swap
 * (memsw: Docker's --memory-swap; memory is then under its own max by what was swapped).
 * On v2 that union holds the swap counter, whose max (0 in a pod without swap) says
 * nothing of an OOM. */
static __always_inline bool css_at_limit(struct cgroup_subsys_state *css)
{
	struct mem_cgroup *memcg = (void *)css - bpf_core_field_offset(struct mem_cgroup, css);

	if (counter_full(BPF_CORE_READ(memcg, memory.usage.counter),
			 BPF_CORE_READ(memcg, memory.max)))
		return true;
	return memory_v1 && bpf_core_field_exists(memcg->memsw) &&
	       counter_full(BPF_CORE_READ(memcg, memsw.usage.counter),
			    BPF_CORE_READ(memcg, memsw.max));
}

/* Victim: the nearest watched cgroup of `css` that is at its limit, the one whose limit the
 * kill is for (a pod's or a node's limit, over a container whose own limit was far); else
 * the nearest watched (a system-wide OOM, or a limit nobody watches); else its own memcg.
 * `seen`: where css is not the victim's (the task whose charge failed, before 6.8), the
 * victim as the tasks map last saw it, if it did: its own memcg, and its nearest watched
 * where no cgroup above css is at its limit (a system-wide OOM picks anyone's task). */
static __always_inline void emit_victim(struct cgroup_subsys_state *css, __u32 pid,
					__s32 adj, __u64 rss_pages, const char *comm_src,
					bool comm_kernel, bool css_is_victims,
					const struct oc_task *seen)
{
	__u64 now = bpf_ktime_get_ns(), id, own = 0, hit = 0, near = 0;
	struct cgroup_subsys_state *hit_css = css, *near_css = css;
	struct oc_cgroup *c;
	struct oc_rec *r;
	int i;

	for (i = 0; i < OC_MAX_DEPTH && css; i++) {
		id = css_id(css);
		if (i == 0)
			own = id;
		c = watched_lookup(&id);
		if (c) {
			__sync_fetch_and_add(&c->victims, 1);
			if (!near) {
				near = id;
				near_css = css;
			}
			if (!hit && css_at_limit(css)) {
				hit = id;
				hit_css = css;
			}
		}
		css = css->parent;
	}
	if (!hit && seen && seen->watched_id) {
		hit = seen->watched_id;
		hit_css = NULL;         /* not at hand: userspace reads the cgroup's usage */
	} else if (!hit) {
		hit = near;
		hit_css = near_css;
	}
	r = rec_reserve(OC_REC_VICTIM, now);
	if (!r)
		return;
	r->cgroup_id = hit ? hit : own;
	r->usage_bytes = hit_css ? css_usage_bytes(hit_css) : 0;
	r->a = css_is_victims ? own : seen ? seen->cgroup_id : 0;
	r->b = rss_pages;
	r->pid = pid;
	r->oom_score_adj = adj;
	if (comm_kernel)
		bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), comm_src);
	bpf_ringbuf_submit(r, 0);
}

/* Linux >= 6.8 passes the victim task (commit 72ba14deb40a "mm: oom: add more information
 * to mark_victim tracepoint"); the loader picks this variant when BTF shows that prototype. */
SEC("tp_btf/mark_victim")
int BPF_PROG(oc_victim_btf, struct task_struct *victim)
{
	struct mm_struct *mm = BPF_CORE_READ(victim, mm);
	__u64 rss = 0;

	if (mm)
		rss = oc_mm_rss(mm, 0) + oc_mm_rss(mm, 1) + oc_mm_rss(mm, 3);
	emit_victim(task_memcg_css(victim), BPF_CORE_READ(victim, tgid),
		    BPF_CORE_READ(victim, signal, oom_score_adj), rss, victim->comm, true, true,
		    NULL);
	return 0;
}

#define OC_SEEN_FRESH_NS (60ULL * 1000000000ULL)

/* Older kernels pass only the pid. A memcg OOM runs in the context of the task whose
 * charge failed, which is inside the OOMing cgroup, so its memcg names the cgroup. */
SEC("tracepoint/oom/mark_victim")
int oc_victim_tp(struct trace_event_raw_mark_victim *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 pid = BPF_CORE_READ(ctx, pid);
	bool self = (__u32)(bpf_get_current_pid_tgid() >> 32) == pid;
	__s32 adj = -1001;  /* unknown: userspace fills it from what it saw */

	if (bpf_core_field_exists(ctx->oom_score_adj))
		adj = BPF_CORE_READ(ctx, oom_score_adj);
	/* The current task is the one whose charge failed, in the memcg that OOMs or below
	 * it: the walk finds the cgroup at its limit from there as well. It is the victim's
	 * own memcg only if it is the victim; else the tasks map may know the victim's. */
	struct oc_task *seen = self ? NULL : bpf_map_lookup_elem(&tasks, &pid);

	/* Entries stay until the LRU evicts them: a pid reused, or a task moved since, would
	 * name the wrong cgroup. Only a task seen allocating within a minute, whose watched
	 * cgroup is still watched (an OOM victim is the task holding the most). */
	if (seen && (bpf_ktime_get_ns() - seen->last_ns > OC_SEEN_FRESH_NS ||
		     !watched_lookup(&seen->watched_id)))
		seen = NULL;
	emit_victim(task_memcg_css(task), pid, adj, 0, NULL, false, self, seen);
	return 0;
}

SEC("tp_btf/oom_score_adj_update")
int BPF_PROG(oc_score_adj, struct task_struct *task)
{
	__u32 tgid = BPF_CORE_READ(task, tgid);
	__s32 adj = BPF_CORE_READ(task, signal, oom_score_adj);
	struct oc_task *t = bpf_map_lookup_elem(&tasks, &tgid);
	struct oc_rec *r;

	if (t)
		t->oom_score_adj = adj;
	r = rec_reserve(OC_REC_SCORE_ADJ, bpf_ktime_get_ns());
	if (!r)
		return 0;
	r->pid = tgid;
	r->oom_score_adj = adj;
	r->cgroup_id = css_id(task_memcg_css(task));
	BPF_CORE_READ_STR_INTO(&r->comm, task, comm);
	bpf_ringbuf_submit(r, 0);
	return 0;
}

/* Optional (--task-rss): exact per-task RSS. Off by default: kmem/rss_stat fires once per
 * page faulted in, so it costs at least an empty program's worth per page again. */
SEC("tp_btf/rss_stat")
int BPF_PROG(oc_rss_stat, struct mm_struct *mm, int member)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct oc_task *t;

	/* The counter may be another process's: reclaim, khugepaged, the OOM reaper and
	 * process_madvise() change mms that are not their own. Keyed by the current tgid, only
	 * its own mm is its RSS. */
	if (mm != bpf_get_current_task_btf()->mm)
		return 0;
	t = bpf_map_lookup_elem(&tasks, &tgid);
	if (t && member >= 0 && member < 4)
		t->rss_pages[member & 3] = oc_mm_rss(mm, member);
	return 0;
}

/* Test entry points (BPF_PROG_TEST_RUN; never attached): feed synthetic input to the same
 * inline code the hooks run, in the context of the calling task. */
SEC("raw_tp")
int oc_test_page_alloc(__u64 *ctx)
{
	return on_page_alloc((unsigned int)ctx[0]);
}

SEC("raw_tp")
int oc_test_rate(__u64 *ctx)
{
	/* ctx: [0] credit, [1] now; state lives in the cgroup entry with id ctx[2]. */
	__u64 id = ctx[2];
	struct oc_cgroup *c = bpf_map_lookup_elem(&cgroups, &id);

	if (!c)
		return -1;
	rate_update(&c->rate_bps, &c->win_start_ns, &c->win_bytes, ctx[0], ctx[1]);
	return 0;
}
