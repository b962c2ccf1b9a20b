/* run.c: `oomcast run`: the daemon. Sources (the BPF ring buffer, cgroup polls, discovery)
 * turn into observations; every observation is recorded and fed to the engine; the
 * engine's events go to stdout and the actions. One thread, one epoll loop. */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "actions.h"
#include "cgroup.h"
#include "engine.h"
#include "events.h"
#include "kube.h"
#include "loader.h"
#include "record.h"
#include "run.h"

#define MAX_CGROUP_ARGS 64
#define WATCH_BUCKETS 1024
#define DISCOVER_EVERY 2.0      /* seconds between rescans for new cgroups, at least */
#define DISCOVER_SHARE 0.002    /* ... and rescans may take at most 0.2% of a core */
#define DISCOVER_MAX 10.0       /* ... but a new cgroup is seen within 10 s whatever it costs */
#define REFRESH_GAP 0.25        /* seconds: fastest re-read of a cgroup's files */
/* ... while the forecaster cannot yet tell cache from risk between reads (a new, empty
 * cgroup: two changes teach it), it reads instead of guessing: a burst into an empty cgroup
 * that fills it in 1 s was forecast 0.5 s ahead at 0.25 s, 0.7 s at 0.1 s (simulated) */
#define REFRESH_GAP_LEARN 0.1
#define QUIET_POLL ENG_QUIET_POLL /* seconds: slowest re-read of a quiet cgroup's files */
#define BATCH 128               /* map entries per bpf_map_lookup_batch() */

struct run_opts {
	const char *cgroups[MAX_CGROUP_ARGS];
	int ncgroups;
	double horizon, interval, duration;
	int json, verbose, task_rss, no_pin, classic;
	const char *pin_dir;
	const char *kubelet_logs;
	const char *record;
	const char *latency_log;        /* hidden, for the bench: see lat_log() */
	uint64_t record_max;
	unsigned record_keep;
	uint64_t sample_kib;
	struct act_config act;
};

struct watch {
	struct cg_info cg;
	struct cg_stat st;
	int have_st;
	uint64_t stock_read;            /* the last read's charge stock, before min_stock() */
	struct obs_oom_state oom;
	int have_oom;
	uint64_t trip;
	struct eng_cgroup *eng;         /* the engine's state, alive exactly as long as the watch */
	struct oc_cgroup kc;            /* the kernel's counters, read in a batch each tick */
	int have_kc;                    /* kc was read this tick */
	uint64_t activity;              /* kernel counters at the last file read */
	double polled;                  /* CLOCK_MONOTONIC seconds of the last file read */
	double due;                     /* CLOCK_MONOTONIC seconds of its next read for the
					   forecast (set_due); 0 if none */
	int due_horizon;                /* ... that read is when its ETA meets the horizon */
	double due_read;                /* CLOCK_MONOTONIC seconds of the last such read */
	double added;                   /* Unix time of its OBS_CGROUP_ADD */
	int kube_found;                 /* what kube_lookup() last gave: 2 all names, 1 pod's */
	double added_mono;              /* CLOCK_MONOTONIC seconds of its watch */
	unsigned seen;                  /* discovery generation */
	struct watch *next;             /* hash chain */
};

struct daemon {
	struct run_opts *o;
	struct loader ld;
	struct ring_buffer *rb;
	struct engine eng;
	struct rec_writer *rec;
	struct actions *act;
	struct watch *buckets[WATCH_BUCKETS];
	struct kube_cache kube;
	int nwatch;
	unsigned gen;
	double mono_to_real;            /* add to CLOCK_MONOTONIC seconds to get Unix time */
	double discover_every;          /* seconds between rescans (adapts to their cost) */
	uint64_t victim_rescan;         /* the last unwatched cgroup a victim made us rescan */
	double next_due;                /* the earliest watch's due, INFINITY if none */
	uint64_t events_total;
	double last_event_time;
	FILE *lat;                      /* --latency-log */
	const struct oc_rec *cur_rec;   /* the ring-buffer record being observed, if any */
	uint64_t explicit_id[MAX_CGROUP_ARGS];  /* the cgroup watched at each --cgroup, 0 none */
	int ready;                      /* `ready` was said */
	int stop;
	char options[1024];
};

/* ---------------- options ---------------- */

enum { OPT_INTERVAL = 1000, OPT_RECORD_MAX, OPT_PIN_DIR, OPT_NO_PIN, OPT_DURATION,
       OPT_SAMPLE_KIB, OPT_TASK_RSS, OPT_LATENCY_LOG, OPT_CLASSIC, OPT_RECORD_KEEP,
       OPT_KUBELET_LOGS };

static const struct argp_option run_options[] = {
	{ "cgroup", 'c', "DIR", 0, "Watch this memory cgroup directory (repeatable). Default: "
	  "every memory cgroup with a finite limit, including ones created later", 0 },
	{ "horizon", 'H', "SECONDS", 0, "How far ahead a forecast must come, at least (default "
	  "30): it fires once the ETA is within the horizon and 5% more", 0 },
	{ "json", 'j', NULL, 0, "One JSON object per event on stdout", 0 },
	{ "interval", OPT_INTERVAL, "SECONDS", 0, "Poll the cgroup files this often (default 1); "
	  "the kernel side reports growing cgroups up to 10 times a second in between", 0 },
	{ "record", 'r', "FILE", 0, "Record every observation to FILE for `oomcast replay` (a "
	  "record already there is kept as FILE.1)", 0 },
	{ "record-max-bytes", OPT_RECORD_MAX, "BYTES", 0, "Rotate the record to FILE.1 when it "
	  "reaches BYTES (suffixes K, M, G)", 0 },
	{ "record-keep", OPT_RECORD_KEEP, "N", 0, "Keep this many older records, FILE.1 (the "
	  "newest) to FILE.N, on rotation and at start (default 1, at most 99)", 0 },
	{ "pin-dir", OPT_PIN_DIR, "DIR", 0, "Pin the BPF maps here for bpftool (default "
	  "/sys/fs/bpf/oomcast)", 0 },
	{ "no-pin", OPT_NO_PIN, NULL, 0, "Do not pin the maps", 0 },
	{ "kubelet-logs", OPT_KUBELET_LOGS, "DIR", 0, "Name pods and containers from the "
	  "kubelet's log directory: DIR/pods and DIR/containers (default /var/log; \"\" for "
	  "none)", 0 },
	{ "task-rss", OPT_TASK_RSS, NULL, 0, "Also hook kmem/rss_stat for exact per-task RSS "
	  "(costs about one empty BPF program per page fault)", 0 },
	{ "classic-tracepoints", OPT_CLASSIC, NULL, 0, "Load no tp_btf programs, only classic "
	  "tracepoints (a workaround where a tp_btf hook misbehaves; without reclaim counts, "
	  "oom_score_adj updates and --task-rss)", 0 },
	{ "sample-kib", OPT_SAMPLE_KIB, "KIB", 0, "Attribute page allocations once every KIB "
	  "allocated per CPU (power of two, default 512)", 0 },
	{ "duration", OPT_DURATION, "SECONDS", 0, "Exit this long after `ready` (default: run "
	  "until SIGINT, SIGTERM or SIGHUP)", 0 },
	{ "verbose", 'v', NULL, 0, "Say which hooks were chosen and why (-vv: libbpf too)", 0 },
	{ "latency-log", OPT_LATENCY_LOG, "FILE", OPTION_HIDDEN, "Bench: per forecast, the kernel "
	  "record's time and the time it was printed (CLOCK_MONOTONIC ns), one JSON line", 0 },
	{ 0 }
};

