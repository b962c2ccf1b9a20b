/* engine.c: observations in, events out: per-cgroup forecaster state and the episode
 * state machine (forecast once, clear when calm, oom_kill with the lead, stall). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"

#define ENG_TRIP_IDLE 0.10      /* idle cgroup: wake when risk is within 10% of the limit */
#define ENG_STORM_LOW 0.80      /* a kill storm goes on while risk stays above this share */
#define ENG_STORM_GAP 10.0      /* seconds: ... and its kills come at most this far apart */
/* seconds a kill counted by the kernel waits for its victim's record (which comes through
 * the ring buffer, a poll at most behind the count) before it is reported without one */
#define ENG_VICTIM_WAIT 0.5
#define ENG_UNSEEN_MAX 16       /* kills reported from one jump of the count, at most */

void eng_init(struct engine *e, const struct eng_params *p, eng_emit_fn emit, void *arg)
{
	memset(e, 0, sizeof(*e));
	e->p = *p;
	e->emit = emit;
	e->emit_arg = arg;
}

static void cg_free(struct eng_cgroup *c)
{
	free(c->labels.kube);
	free(c->path);
	free(c);
}

void eng_free(struct engine *e)
{
	struct eng_cgroup *c, *n;

	for (c = e->cgroups; c; c = n) {
		n = c->next;
		cg_free(c);
	}
	e->cgroups = NULL;
	memset(e->buckets, 0, sizeof(e->buckets));
	e->ncgroups = 0;
	for (int i = 0; i < e->nknown; i++)
		free(e->known[i].path);
	e->nknown = 0;
}

struct eng_cgroup *eng_find(struct engine *e, uint64_t id)
{
	struct eng_cgroup *c;

	for (c = e->buckets[id % ENG_BUCKETS]; c; c = c->hnext)
		if (c->id == id)
			return c;
	return NULL;
}

const char *ev_kind_name(enum ev_kind k)
{
	static const char *const names[] = {
		[EV_READY] = "ready", [EV_FORECAST] = "forecast", [EV_CLEAR] = "clear",
		[EV_OOM_KILL] = "oom_kill", [EV_STALL] = "stall", [EV_STALL_END] = "stall_end",
		[EV_CGROUP_ADD] = "watch", [EV_CGROUP_DEL] = "unwatch", [EV_STOP] = "stop",
	};

	return (unsigned)k < sizeof(names) / sizeof(names[0]) && names[k] ? names[k] : "unknown";
}

static void ev_base(struct oc_event *ev, enum ev_kind kind, double t, const struct eng_cgroup *c)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->time = t;
	ev->lead_seconds = NAN;
	ev->eta_seconds = NAN;
	ev->oom_score_adj = -1001;
	if (!c)
		return;
	ev->cgroup_id = c->id;
	ev->cgroup = c->path;
	ev->labels = &c->labels;
	ev->usage_bytes = c->sample.usage;
	ev->limit_bytes = c->sample.limit;
	ev->reclaimable_bytes = c->sample.reclaimable;
	ev->swap_bytes = c->sample.swap;
	ev->swap_limit_bytes = c->sample.swap_limit;
}

/* What the forecaster sees: with swap, the kill comes when memory less what reclaim takes
 * back plus swap meets the limit plus the swap the cgroup can hold (at the memory limit,
 * reclaim swaps anonymous pages out instead of killing, until the swap is full). Without
 * swap both are 0 and these are usage and the limit. */
static uint64_t risk_usage(const struct obs_sample *s)
{
	return s->usage + s->swap < s->usage ? UINT64_MAX : s->usage + s->swap;
}

static uint64_t risk_limit(const struct obs_sample *s)
{
	if (!s->limit)
		return 0;       /* no limit read: no forecast, as without swap */
	if (s->limit == UINT64_MAX || s->limit + s->swap_limit < s->limit)
		return UINT64_MAX;
	return s->limit + s->swap_limit;
}

