/* svg.c: the incident timeline of `oomcast replay --svg`, written by hand with fprintf: a
 * panel per cgroup with usage, limit and the reclaimable part, the forecast ETA against
 * the horizon, the event markers and the top tasks' growth. Every series and marker has an
 * id and classes (see docs/record-format.md) so that tests and people can find them. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "svg.h"

#define SVG_W 1100
#define SVG_ML 86               /* left margin: the value labels */
#define SVG_MR 24
#define SVG_PW (SVG_W - SVG_ML - SVG_MR)
#define SVG_H_HEAD 64
#define SVG_H_TITLE 52
#define SVG_H_MEM 210
#define SVG_H_ETA 70
#define SVG_H_TASKS 110
#define SVG_H_AXIS 30
#define SVG_GAP 18
#define SVG_MAX_PANELS 50
#define SVG_TOP_TASKS 5

static const char *const task_colors[SVG_TOP_TASKS] = {
	"#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22",
};

/* A chart's mapping from (time, value) to pixels. */
struct frame {
	double x0, y0, w, h;
	double v0, v1;
};

static double fx(const struct frame *f, int bucket)
{
	return f->x0 + f->w * bucket / (REPLAY_BUCKETS - 1);
}

static double ft(const struct frame *f, const struct replay_cg *c, double t)
{
	return f->x0 + f->w * (t - c->t0) / (c->t1 - c->t0);
}

static double fy(const struct frame *f, double v)
{
	double r = (v - f->v0) / (f->v1 - f->v0);

	r = r < 0 ? 0 : r > 1 ? 1 : r;
	return f->y0 + f->h * (1 - r);
}

static void esc(FILE *o, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '&': fputs("&amp;", o); break;
		case '"': fputs("&quot;", o); break;
		default:
			if ((unsigned char)*s >= 0x20)
				fputc(*s, o);
		}
	}
}

static const char *bytes_label(double b, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	int i = 0;

	while (fabs(b) >= 1024 && i < 6) {
		b /= 1024;
		i++;
	}
	snprintf(buf, len, "%.*f %s", fabs(b) < 10 && b != floor(b) ? 1 : 0, b, unit[i]);
	return buf;
}

static const char *clock_label(double t, int secs, char *buf, size_t len)
{
	time_t s = (time_t)floor(t);
	struct tm tm;

	if (!localtime_r(&s, &tm))
		return snprintf(buf, len, "?"), buf;
	strftime(buf, len, secs ? "%H:%M:%S" : "%H:%M", &tm);
	return buf;
}

