/* events.c: how an event is said: the JSON object (json-c) of `--json`, webhooks and
 * replay, and the one readable line printed without --json. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "events.h"

/* A double printed with a fixed number of decimals; null when not finite (JSON has no inf). */
static struct json_object *jnum(double v, int decimals)
{
	char buf[64];

	if (!isfinite(v))
		return NULL;
	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	return json_object_new_double_s(v, buf);
}

static void put(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

static void put_str_nonempty(struct json_object *o, const char *k, const char *v)
{
	if (v && *v)
		put(o, k, json_object_new_string(v));
}

static void put_labels(struct json_object *o, const struct cg_labels *l)
{
	if (!l)
		return;
	put_str_nonempty(o, "container_runtime", l->runtime);
	put_str_nonempty(o, "container_id", l->container_id);
	put_str_nonempty(o, "pod_uid", l->pod_uid);
	put_str_nonempty(o, "qos_class", l->qos);
	put_str_nonempty(o, "systemd_unit", l->unit);
	if (l->kube) {
		put_str_nonempty(o, "namespace", l->kube->ns);
		put_str_nonempty(o, "pod", l->kube->pod);
		put_str_nonempty(o, "container", l->kube->container);
	}
}

static struct json_object *top_json(const struct oc_event *ev)
{
	struct json_object *arr = json_object_new_array();
	int i;

	for (i = 0; i < ev->ntop; i++) {
		struct json_object *t = json_object_new_object();

		put(t, "pid", json_object_new_int64(ev->top[i].pid));
		put(t, "comm", json_object_new_string(ev->top[i].comm));
		put(t, "rate_bytes_per_second", jnum(ev->top[i].rate, 0));
		put(t, "mapped_bytes", json_object_new_int64(ev->top[i].mapped));
		if (ev->top[i].rss)
			put(t, "rss_bytes", json_object_new_uint64(ev->top[i].rss));
		if (ev->top[i].oom_score_adj != -1001)
			put(t, "oom_score_adj", json_object_new_int(ev->top[i].oom_score_adj));
		json_object_array_add(arr, t);
	}
	return arr;
}

struct json_object *ev_to_json(const struct oc_event *ev)
{
	struct json_object *o = json_object_new_object();

	put(o, "event", json_object_new_string(ev_kind_name(ev->kind)));
	put(o, "time", jnum(ev->time, 6));
	if (ev->kind == EV_READY) {
		put(o, "cgroups", json_object_new_int(ev->ncgroups));
		return o;
	}
	if (!ev->cgroup)
		return o;
	put(o, "cgroup", json_object_new_string(ev->cgroup));
	put(o, "cgroup_id", json_object_new_uint64(ev->cgroup_id));
	put_labels(o, ev->labels);
	if (ev->kind == EV_CGROUP_ADD || ev->kind == EV_CGROUP_DEL)
		return o;
	put(o, "usage_bytes", json_object_new_uint64(ev->usage_bytes));
	if (ev->limit_bytes)
		put(o, "limit_bytes", json_object_new_uint64(ev->limit_bytes));
	put(o, "reclaimable_bytes", json_object_new_uint64(ev->reclaimable_bytes));
	if (ev->swap_bytes || ev->swap_limit_bytes) {
		put(o, "swap_bytes", json_object_new_uint64(ev->swap_bytes));
		put(o, "swap_limit_bytes", json_object_new_uint64(ev->swap_limit_bytes));
	}
	switch (ev->kind) {
	case EV_FORECAST:
	case EV_CLEAR:
		put(o, "eta_seconds", jnum(ev->eta_seconds, 3));
		put(o, "rate_bytes_per_second", jnum(ev->rate_bps, 0));
		if (ev->kind == EV_FORECAST) {
			put(o, "confidence", jnum(ev->confidence, 3));
			put(o, "top_tasks", top_json(ev));
		}
		put_str_nonempty(o, "method", ev->method);
		break;
	case EV_OOM_KILL:
		/* pid 0: a kill the kernel counted whose victim was not seen (reason says so) */
		put(o, "pid", ev->pid ? json_object_new_int64(ev->pid) : NULL);
		put(o, "comm", ev->pid ? json_object_new_string(ev->comm) : NULL);
		put_str_nonempty(o, "reason", ev->reason);
		put_str_nonempty(o, "victim_cgroup", ev->victim_cgroup);
		put(o, "oom_score_adj", ev->oom_score_adj == -1001 ? NULL
		    : json_object_new_int(ev->oom_score_adj));
		put(o, "lead_seconds", jnum(ev->lead_seconds, 3));
		if (ev->victim_rss)
			put(o, "victim_rss_bytes", json_object_new_uint64(ev->victim_rss));
		break;
	case EV_STALL:
		put_str_nonempty(o, "reason", ev->reason);
		put(o, "lead_seconds", jnum(ev->lead_seconds, 3));
		break;
	default:
		break;
	}
	return o;
}

char *ev_to_json_string(const struct oc_event *ev)
{
	struct json_object *o = ev_to_json(ev);
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(o);
	return s;
}

static const char *human(uint64_t b, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, i ? "%.1f %s" : "%.0f %s", v, unit[i]);
	return buf;
}

