/* test_forecast.c: the forecaster and the engine on synthetic series: a steady leak fires
 * about a horizon ahead, stationary shapes (sawtooth, page cache, noise) never fire after
 * the warm-up, a rising sawtooth and a burst are caught, and the engine's episodes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "test.h"
#include "engine.h"
#include "forecast.h"

#define MB 1000000.0

typedef double (*shape_fn)(double t, void *arg);

struct run {
	double first_fire;      /* the first eta <= horizon, confident, after warmup; NAN if none */
	double exhaust;         /* first time risk >= limit, NAN if never */
	double max_eta_err;     /* max |eta - true| / true after the first fire (steady leaks) */
	double max_late;        /* max (eta - time left) / time left from the first fire to 2 s
				   before the exhaustion, as the bench scores it; 0 if never */
};

/* Feed shape(t) as risk (reclaimable given separately) every dt until t_end. */
static struct run drive(shape_fn risk_fn, shape_fn cache_fn, void *arg, double limit,
			double horizon, double dt, double t_end, double warmup, double slope)
{
	static double ts[200000], etas[200000];
	struct fc_params p;
	struct fc_state s;
	struct run r = { NAN, NAN, 0, 0 };
	double t;
	int n = 0;

	fc_params_default(&p, horizon);
	fc_init(&s);
	for (t = 0; t <= t_end; t += dt) {
		double risk = risk_fn(t, arg), cache = cache_fn ? cache_fn(t, arg) : 0;
		struct fc_input in = { t, (uint64_t)(risk + cache), (uint64_t)limit, (uint64_t)cache, 0, 0, 0, 0 };
		struct fc_result out;

		if (risk >= limit) {
			r.exhaust = t;
			break;
		}
		fc_observe(&s, &p, &in, &out);
		if (t >= warmup && out.mode != FC_NONE && out.eta <= horizon &&
		    out.confidence >= p.min_confidence && isnan(r.first_fire))
			r.first_fire = t;
		if (!isnan(r.first_fire) && slope > 0) {
			double truth = (limit - risk) / slope;

			if (truth > 1)
				r.max_eta_err = fmax(r.max_eta_err, fabs(out.eta - truth) / truth);
		}
		if (!isnan(r.first_fire) && n < 200000)
			ts[n] = t, etas[n++] = out.eta;
	}
	for (int i = 0; i < n; i++)
		if (r.exhaust - ts[i] >= 2)
			r.max_late = fmax(r.max_late, (etas[i] - (r.exhaust - ts[i])) / (r.exhaust - ts[i]));
	return r;
}

static double leak(double t, void *arg) { return 10 * MB + *(double *)arg * t; }

static void test_steady_leak_fires_a_horizon_ahead(void)
{
	double rates[] = { 1 * MB, 10 * MB, 200 * MB };
	double horizons[] = { 5, 30, 60 };

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++) {
			double rate = rates[i], h = horizons[j], limit = 10 * MB + rate * (h * 3 + 20);
			struct run r = drive(leak, NULL, &rate, limit, h, 0.1, 1e4, 0, rate);
			double lead = r.exhaust - r.first_fire;

			ASSERT_TRUE(!isnan(r.first_fire), "fired");
			ASSERT_RANGE(lead, 0.9 * h, 1.1 * h, "lead / horizon");
			ASSERT_RANGE(r.max_eta_err, 0, 0.2, "eta error after firing");
		}
}

/* usage = 10 MB + v t + a t^2 / 2: at a steady pace the line would fire late */
struct acc { double v, a; };

static double accel(double t, void *arg)
{
	struct acc *c = arg;

	return 10 * MB + c->v * t + c->a * t * t / 2;
}

static void test_accelerating_leak_fires_a_horizon_ahead(void)
{
	struct acc shapes[] = { { 0.5 * MB, 0.5 * MB }, { 2 * MB, 0.2 * MB }, { 10 * MB, 4 * MB } };
	double horizons[] = { 5, 30, 60 };

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++) {
			struct acc c = shapes[i];
			double h = horizons[j], tk = 3 * h + 20;     /* exhausted at tk */
			double limit = accel(tk, &c);
			struct run r = drive(accel, NULL, &c, limit, h, 0.1, 1e4, 0, 0);

			ASSERT_TRUE(!isnan(r.first_fire), "fired");
			ASSERT_RANGE(r.exhaust - r.first_fire, 0.9 * h, 1.2 * h, "lead / horizon");
		}
}

/* The daemon's mix of inputs: a poll (usage and memory.stat) every second, kernel samples
 * (usage only, the last poll's reclaimable) ten times a second in between. */
static void feed_mixed(struct fc_state *s, const struct fc_params *p, double t, double anon,
		       double cache, double limit, double *polled_cache, struct fc_result *out)
{
	int poll = fmod(t + 1e-9, 1.0) < 0.05;
	struct fc_input in = { t, (uint64_t)(anon + cache), (uint64_t)limit, 0, 0, !poll, 0, 0 };

	if (poll)
		*polled_cache = cache;
	in.reclaimable = (uint64_t)fmin(*polled_cache, anon + cache);
	fc_observe(s, p, &in, out);
}

static void test_cache_growth_between_polls_is_not_risk(void)
{
	double limit = 256 * MB, polled = 0, t;
	struct fc_params p;
	struct fc_state s;
	struct fc_result out;
	int fired = 0;

	fc_params_default(&p, 30);
	fc_init(&s);
	/* a reader fills the cache at 100 MB/s after 3 s of a small steady process */
	for (t = 0; t < 30; t += 0.1) {
		double cache = fmin(fmax(t - 3, 0) * 100 * MB, limit - 20 * MB);

		feed_mixed(&s, &p, t, 20 * MB, cache, limit, &polled, &out);
		fired |= t > 4.5 && out.mode != FC_NONE && out.eta <= p.horizon;
	}
	ASSERT_TRUE(!fired, "no forecast while the page cache fills");
}

/* The daemon's reads as run.c makes them: memory.stat (with usage) on each 1-s tick, and
 * again when a kernel sample finds usage moved by more than 1% of the limit and the last
 * read is 0.25 s old; other samples are the kernel's, usage only, with the last read's
 * reclaimable. */
struct reads {
	double last_t, last_usage, last_cache, next_tick;
};

static void feed_reads(struct reads *r, struct fc_state *s, const struct fc_params *p,
		       double t, double anon, double cache, double limit, struct fc_result *out)
{
	double usage = anon + cache;
	int read = t >= r->next_tick ||
		   (t - r->last_t >= 0.25 && fabs(usage - r->last_usage) > limit / 100);
	struct fc_input in = { t, (uint64_t)usage, (uint64_t)limit, 0, 0, !read, 0, 0 };

	if (t >= r->next_tick)
		r->next_tick += 1;
	if (read)
		r->last_t = t, r->last_usage = usage, r->last_cache = cache;
	in.reclaimable = (uint64_t)fmin(r->last_cache, usage);
	fc_observe(s, p, &in, out);
}

/* A process starts in a new, empty cgroup and streams a file through it: 1 MB of its own
 * in the first 0.1 s, then page cache at rate until the limit holds it, read as run.c reads
 * it (the first read finds the cgroup empty), with kernel samples every 50 ms. Returns 1 if
 * anything would have raised a forecast. */
static int startup_cache_fires(double rate, double phase)
{
	double limit = 64 * 1048576.0, t;
	struct reads r = { -1e9, 0, 0, 0 };
	struct fc_params p;
	struct fc_state s;
	struct fc_result out;

	fc_params_default(&p, 10);
	fc_init(&s);
	for (t = 0; t < 20; t += 0.05) {
		double run = fmax(t - phase, 0);
		double anon = fmin(run / 0.1, 1) * 1.1 * MB;
		double cache = fmin(fmax(run - 0.1, 0) * rate, limit - anon - 0.1 * MB);

		feed_reads(&r, &s, &p, t, anon, cache, limit, &out);
		if (out.mode != FC_NONE && out.eta <= p.horizon && out.confidence >= p.min_confidence)
			return 1;
	}
	return 0;
}

/* The VM's flake (6.1, cgroup v2): half a second after start-up, 3 MB of risk growing at
 * 6.6 MB/s (the split learned from the process's own first megabyte and the cache with it,
 * applied to the cache that followed) made a line that promised the 64 MiB limit in 9.7 s. */
static void test_startup_in_an_empty_cgroup_never_fires(void)
{
	int fired = 0;

	for (double rate = 50 * MB; rate <= 400 * MB; rate *= 2)
		for (double phase = 0; phase < 0.25; phase += 0.01)
			fired += startup_cache_fires(rate, phase);
	ASSERT_EQ(fired, 0, "start-up runs (of 100) that raised a forecast");
}

/* The daemon reads memory.stat faster while the forecaster cannot tell cache from risk
 * between reads: a new, empty cgroup, until two changes taught it; a cgroup that starts with
 * memory in it has its make-up as the first guess. */
static void test_split_known_after_two_changes(void)
{
	double limit = 100 * MB;
	struct fc_params p;
	struct fc_state s;
	struct fc_result out;
	struct fc_input in = { 0, 0, (uint64_t)limit, 0, 0, 0, 0, 0 };

	fc_params_default(&p, 10);
	fc_init(&s);
	ASSERT_TRUE(!fc_split_known(&s), "unknown before any reading");
	fc_observe(&s, &p, &in, &out);                  /* empty */
	ASSERT_TRUE(!fc_split_known(&s), "unknown for an empty cgroup");
	in.t = 0.25, in.usage = (uint64_t)(5 * MB);
	fc_observe(&s, &p, &in, &out);                  /* one change */
	ASSERT_TRUE(!fc_split_known(&s), "unknown after one change");
	in.t = 0.5, in.usage = (uint64_t)(10 * MB);
	fc_observe(&s, &p, &in, &out);                  /* two */
	ASSERT_TRUE(fc_split_known(&s), "known after two changes");
	fc_init(&s);
	in.t = 0, in.usage = (uint64_t)(20 * MB), in.reclaimable = (uint64_t)(5 * MB);
	fc_observe(&s, &p, &in, &out);
	ASSERT_TRUE(fc_split_known(&s), "a cgroup with memory in it: its make-up");
}

/* A cgroup streamed page cache to 40% of its limit for 10 s, then sat still; at 20 s its
 * task fills the rest with anonymous memory in 1 to 3 s, read as run.c reads it. The
 * share learned from the cache stream must not hold the burst's kernel samples back: the
 * burst is a new run of growth (a quiet reading came between), and its first reading's
 * share stands alone. Held to the smaller of the cache's share and the burst's, the kernel
 * samples stayed flat for a reading and the lead fell to 0.4 s (one start missed). */
static void test_burst_after_a_cache_stream_went_quiet(void)
{
	double limit = 256 * 1048576.0, worst = INFINITY;
	int missed = 0;

	for (double fill = 1; fill <= 3; fill++)
		for (double ph = 0; ph < 0.999; ph += 0.05) {
			double t, fire = NAN, kill = NAN, start = 20 + ph;
			struct reads r = { -1e9, 0, 0, 0 };
			struct fc_params p;
			struct fc_state s;
			struct fc_result out;

			fc_params_default(&p, 30);
			fc_init(&s);
			for (int i = 0; i < 400 && isnan(kill); i++) {
				double anon = 0.05 * limit, cache = fmin(i * 0.01, 1) * 0.4 * limit;

				t = i * 0.1 + 0.0123;
				if (t > start)
					anon += (limit - anon) * fmin((t - start) / fill, 1);
				cache = fmin(cache, fmax(limit - anon, 0));
				if (anon >= 0.999 * limit) {
					kill = t;
					break;
				}
				feed_reads(&r, &s, &p, t, anon, cache, limit, &out);
				if (isnan(fire) && out.mode != FC_NONE && out.eta <= p.horizon &&
				    out.confidence >= p.min_confidence)
					fire = t;
			}
			if (isnan(fire) || isnan(kill) || fire < start)
				missed++;
			else
				worst = fmin(worst, kill - fire);
		}
	ASSERT_EQ(missed, 0, "bursts missed or forecast before they began (of 60)");
	ASSERT_RANGE(worst, 0.7 - 1e-9, 1e9, "shortest lead");
}

/* Long horizons: the trend window stops growing at 30 s, and a full window is a trend for
 * any horizon. With its reach held to five times its span, a steady leak at H=600 was
 * forecast with 506 s left. */
static void test_steady_leak_at_long_horizons(void)
{
	double limit = 1e9, horizons[] = { 300, 600, 900 };
	int off = 0;

	for (int j = 0; j < 3; j++)
		for (int seed = 1; seed <= 40; seed++) {  /* 40 paces, each with its own noise */
			double h = horizons[j], left = NAN;
			double rate = 0.9 * limit / (4 * h + 100) * (0.8 + seed * 0.01);
			struct fc_params p;
			struct fc_state s;
			struct fc_result out;

			srand(seed);
			fc_params_default(&p, h);
			fc_init(&s);
			for (double t = 0; isnan(left); t += 1) {
				double r = 0.1 * limit + rate * t +
					   0.002 * limit * (rand() / (double)RAND_MAX - 0.5);
				struct fc_input in = { t, (uint64_t)r, (uint64_t)limit, 0, 0, 0, 0, 0 };

				if (r >= limit)
					break;
				fc_observe(&s, &p, &in, &out);
				if (out.mode != FC_NONE && out.eta <= h &&
				    out.confidence >= p.min_confidence)
					left = (limit - r) / rate;
			}
			off += !(left >= 0.9 * h && left <= 1.2 * h);
		}
	ASSERT_EQ(off, 0, "leaks (of 120) first forecast outside 0.9-1.2 x the horizon");
}

