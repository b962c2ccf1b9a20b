/* actions.c: the action options of `oomcast run` (act_argp) and what is done with each event
 * besides printing it: webhooks (webhook.c), signals (signals.c) and the metrics snapshot
 * (metrics.c). Everything here runs on the daemon's thread and returns at once. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <curl/curl.h>
#include "actions.h"
#include "events.h"
#include "metrics.h"
#include "signals.h"
#include "webhook.h"

#define ACT_MAX_WEBHOOKS 16
#define ACT_SECRET_MAX (64 * 1024)
#define ACT_RENDER_EVERY 0.5    /* seconds: fresher than any scrape interval, cheap enough */
#define ACT_CLOSE_GRACE 1.0     /* seconds queued webhooks may still take at exit */

/* Long-only options: keys out of the range other commands' argp tables use. */
enum {
	OPT_WEBHOOK = 0x4100, OPT_WH_FORMAT, OPT_WH_SECRET, OPT_SIGNAL, OPT_SIGNAL_TO,
	OPT_SIGNAL_ALL, OPT_METRICS,
};

/* Alerts open per cgroup, so that a resolving Alertmanager post carries the start time,
 * and so that an open one is posted again: Alertmanager resolves an alert it has not heard
 * of for its resolve_timeout (5 minutes by default), and a stall can last longer than that
 * (a frozen service at 3 a.m.), as can a forecast at a long horizon. Prometheus re-sends
 * its firing alerts every minute for the same reason. The events kept point into the
 * engine's cgroup, which lives until its CGROUP_DEL, which also ends the entry. */
#define ACT_AM_RESEND 60.0
struct act_firing {
	uint64_t id;
	double forecast_since, stall_since;
	struct oc_event forecast, stall;        /* the events that opened them */
	double sent;                            /* CLOCK_MONOTONIC of the last post */
	/* the labels of the first of them, as they were: an alert's identity, so that its
	 * re-posts and its resolution carry the same set though the cgroup's names were
	 * found after it fired (kube.h) */
	struct cg_labels labels;
	struct cg_kube_names kube;
	int have_labels, have_kube;
};

struct actions {
	struct act_config cfg;
	int format;
	enum sig_target sig_to;
	struct webhook *wh[ACT_MAX_WEBHOOKS];
	int nwh, curl_ready;
	struct mx_server *mx;
	uint64_t signals_sent;
	double last_event_time, last_render;
	char node[256];
	struct act_firing *firing;
	int nfiring, capfiring;
};

/* ---------------------------------------------------------------- options */

static const struct argp_option act_options[] = {
	{ "webhook", OPT_WEBHOOK, "URL", 0,
	  "POST each forecast, clear, oom_kill, stall and stall_end event to URL (repeatable, "
	  "up to 16). Each URL has its own queue and thread: a slow receiver delays nothing", 0 },
	{ "webhook-format", OPT_WH_FORMAT, "FORMAT", 0,
	  "json (default: the object --json prints) or alertmanager (an Alertmanager v2 alert "
	  "list: give the URL http://HOST:9093/api/v2/alerts), for every --webhook URL", 0 },
	{ "webhook-secret-file", OPT_WH_SECRET, "FILE", 0,
	  "Sign each body with the key in FILE (a trailing newline is not part of it): header "
	  "X-Oomcast-Signature: sha256=<hex HMAC-SHA256 of the body>", 0 },
	{ "signal", OPT_SIGNAL, "NAME", 0,
	  "On a forecast, send signal NAME (USR1, SIGUSR2, TERM, RTMIN+1, 10...) to tasks of the "
	  "cgroup, once per episode; KILL and STOP are refused: the kernel does the killing", 0 },
	{ "signal-to", OPT_SIGNAL_TO, "WHOM", 0,
	  "top (default: the fastest-growing task, else the one with the largest RSS) or all "
	  "(every task in the cgroup's cgroup.procs)", 0 },
	{ "signal-all-cgroups", OPT_SIGNAL_ALL, NULL, 0,
	  "Allow --signal without --cgroup, i.e. in every limited cgroup of the host", 0 },
	{ "metrics", OPT_METRICS, "HOST:PORT", 0,
	  "Serve Prometheus metrics at http://HOST:PORT/metrics (PORT or :PORT alone listen on "
	  "127.0.0.1; 0.0.0.0:PORT to be scraped from other hosts)", 0 },
	{ 0 }
};

