/* trace.c: the bench's view of a record: replays it through the same engine `run` and
 * `replay` use, once per horizon, and prints every sample with the ETA each engine had
 * after it, plus each engine's events. bench/eval.py reads this; it is not installed.
 *
 * Output, one line each, space separated:
 *   A t cg path                                  a cgroup was added
 *   S t cg usage limit reclaimable anon krate src eta_1 .. eta_n   (inf: no ETA)
 *   V t cg pid                                   the OOM killer chose a victim
 *   O t cg under_oom oom_kills                   oom_control state changed
 *   E i kind t cg eta rate conf method           engine i's event (forecast, clear, ...)
 * Usage: trace H1[,H2...] FILE [FILE...] (several files replay as one history). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "record.h"

#define MAXH 8

static void on_event(const struct oc_event *ev, void *arg)
{
	int i = (int)(long)arg;

	if (ev->kind != EV_FORECAST && ev->kind != EV_CLEAR && ev->kind != EV_OOM_KILL &&
	    ev->kind != EV_STALL && ev->kind != EV_STALL_END)
		return;
	printf("E %d %s %.6f %llu %.6g %.6g %.3g %s\n", i, ev_kind_name(ev->kind), ev->time,
	       (unsigned long long)ev->cgroup_id, ev->eta_seconds, ev->rate_bps, ev->confidence,
	       ev->method ? ev->method : "-");
}

int main(int argc, char **argv)
{
	struct engine eng[MAXH];
	double hz[MAXH];
	int nh = 0, i, f, rc = 0;
	char *s, *tok;

	if (argc < 3) {
		fprintf(stderr, "usage: trace H1[,H2...] FILE [FILE...]\n");
		return 2;
	}
	s = strdup(argv[1]);
	for (tok = strtok(s, ","); tok && nh < MAXH; tok = strtok(NULL, ","))
		hz[nh++] = atof(tok);
	free(s);
	for (i = 0; i < nh; i++) {
		struct eng_params p = { 0 };

		fc_params_default(&p.fc, hz[i]);       /* as `run` and `replay` do */
		eng_init(&eng[i], &p, on_event, (void *)(long)i);
	}
	for (f = 2; f < argc; f++) {
		struct rec_reader *r;
		struct rec_header h;
		struct obs o;
		char err[256];
		int n;

		if (rec_open_read(&r, argv[f], &h, err, sizeof(err))) {
			fprintf(stderr, "trace: %s\n", err);
			return 1;
		}
		while ((n = rec_next(r, &o)) == 1) {
			for (i = 0; i < nh; i++)
				eng_feed(&eng[i], &o);
			switch (o.kind) {
			case OBS_CGROUP_ADD:
				printf("A %.6f %llu %s\n", o.t, (unsigned long long)o.cg, o.add.path);
				break;
			case OBS_SAMPLE:
				printf("S %.6f %llu %llu %llu %llu %llu %.0f %u", o.t,
				       (unsigned long long)o.cg, (unsigned long long)o.sample.usage,
				       (unsigned long long)o.sample.limit,
				       (unsigned long long)o.sample.reclaimable,
				       (unsigned long long)o.sample.anon, o.sample.kernel_rate,
				       o.sample.source);
				for (i = 0; i < nh; i++) {
					struct eng_cgroup *c = eng_find(&eng[i], o.cg);

					printf(" %.4g", c ? c->last.eta : INFINITY);
				}
				printf("\n");
				break;
			case OBS_VICTIM:
				printf("V %.6f %llu %u\n", o.t, (unsigned long long)o.cg, o.victim.pid);
				break;
			case OBS_OOM_STATE:
				printf("O %.6f %llu %u %llu\n", o.t, (unsigned long long)o.cg,
				       o.oom.under_oom, (unsigned long long)o.oom.oom_kills);
				break;
			}
		}
		if (n < 0) {
			fprintf(stderr, "trace: %s: %s\n", argv[f], rec_error(r));
			rc = 1;
		}
		rec_close_read(r);
	}
	for (i = 0; i < nh; i++)
		eng_free(&eng[i]);
	return rc;
}