static void text_line(FILE *f, const struct oc_event *ev)
{
	char ts[32], u[32], l[32], r[32];
	time_t secs = (time_t)ev->time;
	struct tm tm;
	int i;

	localtime_r(&secs, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	fprintf(f, "%s.%03d %-9s", ts, (int)((ev->time - floor(ev->time)) * 1000),
		ev_kind_name(ev->kind));
	if (ev->kind == EV_READY) {
		fprintf(f, " attached; watching %d cgroup%s\n", ev->ncgroups, ev->ncgroups == 1 ? "" : "s");
		return;
	}
	if (ev->kind == EV_STOP) {
		fprintf(f, " detached; nothing left behind\n");
		return;
	}
	if (!ev->cgroup) {
		fputc('\n', f);
		return;
	}
	fprintf(f, " %s", ev->cgroup);
	if (ev->labels && ev->labels->kube)
		fprintf(f, " [%s/%s%s%s]", ev->labels->kube->ns, ev->labels->kube->pod,
			ev->labels->kube->container[0] ? "/" : "", ev->labels->kube->container);
	else if (ev->labels && ev->labels->container_id[0])
		fprintf(f, " [%s %.12s]", ev->labels->runtime, ev->labels->container_id);
	if (ev->kind == EV_CGROUP_ADD || ev->kind == EV_CGROUP_DEL) {
		fputc('\n', f);
		return;
	}
	fprintf(f, ": %s of %s", human(ev->usage_bytes, u, sizeof(u)),
		ev->limit_bytes ? human(ev->limit_bytes, l, sizeof(l)) : "?");
	if (ev->swap_bytes || ev->swap_limit_bytes)
		fprintf(f, ", swap %s of %s", human(ev->swap_bytes, u, sizeof(u)),
			human(ev->swap_limit_bytes, l, sizeof(l)));
	switch (ev->kind) {
	case EV_FORECAST:
		fprintf(f, ", full in %.1f s (+%s/s, %s)", ev->eta_seconds,
			human((uint64_t)fmax(ev->rate_bps, 0), r, sizeof(r)), ev->method);
		for (i = 0; i < ev->ntop; i++)
			fprintf(f, "%s %s[%u] %s/s", i ? "," : "; top:", ev->top[i].comm, ev->top[i].pid,
				human((uint64_t)fmax(ev->top[i].rate, 0), r, sizeof(r)));
		break;
	case EV_CLEAR:
		fprintf(f, ", risk gone");
		break;
	case EV_OOM_KILL:
		if (ev->pid)
			fprintf(f, "; killed %s[%u]", ev->comm, ev->pid);
		else
			fprintf(f, "; a task killed (%s)", ev->reason);
		if (ev->victim_cgroup)
			fprintf(f, " of %s", ev->victim_cgroup);
		if (ev->oom_score_adj != -1001)
			fprintf(f, " (oom_score_adj %d)", ev->oom_score_adj);
		if (isfinite(ev->lead_seconds))
			fprintf(f, ", forecast %.1f s before", ev->lead_seconds);
		else
			fprintf(f, ", no forecast before it");
		break;
	case EV_STALL:
		fprintf(f, "; %s", ev->reason ? ev->reason : "stalled");
		break;
	default:
		break;
	}
	fputc('\n', f);
}

void ev_print(FILE *f, const struct oc_event *ev, int json)
{
	if (json) {
		char *s = ev_to_json_string(ev);

		if (s) {
			fputs(s, f);
			fputc('\n', f);
			free(s);
		}
	} else {
		text_line(f, ev);
	}
	fflush(f);
}
