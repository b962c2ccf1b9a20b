/* core_fixes.bpf.h: every CO-RE compatibility shim oomcast needs, one place, each naming
 * the kernel change it covers. Nothing else in bpf/ may read a field whose layout moved. */
#ifndef OOMCAST_CORE_FIXES_BPF_H
#define OOMCAST_CORE_FIXES_BPF_H

#include <vmlinux.h>
#include <bpf/bpf_core_read.h>

/* Linux 5.5 (commit 67c0496e87d1 "kernfs: convert kernfs_node->id from union kernfs_node_id
 * to u64") made kn->id a plain u64. Before it, id was a union whose .id member held the same
 * 64-bit value (ino in the low half). */
union kernfs_node_id___old {
	struct {
		u32 ino;
		u32 generation;
	};
	u64 id;
} __attribute__((preserve_access_index));

struct kernfs_node___old {
	union kernfs_node_id___old id;
} __attribute__((preserve_access_index));

static __always_inline u64 oc_kernfs_id(struct kernfs_node *kn)
{
	if (bpf_core_type_exists(union kernfs_node_id___old))
		return BPF_CORE_READ((struct kernfs_node___old *)kn, id.id);
	return BPF_CORE_READ(kn, id);
}

/* The same read as direct loads from a BTF pointer (tp_btf, or bpf_get_current_task_btf()):
 * one load, where BPF_CORE_READ costs a bpf_probe_read_kernel() call. The hot path's. */
static __always_inline u64 oc_kernfs_id_fast(struct kernfs_node *kn)
{
	if (bpf_core_type_exists(union kernfs_node_id___old))
		return ((struct kernfs_node___old *)kn)->id.id;
	return kn->id;
}

/* The memory controller's subsystem index differs with the kernel's config (which other
 * controllers are built in), so it is read from the running kernel's enum, not hard-coded. */
static __always_inline int oc_memory_cgrp_id(void)
{
	return bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
}

/* Linux 6.2 (commit f1a7941243c1 "mm: convert mm's rss stats into percpu_counter") made
 * mm->rss_stat an array of percpu_counter; before, it was struct mm_rss_stat with an
 * atomic_long_t count[] array. Both give an approximate page count, which is all we need. */
struct mm_rss_stat___old {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___old {
	struct mm_rss_stat___old rss_stat;
} __attribute__((preserve_access_index));

/* One counter, by a constant index: CO-RE relocates a constant index with the running
 * kernel's element size, where a variable one is scaled by this build's sizeof (40 bytes
 * of struct percpu_counter here; more with lock debugging, less without SMP or CPU hotplug). */
#define OC_MM_RSS_AT(mm, i)                                                                  \
	(bpf_core_type_exists(struct mm_rss_stat___old)                                      \
		 ? BPF_CORE_READ((struct mm_struct___old *)(mm), rss_stat.count[i].counter)  \
		 : BPF_CORE_READ((mm), rss_stat[i].count))

static __always_inline s64 oc_mm_rss(struct mm_struct *mm, int member)
{
	switch (member) {
	case 0: return OC_MM_RSS_AT(mm, 0);
	case 1: return OC_MM_RSS_AT(mm, 1);
	case 2: return OC_MM_RSS_AT(mm, 2);
	case 3: return OC_MM_RSS_AT(mm, 3);
	default: return 0;
	}
}

#endif
