/* replay.h: `oomcast replay`: the engine run again over a record, plus the incident model
 * (per-cgroup series, markers, tasks, victims) that the summary and svg.c read. */
#ifndef OOMCAST_REPLAY_H
#define OOMCAST_REPLAY_H
#include <stdint.h>
#include "engine.h"
#include "record.h"

/* `oomcast replay FILE... [options]`; argv[0] is "replay". Returns the exit status. */
int replay_main(int argc, char **argv);

#define REPLAY_BUCKETS 400      /* time columns of a cgroup's timeline */
#define REPLAY_TASKS 16         /* tasks followed per cgroup (the biggest growers win) */
#define REPLAY_VICTIMS 8
#define REPLAY_RING 64          /* recent samples kept for the growth rate at the peak */
#define REPLAY_GROWTH_WINDOW 60.0

/* One time column: what the samples that fell in it looked like. */
struct replay_bucket {
	uint32_t n;                     /* samples in it; 0 = no data */
	uint64_t usage_min, usage_max;
	uint64_t risk_max;              /* usage - reclaimable: what reclaim cannot take back */
	uint64_t limit;                 /* the last limit seen in it */
	double eta;                     /* lowest finite forecast ETA in it, INFINITY if none */
};

struct replay_task {
	uint32_t pid;
	char comm[16];
	int32_t oom_score_adj;
	double first_t, last_t, max_rate;
	int64_t first_mapped, last_mapped;
	uint64_t first_rss, last_rss;
	float *val;                     /* [REPLAY_BUCKETS] bytes (rss, else mapped); NAN = none */
};

struct replay_victim {
	double t;
	struct obs_victim v;
};

struct replay_mark {
	double t;
	enum ev_kind kind;              /* EV_FORECAST, EV_CLEAR, EV_OOM_KILL, EV_STALL, EV_STALL_END */
	double eta, lead;
	uint32_t pid;
	char comm[16];
};

struct replay_cg {
	uint64_t id;
	char *path;
	uint8_t version;
	double t0, t1;                  /* the timeline's span (pass one); t1 <= t0: no timeline */
	double first_t, last_t;
	uint64_t nsamples;
	uint64_t peak_usage, peak_limit, last_limit, peak_reclaimable;
	uint64_t peak_swap, peak_swap_limit;    /* the most swap held, and what could be then */
	int seen_swap;                          /* a sample had swap or a swap limit */
	double peak_t, peak_growth;     /* bytes/s over REPLAY_GROWTH_WINDOW before the peak */
	double peak_growth_span;        /* ... the seconds of samples it was taken over */
	double first_forecast_t, first_forecast_eta, first_kill_t, first_stall_t;
	char first_method[16];
	int nforecasts, nclears, nkills, nstalls;
	struct { double t; uint64_t usage; } ring[REPLAY_RING];
	int nring;
	struct replay_bucket *buckets;  /* [REPLAY_BUCKETS] when a timeline is drawn */
	struct replay_task tasks[REPLAY_TASKS];
	int ntasks;
	struct replay_victim victims[REPLAY_VICTIMS];
	int nvictims, victims_dropped;
	struct replay_mark *marks;
	int nmarks, marks_cap;
	struct replay_cg *next;
};

struct replay_doc {
	struct rec_header h;
	const char *file;               /* the first in time */
	int nfiles;
	double horizon;
	double t_first, t_last;         /* over the whole replay */
	struct replay_cg *cgs;          /* in the order first announced */
	int ncgs;
};

/* A task's growth over the replay: rss if known, else net mapped bytes. */
int64_t replay_task_growth(const struct replay_task *t);

#endif
