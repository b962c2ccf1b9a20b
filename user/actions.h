/* actions.h: what oomcast does with an event besides printing it: webhooks (plain JSON or
 * Alertmanager), signals to the cgroup's tasks, and the Prometheus metrics endpoint. */
#ifndef OOMCAST_ACTIONS_H
#define OOMCAST_ACTIONS_H
#include <argp.h>
#include <stdint.h>
#include "engine.h"

/* Options of `oomcast run` that belong to actions; filled by act_argp (an argp child of the
 * run command: its input is a struct act_config *). */
struct act_config {
	int nwebhooks;
	const char *webhooks[16];
	const char *webhook_format;     /* "json" (default) or "alertmanager" */
	const char *webhook_secret_file;
	int signal;                     /* 0 = none */
	const char *signal_to;          /* "top" (default) or "all" */
	int signal_all_cgroups;
	const char *metrics_addr;       /* HOST:PORT or NULL */
	int explicit_cgroups;           /* set by the run command: --cgroup was given */
	double am_resend;               /* seconds between re-posts of an open Alertmanager
					   alert; 0: ACT_AM_RESEND (tests set it shorter) */
	int verbose;
};

extern const struct argp act_argp;

/* Daemon health the metrics show; filled by the daemon each tick. */
struct act_health {
	uint64_t rb_drops, samples;
	uint64_t events_total;
	double last_event_time;
	int nprogs;
	struct { const char *name; uint64_t run_cnt, run_time_ns; } progs[16];
};

struct actions;

/* Validate the config (e.g. --signal without --cgroup and without --signal-all-cgroups is
 * refused) and start what it needs (webhook threads, HTTP server). -errno + message. */
int act_init(struct actions **a, const struct act_config *cfg, char *err, size_t errlen);
/* An event from the engine. Never blocks: webhooks are queued, signals are cheap. */
void act_event(struct actions *a, const struct oc_event *ev);
/* Once per poll from the daemon's thread: the engine's state for the metrics. */
void act_tick(struct actions *a, const struct engine *e, const struct act_health *h);
/* Stop threads, flush what can be flushed within a short bound, free. */
void act_close(struct actions *a);

#endif