static int task_cmp(const void *a, const void *b)
{
	const struct obs_task *x = a, *y = b;

	return (x->rate < y->rate) - (x->rate > y->rate);
}

/* Tasks seen allocating within this long before an event are named in it; one seen longer
 * ago may have exited (a shell or a shim that ran at the start, its pid free for reuse). */
#define TOP_IDLE 30.0

/* Task slot i not seen allocating for TOP_IDLE at time t. */
static int idle(const struct eng_cgroup *c, int i, double t)
{
	return t - c->tasks_t[i] > TOP_IDLE;
}

static void fill_top(struct oc_event *ev, struct eng_cgroup *c)
{
	struct obs_task sorted[32];
	int i, n = 0;

	for (i = 0; i < c->ntasks; i++)
		if (!idle(c, i, ev->time))
			sorted[n++] = c->tasks[i];
	qsort(sorted, n, sizeof(sorted[0]), task_cmp);
	for (i = 0; i < n && ev->ntop < ENG_TOP_TASKS; i++) {
		struct ev_task *t = &ev->top[ev->ntop++];

		t->pid = sorted[i].pid;
		memcpy(t->comm, sorted[i].comm, sizeof(t->comm));
		t->rate = sorted[i].rate;
		t->mapped = sorted[i].mapped;
		t->rss = sorted[i].rss;
		t->oom_score_adj = sorted[i].oom_score_adj;
	}
}

static void emit(struct engine *e, const struct oc_event *ev)
{
	if (e->emit)
		e->emit(ev, e->emit_arg);
}

static void set_names(struct eng_cgroup *c, const struct cg_kube_names *n)
{
	if (c->labels.kube || (c->labels.kube = malloc(sizeof(*c->labels.kube))))
		*c->labels.kube = *n;
}

static void on_add(struct engine *e, const struct obs *o)
{
	struct eng_cgroup *c = eng_find(e, o->cg);
	struct oc_event ev;

	if (c)
		return;         /* re-announced after a record rotation */
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->path = strndup(o->add.path, sizeof(o->add.path) - 1);
	if (!c->path) {
		free(c);
		return;
	}
	c->id = o->cg;
	c->version = o->add.version;
	cg_labels(c->path, &c->labels);
	if (o->add.names.pod[0])
		set_names(c, &o->add.names);
	fc_init(&c->fc);
	c->forecast_t = c->last_forecast_t = c->calm_since = NAN;
	c->storm_forecast_t = c->last_kill_t = c->unseen_kill_t = c->unseen_rise_t = NAN;
	c->next = e->cgroups;
	e->cgroups = c;
	c->hnext = e->buckets[c->id % ENG_BUCKETS];
	e->buckets[c->id % ENG_BUCKETS] = c;
	e->ncgroups++;
	ev_base(&ev, EV_CGROUP_ADD, o->t, c);
	emit(e, &ev);
}

static void unseen_kills(struct engine *e, struct eng_cgroup *c, double now, int now_or_never);

static void on_del(struct engine *e, const struct obs *o)
{
	struct eng_cgroup **pp, *c;
	struct oc_event ev;

	for (pp = &e->cgroups; (c = *pp); pp = &c->next) {
		if (c->id != o->cg)
			continue;
		unseen_kills(e, c, o->t, 1);    /* a rise read, its wait cut short */
		ev_base(&ev, EV_CGROUP_DEL, o->t, c);
		emit(e, &ev);
		*pp = c->next;
		for (pp = &e->buckets[c->id % ENG_BUCKETS]; *pp != c; pp = &(*pp)->hnext)
			;
		*pp = c->hnext;
		cg_free(c);
		e->ncgroups--;
		return;
	}
}

static void end_episode(struct eng_cgroup *c)
{
	c->state = CG_OK;
	c->forecast_t = NAN;
	c->calm_since = NAN;
}