static error_t act_parse(int key, char *arg, struct argp_state *state)
{
	struct act_config *cfg = state->input;
	char err[256], host[256];
	uint16_t port;
	int sig;

	switch (key) {
	case OPT_WEBHOOK:
		if (cfg->nwebhooks >= ACT_MAX_WEBHOOKS)
			argp_error(state, "--webhook: at most %d URLs", ACT_MAX_WEBHOOKS);
		else if (wh_url_check(arg, err, sizeof(err)))
			argp_error(state, "--webhook: %s", err);
		else
			cfg->webhooks[cfg->nwebhooks++] = arg;
		break;
	case OPT_WH_FORMAT:
		if (wh_format_parse(arg) < 0)
			argp_error(state, "--webhook-format: '%s' is neither json nor alertmanager", arg);
		cfg->webhook_format = arg;
		break;
	case OPT_WH_SECRET:
		if (access(arg, R_OK))
			argp_error(state, "--webhook-secret-file: cannot read '%s': %s", arg,
				   strerror(errno));
		cfg->webhook_secret_file = arg;
		break;
	case OPT_SIGNAL:
		sig = sig_parse(arg);
		if (sig == -EPERM)
			argp_error(state, "--signal: %s is refused: oomcast warns before the kernel "
				   "kills; use a signal the program can handle (e.g. USR1, TERM)", arg);
		else if (sig < 0 && isdigit((unsigned char)*arg))
			argp_error(state, "--signal: %s is no signal a program can be sent here "
				   "(1-31, or real-time %d-%d)", arg, SIGRTMIN,
				   SIGRTMAX);
		else if (sig < 0)
			argp_error(state, "--signal: unknown signal '%s' (try USR1, SIGUSR2, TERM, "
				   "HUP, RTMIN+1, or a number)", arg);
		cfg->signal = sig;
		break;
	case OPT_SIGNAL_TO:
		if (strcmp(arg, "top") && strcmp(arg, "all"))
			argp_error(state, "--signal-to: '%s' is neither top nor all", arg);
		cfg->signal_to = arg;
		break;
	case OPT_SIGNAL_ALL:
		cfg->signal_all_cgroups = 1;
		break;
	case OPT_METRICS:
		if (mx_parse_addr(arg, host, sizeof(host), &port, err, sizeof(err)))
			argp_error(state, "--metrics: %s", err);
		cfg->metrics_addr = arg;
		break;
	case ARGP_KEY_END:
		if ((cfg->webhook_format || cfg->webhook_secret_file) && !cfg->nwebhooks)
			argp_error(state, "--webhook-format and --webhook-secret-file need --webhook URL");
		if ((cfg->signal_to || cfg->signal_all_cgroups) && !cfg->signal)
			argp_error(state, "--signal-to and --signal-all-cgroups need --signal NAME");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp act_argp = { act_options, act_parse, NULL, NULL, NULL, NULL, NULL };

/* ---------------------------------------------------------------- init */

/* The key, read once: a secret rotated on disk takes a restart, as with most daemons. */
static int read_secret(const char *path, unsigned char **key, size_t *len, char *err,
		       size_t errlen)
{
	unsigned char *buf = NULL;
	struct stat st;
	ssize_t n = 0;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "--webhook-secret-file: cannot read '%s': %s", path,
			 strerror(errno));
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > ACT_SECRET_MAX) {
		ret = -EINVAL;
		snprintf(err, errlen, "--webhook-secret-file: '%s' is not a regular file of at "
			 "most %d bytes", path, ACT_SECRET_MAX);
		goto cleanup;
	}
	buf = malloc(st.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto cleanup;
	}
	n = read(fd, buf, st.st_size);
	if (n < 0) {
		ret = -errno;
		snprintf(err, errlen, "--webhook-secret-file: cannot read '%s': %s", path,
			 strerror(errno));
		goto cleanup;
	}
	/* `echo key > file` adds a newline nobody means as part of the key */
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (!n) {
		ret = -EINVAL;
		snprintf(err, errlen, "--webhook-secret-file: '%s' is empty", path);
		goto cleanup;
	}
	*key = buf;
	*len = n;
	buf = NULL;
cleanup:
	if (buf) {
		explicit_bzero(buf, st.st_size);
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

static int check_config(const struct act_config *cfg, char *err, size_t errlen)
{
	if (cfg->nwebhooks < 0 || cfg->nwebhooks > ACT_MAX_WEBHOOKS) {
		snprintf(err, errlen, "--webhook: at most %d URLs", ACT_MAX_WEBHOOKS);
		return -EINVAL;
	}
	if (wh_format_parse(cfg->webhook_format) < 0) {
		snprintf(err, errlen, "--webhook-format: '%s' is neither json nor alertmanager",
			 cfg->webhook_format);
		return -EINVAL;
	}
	if (cfg->signal && (cfg->signal < 0 || cfg->signal >= NSIG || cfg->signal == SIGKILL ||
			    cfg->signal == SIGSTOP)) {
		snprintf(err, errlen, "--signal: signal %d is refused", cfg->signal);
		return -EINVAL;
	}
	if (cfg->signal_to && strcmp(cfg->signal_to, "top") && strcmp(cfg->signal_to, "all")) {
		snprintf(err, errlen, "--signal-to: '%s' is neither top nor all", cfg->signal_to);
		return -EINVAL;
	}
	if (cfg->signal && !cfg->explicit_cgroups && !cfg->signal_all_cgroups) {
		snprintf(err, errlen, "--signal without --cgroup would signal tasks in every memory "
			 "cgroup with a limit on this host; name the cgroups with --cgroup, or add "
			 "--signal-all-cgroups if that is what you mean");
		return -EINVAL;
	}
	return 0;
}

static int start_webhooks(struct actions *a, char *err, size_t errlen)
{
	struct wh_opts o = { 0 };
	unsigned char *key = NULL;
	size_t keylen = 0;
	int i, ret = 0;

	if (!a->cfg.nwebhooks)
		return 0;
	if (a->cfg.webhook_secret_file) {
		ret = read_secret(a->cfg.webhook_secret_file, &key, &keylen, err, errlen);
		if (ret)
			return ret;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		snprintf(err, errlen, "cannot initialise libcurl");
		ret = -EIO;
		goto cleanup;
	}
	a->curl_ready = 1;
	o.secret = key;
	o.secretlen = keylen;
	for (i = 0; i < a->cfg.nwebhooks; i++) {
		o.url = a->cfg.webhooks[i];
		ret = wh_start(&a->wh[i], &o, err, errlen);
		if (ret)
			goto cleanup;
		a->nwh++;
	}
cleanup:
	if (key) {
		explicit_bzero(key, keylen);
		free(key);
	}
	return ret;
}

static int start_metrics(struct actions *a, char *err, size_t errlen)
{
	char host[256], why[256];
	struct mx_input in = { 0 };
	uint16_t port;
	size_t len;
	char *text;
	int ret;

	if (!a->cfg.metrics_addr)
		return 0;
	if (mx_parse_addr(a->cfg.metrics_addr, host, sizeof(host), &port, why, sizeof(why))) {
		snprintf(err, errlen, "--metrics: %s", why);
		return -EINVAL;
	}
	ret = mx_start(&a->mx, host, port, err, errlen);
	if (ret)
		return ret;
	fprintf(stderr, "oomcast: metrics at http://%s%s%s:%u/metrics\n", strchr(host, ':') ?
		"[" : "", host, strchr(host, ':') ? "]" : "", mx_port(a->mx));
	/* something to scrape before the first tick */
	text = mx_render(&in, &len);
	if (text)
		mx_publish(a->mx, text, len);
	return 0;
}

int act_init(struct actions **out, const struct act_config *cfg, char *err, size_t errlen)
{
	struct actions *a;
	const char *node;
	int ret;

	*out = NULL;
	ret = check_config(cfg, err, errlen);
	if (ret)
		return ret;
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	a->cfg = *cfg;
	a->format = wh_format_parse(cfg->webhook_format);
	a->sig_to = cfg->signal_to && !strcmp(cfg->signal_to, "all") ? SIG_TO_ALL : SIG_TO_TOP;
	/* in a pod the host name is the pod's: the DaemonSet passes the node's as NODE_NAME */
	node = getenv("NODE_NAME");
	if (node && *node)
		snprintf(a->node, sizeof(a->node), "%s", node);
	else if (gethostname(a->node, sizeof(a->node) - 1))
		a->node[0] = 0;
	ret = start_webhooks(a, err, errlen);
	if (!ret)
		ret = start_metrics(a, err, errlen);
	if (ret) {
		act_close(a);
		return ret;
	}
	if (cfg->verbose && cfg->signal) {
		char name[32];

		fprintf(stderr, "oomcast: on a forecast, %s goes to %s\n",
			sig_name(cfg->signal, name, sizeof(name)), a->sig_to == SIG_TO_ALL ?
			"every task of the cgroup" : "the cgroup's top growing task");
	}
	*out = a;
	return 0;
}

/* ---------------------------------------------------------------- events */

static struct act_firing *firing_of(struct actions *a, uint64_t id, int create)
{
	struct act_firing *f;
	int i;

	for (i = 0; i < a->nfiring; i++)
		if (a->firing[i].id == id)
			return &a->firing[i];
	if (!create)
		return NULL;
	if (a->nfiring == a->capfiring) {
		int cap = a->capfiring ? 2 * a->capfiring : 16;

		f = realloc(a->firing, cap * sizeof(*f));
		if (!f)
			return NULL;
		a->firing = f;
		a->capfiring = cap;
	}
	f = &a->firing[a->nfiring++];
	memset(f, 0, sizeof(*f));
	f->id = id;
	f->forecast_since = f->stall_since = NAN;
	return f;
}

static double mono_now(void);

static void firing_update(struct actions *a, const struct oc_event *ev)
{
	struct act_firing *f = firing_of(a, ev->cgroup_id, ev->kind == EV_FORECAST ||
					 ev->kind == EV_STALL);

	if (!f)
		return;
	if ((ev->kind == EV_FORECAST || ev->kind == EV_STALL) && !f->have_labels && ev->labels) {
		f->labels = *ev->labels;
		f->labels.kube = NULL;          /* the array moves: pointed at in am_body() */
		f->have_kube = ev->labels->kube != NULL;
		if (f->have_kube)
			f->kube = *ev->labels->kube;
		f->have_labels = 1;
	}
	switch (ev->kind) {
	case EV_FORECAST:
		f->forecast_since = ev->time;
		f->forecast = *ev;
		f->sent = mono_now();
		break;
	case EV_STALL:
		f->stall_since = ev->time;
		f->stall = *ev;
		f->sent = mono_now();
		break;
	case EV_CLEAR: f->forecast_since = NAN; break;
	case EV_OOM_KILL:
	case EV_STALL_END:
	case EV_CGROUP_DEL: f->forecast_since = f->stall_since = NAN; break;
	default: break;
	}
	if (isnan(f->forecast_since) && isnan(f->stall_since))
		*f = a->firing[--a->nfiring];
}

/* An Alertmanager body for ev, with the start times of the cgroup's open alerts (f). */
static char *am_body(const struct actions *a, const struct oc_event *ev,
		     const struct act_firing *f)
{
	struct wh_am_ctx ctx = { .node = a->node,
				 .forecast_since = f ? f->forecast_since : NAN,
				 .stall_since = f ? f->stall_since : NAN };
	struct oc_event as_fired;
	struct cg_labels labels;

	if (f && f->have_labels) {
		labels = f->labels;
		labels.kube = f->have_kube ? (struct cg_kube_names *)&f->kube : NULL;
		as_fired = *ev;
		as_fired.labels = &labels;
		ev = &as_fired;
	}
	return wh_am_body(ev, &ctx);
}

/* body to every webhook URL, then freed (NULL: nothing) */
static void post_all(struct actions *a, char *body)
{
	for (int i = 0; body && i < a->nwh; i++)
		wh_post(a->wh[i], body);        /* a full queue counts its drop itself */
	free(body);
}

static void post_webhooks(struct actions *a, const struct oc_event *ev)
{
	if (!a->nwh || !wh_wanted(ev->kind))
		return;
	post_all(a, a->format == WH_ALERTMANAGER ? am_body(a, ev, firing_of(a, ev->cgroup_id, 0))
						 : ev_to_json_string(ev));
}

/* Open Alertmanager alerts, posted again every am_resend seconds with their first start. */
static void resend_firing(struct actions *a)
{
	double now = mono_now(), every = a->cfg.am_resend > 0 ? a->cfg.am_resend : ACT_AM_RESEND;

	if (!a->nwh || a->format != WH_ALERTMANAGER)
		return;
	for (int i = 0; i < a->nfiring; i++) {
		struct act_firing *f = &a->firing[i];

		if (now - f->sent < every)
			continue;
		f->sent = now;
		if (isfinite(f->forecast_since))
			post_all(a, am_body(a, &f->forecast, f));
		if (isfinite(f->stall_since))
			post_all(a, am_body(a, &f->stall, f));
	}
}

void act_event(struct actions *a, const struct oc_event *ev)
{
	if (!a)
		return;
	a->last_event_time = ev->time;
	post_webhooks(a, ev);
	firing_update(a, ev);
	if (ev->kind == EV_FORECAST && a->cfg.signal)
		a->signals_sent += sig_deliver(a->cfg.signal, a->sig_to, ev);
}

/* ---------------------------------------------------------------- metrics */

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void act_tick(struct actions *a, const struct engine *e, const struct act_health *h)
{
	struct mx_input in = { 0 };
	struct act_health health = { 0 };
	struct wh_stats st;
	struct timespec ts;
	double now = mono_now();
	size_t len;
	char *text;
	int i;

	if (a)
		resend_firing(a);
	if (!a || !a->mx || (a->last_render && now - a->last_render < ACT_RENDER_EVERY))
		return;
	a->last_render = now;
	if (h)
		health = *h;
	if (!health.last_event_time)
		health.last_event_time = a->last_event_time;
	clock_gettime(CLOCK_REALTIME, &ts);
	in.e = e;
	in.h = &health;
	in.now = ts.tv_sec + ts.tv_nsec / 1e9;
	in.signals_sent = a->signals_sent;
	in.nwebhooks = a->nwh;
	for (i = 0; i < a->nwh; i++) {
		wh_get_stats(a->wh[i], &st);
		in.wh[i] = (struct mx_webhook){ wh_label(a->wh[i]), st.sent, st.failures, st.dropped };
	}
	text = mx_render(&in, &len);
	if (text)
		mx_publish(a->mx, text, len);
}

void act_close(struct actions *a)
{
	int i;

	if (!a)
		return;
	/* all workers get the same grace period at once, so close takes it once, not per URL */
	for (i = 0; i < a->nwh; i++)
		wh_stop_async(a->wh[i], ACT_CLOSE_GRACE);
	for (i = 0; i < a->nwh; i++)
		wh_free(a->wh[i], ACT_CLOSE_GRACE);
	if (a->curl_ready)
		curl_global_cleanup();
	mx_stop(a->mx);
	free(a->firing);
	free(a);
}
