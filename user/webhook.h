/* webhook.h: --webhook: one bounded queue and one libcurl worker thread per URL, so a slow,
 * refusing or failing receiver never delays the daemon or the other receivers; the bodies
 * (oomcast's JSON, or an Alertmanager v2 alert list) and their HMAC signature. */
#ifndef OOMCAST_WEBHOOK_H
#define OOMCAST_WEBHOOK_H
#include <stddef.h>
#include <stdint.h>
#include "engine.h"

#define WH_QUEUE_MAX 256

enum wh_format { WH_JSON = 0, WH_ALERTMANAGER = 1 };

struct wh_opts {
	const char *url;
	const unsigned char *secret;    /* HMAC key, NULL = unsigned */
	size_t secretlen;
	int queue_max;                  /* 0 = WH_QUEUE_MAX */
	long connect_timeout_ms;        /* 0 = 2000 */
	long timeout_ms;                /* 0 = 5000, the whole request */
	int tries;                      /* 0 = 3 */
	long backoff_ms;                /* 0 = 1000, doubled after each failed try */
};

struct wh_stats {
	uint64_t sent;                  /* delivered (2xx) */
	uint64_t failures;              /* given up after the last try, or refused with 4xx */
	uint64_t dropped;               /* not queued (queue full) or not sent before close */
	uint64_t retries;
};

struct webhook;

/* Start the worker for one URL (curl_global_init must have run). -errno + message. */
int wh_start(struct webhook **w, const struct wh_opts *o, char *err, size_t errlen);
/* Queue a copy of body; never blocks. 0, or -ENOBUFS when the queue is full (counted). */
int wh_post(struct webhook *w, const char *body);
/* Ask the worker to stop: what is queued may still go out until `grace` seconds from now. */
void wh_stop_async(struct webhook *w, double grace);
/* Stop (wh_stop_async with grace if not asked yet), wait for the worker, free. */
void wh_free(struct webhook *w, double grace);
void wh_get_stats(struct webhook *w, struct wh_stats *s);
/* The URL without user, password, query and fragment: safe for logs and metric labels. */
const char *wh_label(const struct webhook *w);

/* ---- bodies: no I/O ---- */
/* An http:// or https:// URL libcurl can parse: 0, or -EINVAL and why. */
int wh_url_check(const char *url, char *err, size_t errlen);
int wh_format_parse(const char *s);             /* enum wh_format, or -EINVAL */
int wh_wanted(enum ev_kind k);                  /* whether an event is posted at all */
/* HMAC-SHA256 of data, lower-case hex into out (65 bytes). 0 or -EIO. */
int wh_hmac_hex(const void *key, size_t keylen, const void *data, size_t len, char out[65]);
/* RFC 3339 UTC with milliseconds, "2026-11-25T10:00:00.123Z". */
void wh_rfc3339(double t, char *buf, size_t len);

/* What the Alertmanager body needs besides the event: when the episode's alerts began (to
 * resolve them with the same labels and start), NAN when not firing. */
struct wh_am_ctx {
	const char *node;               /* host name: the `node` label */
	double forecast_since;          /* the OomcastForecast alert of this cgroup */
	double stall_since;             /* the OomcastStall alert of this cgroup */
};
/* A JSON array of alerts for POST /api/v2/alerts; malloc'd, NULL if the event makes none. */
char *wh_am_body(const struct oc_event *ev, const struct wh_am_ctx *ctx);

#endif