/* An ETA the forecaster stands by (a trend, confident enough), whatever the episode. */
static int eta_credible(const struct eng_cgroup *c, const struct fc_params *fp)
{
	return c->last.mode != FC_NONE && c->last.confidence >= fp->min_confidence &&
	       isfinite(c->last.eta);
}

/* A verdict that opens an episode once its ETA is within the horizon. */
static int forecast_candidate(const struct eng_cgroup *c, const struct fc_params *fp)
{
	return c->state == CG_OK && eta_credible(c, fp);
}

static void on_sample(struct engine *e, const struct obs *o)
{
	struct eng_cgroup *c = eng_find(e, o->cg);
	const struct fc_params *fp = &e->p.fc;
	struct fc_input in;
	struct oc_event ev;

	if (!c)
		return;
	unseen_kills(e, c, o->t, 0);
	c->sample = o->sample;
	c->sample_t = o->t;
	/* the storm is over once memory at risk was given back (a restart, a large victim);
	 * read from polls, whose reclaimable is their own */
	if (o->sample.source == SRC_POLL &&
	    (double)risk_usage(&o->sample) - (double)o->sample.reclaimable <
	    ENG_STORM_LOW * (double)risk_limit(&o->sample))
		c->storm_forecast_t = NAN;
	/* Only a poll reads usage and memory.stat together; a kernel sample's reclaimable is
	 * the last poll's. */
	in = (struct fc_input){ o->t, risk_usage(&o->sample), risk_limit(&o->sample),
				o->sample.reclaimable,
				o->sample.kernel_rate, o->sample.source != SRC_POLL,
				o->sample.psi_some_avg10, o->sample.psi_full_avg10 };
	fc_observe(&c->fc, fp, &in, &c->last);

	if (forecast_candidate(c, fp) && c->last.eta <= fc_fire_eta(fp)) {
		c->state = CG_FORECAST;
		c->forecast_t = c->last_forecast_t = o->t;
		c->forecast_eta = c->last.eta;
		c->calm_since = NAN;
		c->forecasts++;
		e->forecasts++;
		ev_base(&ev, EV_FORECAST, o->t, c);
		ev.eta_seconds = c->last.eta;
		ev.rate_bps = c->last.slope;
		ev.confidence = c->last.confidence;
		ev.method = fc_mode_name(c->last.mode);
		fill_top(&ev, c);
		emit(e, &ev);
		return;
	}
	if (c->state != CG_FORECAST)
		return;
	/* Calm: the ETA is far beyond the horizon (clear_factor times it); or, once the moment
	 * the forecast named has passed with no kill, half as far beyond it (1.5 times it by
	 * default): a burst that stopped, whose 2 s ETA proved wrong, must not keep its episode
	 * open on a trend still within twice the horizon; the margin keeps an ETA that hovers
	 * near the horizon from opening and closing episodes. */
	if (!(c->last.eta > fp->clear_factor * fp->horizon ||
	      (c->last.eta > (1 + fp->clear_factor) / 2 * fp->horizon &&
	       o->t > c->forecast_t + c->forecast_eta))) {
		c->calm_since = NAN;
		return;
	}
	if (isnan(c->calm_since))
		c->calm_since = o->t;
	if (o->t - c->calm_since >= fp->clear_hold) {
		ev_base(&ev, EV_CLEAR, o->t, c);
		ev.eta_seconds = c->last.eta;
		ev.rate_bps = c->last.slope;
		ev.method = fc_mode_name(c->last.mode);
		end_episode(c);
		c->storm_forecast_t = NAN;      /* the risk is gone: a kill now is news */
		emit(e, &ev);
	}
}

