/* loader.h: the BPF side from userspace: mount tracefs/bpffs when missing, probe which
 * hooks this kernel has, load and attach the skeleton with fallbacks, pin the maps, and
 * give typed access to them. */
#ifndef OOMCAST_LOADER_H
#define OOMCAST_LOADER_H
#include <stdint.h>
#include <stddef.h>
#include <linux/types.h>
#include "oomcast.h"

struct ring_buffer;
struct oomcast;
struct bpf_link;

struct ld_opts {
	uint64_t sample_bytes;          /* power of two */
	int task_rss;                   /* attach kmem/rss_stat too */
	int verbose;
	const char *pin_dir;            /* NULL: do not pin */
	uint32_t ring_bytes;            /* ring buffer size, a power of two >= page; 0: 1 MiB */
	int memory_v1;                  /* the memory controller is on the v1 hierarchy */
	int classic_only;               /* no tp_btf programs (--classic-tracepoints) */
};

#define LD_MAX_HOOKS 12

struct ld_hook {
	const char *name;               /* what the user reads: "mm_page_alloc" */
	const char *how;                /* "tp_btf", "tracepoint", "disabled" */
	char why[160];                  /* why disabled, or which variant and why */
	int prog_fd;
	const char *prog_name;
};

struct loader {
	struct oomcast *skel;
	struct bpf_link *links[LD_MAX_HOOKS];
	int nlinks;
	struct ld_hook hooks[LD_MAX_HOOKS];
	int nhooks;
	int cgroups_fd, trips_fd, tasks_fd, health_fd, events_fd;
	int ncpus;
	char pin_dir[256];
	int pin_lock_fd;
	int mounted_tracefs, mounted_bpffs;
	uint16_t *filter_refs;          /* watched cgroups per bit of the BPF side's filter */
	/* programs the kernel refused to load: their hooks fall back or go without */
	char refused[LD_MAX_HOOKS][64];
	int nrefused;
};

/* Everything up to attached programs and pinned maps. On failure returns -errno with a
 * sentence in err, and leaves nothing behind. */
int ld_open(struct loader *l, const struct ld_opts *o, char *err, size_t errlen);
/* Detach, unpin, unmount what ld_open mounted, free. Safe on a zeroed loader. */
void ld_close(struct loader *l);

int ld_watch(struct loader *l, uint64_t cgroup_id);
int ld_unwatch(struct loader *l, uint64_t cgroup_id);
int ld_set_trip(struct loader *l, uint64_t cgroup_id, uint64_t bytes);
int ld_read_cgroup(struct loader *l, uint64_t cgroup_id, struct oc_cgroup *out);
/* Sum of the per-CPU health counters. */
int ld_health(struct loader *l, uint64_t *samples, uint64_t *rb_drops);

/* Make sure a filesystem is mounted at target (mounting it when missing). Returns 1 if
 * it mounted it, 0 if it was there, -errno on failure. */
int ld_ensure_mount(const char *target, const char *fstype, long magic);

#endif
