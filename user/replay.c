/* replay.c: `oomcast replay`: read a record, run the engine over it exactly as the daemon
 * did (driven only by the recorded times), print its events, and build the incident model
 * for the summary and the SVG timeline. */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <json-c/json.h>
#include "events.h"
#include "replay.h"
#include "run.h"
#include "svg.h"

#define REPLAY_MAX_FILES 16
#define REPLAY_MAX_FILTER 16
#define REPLAY_MAX_MARKS 100000
#define REPLAY_DEFAULT_HORIZON 30.0

struct replay_opts {
	const char *files[REPLAY_MAX_FILES];
	int nfiles;
	const char *only[REPLAY_MAX_FILTER];
	int nonly;
	int json, quiet, summary;
	const char *svg;
	double horizon, min_samples, clear_factor, clear_hold;      /* NAN: not given */
};

struct replay {
	const struct replay_opts *o;
	struct replay_doc doc;
	struct engine eng;
	int timeline;           /* buckets wanted (--svg) */
};

/* ---------------- options ---------------- */

enum { OPT_MIN_SAMPLES = 256, OPT_CLEAR_FACTOR, OPT_CLEAR_HOLD, OPT_SVG };

static const struct argp_option replay_options[] = {
	{ "json", 'j', NULL, 0, "Print events (and the summary) as JSON lines, as `run --json` did", 0 },
	{ "horizon", 'H', "SECONDS", 0, "Forecast horizon, as run's (default: the one recorded, "
	  "else 30; required when the files were recorded at different ones)", 0 },
	{ "min-samples", OPT_MIN_SAMPLES, "N", 0, "Samples before any forecast (default 3)", 0 },
	{ "clear-factor", OPT_CLEAR_FACTOR, "X", 0, "Clear when the ETA exceeds X times the "
	  "horizon (default 2, at least 1.2), or (1 + X) / 2 times it once the moment the "
	  "forecast named has passed", 0 },
	{ "clear-hold", OPT_CLEAR_HOLD, "SECONDS", 0, "... for this long (default 5)", 0 },
	{ "summary", 's', NULL, 0, "After the events, an incident report per cgroup: peak, "
	  "limit, growth, top tasks, victims, first forecast and its lead", 0 },
	{ "svg", OPT_SVG, "OUT.svg", 0, "Draw a timeline per cgroup into OUT.svg", 0 },
	{ "cgroup", 'c', "DIR", 0, "Only this cgroup in the output (repeatable; a warning "
	  "when the record has no such cgroup)", 0 },
	{ "quiet", 'q', NULL, 0, "Do not print the events", 0 },
	{ 0 }
};