static void on_task(struct engine *e, const struct obs *o)
{
	struct eng_cgroup *c = eng_find(e, o->cg);
	int i, low = 0;

	if (!c)
		return;
	for (i = 0; i < c->ntasks; i++) {
		if (c->tasks[i].pid == o->task.pid) {
			c->tasks[i] = o->task;
			c->tasks_t[i] = o->t;
			return;
		}
		/* the slot to give up: one not seen for TOP_IDLE (its task may be gone: its last
		 * rate stays), else the slowest */
		if (idle(c, i, o->t) > idle(c, low, o->t) ||
		    (idle(c, i, o->t) == idle(c, low, o->t) && c->tasks[i].rate < c->tasks[low].rate))
			low = i;
	}
	if (c->ntasks < (int)(sizeof(c->tasks) / sizeof(c->tasks[0])))
		low = c->ntasks++;
	else if (!idle(c, low, o->t) && !(o->task.rate > c->tasks[low].rate))
		return;
	c->tasks[low] = o->task;
	c->tasks_t[low] = o->t;
}

static int32_t adj_lookup(const struct engine *e, uint32_t pid)
{
	int i;

	for (i = 0; i < e->nadj; i++)
		if (e->adj[i].pid == pid)
			return e->adj[i].adj;
	return -1001;
}

static void on_score_adj(struct engine *e, const struct obs *o)
{
	int i, n = sizeof(e->adj) / sizeof(e->adj[0]);
	struct eng_cgroup *c = eng_find(e, o->cg);

	for (i = 0; i < e->nadj; i++)
		if (e->adj[i].pid == o->task.pid)
			break;
	if (i == e->nadj) {
		if (e->nadj == n) {
			memmove(e->adj, e->adj + 1, (n - 1) * sizeof(e->adj[0]));
			i = n - 1;
		} else {
			e->nadj++;
		}
	}
	e->adj[i].pid = o->task.pid;
	e->adj[i].adj = o->task.oom_score_adj;
	for (i = 0; c && i < c->ntasks; i++)
		if (c->tasks[i].pid == o->task.pid)
			c->tasks[i].oom_score_adj = o->task.oom_score_adj;
}

/* A kill ends the episode (also one that a stall continued). The kills after it are the
 * same incident, a storm (a pre-fork server's children taken one by one), while each comes
 * within ENG_STORM_GAP of the last with no clear and no new forecast between and risk
 * above ENG_STORM_LOW of the limit: their lead counts from the forecast before the first. */
static void kill_event(struct engine *e, struct eng_cgroup *c, struct oc_event *ev)
{
	if (!isnan(c->forecast_t))
		c->storm_forecast_t = c->forecast_t;
	else if (!(ev->time - c->last_kill_t <= ENG_STORM_GAP))
		c->storm_forecast_t = NAN;
	c->last_kill_t = ev->time;
	if (!isnan(c->storm_forecast_t))
		ev->lead_seconds = ev->time - c->storm_forecast_t;
	ev->method = fc_mode_name(c->last.mode);
	c->kills++;
	e->kills++;
	end_episode(c);
	fc_init(&c->fc);        /* the kill resets the cgroup's history: a new life starts */
	emit(e, ev);
}

/* Kills known to the engine, a victim seen or a count's rise reported, each to explain one
 * rise of a kill count in a watched cgroup whose count may hold it, within the kill window.
 * A victim lives at the cgroup it is known by (its own, if watched; else the watched one
 * above it that the record names) or below it. On v1 a kill counts in its victim's own
 * cgroup only: a rise there, at or below where the victim is known, is its; a rise reported
 * is a kill of its own that no other count holds. On v2 (memory.events) a kill counts in
 * its victim's cgroup and every one above it: one kill raises a container's, its pod's and
 * the node's count, so a known kill explains a rise at, above or below where it is known.
 * The same path with another id is another cgroup (a container re-created). */
static int under(const char *a, const char *b)     /* a at or below b */
{
	size_t n = strlen(b);

	return !strncmp(a, b, n) && (a[n] == '/' || !a[n]);
}

static int may_hold(const struct eng_kill *k, const struct eng_cgroup *c)
{
	if (!strcmp(k->path, c->path))
		return k->id == c->id;
	if (c->version != CG_V2)
		return !k->reported && under(c->path, k->path);
	return under(c->path, k->path) || under(k->path, c->path);
}