int parse_number(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v))
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_seconds(const char *s, double *out)
{
	double v;

	if (parse_number(s, &v) || v <= 0)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_bytes(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (*s == '-')
		return -EINVAL;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static error_t run_parse(int key, char *arg, struct argp_state *state)
{
	struct run_opts *o = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &o->act;
		break;
	case 'c':
		if (o->ncgroups == MAX_CGROUP_ARGS)
			argp_error(state, "at most %d --cgroup", MAX_CGROUP_ARGS);
		o->cgroups[o->ncgroups++] = arg;
		o->act.explicit_cgroups = 1;
		break;
	case 'H':
		if (parse_seconds(arg, &o->horizon))
			argp_error(state, "--horizon must be a positive number of seconds, not '%s'", arg);
		break;
	case OPT_INTERVAL:
		if (parse_seconds(arg, &o->interval) || o->interval < 0.05 || o->interval > 60)
			argp_error(state, "--interval must be between 0.05 and 60 seconds, not '%s'", arg);
		break;
	case OPT_DURATION:
		if (parse_seconds(arg, &o->duration))
			argp_error(state, "--duration must be a positive number of seconds, not '%s'", arg);
		break;
	case 'j': o->json = 1; break;
	case 'v': o->verbose++; o->act.verbose = o->verbose; break;
	case 'r': o->record = arg; break;
	case OPT_RECORD_MAX:
		if (parse_bytes(arg, &o->record_max) || o->record_max < 4096)
			argp_error(state, "--record-max-bytes must be a size of at least 4096 bytes "
				   "(like 64M), not '%s'", arg);
		break;
	case OPT_RECORD_KEEP: {
		double n;

		if (parse_number(arg, &n) || n < 1 || n > 99 || n != (unsigned)n)
			argp_error(state, "--record-keep must be a whole number from 1 to 99, not '%s'",
				   arg);
		o->record_keep = (unsigned)n;
		break;
	}
	case OPT_PIN_DIR: o->pin_dir = arg; break;
	case OPT_NO_PIN: o->no_pin = 1; break;
	case OPT_KUBELET_LOGS: o->kubelet_logs = arg; break;
	case OPT_TASK_RSS: o->task_rss = 1; break;
	case OPT_CLASSIC: o->classic = 1; break;
	case OPT_LATENCY_LOG: o->latency_log = arg; break;
	case OPT_SAMPLE_KIB: {
		uint64_t v;

		if (parse_bytes(arg, &v) || v < 4 || v > (1 << 20) || (v & (v - 1)))
			argp_error(state, "--sample-kib must be a power of two between 4 and 1048576, "
				   "not '%s'", arg);
		o->sample_kib = v;
		break;
	}
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s' (cgroups are given with --cgroup)", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child run_children[] = {
	{ &act_argp, 0, "Actions:", 0 },
	{ 0 }
};

static const struct argp run_argp = {
	run_options, run_parse, NULL,
	"Watch memory cgroups and forecast when each will run out of memory.\v"
	"oomcast attaches BPF programs to the page allocator and the OOM path, polls the "
	"cgroups' memory files, and says (on stdout) when a cgroup will reach its limit within "
	"the horizon, then when the kernel kills a task or the tasks stall. Needs root.\n\n"
	"Events: ready, watch, unwatch, forecast, clear, oom_kill, stall, stall_end, stop.\n\n"
	"Examples:\n"
	"  oomcast run --json\n"
	"  oomcast run --cgroup /sys/fs/cgroup/memory/mysvc --horizon 60 --signal SIGUSR1\n"
	"  oomcast run --record /var/lib/oomcast/rec --record-max-bytes 256M --metrics :9464",
	run_children, NULL, NULL
};

/* ---------------- watches ---------------- */

static struct watch *watch_find(struct daemon *d, uint64_t id)
{
	struct watch *w;

	for (w = d->buckets[id % WATCH_BUCKETS]; w; w = w->next)
		if (w->cg.id == id)
			return w;
	return NULL;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sync_clocks(struct daemon *d)
{
	d->mono_to_real = now_real() - mono_now();
}

/* When to read a cgroup for its forecast, besides the ticks and the kernel's samples:
 *  - when its last ETA will have counted down to the horizon, if that comes within an
 *    interval of its sample: the forecast is due then, not at whichever sample comes next
 *    (a 1 MB/s leak sends one every 0.5 s or so: its H=5 forecast came 4.45 s ahead, with
 *    4.5 needed). Once an interval at most (an ETA that hovers just above the horizon
 *    would otherwise be read 4 times a second for as long as it hovers);
 *  - when the time left has shrunk by ENG_FINE_SHARE (eng_fine_due), once that is less
 *    than an interval (the last 20 s at the default 1 s), whatever the episode: a replay
 *    of the record at a shorter horizon than the daemon's then finds its moment within 5%
 *    too, where the ticks and sparse kernel samples left it 0.5 s late at H=5.
 * Not sooner than REFRESH_GAP after the last read. A read is an observation like any other,
 * so a replay fires at the same time. */
static void set_due(struct daemon *d, struct watch *w)
{
	double due, fine, soonest = w->polled + REFRESH_GAP;

	w->due = 0;
	if (!w->eng)
		return;
	due = eng_forecast_due(&d->eng, w->eng);
	due = due - w->eng->sample_t <= d->o->interval
		? fmax(due - d->mono_to_real, fmax(soonest, w->due_read + d->o->interval))
		: INFINITY;
	fine = eng_fine_due(&d->eng, w->eng, d->o->interval);
	fine = isfinite(fine) ? fmax(fine - d->mono_to_real, soonest) : INFINITY;
	if (!isfinite(fmin(due, fine)))
		return;         /* none coming */
	w->due = fmin(due, fine);
	w->due_horizon = due <= fine;
	d->next_due = fmin(d->next_due, w->due);
}

/* Every observation passes here: recorded first, then fed to the engine, so a replay of the
 * record goes through exactly what the live engine saw. (After a rotation the writer itself
 * re-announces the watched cgroups.) */
static void observe(struct daemon *d, const struct obs *o)
{
	if (d->rec) {
		int r = rec_write(d->rec, o);

		if (r < 0) {
			fprintf(stderr, "oomcast: recording stopped: %s\n", strerror(-r));
			rec_close_write(d->rec);
			d->rec = NULL;
		}
	}
	eng_feed(&d->eng, o);
}

/* Kubernetes names for a pod's or container's cgroup, said once found (and again when a
 * container's own are found after its pod's). */
static void find_names(struct daemon *d, struct watch *w)
{
	struct obs o = { .kind = OBS_NAMES, .cg = w->cg.id };
	int r;

	/* a container with no link of its own (a sandbox; a link whose id the kubelet cut at
	 * 255 characters) keeps its pod's names: given up on after KUBE_GIVE_UP */
	if (w->kube_found == 2 || !w->eng || !w->eng->labels.pod_uid[0] ||
	    mono_now() - w->added_mono > KUBE_GIVE_UP)
		return;
	r = kube_lookup(&d->kube, &w->eng->labels, mono_now(), &o.names);
	if (r <= w->kube_found)
		return;
	w->kube_found = r;
	o.t = now_real();
	observe(d, &o);
}

static void find_all_names(struct daemon *d)
{
	for (int i = 0; i < WATCH_BUCKETS; i++)
		for (struct watch *w = d->buckets[i]; w; w = w->next)
			find_names(d, w);
}

static int watch_add(struct daemon *d, const struct cg_info *cg)
{
	struct watch *w = watch_find(d, cg->id);
	struct cg_labels labels;
	struct obs o;
	int r;

	if (w) {
		w->seen = d->gen;
		return 0;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->cg = *cg;
	w->seen = d->gen;
	r = ld_watch(&d->ld, cg->id);
	if (r) {
		fprintf(stderr, "oomcast: cannot watch %s in the kernel: %s\n", cg->path, strerror(-r));
		free(w);
		return r;
	}
	w->next = d->buckets[cg->id % WATCH_BUCKETS];
	d->buckets[cg->id % WATCH_BUCKETS] = w;
	d->nwatch++;
	memset(&o, 0, sizeof(o));
	o.kind = OBS_CGROUP_ADD;
	o.t = w->added = now_real();
	w->added_mono = mono_now();
	o.cg = cg->id;
	o.add.version = cg->version;
	snprintf(o.add.path, sizeof(o.add.path), "%s", cg->path);
	/* names found at once are said with the watch */
	cg_labels(cg->path, &labels);
	w->kube_found = kube_lookup(&d->kube, &labels, mono_now(), &o.add.names);
	observe(d, &o);
	w->eng = eng_find(&d->eng, cg->id);     /* freed by the engine only on OBS_CGROUP_DEL */
	return 0;
}

static void watch_del(struct daemon *d, struct watch *w)
{
	struct watch **pp = &d->buckets[w->cg.id % WATCH_BUCKETS];
	struct obs o = { .kind = OBS_CGROUP_DEL, .t = now_real(), .cg = w->cg.id };

	while (*pp && *pp != w)
		pp = &(*pp)->next;
	if (*pp)
		*pp = w->next;
	ld_unwatch(&d->ld, w->cg.id);
	d->nwatch--;
	observe(d, &o);
	free(w);
}

/* A rescan's cgroups not watched yet: watched after the ones gone are unwatched, so that a
 * path removed and made again between two rescans (a restarted container) says `unwatch`
 * (old id) before `watch` (new id), and a consumer that keys on paths keeps the new one.
 * Kept as their paths' own length (a node's first rescan finds a thousand: 1 KiB each as
 * struct cg_info left the daemon's heap 1 MiB larger for good). */
struct fresh_cg {
	uint64_t id;
	enum cg_version version;
	char *path;
};

struct discovered {
	struct daemon *d;
	struct fresh_cg *fresh;
	size_t n, cap;
};

static int discover_visit(const struct cg_info *cg, void *arg)
{
	struct discovered *s = arg;
	struct watch *w = watch_find(s->d, cg->id);
	char *path;

	if (w) {
		w->seen = s->d->gen;
		return 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct fresh_cg *f = realloc(s->fresh, cap * sizeof(*f));

		if (!f)
			return 0;       /* out of memory: the next rescan finds it */
		s->fresh = f;
		s->cap = cap;
	}
	if (!(path = strdup(cg->path)))
		return 0;
	s->fresh[s->n++] = (struct fresh_cg){ cg->id, cg->version, path };
	return 0;
}

static int discover_known(uint64_t id, void *arg)
{
	return watch_find(((struct discovered *)arg)->d, id) != NULL;
}

static void discover(struct daemon *d)
{
	struct discovered s = { .d = d };
	int i;

	d->gen++;
	if (cg_discover_known(discover_visit, discover_known, &s) >= 0) {
		for (i = 0; i < WATCH_BUCKETS; i++) {
			struct watch *w = d->buckets[i], *n;

			for (; w; w = n) {
				n = w->next;
				if (w->seen != d->gen)
					watch_del(d, w);
			}
		}
		for (size_t k = 0; k < s.n; k++) {
			struct cg_info cg = { .version = s.fresh[k].version, .id = s.fresh[k].id };

			snprintf(cg.path, sizeof(cg.path), "%s", s.fresh[k].path);
			watch_add(d, &cg);
		}
	}
	for (size_t k = 0; k < s.n; k++)
		free(s.fresh[k].path);
	free(s.fresh);
}

/* ---------------- sources ---------------- */

static double kernel_rate(struct daemon *d, const struct watch *w)
{
	struct oc_cgroup c = w->kc;
	double age;

	if (!w->have_kc && ld_read_cgroup(&d->ld, w->cg.id, &c))
		return 0;
	age = mono_now() - c.win_start_ns / 1e9;
	return age < 2.0 ? (double)c.rate_bps : 0;      /* no credit lately: no allocation */
}

/* A sample of the cgroup (usage now, the rest from its last file read) into the engine; then
 * when its forecast is due. */
static void observe_sample(struct daemon *d, struct watch *w, double t, uint64_t usage,
			   double rate, uint8_t source)
{
	struct obs o;

	memset(&o, 0, sizeof(o));
	o.kind = OBS_SAMPLE;
	o.t = t;
	o.cg = w->cg.id;
	o.sample.usage = usage;
	o.sample.limit = w->st.limit;
	o.sample.reclaimable = w->st.reclaimable < usage ? w->st.reclaimable : usage;
	o.sample.anon = w->st.anon;
	o.sample.high = w->st.high;
	o.sample.kernel_rate = rate;
	o.sample.source = source;
	o.sample.workingset_refault = w->st.workingset_refault;
	o.sample.inactive_file = w->st.inactive_file;
	o.sample.psi_some_avg10 = w->st.psi_some_avg10;
	o.sample.psi_full_avg10 = w->st.psi_full_avg10;
	o.sample.swap = w->st.swap;
	o.sample.swap_limit = w->st.swap_limit;
	observe(d, &o);
	set_due(d, w);
}

/* Everything the kernel counts for the cgroup: when none of it moved since the last file
 * read, neither did the cgroup's memory (as far as its own tasks go). */
static uint64_t kernel_activity(const struct oc_cgroup *c)
{
	return c->alloc_bytes + c->mmap_bytes + c->munmap_bytes + c->brk_bytes +
	       c->reclaim_count + c->victims;
}

/* The smaller of this read's charge stock and the last one's: memory.stat's lag behind the
 * counters reads as stock while the cgroup grows, and varies from read to read; the stock
 * itself is what stays (cgroup.c, cg_charge_stock). */
static void min_stock(struct watch *w, struct cg_stat *st)
{
	uint64_t read = st->charge_stock;

	if (w->have_st && w->stock_read < st->charge_stock) {
		st->reclaimable -= st->charge_stock - w->stock_read;
		st->charge_stock = w->stock_read;
	}
	w->stock_read = read;
}

static void poll_one(struct daemon *d, struct watch *w)
{
	struct obs_oom_state s;
	struct cg_stat st;
	struct obs o;
	double t = now_real();
	uint64_t usage;
	int r;

	/* Far from the limit and usage unchanged since the last read: memory.stat (the costly
	 * file) and oom_control cannot tell anything new; one small file instead of three. */
	if (w->have_st && w->st.usage < w->st.limit / 2 && !w->oom.under_oom &&
	    cg_read_usage(&w->cg, &usage) == 0 && usage == w->st.usage) {
		w->polled = mono_now();
		if (w->have_kc)
			w->activity = kernel_activity(&w->kc);
		observe_sample(d, w, t, usage, kernel_rate(d, w), SRC_POLL);
		return;
	}
	r = cg_read(&w->cg, &st);
	if (r == -ENOENT) {
		watch_del(d, w);
		return;
	}
	if (r) {
		w->polled = mono_now();        /* tried: the due reads wait their gap to retry */
		return;
	}
	min_stock(w, &st);
	w->st = st;
	w->have_st = 1;
	w->polled = mono_now();
	if (w->have_kc)
		w->activity = kernel_activity(&w->kc);
	observe_sample(d, w, t, st.usage, kernel_rate(d, w), SRC_POLL);

	memset(&s, 0, sizeof(s));
	s.under_oom = st.under_oom;
	s.oom_kill_disable = st.oom_kill_disable;
	s.oom_kills = st.oom_kills;
	s.oom_events = st.oom_events;
	s.high_events = st.high_events;
	s.max_events = st.max_events;
	s.psi_full_avg10 = st.psi_full_avg10;
	if (!w->have_oom || memcmp(&s, &w->oom, sizeof(s))) {
		w->oom = s;
		w->have_oom = 1;
		memset(&o, 0, sizeof(o));
		o.kind = OBS_OOM_STATE;
		o.t = t;
		o.cg = w->cg.id;
		o.oom = s;
		observe(d, &o);
	}
}

/* The kernel's counters of every watched cgroup in a few syscalls instead of one each.
 * A map that cannot be read in batches leaves have_kc 0: kernel_rate() reads one by one. */
static void read_kernel_cgroups(struct daemon *d)
{
	__u64 keys[BATCH], token = 0;
	struct oc_cgroup vals[BATCH];
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int r;

	for (int i = 0; i < WATCH_BUCKETS; i++)
		for (struct watch *w = d->buckets[i]; w; w = w->next)
			w->have_kc = 0;
	for (int first = 1;; first = 0) {
		__u32 n = BATCH;

		r = bpf_map_lookup_batch(d->ld.cgroups_fd, first ? NULL : &token, &token, keys, vals,
					 &n, &opts);
		if (r && errno != ENOENT)
			return;
		for (__u32 i = 0; i < n; i++) {
			struct watch *w = watch_find(d, keys[i]);

			if (w) {
				w->kc = vals[i];
				w->have_kc = 1;
			}
		}
		if (r)
			return;         /* ENOENT: that was the last batch */
	}
}

/* Adaptive polling: a cgroup is read every tick while it is near its limit, stalled, its
 * forecast's episode is open (its `clear` is due when the risk has gone: the growth stopped,
 * or the task that grew was stopped some other way than by the OOM killer), or its tasks
 * allocate (the kernel's counters moved); a quiet one every QUIET_POLL seconds. Growth
 * between reads reaches the daemon anyway, as kernel summaries and trips. */
static int poll_due(const struct daemon *d, const struct watch *w, double now)
{
	if (!w->have_st || !w->have_kc || w->oom.under_oom || w->st.usage >= w->st.limit / 2 ||
	    (w->eng && w->eng->state != CG_OK))
		return 1;
	if (kernel_activity(&w->kc) != w->activity)
		return 1;
	return now - w->polled >= fmax(QUIET_POLL, d->o->interval) - d->o->interval / 2;
}

/* Read the cgroups whose forecast is due (set_due), and find the next due. */
static void poll_due_now(struct daemon *d)
{
	double now = mono_now();
	int i;

	d->next_due = INFINITY;
	for (i = 0; i < WATCH_BUCKETS; i++) {
		struct watch *w = d->buckets[i], *n;

		for (; w; w = n) {
			n = w->next;
			if (w->due && w->due <= now) {
				w->due = 0;             /* a failed read must not come back at once */
				if (w->due_horizon)
					w->due_read = now;
				poll_one(d, w);         /* observes: set_due() sets the next */
			} else if (w->due) {
				d->next_due = fmin(d->next_due, w->due);
			}
		}
	}
}

static void poll_all(struct daemon *d)
{
	double now = mono_now();
	int i;

	read_kernel_cgroups(d);
	for (i = 0; i < WATCH_BUCKETS; i++) {
		struct watch *w = d->buckets[i], *n;

		for (; w; w = n) {
			n = w->next;
			if (poll_due(d, w, now))
				poll_one(d, w);
		}
	}
}

static void task_obs(struct daemon *d, __u32 pid, const struct oc_task *t, double since_mono)
{
	long page = sysconf(_SC_PAGESIZE);
	struct obs o;

	if (t->last_ns / 1e9 < since_mono || !watch_find(d, t->watched_id))
		return;
	memset(&o, 0, sizeof(o));
	o.kind = OBS_TASK;
	o.t = t->last_ns / 1e9 + d->mono_to_real;
	o.cg = t->watched_id;
	o.task.pid = pid;
	o.task.oom_score_adj = t->oom_score_adj;
	memcpy(o.task.comm, t->comm, sizeof(o.task.comm));
	o.task.rate = t->win_start_ns / 1e9 >= since_mono - 2.0 ? (double)t->rate_bps : 0;
	o.task.mapped = t->mapped_bytes;
	o.task.rss = (uint64_t)(t->rss_pages[0] + t->rss_pages[1] + t->rss_pages[3]) * page;
	observe(d, &o);
}

/* Tasks that allocated since the last poll, with their rates, for the top-tasks list: the
 * map in batches (a busy node has thousands of tasks), one by one where batches fail. */
static void poll_tasks(struct daemon *d, double since_mono)
{
	__u32 keys[BATCH], token = 0, key, next, *prev = NULL;
	struct oc_task vals[BATCH];
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int r, n = 0;

	for (int first = 1;; first = 0) {
		__u32 cnt = BATCH;

		r = bpf_map_lookup_batch(d->ld.tasks_fd, first ? NULL : &token, &token, keys, vals,
					 &cnt, &opts);
		if (r && errno != ENOENT)
			break;
		for (__u32 i = 0; i < cnt; i++)
			task_obs(d, keys[i], &vals[i], since_mono);
		if (r)
			return;
	}
	while (n++ < OC_MAX_TASKS && !bpf_map_get_next_key(d->ld.tasks_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(d->ld.tasks_fd, &key, &vals[0]))
			task_obs(d, key, &vals[0], since_mono);
	}
}

static void update_trips(struct daemon *d)
{
	int i;

	for (i = 0; i < WATCH_BUCKETS; i++)
		for (struct watch *w = d->buckets[i]; w; w = w->next) {
			struct eng_cgroup *c = w->eng;
			uint64_t trip = c ? eng_trip_bytes(&d->eng, c) : 0;

			if (trip != w->trip && !ld_set_trip(&d->ld, w->cg.id, trip))
				w->trip = trip;
		}
}

static void read_comm(uint32_t pid, char comm[16])
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, comm, 15);
	close(fd);
	if (n > 0) {
		comm[n] = 0;
		comm[strcspn(comm, "\n")] = 0;
	}
}

static void on_rec_obs(struct daemon *d, const struct oc_rec *r)
{
	struct watch *w;
	struct obs o;

	memset(&o, 0, sizeof(o));
	o.t = r->ts_ns / 1e9 + d->mono_to_real;
	o.cg = r->cgroup_id;
	switch (r->type) {
	case OC_REC_SUMMARY:
	case OC_REC_TRIP:
		w = watch_find(d, r->cgroup_id);
		if (!w || !w->have_st)
			return;
		/* Usage moved a lot since the files were read: the growth may be page cache, which
		 * only memory.stat tells apart. Read the files now rather than guess (at most 4/s; 10/s
		 * while the forecaster learns its split). */
		if (mono_now() - w->polled >= (w->eng && !fc_split_known(&w->eng->fc)
					       ? REFRESH_GAP_LEARN : REFRESH_GAP) &&
		    (r->usage_bytes > w->st.usage ? r->usage_bytes - w->st.usage
		     : w->st.usage - r->usage_bytes) > w->st.limit / 100) {
			poll_one(d, w);
			return;
		}
		observe_sample(d, w, o.t, r->usage_bytes, (double)r->b,
			       r->type == OC_REC_TRIP ? SRC_TRIP : SRC_KERNEL);
		return;
	case OC_REC_VICTIM:
		/* a kill in a cgroup made since the last rescan (a container that fills its limit
		 * within seconds of its start): look now, while it is still there, so that the
		 * kill is reported; its runtime removes it right after */
		if (!d->o->ncgroups && !watch_find(d, r->cgroup_id) &&
		    r->cgroup_id != d->victim_rescan) {
			/* once per cgroup: a kill storm in a cgroup that is not to be watched (no
			 * limit) would rescan the node for each of its victims */
			d->victim_rescan = r->cgroup_id;
			discover(d);
		}
		o.kind = OBS_VICTIM;
		o.victim.pid = r->pid;
		o.victim.oom_score_adj = r->oom_score_adj;
		memcpy(o.victim.comm, r->comm, sizeof(o.victim.comm));
		if (!o.victim.comm[0])
			read_comm(r->pid, o.victim.comm);
		o.victim.task_cgroup = r->a;
		o.victim.rss = r->b * sysconf(_SC_PAGESIZE);
		o.victim.usage = r->usage_bytes;
		break;
	case OC_REC_RECLAIM:
		o.kind = OBS_RECLAIM;
		o.reclaim.count = r->a;
		o.reclaim.usage = r->usage_bytes;
		break;
	case OC_REC_SCORE_ADJ:
		o.kind = OBS_SCORE_ADJ;
		o.task.pid = r->pid;
		o.task.oom_score_adj = r->oom_score_adj;
		memcpy(o.task.comm, r->comm, sizeof(o.task.comm));
		break;
	default:
		return;
	}
	observe(d, &o);
}

static int on_rec(void *ctx, void *data, size_t len)
{
	struct daemon *d = ctx;
	const struct oc_rec *r = data;

	if (len < sizeof(*r))
		return 0;
	d->cur_rec = r;         /* for --latency-log: what an event came from */
	on_rec_obs(d, r);
	d->cur_rec = NULL;
	return 0;
}

/* ---------------- sinks ---------------- */

/* --latency-log: how long from the kernel's record (its bpf_ktime_get_ns(), CLOCK_MONOTONIC)
 * to the forecast on stdout. The bench matches the cgroup id with webhook arrivals. */
static void lat_log(struct daemon *d, const struct oc_event *ev)
{
	static const char *const src[] = { "poll", "summary", "trip", "victim" };
	const struct oc_rec *r = d->cur_rec;
	struct timespec m;
	unsigned type = r && r->type <= OC_REC_VICTIM ? r->type : 0;

	clock_gettime(CLOCK_MONOTONIC, &m);
	fprintf(d->lat, "{\"event\":\"%s\",\"cgroup_id\":%llu,\"source\":\"%s\","
		"\"kernel_ns\":%llu,\"printed_ns\":%llu}\n", ev_kind_name(ev->kind),
		(unsigned long long)ev->cgroup_id, src[type],
		(unsigned long long)(r ? r->ts_ns : 0),
		(unsigned long long)m.tv_sec * 1000000000ULL + m.tv_nsec);
	fflush(d->lat);
}

static void on_event(const struct oc_event *ev, void *arg)
{
	struct daemon *d = arg;

	d->events_total++;
	d->last_event_time = ev->time;
	if (ev->kind == EV_READY)
		d->ready = 1;
	/* the cgroups found at start are counted in one line (a node has thousands): each is
	 * said in --json, or with -v; those that come and go later, always */
	if ((ev->kind == EV_CGROUP_ADD || ev->kind == EV_CGROUP_DEL) && !d->o->json &&
	    !d->o->verbose && !d->ready)
		return;
	ev_print(stdout, ev, d->o->json);
	if (ferror(stdout) && !d->stop) {       /* e.g. `oomcast run --json | head -2` */
		fprintf(stderr, "oomcast: cannot write events to stdout (%s): stopping\n",
			strerror(errno));
		d->stop = 1;
	}
	if (d->lat && (ev->kind == EV_FORECAST || ev->kind == EV_OOM_KILL))
		lat_log(d, ev);
	if (d->act)
		act_event(d->act, ev);
}

static void tick_actions(struct daemon *d)
{
	struct act_health h = { 0 };
	struct bpf_prog_info info;
	int i;

	if (!d->act)
		return;
	ld_health(&d->ld, &h.samples, &h.rb_drops);
	h.events_total = d->events_total;
	h.last_event_time = d->last_event_time;
	for (i = 0; i < d->ld.nhooks && h.nprogs < 16; i++) {
		__u32 len = sizeof(info);

		if (d->ld.hooks[i].prog_fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(d->ld.hooks[i].prog_fd, &info, &len))
			continue;
		h.progs[h.nprogs].name = d->ld.hooks[i].prog_name;
		h.progs[h.nprogs].run_cnt = info.run_cnt;
		h.progs[h.nprogs].run_time_ns = info.run_time_ns;
		h.nprogs++;
	}
	act_tick(d->act, &d->eng, &h);
}

/* ---------------- set-up ---------------- */

static int count_visit(const struct cg_info *cg, void *arg)
{
	(void)cg;
	++*(int *)arg;
	return 0;
}

/* The ring buffer holds what the kernel sends while the daemon is busy: sized for every
 * cgroup there is now sending summaries at their fastest (10/s) for 250 ms, at least 64 KiB.
 * Its pages are resident from the start (the kernel maps them all), so 1 MiB for a handful
 * of cgroups would be 2 MiB of RSS for nothing. Overflow is counted, never silent. */
static uint32_t ring_size(const struct run_opts *o)
{
	uint64_t want, n = 0;
	int ncg = 0;

	if (o->ncgroups)
		ncg = o->ncgroups;
	else if (cg_discover(count_visit, &ncg) < 0)
		ncg = 0;
	want = (uint64_t)(ncg + 16) * 10 / 4 * (sizeof(struct oc_rec) + 8);
	for (n = 64 * 1024; n < want && n < (64ULL << 20); n <<= 1)
		;
	return (uint32_t)n;
}

static void protect_self(void)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

	/* The watcher must outlive what it watches: never the OOM killer's pick, never paged. */
	if (fd < 0 || write(fd, "-1000", 5) != 5)
		fprintf(stderr, "oomcast: warning: cannot set own oom_score_adj to -1000 (%s; needs "
			"CAP_SYS_RESOURCE): the OOM killer may pick the daemon\n", strerror(errno));
	if (fd >= 0)
		close(fd);
	/* MCL_ONFAULT: what the daemon touches stays resident, but library pages it never runs
	 * (most of libcrypto, gnutls, ...) are not pulled in: 24 -> ~9 MiB RSS. */
	if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) &&
	    mlockall(MCL_CURRENT | MCL_FUTURE))
		fprintf(stderr, "oomcast: warning: mlockall: %s\n", strerror(errno));
}

