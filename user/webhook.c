/* webhook.c: --webhook delivery: per URL a bounded queue and a libcurl worker thread with
 * timeouts, retries with exponential backoff and drop counting; the HMAC signature; the
 * Alertmanager v2 alert list built from an event. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "events.h"
#include "webhook.h"

#ifndef OOMCAST_VERSION
#define OOMCAST_VERSION "unknown"
#endif

struct webhook {
	char *url, *label;
	unsigned char *secret;
	size_t secretlen;
	long connect_ms, timeout_ms, backoff_ms;
	int tries;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cv;              /* CLOCK_MONOTONIC: wakes the worker (work or stop) */
	char **q;                       /* ring of queued bodies */
	int qmax, qhead, qlen;
	atomic_int stopping;
	atomic_llong deadline_ns;       /* CLOCK_MONOTONIC; valid once stopping */
	atomic_ullong sent, failures, dropped, retries;
	int failing;                    /* worker only: to log a change, not every failure */
};

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int past_deadline(struct webhook *w)
{
	return atomic_load(&w->stopping) && mono_ns() >= atomic_load(&w->deadline_ns);
}

/* ---------------------------------------------------------------- bodies */

int wh_format_parse(const char *s)
{
	if (!s || !strcmp(s, "json"))
		return WH_JSON;
	if (!strcmp(s, "alertmanager"))
		return WH_ALERTMANAGER;
	return -EINVAL;
}

int wh_wanted(enum ev_kind k)
{
	/* stall_end is the resolution of a stall, as clear is of a forecast */
	return k == EV_FORECAST || k == EV_CLEAR || k == EV_OOM_KILL || k == EV_STALL ||
	       k == EV_STALL_END;
}