/* 1, 2 or 5 times a power of ten, at least x. */
static double nice(double x)
{
	double p = pow(10, floor(log10(x))), m = x / p;

	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/* A byte axis step in whole units of the largest binary unit below the top. */
static double byte_step(double top)
{
	double unit = 1;

	while (top / unit >= 1024 && unit < 1e18)
		unit *= 1024;
	return nice(top / unit / 4) * unit;
}

static double time_step(double span)
{
	static const double steps[] = { 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
		7200, 10800, 21600, 43200, 86400, 172800, 604800 };
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (span / steps[i] <= 8)
			return steps[i];
	return nice(span / 8);
}

/* Columns further apart than this (no samples between: the daemon was down, or the cgroup
 * was gone) are not joined by a line. */
static int max_gap(const struct replay_cg *c)
{
	int gaps[REPLAY_BUCKETS], n = 0, prev = -1, b, g;
	double per_bucket = (c->t1 - c->t0) / (REPLAY_BUCKETS - 1);

	for (b = 0; b < REPLAY_BUCKETS; b++) {
		if (!c->buckets[b].n)
			continue;
		if (prev >= 0)
			gaps[n++] = b - prev;
		prev = b;
	}
	for (b = 1; b < n; b++)         /* insertion sort: n <= 400 */
		for (g = b; g > 0 && gaps[g - 1] > gaps[g]; g--) {
			int tmp = gaps[g];

			gaps[g] = gaps[g - 1];
			gaps[g - 1] = tmp;
		}
	g = n ? 10 * gaps[n / 2] : 1;
	if (per_bucket > 0 && g * per_bucket < 30)
		g = (int)ceil(30 / per_bucket);
	return g < 2 ? 2 : g;
}

/* The samples' columns as runs without big gaps: [*start, *end) from `from` on. */
static int next_run(const struct replay_cg *c, int from, int gap, int *start, int *end)
{
	int b = from, last;

	while (b < REPLAY_BUCKETS && !c->buckets[b].n)
		b++;
	if (b >= REPLAY_BUCKETS)
		return 0;
	*start = last = b;
	for (b++; b < REPLAY_BUCKETS; b++) {
		if (!c->buckets[b].n)
			continue;
		if (b - last > gap)
			break;
		last = b;
	}
	*end = last + 1;
	return 1;
}

typedef double (*bucket_val)(const struct replay_bucket *b);

static double v_usage(const struct replay_bucket *b) { return (double)b->usage_max; }
static double v_usage_min(const struct replay_bucket *b) { return (double)b->usage_min; }
static double v_risk(const struct replay_bucket *b) { return (double)b->risk_max; }
static double v_limit(const struct replay_bucket *b)
{
	return b->limit && b->limit != CG_NO_LIMIT ? (double)b->limit : NAN;
}

/* A line through the columns' values; NaN breaks it, as do gaps. */
static void line(FILE *o, const struct replay_cg *c, const struct frame *f, int gap, bucket_val v,
		 const char *id, int idx, const char *cls)
{
	int s, e, b, pen;

	fprintf(o, "<path id=\"cg%d-%s\" class=\"series %s\" d=\"", idx, id, cls);
	for (s = 0; next_run(c, s, gap, &s, &e); s = e) {
		for (pen = 0, b = s; b < e; b++) {
			double y;

			if (!c->buckets[b].n)
				continue;
			y = v(&c->buckets[b]);
			if (isnan(y)) {
				pen = 0;
				continue;
			}
			fprintf(o, "%c%.1f %.1f", pen ? 'L' : 'M', fx(f, b), fy(f, y));
			pen = 1;
		}
	}
	fputs("\"/>\n", o);
}

/* The band between two values (hi above lo), per run. */
static void band(FILE *o, const struct replay_cg *c, const struct frame *f, int gap, bucket_val hi,
		 bucket_val lo, const char *id, int idx, const char *cls)
{
	int s, e, b, first;

	fprintf(o, "<path id=\"cg%d-%s\" class=\"series %s\" d=\"", idx, id, cls);
	for (s = 0; next_run(c, s, gap, &s, &e); s = e) {
		for (first = 1, b = s; b < e; b++)
			if (c->buckets[b].n) {
				fprintf(o, "%c%.1f %.1f", first ? 'M' : 'L', fx(f, b), fy(f, hi(&c->buckets[b])));
				first = 0;
			}
		for (b = e - 1; b >= s; b--)
			if (c->buckets[b].n)
				fprintf(o, "L%.1f %.1f", fx(f, b), fy(f, lo(&c->buckets[b])));
		fputc('Z', o);
	}
	fputs("\"/>\n", o);
}

static void grid_bytes(FILE *o, const struct frame *f, double step)
{
	char lbl[32];
	double v;

	for (v = 0; v <= f->v1 + step / 1000; v += step) {
		fprintf(o, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
			"<text class=\"ylabel\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", f->x0, f->x0 + f->w,
			fy(f, v), fy(f, v), f->x0 - 6, fy(f, v) + 4, bytes_label(v, lbl, sizeof(lbl)));
	}
}

static void time_axis(FILE *o, const struct replay_cg *c, double x0, double top, double bottom)
{
	struct frame f = { x0, 0, SVG_PW, 0, 0, 1 };
	double span = c->t1 - c->t0, step = time_step(span), t;
	char lbl[32];

	for (t = ceil(c->t0 / step) * step; t <= c->t1; t += step) {
		double x = ft(&f, c, t);

		fprintf(o, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
			"<text class=\"xlabel\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", x, x, top, bottom,
			x, bottom + 16, clock_label(t, step < 60, lbl, sizeof(lbl)));
	}
}

static const char *mark_name(enum ev_kind k)
{
	switch (k) {
	case EV_FORECAST: return "forecast";
	case EV_CLEAR: return "clear";
	case EV_OOM_KILL: return "oom_kill";
	case EV_STALL: return "stall";
	case EV_STALL_END: return "stall_end";
	default: return NULL;
	}
}

static void mark_title(FILE *o, const struct replay_mark *m)
{
	char ts[32];

	fprintf(o, "<title>%s at %s.%03d", mark_name(m->kind), clock_label(m->t, 1, ts, sizeof(ts)),
		(int)((m->t - floor(m->t)) * 1000));
	if (m->kind == EV_FORECAST && isfinite(m->eta))
		fprintf(o, ": full in %.1f s", m->eta);
	if (m->kind == EV_OOM_KILL && m->pid) {
		fputs(": killed ", o);
		esc(o, m->comm);
		fprintf(o, "[%u]", m->pid);
	} else if (m->kind == EV_OOM_KILL) {
		fputs(": a task killed (counted; its victim not seen)", o);
	}
	if ((m->kind == EV_OOM_KILL || m->kind == EV_STALL) && isfinite(m->lead))
		fprintf(o, ", %.1f s after the forecast", m->lead);
	fputs("</title>", o);
}

/* Vertical markers through all the panel's charts; labels where they do not collide. */
static void markers(FILE *o, const struct replay_cg *c, int idx, double x0, double top,
		    double bottom)
{
	struct frame f = { x0, 0, SVG_PW, 0, 0, 1 };
	double last_label[2] = { -1e9, -1e9 };
	int i, row;

	fprintf(o, "<g id=\"cg%d-markers\" class=\"markers\">\n", idx);
	for (i = 0; i < c->nmarks; i++) {
		const struct replay_mark *m = &c->marks[i];
		const char *name = mark_name(m->kind);
		double x = ft(&f, c, m->t);

		if (!name)
			continue;
		fprintf(o, "<g id=\"cg%d-mark-%d\" class=\"marker %s\" data-time=\"%.6f\">", idx, i,
			name, m->t);
		mark_title(o, m);
		fprintf(o, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>", x, x, top, bottom);
		/* a label that would run past the chart's right edge ends at its line, so it
		 * needs its own width clear of the label before it in its row, too */
		int left = x + 3 + 7 * strlen(name) > x0 + SVG_PW;
		double clear = 70 + (left ? 7.0 * strlen(name) : 0);

		row = x - last_label[0] >= clear ? 0 : x - last_label[1] >= clear ? 1 : -1;
		if (row >= 0) {
			last_label[row] = x;
			if (left)
				fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
					x - 3, top + 12 + 12 * row, name);
			else
				fprintf(o, "<text x=\"%.1f\" y=\"%.1f\">%s</text>", x + 3,
					top + 12 + 12 * row, name);
		}
		fputs("</g>\n", o);
	}
	fputs("</g>\n", o);
}

static double mem_top(const struct replay_cg *c, int *limit_on_scale)
{
	double peak = (double)c->peak_usage, lim = 0;
	int b;

	for (b = 0; b < REPLAY_BUCKETS; b++)
		if (c->buckets[b].n && c->buckets[b].limit != CG_NO_LIMIT)
			lim = fmax(lim, (double)c->buckets[b].limit);
	*limit_on_scale = lim > 0 && lim < 4 * fmax(peak, 1);
	return fmax(*limit_on_scale ? fmax(lim, peak) : peak, 4096) * 1.08;
}

static double mem_chart(FILE *o, const struct replay_cg *c, int idx, double y, int gap)
{
	struct frame f = { SVG_ML, y, SVG_PW, SVG_H_MEM, 0, 0 };
	int on_scale;
	char lbl[32];

	f.v1 = mem_top(c, &on_scale);
	fprintf(o, "<g id=\"cg%d-memory\" class=\"chart chart-memory\">\n", idx);
	fprintf(o, "<rect class=\"plot\" x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\"/>\n",
		SVG_ML, y, SVG_PW, SVG_H_MEM);
	grid_bytes(o, &f, byte_step(f.v1));
	band(o, c, &f, gap, v_usage, v_risk, "reclaimable", idx, "reclaimable");
	band(o, c, &f, gap, v_usage, v_usage_min, "usage-range", idx, "usage-range");
	line(o, c, &f, gap, v_risk, "risk", idx, "risk");
	line(o, c, &f, gap, v_usage, "usage", idx, "usage");
	if (on_scale)
		line(o, c, &f, gap, v_limit, "limit", idx, "limit");
	else
		fprintf(o, "<text id=\"cg%d-limit\" class=\"series limit note\" x=\"%.1f\" y=\"%.1f\">"
			"limit %s (off the scale)</text>\n", idx, (double)SVG_ML + 8, y + 14,
			c->last_limit == CG_NO_LIMIT ? "none" : bytes_label((double)c->last_limit, lbl, sizeof(lbl)));
	fputs("</g>\n", o);
	return y + SVG_H_MEM;
}

static double v_eta_of(const struct replay_bucket *b)
{
	return isfinite(b->eta) ? b->eta : NAN;
}

static double eta_chart(FILE *o, const struct replay_cg *c, int idx, double y, int gap,
			double horizon)
{
	struct frame f = { SVG_ML, y, SVG_PW, SVG_H_ETA, 0, 2 * horizon };

	fprintf(o, "<g id=\"cg%d-eta-chart\" class=\"chart chart-eta\">\n", idx);
	fprintf(o, "<rect class=\"plot\" x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\"/>\n",
		SVG_ML, y, SVG_PW, SVG_H_ETA);
	fprintf(o, "<rect class=\"alert-zone\" x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\"/>\n",
		SVG_ML, fy(&f, horizon), SVG_PW, fy(&f, 0) - fy(&f, horizon));
	fprintf(o, "<line id=\"cg%d-horizon\" class=\"horizon\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" "
		"y2=\"%.1f\"/>\n", idx, SVG_ML, SVG_ML + SVG_PW, fy(&f, horizon), fy(&f, horizon));
	fprintf(o, "<text class=\"ylabel\" x=\"%d\" y=\"%.1f\">%.0f s</text>", SVG_ML - 6,
		fy(&f, horizon) + 4, horizon);
	fprintf(o, "<text class=\"ylabel\" x=\"%d\" y=\"%.1f\">0 s</text>", SVG_ML - 6, fy(&f, 0) + 4);
	/* ETAs beyond twice the horizon are drawn on the top edge: say so there */
	fprintf(o, "<text class=\"ylabel\" x=\"%d\" y=\"%.1f\">ETA %.0f s+</text>\n", SVG_ML - 6,
		y + 10, 2 * horizon);
	line(o, c, &f, gap, v_eta_of, "eta", idx, "eta");
	fputs("</g>\n", o);
	return y + SVG_H_ETA;
}

static int task_cmp(const void *a, const void *b)
{
	const struct replay_task *x = *(const struct replay_task *const *)a;
	const struct replay_task *y = *(const struct replay_task *const *)b;
	int64_t gx = replay_task_growth(x), gy = replay_task_growth(y);

	return (gx < gy) - (gx > gy);
}

static int top_tasks(const struct replay_cg *c, const struct replay_task **top)
{
	int i, n = 0;

	for (i = 0; i < c->ntasks; i++)
		if (c->tasks[i].val)
			top[n++] = &c->tasks[i];
	qsort(top, n, sizeof(*top), task_cmp);
	return n < SVG_TOP_TASKS ? n : SVG_TOP_TASKS;
}

static void task_line(FILE *o, const struct replay_task *t, const struct frame *f, int idx, int k)
{
	int b, pen = 0;

	fprintf(o, "<path id=\"cg%d-task-%u\" class=\"series task\" data-pid=\"%u\" "
		"style=\"stroke:%s\" d=\"", idx, t->pid, t->pid, task_colors[k]);
	for (b = 0; b < REPLAY_BUCKETS; b++) {
		if (isnan(t->val[b]))
			continue;
		fprintf(o, "%c%.1f %.1f", pen ? 'L' : 'M', fx(f, b), fy(f, t->val[b]));
		pen = 1;
	}
	fputs("\"/>\n", o);
}

static double tasks_chart(FILE *o, const struct replay_cg *c, int idx, double y)
{
	const struct replay_task *top[REPLAY_TASKS];
	struct frame f = { SVG_ML, y, SVG_PW, SVG_H_TASKS, 0, 0 };
	int n = top_tasks(c, top), k, b;
	char g[32];

	for (k = 0; k < n; k++)
		for (b = 0; b < REPLAY_BUCKETS; b++)
			if (!isnan(top[k]->val[b])) {
				f.v0 = fmin(f.v0, top[k]->val[b]);
				f.v1 = fmax(f.v1, top[k]->val[b]);
			}
	f.v1 = fmax(f.v1 * 1.1, 4096);
	fprintf(o, "<g id=\"cg%d-tasks\" class=\"chart chart-tasks\">\n", idx);
	fprintf(o, "<rect class=\"plot\" x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\"/>\n",
		SVG_ML, y, SVG_PW, SVG_H_TASKS);
	grid_bytes(o, &f, byte_step(f.v1) * 2);
	for (k = 0; k < n; k++) {
		task_line(o, top[k], &f, idx, k);
		fprintf(o, "<text class=\"legend\" x=\"%.1f\" y=\"%.1f\" style=\"fill:%s\">", SVG_ML + 8.0,
			y + 14 + 13 * k, task_colors[k]);
		esc(o, top[k]->comm);
		fprintf(o, "[%u] %s%s</text>\n", top[k]->pid, replay_task_growth(top[k]) >= 0 ? "+" : "",
			bytes_label((double)replay_task_growth(top[k]), g, sizeof(g)));
	}
	if (!n)
		fprintf(o, "<text class=\"note\" x=\"%.1f\" y=\"%.1f\">no per-task data in the record"
			"</text>\n", SVG_ML + 8.0, y + 16);
	fputs("</g>\n", o);
	return y + SVG_H_TASKS;
}

static void panel_title(FILE *o, const struct replay_cg *c, double y)
{
	char p[32], l[32];

	fprintf(o, "<text class=\"title\" x=\"%d\" y=\"%.1f\">", SVG_ML, y + 20);
	esc(o, c->path);
	fprintf(o, "</text>\n<text class=\"subtitle\" x=\"%d\" y=\"%.1f\">peak %s of %s", SVG_ML,
		y + 38, bytes_label((double)c->peak_usage, p, sizeof(p)),
		c->peak_limit == CG_NO_LIMIT || !c->peak_limit ? "no limit"
		: bytes_label((double)c->peak_limit, l, sizeof(l)));
	if (c->nforecasts)
		fprintf(o, " · %d forecast%s", c->nforecasts, c->nforecasts == 1 ? "" : "s");
	if (c->nkills)
		fprintf(o, " · %d oom_kill%s", c->nkills, c->nkills == 1 ? "" : "s");
	if (c->nstalls)
		fprintf(o, " · %d stall%s", c->nstalls, c->nstalls == 1 ? "" : "s");
	if (isfinite(c->first_forecast_t) && isfinite(c->first_kill_t) &&
	    c->first_kill_t >= c->first_forecast_t)
		fprintf(o, " · first forecast %.1f s before the first kill",
			c->first_kill_t - c->first_forecast_t);
	fputs("</text>\n", o);
}

static int drawable(const struct replay_cg *c)
{
	return c->buckets && c->nsamples > 1 && c->t1 > c->t0;
}

static double panel_height(const struct replay_cg *c)
{
	(void)c;
	return SVG_H_TITLE + SVG_H_MEM + SVG_GAP + SVG_H_ETA + SVG_GAP + SVG_H_TASKS + SVG_H_AXIS +
	       SVG_GAP;
}

static double panel(FILE *o, const struct replay_cg *c, int idx, double y, double horizon)
{
	double top, bottom;
	int gap = max_gap(c);

	fprintf(o, "<g id=\"cg%d\" class=\"cgroup\" data-cgroup-id=\"%llu\" data-path=\"", idx,
		(unsigned long long)c->id);
	esc(o, c->path);
	fputs("\">\n", o);
	panel_title(o, c, y);
	top = y + SVG_H_TITLE;
	y = mem_chart(o, c, idx, top, gap) + SVG_GAP;
	y = eta_chart(o, c, idx, y, gap, horizon) + SVG_GAP;
	bottom = tasks_chart(o, c, idx, y);
	time_axis(o, c, SVG_ML, top, bottom);
	markers(o, c, idx, SVG_ML, top, bottom);
	fputs("</g>\n", o);
	return bottom + SVG_H_AXIS + SVG_GAP;
}

static const char svg_style[] =
	"<style>\n"
	"text{font-family:sans-serif;font-size:11px;fill:#333}\n"
	".title{font-size:14px;font-weight:bold}.subtitle{fill:#555}.head{font-size:12px}\n"
	".ylabel{text-anchor:end}.xlabel{text-anchor:middle}.note{fill:#888;font-style:italic}\n"
	".plot{fill:#fcfcfc;stroke:#ccc}.grid{stroke:#eee}\n"
	".series{fill:none;stroke-width:1.6;stroke-linejoin:round}\n"
	".usage{stroke:#1f77b4}.risk{stroke:#1f77b4;stroke-width:0.8;stroke-dasharray:2 2}\n"
	".reclaimable{fill:#aec7e8;fill-opacity:0.6;stroke:none}\n"
	".usage-range{fill:#1f77b4;fill-opacity:0.25;stroke:none}\n"
	".limit{stroke:#d62728;stroke-dasharray:6 3}.limit.note{fill:#d62728;stroke:none}\n"
	".eta{stroke:#9467bd}.horizon{stroke:#ff7f0e;stroke-dasharray:4 3}\n"
	".alert-zone{fill:#ff7f0e;fill-opacity:0.08}.task{stroke-width:1.3}\n"
	".marker line{stroke-width:1.2}.marker text{font-size:10px}\n"
	".forecast line{stroke:#ff7f0e}.forecast text{fill:#ff7f0e}\n"
	".clear line{stroke:#2ca02c;stroke-dasharray:3 2}.clear text{fill:#2ca02c}\n"
	".oom_kill line{stroke:#d62728;stroke-width:2}.oom_kill text{fill:#d62728;font-weight:bold}\n"
	".stall line{stroke:#8c564b;stroke-width:2}.stall text{fill:#8c564b;font-weight:bold}\n"
	".stall_end line{stroke:#8c564b;stroke-dasharray:3 2}.stall_end text{fill:#8c564b}\n"
	"</style>\n";

static void legend(FILE *o, double y)
{
	static const struct { const char *cls, *name; int area; } items[] = {
		{ "usage", "usage", 0 }, { "reclaimable", "reclaimable part", 1 },
		{ "limit", "limit", 0 }, { "eta", "forecast ETA", 0 }, { "horizon", "horizon", 0 },
		{ "forecast", "forecast", 0 }, { "clear", "clear", 0 }, { "oom_kill", "oom_kill", 0 },
		{ "stall", "stall", 0 },
	};
	double x = SVG_ML;
	size_t i;

	fprintf(o, "<g id=\"legend\" class=\"legend\">\n");
	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		int marker = i >= 5;

		if (items[i].area)
			fprintf(o, "<rect class=\"series %s\" x=\"%.1f\" y=\"%.1f\" width=\"18\" height=\"8\"/>",
				items[i].cls, x, y - 8);
		else
			fprintf(o, "<g class=\"%s%s\"><line class=\"%s\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" "
				"y2=\"%.1f\"/></g>", marker ? "marker " : "series ", items[i].cls,
				marker ? "" : items[i].cls, x, x + 18, y - 4, y - 4);
		fprintf(o, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", x + 22, y, items[i].name);
		x += 30 + 6.5 * strlen(items[i].name);
	}
	fputs("</g>\n", o);
}

static void head(FILE *o, const struct replay_doc *d, int shown, int total)
{
	char a[32], b[32];

	fprintf(o, "<text class=\"title\" x=\"%d\" y=\"20\">oomcast replay: ", SVG_ML);
	esc(o, d->file ? d->file : "");
	fprintf(o, "</text>\n<text class=\"head\" x=\"%d\" y=\"38\">host ", SVG_ML);
	esc(o, d->h.host);
	fputs(", kernel ", o);
	esc(o, d->h.kernel);
	fputs(", oomcast ", o);
	esc(o, d->h.oomcast_version);
	fprintf(o, ", horizon %.0f s, %s to %s", d->horizon,
		isfinite(d->t_first) ? clock_label(d->t_first, 1, a, sizeof(a)) : "?",
		isfinite(d->t_last) ? clock_label(d->t_last, 1, b, sizeof(b)) : "?");
	if (shown < total)
		fprintf(o, " (%d of %d cgroups shown)", shown, total);
	fputs("</text>\n", o);
	legend(o, SVG_H_HEAD - 6);
}

static int incident_first(const struct replay_cg *c)
{
	return c->nforecasts || c->nkills || c->nstalls || c->nvictims;
}

void svg_render(FILE *o, const struct replay_doc *d)
{
	const struct replay_cg *c;
	int pass, idx = 0, total = 0, shown;
	double height = SVG_H_HEAD + SVG_GAP, y;

	for (c = d->cgs; c; c = c->next)
		if (drawable(c) && total++ < SVG_MAX_PANELS)
			height += panel_height(c);
	shown = total < SVG_MAX_PANELS ? total : SVG_MAX_PANELS;
	if (!total)
		height += 40;
	fprintf(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" "
		"viewBox=\"0 0 %d %.0f\">\n%s<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		SVG_W, height, SVG_W, height, svg_style);
	head(o, d, shown, total);
	y = SVG_H_HEAD + SVG_GAP;
	if (!total)
		fprintf(o, "<text class=\"note\" x=\"%d\" y=\"%.0f\">no cgroup with two samples or "
			"more in the record</text>\n", SVG_ML, y + 20);
	/* Cgroups with an incident first: they are what the picture is for. */
	for (pass = 0; pass < 2; pass++)
		for (c = d->cgs; c && idx < shown; c = c->next)
			if (drawable(c) && incident_first(c) == !pass)
				y = panel(o, c, idx++, y, d->horizon);
	fputs("</svg>\n", o);
}

int svg_write(const char *path, const struct replay_doc *d, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	int rc = 0;

	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return rc;
	}
	svg_render(f, d);
	if (ferror(f))
		rc = -EIO;
	if (fclose(f) && !rc)
		rc = -errno;
	if (rc)
		snprintf(err, errlen, "writing %s: %s", path, strerror(-rc));
	return rc;
}