/* The cgroups watched before the record was opened: their OBS_CGROUP_ADDs open it. */
static void record_watches(struct daemon *d)
{
	struct obs o;

	for (int i = 0; i < WATCH_BUCKETS; i++)
		for (struct watch *w = d->buckets[i]; w; w = w->next) {
			memset(&o, 0, sizeof(o));
			o.kind = OBS_CGROUP_ADD;
			o.t = w->added;         /* as the engine saw it: replay prints the same */
			o.cg = w->cg.id;
			o.add.version = w->cg.version;
			snprintf(o.add.path, sizeof(o.add.path), "%s", w->cg.path);
			if (w->eng && w->eng->labels.kube)
				o.add.names = *w->eng->labels.kube;
			rec_write(d->rec, &o);
		}
}

static int open_record(struct daemon *d)
{
	struct rec_header h = { .format_version = REC_FORMAT_VERSION };
	struct utsname u;
	char err[512];
	int r;

	h.start_time = now_real();
	snprintf(h.oomcast_version, sizeof(h.oomcast_version), "%s", OOMCAST_VERSION);
	if (!uname(&u)) {
		snprintf(h.kernel, sizeof(h.kernel), "%s", u.release);
		snprintf(h.host, sizeof(h.host), "%s", u.nodename);
	}
	h.cgroup_version = 0;
	for (int i = 0; i < WATCH_BUCKETS; i++)
		for (struct watch *w = d->buckets[i]; w; w = w->next)
			h.cgroup_version |= w->cg.version;
	snprintf(h.options, sizeof(h.options), "%s", d->options);
	r = rec_open_write(&d->rec, d->o->record, &h, d->o->record_max, d->o->record_keep, err,
			   sizeof(err));
	if (r)
		fprintf(stderr, "oomcast: %s\n", err);        /* 1: where the old record went */
	if (r < 0)
		return -1;
	record_watches(d);
	return 0;
}