static void test_anon_leak_under_full_cache_between_polls(void)
{
	double limit = 400 * MB, polled = 0, t, first = NAN, kill = NAN;
	double truth = (limit - 20 * MB) / (4 * MB);
	struct fc_params p;
	struct fc_state s;
	struct fc_result out;

	fc_params_default(&p, 10);
	fc_init(&s);
	/* usage pinned at the limit: 4 MB/s of anon displaces the cache, which only a poll
	 * sees; kernel samples in between carry no news but the ETA must keep counting down */
	for (t = 0; t < 200; t += 0.1) {
		double anon = 20 * MB + 4 * MB * t, cache = limit - anon;

		if (cache <= 0) {
			kill = t;
			break;
		}
		feed_mixed(&s, &p, t, anon, cache, limit, &polled, &out);
		if (isnan(first) && out.mode != FC_NONE && out.eta <= p.horizon)
			first = t;
		if (!isnan(first) && truth - t >= 2)     /* the ETA counts down with the truth */
			ASSERT_RANGE(out.eta / (truth - t), 0.8, 1.2, "eta / true remaining");
	}
	ASSERT_TRUE(!isnan(first) && !isnan(kill), "fired and exhausted");
	ASSERT_RANGE(kill - first, 0.9 * p.horizon, 1.2 * p.horizon, "lead");
}

struct saw { double floor, peak, rate, rise; };

/* Grows at rate from floor to peak, drops back at once; peaks rise by `rise` each cycle. */
static double sawtooth(double t, void *arg)
{
	struct saw *s = arg;
	double floor = s->floor, peak = s->peak;

	for (;;) {
		double leg = (peak - floor) / s->rate;

		if (t < leg)
			return floor + s->rate * t;
		t -= leg;
		floor += s->rise / 2;
		peak += s->rise;
	}
}

static void test_stationary_sawtooth_90pct_never_fires(void)
{
	double limit = 1000 * MB;
	struct saw shapes[] = {
		{ 450 * MB, 900 * MB, 50 * MB, 0 },     /* 9 s teeth */
		{ 450 * MB, 900 * MB, 200 * MB, 0 },    /* fast GC */
		{ 300 * MB, 880 * MB, 20 * MB, 0 },     /* slow: 29 s teeth */
	};

	for (unsigned i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		/* warm-up: the first tooth is indistinguishable from a leak until it drops */
		double warm = (shapes[i].peak - shapes[i].floor) / shapes[i].rate + 1;
		struct run r = drive(sawtooth, NULL, &shapes[i], limit, 30, 0.1, 300, warm, 0);

		ASSERT_TRUE(isnan(r.first_fire), "no forecast on a stationary sawtooth");
		if (!isnan(r.first_fire))
			fprintf(stderr, "  shape %u fired at t=%.1f\n", i, r.first_fire);
	}
}

static void test_rising_sawtooth_is_caught(void)
{
	double limit = 1000 * MB, h = 30;
	struct saw s = { 300 * MB, 500 * MB, 50 * MB, 40 * MB };
	struct run r = drive(sawtooth, NULL, &s, limit, h, 0.1, 2000, 0, 0);

	ASSERT_TRUE(!isnan(r.exhaust), "exhausted");
	ASSERT_TRUE(!isnan(r.first_fire), "fired");
	ASSERT_RANGE(r.exhaust - r.first_fire, 0.5 * h, 1e9, "lead");
}

/* 100 MB teeth every 2 s (rising for 1.8 s), on a 1 MB/s leak, from 100 MB. */
static double young_saw(double t, void *arg)
{
	double ph = fmod(t, 2.0);

	(void)arg;
	return 100 * MB + 1 * MB * t + (ph < 1.8 ? 100 * MB * ph / 1.8 : 0);
}

/* A rising sawtooth whose peaks meet the limit one horizon (60 s) after its first tooth:
 * a cycle is not extrapolated beyond five times the time its peaks span until it has 16,
 * so the first forecast waits for 12 s of peaks. That costs lead (here 59.8 s before the
 * rule, 57.8 s with it; 51.9 s at another phase of the teeth); not more than a fifth of
 * the horizon. */
static void test_young_rising_sawtooth_forecast_soon_enough(void)
{
	double h = 60, limit = 200 * MB + 1 * MB * h;
	struct run r = drive(young_saw, NULL, NULL, limit, h, 0.1, 200, 3, 0);

	ASSERT_TRUE(!isnan(r.exhaust), "exhausted");
	ASSERT_TRUE(!isnan(r.first_fire), "fired");
	ASSERT_RANGE(r.exhaust - r.first_fire, 0.8 * h, 1.2 * h, "lead");
}

static double cache_full(double t, void *arg) { (void)t; return *(double *)arg; }
static double small_anon(double t, void *arg) { (void)arg; return 5 * MB + 0.5 * MB * sin(t); }

static void test_page_cache_at_limit_never_fires(void)
{
	double cache = 95 * MB;
	struct run r = drive(small_anon, cache_full, &cache, 100 * MB, 30, 0.1, 200, 0, 0);

	ASSERT_TRUE(isnan(r.first_fire), "no forecast for page cache");
}

static double noisy_flat(double t, void *arg)
{
	(void)arg;
	/* deterministic pseudo-noise of +-1% around 95% of the limit */
	return 95 * MB + 1 * MB * sin(t * 7.3) * cos(t * 3.1);
}

static void test_noise_near_limit_never_fires(void)
{
	struct run r = drive(noisy_flat, NULL, NULL, 100 * MB, 30, 0.1, 300, 10, 0);

	ASSERT_TRUE(isnan(r.first_fire), "no forecast on a noisy plateau");
}

static double burst(double t, void *arg)
{
	double start = *(double *)arg;

	return t < start ? 20 * MB : 20 * MB + 40 * MB * (t - start);   /* fills in 2 s */
}

static void test_burst_is_caught_early(void)
{
	double start = 30;
	struct run r = drive(burst, NULL, &start, 100 * MB, 5, 0.1, 100, 0, 0);

	ASSERT_TRUE(!isnan(r.first_fire), "fired");
	ASSERT_RANGE(r.exhaust - r.first_fire, 0.7, 1e9, "lead");
}

/* ---- the engine's episodes ---- */

static struct oc_event got[64];
static int ngot;

static void collect(const struct oc_event *ev, void *arg)
{
	(void)arg;
	if (ngot < 64)
		got[ngot++] = *ev;
}

static void feed_sample_cg(struct engine *e, uint64_t cg, double t, double usage, double limit)
{
	struct obs o = { .kind = OBS_SAMPLE, .t = t, .cg = cg };

	o.sample.usage = (uint64_t)usage;
	o.sample.limit = (uint64_t)limit;
	eng_feed(e, &o);
}

static void feed_sample(struct engine *e, double t, double usage, double limit)
{
	feed_sample_cg(e, 7, t, usage, limit);
}

static int count(enum ev_kind k)
{
	int n = 0;

	for (int i = 0; i < ngot; i++)
		n += got[i].kind == k;
	return n;
}

/* An engine at horizon h watching one v1 cgroup (id 7), its events collected in got[]. */
/* The ETA at which a forecast at horizon h fires (the horizon and its margin). */
static double fire_eta(double h)
{
	struct fc_params p;

	fc_params_default(&p, h);
	return fc_fire_eta(&p);
}

static void engine_start(struct engine *e, double h)
{
	struct eng_params p = { 0 };
	struct obs add = { .kind = OBS_CGROUP_ADD, .t = 0, .cg = 7 };

	fc_params_default(&p.fc, h);
	eng_init(e, &p, collect, NULL);
	ngot = 0;
	snprintf(add.add.path, sizeof(add.add.path), "/sys/fs/cgroup/memory/x");
	add.add.version = CG_V1;
	eng_feed(e, &add);
}

/* Requests near the limit: 2 MB allocated, held 0.1-0.6 s, freed, idle 0.1-1 s, on top of
 * 123.6 of 128 MiB (a reviewer's workload: four false forecasts at H=10 in 110 s). Sampled
 * about 3 times a second in stretches of 1-3 s that land only on the troughs, or (30%) only
 * on the tops, as the daemon's reads may for seconds at a time. 60 random sequences at each
 * of four horizons: before the old-ground rule 224 of the 240 raised a forecast after a
 * 10 s warm-up; with it 44 (the first top sampled after long stretches of troughs looks
 * like a step that holds). The same wave over a leak that brings a top to the limit after
 * 3 H + 60 s is caught at least half a horizon ahead as often as before the rule. With PSI
 * some at 3% (v2: the requests reclaim as they come) 52 of 240 (a review found 235 while
 * pressure's boost came after the rule's cut). Bound: a quarter of the runs. */
static unsigned sq_seed;

static double sq_rand(void)
{
	sq_seed = sq_seed * 1103515245u + 12345u;
	return ((sq_seed >> 16) & 0x7fff) / 32768.0;
}

static void test_requests_near_limit_sampled_unevenly(void)
{
	double limit = 128 * MB, horizons[] = { 5, 10, 30, 60 };

	for (int psi = 0; psi <= 3; psi += 3) {     /* v1; v2 with PSI some at 3% */
	int false_alarms = 0, late = 0, runs = 0;	/* runs: of each kind */

	for (int seed = 1; seed <= 60; seed++)
		for (int j = 0; j < 4; j++)
			for (int leak = 0; leak < 2; leak++) {
				double h = horizons[j], t = 0, up_until = 0, next_up = 0.5, stretch_end = 0;
				/* the leak: a top meets the limit after 3 H + 60 s */
				double base = leak ? 100 * MB : 123.6 * MB, kill = NAN, fc = NAN;
				double rate = leak ? (limit - 2 * MB - base) / (3 * h + 60) : 0;
				int tops = 0;
				struct engine e;

				sq_seed = (unsigned)(seed * 7919 + j);
				engine_start(&e, h);
				for (t = 0; t < 300; t += 0.01) {
					double top, usage;

					if (t >= next_up) {             /* a request: 2 MB for 0.1-0.6 s */
						up_until = t + 0.1 + 0.5 * sq_rand();
						next_up = up_until + 0.1 + 0.9 * sq_rand();
					}
					top = base + rate * t + 2 * MB;
					usage = base + rate * t + (t < up_until ? 2 * MB : 0);
					if (top >= limit) {
						kill = t;
						break;
					}
					if (t >= stretch_end) {         /* a stretch of one-sided samples */
						tops = sq_rand() < 0.3;
						stretch_end = t + 1 + 2 * sq_rand();
					}
					if ((t < up_until) == tops && sq_rand() < 0.03)
						eng_feed(&e, &(struct obs){ .kind = OBS_SAMPLE, .t = t, .cg = 7,
							.sample = { .usage = (uint64_t)usage, .limit = (uint64_t)limit,
								    .psi_some_avg10 = psi } });
				}
				for (int i = 0; i < ngot; i++)
					if (got[i].kind == EV_FORECAST && isnan(fc) &&
					    (leak || got[i].time >= 10))
						fc = got[i].time;
				eng_free(&e);
				runs += !leak;
				if (!leak)
					false_alarms += !isnan(fc);

				else
					late += isnan(fc) || isnan(kill) || kill - fc < 0.5 * h;
			}
	printf("# PSI some %d%%: %d false alarms and %d late or missed leaks in %d runs\n", psi,
	       false_alarms, late, runs);
	ASSERT_RANGE(false_alarms, 0, runs / 4, "forecasts where nothing grows: at most one run in 4");
	ASSERT_RANGE(late, 0, runs / 16, "leaks under the same wave late or missed: at most 1 in 16");
	}
}

/* ---- evidence beyond the file LRU (fresh readings once a second) ---- */
struct ev { double anon, cache, inactive, refault_pps, psi; };

/* Feed `secs` seconds of fresh readings (refault_pps and inactive describe the cache; the
 * forecaster does not use them, see forecast.c). Returns the last verdict; *fired says
 * whether any forecast came. */
static struct fc_result feed_ev(struct fc_state *s, const struct fc_params *p, double limit,
				double t0, double secs, const struct ev *e, double anon_rate,
				int *fired)
{
	struct fc_result out = { 0 };
	double t;

	for (t = t0; t < t0 + secs; t += 1) {
		double anon = e->anon + anon_rate * t;
		struct fc_input in = { t, (uint64_t)(anon + e->cache), (uint64_t)limit,
				       (uint64_t)e->cache, 0, 0, e->psi, 0 };

		fc_observe(s, p, &in, &out);
		*fired |= out.mode != FC_NONE && out.eta <= p->horizon;
	}
	return out;
}

/* A cache refaulted at its own size per second and active: a file re-read in a loop
 * through a cgroup smaller than it looks exactly like this, and reclaim can still take it
 * back, so it stays reclaimable (a discount for refaulted active cache was measured to
 * raise false forecasts on page cache in the bench). A slow anon leak next to it is minutes
 * away, not within the horizon. */
static void test_refaulted_active_cache_stays_reclaimable(void)
{
	double limit = 256 * MB, cache = 150 * MB;
	struct ev e = { 80 * MB, cache, 2 * MB, cache / 4096, 0 };
	struct fc_params p;
	struct fc_state s;
	struct fc_result out;
	int fired = 0;

	fc_params_default(&p, 30);
	fc_init(&s);
	out = feed_ev(&s, &p, limit, 0, 30, &e, 0.5 * MB, &fired);
	ASSERT_RANGE(out.risk, e.anon, e.anon + 16 * MB, "refaulted cache is not risk");
	ASSERT_TRUE(!fired, "no forecast");
}

/* A stream through a file larger than the limit refaults as fast (every page is evicted
 * before its next read) but its pages stay inactive: page cache at 100% raises nothing. */
