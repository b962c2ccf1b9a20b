/* metrics.c: --metrics: the Prometheus text exposition (per-cgroup gauges and counters, the
 * daemon's health) rendered from a snapshot, and the libmicrohttpd server answering
 * GET /metrics with the last snapshot published by the daemon's thread. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "metrics.h"

#ifndef OOMCAST_VERSION
#define OOMCAST_VERSION "unknown"
#endif

#define MX_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* ---------------------------------------------------------------- address */

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	long v;

	if (!*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int mx_parse_addr(const char *s, char *host, size_t hostlen, uint16_t *port,
		  char *err, size_t errlen)
{
	const char *colon, *p;
	size_t n;

	if (!s || !*s)
		goto bad;
	if (*s == '[') {                        /* [v6]:PORT */
		p = strchr(s, ']');
		if (!p || p[1] != ':')
			goto bad;
		n = p - s - 1;
		p += 2;
		s++;
	} else if ((colon = strrchr(s, ':'))) {
		if (strchr(s, ':') != colon)    /* a bare v6 address is ambiguous with a port */
			goto bad;
		n = colon - s;
		p = colon + 1;
	} else {
		n = 0;
		p = s;
	}
	if (parse_port(p, port))
		goto bad;
	if (n >= hostlen)
		goto bad;
	if (n) {
		memcpy(host, s, n);
		host[n] = 0;
	} else {
		snprintf(host, hostlen, "127.0.0.1");
	}
	return 0;
bad:
	snprintf(err, errlen, "'%s' is not HOST:PORT, :PORT, PORT or [IPV6]:PORT with a port "
		 "from 0 to 65535", s ? s : "");
	return -EINVAL;
}

/* ---------------------------------------------------------------- rendering */

static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void put_value(FILE *f, double v)
{
	if (isnan(v))
		fputs("NaN", f);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", f);
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		fprintf(f, "%.0f", v);
	else
		fprintf(f, "%.9g", v);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void cg_series(FILE *f, const char *name, const struct eng_cgroup *c, double v)
{
	fprintf(f, "%s{cgroup=\"", name);
	put_escaped(f, c->path);
	if (c->labels.container_id[0]) {
		fputs("\",container_id=\"", f);
		put_escaped(f, c->labels.container_id);
	}
	if (c->labels.pod_uid[0]) {
		fputs("\",pod_uid=\"", f);
		put_escaped(f, c->labels.pod_uid);
	}
	if (c->labels.kube) {
		fputs("\",namespace=\"", f);
		put_escaped(f, c->labels.kube->ns);
		fputs("\",pod=\"", f);
		put_escaped(f, c->labels.kube->pod);
		if (c->labels.kube->container[0]) {
			fputs("\",container=\"", f);
			put_escaped(f, c->labels.kube->container);
		}
	}
	fputs("\"} ", f);
	put_value(f, v);
	fputc('\n', f);
}

static void one_label(FILE *f, const char *name, const char *label, const char *value, double v)
{
	fprintf(f, "%s{%s=\"", name, label);
	put_escaped(f, value);
	fputs("\"} ", f);
	put_value(f, v);
	fputc('\n', f);
}

static void plain(FILE *f, const char *name, const char *type, const char *help, double v)
{
	family(f, name, type, help);
	fprintf(f, "%s ", name);
	put_value(f, v);
	fputc('\n', f);
}

enum cg_metric {
	M_USAGE, M_LIMIT, M_RECLAIMABLE, M_SWAP, M_SWAP_LIMIT, M_GROWTH, M_ETA,
	M_FORECAST_ACTIVE, M_STALLED, M_FORECASTS, M_KILLS, M_STALLS, M_COUNT
};

static const struct {
	const char *name, *type, *help;
} cg_metrics[M_COUNT] = {
	[M_USAGE] = { "oomcast_cgroup_usage_bytes", "gauge",
		"Memory charged to the cgroup (v1 memory.usage_in_bytes, v2 memory.current)." },
	[M_LIMIT] = { "oomcast_cgroup_limit_bytes", "gauge",
		"The cgroup's effective hard memory limit (absent when unlimited)." },
	[M_RECLAIMABLE] = { "oomcast_cgroup_reclaimable_bytes", "gauge",
		"Memory the kernel takes back before it has to OOM-kill: page cache (and v2 "
		"reclaimable slab) and its per-CPU charge stock." },
	[M_SWAP] = { "oomcast_cgroup_swap_bytes", "gauge",
		"Swap the cgroup's pages hold (absent where it holds none and can hold none)." },
	[M_SWAP_LIMIT] = { "oomcast_cgroup_swap_limit_bytes", "gauge",
		"The most swap the cgroup can hold now: its swap limits and the host's free swap "
		"(absent where both are 0). The forecast is of usage less reclaimable plus "
		"swap meeting the limit plus this." },
	[M_GROWTH] = { "oomcast_cgroup_growth_bytes_per_second", "gauge",
		"Growth of the memory reclaim cannot take back, as the forecaster sees the trend." },
	[M_ETA] = { "oomcast_cgroup_eta_seconds", "gauge",
		"Forecast time until the cgroup runs out of memory (+Inf when not growing)." },
	[M_FORECAST_ACTIVE] = { "oomcast_cgroup_forecast_active", "gauge",
		"1 while a forecast episode is open for the cgroup (exhaustion within the horizon)." },
	[M_STALLED] = { "oomcast_cgroup_stalled", "gauge",
		"1 while the cgroup's tasks are stuck at the limit with the OOM killer disabled." },
	[M_FORECASTS] = { "oomcast_forecasts_total", "counter",
		"Forecast episodes opened for the cgroup." },
	[M_KILLS] = { "oomcast_oom_kills_total", "counter",
		"OOM kills seen in the cgroup." },
	[M_STALLS] = { "oomcast_stalls_total", "counter",
		"Stalls at the memory limit seen in the cgroup." },
};

/* The value of one per-cgroup metric; 0 when the cgroup has none (e.g. no sample yet). */
static int cg_value(enum cg_metric m, const struct eng_cgroup *c, double *v)
{
	int sampled = c->sample_t > 0;

	switch (m) {
	case M_USAGE: *v = (double)c->sample.usage; return sampled;
	case M_LIMIT: *v = (double)c->sample.limit;
		return sampled && c->sample.limit && c->sample.limit != CG_NO_LIMIT;
	case M_RECLAIMABLE: *v = (double)c->sample.reclaimable; return sampled;
	case M_SWAP: *v = (double)c->sample.swap;
		return sampled && (c->sample.swap || c->sample.swap_limit);
	case M_SWAP_LIMIT: *v = (double)c->sample.swap_limit;
		return sampled && (c->sample.swap || c->sample.swap_limit);
	case M_GROWTH: *v = c->last.slope; return sampled && isfinite(c->last.slope);
	case M_ETA: *v = c->last.eta; return sampled && !isnan(c->last.eta);
	case M_FORECAST_ACTIVE:
		*v = c->state == CG_FORECAST || (c->state == CG_STALLED && !isnan(c->forecast_t));
		return 1;
	case M_STALLED: *v = c->state == CG_STALLED; return 1;
	case M_FORECASTS: *v = (double)c->forecasts; return 1;
	case M_KILLS: *v = (double)c->kills; return 1;
	case M_STALLS: *v = (double)c->stalls; return 1;
	default: return 0;
	}
}

static void render_cgroups(FILE *f, const struct engine *e)
{
	const struct eng_cgroup *c;
	int m, header;
	double v;

	for (m = 0; m < M_COUNT; m++) {
		header = 0;
		for (c = e->cgroups; c; c = c->next) {
			if (!cg_value(m, c, &v))
				continue;
			if (!header++)
				family(f, cg_metrics[m].name, cg_metrics[m].type, cg_metrics[m].help);
			cg_series(f, cg_metrics[m].name, c, v);
		}
	}
}

static void render_health(FILE *f, const struct act_health *h, double now)
{
	int i;

	plain(f, "oomcast_ringbuf_drops_total", "counter",
	      "Kernel records lost because the BPF ring buffer was full.", (double)h->rb_drops);
	plain(f, "oomcast_samples_total", "counter", "Cgroup samples taken.", (double)h->samples);
	plain(f, "oomcast_events_total", "counter", "Events the daemon emitted.",
	      (double)h->events_total);
	if (h->last_event_time > 0)
		plain(f, "oomcast_last_event_age_seconds", "gauge",
		      "Seconds since the daemon emitted its last event.",
		      fmax(now - h->last_event_time, 0));
	/* Counted only while kernel.bpf_stats_enabled is 1: with no run counted at all, the
	 * families would read as "costs nothing", so they appear once something is counted */
	for (i = 0; i < h->nprogs && i < 16 && !h->progs[i].run_cnt; i++)
		;
	if (i == h->nprogs || i == 16)
		return;
	/* bpf_stats counts nanoseconds; Prometheus wants base units */
	family(f, "oomcast_bpf_prog_run_time_seconds_total", "counter",
	       "Time spent in each BPF program (needs kernel.bpf_stats_enabled=1).");
	for (i = 0; i < h->nprogs && i < 16; i++)
		one_label(f, "oomcast_bpf_prog_run_time_seconds_total", "prog",
			  h->progs[i].name ? h->progs[i].name : "?", h->progs[i].run_time_ns / 1e9);
	family(f, "oomcast_bpf_prog_run_count_total", "counter",
	       "Runs of each BPF program (needs kernel.bpf_stats_enabled=1).");
	for (i = 0; i < h->nprogs && i < 16; i++)
		one_label(f, "oomcast_bpf_prog_run_count_total", "prog",
			  h->progs[i].name ? h->progs[i].name : "?", (double)h->progs[i].run_cnt);
}

static void render_actions(FILE *f, const struct mx_input *in)
{
	static const struct { const char *name, *help; } wh[] = {
		{ "oomcast_webhook_sent_total", "Webhook posts the receiver accepted (2xx)." },
		{ "oomcast_webhook_failures_total",
		  "Webhook posts given up after the last retry or refused with 4xx." },
		{ "oomcast_webhook_dropped_total",
		  "Webhook posts dropped because the URL's queue was full or the daemon stopped." },
	};
	int i, k;
	double v;

	plain(f, "oomcast_signals_sent_total", "counter", "Signals sent by --signal.",
	      (double)in->signals_sent);
	for (k = 0; k < 3 && in->nwebhooks > 0; k++) {
		family(f, wh[k].name, "counter", wh[k].help);
		for (i = 0; i < in->nwebhooks && i < MX_MAX_WEBHOOKS; i++) {
			v = k == 0 ? in->wh[i].sent : k == 1 ? in->wh[i].failures : in->wh[i].dropped;
			one_label(f, wh[k].name, "url", in->wh[i].url ? in->wh[i].url : "?", v);
		}
	}
}

char *mx_render(const struct mx_input *in, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (!f)
		return NULL;
	family(f, "oomcast_build_info", "gauge", "oomcast's version, as a label; always 1.");
	one_label(f, "oomcast_build_info", "version", OOMCAST_VERSION, 1);
	if (in->e) {
		plain(f, "oomcast_watched_cgroups", "gauge", "Memory cgroups watched.",
		      in->e->ncgroups);
		/* the node's totals outlive the cgroups: a container's cgroup, and with it its
		 * series, is gone within a second of its kill, before a scrape can see it */
		plain(f, "oomcast_node_oom_kills_total", "counter",
		      "OOM kills seen in any watched cgroup, also those since removed.",
		      (double)in->e->kills);
		plain(f, "oomcast_node_forecasts_total", "counter",
		      "Forecast episodes opened in any watched cgroup, also those since removed.",
		      (double)in->e->forecasts);
		plain(f, "oomcast_node_stalls_total", "counter",
		      "Stalls seen in any watched cgroup, also those since removed.",
		      (double)in->e->stalls);
		render_cgroups(f, in->e);
	}
	if (in->h)
		render_health(f, in->h, in->now);
	render_actions(f, in);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	if (len)
		*len = n;
	return buf;
}

/* ---------------------------------------------------------------- server */

struct mx_server {
	struct MHD_Daemon *d;
	pthread_mutex_t mu;
	char *text;                     /* the last snapshot */
	size_t len;
	uint16_t port;
	int started;
	char why[160];                  /* libmicrohttpd's last complaint, while starting */
};

/* libmicrohttpd's own messages: while starting, kept for the one error oomcast prints
 * ("cannot listen ...: Failed to bind to port 9464: Address already in use"); after, said
 * on stderr as oomcast's. One line each, without its newline. */
static void mx_log(void *arg, const char *fmt, va_list ap)
{
	struct mx_server *m = arg;
	char line[sizeof(m->why)];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strcspn(line, "\n");
	line[n] = '\0';
	if (__atomic_load_n(&m->started, __ATOMIC_ACQUIRE))
		fprintf(stderr, "oomcast: metrics server: %s\n", line);
	else
		snprintf(m->why, sizeof(m->why), "%s", line);
}

static const char mx_index[] =
	"<!DOCTYPE html>\n<html><head><title>oomcast</title></head><body>\n"
	"<h1>oomcast</h1>\n<p>Forecasts memory-cgroup OOM kills before they happen.</p>\n"
	"<p><a href=\"/metrics\">/metrics</a> (Prometheus)</p>\n</body></html>\n";

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int code, const char *type,
			     void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	struct mx_server *m = cls;
	char *copy;
	size_t len;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain",
			     "only GET\n", 9, MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/"))
		return reply(conn, MHD_HTTP_OK, "text/html; charset=utf-8", (void *)mx_index,
			     sizeof(mx_index) - 1, MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found; try /metrics\n",
			     24, MHD_RESPMEM_PERSISTENT);
	/* copy under the lock, send outside it: a slow scraper never holds up mx_publish */
	pthread_mutex_lock(&m->mu);
	len = m->len;
	copy = malloc(len + 1);
	if (copy)
		memcpy(copy, m->text ? m->text : "", len + 1);
	pthread_mutex_unlock(&m->mu);
	if (!copy)
		return MHD_NO;
	return reply(conn, MHD_HTTP_OK, MX_CONTENT_TYPE, copy, len, MHD_RESPMEM_MUST_FREE);
}

int mx_start(struct mx_server **out, const char *host, uint16_t port, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	struct mx_server *m = calloc(1, sizeof(*m));
	const union MHD_DaemonInfo *info;
	sigset_t all, old;
	char portstr[8];
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	int ret;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->mu, NULL);
	snprintf(portstr, sizeof(portstr), "%u", port);
	ret = getaddrinfo(host, portstr, &hints, &ai);
	if (ret) {
		snprintf(err, errlen, "--metrics: cannot resolve '%s': %s", host, gai_strerror(ret));
		ret = -EINVAL;
		goto fail;
	}
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* the server's thread takes no process signals: they belong to the daemon's loop */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	m->d = MHD_start_daemon(flags, port, NULL, NULL, handle, m,
				MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				MHD_OPTION_EXTERNAL_LOGGER, mx_log, m,
				MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!m->d) {
		if (m->why[0])
			snprintf(err, errlen, "--metrics: cannot listen on %s:%u: %s", host, port,
				 m->why);
		else
			snprintf(err, errlen, "--metrics: cannot listen on %s:%u (in use, or not "
				 "an address of this host?)", host, port);
		ret = -EADDRNOTAVAIL;
		goto fail;
	}
	__atomic_store_n(&m->started, 1, __ATOMIC_RELEASE);    /* read by the server's thread */
	info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_BIND_PORT);
	m->port = info && info->port ? info->port : port;
	freeaddrinfo(ai);
	*out = m;
	return 0;
fail:
	if (ai)
		freeaddrinfo(ai);
	pthread_mutex_destroy(&m->mu);
	free(m);
	return ret;
}

uint16_t mx_port(const struct mx_server *m)
{
	return m->port;
}

void mx_publish(struct mx_server *m, char *text, size_t len)
{
	char *old;

	pthread_mutex_lock(&m->mu);
	old = m->text;
	m->text = text;
	m->len = text ? len : 0;
	pthread_mutex_unlock(&m->mu);
	free(old);
}

void mx_stop(struct mx_server *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->d);
	pthread_mutex_destroy(&m->mu);
	free(m->text);
	free(m);
}