static error_t replay_parse(int key, char *arg, struct argp_state *state)
{
	struct replay_opts *o = state->input;
	double v;

	switch (key) {
	case 'j': o->json = 1; break;
	case 's': o->summary = 1; break;
	case 'q': o->quiet = 1; break;
	case OPT_SVG: o->svg = arg; break;
	case 'c':
		if (o->nonly == REPLAY_MAX_FILTER)
			argp_error(state, "at most %d --cgroup", REPLAY_MAX_FILTER);
		o->only[o->nonly++] = arg;
		break;
	case 'H':
		if (parse_seconds(arg, &o->horizon))
			argp_error(state, "--horizon must be a positive number of seconds, not "
				   "'%s'", arg);
		break;
	case OPT_MIN_SAMPLES:
		if (parse_number(arg, &v) || v < 0)
			argp_error(state, "--min-samples must be a number of samples, 0 or "
				   "more, not '%s'", arg);
		o->min_samples = v;
		break;
	case OPT_CLEAR_FACTOR:
		/* below it an episode would clear while its ETA is still where it fires */
		if (parse_number(arg, &v) || v < FC_MIN_CLEAR_FACTOR)
			argp_error(state, "--clear-factor must be a number of at least %g "
				   "(clear when the ETA exceeds that many horizons; a forecast "
				   "fires within %g), not '%s'", FC_MIN_CLEAR_FACTOR,
				   1 + FC_LEAD_MARGIN, arg);
		o->clear_factor = v;
		break;
	case OPT_CLEAR_HOLD:
		if (parse_number(arg, &v) || v < 0)
			argp_error(state, "--clear-hold must be a number of seconds, 0 or more, "
				   "not '%s'", arg);
		o->clear_hold = v;
		break;
	case ARGP_KEY_ARG:
		if (o->nfiles == REPLAY_MAX_FILES)
			argp_error(state, "at most %d record files", REPLAY_MAX_FILES);
		o->files[o->nfiles++] = arg;
		break;
	case ARGP_KEY_END:
		if (!o->nfiles)
			argp_error(state, "which record? (oomcast replay FILE)");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp replay_argp = {
	replay_options, replay_parse, "FILE...",
	"Run the forecaster again over a record made with `oomcast run --record FILE`.\v"
	"The record holds every observation the daemon fed its forecaster, so the events come "
	"out as they did live (--json prints what `run --json` printed), at the recorded times. "
	"Forecaster options can be changed to see what they would have said. Several files "
	"(FILE.1 FILE after a rotation or a restart) replay as one history in time order, "
	"whatever order they are given in; files that overlap in time, or that were recorded "
	"at different horizons when --horizon is not given, are refused. Needs no root.\n\n"
	"Exit status: 0, also when the file ends in a torn record (the daemon was killed "
	"mid-write: a warning names it); 1 when a file cannot be read or is corrupt in the "
	"middle (what came before is still replayed), or the files are not one history.\n\n"
	"Examples:\n"
	"  oomcast replay /var/lib/oomcast/rec --json\n"
	"  oomcast replay rec --summary --svg incident.svg --cgroup /sys/fs/cgroup/memory/mysvc\n"
	"  oomcast replay rec --horizon 60 -q --summary",
	NULL, NULL, NULL
};

/* `--NAME N`, `--NAME=N`, or with a short option `-S N` or `-SN`, in the recorded command
 * line (the last one given). */
static int recorded_seconds(const char *cmdline, const char *name, const char *shrt,
			    double *out)
{
	char buf[sizeof(((struct rec_header *)0)->options)], *save, *w, *val = NULL;
	size_t n = strlen(name);
	int found = 0;

	snprintf(buf, sizeof(buf), "%s", cmdline);
	for (w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if ((!strncmp(w, "--", 2) && !strcmp(w + 2, name)) || (shrt && !strcmp(w, shrt)))
			val = strtok_r(NULL, " \t", &save);
		else if (!strncmp(w, "--", 2) && !strncmp(w + 2, name, n) && w[2 + n] == '=')
			val = w + 3 + n;
		else if (shrt && !strncmp(w, shrt, 2))
			val = w + 2;
		else
			continue;
		found = val && !parse_seconds(val, out);
	}
	return found ? 0 : -1;
}

static int recorded_horizon(const char *cmdline, double *out)
{
	return recorded_seconds(cmdline, "horizon", "-H", out);
}

static void build_params(const struct replay_opts *o, const struct rec_header *h,
			 struct eng_params *p, double *horizon)
{
	double interval;

	*horizon = o->horizon;
	if (isnan(*horizon) && recorded_horizon(h->options, horizon))
		*horizon = REPLAY_DEFAULT_HORIZON;
	memset(p, 0, sizeof(*p));
	fc_params_default(&p->fc, *horizon);    /* as `run` does */
	if (!recorded_seconds(h->options, "interval", NULL, &interval))
		p->kill_window = eng_kill_window(interval);
	if (!isnan(o->min_samples))
		p->fc.min_samples = o->min_samples;
	if (!isnan(o->clear_factor))
		p->fc.clear_factor = o->clear_factor;
	if (!isnan(o->clear_hold))
		p->fc.clear_hold = o->clear_hold;
}

/* ---------------- the incident model ---------------- */

/* A --cgroup as typed (a shell's completion adds a slash) against a recorded path (none). */
static int same_cgroup(const char *want, const char *path)
{
	size_t n = strlen(want);

	while (n > 1 && want[n - 1] == '/')
		n--;
	return strlen(path) == n && !strncmp(want, path, n);
}

static int selected(const struct replay_opts *o, const char *path)
{
	int i;

	if (!o->nonly || !path)
		return 1;
	for (i = 0; i < o->nonly; i++)
		if (same_cgroup(o->only[i], path))
			return 1;
	return 0;
}

static struct replay_cg *cg_get(struct replay_doc *d, uint64_t id)
{
	struct replay_cg *c;

	for (c = d->cgs; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static struct replay_cg *cg_add(struct replay_doc *d, const struct obs *o)
{
	struct replay_cg *c = cg_get(d, o->cg), **pp;

	if (c)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(o->add.path))) {
		free(c);
		return NULL;
	}
	c->id = o->cg;
	c->version = o->add.version;
	c->t0 = INFINITY;
	c->t1 = -INFINITY;
	c->first_t = c->first_forecast_t = c->first_kill_t = c->first_stall_t = NAN;
	c->first_forecast_eta = c->peak_growth = c->peak_growth_span = NAN;
	for (pp = &d->cgs; *pp; pp = &(*pp)->next)
		;
	*pp = c;        /* in the order first announced */
	d->ncgs++;
	return c;
}

static void cg_free(struct replay_cg *c)
{
	int i;

	for (i = 0; i < c->ntasks; i++)
		free(c->tasks[i].val);
	free(c->buckets);
	free(c->marks);
	free(c->path);
	free(c);
}

int64_t replay_task_growth(const struct replay_task *t)
{
	if (t->first_rss || t->last_rss)
		return (int64_t)(t->last_rss - t->first_rss);
	return t->last_mapped - t->first_mapped;
}

static int bucket_of(const struct replay_cg *c, double t)
{
	double span = c->t1 - c->t0;
	long b;

	if (!(span > 0))
		return 0;
	b = lround((t - c->t0) / span * (REPLAY_BUCKETS - 1));
	return b < 0 ? 0 : b >= REPLAY_BUCKETS ? REPLAY_BUCKETS - 1 : (int)b;
}

/* Least-squares slope of usage over the recent samples within the window before t, and in
 * *span how far back they reach: less than the window in a short record, or where the
 * ring's REPLAY_RING samples come faster than one a second. */
static double growth_before(const struct replay_cg *c, double t, double *span)
{
	double n = 0, st = 0, su = 0, stt = 0, stu = 0, first = 0;
	int i, k = c->nring < REPLAY_RING ? c->nring : REPLAY_RING;

	for (i = 0; i < k; i++) {
		double x = c->ring[i].t - t, y = (double)c->ring[i].usage;

		if (x < -REPLAY_GROWTH_WINDOW || x > 0)
			continue;
		n++, st += x, su += y, stt += x * x, stu += x * y;
		first = fmin(first, x);
	}
	*span = NAN;
	if (n < 2 || n * stt - st * st <= 0)
		return NAN;
	*span = -first;
	return (n * stu - st * su) / (n * stt - st * st);
}

static void on_sample(struct replay *rp, struct replay_cg *c, const struct obs *o)
{
	const struct obs_sample *s = &o->sample;
	const struct eng_cgroup *ec = eng_find(&rp->eng, o->cg);
	uint64_t risk = s->usage - (s->reclaimable < s->usage ? s->reclaimable : s->usage);
	struct replay_bucket *b;

	if (isnan(c->first_t))
		c->first_t = o->t;
	c->last_t = o->t;
	c->nsamples++;
	c->last_limit = s->limit;
	if ((s->swap || s->swap_limit) && (s->swap >= c->peak_swap || !c->seen_swap)) {
		c->seen_swap = 1;
		c->peak_swap = s->swap;
		c->peak_swap_limit = s->swap_limit;
	}
	c->ring[c->nring++ % REPLAY_RING].t = o->t;
	c->ring[(c->nring - 1) % REPLAY_RING].usage = s->usage;
	if (s->usage > c->peak_usage || c->nsamples == 1) {
		c->peak_usage = s->usage;
		c->peak_t = o->t;
		c->peak_limit = s->limit;
		c->peak_reclaimable = s->reclaimable;
		c->peak_growth = growth_before(c, o->t, &c->peak_growth_span);
	}
	if (!c->buckets)
		return;
	b = &c->buckets[bucket_of(c, o->t)];
	if (!b->n++) {
		b->usage_min = b->usage_max = s->usage;
		b->risk_max = risk;
		b->eta = INFINITY;
	}
	b->usage_min = s->usage < b->usage_min ? s->usage : b->usage_min;
	b->usage_max = s->usage > b->usage_max ? s->usage : b->usage_max;
	b->risk_max = risk > b->risk_max ? risk : b->risk_max;
	b->limit = s->limit;
	if (ec && ec->last.mode != FC_NONE && isfinite(ec->last.eta) && ec->last.eta < b->eta)
		b->eta = ec->last.eta;
}

/* Tasks are ranked by growth; a newcomer takes the slot of the one that matters least. */
static double task_score(const struct replay_task *t)
{
	return (double)replay_task_growth(t) + t->max_rate * REPLAY_GROWTH_WINDOW;
}

static struct replay_task *task_slot(struct replay_cg *c, const struct obs_task *ot)
{
	int i, low = 0;

	for (i = 0; i < c->ntasks; i++) {
		if (c->tasks[i].pid == ot->pid)
			return &c->tasks[i];
		if (task_score(&c->tasks[i]) < task_score(&c->tasks[low]))
			low = i;
	}
	if (c->ntasks < REPLAY_TASKS)
		return &c->tasks[c->ntasks++];
	if (ot->rate * REPLAY_GROWTH_WINDOW <= task_score(&c->tasks[low]))
		return NULL;
	free(c->tasks[low].val);
	memset(&c->tasks[low], 0, sizeof(c->tasks[low]));
	return &c->tasks[low];
}

static void on_task(struct replay_cg *c, const struct obs *o)
{
	const struct obs_task *ot = &o->task;
	struct replay_task *t = task_slot(c, ot);
	int i;

	if (!t)
		return;
	if (!t->pid) {
		t->pid = ot->pid;
		t->first_t = o->t;
		t->first_mapped = ot->mapped;
		t->first_rss = ot->rss;
		if (c->buckets && (t->val = malloc(REPLAY_BUCKETS * sizeof(*t->val))))
			for (i = 0; i < REPLAY_BUCKETS; i++)
				t->val[i] = NAN;
	}
	memcpy(t->comm, ot->comm, sizeof(t->comm));
	t->oom_score_adj = ot->oom_score_adj;
	t->last_t = o->t;
	t->last_mapped = ot->mapped;
	t->last_rss = ot->rss;
	t->max_rate = fmax(t->max_rate, ot->rate);
	if (t->val)
		t->val[bucket_of(c, o->t)] = ot->rss ? (float)ot->rss : (float)ot->mapped;
}

static void on_victim(struct replay_cg *c, const struct obs *o)
{
	if (c->nvictims == REPLAY_VICTIMS) {
		c->victims_dropped++;
		return;
	}
	c->victims[c->nvictims].t = o->t;
	c->victims[c->nvictims++].v = o->victim;
}

/* Pass one (only for a timeline): each cgroup's time span, so its columns are known before
 * the samples arrive and memory stays bounded however long the record. */
static void span_obs(struct replay *rp, const struct obs *o)
{
	struct replay_cg *c = o->kind == OBS_CGROUP_ADD ? cg_add(&rp->doc, o) : cg_get(&rp->doc, o->cg);

	if (!c || o->kind == OBS_CGROUP_ADD)
		return;
	c->t0 = fmin(c->t0, o->t);
	c->t1 = fmax(c->t1, o->t);
}

static void model_obs(struct replay *rp, const struct obs *o)
{
	struct replay_cg *c;

	if (isnan(rp->doc.t_first))
		rp->doc.t_first = o->t;
	rp->doc.t_last = o->t;
	if (o->kind == OBS_CGROUP_ADD) {
		c = cg_add(&rp->doc, o);
		if (c && rp->timeline && !c->buckets && c->t1 > c->t0)
			c->buckets = calloc(REPLAY_BUCKETS, sizeof(*c->buckets));
		return;
	}
	c = cg_get(&rp->doc, o->cg);
	if (!c)
		return;         /* the engine ignores it too */
	switch (o->kind) {
	case OBS_SAMPLE: on_sample(rp, c, o); break;
	case OBS_TASK: on_task(c, o); break;
	case OBS_VICTIM: on_victim(c, o); break;
	default: break;
	}
}

static void add_mark(struct replay_cg *c, const struct oc_event *ev)
{
	struct replay_mark *m;

	if (c->nmarks == c->marks_cap) {
		int cap = c->marks_cap ? c->marks_cap * 2 : 16;

		if (cap > REPLAY_MAX_MARKS || !(m = realloc(c->marks, cap * sizeof(*m))))
			return;
		c->marks = m;
		c->marks_cap = cap;
	}
	m = &c->marks[c->nmarks++];
	*m = (struct replay_mark){ ev->time, ev->kind, ev->eta_seconds, ev->lead_seconds, ev->pid, "" };
	memcpy(m->comm, ev->comm, sizeof(m->comm));
}

static void model_event(struct replay *rp, const struct oc_event *ev)
{
	struct replay_cg *c = ev->cgroup ? cg_get(&rp->doc, ev->cgroup_id) : NULL;

	if (!c || ev->kind == EV_CGROUP_ADD || ev->kind == EV_CGROUP_DEL)
		return;
	add_mark(c, ev);
	switch (ev->kind) {
	case EV_FORECAST:
		if (!c->nforecasts++) {
			c->first_forecast_t = ev->time;
			c->first_forecast_eta = ev->eta_seconds;
			snprintf(c->first_method, sizeof(c->first_method), "%s", ev->method ? ev->method : "");
		}
		break;
	case EV_CLEAR: c->nclears++; break;
	case EV_OOM_KILL:
		if (!c->nkills++)
			c->first_kill_t = ev->time;
		break;
	case EV_STALL:
		if (!c->nstalls++)
			c->first_stall_t = ev->time;
		break;
	default: break;
	}
}

static void on_event(const struct oc_event *ev, void *arg)
{
	struct replay *rp = arg;

	if (!rp->o->quiet && selected(rp->o, ev->cgroup))
		ev_print(stdout, ev, rp->o->json);
	model_event(rp, ev);
}

/* ---------------- the summary ---------------- */

static const char *human(double b, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = fabs(b);
	int i = 0;

	while (v >= 1024 && i < 6) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, i ? "%s%.1f %s" : "%s%.0f %s", b < 0 ? "-" : "", v, unit[i]);
	return buf;
}

static const char *limit_str(uint64_t limit, char *buf, size_t len)
{
	return !limit || limit == CG_NO_LIMIT ? "no limit" : human((double)limit, buf, len);
}

/* Local wall-clock time with milliseconds, as the live event lines print it. */
static const char *clock_str(double t, char *buf, size_t len)
{
	time_t secs = (time_t)floor(t);
	struct tm tm;
	size_t n;

	if (!isfinite(t) || !localtime_r(&secs, &tm))
		return snprintf(buf, len, "?"), buf;
	n = strftime(buf, len, "%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03d", (int)((t - floor(t)) * 1000));
	return buf;
}

static int cmp_task_growth(const void *a, const void *b)
{
	const struct replay_task *x = *(const struct replay_task *const *)a;
	const struct replay_task *y = *(const struct replay_task *const *)b;
	double gx = task_score(x), gy = task_score(y);

	return (gx < gy) - (gx > gy);
}

/* The tasks by growth, biggest first; returns how many. */
static int top_tasks(const struct replay_cg *c, const struct replay_task **out, int max)
{
	int i, n = c->ntasks;

	for (i = 0; i < n; i++)
		out[i] = &c->tasks[i];
	qsort(out, n, sizeof(*out), cmp_task_growth);
	return n < max ? n : max;
}

static int incident(const struct replay_cg *c)
{
	return c->nforecasts || c->nkills || c->nstalls || c->nvictims;
}

static void text_kills(FILE *f, const struct replay_cg *c)
{
	char ts[32];
	int i, shown = 0;

	for (i = 0; i < c->nmarks && shown < 5; i++) {
		const struct replay_mark *m = &c->marks[i];

		if (m->kind != EV_OOM_KILL && m->kind != EV_STALL)
			continue;
		fprintf(f, "  %-11s %s", shown++ ? "" : "kills/stalls", clock_str(m->t, ts, sizeof(ts)));
		if (m->kind == EV_OOM_KILL && m->pid)
			fprintf(f, " oom_kill %s[%u]", m->comm, m->pid);
		else if (m->kind == EV_OOM_KILL)
			fprintf(f, " oom_kill (counted; its victim not seen)");
		else
			fprintf(f, " stall");
		if (isfinite(m->lead))
			fprintf(f, ": forecast %.1f s before\n", m->lead);
		else
			fprintf(f, ": no forecast before it\n");
	}
}

static void text_tasks(FILE *f, const struct replay_cg *c)
{
	const struct replay_task *top[REPLAY_TASKS];
	char g[32], r[32];
	int i, n = top_tasks(c, top, 5);

	for (i = 0; i < n; i++)
		fprintf(f, "  %-11s %s[%u] %s%s %s, peak rate %s/s, oom_score_adj %d\n",
			i ? "" : "top tasks", top[i]->comm, top[i]->pid,
			replay_task_growth(top[i]) >= 0 ? "+" : "",
			human((double)replay_task_growth(top[i]), g, sizeof(g)),
			top[i]->first_rss || top[i]->last_rss ? "rss" : "mapped",
			human(top[i]->max_rate, r, sizeof(r)), top[i]->oom_score_adj);
}

static void text_victims(FILE *f, const struct replay_cg *c)
{
	char ts[32], rss[32], u[32];
	int i;

	for (i = 0; i < c->nvictims; i++) {
		const struct replay_victim *v = &c->victims[i];

		fprintf(f, "  %-11s %s[%u] at %s, oom_score_adj %s%d, rss %s, cgroup at %s\n",
			i ? "" : "victims", v->v.comm, v->v.pid, clock_str(v->t, ts, sizeof(ts)),
			v->v.oom_score_adj == -1001 ? "? " : "", v->v.oom_score_adj == -1001 ? 0
			: v->v.oom_score_adj, v->v.rss ? human((double)v->v.rss, rss, sizeof(rss)) : "?",
			human((double)v->v.usage, u, sizeof(u)));
	}
	if (c->victims_dropped)
		fprintf(f, "  %-11s ... and %d more\n", "", c->victims_dropped);
}

static void text_cgroup(FILE *f, const struct replay_cg *c)
{
	char a[32], b[32], x[32], y[32];

	fprintf(f, "\n%s (id %llu, cgroup v%u)\n", c->path, (unsigned long long)c->id, c->version);
	fprintf(f, "  %-11s %s .. %s (%.1f s, %llu samples)\n", "watched",
		clock_str(c->first_t, a, sizeof(a)), clock_str(c->last_t, b, sizeof(b)),
		c->last_t - c->first_t, (unsigned long long)c->nsamples);
	fprintf(f, "  %-11s %s at %s", "peak", human((double)c->peak_usage, x, sizeof(x)),
		clock_str(c->peak_t, a, sizeof(a)));
	if (c->peak_limit && c->peak_limit != CG_NO_LIMIT)
		fprintf(f, ", %.1f%% of", 100.0 * (double)c->peak_usage / (double)c->peak_limit);
	fprintf(f, " %s (reclaimable %s)\n", limit_str(c->peak_limit, y, sizeof(y)),
		human((double)c->peak_reclaimable, b, sizeof(b)));
	if (c->seen_swap)
		fprintf(f, "  %-11s %s of %s the cgroup could hold then\n", "swap peak",
			human((double)c->peak_swap, a, sizeof(a)),
			human((double)c->peak_swap_limit, b, sizeof(b)));
	if (isfinite(c->peak_growth))
		fprintf(f, "  %-11s %s%s/s over the %.*f s before the peak\n", "growth",
			c->peak_growth >= 0 ? "+" : "", human(c->peak_growth, a, sizeof(a)),
			c->peak_growth_span < 10 ? 1 : 0, c->peak_growth_span);
	if (c->nforecasts)
		fprintf(f, "  %-11s first at %s, ETA %.1f s (%s); %d forecast%s, %d clear%s\n",
			"forecast", clock_str(c->first_forecast_t, a, sizeof(a)), c->first_forecast_eta,
			c->first_method, c->nforecasts, c->nforecasts == 1 ? "" : "s", c->nclears,
			c->nclears == 1 ? "" : "s");
	else
		fprintf(f, "  %-11s none\n", "forecast");
	if (isfinite(c->first_forecast_t) && isfinite(c->first_kill_t) &&
	    c->first_kill_t >= c->first_forecast_t)
		fprintf(f, "  %-11s %.1f s from the first forecast to the first kill\n", "lead",
			c->first_kill_t - c->first_forecast_t);
	text_kills(f, c);
	text_victims(f, c);
	text_tasks(f, c);
}

static void text_summary(FILE *f, const struct replay_doc *d)
{
	char a[32], b[32], u[32], l[32];
	const struct replay_cg *c;
	int quiet = 0;

	fprintf(f, "\nrecord %s", d->file);
	if (d->nfiles > 1)
		fprintf(f, " and %d later file%s", d->nfiles - 1, d->nfiles > 2 ? "s" : "");
	fprintf(f, ": host %s, kernel %s, oomcast %s, horizon %.0f s\n", d->h.host, d->h.kernel,
		d->h.oomcast_version, d->horizon);
	fprintf(f, "  from %s to %s (%.1f s), %d cgroup%s\n", clock_str(d->t_first, a, sizeof(a)),
		clock_str(d->t_last, b, sizeof(b)), d->t_last - d->t_first, d->ncgs,
		d->ncgs == 1 ? "" : "s");
	for (c = d->cgs; c; c = c->next)
		if (incident(c))
			text_cgroup(f, c);
	for (c = d->cgs; c; c = c->next) {
		if (incident(c) || !c->nsamples)
			continue;
		if (!quiet++)
			fprintf(f, "\nquiet cgroups (no forecast, kill or stall):\n");
		fprintf(f, "  %s: peak %s of %s\n", c->path, human((double)c->peak_usage, u, sizeof(u)),
			limit_str(c->peak_limit, l, sizeof(l)));
	}
}

static struct json_object *jdouble(double v)
{
	return isfinite(v) ? json_object_new_double(v) : NULL;
}

static struct json_object *json_tasks(const struct replay_cg *c)
{
	const struct replay_task *top[REPLAY_TASKS];
	struct json_object *arr = json_object_new_array();
	int i, n = top_tasks(c, top, 5);

	for (i = 0; i < n; i++) {
		struct json_object *t = json_object_new_object();

		json_object_object_add(t, "pid", json_object_new_int64(top[i]->pid));
		json_object_object_add(t, "comm", json_object_new_string(top[i]->comm));
		json_object_object_add(t, "growth_bytes", json_object_new_int64(replay_task_growth(top[i])));
		json_object_object_add(t, "max_rate_bytes_per_second", jdouble(top[i]->max_rate));
		json_object_object_add(t, "oom_score_adj", json_object_new_int(top[i]->oom_score_adj));
		json_object_array_add(arr, t);
	}
	return arr;
}

static struct json_object *json_victims(const struct replay_cg *c)
{
	struct json_object *arr = json_object_new_array();
	int i;

	for (i = 0; i < c->nvictims; i++) {
		const struct replay_victim *v = &c->victims[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "time", jdouble(v->t));
		json_object_object_add(o, "pid", json_object_new_int64(v->v.pid));
		json_object_object_add(o, "comm", json_object_new_string(v->v.comm));
		if (v->v.oom_score_adj != -1001)
			json_object_object_add(o, "oom_score_adj", json_object_new_int(v->v.oom_score_adj));
		json_object_object_add(o, "rss_bytes", json_object_new_uint64(v->v.rss));
		json_object_object_add(o, "usage_bytes", json_object_new_uint64(v->v.usage));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* Kill leads, in the engine's sense: from the episode's forecast (a kill storm's: the one
 * before its first kill) to the kill. */
static struct json_object *json_leads(const struct replay_cg *c)
{
	struct json_object *arr = json_object_new_array();
	int i;

	for (i = 0; i < c->nmarks; i++)
		if (c->marks[i].kind == EV_OOM_KILL)
			json_object_array_add(arr, jdouble(c->marks[i].lead));
	return arr;
}

/* One {"event":"summary"} line per cgroup, at the time of its last sample. */
static void json_cgroup(FILE *f, const struct replay_cg *c)
{
	struct json_object *o = json_object_new_object();

#define PUT(k, v) json_object_object_add(o, k, v)
	PUT("event", json_object_new_string("summary"));
	PUT("time", jdouble(c->last_t));
	PUT("cgroup", json_object_new_string(c->path));
	PUT("cgroup_id", json_object_new_uint64(c->id));
	PUT("first_time", jdouble(c->first_t));
	PUT("samples", json_object_new_uint64(c->nsamples));
	PUT("peak_usage_bytes", json_object_new_uint64(c->peak_usage));
	PUT("peak_time", jdouble(c->peak_t));
	if (c->peak_limit && c->peak_limit != CG_NO_LIMIT)
		PUT("limit_bytes", json_object_new_uint64(c->peak_limit));
	PUT("peak_reclaimable_bytes", json_object_new_uint64(c->peak_reclaimable));
	if (c->seen_swap) {
		PUT("peak_swap_bytes", json_object_new_uint64(c->peak_swap));
		PUT("swap_limit_bytes", json_object_new_uint64(c->peak_swap_limit));
	}
	PUT("growth_bytes_per_second", jdouble(c->peak_growth));
	PUT("growth_seconds", jdouble(c->peak_growth_span));
	PUT("forecasts", json_object_new_int(c->nforecasts));
	PUT("clears", json_object_new_int(c->nclears));
	PUT("oom_kills", json_object_new_int(c->nkills));
	PUT("stalls", json_object_new_int(c->nstalls));
	PUT("first_forecast_time", jdouble(c->first_forecast_t));
	PUT("first_forecast_eta_seconds", jdouble(c->first_forecast_eta));
	PUT("first_kill_time", jdouble(c->first_kill_t));
	PUT("first_stall_time", jdouble(c->first_stall_t));
	PUT("kill_lead_seconds", json_leads(c));
	PUT("top_tasks", json_tasks(c));
	PUT("victims", json_victims(c));
#undef PUT
	fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void replay_summary(FILE *f, const struct replay_doc *d, int json)
{
	const struct replay_cg *c;

	if (!json) {
		text_summary(f, d);
		return;
	}
	for (c = d->cgs; c; c = c->next)
		if (c->nsamples || incident(c))
			json_cgroup(f, c);
}

/* ---------------- reading ---------------- */

enum { RF_OK = 0, RF_TORN = 1, RF_BAD = 2 };

/* A file of the history and where it lies in time, so the files replay in time order
 * whatever order they were given in (the shell's `rec*` gives rec before rec.1). */
struct replay_file {
	const char *path;
	struct rec_header h;
	int arg;                /* its place on the command line: ties keep it */
	dev_t dev;
	ino_t ino;
	double start;           /* its first observation, a rotation's re-announcements aside */
	double end;             /* its last observation */
	double horizon;         /* recorded in it, else the default */
	int ready;              /* it has a READY: a daemon's start, not a rotation's sequel */
};

/* Pass zero: the file's header and span. A file that cannot be opened is said here, once. */
static int scan_file(struct replay_file *f)
{
	static struct obs o;    /* its 1.4 KiB path union stays off the stack */
	struct rec_reader *r;
	struct stat st;
	char err[600];

	if (rec_open_read(&r, f->path, &f->h, err, sizeof(err))) {
		fprintf(stderr, "oomcast replay: %s\n", err);
		return -1;
	}
	if (!stat(f->path, &st))
		f->dev = st.st_dev, f->ino = st.st_ino;
	f->start = f->end = NAN;
	while (rec_next(r, &o) == 1) {
		/* a rotated file re-announces its cgroups with their original, older, times;
		 * the rest are not strictly in time order either (a task's observation carries
		 * its last activity, kernel records drained after polls their own times) */
		if (o.kind != OBS_CGROUP_ADD)
			f->start = isnan(f->start) ? o.t : fmin(f->start, o.t);
		f->end = isnan(f->end) ? o.t : fmax(f->end, o.t);
		f->ready |= o.kind == OBS_READY;
	}
	if (isnan(f->start))
		f->start = f->h.start_time;
	f->end = fmax(f->end, f->start);
	if (recorded_horizon(f->h.options, &f->horizon))
		f->horizon = REPLAY_DEFAULT_HORIZON;
	rec_close_read(r);
	return 0;
}

static int cmp_file_start(const void *a, const void *b)
{
	const struct replay_file *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->arg - y->arg;
}

#define REPLAY_SEQUEL_SLACK 2.0      /* seconds */

/* Files in time order are one history only if none starts before the one before it ended:
 * the same file twice, or the records of two daemons that ran at once, would replay each
 * sample twice and invent kills. Without --horizon the files must agree on the recorded
 * one: at any other the events of some file would not be those its daemon printed, and
 * replay is there to say what the daemon did. */
static int check_history(const struct replay_file *f, int n, double horizon)
{
	char a[32], b[32], c[32];
	int i, j;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (f[i].ino && f[i].dev == f[j].dev && f[i].ino == f[j].ino) {
				fprintf(stderr, "oomcast replay: %s and %s are the same file: give "
					"it once\n", f[i].path, f[j].path);
				return -1;
			}
	/* A rotation's sequel (no READY of its own) starts where its file filled, and the
	 * observation that filled it may be up to a second older than the last one before
	 * (see scan_file): REPLAY_SEQUEL_SLACK of overlap is one history. A daemon's own
	 * start (READY) comes after whatever the daemon before it recorded. */
	for (i = 1; i < n; i++)
		if (f[i].start < f[i - 1].end - (f[i].ready ? 0 : REPLAY_SEQUEL_SLACK)) {
			fprintf(stderr, "oomcast replay: %s (%s to %s) and %s (from %s) overlap in "
				"time: they are not one history (two daemons recording at once?); "
				"replay each on its own\n", f[i - 1].path,
				clock_str(f[i - 1].start, a, sizeof(a)),
				clock_str(f[i - 1].end, b, sizeof(b)), f[i].path,
				clock_str(f[i].start, c, sizeof(c)));
			return -1;
		}
	for (i = 1; i < n && isnan(horizon); i++)
		if (f[i].horizon != f[0].horizon) {
			fprintf(stderr, "oomcast replay: %s was recorded at horizon %g s and %s "
				"at %g s: give --horizon to replay them as one history at one "
				"horizon, or replay each on its own\n", f[0].path, f[0].horizon,
				f[i].path, f[i].horizon);
			return -1;
		}
	return 0;
}

/* One file through pass one (spans) or pass two (engine + model); says what was wrong
 * with it, if anything. Pass two prints the problem. */
static int read_file(struct replay *rp, const char *path, int pass2)
{
	static struct obs o;    /* its 1.4 KiB path union stays off the stack */
	struct rec_reader *r;
	struct rec_header h;
	unsigned long long n = 0;
	char err[600];
	int rc;

	if (rec_open_read(&r, path, &h, err, sizeof(err))) {
		if (pass2)
			fprintf(stderr, "oomcast replay: %s\n", err);
		return RF_BAD;
	}
	while ((rc = rec_next(r, &o)) == 1) {
		n++;
		if (!pass2) {
			span_obs(rp, &o);
			continue;
		}
		eng_feed(&rp->eng, &o);
		model_obs(rp, &o);      /* after the feed: it reads the engine's new ETA */
	}
	if (rc < 0 && pass2)
		fprintf(stderr, "oomcast replay: %s%s; replayed the %llu observations before it\n",
			rec_torn(r) ? "warning: " : "", rec_error(r), n);
	rc = rc < 0 ? (rec_torn(r) ? RF_TORN : RF_BAD) : RF_OK;
	rec_close_read(r);
	return rc;
}

static int replay_files(struct replay *rp, const struct replay_file *f, int n,
			const struct eng_params *p)
{
	int i, worst = RF_OK, rc;

	if (rp->timeline)
		for (i = 0; i < n; i++)
			read_file(rp, f[i].path, 0);
	for (i = 0; i < n; i++) {
		/* A file with a READY is a restarted daemon's (a rotation does not repeat it):
		 * that daemon began with no history, and so does its replay, so its events are
		 * the ones it printed. The incident model runs on across the restart. */
		if (i && f[i].ready) {
			eng_free(&rp->eng);
			eng_init(&rp->eng, p, on_event, rp);
		}
		rc = read_file(rp, f[i].path, 1);
		worst = rc > worst ? rc : worst;
	}
	return worst;
}

static void free_doc(struct replay_doc *d)
{
	struct replay_cg *c, *n;

	for (c = d->cgs; c; c = n) {
		n = c->next;
		cg_free(c);
	}
	d->cgs = NULL;
}

/* A --cgroup that names no cgroup of the record leaves only ready and stop, which reads as
 * "nothing happened": say so, with the record's own paths to compare against. */
static void warn_unmatched(const struct replay *rp)
{
	const struct replay_cg *c;
	int i, k;

	for (i = 0; i < rp->o->nonly; i++) {
		for (c = rp->doc.cgs; c && !same_cgroup(rp->o->only[i], c->path); c = c->next)
			;
		if (c)
			continue;
		fprintf(stderr, "oomcast replay: warning: --cgroup %s matches no cgroup in the "
			"record", rp->o->only[i]);
		for (c = rp->doc.cgs, k = 0; c && k < 3; c = c->next, k++)
			fprintf(stderr, "%s%s", k ? ", " : " (it has ", c->path);
		if (!rp->doc.ncgs)
			fprintf(stderr, " (it has none)\n");
		else if (rp->doc.ncgs > 3)
			fprintf(stderr, ", ... %d in all)\n", rp->doc.ncgs);
		else
			fprintf(stderr, ")\n");
	}
}

/* Leave out of the outputs the cgroups --cgroup did not name. */
static void apply_filter(struct replay *rp)
{
	struct replay_cg **pp = &rp->doc.cgs, *c;

	while ((c = *pp)) {
		if (selected(rp->o, c->path)) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		cg_free(c);
		rp->doc.ncgs--;
	}
}

int replay_main(int argc, char **argv)
{
	struct replay_opts o = { .horizon = NAN, .min_samples = NAN, .clear_factor = NAN,
				 .clear_hold = NAN };
	static struct replay_file files[REPLAY_MAX_FILES];
	struct replay rp = { .o = &o };
	struct eng_params p;
	char err[256];
	int i, n = 0, unreadable = 0, rc, status = 1;

	argp_parse(&replay_argp, argc, argv, 0, NULL, &o);
	for (i = 0; i < o.nfiles; i++) {
		files[n] = (struct replay_file){ .path = o.files[i], .arg = i };
		if (scan_file(&files[n]))
			unreadable = 1;         /* said; the others still replay, exit 1 */
		else
			n++;
	}
	qsort(files, n, sizeof(files[0]), cmp_file_start);
	if (!n || check_history(files, n, o.horizon))
		return 1;
	rp.timeline = o.svg != NULL;
	rp.doc.file = files[0].path;
	rp.doc.nfiles = n;
	rp.doc.h = files[0].h;
	rp.doc.t_first = rp.doc.t_last = NAN;
	build_params(&o, &rp.doc.h, &p, &rp.doc.horizon);
	eng_init(&rp.eng, &p, on_event, &rp);
	rc = replay_files(&rp, files, n, &p);
	rc = unreadable ? RF_BAD : rc;
	fflush(stdout);
	warn_unmatched(&rp);
	apply_filter(&rp);
	if (o.summary)
		replay_summary(stdout, &rp.doc, o.json);
	if (o.svg && svg_write(o.svg, &rp.doc, err, sizeof(err))) {
		fprintf(stderr, "oomcast replay: %s\n", err);
		goto cleanup;
	}
	status = rc == RF_BAD ? 1 : 0;
cleanup:
	eng_free(&rp.eng);
	free_doc(&rp.doc);
	return status;
}
