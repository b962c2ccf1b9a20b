/* forecast.h: the forecaster: timestamped observations of one cgroup in, an ETA to its
 * limit with a confidence out. Pure: no I/O, no globals, no clock of its own. */
#ifndef OOMCAST_FORECAST_H
#define OOMCAST_FORECAST_H
#include <stdint.h>

#define FC_HIST 256             /* samples kept, >= 0.2 s apart: at least 51 s */
#define FC_PEAKS 16             /* sawtooth peaks/floors kept */
/* A forecast fires once the ETA is within the horizon and this share of it more. The ETA
 * is the moment risk meets the limit; the kill comes then or before it, seldom after: the
 * sample that sees the ETA cross the horizon comes up to a read later, the kernel kills
 * with reclaimable pages it could not take back in time (locked for a read, in flight)
 * and with kernel memory that no counter showed growing. Fired at the horizon itself,
 * about half the kills of steady leaks came with less warning than asked (bench records:
 * leads 0.97-1.01 H, and 0.90 H for a leak under a streaming page cache at H=5). */
#define FC_LEAD_MARGIN 0.05
/* The least clear factor: (1 + X) / 2 horizons, the clear threshold once the moment named
 * has passed, must lie beyond the firing band by as much again, or an ETA hovering there
 * opens and clears an episode every few seconds. */
#define FC_MIN_CLEAR_FACTOR (1 + 4 * FC_LEAD_MARGIN)

struct fc_params {
	double horizon;         /* seconds: how far ahead an alert must come */
	double lead_margin;     /* fire once the ETA is within horizon * (1 + lead_margin) */
	double min_samples;     /* samples before any verdict */
	double min_confidence;  /* a forecast needs at least this confidence */
	double clear_factor;    /* clear when ETA > clear_factor * horizon ... */
	double clear_hold;      /* ... for this many seconds */
};

/* Why an ETA was computed the way it was: reported with the forecast. */
enum fc_mode {
	FC_NONE = 0,            /* not enough data, or no growth */
	FC_TREND,               /* monotone growth: slope of the recent trend */
	FC_CYCLE,               /* sawtooth: trend of the peaks across cycles */
	FC_BREAKOUT,            /* sawtooth broke above its envelope: recent slope */
	FC_BURST,               /* fast growth within the last second */
	FC_ACCEL,               /* growth that is itself growing: the trend's curvature */
};

struct fc_sample {
	double t;
	double risk;            /* bytes that reclaim cannot take back */
};

struct fc_result {
	double eta;             /* seconds until risk reaches the limit; INFINITY if never */
	double slope;           /* bytes/s of the trend used */
	double confidence;      /* 0..1 */
	double risk;            /* the risk bytes of this sample */
	enum fc_mode mode;
};

struct fc_state {
	struct fc_sample hist[FC_HIST];
	int nhist, head;        /* ring of samples */
	double last_t, first_t;
	/* sawtooth tracking */
	double run_max, run_max_t;      /* highest risk since the last floor */
	double run_min, run_min_t;      /* lowest risk since the last peak */
	int rising;                     /* direction of the current leg */
	struct fc_sample peaks[FC_PEAKS];
	unsigned char peak_tall[FC_PEAKS];      /* 1: the peak reached the envelope */
	double peak_miss[FC_PEAKS];             /* how far above its sample its top may lie */
	int npeaks;
	/* the tall peaks alone (their beat), each with how far above its sample its true top
	 * may lie, the sample gap after it, how long it rose from the floor before it, and
	 * how many lesser peaks came since the tall one before */
	struct fc_tall { double t, risk, miss, gap, rise; int lesser; } talls[FC_PEAKS];
	int ntalls, lesser;
	double run_max_rate, run_max_miss, run_max_gap; /* the rise into the top; its miss */
	double raw_t, raw_risk;                 /* the sample before, unthinned */
	int have_raw;
	struct fc_sample floors[FC_PEAKS];
	int nfloors;
	/* the level held before the last fall, if it was held and the fall was a trim, else
	 * -1; and when that fall came */
	double held, held_fall_t;
	double nsamples;
	/* the last reading of usage and memory.stat taken together ("fresh") */
	int have_fresh;
	double fresh_t, fresh_usage, fresh_risk;
	/* share of a change in usage that is risk, 0..1, learned from the last two changes
	 * seen by fresh readings (NAN: not known); did the last fresh reading see a change? */
	double split, split_prev;
	int fresh_moving;
	/* evidence beyond the file LRU, from fresh readings */
	double psi_some_prev;           /* the last fresh reading's PSI some avg10 */
	double pressure;                /* 0..1: PSI's evidence of real pressure, last fresh */
	struct fc_result prev;          /* the last verdict, and when */
	double prev_t;
};

struct fc_input {
	double t;               /* seconds (any epoch, increasing) */
	uint64_t usage;         /* bytes charged to the cgroup */
	uint64_t limit;         /* effective hard limit, bytes */
	uint64_t reclaimable;   /* page cache etc. that reclaim can take back */
	double kernel_rate;     /* in-kernel allocation rate, bytes/s (gross); 0 if unknown */
	int stale;              /* 1: reclaimable was read before usage (a kernel sample taken
	                           between two reads of memory.stat); 0: read together */
	/* Evidence beyond the file LRU, read with reclaimable (0 if unknown) */
	double psi_some, psi_full;      /* memory.pressure avg10, percent (v2; 0 on v1) */
};

void fc_params_default(struct fc_params *p, double horizon);
/* The ETA at which a forecast fires: the horizon and the margin that keeps the kill, which
 * comes early more often than late, at least a horizon after it. */
double fc_fire_eta(const struct fc_params *p);
void fc_init(struct fc_state *s);
/* Feed one observation; returns the verdict after it. */
void fc_observe(struct fc_state *s, const struct fc_params *p, const struct fc_input *in,
		struct fc_result *out);
const char *fc_mode_name(enum fc_mode m);
/* Does the forecaster know which share of a usage change is risk (two changes taught it)?
 * Until it does, kernel samples between reads of memory.stat carry no news for it. */
int fc_split_known(const struct fc_state *s);

#endif
