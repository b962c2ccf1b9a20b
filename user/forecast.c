/* forecast.c: the forecaster: from timestamped usage of one cgroup to an ETA to its limit.
 *
 * Method (README "How the forecast works" has the reasoning):
 *  1. Risk = usage - reclaimable: page cache that reclaim can take back is not risk.
 *  2. Turning points with a hysteresis of FC_TURN of the limit split the series into legs;
 *     a fall of more than that after a rise is a sawtooth peak (GC, cache trim, restart).
 *  3. No recent peak: the trend is a least-squares line over the recent window; a burst
 *     (a large rise within the last second) uses the last second's slope instead.
 *  4. Recent peaks: the cgroup is cycling; what kills it is a peak above the limit, so the
 *     ETA follows the line through the peaks, not the teeth. A tooth that breaks out above
 *     the peaks' envelope is treated as new growth and uses its own slope.
 * Pure: the caller supplies every timestamp. */
#include <math.h>
#include <string.h>
#include "forecast.h"

#define FC_TURN 0.03            /* hysteresis for turning points, fraction of the limit */
#define FC_MIN_GAP 0.2          /* history is thinned to this spacing (the newest is exact) */
#define FC_BURST_WIN 1.0        /* seconds: window of the burst slope */

void fc_params_default(struct fc_params *p, double horizon)
{
	memset(p, 0, sizeof(*p));
	p->horizon = horizon;
	p->min_samples = 3;
	p->min_confidence = 0.3;
	p->clear_factor = 2.0;
	p->clear_hold = 5.0;
}

void fc_init(struct fc_state *s)
{
	memset(s, 0, sizeof(*s));
	s->rising = 1;
	s->run_max = -1;
	s->last_t = -INFINITY;
}

const char *fc_mode_name(enum fc_mode m)
{
	static const char *const names[] = { "none", "trend", "cycle", "breakout", "burst" };

	return (unsigned)m < sizeof(names) / sizeof(names[0]) ? names[m] : "none";
}

static const struct fc_sample *hist_at(const struct fc_state *s, int back)
{
	return &s->hist[(s->head - 1 - back + FC_HIST) % FC_HIST];
}

/* Keep samples at least FC_MIN_GAP apart, except the newest, which is always exact: a
 * sample closer than that to the one before the newest replaces the newest. */
static void hist_push(struct fc_state *s, double t, double risk)
{
	if (!s->nhist)
		s->first_t = t;
	if (s->nhist >= 2 && t - hist_at(s, 1)->t < FC_MIN_GAP) {
		s->hist[(s->head - 1 + FC_HIST) % FC_HIST] = (struct fc_sample){ t, risk };
		s->last_t = t;
		return;
	}
	s->hist[s->head] = (struct fc_sample){ t, risk };
	s->head = (s->head + 1) % FC_HIST;
	if (s->nhist < FC_HIST)
		s->nhist++;
	s->last_t = t;
}

static void ring_push(struct fc_sample *ring, int *n, double t, double v)
{
	if (*n == FC_PEAKS) {
		memmove(ring, ring + 1, (FC_PEAKS - 1) * sizeof(*ring));
		(*n)--;
	}
	ring[(*n)++] = (struct fc_sample){ t, v };
}

/* Sawtooth legs: a turn needs a move of `turn` bytes against the current direction. */
static void track_turns(struct fc_state *s, double t, double risk, double turn)
{
	if (s->run_max < 0) {
		s->run_max = s->run_min = risk;
		s->run_max_t = s->run_min_t = t;
		return;
	}
	if (s->rising) {
		if (risk >= s->run_max) {
			s->run_max = risk;
			s->run_max_t = t;
		} else if (risk < s->run_max - turn) {
			ring_push(s->peaks, &s->npeaks, s->run_max_t, s->run_max);
			s->rising = 0;
			s->run_min = risk;
			s->run_min_t = t;
		}
	} else {
		if (risk <= s->run_min) {
			s->run_min = risk;
			s->run_min_t = t;
		} else if (risk > s->run_min + turn) {
			ring_push(s->floors, &s->nfloors, s->run_min_t, s->run_min);
			s->rising = 1;
			s->run_max = risk;
			s->run_max_t = t;
		}
	}
}

struct fit {
	double slope, icpt, r2, span;
	int n;
};

/* Least squares of risk over time for the samples at or after t0. */
static struct fit fit_since(const struct fc_state *s, double t0)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0, tref, first = 0;
	struct fit f = { 0 };
	int i;

	if (!s->nhist)
		return f;
	tref = hist_at(s, 0)->t;
	for (i = 0; i < s->nhist; i++) {
		const struct fc_sample *h = hist_at(s, i);
		double x = h->t - tref, y = h->risk;

		if (h->t < t0)
			break;
		sx += x; sy += y; sxx += x * x; sxy += x * y; syy += y * y;
		first = h->t;
		f.n++;
	}
	if (f.n < 2)
		return f;
	double n = f.n, vx = sxx - sx * sx / n, vy = syy - sy * sy / n, cxy = sxy - sx * sy / n;

	f.span = tref - first;
	if (vx <= 0)
		return f;
	f.slope = cxy / vx;
	f.icpt = (sy - f.slope * sx) / n;       /* value at tref */
	f.r2 = vy > 0 ? cxy * cxy / (vx * vy) : 1.0;
	return f;
}