static void test_streaming_refaults_stay_reclaimable(void)
{
	double limit = 256 * MB, cache = 236 * MB;
	struct ev e = { 20 * MB, cache, cache - 0.2 * MB, 600000, 0 };    /* 2.4 GB/s */
	struct fc_params p;
	struct fc_state s;
	struct fc_result out;
	int fired = 0;

	fc_params_default(&p, 30);
	fc_init(&s);
	out = feed_ev(&s, &p, limit, 0, 60, &e, 0, &fired);
	ASSERT_RANGE(out.risk, e.anon, e.anon + 0.3 * MB, "a streamed cache is reclaimable");
	ASSERT_TRUE(!fired, "no forecast for a stream");

	/* and an anon leak under that full, streamed cache is still caught (a minute ahead) */
	e.anon = 60 * MB, e.cache = 150 * MB, e.inactive = e.cache - 0.2 * MB;
	fired = 0;
	fc_params_default(&p, 60);
	fc_init(&s);
	feed_ev(&s, &p, limit, 0, 14, &e, 3 * MB, &fired);
	ASSERT_TRUE(fired, "anon leak under a streamed cache is forecast");
}

/* PSI some that is non-zero and not falling, with usage at the limit, is evidence of real
 * pressure: the ETA's confidence is combined with it. Away from the limit, or falling, it
 * changes nothing. */
static void test_pressure_at_limit_raises_confidence(void)
{
	double limit = 256 * MB;
	struct fc_params p;
	struct fc_state a, b;
	struct fc_result plain, pressed;
	int fired = 0;
	/* a leak within 3% of the limit whose cache is almost gone: usage at the limit */
	struct ev e = { 240 * MB, 10 * MB, 5 * MB, 0, 0 }, ep = e;

	fc_params_default(&p, 30);
	fc_init(&a);
	fc_init(&b);
	feed_ev(&a, &p, limit, 0, 3, &e, 0.2 * MB, &fired);
	feed_ev(&b, &p, limit, 0, 3, &e, 0.2 * MB, &fired);
	plain = feed_ev(&a, &p, limit, 3, 1, &e, 0.2 * MB, &fired);
	ep.psi = 10;                   /* 10% stalled: even evidence, p = 0.5 */
	pressed = feed_ev(&b, &p, limit, 3, 1, &ep, 0.2 * MB, &fired);
	ASSERT_TRUE(plain.mode != FC_NONE && plain.confidence < 1, "a young trend, unsure");
	ASSERT_RANGE(pressed.confidence, 1 - (1 - plain.confidence) * 0.5 - 1e-9,
		     1 - (1 - plain.confidence) * 0.5 + 1e-9, "confidence combined with PSI");
	ASSERT_RANGE(pressed.eta, plain.eta - 1e-9, plain.eta + 1e-9, "the ETA is the same");

	/* falling PSI is a passing stall, not evidence */
	ep.psi = 5;
	plain = feed_ev(&a, &p, limit, 4, 1, &e, 0.2 * MB, &fired);
	pressed = feed_ev(&b, &p, limit, 4, 1, &ep, 0.2 * MB, &fired);
	ASSERT_RANGE(pressed.confidence, plain.confidence - 1e-9, plain.confidence + 1e-9,
		     "falling PSI: confidence unchanged");

	/* far from the limit, PSI (another cgroup's pressure on the parent) does not count */
	e.anon = ep.anon = 100 * MB;
	ep.psi = 40;
	fc_init(&a);
	fc_init(&b);
	plain = feed_ev(&a, &p, limit, 0, 6, &e, 2 * MB, &fired);
	pressed = feed_ev(&b, &p, limit, 0, 6, &ep, 2 * MB, &fired);
	ASSERT_RANGE(pressed.confidence, plain.confidence - 1e-9, plain.confidence + 1e-9,
		     "away from the limit: confidence unchanged");
}

/* Seven GC-like tasks with their own periods (teeth of 10 MB every 10/(3+i) s: their peaks
 * coincide every 10 s into one tall tooth) and one task leaking 3 MB/s: the teeth are
 * irregular, the leak lifts them all. arg: NULL, or a struct tasks_var: task i's phase
 * shifted by i times ph times 0.37 s (the teeth no longer coincide into one tall tooth),
 * and from stop_t on, task 1's phase shifted by shift of its period (the tall tooth stops
 * coming on the beat). */
struct tasks_var { double ph, stop_t, shift; };

static double many_tasks(double t, void *arg)
{
	const struct tasks_var *v = arg;
	double sum = 100 * MB + 3 * MB * t;

	for (int i = 1; i <= 7; i++) {
		double rate = (3 + i) * MB, period = 10 * MB / rate, ph = v ? v->ph * i * 0.37 : 0;

		if (v && i == 1 && v->stop_t > 0 && t >= v->stop_t)
			ph += v->shift * period;
		sum += 10 * MB + rate * fmod(t + ph, period);
	}
	return sum;
}

static void test_many_tasks_one_leak(void)
{
	double horizons[] = { 5, 10, 30 };

	for (int j = 0; j < 3; j++) {
		double h = horizons[j], limit = many_tasks(9.999, NULL) + 3 * MB * (3 * h + 20);
		struct run r = drive(many_tasks, NULL, NULL, limit, h, 0.1, 1e4, 10, 0);
		double lead = r.exhaust - r.first_fire;

		ASSERT_TRUE(!isnan(r.first_fire) && !isnan(r.exhaust), "fired, and exhausted");
		/* the other teeth may come at any time, the beat's tall tooth only on the beat:
		 * early by up to that period, never late */
		ASSERT_RANGE(lead, 0.9 * h, h + 10, "lead: the horizon, at most a period more");
	}
}

/* The worst a beat can do is wait for a tall tooth while another tooth meets the limit:
 * the ETA must never be late. Scored from the first forecast to 2 s before the exhaustion,
 * as the bench scores it; read 10 and 5 times a second. (1) The tasks' phases shifted:
 * teeth that never coincide into one tall tooth. (2) The tall tooth stops coming on the
 * beat 8 s before the limit (one task's phase moves by 0.2, 0.5 or 0.8 of its period),
 * at ten distances of the limit. Without the other teeth's envelope the beat's ETA was up
 * to 2.9 times the time left in 9 of these runs; the envelope alone (the code before the
 * beat) fired more than a beat early (up to H + 11.1 s) in 7 at 10 reads a second. */
static double many_tasks_late(const struct tasks_var *v, double h, double off, double dt,
			      double *lead)
{
	double limit = many_tasks(9.999, NULL) + 3 * MB * (3 * h + 20 + off);
	struct tasks_var w = *v;
	struct run r;

	if (w.shift > 0)
		w.stop_t = 3 * h + 20 + off - 8;
	r = drive(many_tasks, NULL, &w, limit, h, dt, 1000, 10, 0);
	*lead = r.exhaust - r.first_fire;
	return r.max_late;
}

static void test_many_tasks_eta_never_late(void)
{
	double horizons[] = { 5, 10, 30, 60 }, shifts[] = { 0.2, 0.5, 0.8 }, lead, late;
	int nlate = 0, nlead = 0;

	for (int d = 0; d < 2; d++) {
		double dt = d ? 0.2 : 0.1;

		for (int j = 0; j < 4; j++) {
			double h = horizons[j];

			for (int k = 0; k < 4; k++) {
				struct tasks_var v = { k, 0, 0 };

				late = many_tasks_late(&v, h, 0, dt, &lead);
				nlate += !(late <= 0.2);
				nlead += !(lead >= 0.9 * h && lead <= h + 10);
			}
			for (int k = 0; k < 3; k++)
				for (int off = 0; off < 10; off++) {
					struct tasks_var v = { 0, 0, shifts[k] };

					late = many_tasks_late(&v, h, off, dt, &lead);
					nlate += !(late <= 0.2);
					/* 5 reads a second, H=5: early by up to two beats (the
					 * envelope, as before the beat), never late */
					nlead += !(lead >= 0.9 * h && (d || lead <= h + 10));
				}
		}
	}
	ASSERT_EQ(nlate, 0, "runs whose ETA ran more than 20% beyond the time left");
	ASSERT_EQ(nlead, 0, "runs whose first forecast was late (or early by over a beat)");
}

/* One cgroup's samples as the daemon recorded them (tests/unit/data/NAME, a line each:
 * seconds, usage, limit, reclaimable, source: 0 a read of memory.stat, 1 a kernel sample).
 * Returns how many were read, or -1 if the file does not open. */
struct recorded { double t, usage, limit, reclaim; int src; };

static int load_recorded(const char *name, struct recorded *r, int max)
{
	const char *dir = getenv("OOMCAST_TESTDATA");
	char path[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/unit/data", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (n < max && fscanf(f, "%lf %lf %lf %lf %d", &r[n].t, &r[n].usage, &r[n].limit,
				 &r[n].reclaim, &r[n].src) == 5)
		n++;
	fclose(f);
	return n;
}

/* One recorded sample into the engine, as cgroup 7 (engine_start's). */
static void feed_recorded(struct engine *e, const struct recorded *r)
{
	struct obs o = { .kind = OBS_SAMPLE, .t = r->t, .cg = 7 };

	o.sample.usage = (uint64_t)r->usage;
	o.sample.limit = (uint64_t)r->limit;
	o.sample.reclaimable = (uint64_t)r->reclaim;
	o.sample.source = (uint8_t)r->src;
	eng_feed(e, &o);
}

/* The bench's 8-tasks-1-leaks cgroup from its start to the kill, as the daemon recorded it
 * (seconds, usage, limit, reclaimable, source; the last line is the sample at the kill):
 * the teeth of 7 tasks coincide once every 10 s into one tall tooth, and the 3 MB/s leak
 * makes one of those the kill. The forecast must come 0.9-1.2 x H ahead and its ETA stay
 * within 20% of the time left (from the forecast to 2 s before the kill, as the bench
 * scores it). Three runs of it, each with what went wrong there:
 * - 8tasks-to-kill.txt: the envelope through the tall teeth met the limit up to a beat
 *   before the kill (ETA 0 with 1.9 s left, 93% error; H=5 fired 6.5 s ahead): the ETA
 *   is that of the tall tooth that meets the limit.
 * - 8tasks-startup-cycle.txt: at 10 s, the first time the teeth coincided, the cycle's
 *   seven peaks over 8 s promised 56 s at H=60 with 80 s left (30% error), and the
 *   episode stayed open to the kill: a cycle is not extrapolated beyond its reach.
 * - 8tasks-startup-breakout.txt: the same tooth, rising, broke out of the envelope along
 *   a 1.9 s leg that promised 11 s (86% error): nor is a breakout's leg. */
static void test_tall_teeth_on_a_beat(void)
{
	static struct recorded rec[2048];
	static double eta[2048];
	static const struct { const char *file; int n; } runs[] = {
		{ "8tasks-to-kill.txt", 966 },
		{ "8tasks-startup-cycle.txt", 969 },
		{ "8tasks-startup-breakout.txt", 970 },
	};
	double horizons[] = { 5, 10, 30, 60 };

	for (unsigned r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		int n = load_recorded(runs[r].file, rec, 2048);

		ASSERT_TRUE(n >= 0, "the recorded samples open (run from the repository's root)");
		if (n < 0)
			return;
		ASSERT_EQ(n, runs[r].n, "samples read");
		for (int j = 0; j < 4; j++) {
			double h = horizons[j], kill = rec[n - 1].t, start = NAN, worst = 0;
			struct engine e;

			engine_start(&e, h);
			for (int i = 0; i < n - 1; i++) {
				feed_recorded(&e, &rec[i]);
				if (ngot && got[ngot - 1].kind == EV_FORECAST && got[ngot - 1].time == rec[i].t)
					start = rec[i].t;
				if (ngot && got[ngot - 1].kind == EV_CLEAR && got[ngot - 1].time == rec[i].t)
					start = NAN;
				eta[i] = eng_find(&e, 7)->last.eta;
			}
			for (int i = 0; i < n - 1; i++) {       /* the bench skips an ETA of "never" */
				double left = kill - rec[i].t;

				if (rec[i].t >= start && left >= 2 && isfinite(eta[i]))
					worst = fmax(worst, fabs(eta[i] - left) / left);
			}
			if (!(kill - start >= 0.9 * h && kill - start <= 1.2 * h && worst <= 0.2))
				fprintf(stderr, "  %s at H=%g: lead %.1f s, ETA error %.0f%%\n",
					runs[r].file, h, kill - start, 100 * worst);
			ASSERT_RANGE(kill - start, 0.9 * h, 1.2 * h, "the forecast open at the kill: lead");
			ASSERT_RANGE(worst, 0, 0.2, "ETA error from the forecast on");
			eng_free(&e);
		}
	}
}

/* The bench's 8-tasks-1-leaks cgroup, its first 9.5 s as the daemon recorded them (seconds,
 * usage, limit, reclaimable, 1 for a kernel sample between reads): 7 sawtooth tasks and a
 * 3 MB/s leak starting, the kill 89.9 s away. At H=60 the first teeth are no trend for a
 * minute: a breakout (ETA 19.7 s) and a cycle through three peaks over 3 s (ETA 56 s) fired
 * and held their episode open to the kill, 85 s later. */