double eng_kill_window(double interval)
{
	return 1.5 * fmax(ENG_QUIET_POLL, interval);
}

static double kill_window(const struct engine *e)
{
	/* where the daemon does not say: as at an interval under the quiet cgroups' reads */
	return e->p.kill_window > 0 ? e->p.kill_window : eng_kill_window(0);
}

static void kill_known(struct engine *e, double t, const struct eng_cgroup *at, int reported)
{
	struct eng_kill *k;
	int n = ENG_KILLS_KEPT, i, j;

	/* kept while a rise read since may need it: a window after it, and a window for the
	 * read's wait and the reads after it */
	for (i = j = 0; i < e->nknown; i++) {
		if (e->known[i].t >= e->now - 2 * kill_window(e))
			e->known[j++] = e->known[i];
		else
			free(e->known[i].path);
	}
	e->nknown = j;
	if (e->nknown == n) {
		free(e->known[0].path);
		memmove(e->known, e->known + 1, (n - 1) * sizeof(e->known[0]));
		e->nknown--;
	}
	k = &e->known[e->nknown];
	*k = (struct eng_kill){ .t = t, .path = strdup(at->path), .id = at->id,
				.reported = reported };
	if (!k->path)
		return;
	if (reported)
		k->counted[k->ncounted++] = at->id;
	e->nknown++;
}

/* A known kill that explains a rise of c's count first read at `from` and last at `to`:
 * the earliest not yet counted in c that may be held in it, within the window. Marks it
 * counted there. */
static int kill_explains(struct engine *e, const struct eng_cgroup *c, double from, double to)
{
	for (int i = 0; i < e->nknown; i++) {
		struct eng_kill *k = &e->known[i];
		int j;

		if (k->t < from - kill_window(e) || k->t > to + kill_window(e) || !may_hold(k, c))
			continue;
		for (j = 0; j < k->ncounted && k->counted[j] != c->id; j++)
			;
		if (j < k->ncounted || k->ncounted == ENG_KILL_LEVELS)
			continue;
		k->counted[k->ncounted++] = c->id;
		return 1;
	}
	return 0;
}

/* The kernel side names the watched cgroup whose limit the kill was for; the victim may live
 * in a watched cgroup below it (a container whose pod or node hit its limit). */
static void on_victim(struct engine *e, const struct obs *o)
{
	struct eng_cgroup *c = eng_find(e, o->cg), *own;
	struct oc_event ev;

	if (!c)
		return;         /* a victim outside every watched cgroup: not ours to report */
	own = o->victim.task_cgroup != o->cg ? eng_find(e, o->victim.task_cgroup) : NULL;
	ev_base(&ev, EV_OOM_KILL, o->t, c);
	if (own)
		ev.victim_cgroup = own->path;
	if (o->victim.usage)
		ev.usage_bytes = o->victim.usage;
	ev.pid = o->victim.pid;
	memcpy(ev.comm, o->victim.comm, sizeof(ev.comm));
	ev.oom_score_adj = o->victim.oom_score_adj;
	if (ev.oom_score_adj == -1001)
		ev.oom_score_adj = adj_lookup(e, o->victim.pid);
	ev.victim_rss = o->victim.rss;
	kill_known(e, o->t, own ? own : c, 0);
	kill_event(e, c, &ev);
	/* ... there too, where the victim lived; its own episode, if any, clears as its ETA
	 * goes (the kill was not at its limit) */
	if (own)
		fc_init(&own->fc);
}

/* The kills the kernel counted in c that no known kill explains, once the count has held
 * for ENG_VICTIM_WAIT (their victims' records come through the ring buffer, a poll at most
 * behind the count): each reported without its victim (pid 0, no comm), at the time the
 * count showed it (the kill came before, by up to a poll). now_or_never: the cgroup is
 * going, no wait. */