static int add_initial(struct daemon *d)
{
	struct cg_info cg;
	char err[512];
	int i;

	if (!d->o->ncgroups) {
		discover(d);
		return 0;
	}
	for (i = 0; i < d->o->ncgroups; i++) {
		if (cg_open(d->o->cgroups[i], &cg, err, sizeof(err))) {
			fprintf(stderr, "oomcast: --cgroup %s: %s\n", d->o->cgroups[i], err);
			return -1;
		}
		if (watch_add(d, &cg))
			return -1;
		d->explicit_id[i] = cg.id;
	}
	return 0;
}

/* --cgroup names directories, and the cgroup at one can be replaced: a service that systemd
 * restarts, a container runtime that reuses its path, remove it and make a new one there (a
 * new inode: a new memcg, which the kernel side must be told to watch). Each path is checked
 * as often as discovery rescans: a cgroup gone is unwatched, a new one there watched. */
static void recheck_explicit(struct daemon *d)
{
	for (int i = 0; i < d->o->ncgroups; i++) {
		struct watch *w = d->explicit_id[i] ? watch_find(d, d->explicit_id[i]) : NULL;
		struct cg_info cg;
		struct stat st;
		char err[512];

		if (w && stat(d->o->cgroups[i], &st) == 0 && (uint64_t)st.st_ino == w->cg.id)
			continue;               /* the same cgroup */
		if (w)
			watch_del(d, w);        /* gone, or replaced */
		d->explicit_id[i] = 0;
		if (cg_open(d->o->cgroups[i], &cg, err, sizeof(err)) == 0 && watch_add(d, &cg) == 0)
			d->explicit_id[i] = cg.id;
	}
}