static void test_first_teeth_of_a_startup_are_no_trend(void)
{
	static struct recorded rec[256];
	int fired = 0, n = load_recorded("8tasks-startup.txt", rec, 256);
	struct fc_params p;
	struct fc_state s;
	struct fc_result out;

	ASSERT_TRUE(n >= 0, "the recorded samples open (run from the repository's root)");
	if (n < 0)
		return;
	fc_params_default(&p, 60);
	fc_init(&s);
	for (int i = 0; i < n; i++) {
		struct fc_input in = { rec[i].t, (uint64_t)rec[i].usage, (uint64_t)rec[i].limit,
				       (uint64_t)rec[i].reclaim, 0, rec[i].src, 0, 0 };

		fc_observe(&s, &p, &in, &out);
		fired += out.mode != FC_NONE && out.eta <= p.horizon && out.confidence >= p.min_confidence;
	}
	ASSERT_EQ(n, 102, "samples read");
	ASSERT_EQ(fired, 0, "samples with a forecast due");
}

/* A recorded series (n samples, as the engine sees them) raises no forecast from `after`
 * seconds on, at the horizons up to hmax. */
static void quiet_record(const char *file, int n_expected, double after, double hmax)
{
	static struct recorded rec[256];
	int n = load_recorded(file, rec, 256);
	double horizons[] = { 5, 10, 30, 60 };

	ASSERT_TRUE(n >= 0, "the recorded samples open (run from the repository's root)");
	if (n < 0)
		return;
	ASSERT_EQ(n, n_expected, "samples read");
	for (int j = 0; j < 4 && horizons[j] <= hmax; j++) {
		int fired = 0;
		struct engine e;

		engine_start(&e, horizons[j]);
		for (int i = 0; i < n; i++)
			feed_recorded(&e, &rec[i]);
		for (int i = 0; i < ngot; i++)
			fired += got[i].kind == EV_FORECAST && got[i].time >= after;
		ASSERT_EQ(fired, 0, file);
		eng_free(&e);
	}
}

/* The bench's Go service with GOMEMLIMIT near its limit, start to exit as the daemon
 * recorded it (tests/unit/data/gomemlimit-refill.txt): it held 190 MiB of 224 for 43 s,
 * the scavenger gave 26 MiB back, and the heap refilled them in 0.6 s (read 10 times
 * a second while it grew). That refill fired a burst (ETA 4.4 s) at every horizon, then the
 * line through the refill (ETA 3.3 s): a refill of a level held is neither, until it passes
 * the level. No forecast after the 10 s warm-up at any horizon. */
static void test_refill_of_a_held_level_never_fires(void)
{
	quiet_record("gomemlimit-refill.txt", 171, 10, 60);
}

/* The bench's cache+anon cgroup from just after its anonymous leak was killed, as the daemon
 * recorded it (tests/unit/data/cache-refill-after-kill.txt): the first reading came while
 * the victim's memory was being freed (risk 158 MiB of 209), the next found it gone (risk
 * 3 MiB of 183), and the reader refilled the page cache to the limit within 0.3 s, seen by
 * kernel samples between reads. The fall from the first reading had taught "all of a change
 * is risk" (the victim's anon left); with the first reading's make-up (0.76) it made 154 MiB
 * of the refill risk: a burst forecast 2.7 s ahead, cleared 5 s later. A fall from the first
 * reading after a reset teaches no split. No forecast at any horizon. */
static void test_cache_refill_after_a_kill_never_fires(void)
{
	quiet_record("cache-refill-after-kill.txt", 160, 0, 60);
}

/* The bench's 50 MB/s leak, its first 14.5 s as the daemon recorded them
 * (tests/unit/data/leak50-startup.txt; the kill came at 54.5 s): its first 0.13 s grew at
 * a tenth of the pace, and 3.6 s in, a parabola through that start promised the limit in
 * 29.9 s (51 s left), a forecast at H=30. A curve is not extrapolated beyond its reach (five
 * times the time it spans), as a line is trusted less there: the start's curvature is not
 * the leak's. No forecast at H=5/10/30 while more than 1.2 H are left. */
static void test_curve_through_a_leak_start_is_not_extrapolated(void)
{
	quiet_record("leak50-startup.txt", 153, 0, 30);
}

/* A steady 1 MB/s leak into 40 MiB, its first 26 s as a daemon recorded them
 * (tests/unit/data/leak1-counter-steps.txt; the kill came at 43.4 s). The usage counter
 * moves in charge batches, and 21 s in a parabola through 9 points of a 5 s window left
 * under half the line's residual (the F test at 5%): it promised the limit in 9.3 s, 22 s
 * before the kill, a forecast at H=10. The curvature must be significant at 0.1%. No
 * forecast at H=5/10 while more than 1.2 H are left. */
static void test_counter_steps_are_no_acceleration(void)
{
	quiet_record("leak1-counter-steps.txt", 66, 0, 10);
}

/* A service restarts beside its page cache (no kill, no reset): its 150 MiB of anon go, and
 * it rebuilds them at once. The kernel samples between reads count the rebuild as risk at
 * the share the fall taught (1): the fall-from-the-first-reading rule above is for a reset
 * only. Capped at the cgroup's make-up after any fall (tried), the rebuild counted as cache
 * for up to a read: restarts at 150-600 MiB/s beside 100-240 MiB of cache were forecast up
 * to 0.6 s later in 233 of 1,620 synthetic runs, and 24 more sub-second ones were missed. */
static void test_restart_beside_cache_counts_at_once(void)
{
	double limit = 400 * 1048576.0, mib = 1048576.0;
	struct fc_params p;
	struct fc_state s;
	struct fc_result out;
	struct fc_input in = { 0, (uint64_t)(390 * mib), (uint64_t)limit, (uint64_t)(240 * mib),
			       0, 0, 0, 0 };

	fc_params_default(&p, 5);
	fc_init(&s);
	fc_observe(&s, &p, &in, &out);                  /* 150 anon + 240 cache */
	in.t = 1;
	fc_observe(&s, &p, &in, &out);                  /* quiet */
	in.t = 1.1, in.usage = (uint64_t)(242 * mib);
	fc_observe(&s, &p, &in, &out);                  /* the anon went */
	in.t = 1.3, in.usage = (uint64_t)(302 * mib), in.stale = 1;
	fc_observe(&s, &p, &in, &out);                  /* a kernel sample: 60 MiB rebuilt */
	ASSERT_RANGE(out.risk / mib, 61, 63, "risk (MiB) of the rebuild between reads");
}

/* A level held for a minute at half the limit (its top at its start, as in the Go record
 * above, so that one old peak is no cycle), then a fall to `to` for `down` seconds, then
 * growth at `pace` bytes/s. */
struct after_held { double to, down, pace; };

static double after_held(double t, void *arg)
{
	const struct after_held *a = arg;

	if (t < 60)
		return 50 * MB - 0.01 * MB * t;
	return t < 60 + a->down ? a->to : a->to + a->pace * (t - 60 - a->down);
}

/* The refill rule's price is bounded: a burst that starts as a refill (a level held for a
 * minute at half the limit, a fall to 30%, then 40 MB/s to the limit) is forecast once it
 * passes the level: 1.15 s before the limit instead of 1.35 (1.2 and 1.4 to the first
 * sample over it). */
static void test_burst_through_a_held_level_is_caught(void)
{
	struct after_held a = { 30 * MB, 2, 40 * MB };
	struct run r = drive(after_held, NULL, &a, 100 * MB, 5, 0.1, 100, 10, 0);

	ASSERT_TRUE(!isnan(r.first_fire), "fired");
	ASSERT_RANGE(r.exhaust - r.first_fire, 1.1, 1.3, "lead");
}

/* What is no trim is no refill: the same level, then the process exits (a fall to nothing)
 * and its successor bursts 1 s later at 40 MB/s; or a fall to 40% that stays down 10 s (a
 * new level) before a burst at 20 MB/s. Both are forecast as if nothing had been held
 * (2.1 and 2.5 s ahead; 1.1 and 2.3 if those falls counted as trims). */
static void test_burst_after_an_exit_or_from_a_new_level_is_caught(void)
{
	struct after_held gone = { 0.5 * MB, 1, 40 * MB }, level = { 40 * MB, 10, 20 * MB };
	struct run r = drive(after_held, NULL, &gone, 100 * MB, 5, 0.1, 100, 10, 0);

	ASSERT_TRUE(!isnan(r.first_fire), "fired after the exit");
	ASSERT_RANGE(r.exhaust - r.first_fire, 2.0, 5.5, "lead after the exit");
	r = drive(after_held, NULL, &level, 100 * MB, 5, 0.1, 100, 10, 0);
	ASSERT_TRUE(!isnan(r.first_fire), "fired from the new level");
	ASSERT_RANGE(r.exhaust - r.first_fire, 2.4, 5.5, "lead from the new level");
}

/* Nor does the rule hold back a leak: a level held for a minute at half the limit, a fall
 * to 40%, then a steady 1 MB/s from the floor, read once a second, is forecast 0.9-1.2 H
 * ahead at every horizon (with the line restarted at the old level, H=60 came 50 s ahead). */
static void test_leak_after_a_held_level_keeps_its_line(void)
{
	double horizons[] = { 5, 10, 30, 60 };

	for (int j = 0; j < 4; j++) {
		double h = horizons[j];
		struct after_held a = { 40 * MB, 2, 1 * MB };
		struct run r = drive(after_held, NULL, &a, 100 * MB, h, 1, 400, 10, 0);

		ASSERT_TRUE(!isnan(r.first_fire), "fired");
		ASSERT_RANGE(r.exhaust - r.first_fire, 0.9 * h, 1.2 * h, "lead");
	}
}

/* After a kill the engine starts the cgroup afresh, and its first reading may still be the
 * usage at the limit from before the kill, or part of it while the victim's memory is being
 * freed (the bench: 85% of the limit, then 0): that fall is the OOM killer, not a tooth of
 * a sawtooth, and the next burst (0 to the limit in 3 s) must be forecast like the first
 * (from 85%, it was forecast 0.3 s ahead, as the breakout of a one-tooth cycle). */
static double after_kill(double t, void *arg)
{
	if (t < 0.05)
		return *(double *)arg;          /* the reading from just before the kill */
	return t < 1.5 ? 0.1 * MB : 0.1 * MB + (t - 1.5) * 100 * MB / 3;
}

static void test_burst_after_a_kill_is_caught(void)
{
	double stale[] = { 100 * MB - 1, 85 * MB };

	for (int i = 0; i < 2; i++) {
		struct run r = drive(after_kill, NULL, &stale[i], 100 * MB, 5, 0.1, 100, 0, 0);

		ASSERT_TRUE(!isnan(r.first_fire), "fired");
		ASSERT_RANGE(r.exhaust - r.first_fire, 0.7, 1e9, "lead");
	}
}

/* A full cache whose few MB of risk step by a little more than the turn threshold within
 * a second (a reader's buffers, counter batching): one second's slope extrapolated 30 s
 * would be a forecast from noise. */
static double small_step(double t, void *arg)
{
	(void)arg;
	return 1.5 * MB + fmin(fmax(t - 10, 0), 1) * 2.2 * MB;
}

static double cache_rest(double t, void *arg)
{
	(void)arg;
	return 64 * MB - small_step(t, NULL) - 0.5 * MB;
}

static void test_small_step_under_full_cache_never_fires(void)
{
	struct run r = drive(small_step, cache_rest, NULL, 64 * MB, 30, 0.1, 40, 0, 0);

	ASSERT_TRUE(isnan(r.first_fire), "no forecast from a second's small step");
}

/* A leak that starts after a quiet spell: flat, then a steady climb. While the knee is in
 * the trend window, a line through it is too shallow (late) and a parabola bends up
 * through it (early, by up to twice the horizon); the segment after the knee is the trend.
 * Knees from 2 s to just under the window before the forecast is due. */
struct knee { double at, rate; };

static double knee_leak(double t, void *arg)
{
	struct knee *k = arg;

	return 10 * MB + fmax(t - k->at, 0) * k->rate;
}

static void test_leak_after_a_quiet_spell(void)
{
	struct { double h, k; } cases[] = { { 5, 1.6 }, { 10, 1.3 }, { 30, 1.2 }, { 30, 1.4 },
					    { 60, 1.1 }, { 60, 1.3 } };
	double rates[] = { 1 * MB, 20 * MB };

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (int j = 0; j < 2; j++) {
			struct knee k = { 30, rates[j] };
			double h = cases[i].h, limit = knee_leak(30 + cases[i].k * h, &k);
			struct run r = drive(knee_leak, NULL, &k, limit, h, 0.1, 1e4, 0, 0);

			ASSERT_TRUE(!isnan(r.first_fire), "fired");
			ASSERT_RANGE(r.exhaust - r.first_fire, 0.9 * h, 1.2 * h, "lead / horizon");
		}
}

/* One allocation (a step of 4% of the limit, at once) after a quiet spell, then nothing:
 * a hinge fits a step better than a line does, but the segment after that "knee" is a jump
 * and a plateau, no line: no leak to extrapolate. */
static double one_step(double t, void *arg)
{
	(void)arg;
	return 10 * MB + (t >= 10 ? 20 * MB : 0);
}

static void test_one_step_is_no_knee(void)
{
	double horizons[] = { 30, 60 };

	for (int j = 0; j < 2; j++) {
		struct run r = drive(one_step, NULL, NULL, 470 * MB, horizons[j], 0.1, 200, 0, 0);

		ASSERT_TRUE(isnan(r.first_fire), "no forecast from one step");
	}
}

/* A staircase: a leak in steps (20 MB at once every 10 s, 10 MB every 5 s: 2 MB/s). A step
 * rises within one sample gap and stops; a burst is a rise still under way. Each step that
 * came within 5 s of the limit at its own pace fired a burst forecast (1.2 to 2.7 horizons
 * early); now the staircase's pace decides, give or take a step. */
struct stair { double period, step; };

static double staircase(double t, void *arg)
{
	struct stair *st = arg;

	return 10 * MB + st->step * floor(t / st->period);
}