int wh_hmac_hex(const void *key, size_t keylen, const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (keylen > INT32_MAX || !HMAC(EVP_sha256(), key, (int)keylen, data, len, md, &mdlen))
		return -EIO;
	for (i = 0; i < mdlen && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[2 * i] = 0;
	return 0;
}

void wh_rfc3339(double t, char *buf, size_t len)
{
	time_t secs = (time_t)floor(t);
	int ms = (int)((t - floor(t)) * 1000);
	struct tm tm;
	char base[32];

	if (ms > 999)
		ms = 999;
	gmtime_r(&secs, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", base, ms);
}

static void jstr(struct json_object *o, const char *k, const char *v)
{
	if (v && *v)
		json_object_object_add(o, k, json_object_new_string(v));
}

/* Alertmanager wants every label and annotation as a string. */
static void jfmt(struct json_object *o, const char *k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void jfmt(struct json_object *o, const char *k, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	jstr(o, k, buf);
}

/* Only what names the cgroup goes into labels: they are the alert's identity, and the
 * resolving post must carry exactly the same set. */
static struct json_object *am_labels(const char *alertname, const char *severity,
				     const struct oc_event *ev, const struct wh_am_ctx *ctx)
{
	struct json_object *l = json_object_new_object();

	jstr(l, "alertname", alertname);
	jstr(l, "severity", severity);
	jstr(l, "cgroup", ev->cgroup);
	jstr(l, "node", ctx->node);
	if (ev->labels) {
		jstr(l, "container_runtime", ev->labels->runtime);
		jstr(l, "container_id", ev->labels->container_id);
		jstr(l, "pod_uid", ev->labels->pod_uid);
		jstr(l, "systemd_unit", ev->labels->unit);
		if (ev->labels->kube) {
			jstr(l, "namespace", ev->labels->kube->ns);
			jstr(l, "pod", ev->labels->kube->pod);
			jstr(l, "container", ev->labels->kube->container);
		}
	}
	return l;
}

static void am_forecast_notes(struct json_object *a, const struct oc_event *ev)
{
	const char *cg = ev->cgroup;

	if (ev->kind == EV_CLEAR) {
		jfmt(a, "summary", "%s is no longer about to run out of memory", cg);
		return;
	}
	if (ev->kind != EV_FORECAST) {
		jfmt(a, "summary", "%s ran out of memory as forecast", cg);
		return;
	}
	jfmt(a, "summary", "%s will run out of memory in %.1f s", cg, ev->eta_seconds);
	jfmt(a, "description", "usage %llu of %llu bytes, growing %.0f bytes/s (%s, confidence %.2f)",
	     (unsigned long long)ev->usage_bytes, (unsigned long long)ev->limit_bytes,
	     ev->rate_bps, ev->method ? ev->method : "?", ev->confidence);
	jfmt(a, "eta_seconds", "%.3f", ev->eta_seconds);
	jfmt(a, "growth_bytes_per_second", "%.0f", ev->rate_bps);
	jfmt(a, "confidence", "%.3f", ev->confidence);
	if (ev->ntop > 0)
		jfmt(a, "top_task", "%s[%u] %.0f bytes/s", ev->top[0].comm, ev->top[0].pid,
		     ev->top[0].rate);
}

static struct json_object *am_annotations(const char *alertname, const struct oc_event *ev)
{
	struct json_object *a = json_object_new_object();
	const char *cg = ev->cgroup;

	if (!strcmp(alertname, "OomcastForecast")) {
		am_forecast_notes(a, ev);
	} else if (!strcmp(alertname, "OomcastOOMKill")) {
		if (!ev->pid) {
			jfmt(a, "summary", "the OOM killer killed a task in %s", cg);
			jstr(a, "description", ev->reason);
		} else if (ev->victim_cgroup) {
			jfmt(a, "summary", "the OOM killer killed %s[%u] of %s at the limit of %s",
			     ev->comm, ev->pid, ev->victim_cgroup, cg);
		} else {
			jfmt(a, "summary", "the OOM killer killed %s[%u] in %s", ev->comm, ev->pid,
			     cg);
		}
		if (ev->pid) {
			jfmt(a, "pid", "%u", ev->pid);
			jstr(a, "comm", ev->comm);
		}
		if (ev->victim_cgroup)
			jstr(a, "victim_cgroup", ev->victim_cgroup);
		if (ev->oom_score_adj != -1001)
			jfmt(a, "oom_score_adj", "%d", ev->oom_score_adj);
		if (isfinite(ev->lead_seconds))
			jfmt(a, "lead_seconds", "%.3f", ev->lead_seconds);
	} else if (ev->kind == EV_STALL) {
		jfmt(a, "summary", "tasks in %s are stuck at the memory limit", cg);
		jstr(a, "description", ev->reason);
	} else {
		jfmt(a, "summary", "tasks in %s are no longer stuck at the memory limit", cg);
	}
	jfmt(a, "usage_bytes", "%llu", (unsigned long long)ev->usage_bytes);
	if (ev->limit_bytes)
		jfmt(a, "limit_bytes", "%llu", (unsigned long long)ev->limit_bytes);
	if (ev->swap_bytes || ev->swap_limit_bytes) {
		jfmt(a, "swap_bytes", "%llu", (unsigned long long)ev->swap_bytes);
		jfmt(a, "swap_limit_bytes", "%llu", (unsigned long long)ev->swap_limit_bytes);
	}
	return a;
}

static void am_add(struct json_object *arr, const char *alertname, const char *severity,
		   const struct oc_event *ev, const struct wh_am_ctx *ctx, double starts, double ends)
{
	struct json_object *al = json_object_new_object();
	char ts[40];

	json_object_object_add(al, "labels", am_labels(alertname, severity, ev, ctx));
	json_object_object_add(al, "annotations", am_annotations(alertname, ev));
	wh_rfc3339(starts, ts, sizeof(ts));
	jstr(al, "startsAt", ts);
	if (isfinite(ends)) {
		wh_rfc3339(ends, ts, sizeof(ts));
		jstr(al, "endsAt", ts);
	}
	json_object_array_add(arr, al);
}

char *wh_am_body(const struct oc_event *ev, const struct wh_am_ctx *ctx)
{
	struct json_object *arr;
	double fs = ctx->forecast_since, ss = ctx->stall_since, t = ev->time;
	char *s = NULL;

	if (!ev->cgroup || !wh_wanted(ev->kind))
		return NULL;
	arr = json_object_new_array();
	switch (ev->kind) {
	case EV_FORECAST:
		am_add(arr, "OomcastForecast", "warning", ev, ctx, t, NAN);
		break;
	case EV_CLEAR:
		am_add(arr, "OomcastForecast", "warning", ev, ctx, isfinite(fs) ? fs : t, t);
		break;
	case EV_OOM_KILL:
		/* a point event: Alertmanager resolves it after its resolve_timeout */
		am_add(arr, "OomcastOOMKill", "critical", ev, ctx, t, NAN);
		/* the forecast came true, a stall ended in a kill: those episodes are over */
		if (isfinite(fs))
			am_add(arr, "OomcastForecast", "warning", ev, ctx, fs, t);
		if (isfinite(ss))
			am_add(arr, "OomcastStall", "critical", ev, ctx, ss, t);
		break;
	case EV_STALL:
		am_add(arr, "OomcastStall", "critical", ev, ctx, t, NAN);
		break;
	case EV_STALL_END:
		am_add(arr, "OomcastStall", "critical", ev, ctx, isfinite(ss) ? ss : t, t);
		if (isfinite(fs))
			am_add(arr, "OomcastForecast", "warning", ev, ctx, fs, t);
		break;
	default:
		break;
	}
	if (json_object_array_length(arr))
		s = strdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	return s;
}

/* ---------------------------------------------------------------- URL */

int wh_url_check(const char *url, char *err, size_t errlen)
{
	CURLU *u = curl_url();
	char *scheme = NULL;
	int ret = -EINVAL;

	if (!u) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0)) {
		snprintf(err, errlen, "'%s' is not a URL (want http://HOST[:PORT]/PATH)", url);
		goto cleanup;
	}
	if (strcmp(scheme, "http") && strcmp(scheme, "https")) {
		snprintf(err, errlen, "'%s': only http:// and https:// URLs are posted to", url);
		goto cleanup;
	}
	ret = 0;
cleanup:
	curl_free(scheme);
	curl_url_cleanup(u);
	return ret;
}

/* Credentials and tokens in the query must not reach logs or metric labels. */
static char *url_label(const char *url)
{
	CURLU *u = curl_url();
	char *s = NULL, *out;

	if (u && !curl_url_set(u, CURLUPART_URL, url, 0)) {
		curl_url_set(u, CURLUPART_USER, NULL, 0);
		curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
		curl_url_set(u, CURLUPART_QUERY, NULL, 0);
		curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
		curl_url_get(u, CURLUPART_URL, &s, 0);
	}
	out = strdup(s ? s : "(bad url)");
	curl_free(s);
	curl_url_cleanup(u);
	return out;
}

const char *wh_label(const struct webhook *w)
{
	return w->label;
}

/* ---------------------------------------------------------------- worker */

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* Lets wh_free cut a hung transfer short once the grace period is over. */
static int xfer_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return past_deadline(arg);
}

