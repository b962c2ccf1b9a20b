/* forecast.c: the forecaster: from timestamped usage of one cgroup to an ETA to its limit.
 *
 * Method (docs/forecast.md has the reasoning and the measurements):
 *  1. Risk = usage - reclaimable: page cache that reclaim can take back is not risk, nor
 *     is the per-CPU charge stock the kernel drains before it kills (cgroup.c). Between
 *     two reads of memory.stat the daemon only knows usage (the kernel's samples); a change
 *     of usage then counts as risk in the share that risk took of the last two changes seen
 *     with memory.stat in one run of growth (the one that makes the lower risk), and a
 *     kernel sample whose usage did not move, or whose share is not known yet, carries no
 *     news: the last verdict stands, its ETA shortened by the time that passed.
 *  2. Turning points with a hysteresis of FC_TURN of the limit split the series into legs;
 *     a fall of more than that after a rise is a sawtooth peak (GC, cache trim, restart).
 *  3. No recent peak: the trend is a least-squares line over the recent window, from the last
 *     floor on, its ETA from the line's value now. Where the line misfits, the better of two
 *     curves (curvature must explain most of what the line leaves): a knee (a hinge: flat,
 *     then a line; the segment after it is the trend) or acceleration (a parabola, whose
 *     curvature must also pass the F test against the line at 0.1%). A newer
 *     half of the window that grows at under half the whole's pace (a ramp, then a plateau)
 *     is the trend instead. Growth in spells, with quiet spells longer than the window, is
 *     followed by the Theil-Sen slope over the longer history (long_trend). A burst (a large
 *     rise within the last second) uses the last second's slope, extrapolated no further
 *     than FC_BURST_REACH. A rise back to a level held (FC_HOLD) before the last fall, a
 *     trim, is a refill: no burst until it passes that level by the hysteresis, and no line
 *     through it if it came back within FC_KNEE_MIN. A line (or curve) that covers less
 *     than three quarters of its window is trusted less beyond five times the time it
 *     spans (its reach), and a curve needs FC_KNEE_MIN of data; a parabola that covers
 *     less, a breakout's leg, and a cycle of fewer than FC_CYCLE_PEAKS peaks, are not
 *     extrapolated beyond their reach at all.
 *     A line (or curve) that rises through a band the cgroup has already been in (as high
 *     or higher before, by half the noise floor, more than the time the line takes to climb
 *     that floor ago, and back down since) opens no episode: its confidence is cut below the
 *     minimum (new_ground): requests stepping a few MB up and down near the limit, sampled
 *     unevenly, drew a rise that was not there.
 *     Evidence beyond the file LRU (memory.stat, memory.pressure):
 *     - refaults are recorded but not used: discounting refaulted active cache from
 *       reclaimable (cache refaulted as fast as it is reclaimed looks like a working set)
 *       was tried and measured on the bench's real records: a file re-read in a loop
 *       through a cgroup smaller than it activates its refaulted pages too, and the rule
 *       raised a false forecast on page cache at every horizon (69/88 targets with it,
 *       76/88 without). MADV_FREE'd (lazily freed) pages have no counter of their own;
 *       they sit on the inactive file LRU, hence in reclaimable.
 *     - pressure: PSI some (v2) that is non-zero and not falling while usage is at the
 *       limit is independent evidence that reclaim is failing: the confidence of an ETA is
 *       combined with it (1 - (1 - c)(1 - p), p = psi / (psi + FC_PSI_HALF)).
 *  4. Recent peaks: the cgroup is cycling; what kills it is a peak above the limit, so the
 *     ETA follows the peaks, not the teeth: one slope fitted over the last FC_PEAKS peaks and
 *     floors together (each with its own level), and an envelope of that slope through the
 *     highest recent peak, because teeth of several tasks add up to irregular heights and
 *     the tallest meets the limit first. Four peaks make that trend, and until FC_CYCLE_PEAKS
 *     it is not extrapolated beyond five times the time its peaks span. A tooth that breaks
 *     out above the envelope is treated as new growth and uses its own slope (its leg, as
 *     a line, no further than five times the leg). A fall from the limit itself is the OOM
 *     killer, not a tooth, and records no peak.
 *  5. Teeth of several tasks on a beat: peaks that reach the envelope (within FC_TALL) are
 *     the tall teeth; four at regular intervals, with lesser teeth between and sampled
 *     finely enough to place them, make a beat. The limit is then met at the first tall
 *     tooth that may reach it (its top as high as its samples allow, lifted by the steepest
 *     of the slope through whole beats' means, the last beat's rise and the envelope's
 *     slope), not where the envelope meets it, up to a beat earlier: that ETA is never
 *     earlier than the envelope's, never more than a beat later. The other teeth may come
 *     at any time and bound it with their own envelope, down to the envelope's ETA.
 * Pure: the caller supplies every timestamp. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "forecast.h"

#define FC_TURN 0.03            /* hysteresis for turning points, fraction of the limit */
#define FC_MIN_GAP 0.2          /* history is thinned to this spacing (the newest is exact) */
#define FC_BURST_WIN 1.0        /* seconds: window of the burst slope */
#define FC_BURST_REACH 5.0      /* seconds: the furthest a burst's ETA reaches (trend_window's
				   minimum) */
#define FC_LINE_REACH (FC_BURST_REACH / FC_BURST_WIN)   /* a line's reach, in its spans */
/* A usage change below this fraction of the limit is counter noise, not news: the same 1%
 * at which the daemon re-reads memory.stat after a kernel sample. */
#define FC_SPLIT_MIN 0.01
/* The parabola replaces the line only if it leaves at most this share of the line's
 * residual: curvature must explain most of the misfit, not just some noise. */
#define FC_ACCEL_EXPLAIN 0.5
/* The newer half of a trend window replaces the whole when it grows at less than this
 * share of the whole's pace, and has at least FC_DECEL_MIN_N samples (the daemon reads at
 * least once a second: a plateau of 3 s). */
#define FC_DECEL 0.5
#define FC_DECEL_MIN_N 3
#define FC_LONG_R2 0.8          /* the long trend must fit at least this well */
#define FC_LONG_BINS 8          /* spans of the long trend's history */
#define FC_ACCEL_MIN_N 8        /* points: three coefficients need a margin of data */
/* Seconds after a knee before its segment is a trend: the last FC_BURST_WIN seconds are the
 * burst rule's, which extrapolates them no further than FC_BURST_REACH; a step of a second
 * (a reader's buffers, a batch of charges) is no trend to extrapolate for a minute. */
#define FC_KNEE_MIN (2 * FC_BURST_WIN)
#define FC_KNEE_R2 0.8          /* the segment after a knee is a line: R^2 at least this */
/* Peaks (and floors) the sawtooth's trend is fitted over: a dozen teeth, so that teeth of
 * several tasks whose heights repeat over a few periods are seen through a whole repeat. */
#define FC_CYCLE_PEAKS FC_PEAKS
#define FC_PSI_HALF 10.0        /* PSI some avg10 (percent) that counts as even evidence */
/* Teeth of several tasks: a peak within FC_TALL of the limit below the envelope is one of
 * the tall teeth (the tasks' peaks coincide); FC_BEAT_TALLS of them whose intervals are
 * each within FC_BEAT_JITTER of their mean make a beat. The beat's slope (whole beats'
 * means) is trusted to FC_BEAT_SLOPE_ERR of itself. */