/* The signals that stop the daemon, blocked before any thread starts and read from a
 * signalfd: INT, TERM, and HUP (its terminal closed) unless it was started to outlive its
 * terminal (nohup: SIGHUP ignored; a blocked signal is never treated as ignored, so
 * blocking it would undo nohup). Blocking leaves the disposition as it was. */
static void stop_signals(sigset_t *mask)
{
	struct sigaction old;

	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	if (sigaction(SIGHUP, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
		sigaddset(mask, SIGHUP);
}

static int make_fds(int *epfd, int *tfd, int *sfd, double interval)
{
	struct itimerspec its = { 0 };
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;

	stop_signals(&mask);
	*sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	*tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	*epfd = epoll_create1(EPOLL_CLOEXEC);
	if (*sfd < 0 || *tfd < 0 || *epfd < 0)
		return -errno;
	its.it_interval.tv_sec = (time_t)interval;
	its.it_interval.tv_nsec = (long)((interval - (time_t)interval) * 1e9);
	its.it_value = its.it_interval;
	if (timerfd_settime(*tfd, 0, &its, NULL))
		return -errno;
	ev.data.fd = *sfd;
	if (epoll_ctl(*epfd, EPOLL_CTL_ADD, *sfd, &ev))
		return -errno;
	ev.data.fd = *tfd;
	return epoll_ctl(*epfd, EPOLL_CTL_ADD, *tfd, &ev) ? -errno : 0;
}

static void tick(struct daemon *d, double *last_discover, double *last_tasks)
{
	double mono;

	sync_clocks(d);
	mono = mono_now();
	if (d->o->ncgroups && mono - *last_discover >= DISCOVER_EVERY) {
		recheck_explicit(d);
		*last_discover = mono;
	} else if (!d->o->ncgroups && mono - *last_discover >= d->discover_every) {
		discover(d);
		*last_discover = mono;
		/* a node with thousands of cgroups: space the rescans by what one costs */
		d->discover_every = fmin(fmax(DISCOVER_EVERY, (mono_now() - mono) / DISCOVER_SHARE),
					 DISCOVER_MAX);
	}
	poll_tasks(d, *last_tasks);
	*last_tasks = mono;
	poll_all(d);
	find_all_names(d);
	update_trips(d);
	tick_actions(d);
	if (d->rec)
		rec_flush(d->rec);
}

static int loop(struct daemon *d, int epfd, int tfd, int sfd)
{
	struct epoll_event evs[4];
	double start, last_discover, last_tasks;
	int rbfd = ring_buffer__epoll_fd(d->rb), i, n;
	struct stat st;
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = rbfd };

	if (epoll_ctl(epfd, EPOLL_CTL_ADD, rbfd, &ev))
		return -errno;
	/* stdout into a pipe whose reader went (`oomcast run --json | head -2`): a pipe's write
	 * end reports an error then, before anything more is written into it */
	if (fstat(STDOUT_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
		struct epoll_event oev = { .events = 0, .data.fd = STDOUT_FILENO };

		epoll_ctl(epfd, EPOLL_CTL_ADD, STDOUT_FILENO, &oev);
	}
	start = last_discover = last_tasks = mono_now();
	while (!d->stop) {
		double wait = d->next_due - mono_now();

		if (d->o->duration > 0)
			wait = fmin(wait, start + d->o->duration - mono_now());
		n = epoll_wait(epfd, evs, 4, wait < 1 ? (int)(fmax(wait, 0) * 1000) + 1 : 1000);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == rbfd) {
				ring_buffer__consume(d->rb);
			} else if (evs[i].data.fd == tfd) {
				uint64_t exp;

				if (read(tfd, &exp, sizeof(exp)) > 0)
					tick(d, &last_discover, &last_tasks);
			} else if (evs[i].data.fd == sfd) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) > 0)
					d->stop = 1;
			} else if (evs[i].data.fd == STDOUT_FILENO) {
				fprintf(stderr, "oomcast: the reader of stdout went away: stopping\n");
				epoll_ctl(epfd, EPOLL_CTL_DEL, STDOUT_FILENO, NULL);
				d->stop = 1;
			}
		}
		if (mono_now() >= d->next_due)
			poll_due_now(d);
		if (d->o->duration > 0 && mono_now() - start >= d->o->duration)
			d->stop = 1;
	}
	ring_buffer__consume(d->rb);
	return 0;
}