static CURL *make_curl(struct webhook *w)
{
	CURL *c = curl_easy_init();

	if (!c)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, w->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);     /* threads: no SIGALRM for DNS timeouts */
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, w->connect_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, w->timeout_ms);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "oomcast/" OOMCAST_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);   /* else the reply lands on stdout */
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xfer_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, w);
	return c;
}

/* One POST. Returns 0 on 2xx, 1 if worth retrying, -1 if not; why into why. */
static int post_once(struct webhook *w, CURL *c, const char *body, char *why, size_t whylen)
{
	struct curl_slist *hdr = NULL;
	char sig[128], hex[65];
	long code = 0;
	CURLcode res;
	int ret;

	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	if (w->secret && !wh_hmac_hex(w->secret, w->secretlen, body, strlen(body), hex)) {
		snprintf(sig, sizeof(sig), "X-Oomcast-Signature: sha256=%s", hex);
		hdr = curl_slist_append(hdr, sig);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	res = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(hdr);
	if (res != CURLE_OK) {
		snprintf(why, whylen, "%s", curl_easy_strerror(res));
		return 1;
	}
	if (code >= 200 && code < 300)
		return 0;
	snprintf(why, whylen, "HTTP %ld", code);
	/* a 4xx will not get better by asking again, except "too many" and "timeout" */
	ret = code >= 400 && code < 500 && code != 408 && code != 429 ? -1 : 1;
	return ret;
}

static struct timespec abs_in(long long ns)
{
	struct timespec ts;

	ts.tv_sec = ns / 1000000000LL;
	ts.tv_nsec = ns % 1000000000LL;
	return ts;
}

/* Wait ms, or less once stopping makes the grace period run out. 1 if it ran out. */
static int backoff_wait(struct webhook *w, long ms)
{
	long long until = mono_ns() + ms * 1000000LL;
	struct timespec ts;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		long long end = until;

		if (atomic_load(&w->stopping) && atomic_load(&w->deadline_ns) < end)
			end = atomic_load(&w->deadline_ns);
		if (mono_ns() >= end)
			break;
		ts = abs_in(end);
		pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	}
	pthread_mutex_unlock(&w->mu);
	return past_deadline(w);
}

static void deliver(struct webhook *w, CURL *c, const char *body)
{
	char why[CURL_ERROR_SIZE + 32] = "";
	long wait = w->backoff_ms;
	int tried = 0, r = 1;

	while (tried < w->tries) {
		if (tried) {
			atomic_fetch_add(&w->retries, 1);
			if (backoff_wait(w, wait))
				break;
			wait *= 2;
		}
		r = post_once(w, c, body, why, sizeof(why));
		tried++;
		if (r <= 0 || past_deadline(w))
			break;
	}
	if (r == 0) {
		atomic_fetch_add(&w->sent, 1);
		if (w->failing)
			fprintf(stderr, "oomcast: webhook %s: delivering again\n", w->label);
		w->failing = 0;
		return;
	}
	atomic_fetch_add(&w->failures, 1);
	if (!w->failing)
		fprintf(stderr, "oomcast: webhook %s: %s after %d %s; further failures are only "
			"counted (oomcast_webhook_failures_total)\n", w->label, why, tried,
			tried == 1 ? "try" : "tries");
	w->failing = 1;
}