#define FC_TALL (FC_TURN / 2)
#define FC_BEAT_TALLS 4
#define FC_BEAT_JITTER 0.1
#define FC_BEAT_SLOPE_ERR 0.1
#define FC_BEAT_WINDOWS 3       /* whole beats the slope is measured over, at most */
/* A tooth's top lies between its sample and its miss above it (the pace into the sample
 * times the gap after it); sampled at a random phase, half the miss above it on average. */
#define FC_MISS_MEAN 0.5
/* A level held at least this long (as long as a burst's ETA reaches) is where the cgroup
 * lives: a trim from it and a fast rise back (a Go heap that the scavenger returned, then
 * refilled at once; a pool dropped and rebuilt) is a refill, no burst, until the risk passes
 * the level by the hysteresis. A tooth's or a burst's top is passed, not held. A trim gives
 * back less than half the level and rises again within FC_HOLD: a fall to under half (a
 * process that exited) or a floor held as long is a new level, and the rise from it a rise. */
#define FC_HOLD FC_BURST_REACH

void fc_params_default(struct fc_params *p, double horizon)
{
	memset(p, 0, sizeof(*p));
	p->horizon = horizon;
	p->lead_margin = FC_LEAD_MARGIN;
	p->min_samples = 3;
	p->min_confidence = 0.3;
	p->clear_factor = 2.0;
	p->clear_hold = 5.0;
}

double fc_fire_eta(const struct fc_params *p)
{
	return p->horizon * (1 + p->lead_margin);
}

void fc_init(struct fc_state *s)
{
	memset(s, 0, sizeof(*s));
	s->rising = 1;
	s->run_max = -1;
	s->held = -1;
	s->last_t = -INFINITY;
	s->split = s->split_prev = NAN;
	s->prev.eta = INFINITY;
}

int fc_split_known(const struct fc_state *s)
{
	return !isnan(s->split) && !isnan(s->split_prev);
}

const char *fc_mode_name(enum fc_mode m)
{
	static const char *const names[] = { "none", "trend", "cycle", "breakout", "burst",
					     "accel" };

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

/* Room for one more element (of `size` bytes) in a ring of FC_PEAKS holding *n, oldest
 * first: the oldest goes if it is full. Returns the new element's index; *n counts it. */
static int ring_slot(void *ring, int *n, size_t size)
{
	if (*n == FC_PEAKS) {
		memmove(ring, (char *)ring + size, (FC_PEAKS - 1) * size);
		(*n)--;
	}
	return (*n)++;
}

static void ring_push(struct fc_sample *ring, int *n, double t, double v)
{
	ring[ring_slot(ring, n, sizeof(*ring))] = (struct fc_sample){ t, v };
}

static double cycle_trend(const struct fc_state *s, int k, double now, double *envelope);

/* A peak (the current run's top) is tall if it reaches within FC_TALL of the envelope the
 * earlier peaks make. */
static void push_peak(struct fc_state *s, double t, double v, double limit)
{
	double env;
	int tall = 1;

	if (s->npeaks) {
		cycle_trend(s, FC_CYCLE_PEAKS, t, &env);
		tall = v >= env - FC_TALL * limit;
	}
	if (s->npeaks == FC_PEAKS) {
		memmove(s->peak_tall, s->peak_tall + 1, FC_PEAKS - 1);
		memmove(s->peak_miss, s->peak_miss + 1, (FC_PEAKS - 1) * sizeof(*s->peak_miss));
	}
	ring_push(s->peaks, &s->npeaks, t, v);
	s->peak_tall[s->npeaks - 1] = (unsigned char)tall;
	s->peak_miss[s->npeaks - 1] = s->run_max_miss;
	if (!tall) {
		s->lesser += s->lesser < 1000;
		return;
	}
	s->talls[ring_slot(s->talls, &s->ntalls, sizeof(*s->talls))] = (struct fc_tall){
		t, v, s->run_max_miss, s->run_max_gap,
		s->nfloors ? t - s->floors[s->nfloors - 1].t : 0, s->lesser };
	s->lesser = 0;
}

/* A new top of the current rise, and how fast the rise came into it (from the sample
 * before): once the next sample is seen, the true top may lie that pace times the gap
 * above this sample (a tooth that kept rising, then fell at once). */
static void new_max(struct fc_state *s, double t, double risk)
{
	s->run_max = risk;
	s->run_max_t = t;
	s->run_max_rate = s->have_raw && t > s->raw_t ?
		fmax((risk - s->raw_risk) / (t - s->raw_t), 0) : 0;
	s->run_max_miss = -1;   /* not known before the next sample */
}

/* How long the risk stayed at or above `level` in the newest such run of the history. */
static double held_for(const struct fc_state *s, double level)
{
	double last = -1, first = -1;

	for (int i = 0; i < s->nhist; i++) {
		const struct fc_sample *h = hist_at(s, i);

		if (h->risk >= level) {
			if (last < 0)
				last = h->t;
			first = h->t;
		} else if (last >= 0) {
			break;
		}
	}
	return last >= 0 ? last - first : 0;
}

/* Sawtooth legs: a turn needs a move of `turn` bytes against the current direction. A fall
 * from the limit itself (within counter noise) is no tooth: what took the memory back there
 * was the OOM killer or the task giving up, and a "peak" at the limit would make every later
 * rise look like one more harmless tooth (a burst right after a kill went unforecast). Nor
 * is a fall from the first sample, a top never seen rising: after a kill the first reading
 * may be taken while the victim's memory is being freed (85% of the limit, then 0: the next
 * burst was forecast 0.3 s ahead, as the breakout of a cycle of that one "tooth"). */
static void track_turns(struct fc_state *s, double t, double risk, double limit)
{
	double turn = FC_TURN * limit;

	if (s->run_max < 0) {
		new_max(s, t, risk);
		s->run_min = risk;
		s->run_min_t = t;
	} else if (s->rising) {
		if (risk >= s->run_max) {
			new_max(s, t, risk);
		} else {
			if (s->run_max_miss < 0) {
				s->run_max_gap = t - s->run_max_t;
				s->run_max_miss = s->run_max_rate * s->run_max_gap;
			}
			if (risk < s->run_max - turn) {
				if (s->run_max < limit * (1 - FC_SPLIT_MIN) && s->run_max_t > s->first_t)
					push_peak(s, s->run_max_t, s->run_max, limit);
				/* a level under the limit by two hysteresis (room for a burst past
				 * it), held, before this fall */
				s->held = s->run_max < limit - 2 * turn &&
					held_for(s, s->run_max - turn) >= FC_HOLD ? s->run_max : -1;
				s->held_fall_t = t;
				s->rising = 0;
				s->run_min = risk;
				s->run_min_t = t;
			}
		}
	} else {
		if (risk <= s->run_min) {
			s->run_min = risk;
			s->run_min_t = t;
		} else if (risk > s->run_min + turn) {
			if (s->run_min < s->held / 2 || t - s->held_fall_t >= FC_HOLD)
				s->held = -1;   /* no trim: a new level */
			ring_push(s->floors, &s->nfloors, s->run_min_t, s->run_min);
			s->rising = 1;
			new_max(s, t, risk);
		}
	}
	s->raw_t = t;
	s->raw_risk = risk;
	s->have_raw = 1;
}

struct fit {
	double slope, icpt, r2, span;
	int n;
};

/* Least squares of risk over time for the samples from t0 to t1 (icpt: the value at the
 * newest sample of all). */
static struct fit fit_between(const struct fc_state *s, double t0, double t1)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0, tref, first = 0, last = NAN;
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
		if (h->t > t1)
			continue;
		sx += x; sy += y; sxx += x * x; sxy += x * y; syy += y * y;
		first = h->t;
		if (isnan(last))
			last = h->t;
		f.n++;
	}
	if (f.n < 2)
		return f;
	double n = f.n, vx = sxx - sx * sx / n, vy = syy - sy * sy / n, cxy = sxy - sx * sy / n;

	f.span = last - first;
	if (vx <= 0)
		return f;
	f.slope = cxy / vx;
	f.icpt = (sy - f.slope * sx) / n;       /* value at tref */
	f.r2 = vy > 0 ? fmin(cxy * cxy / (vx * vy), 1.0) : 1.0;     /* rounding can pass 1 */
	return f;
}