/* Line through the last k points of a ring; slope 0 with fewer than two. */
static double ring_slope(const struct fc_sample *r, int n, int k, double *at_last)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0;
	int i, m = n < k ? n : k;

	*at_last = n ? r[n - 1].risk : 0;
	if (m < 2)
		return 0;
	for (i = n - m; i < n; i++) {
		double x = r[i].t - r[n - 1].t;

		sx += x; sy += r[i].risk; sxx += x * x; sxy += x * r[i].risk;
	}
	double vx = sxx - sx * sx / m;

	if (vx <= 0)
		return 0;
	double slope = (sxy - sx * sy / m) / vx;

	*at_last = (sy - slope * sx) / m;       /* the fitted value at the last peak */
	return slope;
}

static double eta_of(double limit, double value, double slope)
{
	if (value >= limit)
		return 0;
	return slope > 0 ? (limit - value) / slope : INFINITY;
}

/* Cycling = a peak recently enough: within twice the longest gap seen between peaks (or
 * since the first peak), so a sawtooth that stops cycling falls back to the trend. */
static int cycling(const struct fc_state *s, double now)
{
	double gap = 0;
	int i;

	if (!s->npeaks)
		return 0;
	for (i = 1; i < s->npeaks; i++)
		gap = fmax(gap, s->peaks[i].t - s->peaks[i - 1].t);
	if (s->npeaks == 1)     /* one tooth so far: its rise since the start is the period */
		gap = s->peaks[0].t - s->first_t;
	return now - s->peaks[s->npeaks - 1].t <= fmax(2 * gap, 10.0);
}

static double trend_window(const struct fc_params *p)
{
	return fmin(fmax(p->horizon / 2, 3.0), 30.0);
}

void fc_observe(struct fc_state *s, const struct fc_params *p, const struct fc_input *in,
		struct fc_result *out)
{
	double limit = (double)in->limit, reclaim = fmin((double)in->reclaimable, in->usage);
	double risk = (double)in->usage - reclaim, turn = FC_TURN * limit;
	struct fit trend, burst;

	memset(out, 0, sizeof(*out));
	out->eta = INFINITY;
	out->risk = risk;
	if (!(limit > 0) || in->limit == UINT64_MAX)
		return;
	s->nsamples++;
	hist_push(s, in->t, risk);
	track_turns(s, in->t, risk, turn);
	if (s->nsamples < p->min_samples)
		return;

	trend = fit_since(s, in->t - trend_window(p));
	burst = fit_since(s, in->t - FC_BURST_WIN);

	if (cycling(s, in->t)) {
		double at_last, ps = ring_slope(s->peaks, s->npeaks, 6, &at_last);
		double last_t = s->peaks[s->npeaks - 1].t;
		double envelope = at_last + fmax(ps, 0) * (in->t - last_t);

		out->mode = FC_CYCLE;
		out->slope = ps;
		out->eta = ps > 0 ? fmax(eta_of(limit, envelope, ps), 0) : INFINITY;
		out->confidence = fmin(1.0, s->npeaks / 4.0);
		if (risk > envelope + turn && s->rising) {
			/* this tooth is past every earlier peak: growth of a new kind */
			struct fit leg = fit_since(s, s->nfloors ? s->floors[s->nfloors - 1].t : in->t - 5);
			double e = eta_of(limit, risk, leg.slope);

			if (e < out->eta) {
				out->mode = FC_BREAKOUT;
				out->slope = leg.slope;
				out->eta = e;
				out->confidence = leg.r2;
			}
		}
		return;
	}

	out->mode = trend.slope > 0 ? FC_TREND : FC_NONE;
	out->slope = trend.slope;
	out->eta = eta_of(limit, risk, trend.slope);
	out->confidence = trend.r2 * fmin(1.0, trend.span / trend_window(p) + 0.25);
	/* A burst: the last second rose by more than the turn threshold, at more than twice the
	 * trend's pace (a steady leak is the trend's business, not a burst). */
	if (burst.n >= 2 && burst.slope > 2 * fmax(trend.slope, 0) &&
	    burst.slope * burst.span > turn) {
		double e = eta_of(limit, risk, burst.slope);

		if (e < out->eta) {
			out->mode = FC_BURST;
			out->slope = burst.slope;
			out->eta = e;
			out->confidence = fmax(burst.r2, 0.5);
		}
	}
	(void)in->kernel_rate;
}