static void join_args(char *buf, size_t len, int argc, char **argv)
{
	size_t off = snprintf(buf, len, "oomcast run");

	for (int i = 0; i < argc && off < len; i++)
		off += snprintf(buf + off, len - off, " %s", argv[i]);
}

static void free_watches(struct daemon *d)
{
	for (int i = 0; i < WATCH_BUCKETS; i++) {
		struct watch *w = d->buckets[i], *n;

		for (; w; w = n) {
			n = w->next;
			free(w);
		}
		d->buckets[i] = NULL;
	}
}

int run_main(int argc, char **argv)
{
	struct run_opts o = { .horizon = 30, .interval = 1, .sample_kib = 512,
			      .pin_dir = "/sys/fs/bpf/oomcast", .kubelet_logs = "/var/log" };
	struct ld_opts lo;
	struct eng_params ep = { 0 };
	struct daemon *d = NULL;
	int epfd = -1, tfd = -1, sfd = -1, r, ret = 1;
	char err[512];
	sigset_t mask;

	argp_parse(&run_argp, argc, argv, 0, NULL, &o);
	if (geteuid() != 0) {
		fprintf(stderr, "oomcast: `run` needs root (it loads BPF programs and reads every "
			"cgroup); `oomcast replay` does not\n");
		return 1;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return 1;
	d->o = &o;
	kube_init(&d->kube, o.kubelet_logs);
	d->discover_every = DISCOVER_EVERY;
	d->next_due = INFINITY;
	join_args(d->options, sizeof(d->options), argc - 1, argv + 1);   /* "oomcast run ..." */
	stop_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (int i = 0; i < o.ncgroups; i++) {
		struct cg_info cg;
		struct cg_stat st;

		if (cg_open(o.cgroups[i], &cg, err, sizeof(err))) {
			fprintf(stderr, "oomcast: --cgroup %s: %s\n", o.cgroups[i], err);
			goto out;
		}
		if (cg_read(&cg, &st) == 0 && (!st.limit || st.limit == UINT64_MAX))
			fprintf(stderr, "oomcast: warning: --cgroup %s has no memory limit, nor has "
				"any cgroup above it: nothing can be forecast for it until it gets "
				"one\n", cg.path);
	}
	if (act_init(&d->act, &o.act, err, sizeof(err))) {
		fprintf(stderr, "oomcast: %s\n", err);
		goto out;
	}
	protect_self();
	lo = (struct ld_opts){ .sample_bytes = o.sample_kib * 1024, .task_rss = o.task_rss,
			       .verbose = o.verbose, .pin_dir = o.no_pin ? NULL : o.pin_dir,
			       .classic_only = o.classic,
			       .ring_bytes = ring_size(&o), .memory_v1 = cg_memory_version() == 1 };
	r = ld_open(&d->ld, &lo, err, sizeof(err));
	if (r) {
		fprintf(stderr, "oomcast: %s\n", err);
		goto out;
	}
	d->rb = ring_buffer__new(d->ld.events_fd, on_rec, d, NULL);
	if (!d->rb || (r = make_fds(&epfd, &tfd, &sfd, o.interval))) {
		fprintf(stderr, "oomcast: cannot set up the event loop: %s\n", strerror(errno));
		goto out;
	}
	fc_params_default(&ep.fc, o.horizon);
	ep.kill_window = eng_kill_window(o.interval);
	eng_init(&d->eng, &ep, on_event, d);
	sync_clocks(d);
	if (o.record && open_record(d))
		goto out;
	if (o.latency_log && !(d->lat = fopen(o.latency_log, "we"))) {
		fprintf(stderr, "oomcast: --latency-log %s: %s\n", o.latency_log, strerror(errno));
		goto out;
	}
	if (add_initial(d))
		goto out;
	if (o.verbose || !o.json) {
		uint64_t free;

		fprintf(stderr, "oomcast: watching %d cgroup%s, horizon %g s, poll every %g s%s%s\n",
			d->nwatch, d->nwatch == 1 ? "" : "s", o.horizon, o.interval,
			d->ld.pin_dir[0] ? ", maps pinned in " : "", d->ld.pin_dir);
		if (o.verbose && o.kubelet_logs[0])
			fprintf(stderr, "oomcast: pod and container names from %s/pods and "
				"%s/containers%s\n", o.kubelet_logs, o.kubelet_logs,
				kube_present(&d->kube) ? "" : " (not there: none)");
		if (cg_host_swap(&free))
			fprintf(stderr, "oomcast: the host has swap (%llu MiB free): a cgroup that "
				"may swap is forecast to run out of memory and swap both\n",
				(unsigned long long)(free >> 20));
	}
	poll_all(d);
	observe(d, &(struct obs){ .kind = OBS_READY, .t = now_real() });
	r = loop(d, epfd, tfd, sfd);
	if (r)
		fprintf(stderr, "oomcast: event loop failed: %s\n", strerror(-r));
	observe(d, &(struct obs){ .kind = OBS_END, .t = now_real() });
	ret = r ? 1 : 0;
out:
	if (d->rec)
		rec_close_write(d->rec);
	if (d->lat)
		fclose(d->lat);
	if (d->act)
		act_close(d->act);
	ring_buffer__free(d->rb);
	for (int i = 0; i < WATCH_BUCKETS; i++)
		for (struct watch *w = d->buckets[i]; w; w = w->next)
			ld_unwatch(&d->ld, w->cg.id);
	ld_close(&d->ld);
	eng_free(&d->eng);
	free_watches(d);
	kube_free(&d->kube);
	if (epfd >= 0) close(epfd);
	if (tfd >= 0) close(tfd);
	if (sfd >= 0) close(sfd);
	free(d);
	return ret;
}