/* Least squares of risk over time for the samples at or after t0. */
static struct fit fit_since(const struct fc_state *s, double t0)
{
	return fit_between(s, t0, INFINITY);
}

/* Sums of the last k points of a ring around their own mean: sxx, sxy; returns how many. */
static int ring_sums(const struct fc_sample *r, int n, int k, double *sxx, double *sxy)
{
	double mt = 0, mv = 0;
	int i, m = n < k ? n : k;

	if (m < 2)
		return m;
	for (i = n - m; i < n; i++)
		mt += r[i].t - r[n - 1].t, mv += r[i].risk;
	mt /= m, mv /= m;
	for (i = n - m; i < n; i++) {
		double x = r[i].t - r[n - 1].t - mt;

		*sxx += x * x;
		*sxy += x * (r[i].risk - mv);
	}
	return m;
}

/* The sawtooth's trend: one slope shared by the peaks and the floors (a leak under the
 * teeth lifts both; two series halve the noise of one), each with its own level. Teeth of
 * several tasks add up to irregular heights: what the limit meets first is the highest
 * tooth, so the envelope is the line of that slope through the highest of the recent peaks
 * (not through their mean). Returns the slope; *envelope is the envelope's value at now. */
static double cycle_trend(const struct fc_state *s, int k, double now, double *envelope)
{
	double sxx = 0, sxy = 0, slope = 0, env = -INFINITY;
	int i, m = ring_sums(s->peaks, s->npeaks, k, &sxx, &sxy);

	if (m >= 2) {
		ring_sums(s->floors, s->nfloors, k, &sxx, &sxy);       /* < 2 floors add 0 */
		slope = sxx > 0 ? sxy / sxx : 0;
	}
	for (i = s->npeaks - (m < 1 ? 1 : m); i < s->npeaks; i++)
		env = fmax(env, s->peaks[i].risk + fmax(slope, 0) * (now - s->peaks[i].t));
	*envelope = env;
	return slope;
}

/* How far a line fitted over span seconds is trusted to reach eta: fully up to
 * FC_LINE_REACH times its span, as far as the burst rule reaches from its one second, and
 * less beyond (0..1). */
static double reach(double span, double eta)
{
	return fmin(1.0, FC_LINE_REACH * span / eta);
}

/* A cycle's trend is a line through its peaks: four make it, and until the fit has its
 * FC_CYCLE_PEAKS it is not extrapolated beyond FC_LINE_REACH times the time they span: no
 * confidence there, not a little. The first teeth of a start-up of several tasks: seven
 * peaks over 8-9 s, the last the first time their teeth coincide, promised 49-59 s at
 * H=60 with 80 s left; scaled by the reach, the confidence (0.68-0.83) still fired, and
 * the episode stayed open to the kill. A sawtooth that meets its limit within about
 * 1.2 H of its first tooth is forecast later for it (at H=60, 2-s teeth, two variants:
 * 59.8 -> 57.8 s and 57.9 -> 51.9 s). */
static double cycle_confidence(const struct fc_state *s, double eta)
{
	if (s->npeaks < FC_CYCLE_PEAKS && reach(s->peaks[s->npeaks - 1].t - s->peaks[0].t, eta) < 1)
		return 0;
	return fmin(1.0, s->npeaks / 4.0);
}

static double eta_of(double limit, double value, double slope)
{
	if (value >= limit)
		return 0;
	return slope > 0 ? (limit - value) / slope : INFINITY;
}

/* How much of its window a fit covers: three quarters is all of it. */
static double cover_of(double span, double tw)
{
	return span / tw + 0.25;
}

/* Confidence in a line fitted over span seconds of a trend window tw long, whose ETA is
 * eta: its fit, times the share of the window it covers (three quarters is enough); and a
 * line that does not cover that much yet is trusted no further than its reach. Half a
 * second of a process's start-up in a new cgroup (1 MB, then page cache counted as risk
 * before memory.stat said it was cache) made a line that promised 64 MiB in 9.7 s. */
static double line_confidence(double r2, double span, double tw, double eta)
{
	double cover = cover_of(span, tw);

	return r2 * (cover >= 1 ? 1 : fmin(cover, reach(span, eta)));
}

/* The tall teeth's beat: the last FC_BEAT_TALLS tall peaks at regular intervals (each
 * within FC_BEAT_JITTER of their mean), lesser peaks between each two (else it is one
 * task's sawtooth, whose envelope is its ETA already), the last three tall tops sampled
 * finely enough to place them (the gap after each under FC_BEAT_JITTER of the beat and
 * under a quarter of its rise: 1-s samples of 2-s teeth make regular-looking talls),
 * and the last no more than half a beat overdue. Returns the period, or 0; *jitter is
 * the largest deviation of an interval from it. */
static double beat_of(const struct fc_state *s, double now, double *jitter)
{
	int i, n = s->ntalls;
	double p;

	if (n < FC_BEAT_TALLS)
		return 0;
	p = (s->talls[n - 1].t - s->talls[n - FC_BEAT_TALLS].t) / (FC_BEAT_TALLS - 1);
	*jitter = 0;
	for (i = n - FC_BEAT_TALLS + 1; i < n; i++) {
		double dev = fabs(s->talls[i].t - s->talls[i - 1].t - p);

		if (dev > FC_BEAT_JITTER * p || !s->talls[i].lesser ||
		    s->talls[i].gap > FC_BEAT_JITTER * p || s->talls[i].gap > s->talls[i].rise / 4)
			return 0;
		*jitter = fmax(*jitter, dev);
	}
	return now - s->talls[n - 1].t <= 1.5 * p ? p : 0;
}

/* Time-weighted mean risk over [a, b], linear between samples; NAN if the history does
 * not reach back to a. */