static void test_staircase_is_not_a_burst(void)
{
	double periods[] = { 5, 10 }, horizons[] = { 30, 60 };

	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++) {
			struct stair st = { periods[i], 2 * MB * periods[i] };
			double h = horizons[j];
			double limit = 10 * MB + 2 * MB * (3 * h + 40) + st.step / 2;
			struct run r = drive(staircase, NULL, &st, limit, h, 0.1, 1e4, 0, 0);

			ASSERT_TRUE(!isnan(r.first_fire), "fired");
			ASSERT_RANGE(r.exhaust - r.first_fire, 0.9 * h, h + st.period, "lead");
		}
}

/* A Go service with GOMEMLIMIT below the limit: a start-up ramp to 190 of 224 MB, a few
 * GC teeth, then a plateau. A line through the ramp and the teeth has a slope that the
 * plateau no longer has: no forecast after the warm-up, at any horizon. */
static double ramp_teeth_plateau(double t, void *arg)
{
	(void)arg;
	if (t < 4)
		return 190 * MB * t / 4;
	if (t >= 11 && t < 13.5)                /* GC: down 26 MB, back up in 0.7 s */
		return 164 * MB + fmax(t - 12.8, 0) / 0.7 * 26 * MB;
	if (t >= 17 && t < 20.4)
		return 164 * MB + fmax(t - 19.7, 0) / 0.7 * 26 * MB;
	return fmin(190 * MB, 164 * MB + 26 * MB);
}

static void test_plateau_after_ramp_and_teeth_never_fires(void)
{
	double horizons[] = { 5, 10, 30, 60 };

	for (int j = 0; j < 4; j++) {
		struct run r = drive(ramp_teeth_plateau, NULL, NULL, 224 * MB, horizons[j], 0.1, 120,
				     10, 0);

		ASSERT_TRUE(isnan(r.first_fire), "no forecast on the plateau after warm-up");
	}
}

/* The newest sample's noise does not swing the ETA: a steady leak read with counter jitter
 * (per-CPU charge batches of 256 KB on two CPUs: +-0.5 MB) keeps its ETA within 20% down to 2 s. */
static double jittery_leak(double t, void *arg)
{
	(void)arg;
	return 10 * MB + 1 * MB * t + ((int)(t * 10) % 3 - 1) * 0.5 * MB;
}

static void test_eta_follows_the_trend_not_the_last_sample(void)
{
	double h = 10, limit = 10 * MB + 1 * MB * 60, t;
	struct fc_params p;
	struct fc_state s;
	double worst = 0;

	fc_params_default(&p, h);
	fc_init(&s);
	for (t = 0; t < 58; t += 0.1) {
		struct fc_input in = { t, (uint64_t)jittery_leak(t, NULL), (uint64_t)limit, 0, 0, 0,
				       0, 0 };
		struct fc_result out;
		double truth = 60 - t;

		fc_observe(&s, &p, &in, &out);
		if (t > 20 && truth >= 2)
			worst = fmax(worst, fabs(out.eta - truth) / truth);
	}
	ASSERT_RANGE(worst, 0, 0.2, "ETA error down to 2 s before exhaustion");
}

/* A leak that starts in a quiet cgroup: the daemon read it every few seconds while it was
 * idle (QUIET_POLL), then kernel samples come about 8 a second once it grows, the first
 * with the process's own start (a step of under a megabyte). One or two old readings and a
 * dense straight rise: a parabola bent through them on their leverage and fired at once,
 * its ETA 6 s with 15 s left (H=10, 4 MB/s into 64 MiB, three live runs of three). The
 * first forecast must come 0.9-1.2 H before the limit, as for any steady leak, whatever the
 * rate, limit, horizon, number of idle readings and where the start falls between them. */
static void test_leak_starting_in_a_quiet_cgroup(void)
{
	double rates[] = { 2 * MB, 4 * MB, 8 * MB }, limits[] = { 48 * MB, 64 * MB, 128 * MB };
	double horizons[] = { 5, 10 }, gaps[] = { 0.5, 1.5, 2.9 };
	int runs = 0, bad = 0;

	for (int ri = 0; ri < 3; ri++)
	for (int li = 0; li < 3; li++)
	for (int hi = 0; hi < 2; hi++)
	for (int gi = 0; gi < 3; gi++)
	for (int idle = 1; idle <= 2; idle++) {
		double rate = rates[ri], limit = limits[li], h = horizons[hi], fire = NAN, t, u;
		double start = gaps[gi], base = 1 * MB, step = 0.8 * MB;
		double kill = start + (limit - base - step) / rate;
		struct fc_params p;
		struct fc_state st;
		struct fc_result out;

		if (kill - start < 1.5 * h)
			continue;               /* the limit within 1.5 H of the start: no target */
		fc_params_default(&p, h);
		fc_init(&st);
		for (int i = idle - 1; i >= 0; i--) {   /* idle readings, 10 s apart, the last at 0 */
			struct fc_input in = { -10.0 * i, (uint64_t)base, (uint64_t)limit, 0, 0, 0, 0, 0 };

			fc_observe(&st, &p, &in, &out);
		}
		for (t = start + 0.01; ; t += 0.13) {
			u = base + step + rate * (t - start);
			if (u >= limit)
				break;
			/* the counter moves in charge batches of 256 KiB */
			struct fc_input in = { t, (uint64_t)(floor(u / (256 << 10)) * (256 << 10)),
					       (uint64_t)limit, 0, 0, 0, 0, 0 };

			fc_observe(&st, &p, &in, &out);
			if (isnan(fire) && out.mode != FC_NONE && out.eta <= h &&
			    out.confidence >= p.min_confidence)
				fire = t;
		}
		runs++;
		if (isnan(fire) || kill - fire < 0.9 * h || kill - fire > 1.2 * h) {
			if (bad++ < 5)
				printf("# %.0f MB/s into %.0f MB at H=%.0f, %d idle, start %.1f: "
				       "lead %.1f s\n", rate / MB, limit / MB, h, idle, start,
				       kill - fire);
		}
	}
	printf("# %d of %d quiet-start leaks outside 0.9-1.2 H\n", bad, runs);
	ASSERT_TRUE(runs >= 60, "enough cases");
	ASSERT_EQ(bad, 0, "every first forecast 0.9-1.2 H before the limit");
}

/* The forecast names the tasks seen allocating in the last 30 s: shells and shims that ran
 * at the start (a reviewer saw pyenv's exited bash and readlink named beside python) are
 * not named 80 s later, nor do 40 of them, faster than the leak, keep it out of the 32
 * slots the engine keeps; the leak, seen every second, is named. */
static void test_engine_top_tasks_are_recent(void)
{
	struct engine e;
	struct obs task = { .kind = OBS_TASK, .cg = 7 };
	double t;

	engine_start(&e, 10);
	task.t = 0.5;
	for (int i = 0; i < 40; i++) {          /* more than the engine keeps, all faster */
		task.task = (struct obs_task){ .pid = 100 + i, .comm = "sh", .rate = 8 * MB };
		eng_feed(&e, &task);
	}
	for (t = 0; t < 85; t += 0.5) {
		feed_sample(&e, t, 10 * MB + MB * t, 100 * MB);
		if (fmod(t, 1) == 0) {
			task.t = t;
			task.task = (struct obs_task){ .pid = 200, .comm = "leak", .rate = MB };
			eng_feed(&e, &task);
		}
	}
	ASSERT_EQ(count(EV_FORECAST), 1, "forecast");
	for (int i = 0; i < ngot; i++)
		if (got[i].kind == EV_FORECAST) {
			ASSERT_EQ(got[i].ntop, 1, "one task named");
			ASSERT_EQ(got[i].top[0].pid, 200, "the leak, not the exited shell or shim");
		}
	eng_free(&e);
}

static void test_engine_episode(void)
{
	struct engine e;
	struct obs vic = { .kind = OBS_VICTIM, .cg = 7 };
	double t;

	engine_start(&e, 10);
	for (t = 0; t < 60; t += 0.5)          /* 1 MB/s towards 100 MB: full at t = 90 */
		feed_sample(&e, t, 10 * MB + MB * t, 100 * MB);
	ASSERT_EQ(count(EV_FORECAST), 0, "no forecast while far");
	for (; t < 85; t += 0.5)
		feed_sample(&e, t, 10 * MB + MB * t, 100 * MB);
	ASSERT_EQ(count(EV_FORECAST), 1, "one forecast per episode");
	for (int i = 0; i < ngot; i++)
		if (got[i].kind == EV_FORECAST) {
			ASSERT_RANGE(got[i].time, 79, 81.5, "forecast time");
			ASSERT_RANGE(got[i].eta_seconds, 8.5, fire_eta(10), "eta");
			ASSERT_STR(got[i].cgroup, "/sys/fs/cgroup/memory/x", "cgroup path");
		}
	vic.t = 90;
	vic.victim.pid = 42;
	vic.victim.oom_score_adj = -1001;
	snprintf(vic.victim.comm, sizeof(vic.victim.comm), "leak");
	eng_feed(&e, &(struct obs){ .kind = OBS_SCORE_ADJ, .t = 1, .cg = 7,
		 .task = { .pid = 42, .oom_score_adj = 500 } });
	eng_feed(&e, &vic);
	ASSERT_EQ(count(EV_OOM_KILL), 1, "kill");
	ASSERT_NEAR(got[ngot - 1].lead_seconds, 10, 1.1, "lead of the kill");
	ASSERT_EQ(got[ngot - 1].oom_score_adj, 500, "adj learnt from oom_score_adj_update");
	ASSERT_EQ(got[ngot - 1].pid, 42, "victim pid");
	ASSERT_TRUE(got[ngot - 1].victim_cgroup == NULL, "the victim lived in the cgroup itself");
	/* after the kill, usage is low and flat: no new forecast, and a later leak is new */
	for (t = 91; t < 120; t += 0.5)
		feed_sample(&e, t, 20 * MB, 100 * MB);
	ASSERT_EQ(count(EV_FORECAST), 1, "quiet after the kill");
	eng_free(&e);
}

/* A kill storm: a pre-fork server's children killed one by one, the cgroup at its limit
 * throughout. The kills after the first are the same incident: their lead counts from the
 * forecast before the first (before: none, the first kill had ended the episode). Not once
 * memory at risk was given back (a restart), nor after a clear, nor a kill more than
 * ENG_STORM_GAP after the last. A forecast, then a stall, then kills: the same. */
static void test_engine_kill_storm(void)
{
	struct engine e;
	struct obs vic = { .kind = OBS_VICTIM, .cg = 7 };
	double t, fc = NAN;

	engine_start(&e, 10);
	for (t = 0; t < 90; t += 0.5)          /* 1 MB/s towards 100 MB: full at t = 90 */
		feed_sample(&e, t, 10 * MB + MB * t, 100 * MB);
	for (int i = 0; i < ngot; i++)
		if (got[i].kind == EV_FORECAST)
			fc = got[i].time;
	ASSERT_TRUE(!isnan(fc), "forecast");
	for (double k = 90; k <= 98; k += 2) {  /* five kills, 2 s apart, at the limit */
		vic.t = k;
		vic.victim.pid = (uint32_t)(100 + k);
		eng_feed(&e, &vic);
		ASSERT_NEAR(got[ngot - 1].lead_seconds, k - fc, 1e-9, "each kill's lead, from it");
		feed_sample(&e, k + 0.5, 97 * MB, 100 * MB);
		feed_sample(&e, k + 1.5, 99 * MB, 100 * MB);
	}
	vic.t = 98 + 10.5;                      /* more than ENG_STORM_GAP after the last */
	eng_feed(&e, &vic);
	ASSERT_TRUE(isnan(got[ngot - 1].lead_seconds), "a kill after a pause: no lead");
	vic.t = 110;
	eng_feed(&e, &vic);
	ASSERT_TRUE(isnan(got[ngot - 1].lead_seconds), "nor the one after it");
	ASSERT_EQ(count(EV_FORECAST), 1, "one forecast in all");
	eng_free(&e);

	engine_start(&e, 10);                   /* a restart between two kills */
	for (t = 0; t < 90; t += 0.5)
		feed_sample(&e, t, 10 * MB + MB * t, 100 * MB);
	vic.t = 90;
	eng_feed(&e, &vic);
	ASSERT_TRUE(!isnan(got[ngot - 1].lead_seconds), "the first kill's lead");
	feed_sample(&e, 90.5, 5 * MB, 100 * MB);        /* the service restarts */
	vic.t = 93;                             /* a burst to the limit, not forecast */
	eng_feed(&e, &vic);
	ASSERT_TRUE(isnan(got[ngot - 1].lead_seconds), "after memory was given back: no lead");
	eng_free(&e);

	engine_start(&e, 10);                   /* a forecast, then a stall, then kills */
	for (t = 0; t < 90; t += 0.5)
		feed_sample(&e, t, 10 * MB + MB * t, 100 * MB);
	eng_feed(&e, &(struct obs){ .kind = OBS_OOM_STATE, .t = 89.8, .cg = 7,
		 .oom = { .under_oom = 1 } });
	ASSERT_EQ(count(EV_STALL), 1, "the stall");
	vic.t = 90;
	eng_feed(&e, &vic);
	ASSERT_TRUE(!isnan(got[ngot - 1].lead_seconds), "the kill after the stall: its lead");
	vic.t = 91;
	eng_feed(&e, &vic);
	ASSERT_TRUE(!isnan(got[ngot - 1].lead_seconds), "and the next one's");
	eng_free(&e);

	engine_start(&e, 10);                   /* a storm, then a clear */
	for (t = 0; t < 90; t += 0.5)
		feed_sample(&e, t, 10 * MB + MB * t, 100 * MB);
	vic.t = 90;
	eng_feed(&e, &vic);
	feed_sample(&e, 90.5, 96 * MB, 100 * MB);      /* a burst back up: forecast, ... */
	feed_sample(&e, 91, 98 * MB, 100 * MB);
	feed_sample(&e, 91.5, 99.5 * MB, 100 * MB);
	for (t = 92; t < 99; t += 0.5)          /* ... proved wrong: flat at 90% */
		feed_sample(&e, t, 90 * MB, 100 * MB);
	ASSERT_EQ(count(EV_FORECAST), 2, "the second forecast");
	ASSERT_EQ(count(EV_CLEAR), 1, "and its clear");
	vic.t = 99;                             /* within ENG_STORM_GAP of the first kill */
	eng_feed(&e, &vic);
	ASSERT_TRUE(isnan(got[ngot - 1].lead_seconds), "a kill after a clear: no lead");
	eng_free(&e);
}