/* The next body, or NULL when stopping and either nothing is left or time is up. */
static char *pop(struct webhook *w)
{
	char *body = NULL;

	pthread_mutex_lock(&w->mu);
	while (!w->qlen && !atomic_load(&w->stopping))
		pthread_cond_wait(&w->cv, &w->mu);
	if (w->qlen && !past_deadline(w)) {
		body = w->q[w->qhead];
		w->qhead = (w->qhead + 1) % w->qmax;
		w->qlen--;
	}
	pthread_mutex_unlock(&w->mu);
	return body;
}

static void *worker(void *arg)
{
	struct webhook *w = arg;
	CURL *c = make_curl(w);
	char *body;

	while ((body = pop(w))) {
		if (c)
			deliver(w, c, body);
		else
			atomic_fetch_add(&w->failures, 1);
		free(body);
	}
	if (c)
		curl_easy_cleanup(c);
	return NULL;
}

/* ---------------------------------------------------------------- life cycle */

int wh_start(struct webhook **out, const struct wh_opts *o, char *err, size_t errlen)
{
	struct webhook *w = calloc(1, sizeof(*w));
	pthread_condattr_t ca;
	sigset_t all, old;
	int ret;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	ret = wh_url_check(o->url, err, errlen);
	if (ret)
		goto fail;
	w->url = strdup(o->url);
	w->label = url_label(o->url);
	w->qmax = o->queue_max > 0 ? o->queue_max : WH_QUEUE_MAX;
	w->q = calloc(w->qmax, sizeof(*w->q));
	w->connect_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 2000;
	w->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 5000;
	w->tries = o->tries > 0 ? o->tries : 3;
	w->backoff_ms = o->backoff_ms > 0 ? o->backoff_ms : 1000;
	if (o->secret && o->secretlen) {
		w->secret = malloc(o->secretlen);
		if (w->secret)
			memcpy(w->secret, o->secret, o->secretlen);
		w->secretlen = o->secretlen;
	}
	if (!w->url || !w->label || !w->q || (o->secret && o->secretlen && !w->secret)) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* the worker takes no process signals: SIGINT/SIGTERM stay with the daemon's thread,
	 * and a SIGPIPE from a reset TLS connection stays pending here, harmless */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&w->thread, NULL, worker, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		snprintf(err, errlen, "cannot start the webhook thread: %s", strerror(-ret));
		goto fail;
	}
	w->started = 1;
	*out = w;
	return 0;
fail:
	wh_free(w, 0);
	return ret;
}

int wh_post(struct webhook *w, const char *body)
{
	char *copy = strdup(body);
	int ret = 0;

	if (!copy) {
		atomic_fetch_add(&w->dropped, 1);
		return -ENOMEM;
	}
	pthread_mutex_lock(&w->mu);
	if (w->qlen == w->qmax || atomic_load(&w->stopping)) {
		ret = -ENOBUFS;
	} else {
		w->q[(w->qhead + w->qlen) % w->qmax] = copy;
		w->qlen++;
		copy = NULL;
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	if (ret) {
		atomic_fetch_add(&w->dropped, 1);
		free(copy);
	}
	return ret;
}

void wh_stop_async(struct webhook *w, double grace)
{
	if (!w || !w->started || atomic_load(&w->stopping))
		return;
	pthread_mutex_lock(&w->mu);
	atomic_store(&w->deadline_ns, mono_ns() + (long long)(grace * 1e9));
	atomic_store(&w->stopping, 1);
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void wh_free(struct webhook *w, double grace)
{
	int i;

	if (!w)
		return;
	if (w->started) {
		wh_stop_async(w, grace);
		pthread_join(w->thread, NULL);
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
	}
	for (i = 0; i < w->qlen; i++) {         /* what the grace period did not cover */
		free(w->q[(w->qhead + i) % w->qmax]);
		atomic_fetch_add(&w->dropped, 1);
	}
	free(w->q);
	if (w->secret)
		explicit_bzero(w->secret, w->secretlen);
	free(w->secret);
	free(w->label);
	free(w->url);
	free(w);
}

void wh_get_stats(struct webhook *w, struct wh_stats *s)
{
	s->sent = atomic_load(&w->sent);
	s->failures = atomic_load(&w->failures);
	s->dropped = atomic_load(&w->dropped);
	s->retries = atomic_load(&w->retries);
}
