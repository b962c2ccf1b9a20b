/* engine.h: the pure core shared by `run` and `replay`: a stream of observations in,
 * events out. Everything the daemon decides goes through here, so a record of the
 * observations replays to the very same events. No I/O, no clock, no globals. */
#ifndef OOMCAST_ENGINE_H
#define OOMCAST_ENGINE_H
#include <stdint.h>
#include <stddef.h>
#include "forecast.h"
#include "cgroup.h"

#define ENG_TOP_TASKS 5

/* ---- observations: what the sources saw (and what a record stores) ---- */
enum obs_kind {
	OBS_READY = 1,          /* the daemon is attached and watching */
	OBS_CGROUP_ADD = 2,     /* a cgroup is watched from now on */
	OBS_CGROUP_DEL = 3,     /* a cgroup went away */
	OBS_SAMPLE = 4,         /* usage/limit/reclaimable of a cgroup at a time */
	OBS_TASK = 5,           /* a task's growth in a cgroup */
	OBS_VICTIM = 6,         /* the OOM killer chose a task */
	OBS_OOM_STATE = 7,      /* oom_control / memory.events state */
	OBS_RECLAIM = 8,        /* the kernel reclaimed inside the cgroup at its limit */
	OBS_SCORE_ADJ = 9,      /* a task's oom_score_adj changed */
	OBS_END = 10,           /* the daemon stopped */
	OBS_NAMES = 11,         /* Kubernetes names found for a cgroup (kube.h) */
};

enum obs_source { SRC_POLL = 0, SRC_KERNEL = 1, SRC_TRIP = 2 };

struct obs_sample {
	uint64_t usage, limit, reclaimable, anon, high;
	double kernel_rate;     /* bytes/s from the BPF side, 0 if none */
	uint8_t source;         /* enum obs_source */
	/* memory.stat/memory.pressure evidence beyond the file LRU (0 where the version lacks
	 * it). There is no lazily-freed counter: MADV_FREE'd pages sit on the inactive file
	 * LRU, so they are in inactive_file and reclaimable already. */
	uint64_t workingset_refault;    /* cumulative file refaults, pages */
	uint64_t inactive_file;         /* bytes */
	double psi_some_avg10, psi_full_avg10;  /* v2 memory.pressure, percent; v1: 0 */
	/* Swap (struct cg_stat): what the cgroup holds in swap, and the most it can hold; both
	 * 0 on a host without swap. The forecast is of usage - reclaimable + swap meeting
	 * limit + swap_limit. */
	uint64_t swap, swap_limit;
};

struct obs_task {
	uint32_t pid;
	int32_t oom_score_adj;
	char comm[16];
	double rate;            /* allocation rate, bytes/s */
	int64_t mapped;         /* net mapped bytes (mmap - munmap + brk) */
	uint64_t rss;           /* bytes, 0 if unknown */
};

struct obs_victim {
	uint32_t pid;
	int32_t oom_score_adj;  /* -1001: unknown */
	char comm[16];
	uint64_t task_cgroup;   /* the victim's own memcg id */
	uint64_t rss;           /* bytes, 0 if unknown */
	uint64_t usage;
};

struct obs_oom_state {
	uint8_t under_oom, oom_kill_disable;
	uint64_t oom_kills, oom_events, high_events, max_events;
	double psi_full_avg10;
};

struct obs {
	uint8_t kind;           /* enum obs_kind */
	double t;               /* seconds since the Unix epoch */
	uint64_t cg;            /* cgroup id (0 for READY/END) */
	union {
		struct {
			uint8_t version;
			char path[CG_PATH_MAX];
			struct cg_kube_names names;     /* pod "" if none known yet */
		} add;
		struct obs_sample sample;
		struct obs_task task;
		struct obs_victim victim;
		struct obs_oom_state oom;
		struct {
			uint64_t count, usage;
		} reclaim;
		struct cg_kube_names names;
	};
};

/* ---- events: what the daemon says ---- */
enum ev_kind {
	EV_READY = 1, EV_FORECAST, EV_CLEAR, EV_OOM_KILL, EV_STALL, EV_STALL_END,
	EV_CGROUP_ADD, EV_CGROUP_DEL, EV_STOP,
};

struct ev_task {
	uint32_t pid;
	char comm[16];
	double rate;
	int64_t mapped;
	uint64_t rss;           /* bytes (--task-rss), 0 if not hooked */
	int32_t oom_score_adj;
};

struct oc_event {
	enum ev_kind kind;
	double time;
	uint64_t cgroup_id;
	const char *cgroup;             /* path; NULL for READY/STOP */
	const struct cg_labels *labels; /* NULL for READY/STOP */
	uint64_t usage_bytes, limit_bytes, reclaimable_bytes;
	uint64_t swap_bytes, swap_limit_bytes;  /* 0, 0 on a host without swap */
	double eta_seconds, rate_bps, confidence;
	const char *method;             /* fc_mode_name */
	int ntop;
	struct ev_task top[ENG_TOP_TASKS];
	/* oom_kill */
	uint32_t pid;
	char comm[16];
	int32_t oom_score_adj;          /* -1001 if unknown */
	double lead_seconds;            /* NAN if no forecast preceded it */
	uint64_t victim_rss;
	const char *victim_cgroup;      /* the victim's own watched cgroup where it is not this
					   one (the kill was for an ancestor's limit), else NULL */
	/* stall */
	const char *reason;
	int ncgroups;                   /* ready: cgroups watched */
};