static double hist_mean(const struct fc_state *s, double a, double b)
{
	double area = 0;

	if (!s->nhist || hist_at(s, s->nhist - 1)->t > a || !(b > a))
		return NAN;
	for (int i = 0; i + 1 < s->nhist; i++) {
		const struct fc_sample *hi = hist_at(s, i), *lo = hist_at(s, i + 1);
		double t0 = fmax(lo->t, a), t1 = fmin(hi->t, b), sl;

		if (hi->t <= a)
			break;
		if (t1 <= t0 || hi->t <= lo->t)
			continue;
		sl = (hi->risk - lo->risk) / (hi->t - lo->t);
		area += (lo->risk + sl * ((t0 + t1) / 2 - lo->t)) * (t1 - t0);
	}
	return area / (b - a);
}

/* The slope under a beat: a line through the means of the last whole beats (a periodic
 * component averages out of each, whatever its shape), or the last beat's rise over the
 * one before if that is steeper (growth that speeds up). 0 if fewer than two fit. */
static int beat_slope(const struct fc_state *s, double now, double period, double *slope)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, m[FC_BEAT_WINDOWS];
	int k;

	for (k = 0; k < FC_BEAT_WINDOWS; k++) {
		double x = -(k + 0.5) * period;

		m[k] = hist_mean(s, now - (k + 1) * period, now - k * period);
		if (isnan(m[k]))
			break;
		sx += x, sy += m[k] - m[0], sxx += x * x, sxy += x * (m[k] - m[0]);
	}
	if (k < 2)
		return 0;
	*slope = fmax((sxy - sx * sy / k) / (sxx - sx * sx / k), (m[0] - m[1]) / period);
	return 1;
}

/* Teeth of several tasks on a beat: the envelope runs through the tallest, which comes
 * once a beat, so the limit is met at the first tall tooth that reaches it, not when the
 * envelope does (up to a beat earlier: 93% ETA error in the last beat before the kill).
 * The tall tooth's top is the run of samples around its peak within FC_TALL of it; the
 * limit is met where that top begins, as early as the beat's jitter allows. That ETA is
 * never earlier than the envelope's and never more than a beat later (else the envelope's).
 * The other teeth may come at any time: their own envelope, lifted by the same slope,
 * bounds it, down to the envelope's ETA, through the non-tall peaks (half
 * their miss above: the mean for a top sampled at a random phase) and every sample of
 * the last beat outside the tall top and, until a peak is seen there, outside the next
 * tall tooth's, due a beat later (half a beat at most: beat_of's overdue rule). */