static void unseen_kills(struct engine *e, struct eng_cgroup *c, double now, int now_or_never)
{
	struct oc_event ev;
	uint64_t n, i, lost = 0;

	if (!c->have_oom || c->oom.oom_kills <= c->kills_counted) {
		c->unseen_kill_t = c->unseen_rise_t = NAN;
		return;
	}
	/* the rise is matched from the first read that showed it; the wait counts from the
	 * last (on_oom_state), as a storm's victims come while its count goes on rising */
	if (isnan(c->unseen_kill_t))
		c->unseen_kill_t = now;
	if (isnan(c->unseen_rise_t))
		c->unseen_rise_t = now;
	if (now - c->unseen_rise_t < ENG_VICTIM_WAIT && !now_or_never)
		return;
	n = c->oom.oom_kills - c->kills_counted;
	c->kills_counted = c->oom.oom_kills;
	for (i = 0; i < n; i++)
		lost += !kill_explains(e, c, c->unseen_kill_t, c->unseen_rise_t);
	for (i = 0; i < lost && i < ENG_UNSEEN_MAX; i++) {
		kill_known(e, c->unseen_kill_t, c, 1);
		ev_base(&ev, EV_OOM_KILL, c->unseen_kill_t, c);
		ev.reason = c->version == CG_V2 ? "counted in memory.events; its victim was not seen"
			: "counted in memory.oom_control; its victim was not seen";
		kill_event(e, c, &ev);
	}
	c->unseen_kill_t = c->unseen_rise_t = NAN;
}

static int v2_stalled(const struct eng_cgroup *c, const struct obs_oom_state *s)
{
	uint64_t cap = c->sample.high < c->sample.limit ? c->sample.high : c->sample.limit;

	return s->psi_full_avg10 >= 20.0 && cap && c->sample.usage >= cap - cap / 50;
}

static int same_oom_state(const struct obs_oom_state *a, const struct obs_oom_state *b)
{
	return a->under_oom == b->under_oom && a->oom_kill_disable == b->oom_kill_disable &&
	       a->oom_kills == b->oom_kills && a->oom_events == b->oom_events &&
	       a->high_events == b->high_events && a->max_events == b->max_events &&
	       a->psi_full_avg10 == b->psi_full_avg10;
}

static void on_oom_state(struct engine *e, const struct obs *o)
{
	struct eng_cgroup *c = eng_find(e, o->cg);
	int was, now;
	struct oc_event ev;

	if (!c)
		return;
	was = c->state == CG_STALLED;
	now = c->version == CG_V2 ? v2_stalled(c, &o->oom) : o->oom.under_oom;
	if (!c->have_oom)       /* kills before the watch are not ours to report */
		c->kills_counted = o->oom.oom_kills;
	else if (same_oom_state(&c->oom, &o->oom))
		return;         /* said again (a rotated record starts with it): nothing new */
	else if (o->oom.oom_kills != c->oom.oom_kills)
		c->unseen_rise_t = o->t;        /* the count rose: a waiting rise waits anew */
	c->oom = o->oom;
	c->have_oom = 1;
	unseen_kills(e, c, o->t, 0);
	if (now == was)
		return;
	if (now) {
		ev_base(&ev, EV_STALL, o->t, c);
		ev.reason = c->version == CG_V2 ? "tasks throttled at memory.high/max (PSI full)"
			: o->oom.oom_kill_disable ? "under_oom with oom_kill_disable: tasks wait at the limit"
			: "under_oom: the cgroup is out of memory";
		if (!isnan(c->forecast_t))
			ev.lead_seconds = o->t - c->forecast_t;
		c->state = CG_STALLED;
		c->stalls++;
		e->stalls++;
	} else {
		ev_base(&ev, EV_STALL_END, o->t, c);
		end_episode(c);
		fc_init(&c->fc);
	}
	emit(e, &ev);
}