/* Kills the kernel counted (oom_kill in memory.oom_control, memory.events) whose victim was
 * never seen (the victim hook missing or refused, its record lost): reported, without a
 * pid, once the count has shown them for ENG_VICTIM_WAIT, at the time it first did, with
 * the lead of the forecast before them. Kills counted before the watch are not reported; a
 * kill known (a victim seen, or a rise reported) explains one rise of each count at, above
 * or below where it was, within the kill window, whether its record comes before the count
 * or after it (within the wait): on v2 one kill raises a container's and its pod's. */
static struct obs oom_count(double t, uint64_t cg, uint64_t kills)
{
	return (struct obs){ .kind = OBS_OOM_STATE, .t = t, .cg = cg, .oom = { .oom_kills = kills } };
}

static void add_cg(struct engine *e, uint64_t cg, const char *path, int version)
{
	struct obs add = { .kind = OBS_CGROUP_ADD, .t = 0, .cg = cg };

	snprintf(add.add.path, sizeof(add.add.path), "/sys/fs/cgroup/memory/%s", path);
	add.add.version = (uint8_t)version;
	eng_feed(e, &add);
}

static void victim_in(struct engine *e, double t, uint64_t cg, uint64_t home)
{
	struct obs vic = { .kind = OBS_VICTIM, .t = t, .cg = cg };

	vic.victim.pid = 42;
	vic.victim.task_cgroup = home;
	eng_feed(e, &vic);
}

static void count_in(struct engine *e, double t, uint64_t cg, uint64_t kills)
{
	struct obs o = oom_count(t, cg, kills);

	eng_feed(e, &o);
}

/* A poll's sample (1 MB of 100) of each cgroup from..to: the kill counts' waits end on them */
static void samples_in(struct engine *e, double t, uint64_t from, uint64_t to)
{
	for (uint64_t cg = from; cg <= to; cg++)
		feed_sample_cg(e, cg, t, MB, 100 * MB);
}

static void test_engine_unseen_kills(void)
{
	struct engine e;
	struct obs vic = { .kind = OBS_VICTIM, .cg = 7 }, o;
	double t;

	vic.victim.pid = 42;
	vic.victim.task_cgroup = 7;
	snprintf(vic.victim.comm, sizeof(vic.victim.comm), "leak");
	engine_start(&e, 10);
	count_in(&e, 0.5, 7, 3);                /* three kills before the watch */
	for (t = 1; t < 90; t += 0.5)
		feed_sample(&e, t, 10 * MB + MB * t, 100 * MB);
	ASSERT_EQ(count(EV_OOM_KILL), 0, "the kills before the watch are not reported");
	ASSERT_EQ(count(EV_FORECAST), 1, "the forecast");
	count_in(&e, 90.2, 7, 4);               /* a kill whose victim is not seen */
	feed_sample(&e, 90.5, 5 * MB, 100 * MB);
	ASSERT_EQ(count(EV_OOM_KILL), 0, "not before its victim has had ENG_VICTIM_WAIT");
	feed_sample(&e, 91, 5 * MB, 100 * MB);
	ASSERT_EQ(count(EV_OOM_KILL), 1, "reported at the next sample after the wait");
	ASSERT_EQ(got[ngot - 1].pid, 0, "without a pid");
	ASSERT_TRUE(got[ngot - 1].reason && strstr(got[ngot - 1].reason, "oom_control"),
		    "the reason names the counter");
	ASSERT_NEAR(got[ngot - 1].time, 90.2, 1e-9, "at the time the count showed it");
	ASSERT_NEAR(got[ngot - 1].lead_seconds, 10, 1.1, "the forecast's lead");
	feed_sample(&e, 92, 5 * MB, 100 * MB);
	ASSERT_EQ(count(EV_OOM_KILL), 1, "reported once");

	vic.t = 100;                            /* the victim's record before the count */
	eng_feed(&e, &vic);
	count_in(&e, 100.3, 7, 5);
	count_in(&e, 101.5, 7, 6);              /* the count before the victim's record */
	vic.t = 101.7;
	eng_feed(&e, &vic);
	feed_sample(&e, 103, 5 * MB, 100 * MB);
	ASSERT_EQ(count(EV_OOM_KILL), 3, "two kills seen, none counted twice");
	count_in(&e, 104, 7, 9);                /* a jump of three, none seen */
	feed_sample(&e, 105, 5 * MB, 100 * MB);
	ASSERT_EQ(count(EV_OOM_KILL), 6, "each kill of a jump reported");
	ASSERT_TRUE(isnan(got[ngot - 1].lead_seconds), "a kill after a kill: no forecast since");
	eng_free(&e);

	/* v2, whose counts are hierarchical: a pod (7) and two containers (8, 9) watched */
	engine_start(&e, 10);
	e.cgroups->version = CG_V2;
	add_cg(&e, 8, "x/c", CG_V2);
	add_cg(&e, 9, "x/d", CG_V2);
	for (uint64_t cg = 7; cg <= 9; cg++)
		count_in(&e, 0.5, cg, 0);
	victim_in(&e, 10, 7, 8);                /* for the pod's limit, of a task in 8 */
	count_in(&e, 10.5, 8, 1);
	count_in(&e, 10.6, 7, 1);
	samples_in(&e, 12, 7, 8);
	ASSERT_EQ(count(EV_OOM_KILL), 1, "v2: a kill seen, counted in the container and the pod");
	count_in(&e, 30, 7, 2);                 /* a kill in 8 whose record was lost, the pod read first */
	count_in(&e, 30.3, 8, 2);
	samples_in(&e, 31, 7, 8);
	ASSERT_EQ(count(EV_OOM_KILL), 2, "a lost one reported once, not in both counts");
	ASSERT_EQ(got[ngot - 1].pid, 0, "without its victim");
	victim_in(&e, 40, 7, 0);                /* the victim's own cgroup not known */
	count_in(&e, 48, 8, 3);
	count_in(&e, 48.2, 7, 3);
	samples_in(&e, 49, 7, 8);
	ASSERT_EQ(count(EV_OOM_KILL), 3, "a victim of no known cgroup explains the rises below");
	count_in(&e, 60, 8, 4);                 /* two lost kills, in 8 and in 9 */
	count_in(&e, 60.1, 9, 1);
	count_in(&e, 60.2, 7, 5);
	samples_in(&e, 61, 7, 9);
	ASSERT_EQ(count(EV_OOM_KILL), 5, "two kills in sibling containers: two reports");
	victim_in(&e, 80, 7, 0);                /* a rise beyond the kill window of a victim */
	count_in(&e, 100, 8, 5);
	samples_in(&e, 101, 8, 8);
	ASSERT_EQ(count(EV_OOM_KILL), 7, "a rise 20 s after a victim is a kill of its own");
	count_in(&e, 100, 8, 5);                /* the same state again (a rotated record) */
	samples_in(&e, 102, 8, 8);
	ASSERT_EQ(count(EV_OOM_KILL), 7, "a state said again is no news");
	e.cgroups->next->version = CG_V1;       /* 8 as v1, for under_oom */
	o = (struct obs){ .kind = OBS_OOM_STATE, .t = 110, .cg = 8,
			  .oom = { .under_oom = 1, .oom_kills = 5 } };
	eng_feed(&e, &o);                       /* a stall ... */
	ASSERT_EQ(count(EV_STALL), 1, "the stall");
	victim_in(&e, 111, 8, 8);               /* ... a kill ends it, and before the next read */
	o.t = 112;                              /* the record rotates: the state said again */
	eng_feed(&e, &o);
	ASSERT_EQ(count(EV_OOM_KILL), 8, "the kill after the stall");
	ASSERT_EQ(count(EV_STALL), 1, "a state said again starts no second stall");
	count_in(&e, 120, 9, 2);                /* a rise, and the cgroup gone before the wait */
	eng_feed(&e, &(struct obs){ .kind = OBS_CGROUP_DEL, .t = 120.1, .cg = 9 });
	ASSERT_EQ(count(EV_OOM_KILL), 9, "a rise read before the cgroup went is reported");
	eng_free(&e);
}

/* Counted kills at the edges a review found: a daemon reading every 30 s (kill window 45 s),
 * whose counts rise over two reads; a known kill outliving the window of a later, unrelated
 * one while a rise it explains waits for a read; a cgroup re-created at the same path; on
 * v1 a parent's own kill beside a child's; and a jump beyond ENG_UNSEEN_MAX of which most
 * are explained. */
static void test_engine_unseen_kills_edges(void)
{
	struct engine e;
	uint64_t cg;

	engine_start(&e, 10);                   /* v2, --interval 30: /x, /x/p, /x/p/c, /x/q */
	e.p.kill_window = eng_kill_window(30);
	e.cgroups->version = CG_V2;
	add_cg(&e, 8, "x/p", CG_V2);
	add_cg(&e, 9, "x/p/c", CG_V2);
	add_cg(&e, 10, "x/q", CG_V2);
	for (cg = 7; cg <= 10; cg++)
		count_in(&e, 0.5, cg, 0);
	victim_in(&e, 1, 9, 9);
	for (cg = 7; cg <= 9; cg++)
		count_in(&e, 30, cg, 1);
	victim_in(&e, 40, 9, 9);
	victim_in(&e, 50, 10, 10);              /* unrelated, and later than the window of 1 */
	for (cg = 7; cg <= 9; cg++)
		count_in(&e, 60, cg, 2);
	count_in(&e, 60, 10, 1);
	samples_in(&e, 61, 7, 10);
	ASSERT_EQ(count(EV_OOM_KILL), 3, "three kills seen, counted over two reads 30 s apart");
	eng_free(&e);

	engine_start(&e, 10);                   /* v2: a service re-created at its path */
	e.cgroups->version = CG_V2;
	add_cg(&e, 11, "x/s", CG_V2);
	count_in(&e, 0.5, 11, 0);
	victim_in(&e, 2, 11, 11);
	eng_feed(&e, &(struct obs){ .kind = OBS_CGROUP_DEL, .t = 3, .cg = 11 });
	add_cg(&e, 12, "x/s", CG_V2);
	count_in(&e, 4, 12, 0);
	count_in(&e, 10, 12, 1);                /* its kill, the record lost */
	samples_in(&e, 11, 12, 12);
	ASSERT_EQ(count(EV_OOM_KILL), 2, "the kill of the cgroup before is not this one's");
	eng_free(&e);

	engine_start(&e, 10);                   /* v1: pod 7, container 8 */
	add_cg(&e, 8, "x/c", CG_V1);
	count_in(&e, 0.5, 7, 0);
	count_in(&e, 0.5, 8, 0);
	victim_in(&e, 10, 7, 8);                /* a container's task, for the pod's limit */
	count_in(&e, 11, 8, 1);
	count_in(&e, 11, 7, 1);                 /* v1 counts are each cgroup's own: the pod's */
	samples_in(&e, 12, 7, 8);               /* own task's kill, its record lost */
	ASSERT_EQ(count(EV_OOM_KILL), 2, "v1: a parent's own kill beside its child's");
	ASSERT_EQ(got[ngot - 1].pid, 0, "... reported without its victim");
	for (int i = 0; i < 16; i++)            /* 16 seen, then the count jumps by 18 */
		victim_in(&e, 20 + 0.01 * i, 7, 7);
	count_in(&e, 21, 7, 19);
	feed_sample(&e, 22, MB, 100 * MB);
	ASSERT_EQ(count(EV_OOM_KILL), 2 + 16 + 2, "a jump of 18, 16 seen: the 2 lost reported");
	eng_free(&e);
}

/* A kill for a parent's limit (a pod's, a node's), of a task in a watched child far from its
 * own: the kernel side names the parent (the cgroup at its limit). The event is the
 * parent's, with the lead of the parent's forecast, and names the child the victim lived in;
 * the child's history restarts as the parent's does (its task died). A victim in an
 * unwatched child, or in the cgroup itself, names no other cgroup. */