static double beat_eta(const struct fc_state *s, double now, double limit, double slope,
		       double eta)
{
	double jit, p = beat_of(s, now, &jit), b, ref = -INFINITY, sub = -INFINITY, out;
	double band = FC_TALL * limit, top0, top1, k, next, hi = INFINITY;
	const struct fc_tall *tall;
	int i, j;

	if (!isfinite(eta) || !(p > 0) || !beat_slope(s, now, p, &b) || !(b > 0))
		return eta;
	tall = &s->talls[s->ntalls - 1];
	/* the tall tooth's top, brought to the last one's time: at least the highest sample
	 * of them, and as high as the lowest of what their samples allow (each top lies
	 * between its sample and its sample plus its miss) */
	for (i = s->ntalls - FC_BEAT_TALLS; i < s->ntalls; i++) {
		double lo = s->talls[i].risk + b * (tall->t - s->talls[i].t);

		ref = fmax(ref, lo);
		hi = fmin(hi, lo + s->talls[i].miss);
	}
	ref = fmax(ref, hi);
	/* the top of the last tall tooth: samples next to its peak within the band of it */
	top0 = top1 = tall->t;
	for (i = 0; i < s->nhist && hist_at(s, i)->t > tall->t; i++)
		;
	for (j = i - 1; j >= 0 && hist_at(s, j)->risk >= tall->risk - band; j--)
		top1 = hist_at(s, j)->t;
	for (j = i; j < s->nhist && hist_at(s, j)->risk >= tall->risk - band; j++)
		top0 = hist_at(s, j)->t;
	/* the first beat whose tall tooth may reach the limit: its top as high as its samples
	 * allow, the slope trusted to its error and never below the envelope's */
	k = fmax(1, ceil((limit - ref) / ((1 + FC_BEAT_SLOPE_ERR) * fmax(b, slope) * p)));
	if (tall->t + k * p > now + eta + p)
		return eta;             /* the beat and the envelope disagree: the envelope */
	out = fmax(top0 - jit + k * p - now, eta);
	next = top0 - jit + p;  /* the next tall tooth is due from here */
	slope = fmax(b, slope); /* the leak lifts the other teeth as it lifts the tall */
	for (i = 0; i < s->npeaks; i++)
		if (!s->peak_tall[i])
			sub = fmax(sub, s->peaks[i].risk + FC_MISS_MEAN * s->peak_miss[i] +
				   fmax(slope, 0) * (now - s->peaks[i].t));
	for (i = 0; i < s->nhist && hist_at(s, i)->t > now - p; i++) {
		const struct fc_sample *h = hist_at(s, i);

		if ((h->t < top0 || h->t > top1) && (h->t < next || s->peaks[s->npeaks - 1].t > next))
			sub = fmax(sub, h->risk + fmax(slope, 0) * (now - h->t));
	}
	return isfinite(sub) ? fmax(eta, fmin(out, eta_of(limit, sub, slope))) : out;
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

/* Half the horizon: the trend must have been seen for a good part of what it is asked to
 * extrapolate. At least 5 s, five of the daemon's 1-s reads of memory.stat (a slope from
 * three points is mostly noise); at most 30 s, so that a leak that changes pace is followed
 * within half a minute. */
static double trend_window(const struct fc_params *p)
{
	return fmin(fmax(p->horizon / 2, 5.0), 30.0);
}

/* The samples at or after t0, oldest first: x = t - now (seconds, <= 0), y = risk centred
 * on the window's mean (bytes near 1e10 squared would lose the signal). */
struct win {
	double x[FC_HIST], y[FC_HIST];
	double ym, syy;         /* the mean taken out; sum of y^2 (the total variation) */
	int n;
};

static void window_of(const struct fc_state *s, double t0, struct win *w)
{
	double tref = s->nhist ? hist_at(s, 0)->t : 0;
	int i, cnt = 0;

	w->ym = w->syy = 0;
	while (cnt < s->nhist && hist_at(s, cnt)->t >= t0)
		w->ym += hist_at(s, cnt)->risk, cnt++;
	w->n = cnt;
	if (cnt)
		w->ym /= cnt;
	for (i = 0; i < cnt; i++) {
		const struct fc_sample *h = hist_at(s, cnt - 1 - i);

		w->x[i] = h->t - tref;
		w->y[i] = h->risk - w->ym;
		w->syy += w->y[i] * w->y[i];
	}
}

/* Least squares with three basis terms from the sums of their products: m holds the
 * normal equations (m[j][3] = sum of basis j times y). Returns 0 if not determined; else
 * b[] and the residual sum of squares syy - b . (X'y). */
static int lsq3(double m[3][4], double syy, double b[3], double *rss)
{
	double xty[3] = { m[0][3], m[1][3], m[2][3] };
	int j, k, l;

	for (j = 0; j < 3; j++) {       /* Gauss-Jordan with partial pivoting */
		int piv = j;

		for (k = j + 1; k < 3; k++)
			if (fabs(m[k][j]) > fabs(m[piv][j]))
				piv = k;
		if (fabs(m[piv][j]) < 1e-9)
			return 0;
		for (k = 0; k < 4; k++) {
			double tmp = m[j][k];

			m[j][k] = m[piv][k];
			m[piv][k] = tmp;
		}
		for (k = 0; k < 3; k++) {
			double f = m[k][j] / m[j][j];

			if (k == j)
				continue;
			for (l = j; l < 4; l++)
				m[k][l] -= f * m[j][l];
		}
	}
	for (j = 0; j < 3; j++)
		b[j] = m[j][3] / m[j][j];
	*rss = fmax(syy - (b[0] * xty[0] + b[1] * xty[1] + b[2] * xty[2]), 0);
	return 1;
}

/* The parabola y = c0 + c1 x + c2 x^2 through the window (c0 back in bytes). */
static int quad_fit(const struct win *w, double c[3], double *rss)
{
	double m[3][4] = { { 0 } };

	if (w->n < FC_ACCEL_MIN_N)
		return 0;
	for (int i = 0; i < w->n; i++) {
		double p[3] = { 1, w->x[i], w->x[i] * w->x[i] };

		for (int j = 0; j < 3; j++) {
			for (int k = 0; k < 3; k++)
				m[j][k] += p[j] * p[k];
			m[j][3] += p[j] * w->y[i];
		}
	}
	if (!lsq3(m, w->syy, c, rss))
		return 0;
	c[0] += w->ym;
	return 1;
}

/* Whether a third coefficient (the parabola's curvature) is more than noise: the F test
 * of its fit against the line's, at 0.1%. The forecaster asks every second, of every
 * cgroup, at every horizon: at the 5% that FC_ACCEL_EXPLAIN alone amounts to with 9
 * points, a 1 MB/s leak's counter steps read as acceleration several times a minute, and
 * one such parabola fired at H=10 22 s before the kill. F(1, k) at 0.999 for k <= 20
 * residual degrees of freedom, then 10.83 + 80 / k (at most 0.25 above the exact value:
 * on the strict side). */
static int curvature_significant(double lrss, double qrss, int n)
{
	static const double f999[] = { 0, 405284, 998.5, 167.0, 74.14, 47.18, 35.51, 29.25,
				       25.41, 22.86, 21.04, 19.69, 18.64, 17.82, 17.14, 16.59,
				       16.12, 15.72, 15.38, 15.08, 14.82 };
	int k = n - 3;

	if (k < 1)
		return 0;
	if (qrss <= 0)
		return lrss > 0;
	return (lrss - qrss) * k / qrss >= (k <= 20 ? f999[k] : 10.83 + 80.0 / k);
}

/* A bend needs data on both sides of it: the hinge asks FC_ACCEL_MIN_N / 2 samples either
 * side of its knee, and a parabola as many in the older half of its span. A cgroup that was
 * quiet is read every few seconds; when its tasks start to grow, kernel samples come ten a
 * second: one or two old readings, then a dense and straight rise, through which a parabola
 * bends on the old readings' leverage and takes a leak's start for acceleration (a 4 MB/s
 * leak starting in a 64 MiB cgroup: ETA 6 s at H=10 with 15 s left, every run). That is a
 * knee that the hinge cannot place yet; growth that really accelerates is read densely all
 * along (it grows). */
static int both_halves(const struct win *w)
{
	double mid = (w->x[0] + w->x[w->n - 1]) / 2;
	int older = 0;

	for (int i = 0; i < w->n && w->x[i] < mid; i++)
		older++;
	return older >= FC_ACCEL_MIN_N / 2;
}

/* The residual of the least-squares line through the window. */
static double line_rss(const struct win *w)
{
	double sx = 0, sxx = 0, sxy = 0;

	for (int i = 0; i < w->n; i++)
		sx += w->x[i], sxx += w->x[i] * w->x[i], sxy += w->x[i] * w->y[i];
	double vx = sxx - sx * sx / w->n;       /* y is centred: its mean is 0 */

	return vx > 0 ? fmax(w->syy - sxy * sxy / vx, 0) : w->syy;
}

/* A knee: the best continuous two-segment line through the window,
 * y = a + b x + c (x - k)+, over knees k at its samples with at least FC_ACCEL_MIN_N / 2
 * samples on either side. One pass from the newest sample back keeps the sums over the
 * samples after the knee, so every knee costs O(1). */
struct hinge {
	double after;           /* slope after the knee, bytes/s */
	double value;           /* the fit's value at now, bytes */
	double knee;            /* the knee's x (seconds before now, negative) */
	double rss;
};

static int hinge_fit(const struct win *w, struct hinge *best)
{
	double s1 = 0, sx = 0, sxx = 0, sy = 0, sxy = 0;        /* whole window */
	double a1 = 0, ax = 0, axx = 0, ay = 0, axy = 0;        /* samples after the knee */
	int i, side = FC_ACCEL_MIN_N / 2, found = 0;

	if (w->n < 2 * side + 1)
		return 0;
	for (i = 0; i < w->n; i++) {
		double x = w->x[i], y = w->y[i];

		s1 += 1, sx += x, sxx += x * x, sy += y, sxy += x * y;
	}
	for (i = w->n - 1; i >= side; i--) {
		double k = w->x[i - 1], b[3], rss;      /* knee at the sample before i */
		double x = w->x[i], y = w->y[i];

		a1 += 1, ax += x, axx += x * x, ay += y, axy += x * y;
		if (w->n - i < side)
			continue;
		double p1 = ax - k * a1, px = axx - k * ax, p2 = axx - 2 * k * ax + k * k * a1;
		double m[3][4] = { { s1, sx, p1, sy }, { sx, sxx, px, sxy },
				   { p1, px, p2, axy - k * ay } };

		if (!lsq3(m, w->syy, b, &rss) || (found && rss >= best->rss))
			continue;
		found = 1;
		best->after = b[1] + b[2];
		best->value = b[0] - b[2] * k + w->ym;
		best->knee = k;
		best->rss = rss;
	}
	return found;
}

/* Seconds until value + v t + a t^2 / 2 reaches limit (the stable root). */
static double eta_accel(double limit, double value, double v, double a)
{
	double head = limit - value, d = v * v + 2 * a * head;

	if (head <= 0)
		return 0;
	if (d < 0)
		return INFINITY;
	return v + sqrt(d) > 0 ? 2 * head / (v + sqrt(d)) : INFINITY;
}

/* Evidence of a fresh reading beyond the file LRU: PSI's pressure. */
static void fresh_evidence(struct fc_state *s, const struct fc_input *in)
{
	double some = in->psi_some;

	s->pressure = some > 0 && some >= s->psi_some_prev ? some / (some + FC_PSI_HALF) : 0;
	s->psi_some_prev = some;
}

/* Risk of this sample. A fresh sample (usage and memory.stat read together) is exact and
 * teaches the split: which share of the last change in usage was risk. A stale one (a
 * kernel sample between reads) applies a split to its change of usage since the last fresh
 * reading: within one run of growth (readings that each saw usage move), the one of the
 * last two splits that makes the lower risk. Where the make-up of growth changes, a split
 * learned across the change is wrong until the next reading, and a guess must not raise
 * risk that no reading saw: a process that started in a new 64 MiB cgroup brought 1 MB of
 * its own, then streamed page cache at 160 MB/s, and the first split (its megabyte with
 * the first cache) applied to the next quarter second of cache made 3 MB of risk growing at
 * 6.6 MB/s, ETA 9.7 s (the 6.1 VM's flaky case). Growth that turns to cache is seen at once,
 * growth that turns to risk a reading later (within 0.25 s). Growth that starts after a
 * quiet reading is a new run: its first split stands alone (a burst after a cache stream
 * went quiet must not wait for a second reading). A nearly empty cgroup has no split until
 * two changes taught it; nor does a fall from the first reading after a reset teach one
 * (below). Returns 0 if the sample carries no news (stale, and usage not
 * moved or its split not known). */
static int estimate_risk(struct fc_state *s, const struct fc_input *in, double limit,
			 double *risk)
{
	double usage = (double)in->usage, reclaim = fmin((double)in->reclaimable, usage);
	double moved = usage - s->fresh_usage, noise = FC_SPLIT_MIN * limit, share;
	int moving = fabs(moved) >= noise;

	if (in->stale && s->have_fresh) {
		if (!moving || !fc_split_known(s))
			return 0;
		share = moved > 0 ? fmin(s->split, s->split_prev) : fmax(s->split, s->split_prev);
		*risk = fmin(fmax(s->fresh_risk + share * moved, 0), usage);
		return 1;
	}
	fresh_evidence(s, in);
	*risk = usage - reclaim;
	/* No change seen yet: the cgroup's make-up is the best guess; a nearly empty cgroup has
	 * none. Nor does a fall from the first reading after a reset teach a split: that reading
	 * may be taken while a victim's memory is being freed, and the share learned from it
	 * (1: the victim's anon went) made a reader's refill of the page cache a burst of risk
	 * (154 MiB in 0.2 s, a forecast 2.7 s ahead that cleared 5 s later). */
	if (!s->have_fresh || (moving && moved < 0 && s->fresh_t == s->first_t)) {
		s->split = s->split_prev = usage >= noise ? *risk / usage : NAN;
	} else if (moving) {
		double learned = fmin(fmax((*risk - s->fresh_risk) / moved, 0), 1);

		s->split_prev = s->fresh_moving || isnan(s->split) ? s->split : learned;
		s->split = learned;
	}
	s->have_fresh = 1;
	s->fresh_moving = moving;
	s->fresh_t = in->t;
	s->fresh_usage = usage;
	s->fresh_risk = *risk;
	return 1;
}

/* Growth that bends up within the trend window, a line would promise time that is not
 * there. Two shapes do, told apart by which fits the window better, and either must leave
 * at most FC_ACCEL_EXPLAIN of the line's residual (curvature, not noise):
 *  - a knee: flat or slow, then faster from some moment on (a leak that starts after a quiet
 *    spell, a service that takes on load): the trend is the segment after the knee;
 *  - acceleration: growth that keeps growing (a leak proportional to traffic that rises):
 *    the parabola's ETA.
 * A parabola fitted through a knee bends up too, and would take a leak's onset for
 * acceleration and fire up to twice the horizon early. Called for growth above counter
 * noise only: every cgroup on the node comes through here once a second. */
static void curved_trend(const struct fc_state *s, double t0, double tw, double limit,
			 const struct fit *trend, struct fc_result *out)
{
	struct win w;           /* 4 KiB: on the stack, the forecaster keeps no globals */
	double c[3], qrss, lrss;
	struct hinge hg = { 0 };
	int quad, knee;

	window_of(s, t0, &w);
	lrss = line_rss(&w);
	/* a curve from a second or two of data is the burst rule's business, as a knee is */
	quad = trend->span >= FC_KNEE_MIN && both_halves(&w) && quad_fit(&w, c, &qrss) &&
	       c[2] > 0 && c[1] > 0 && qrss <= FC_ACCEL_EXPLAIN * lrss &&
	       curvature_significant(lrss, qrss, w.n);
	/* The knee has no F test: its segment must itself be a line of FC_KNEE_MIN (below),
	 * which the parabola has no counterpart of. Tried with the test (four coefficients):
	 * 4 early forecasts in 12,000 synthetic leaks where there were none, the parabola
	 * taking over where the knee was refused; 2 targets gained over 27 bench record sets. */
	knee = hinge_fit(&w, &hg) && hg.after > trend->slope && hg.rss <= FC_ACCEL_EXPLAIN * lrss;
	if (knee && (!quad || hg.rss <= qrss)) {
		/* The segment after the knee must be at least FC_KNEE_MIN long and itself a line:
		 * a step (one allocation, then flat) fits a hinge better than a line too, and is no
		 * leak. Otherwise neither a knee nor acceleration (a parabola through a step bends
		 * up as well: it fired a staircase 4 horizons early): the line, and the burst rule,
		 * speak; a growth that keeps bending is then caught by the burst rule or a little
		 * later. */
		struct fit seg = fit_since(s, hist_at(s, 0)->t + hg.knee);

		if (-hg.knee < FC_KNEE_MIN || seg.r2 < FC_KNEE_R2)
			return;
		out->mode = FC_TREND;
		out->slope = hg.after;
		out->eta = eta_of(limit, hg.value, hg.after);
		/* as the line's: fit, and how much of the window the segment covers */
		out->confidence = line_confidence(seg.r2, -hg.knee, tw, out->eta);
	} else if (quad) {
		double e = eta_accel(limit, c[0], c[1], 2 * c[2]);

		/* A curvature from a short span is not extrapolated beyond its reach at all
		 * (a line is trusted less there): 3.6 s into a 50 MB/s leak whose first 0.13 s
		 * were slower, a parabola promised 29.9 s with 51 s left, at a confidence of
		 * 0.49. A curve over its whole window is trusted as far as a line is. */
		if (e < out->eta && (cover_of(trend->span, tw) >= 1 ||
				     e <= FC_LINE_REACH * trend->span)) {
			out->mode = FC_ACCEL;
			out->slope = c[1];
			out->eta = e;
			/* trusted as far as the data reaches, as the line is: a parabola through
			 * the first second of a leak's start-up promised 8 s */
			out->confidence = line_confidence(trend->r2, trend->span, tw, e);
		}
	}
}

/* Growth that has slowed: a step (a start-up ramp, a cache warming, one large allocation)
 * and a plateau after it make a line whose slope the plateau no longer has. The newer half
 * of the window speaks when it grows at less than FC_DECEL of the whole's pace or of the
 * older half's; a steady leak's halves agree within noise. The older half's counts as the
 * step leaves the window: with the step at the window's start, the whole's pace is already
 * near the plateau's, and the few samples of the step left at its edge still tilt the
 * line (100 MB in a second, then 2 MB/s: an ETA of 61 s where 121 s were left, for the
 * second it took the window's start to pass the step). */
static struct fit unless_slowed(const struct fc_state *s, struct fit f, double now)
{
	if (f.slope > 0 && f.n >= 2 * FC_DECEL_MIN_N) {
		struct fit recent = fit_since(s, now - f.span / 2);
		struct fit older = fit_between(s, now - f.span, now - f.span / 2);

		if (recent.n >= FC_DECEL_MIN_N && recent.slope < FC_DECEL * fmax(f.slope, older.slope))
			return recent;
	}
	return f;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Theil-Sen over the bins from..nb-1 (time, mean risk): the median of the pairwise slopes,
 * robust to a burst or a ramp in one bin, where least squares is pulled by it. Returns the
 * slope, and in *r2 how much of the bins' variance the line through their medians explains. */
static double sen_slope(const double *bt, const double *bv, int from, int nb, double *level,
			double *r2)
{
	double sl[FC_LONG_BINS * FC_LONG_BINS / 2], ic[FC_LONG_BINS], m = 0, ss = 0, sr = 0, slope;
	int i, j, np = 0, n = nb - from;

	for (i = from; i < nb; i++)
		for (j = i + 1; j < nb; j++)
			sl[np++] = (bv[j] - bv[i]) / (bt[j] - bt[i]);
	slope = median(sl, np);
	for (i = from; i < nb; i++)
		ic[i - from] = bv[i] - slope * bt[i], m += bv[i] / n;
	*level = median(ic, n);         /* the line's value at t = 0 (now) */
	for (i = from; i < nb; i++) {
		double e = bv[i] - (*level + slope * bt[i]);

		ss += (bv[i] - m) * (bv[i] - m);
		sr += e * e;
	}
	*r2 = ss > 0 ? fmax(1 - sr / ss, 0) : 0;
	return slope;
}

/* Growth in spells (a leak that follows traffic, a batch every minute): quiet spells
 * longer than the trend window hide it from the trend, which then sees a plateau, and the
 * next spell's knee comes too late. The history kept since the last floor (FC_HIST samples:
 * 51 s while growing, minutes while quiet) sees the spells' average pace: it is cut into
 * FC_LONG_BINS spans of equal time, and the Theil-Sen slope of their mean risk speaks when
 * the history is at least twice the window long, the line fits the bins well, and promises
 * less time than the trend; and when the growth was steady across the history: each half's
 * slope at least FC_DECEL of the whole's (a ramp, then a plateau, fails in its newer half;
 * one large step, wherever it falls, in the half without it). */
static void long_trend(const struct fc_state *s, double now, double tw, double t_floor,
		       double limit, struct fc_result *out)
{
	double tl = fmax(hist_at(s, s->nhist - 1)->t, t_floor), span = now - tl;
	double bt[FC_LONG_BINS] = { 0 }, bv[FC_LONG_BINS] = { 0 }, slope, level, r2, l2, r22, e;
	int bn[FC_LONG_BINS] = { 0 }, i, nb = 0;

	/* quiet cgroups (every cgroup on the node comes here once a second) leave at once: too
	 * little history, or no net rise above counter noise across it */
	if (span < 2 * tw)
		return;
	for (i = 0; i < s->nhist && hist_at(s, i)->t >= tl; i++) {
		const struct fc_sample *h = hist_at(s, i);
		int b = (int)((h->t - tl) / span * FC_LONG_BINS);

		b = b < 0 ? 0 : b >= FC_LONG_BINS ? FC_LONG_BINS - 1 : b;
		bt[b] += h->t - now, bv[b] += h->risk, bn[b]++;
	}
	if (hist_at(s, 0)->risk - hist_at(s, i - 1)->risk < FC_SPLIT_MIN * limit)
		return;
	for (i = 0; i < FC_LONG_BINS; i++)      /* compact: empty spans (no sample) drop out */
		if (bn[i]) {
			bt[nb] = bt[i] / bn[i];
			bv[nb] = bv[i] / bn[i];
			nb++;
		}
	if (nb < FC_LONG_BINS / 2 + 2)
		return;
	slope = sen_slope(bt, bv, 0, nb, &level, &r2);
	if (!(slope > 0) || r2 < FC_LONG_R2 ||
	    sen_slope(bt, bv, 0, nb - nb / 2, &l2, &r22) < FC_DECEL * slope ||
	    sen_slope(bt, bv, nb / 2, nb, &l2, &r22) < FC_DECEL * slope)
		return;
	e = eta_of(limit, level, slope);
	if (e < out->eta) {
		out->mode = FC_TREND;
		out->slope = slope;
		out->eta = e;
		out->confidence = r2;
	}
}

/* A burst is a rise still under way: the last two sample gaps both rose at half the burst's
 * pace or more. One large allocation at once (a step) rises within one gap and stops; a
 * staircase of such steps fired at each step that came within FC_BURST_REACH of the limit
 * at the step's own pace. A real burst, read 10 times a second, confirms within 0.1 s. */
static int still_rising(const struct fc_state *s, double pace)
{
	for (int i = 0; i < 2; i++) {
		const struct fc_sample *a = hist_at(s, i + 1), *b = hist_at(s, i);

		if (s->nhist < 3 || b->t <= a->t || (b->risk - a->risk) / (b->t - a->t) < pace / 2)
			return 0;
	}
	return 1;
}

/* Below a level held before the last fall (by less than the hysteresis above it). */
static int refilling(const struct fc_state *s, double risk, double turn)
{
	return s->held >= 0 && risk < s->held + turn;
}

/* The first sample since `from` at or above `level` (-inf if none), and in *ramp the last
 * one before it at or below `low`: where the rise to it started. */
static double back_at(const struct fc_state *s, double level, double low, double from,
		      double *ramp)
{
	*ramp = from;
	for (int i = s->nhist - 1; i >= 0; i--) {
		const struct fc_sample *h = hist_at(s, i);

		if (h->t < from)
			continue;
		if (h->risk >= level)
			return h->t;
		if (h->risk <= low)
			*ramp = h->t;
	}
	return -INFINITY;
}

/* Is the level now new ground for a trend of this slope? Usage that steps up and down by
 * less than the hysteresis near its limit (requests allocating and freeing a few MB each),
 * sampled unevenly (for seconds only at the troughs, then a few tops), draws a line that
 * rises where nothing does. Since the last floor, among the samples older than the time
 * the trend takes to climb the noise floor: one clearly above the level now (by half that
 * floor), or one at it that a dip below it (by the floor) followed, says the cgroup has
 * been here and came back down: a band, not a climb. A level reached and held (a leak in
 * spells, quiet between them) is new ground; so is every sample of a steady trend. */
static int new_ground(const struct fc_state *s, double now, double risk, double slope,
		      double limit, double t_floor)
{
	double noise = FC_SPLIT_MIN * limit, before = now - noise / slope;
	int dipped = 0;

	for (int i = 0; i < s->nhist; i++) {
		const struct fc_sample *h = hist_at(s, i);

		if (h->t < t_floor)
			break;
		if (h->t <= before && (h->risk > risk + noise / 2 ||
				       (dipped && h->risk > risk - noise / 2)))
			return 0;
		dipped |= h->risk < risk - noise;
	}
	return 1;
}

/* Returns whether the verdict's rise is on old ground (new_ground), for fc_observe. */
static int verdict(struct fc_state *s, const struct fc_params *p, const struct fc_input *in,
		   double risk, struct fc_result *out)
{
	double limit = (double)in->limit, turn = FC_TURN * limit, tw = trend_window(p);
	double t_floor = s->nfloors ? s->floors[s->nfloors - 1].t : -INFINITY;
	/* A trend is a line through monotone growth: it starts no earlier than the last floor.
	 * A line through a tooth's fall and rise (a sawtooth that stopped cycling, a service's
	 * start-up ramp before a GC) is a slope that the series no longer has. */
	double t0 = fmax(in->t - tw, t_floor);
	struct fit trend, burst;
	int old_ground;

	/* nor is a quick refill of a held level part of a trend: back within FC_KNEE_MIN of
	 * leaving the floor (a ramp too short for a line), the line starts where it came back
	 * (the old plateau, and what grows from it). A slower rise keeps its line: it may be a
	 * leak. */
	if (s->held >= 0 && s->nfloors) {
		double ramp, back = back_at(s, s->held - turn,
					    s->floors[s->nfloors - 1].risk + FC_SPLIT_MIN * limit,
					    t_floor, &ramp);

		if (back - ramp < FC_KNEE_MIN)
			t0 = fmax(t0, back);
	}
	trend = unless_slowed(s, fit_since(s, t0), in->t);
	/* cut short by a floor, the window may hold two points (R^2 = 1 by construction): a
	 * rise of a second or two after a floor is the burst rule's, not a trend */
	if (t0 > in->t - tw && (trend.n < 3 || trend.span < FC_KNEE_MIN))
		trend = (struct fit){ 0 };
	burst = fit_since(s, in->t - FC_BURST_WIN);

	if (cycling(s, in->t)) {
		double envelope, ps = cycle_trend(s, FC_CYCLE_PEAKS, in->t, &envelope);

		out->mode = FC_CYCLE;
		out->slope = ps;
		out->eta = ps > 0 ? fmax(eta_of(limit, envelope, ps), 0) : INFINITY;
		out->eta = beat_eta(s, in->t, limit, ps, out->eta);
		out->confidence = cycle_confidence(s, out->eta);
		if (risk > envelope + turn && s->rising) {
			/* this tooth is past every earlier peak: growth of a new kind, unless it is
			 * only seen nearer its top than the earlier ones were: a tooth rising at the
			 * leg's pace is sampled anywhere within a sampling gap of its true peak */
			struct fit leg = fit_since(s, s->nfloors ? s->floors[s->nfloors - 1].t : in->t - 5);
			double gap = s->nhist >= 2 ? hist_at(s, 0)->t - hist_at(s, 1)->t : 0;
			double e = eta_of(limit, risk, leg.slope);

			/* a leg is a line too: as far as its reach, and a short one as far as
			 * the burst rule's (the first coinciding teeth of a start-up: a 1.9 s leg
			 * promised 11 s at H=60, 80 s before the kill) */
			if (risk > envelope + turn + fmax(leg.slope, 0) * gap && e < out->eta &&
			    e <= FC_LINE_REACH * fmax(leg.span, FC_BURST_WIN)) {
				out->mode = FC_BREAKOUT;
				out->slope = leg.slope;
				out->eta = e;
				out->confidence = leg.r2 * reach(leg.span, e);   /* a line */
			}
		}
		return 0;
	}

	out->mode = trend.slope > 0 ? FC_TREND : FC_NONE;
	out->slope = trend.slope;
	out->eta = eta_of(limit, trend.icpt, trend.slope);
	out->confidence = line_confidence(trend.r2, trend.span, tw, out->eta);
	if (trend.slope > 0 && trend.slope * trend.span >= FC_SPLIT_MIN * limit)
		curved_trend(s, t0, tw, limit, &trend, out);
	if (out->eta > p->horizon)
		long_trend(s, in->t, tw, t_floor, limit, out);
	/* On old ground the line's rise is not believed enough to open an episode (fc_observe
	 * cuts its confidence, after pressure had its say); an open one keeps its ETA (only a
	 * calm ETA clears it) */
	old_ground = out->mode != FC_NONE && out->slope > 0 &&
		     !new_ground(s, in->t, risk, out->slope, limit, t_floor);
	/* A burst: the last second rose by more than the turn threshold, at more than twice the
	 * trend's pace (a steady leak is the trend's business, not a burst). A second's slope is
	 * not extrapolated beyond the shortest trend window: further out, the trend speaks. */
	if (burst.n >= 2 && burst.slope > 2 * fmax(trend.slope, 0) &&
	    burst.slope * burst.span > turn && still_rising(s, burst.slope) &&
	    !refilling(s, risk, turn)) {
		double e = eta_of(limit, risk, burst.slope);

		if (e <= FC_BURST_REACH && (e < out->eta || out->confidence < p->min_confidence)) {
			out->mode = FC_BURST;
			out->slope = burst.slope;
			out->eta = e;
			out->confidence = fmax(burst.r2, 0.5);
		}
	}
	return old_ground;
}

void fc_observe(struct fc_state *s, const struct fc_params *p, const struct fc_input *in,
		struct fc_result *out)
{
	double limit = (double)in->limit, risk;
	int old_ground = 0;

	memset(out, 0, sizeof(*out));
	out->eta = INFINITY;
	if (!(limit > 0) || in->limit == UINT64_MAX)
		return;
	if (!estimate_risk(s, in, limit, &risk)) {
		/* no news: the last verdict stands, nearer by the time that passed */
		*out = s->prev;
		if (isfinite(out->eta))
			out->eta = fmax(out->eta - (in->t - s->prev_t), 0);
		s->prev = *out;
		s->prev_t = in->t;
		return;
	}
	out->risk = risk;
	s->nsamples++;
	hist_push(s, in->t, risk);
	track_turns(s, in->t, risk, limit);
	if (s->nsamples >= p->min_samples) {
		old_ground = verdict(s, p, in, risk, out);
		/* at the limit (within counter noise) and no growth in the fit: the cgroup is
		 * stuck there and the time is up, whatever a line through a dip says */
		if (risk >= limit * (1 - FC_SPLIT_MIN) && !isfinite(out->eta))
			out->eta = 0;
	}
	/* pressure at the limit: reclaim is failing, whatever the shape of the series says */
	if (out->mode != FC_NONE && s->pressure > 0 &&
	    (double)in->usage >= limit - FC_TURN * limit)
		out->confidence = 1 - (1 - out->confidence) * (1 - s->pressure);
	/* after pressure: PSI at a band near the limit (requests that reclaim as they come) is
	 * no rise either */
	if (old_ground && out->mode != FC_NONE && out->mode != FC_BURST)
		out->confidence = fmin(out->confidence, p->min_confidence / 2);
	(void)in->kernel_rate;
	s->prev = *out;
	s->prev_t = in->t;
}