typedef void (*eng_emit_fn)(const struct oc_event *ev, void *arg);

struct eng_params {
	struct fc_params fc;
	double stall_after;     /* seconds under_oom before `stall` (v1), 0 = at once */
	/* seconds within which a kill explains the rise of a kill count: at least the
	 * daemon's slowest re-read of a cgroup's files (0: that of the default --interval) */
	double kill_window;
};

/* The kill window of a daemon polling every `interval` seconds: one and a half times its
 * slowest re-read of a cgroup's files (a quiet one every 10 s, or the interval). */
#define ENG_QUIET_POLL 10.0
double eng_kill_window(double interval);

#define ENG_KILLS_KEPT 256      /* known kills, within twice the kill window */
#define ENG_KILL_LEVELS 8       /* watched cgroups one kill is counted in, at most */

/* The per-cgroup state the engine keeps; readable by the metrics endpoint. */
enum eng_cg_state { CG_OK = 0, CG_FORECAST = 1, CG_STALLED = 2 };

struct eng_cgroup {
	uint64_t id;
	char *path;                     /* malloc'd: a node has thousands of cgroups */
	struct cg_labels labels;
	uint8_t version;
	struct fc_state fc;
	struct fc_result last;
	struct obs_sample sample;       /* latest */
	double sample_t;
	enum eng_cg_state state;
	double forecast_t;              /* time of the episode's forecast, NAN if none */
	double forecast_eta;            /* the ETA that forecast gave */
	double last_forecast_t;         /* the most recent forecast (kept after clear) */
	double calm_since;              /* NAN, or when ETA went beyond clear threshold */
	/* A kill storm (a pre-fork server's children killed one by one): the forecast before
	 * its first kill, NAN once the storm is over (risk fell below ENG_STORM_LOW of the
	 * limit, a clear, or no kill within ENG_STORM_GAP) */
	double storm_forecast_t;
	double last_kill_t;
	struct obs_oom_state oom;
	int have_oom;
	/* The kernel's count of kills in this cgroup (oom_kill of memory.oom_control, of
	 * memory.events on v2, where it counts the cgroups below too) that known kills
	 * explain, and since when it has counted more: a kill whose victim was never seen
	 * (its hook missing or refused, its record lost) is still reported, ENG_VICTIM_WAIT
	 * after the count showed it. */
	uint64_t kills_counted;
	double unseen_kill_t;           /* the first read that showed the rise */
	double unseen_rise_t;           /* the last read that saw the count rise */
	uint64_t forecasts, kills, stalls, reclaims;
	struct obs_task tasks[32];
	double tasks_t[32];             /* when each was last seen allocating */
	int ntasks;
	struct eng_cgroup *next;        /* all cgroups, newest first */
	struct eng_cgroup *hnext;       /* same hash bucket */
};

#define ENG_BUCKETS 1024

struct engine {
	struct eng_params p;
	eng_emit_fn emit;
	void *emit_arg;
	struct eng_cgroup *cgroups;
	struct eng_cgroup *buckets[ENG_BUCKETS];        /* by id, for eng_find */
	int ncgroups;
	double now;
	/* every cgroup's, also those gone: a container's kill ends its cgroup (and its
	 * per-cgroup series) within a second, before a scrape may see it */
	uint64_t forecasts, kills, stalls;
	/* kills seen or reported within the kill window, and the cgroups whose counts they
	 * explained (unseen_kills) */
	struct eng_kill {
		double t;
		char *path;     /* the victim's cgroup, else the watched one above it named */
		uint64_t id;    /* ... its id */
		int reported;   /* 1: a rise reported (no victim seen) */
		uint64_t counted[ENG_KILL_LEVELS];      /* the counts it explained a rise of */
		int ncounted;
	} known[ENG_KILLS_KEPT];
	int nknown;
	/* pid -> oom_score_adj learnt from OBS_SCORE_ADJ, for victims reported without it */
	struct { uint32_t pid; int32_t adj; } adj[256];
	int nadj;
};

void eng_init(struct engine *e, const struct eng_params *p, eng_emit_fn emit, void *arg);
void eng_free(struct engine *e);
void eng_feed(struct engine *e, const struct obs *o);
struct eng_cgroup *eng_find(struct engine *e, uint64_t id);
/* The usage at which, at the current slope, the ETA would fall within the horizon (as a
 * forecast fires: fc_fire_eta): the in-kernel tripwire. 0 if no useful threshold. */
uint64_t eng_trip_bytes(const struct engine *e, const struct eng_cgroup *c);
/* The Unix time at which the cgroup's last ETA, counting down, meets fc_fire_eta: when its
 * forecast is due if nothing changes. INFINITY if none is coming (no trend, too little
 * confidence, an episode already open). */
double eng_forecast_due(const struct engine *e, const struct eng_cgroup *c);
/* The share of the time left after which the cgroup is worth reading again. */
#define ENG_FINE_SHARE 0.05
/* The Unix time at which the time left has shrunk by ENG_FINE_SHARE since the last fresh
 * reading (usage with memory.stat), if that comes within `within` seconds of it (INFINITY
 * if not, or if there is no ETA): observations that fine bound how late a forecast at any
 * horizon can be (5%), the one the daemon runs with and any other a replay of its record
 * is asked for, and how stale the ETA is when the kernel's samples carry no news. */
double eng_fine_due(const struct engine *e, const struct eng_cgroup *c, double within);
const char *ev_kind_name(enum ev_kind k);

#endif