void eng_feed(struct engine *e, const struct obs *o)
{
	struct eng_cgroup *c;
	struct oc_event ev;

	e->now = o->t;
	switch (o->kind) {
	case OBS_READY:
		ev_base(&ev, EV_READY, o->t, NULL);
		ev.ncgroups = e->ncgroups;
		emit(e, &ev);
		break;
	case OBS_CGROUP_ADD: on_add(e, o); break;
	case OBS_CGROUP_DEL: on_del(e, o); break;
	case OBS_SAMPLE: on_sample(e, o); break;
	case OBS_TASK: on_task(e, o); break;
	case OBS_VICTIM: on_victim(e, o); break;
	case OBS_OOM_STATE: on_oom_state(e, o); break;
	case OBS_SCORE_ADJ: on_score_adj(e, o); break;
	case OBS_RECLAIM:
		c = eng_find(e, o->cg);
		if (c)
			c->reclaims = o->reclaim.count;
		break;
	case OBS_NAMES:
		c = eng_find(e, o->cg);
		if (c)
			set_names(c, &o->names);
		break;
	case OBS_END:
		ev_base(&ev, EV_STOP, o->t, NULL);
		emit(e, &ev);
		break;
	}
}

/* The usage at which the kernel side reports at once: where the risk comes within the
 * horizon at the trend's pace of the limit (or, idle, within ENG_TRIP_IDLE of it), at least
 * half of it, in the kernel's usage terms (plus reclaimable, less swap). With swap room,
 * the same against the memory limit alone while usage is below that: usage does not show
 * the swap's growth, so the trip from memory plus swap lies beyond the memory limit until
 * the swap is nearly full; once usage is past the memory-only trip (swapping at the limit)
 * that one would fire on every sample, and the reads follow the swap instead. 0 (off)
 * where the trip would be at or below 0. */
static double trip_at(double limit, double slope, double horizon, double reclaimable, double swap)
{
	double risk_at = slope > 0 ? limit - slope * horizon : limit * (1 - ENG_TRIP_IDLE);

	return fmax(risk_at, limit * 0.5) + reclaimable - swap;
}

uint64_t eng_trip_bytes(const struct engine *e, const struct eng_cgroup *c)
{
	double horizon = fc_fire_eta(&e->p.fc);
	const struct obs_sample *s = &c->sample;
	double trip;

	if (c->state != CG_OK || !s->limit || s->limit == UINT64_MAX)
		return 0;
	trip = trip_at((double)risk_limit(s), c->last.slope, horizon, (double)s->reclaimable,
		       (double)s->swap);
	if (s->swap_limit) {
		double mem = trip_at((double)s->limit, c->last.slope, horizon,
				     (double)s->reclaimable, 0);

		if ((double)s->usage < mem)
			trip = fmin(trip, mem);
	}
	return trip > 0 ? (uint64_t)trip : 0;
}

double eng_forecast_due(const struct engine *e, const struct eng_cgroup *c)
{
	const struct fc_params *fp = &e->p.fc;

	if (!forecast_candidate(c, fp))
		return INFINITY;
	return c->sample_t + fmax(c->last.eta - fc_fire_eta(fp), 0);
}

double eng_fine_due(const struct engine *e, const struct eng_cgroup *c, double within)
{
	double step;

	if (!eta_credible(c, &e->p.fc) || c->last.eta <= 0)
		return INFINITY;        /* at the limit already: the ticks read it */
	step = c->last.eta * ENG_FINE_SHARE;
	/* From the last reading of memory.stat, not the last sample: the kernel's samples carry
	 * usage only, and come every 0.1 s while anything allocates. A leak under a page cache
	 * holds usage at the limit while anon replaces cache, so they carried no news, and as
	 * each pushed the due read 0.25 s on, the last 5 s of such a leak were read once a
	 * second (bench record: its ETA 0.9 s stale, 23% off, 2.5 s before the kill). */
	return step < within ? (c->fc.have_fresh ? c->fc.fresh_t : c->sample_t) + step : INFINITY;
}