static void test_engine_kill_for_a_parents_limit(void)
{
	struct engine e;
	struct obs add = { .kind = OBS_CGROUP_ADD, .t = 0, .cg = 8 };
	struct obs vic = { .kind = OBS_VICTIM, .t = 90, .cg = 7 };
	struct eng_cgroup *child;
	double t;

	engine_start(&e, 10);                   /* the parent: id 7, /sys/fs/cgroup/memory/x */
	snprintf(add.add.path, sizeof(add.add.path), "/sys/fs/cgroup/memory/x/a");
	add.add.version = CG_V1;
	eng_feed(&e, &add);
	for (t = 0; t < 90; t += 0.5) {         /* parent: 1 MB/s to 100 MB at t = 90 */
		struct obs o = { .kind = OBS_SAMPLE, .t = t, .cg = 8 };

		feed_sample(&e, t, 10 * MB + MB * t, 100 * MB);
		o.sample.usage = (uint64_t)(5 * MB + MB * t / 2);       /* half of it, of 80 MB */
		o.sample.limit = (uint64_t)(80 * MB);
		eng_feed(&e, &o);
	}
	child = eng_find(&e, 8);
	ASSERT_TRUE(child && child->fc.nhist > 0, "the child has a history before the kill");
	ASSERT_EQ(count(EV_FORECAST), 1, "the parent's forecast, none for the child");
	vic.victim.pid = 42;
	vic.victim.oom_score_adj = 0;
	vic.victim.task_cgroup = 8;
	snprintf(vic.victim.comm, sizeof(vic.victim.comm), "leak");
	eng_feed(&e, &vic);
	ASSERT_EQ(count(EV_OOM_KILL), 1, "one kill");
	ASSERT_STR(got[ngot - 1].cgroup, "/sys/fs/cgroup/memory/x", "the kill is the parent's");
	ASSERT_TRUE(got[ngot - 1].victim_cgroup != NULL, "names the victim's cgroup");
	if (got[ngot - 1].victim_cgroup)
		ASSERT_STR(got[ngot - 1].victim_cgroup, "/sys/fs/cgroup/memory/x/a", "victim_cgroup");
	ASSERT_NEAR(got[ngot - 1].lead_seconds, 10, 1.1, "the parent's forecast's lead");
	ASSERT_EQ(child->fc.nhist, 0, "the child's history restarts");
	/* a victim in a child nobody watches: no victim_cgroup */
	vic.t = 95;
	vic.victim.task_cgroup = 99;
	eng_feed(&e, &vic);
	ASSERT_EQ(count(EV_OOM_KILL), 2, "second kill");
	ASSERT_TRUE(got[ngot - 1].victim_cgroup == NULL, "an unwatched child is not named");
	eng_free(&e);
}

/* A 4 MB/s leak into 32 MB of memory with 48 MB of swap behind it: at the limit usage stays
 * put and the swap grows; the kill comes when both are full (t = 20). The forecast at H=10
 * comes about 10 s before that, and says what the swap holds; blind to swap (the control:
 * the same usage without the swap fields) it fires on the way to the memory limit, over
 * 15 s before the kill. */
static double swap_first_forecast(int with_swap, struct oc_event *ev)
{
	const double L = 32 * MB, S = 48 * MB, rate = 4 * MB;
	struct engine e;
	double t, first = NAN;

	engine_start(&e, 10);
	for (t = 0; t < 20; t += 0.5) {
		struct obs o = { .kind = OBS_SAMPLE, .t = t, .cg = 7 };
		double total = 1 * MB + rate * t;

		o.sample.usage = (uint64_t)fmin(total, L);
		o.sample.limit = (uint64_t)L;
		if (with_swap) {
			o.sample.swap = (uint64_t)fmax(total - L, 0);
			o.sample.swap_limit = (uint64_t)S;
		}
		eng_feed(&e, &o);
		if (isnan(first) && count(EV_FORECAST)) {
			first = t;
			for (int i = 0; i < ngot; i++)
				if (got[i].kind == EV_FORECAST)
					*ev = got[i];
		}
	}
	eng_free(&e);
	return first;
}

static void test_engine_swap(void)
{
	struct oc_event ev = { 0 }, blind = { 0 };
	double t_kill = (80 * MB - 1 * MB) / (4 * MB);
	double with = swap_first_forecast(1, &ev), without = swap_first_forecast(0, &blind);

	ASSERT_RANGE(t_kill - with, 9, 11, "lead with swap counted");
	ASSERT_RANGE(ev.eta_seconds, 9, fire_eta(10) + 0.01, "its ETA");
	ASSERT_EQ(ev.usage_bytes, 32 * MB, "usage is memory alone");
	ASSERT_EQ(ev.limit_bytes, 32 * MB, "limit is memory alone");
	ASSERT_TRUE(ev.swap_bytes > 5 * MB && ev.swap_bytes < 12 * MB, "swap held at the forecast");
	ASSERT_EQ(ev.swap_limit_bytes, 48 * MB, "swap limit");
	ASSERT_TRUE(t_kill - without > 15, "blind to swap: fires on the way to memory.max");
	ASSERT_EQ(blind.swap_limit_bytes, 0, "no swap fields without swap");
}

static void test_engine_clear_and_stall(void)
{
	struct engine e;
	struct obs st = { .kind = OBS_OOM_STATE, .cg = 7 };
	double t;

	engine_start(&e, 10);
	for (t = 0; t < 10; t += 0.5)           /* a fast rise ... */
		feed_sample(&e, t, 50 * MB + 4 * MB * t, 100 * MB);
	ASSERT_EQ(count(EV_FORECAST), 1, "forecast on the rise");
	for (; t < 40; t += 0.5)                /* ... that stops: risk gone */
		feed_sample(&e, t, 90 * MB, 100 * MB);
	ASSERT_EQ(count(EV_CLEAR), 1, "clear once calm");
	st.t = 41;
	st.oom.under_oom = 1;
	st.oom.oom_kill_disable = 1;
	eng_feed(&e, &st);
	ASSERT_EQ(count(EV_STALL), 1, "stall when under_oom");
	st.t = 42;
	eng_feed(&e, &st);
	ASSERT_EQ(count(EV_STALL), 1, "one stall per episode");
	st.t = 43;
	st.oom.under_oom = 0;
	eng_feed(&e, &st);
	ASSERT_EQ(count(EV_STALL_END), 1, "stall_end");
	eng_free(&e);
}

/* A leak in spells (it follows traffic, or a batch job): A s at 4 MB/s, then Q s quiet, read
 * as the daemon reads it (10 samples a second while it grows, the 1 s polls while quiet).
 * Quiet spells longer than the trend window hide the growth from the trend (a forecast
 * 0.05 H ahead at H=30 with 5 s spells every 25 s, before the long trend); the history's
 * average pace keeps it. The episode that ends in the kill is never late, unless the horizon
 * is shorter than a quiet spell (no forecaster sees a spell coming); it may be early: a
 * spell's start is a knee, and while it lasts its own pace (up to 1/duty of the average)
 * is the trend; and where in a spell the limit falls decides the kill (a cycle). The long
 * trend needs two cycles of history: cycles up to 40 s (the history holds 51 s of growth;
 * 25 s spells every 50 s come 0.35 H ahead at H=30). */
static void test_leak_in_spells(void)
{
	double spells[][2] = { { 5, 5 }, { 10, 10 }, { 15, 15 }, { 5, 20 }, { 20, 5 }, { 20, 20 },
			       { 10, 30 } };
	double horizons[] = { 5, 10, 30, 60 };

	for (int d = 0; d < 7; d++)
		for (int j = 0; j < 4; j++) {
			double a = spells[d][0], q = spells[d][1], h = horizons[j], rate = 4 * MB;
			double limit = 10 * MB + rate * a * ceil((3 * h + 60) / (a + q)) - rate * a / 2;
			double t, kill = NAN, fc = NAN;
			struct engine e;

			engine_start(&e, h);
			for (t = 0; t < 1e4; t += 0.1) {
				double ph = fmod(t, a + q), risk = 10 * MB + rate * (a * floor(t / (a + q)) +
										   fmin(ph, a));

				if (risk >= limit) {
					kill = t;
					break;
				}
				if (ph >= a && fmod(t + 1e-9, 1.0) >= 0.1)
					continue;
				feed_sample(&e, t, risk, limit);
			}
			for (int i = 0; i < ngot; i++)  /* the last episode's forecast */
				if (got[i].kind == EV_FORECAST)
					fc = got[i].time;
			eng_free(&e);
			ASSERT_TRUE(!isnan(kill) && !isnan(fc), "exhausted, and forecast");
			ASSERT_RANGE(kill - fc, h >= q ? 0.9 * h : 0, h * (a + q) / a + a + q,
				     "lead: not late; early by the spells' pace and a cycle at most");
		}
}

/* A burst forecast whose moment passes with no kill (8 tasks starting at once, then a slow
 * leak under their teeth) ends its episode once the ETA is beyond the horizon, though the
 * trend's ETA is still within twice the horizon; the leak then gets a forecast of its own,
 * a horizon ahead. */
static void test_engine_burst_proved_wrong_clears(void)
{
	struct engine e;
	double t, fc2 = NAN;

	engine_start(&e, 60);
	for (t = 0; t < 3; t += 0.1)            /* idle, then 0 to 100 MB in a second */
		feed_sample(&e, t, 1 * MB + 100 * MB * fmax(t - 2, 0), 400 * MB);
	ASSERT_EQ(count(EV_FORECAST), 1, "the burst is forecast");
	for (; t < 200; t += 0.5) {             /* then 2 MB/s: 400 MB at t = 153 */
		feed_sample(&e, t, 100 * MB + 2 * MB * (t - 3), 400 * MB);
		if (isnan(fc2) && count(EV_FORECAST) == 2)
			fc2 = t;
		if (t > 153)
			break;
	}
	ASSERT_EQ(count(EV_CLEAR), 1, "the burst's episode ended");
	ASSERT_EQ(count(EV_FORECAST), 2, "the leak has its own forecast");
	ASSERT_RANGE(153 - fc2, 54, 66, "a horizon ahead");
	eng_free(&e);
}

/* A floor cuts the trend window short: right after it the window may hold two points, whose
 * line fits by construction. A sawtooth that stopped (one tooth, then 42 s flat) and one
 * step of 5% of the limit: no forecast at H=10 (two points gave ETA 9 s, confidence 0.45). */
static void test_two_points_after_a_floor_are_no_trend(void)
{
	struct fc_params p;
	struct fc_state s;
	double L = 2e9, t;
	int fired = 0;

	fc_params_default(&p, 10);
	fc_init(&s);
	for (t = 0; t < 58; t += 1) {
		double r = t < 6 ? L * (0.3 + 0.05 * t) : t < 8 ? L * 0.5 :
			   t < 50 ? L * (0.5 + ((int)t % 2) * 0.001) : L * (t < 51 ? 0.5 : 0.55);
		struct fc_input in = { t, (uint64_t)r, (uint64_t)L, 0, 0, 0, 0, 0 };
		struct fc_result out;

		fc_observe(&s, &p, &in, &out);
		fired |= t >= 50 && out.mode != FC_NONE && out.eta <= 10 &&
			 out.confidence >= p.min_confidence;
	}
	ASSERT_TRUE(!fired, "no forecast from two points after a floor");
}

/* A cgroup pinned at its limit (oom_kill_disable, or reclaim that just keeps up), with a dip
 * of 1% now and then: a line through a dip has no growth, but the time is up; the episode
 * must not clear while usage sits at the limit (it did 25 s in). */
static void test_engine_no_clear_at_the_limit(void)
{
	int every[] = { 20, 2 };

	for (int j = 0; j < 2; j++) {
		struct engine e;
		double L = 1e9;

		engine_start(&e, 30);
		for (int k = 0; k < 120; k++)
			feed_sample(&e, k, k < 20 ? L * (0.5 + 0.025 * k) :
				    (k % every[j] == 0 ? 0.99 * L : L), L);
		ASSERT_EQ(count(EV_FORECAST), 1, "forecast");
		ASSERT_EQ(count(EV_CLEAR), 0, "no clear at the limit");
		eng_free(&e);
	}
}

/* An ETA that hovers just above the horizon after the forecast's moment has passed (usage
 * approaching the limit ever more slowly, with counter noise): one episode, not one opened
 * and closed every half minute (4 before the margin over the horizon). */
static void test_engine_hovering_eta_is_one_episode(void)
{
	struct engine e;
	double L = 4e9;
	unsigned seed = 2;

	engine_start(&e, 10);
	for (double t = 0; t < 600; t += 1) {
		double noise, y;

		seed = seed * 1103515245u + 12345u;
		noise = ((seed >> 16) % 1000) / 1000.0 - 0.5;
		y = fmin(L * (1 - 0.9 * exp(-t / 13)) + 0.002 * L * noise, L);
		feed_sample(&e, t, y, L);
	}
	ASSERT_EQ(count(EV_FORECAST), 1, "one episode");
	eng_free(&e);
}

/* A leak read every 0.9 s (a slow leak's kernel samples come that sparsely): the forecast
 * is due when the last ETA has counted down to the horizon, and the daemon reads the cgroup
 * then (not sooner than 0.25 s after its last read), so the forecast fires within that of
 * the due time, not up to a sample gap after it. No forecast is due while one is out. */
static void test_forecast_due(void)
{
	struct engine e;
	struct eng_cgroup *c;
	double t = 0, last = -1, fired = NAN, checked = NAN, limit = 10 * MB + 60 * MB;

	engine_start(&e, 5);
	c = eng_find(&e, 7);
	ASSERT_TRUE(c != NULL, "the cgroup is watched");
	if (!c)
		return;
	ASSERT_TRUE(isinf(eng_forecast_due(&e, c)), "nothing due before any sample");
	for (int i = 0; i < 1000 && isnan(fired) && t < 60; i++) {
		double due;

		feed_sample(&e, t, 10 * MB + 1 * MB * t, limit);
		last = t;
		for (int j = 0; j < ngot; j++)
			if (got[j].kind == EV_FORECAST)
				fired = got[j].time;
		due = eng_forecast_due(&e, c);
		if (i == 0)
			ASSERT_TRUE(isinf(due), "nothing due after one sample (no trend yet)");
		if (last >= 50 && last < 54 && isnan(checked))
			checked = due - (60 - fire_eta(5));
		t = fmin(last + 0.9, fmax(due, last + 0.25));
	}
	ASSERT_RANGE(checked, -0.05, 0.05, "due time: when the ETA meets H=5 and its margin");
	ASSERT_RANGE(fired - (60 - fire_eta(5)), -0.1, 0.3, "forecast time, from its due time");
	ASSERT_TRUE(isinf(eng_forecast_due(&e, c)), "nothing due while the forecast is out");
	eng_free(&e);
}

