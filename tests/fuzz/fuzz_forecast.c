/* fuzz_forecast.c: libFuzzer target for the forecaster and the engine (tests/fuzz/run.sh):
 * any series of observations (times that stand still or leap, usage that jumps, limits of 0
 * or "none", reclaimable above usage, stale and fresh readings, PSI) must not crash, and
 * every verdict must be sane: an ETA that is +inf or finite and >= 0, a confidence in
 * [0, 1], a known method, a finite slope. The shape rules (least squares, the hinge's
 * suffix sums, the parabola's 3x3 solve, Theil-Sen over spans) meet inputs no test drew. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "forecast.h"

#define REC 12                  /* bytes per observation */

static const double horizons[] = { 5, 10, 30, 60 };

static void on_event(const struct oc_event *ev, void *arg)
{
	(void)arg;
	if (ev->kind == EV_FORECAST && !(ev->eta_seconds >= 0 && ev->confidence >= 0 &&
					 ev->confidence <= 1))
		abort();
}

static void check(const struct fc_result *r)
{
	if (isnan(r->eta) || r->eta < 0 || isnan(r->confidence) || r->confidence < 0 ||
	    r->confidence > 1 || (unsigned)r->mode > FC_ACCEL)
		abort();
	if (r->mode != FC_NONE && !isfinite(r->slope))
		abort();
}

static uint64_t limit_of(uint8_t sel, uint32_t usage_pages)
{
	switch (sel & 7) {
	case 0: return 0;                               /* no limit known */
	case 1: return UINT64_MAX;                      /* "max" */
	case 2: return (uint64_t)usage_pages * 4096;    /* at the limit */
	default: return (uint64_t)(sel >> 3) << 24;     /* 0 .. 496 MiB */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fc_state fs[4];
	struct fc_params fp[4];
	struct eng_params ep = { 0 };
	struct engine e;
	struct obs add = { .kind = OBS_CGROUP_ADD, .t = 0, .cg = 1 };
	double t = 0;
	uint8_t lsel = size ? data[0] : 3;
	size_t off;
	int i;

	for (i = 0; i < 4; i++) {
		fc_params_default(&fp[i], horizons[i]);
		fc_init(&fs[i]);
	}
	fc_params_default(&ep.fc, 30);
	eng_init(&e, &ep, on_event, NULL);
	add.add.version = CG_V2;
	eng_feed(&e, &add);
	for (off = 1; off + REC <= size; off += REC) {
		const uint8_t *p = data + off;
		uint16_t dt_ms, rec_frac;
		uint32_t pages;
		struct fc_input in = { 0 };
		struct obs o = { .kind = OBS_SAMPLE, .cg = 1 };

		memcpy(&dt_ms, p, 2);
		memcpy(&pages, p + 2, 4);
		memcpy(&rec_frac, p + 6, 2);
		t += dt_ms / 1000.0;
		in.t = t;
		in.usage = (uint64_t)pages * 4096;
		/* a limit that mostly stays put, as a cgroup's does, and sometimes changes */
		in.limit = limit_of(p[8] & 0x80 ? p[8] : lsel, pages);
		in.reclaimable = (uint64_t)((double)in.usage * rec_frac / 40000.0); /* up to 1.6 x */
		in.stale = p[9] & 1;
		in.psi_some = p[10] / 2.0;
		in.psi_full = p[11] / 2.0;
		for (i = 0; i < 4; i++) {
			struct fc_result r;

			fc_observe(&fs[i], &fp[i], &in, &r);
			check(&r);
		}
		o.t = t;
		o.sample.usage = in.usage;
		o.sample.limit = in.limit;
		o.sample.reclaimable = in.reclaimable;
		o.sample.source = in.stale ? SRC_KERNEL : SRC_POLL;
		o.sample.psi_some_avg10 = in.psi_some;
		eng_feed(&e, &o);
	}
	eng_free(&e);
	return 0;
}