/* A 1 MB/s leak from 10 MB into 70 MB (the limit at 60 s) under a daemon at H=30, read at
 * its ticks (TICK apart), at its due read, and, with `fine`, when the time left has shrunk
 * by 5% (eng_fine_due, once that is under an interval). The observation times go to ts;
 * the next fine read with 30 s and with 10 s left to *early and *mid. */
#define TICK 0.95
static int daemon_schedule(double *ts, int max, int fine_reads, double *early, double *mid,
			   int *state)
{
	struct engine e;
	struct eng_cgroup *c;
	double t = 0, limit = 70 * MB;
	int n = 0;

	engine_start(&e, 30);
	c = eng_find(&e, 7);
	if (!c)
		return 0;
	while (n < max && t < 60) {
		double due, fine;

		feed_sample(&e, t, 10 * MB + 1 * MB * t, limit);
		ts[n++] = t;
		due = eng_forecast_due(&e, c);
		fine = fine_reads ? eng_fine_due(&e, c, 1) : INFINITY;
		if (t >= 30 && t < 31)
			*early = fine;
		if (t >= 50 && t < 51)
			*mid = fine - t;
		t = fmin(t + TICK, fmax(fmin(due, fine), t + 0.25));
	}
	*state = c->state;
	eng_free(&e);
	return n;
}

/* The first forecast of a replay of those observations at horizon h. */
static double replay_first(const double *ts, int n, double h)
{
	struct engine e;
	double fired = NAN;

	engine_start(&e, h);
	for (int i = 0; i < n && isnan(fired); i++) {
		feed_sample(&e, ts[i], 10 * MB + 1 * MB * ts[i], 70 * MB);
		for (int j = 0; j < ngot && isnan(fired); j++)
			if (got[j].kind == EV_FORECAST)
				fired = got[j].time;
	}
	eng_free(&e);
	return fired;
}

/* With fine reads, a replay of the daemon's record at H=5 fires within 5% of the time when
 * the ETA met H=5 and its margin; from the ticks and the daemon's own due read alone it
 * fires at the first tick after, late by up to a tick (this schedule's: 0.6 s). Fine
 * reads go on after the daemon's own forecast, and not before the time left is under 20 s. */
static void test_fine_reads_serve_other_horizons(void)
{
	struct engine e;
	double ts[400], early = NAN, mid = NAN, gap = 0, unused;
	int n, state = -1;

	engine_start(&e, 30);
	ASSERT_TRUE(eng_find(&e, 7) && isinf(eng_fine_due(&e, eng_find(&e, 7), 1)),
		    "nothing due before any sample");
	eng_free(&e);
	n = daemon_schedule(ts, 400, 1, &early, &mid, &state);
	ASSERT_EQ(state, CG_FORECAST, "the daemon's own forecast (H=30) is out");
	ASSERT_TRUE(isinf(early), "no fine read while 30 s are left");
	ASSERT_RANGE(mid, 0.45, 0.55, "with ~10 s left, the next read 5% of it later");
	for (int i = 1; i < n; i++)
		if (ts[i] >= 50 && ts[i] <= 58 && ts[i] - ts[i - 1] > gap)
			gap = ts[i] - ts[i - 1];
	ASSERT_RANGE(gap, 0.2, 0.55, "reads with 10 to 2 s left: at most 5% of 10 s apart");
	ASSERT_RANGE(60 - replay_first(ts, n, 5), 0.94 * fire_eta(5), fire_eta(5),
		     "the replay at H=5 fires within 6% after its ETA met H=5 and its margin");
	n = daemon_schedule(ts, 400, 0, &unused, &unused, &state);
	ASSERT_TRUE(60 - replay_first(ts, n, 5) < 0.94 * fire_eta(5),
		    "control: without fine reads it fires late");
}

/* A 4 MB/s anon leak under a page cache that fills the rest of the limit: usage stays at
 * the limit while anon replaces cache, so the kernel's samples (every 0.1 s, the reader
 * allocating) carry no news. The daemon's schedule: a read at each tick (TICK apart) and
 * at eng_fine_due. With 10 to 2 s left, reads come at most 5% of 10 s apart, and the ETA
 * at every sample is within 10% of the time left. Counted from the last sample, the due
 * read was pushed on by every kernel sample: reads a tick apart, the ETA up to a tick
 * stale. */
static void test_fine_reads_when_samples_carry_no_news(void)
{
	struct engine e;
	struct eng_cgroup *c;
	double limit = 384 * MB, rate = 4 * MB, kill = 90, t = 0, next_tick = 0, next_read = 0;
	double last_read = -1, gap = 0, worst = 0;

	engine_start(&e, 30);
	c = eng_find(&e, 7);
	ASSERT_TRUE(c != NULL, "the cgroup is watched");
	if (!c)
		return;
	for (int i = 0; i < 2000 && t < kill - 0.5; i++, t += 0.1) {
		double anon = limit - rate * (kill - t), left = kill - t;
		struct obs o = { .kind = OBS_SAMPLE, .t = t, .cg = 7 };
		int read = t >= next_tick - 1e-9 || t >= next_read - 1e-9;

		o.sample.usage = (uint64_t)limit;
		o.sample.limit = (uint64_t)limit;
		/* a read's own; a kernel sample's is the last read's */
		o.sample.reclaimable = read ? (uint64_t)(limit - anon) : c->sample.reclaimable;
		o.sample.source = read ? SRC_POLL : SRC_KERNEL;
		eng_feed(&e, &o);
		if (read) {
			if (left <= 10 && left >= 2 && last_read >= 0 && t - last_read > gap)
				gap = t - last_read;
			last_read = t;
			if (t >= next_tick - 1e-9)
				next_tick = t + TICK;
		}
		next_read = fmax(eng_fine_due(&e, c, 1), last_read + 0.25);
		if (left <= 10 && left >= 2 && isfinite(c->last.eta))
			worst = fmax(worst, fabs(c->last.eta - left) / left);
	}
	ASSERT_RANGE(gap, 0.2, 0.55, "reads with 10 to 2 s left: at most 5% of 10 s apart");
	ASSERT_RANGE(worst, 0, 0.1, "the worst ETA error with 10 to 2 s left");
	eng_free(&e);
}

/* A step (100 MB in a second, a start-up or one large load) and then a 2 MB/s leak: as the
 * trend window's start passes the step, the few samples of it left at the window's edge
 * must not tilt the line. Every ETA from 20 s on stays within 20% of the time left (before
 * the older half's pace counted: 61 s where 121 s were left, at t = 31.5). */
static void test_step_leaving_the_window(void)
{
	struct engine e;
	struct eng_cgroup *c;
	double t, worst = 0, worst_t = NAN;

	engine_start(&e, 60);
	c = eng_find(&e, 7);
	ASSERT_TRUE(c != NULL, "the cgroup is watched");
	if (!c)
		return;
	for (t = 0; t < 150; t += t < 3 ? 0.1 : 0.5) {
		double left = t < 3 ? NAN : (400 * MB - (100 * MB + 2 * MB * (t - 3))) / (2 * MB);

		feed_sample(&e, t, t < 3 ? 1 * MB + 100 * MB * fmax(t - 2, 0) :
				100 * MB + 2 * MB * (t - 3), 400 * MB);
		if (t >= 20 && isfinite(c->last.eta) &&
		    fabs(c->last.eta - left) / left > worst) {
			worst = fabs(c->last.eta - left) / left;
			worst_t = t;
		}
	}
	ASSERT_RANGE(worst, 0, 0.2, "the worst ETA error from 20 s on");
	if (worst > 0.2)
		fprintf(stderr, "  (at t = %.1f)\n", worst_t);
	eng_free(&e);
}

static void test_trip_bytes(void)
{
	struct engine e;
	struct eng_cgroup c = { 0 };
	double fire;

	engine_start(&e, 10);
	fire = fc_fire_eta(&e.p.fc);
	ASSERT_RANGE(fire, 10, 12, "fires within the horizon and at most 20% more");
	e.p.fc.lead_margin = 0;         /* the round numbers below: at the horizon itself */

	c.sample.limit = 100 * 1000000ULL;
	c.sample.reclaimable = 10 * 1000000ULL;
	c.last.slope = 2 * MB;
	/* risk would be within a 10 s horizon at 80 MB; usage = risk + reclaimable */
	ASSERT_NEAR((double)eng_trip_bytes(&e, &c), 90 * MB, 1, "trip with slope");
	c.last.slope = 0;
	ASSERT_NEAR((double)eng_trip_bytes(&e, &c), 100 * MB, 1, "idle trip at 90% risk");
	/* With 200 MB of swap room the kill is far beyond the memory limit, and usage cannot
	 * show the swap's growth: below the memory limit the trip stays where the memory
	 * limit alone puts it (a trip from memory plus swap, 270 MB of usage, would never
	 * fire); once usage is past that (swapping at the limit), it would fire on every
	 * sample, and the trip is memory plus swap's. */
	c.last.slope = 2 * MB;
	c.sample.usage = 50 * 1000000ULL;
	c.sample.swap = 20 * 1000000ULL;
	c.sample.swap_limit = 200 * 1000000ULL;
	ASSERT_NEAR((double)eng_trip_bytes(&e, &c), 90 * MB, 1, "trip with swap room");
	c.sample.usage = 99 * 1000000ULL;
	ASSERT_NEAR((double)eng_trip_bytes(&e, &c), 270 * MB, 1, "swapping at the limit");
	c.sample.limit = 0;
	ASSERT_EQ(eng_trip_bytes(&e, &c), 0, "no limit read: no trip");
	c.sample.limit = 100 * 1000000ULL;
	c.state = CG_FORECAST;
	ASSERT_EQ(eng_trip_bytes(&e, &c), 0, "no trip while a forecast is out");
	/* with the margin the trip comes earlier by the margin's share of the horizon */
	c.state = CG_OK;
	c.sample.swap = c.sample.swap_limit = 0;
	e.p.fc.lead_margin = 0.1;
	ASSERT_NEAR((double)eng_trip_bytes(&e, &c), 88 * MB, 1, "trip at 1.1 horizons");
	eng_free(&e);
}

int main(void)
{
	RUN(test_steady_leak_fires_a_horizon_ahead);
	RUN(test_accelerating_leak_fires_a_horizon_ahead);
	RUN(test_cache_growth_between_polls_is_not_risk);
	RUN(test_startup_in_an_empty_cgroup_never_fires);
	RUN(test_split_known_after_two_changes);
	RUN(test_cache_refill_after_a_kill_never_fires);
	RUN(test_restart_beside_cache_counts_at_once);
	RUN(test_curve_through_a_leak_start_is_not_extrapolated);
	RUN(test_counter_steps_are_no_acceleration);
	RUN(test_forecast_due);
	RUN(test_fine_reads_serve_other_horizons);
	RUN(test_fine_reads_when_samples_carry_no_news);
	RUN(test_step_leaving_the_window);
	RUN(test_burst_after_a_cache_stream_went_quiet);
	RUN(test_steady_leak_at_long_horizons);
	RUN(test_anon_leak_under_full_cache_between_polls);
	RUN(test_stationary_sawtooth_90pct_never_fires);
	RUN(test_rising_sawtooth_is_caught);
	RUN(test_young_rising_sawtooth_forecast_soon_enough);
	RUN(test_page_cache_at_limit_never_fires);
	RUN(test_noise_near_limit_never_fires);
	RUN(test_requests_near_limit_sampled_unevenly);
	RUN(test_burst_is_caught_early);
	RUN(test_refaulted_active_cache_stays_reclaimable);
	RUN(test_streaming_refaults_stay_reclaimable);
	RUN(test_pressure_at_limit_raises_confidence);
	RUN(test_many_tasks_one_leak);
	RUN(test_tall_teeth_on_a_beat);
	RUN(test_many_tasks_eta_never_late);
	RUN(test_first_teeth_of_a_startup_are_no_trend);
	RUN(test_burst_after_a_kill_is_caught);
	RUN(test_refill_of_a_held_level_never_fires);
	RUN(test_burst_through_a_held_level_is_caught);
	RUN(test_burst_after_an_exit_or_from_a_new_level_is_caught);
	RUN(test_leak_after_a_held_level_keeps_its_line);
	RUN(test_small_step_under_full_cache_never_fires);
	RUN(test_leak_after_a_quiet_spell);
	RUN(test_one_step_is_no_knee);
	RUN(test_staircase_is_not_a_burst);
	RUN(test_plateau_after_ramp_and_teeth_never_fires);
	RUN(test_eta_follows_the_trend_not_the_last_sample);
	RUN(test_leak_starting_in_a_quiet_cgroup);
	RUN(test_engine_episode);
	RUN(test_engine_kill_storm);
	RUN(test_engine_top_tasks_are_recent);
	RUN(test_engine_kill_for_a_parents_limit);
	RUN(test_engine_unseen_kills);
	RUN(test_engine_unseen_kills_edges);
	RUN(test_engine_burst_proved_wrong_clears);
	RUN(test_leak_in_spells);
	RUN(test_two_points_after_a_floor_are_no_trend);
	RUN(test_engine_no_clear_at_the_limit);
	RUN(test_engine_hovering_eta_is_one_episode);
	RUN(test_engine_swap);
	RUN(test_engine_clear_and_stall);
	RUN(test_trip_bytes);
	return TEST_EXIT();
}
