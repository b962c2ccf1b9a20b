/* test_actions.c: unit tests of the actions: signal names, the HMAC signature, the
 * Alertmanager payload, the metrics text and server, the webhook queue's bound against a
 * refusing and a hanging receiver, and signal delivery confined to one cgroup. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include "test.h"
#include "actions.h"
#include "engine.h"
#include "events.h"
#include "metrics.h"
#include "signals.h"
#include "webhook.h"

#define CID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define PODCG "/sys/fs/cgroup/memory/kubepods/burstable/pod1b2c3d4e-0000-4111-8222-333344445555/" CID

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- signals */

static void test_sig_parse(void)
{
	char buf[32];

	ASSERT_EQ(sig_parse("SIGUSR1"), SIGUSR1, "SIGUSR1");
	ASSERT_EQ(sig_parse("USR1"), SIGUSR1, "USR1");
	ASSERT_EQ(sig_parse("usr2"), SIGUSR2, "usr2");
	ASSERT_EQ(sig_parse("sigterm"), SIGTERM, "sigterm");
	ASSERT_EQ(sig_parse("10"), 10, "10");
	ASSERT_EQ(sig_parse("IOT"), SIGABRT, "IOT alias");
	ASSERT_EQ(sig_parse("SIGRTMIN"), SIGRTMIN, "SIGRTMIN");
	ASSERT_EQ(sig_parse("RTMIN+2"), SIGRTMIN + 2, "RTMIN+2");
	ASSERT_EQ(sig_parse("SIGRTMAX-1"), SIGRTMAX - 1, "SIGRTMAX-1");
	ASSERT_EQ(sig_parse("KILL"), -EPERM, "KILL refused");
	ASSERT_EQ(sig_parse("SIGSTOP"), -EPERM, "STOP refused");
	ASSERT_EQ(sig_parse("9"), -EPERM, "9 refused");
	ASSERT_EQ(sig_parse("FOO"), -EINVAL, "unknown");
	ASSERT_EQ(sig_parse(""), -EINVAL, "empty");
	ASSERT_EQ(sig_parse("0"), -EINVAL, "0");
	ASSERT_EQ(sig_parse("32"), -EINVAL, "glibc's own 32");
	ASSERT_EQ(sig_parse("65"), -EINVAL, "past NSIG");
	ASSERT_EQ(sig_parse("10x"), -EINVAL, "trailing junk");
	ASSERT_EQ(sig_parse("RTMIN+99"), -EINVAL, "RTMIN+99");
	ASSERT_EQ(sig_parse("RTMIN-1"), -EINVAL, "RTMIN-1");
	ASSERT_STR(sig_name(SIGUSR1, buf, sizeof(buf)), "SIGUSR1", "name of 10");
	ASSERT_STR(sig_name(SIGRTMIN + 3, buf, sizeof(buf)), "SIGRTMIN+3", "name of RTMIN+3");
}

/* ---------------------------------------------------------------- bodies */

static void test_hmac_rfc4231_case2(void)
{
	static const char data[] = "what do ya want for nothing?";
	char hex[65];

	ASSERT_EQ(wh_hmac_hex("Jefe", 4, data, strlen(data), hex), 0, "hmac");
	ASSERT_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		   "RFC 4231 test case 2, HMAC-SHA-256");
}

static void test_rfc3339(void)
{
	char buf[40];

	wh_rfc3339(1764064800.25, buf, sizeof(buf));
	ASSERT_STR(buf, "2025-11-25T10:00:00.250Z", "rfc3339");
	wh_rfc3339(0.9999, buf, sizeof(buf));
	ASSERT_STR(buf, "1970-01-01T00:00:00.999Z", "never rounds up to 1000 ms");
}

static void forecast_event(struct oc_event *ev, struct cg_labels *l)
{
	memset(ev, 0, sizeof(*ev));
	cg_labels(PODCG, l);
	ev->kind = EV_FORECAST;
	ev->time = 1764064800.5;
	ev->cgroup_id = 4242;
	ev->cgroup = PODCG;
	ev->labels = l;
	ev->usage_bytes = 100 << 20;
	ev->limit_bytes = 128 << 20;
	ev->eta_seconds = 4.25;
	ev->rate_bps = 8 << 20;
	ev->confidence = 0.9;
	ev->method = "trend";
	ev->ntop = 1;
	ev->top[0] = (struct ev_task){ .pid = 321, .comm = "leak", .rate = 8 << 20 };
	ev->lead_seconds = NAN;
	ev->oom_score_adj = -1001;
}

static const char *jget(struct json_object *o, const char *a, const char *b)
{
	struct json_object *x, *y;

	if (!json_object_object_get_ex(o, a, &x))
		return NULL;
	if (!b)
		return json_object_get_string(x);
	if (!json_object_object_get_ex(x, b, &y))
		return NULL;
	return json_object_get_string(y);
}

static void test_alertmanager_payload(void)
{
	struct wh_am_ctx ctx = { "node-a", NAN, NAN };
	struct cg_kube_names kn = { "shop", "api-7d9f8", "server" };
	struct json_object *arr, *al;
	struct oc_event ev;
	struct cg_labels l;
	char *body, *s;

	forecast_event(&ev, &l);
	l.kube = &kn;
	body = wh_am_body(&ev, &ctx);
	ASSERT_TRUE(body != NULL, "forecast body");
	arr = json_tokener_parse(body ? body : "");
	ASSERT_TRUE(arr && json_object_is_type(arr, json_type_array), "an array");
	ASSERT_EQ(arr ? json_object_array_length(arr) : 0, 1, "one alert");
	al = arr ? json_object_array_get_idx(arr, 0) : NULL;
	if (al) {
		ASSERT_STR(jget(al, "labels", "alertname"), "OomcastForecast", "alertname");
		ASSERT_STR(jget(al, "labels", "cgroup"), PODCG, "cgroup label");
		ASSERT_STR(jget(al, "labels", "container_id"), CID, "container_id label");
		ASSERT_STR(jget(al, "labels", "pod_uid"), "1b2c3d4e-0000-4111-8222-333344445555",
			   "pod_uid label");
		ASSERT_STR(jget(al, "labels", "severity"), "warning", "severity");
		ASSERT_STR(jget(al, "labels", "node"), "node-a", "node");
		ASSERT_STR(jget(al, "labels", "namespace"), "shop", "namespace label");
		ASSERT_STR(jget(al, "labels", "pod"), "api-7d9f8", "pod label");
		ASSERT_STR(jget(al, "labels", "container"), "server", "container label");
		ASSERT_STR(jget(al, "annotations", "eta_seconds"), "4.250", "eta annotation");
		ASSERT_TRUE(jget(al, "annotations", "summary") != NULL, "summary");
		ASSERT_STR(jget(al, "startsAt", NULL), "2025-11-25T10:00:00.500Z", "startsAt");
		ASSERT_TRUE(jget(al, "endsAt", NULL) == NULL, "firing: no endsAt");
	}
	json_object_put(arr);
	free(body);

	/* the clear resolves the very same label set, with the episode's start */
	ev.kind = EV_CLEAR;
	ev.time += 20;
	ctx.forecast_since = 1764064800.5;
	body = wh_am_body(&ev, &ctx);
	arr = json_tokener_parse(body ? body : "");
	al = arr ? json_object_array_get_idx(arr, 0) : NULL;
	ASSERT_TRUE(al != NULL, "clear alert");
	if (al) {
		ASSERT_STR(jget(al, "labels", "alertname"), "OomcastForecast", "clear alertname");
		ASSERT_STR(jget(al, "labels", "severity"), "warning", "same severity");
		ASSERT_STR(jget(al, "startsAt", NULL), "2025-11-25T10:00:00.500Z", "clear startsAt");
		ASSERT_STR(jget(al, "endsAt", NULL), "2025-11-25T10:00:20.500Z", "clear endsAt");
	}
	json_object_put(arr);
	free(body);

	/* a kill fires OomcastOOMKill and resolves the forecast it fulfilled */
	ev.kind = EV_OOM_KILL;
	ev.pid = 321;
	memcpy(ev.comm, "leak", 5);
	body = wh_am_body(&ev, &ctx);
	arr = json_tokener_parse(body ? body : "");
	ASSERT_EQ(arr ? json_object_array_length(arr) : 0, 2, "kill + resolved forecast");
	al = arr ? json_object_array_get_idx(arr, 0) : NULL;
	if (al) {
		ASSERT_STR(jget(al, "labels", "alertname"), "OomcastOOMKill", "kill alertname");
		ASSERT_STR(jget(al, "labels", "severity"), "critical", "kill severity");
		ASSERT_STR(jget(al, "annotations", "pid"), "321", "kill pid");
		ASSERT_TRUE(jget(al, "annotations", "victim_cgroup") == NULL,
			    "a victim of the cgroup itself names no other");
	}
	json_object_put(arr);
	free(body);

	/* a kill for this cgroup's limit of a task in a watched child names the child */
	ev.victim_cgroup = "/sys/fs/cgroup/memory/kubepods/pod1/c1";
	body = wh_am_body(&ev, &ctx);
	arr = json_tokener_parse(body ? body : "");
	al = arr ? json_object_array_get_idx(arr, 0) : NULL;
	ASSERT_TRUE(al != NULL, "kill alert with a victim below");
	if (al) {
		ASSERT_STR(jget(al, "annotations", "victim_cgroup"),
			   "/sys/fs/cgroup/memory/kubepods/pod1/c1", "victim_cgroup annotation");
		ASSERT_TRUE(strstr(jget(al, "annotations", "summary"), "at the limit of ") != NULL,
			    "the summary says whose limit");
	}
	json_object_put(arr);
	free(body);
	s = ev_to_json_string(&ev);
	ASSERT_TRUE(s && strstr(s, "\"victim_cgroup\":\"/sys/fs/cgroup/memory/kubepods/pod1/c1\""),
		    "victim_cgroup in the JSON event");
	free(s);
	ev.victim_cgroup = NULL;

	ev.kind = EV_CGROUP_ADD;
	ASSERT_TRUE(wh_am_body(&ev, &ctx) == NULL, "watch makes no alert");
}

static void test_json_body_matches_stdout(void)
{
	struct oc_event ev;
	struct cg_labels l;
	char *s;

	forecast_event(&ev, &l);
	s = ev_to_json_string(&ev);
	ASSERT_TRUE(s && strstr(s, "\"event\":\"forecast\""), "ev_to_json_string");
	free(s);
	ASSERT_TRUE(wh_wanted(EV_FORECAST) && wh_wanted(EV_CLEAR) && wh_wanted(EV_OOM_KILL) &&
		    wh_wanted(EV_STALL) && wh_wanted(EV_STALL_END), "posted kinds");
	ASSERT_TRUE(!wh_wanted(EV_READY) && !wh_wanted(EV_CGROUP_ADD) &&
		    !wh_wanted(EV_CGROUP_DEL) && !wh_wanted(EV_STOP), "not posted kinds");
	ASSERT_EQ(wh_format_parse("json"), WH_JSON, "json");
	ASSERT_EQ(wh_format_parse(NULL), WH_JSON, "default json");
	ASSERT_EQ(wh_format_parse("alertmanager"), WH_ALERTMANAGER, "alertmanager");
	ASSERT_EQ(wh_format_parse("xml"), -EINVAL, "xml");
}

static void test_url_check(void)
{
	char err[256];

	ASSERT_EQ(wh_url_check("http://127.0.0.1:9093/api/v2/alerts", err, sizeof(err)), 0, "http");
	ASSERT_EQ(wh_url_check("https://hooks.example.com/x?token=1", err, sizeof(err)), 0, "https");
	ASSERT_EQ(wh_url_check("ftp://example.com/", err, sizeof(err)), -EINVAL, "ftp");
	ASSERT_EQ(wh_url_check("not a url", err, sizeof(err)), -EINVAL, "junk");
}

/* ---------------------------------------------------------------- metrics */

static void add_cgroup(struct engine *e, uint64_t id, const char *path)
{
	struct obs o = { .kind = OBS_CGROUP_ADD, .t = 1000, .cg = id };

	o.add.version = CG_V1;
	snprintf(o.add.path, sizeof(o.add.path), "%s", path);
	eng_feed(e, &o);
}

static void sample(struct engine *e, uint64_t id, double t, uint64_t usage, uint64_t limit)
{
	struct obs o = { .kind = OBS_SAMPLE, .t = t, .cg = id };

	o.sample.usage = usage;
	o.sample.limit = limit;
	o.sample.reclaimable = 1 << 20;
	eng_feed(e, &o);
}

static int nforecasts;

static void count_forecasts(const struct oc_event *ev, void *arg)
{
	(void)arg;
	nforecasts += ev->kind == EV_FORECAST;
}

/* Two cgroups: one leaking 8 MiB/s into a 128 MiB limit, one flat. */
static void fake_engine(struct engine *e)
{
	struct eng_params p = { .stall_after = 0 };
	int i;

	fc_params_default(&p.fc, 10);
	eng_init(e, &p, count_forecasts, NULL);
	add_cgroup(e, 11, "/sys/fs/cgroup/memory/leaky");
	add_cgroup(e, 22, PODCG);
	for (i = 0; i < 12; i++) {
		sample(e, 11, 1000 + i, (40ULL << 20) + (uint64_t)i * (8 << 20), 128 << 20);
		sample(e, 22, 1000 + i, 50 << 20, 256 << 20);
	}
}

static int run_promtool(const char *text)
{
	char path[] = "/tmp/oomcast-test-metrics-XXXXXX", cmd[256];
	int fd, st;

	if (access("/usr/bin/promtool", X_OK))
		return 0;
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	snprintf(cmd, sizeof(cmd), "/usr/bin/promtool check metrics < %s >&2", path);
	st = system(cmd);
	unlink(path);
	return st;
}

static void test_metrics_text(void)
{
	struct act_health h = { .rb_drops = 3, .samples = 99, .events_total = 7,
				.last_event_time = 1000, .nprogs = 1 };
	struct mx_input in = { 0 };
	struct engine e;
	size_t len = 0;
	char *t;

	h.progs[0].name = "on_page_alloc";
	h.progs[0].run_cnt = 5;
	h.progs[0].run_time_ns = 1500000000ULL;
	nforecasts = 0;
	fake_engine(&e);
	ASSERT_EQ(nforecasts, 1, "the leaky cgroup got its forecast");
	in.e = &e;
	in.h = &h;
	in.now = 1012.5;
	in.signals_sent = 2;
	in.nwebhooks = 1;
	in.wh[0] = (struct mx_webhook){ "http://127.0.0.1:1/x", 4, 5, 6 };
	t = mx_render(&in, &len);
	ASSERT_TRUE(t && len == strlen(t), "rendered");
	if (!t)
		return;
	ASSERT_TRUE(strstr(t, "# TYPE oomcast_cgroup_usage_bytes gauge\n"), "usage TYPE");
	ASSERT_TRUE(strstr(t, "oomcast_cgroup_limit_bytes{cgroup=\"/sys/fs/cgroup/memory/leaky\"} 134217728\n"),
		    "limit of leaky");
	ASSERT_TRUE(strstr(t, "oomcast_cgroup_limit_bytes{cgroup=\"" PODCG "\",container_id=\"" CID
			   "\",pod_uid=\"1b2c3d4e-0000-4111-8222-333344445555\"} 268435456\n"),
		    "limit of the pod's container, with its labels");
	ASSERT_TRUE(strstr(t, "oomcast_cgroup_forecast_active{cgroup=\"/sys/fs/cgroup/memory/leaky\"} 1\n"),
		    "forecast active");
	ASSERT_TRUE(strstr(t, "oomcast_forecasts_total{cgroup=\"/sys/fs/cgroup/memory/leaky\"} 1\n"),
		    "forecasts counter");
	ASSERT_TRUE(strstr(t, "oomcast_cgroup_eta_seconds{cgroup=\"" PODCG), "eta of the flat one");
	ASSERT_TRUE(strstr(t, "oomcast_cgroup_growth_bytes_per_second{cgroup=\"/sys/fs/cgroup/memory/leaky\"} "),
		    "growth");
	ASSERT_TRUE(strstr(t, "oomcast_watched_cgroups 2\n"), "watched");
	ASSERT_TRUE(strstr(t, "oomcast_ringbuf_drops_total 3\n"), "drops");
	ASSERT_TRUE(strstr(t, "oomcast_bpf_prog_run_time_seconds_total{prog=\"on_page_alloc\"} 1.5\n"),
		    "prog time in seconds");
	ASSERT_TRUE(strstr(t, "oomcast_bpf_prog_run_count_total{prog=\"on_page_alloc\"} 5\n"), "prog runs");
	ASSERT_TRUE(strstr(t, "oomcast_last_event_age_seconds 12.5\n"), "event age");
	ASSERT_TRUE(strstr(t, "oomcast_signals_sent_total 2\n"), "signals");
	ASSERT_TRUE(strstr(t, "oomcast_webhook_failures_total{url=\"http://127.0.0.1:1/x\"} 5\n"), "wh failures");
	ASSERT_TRUE(strstr(t, "oomcast_webhook_dropped_total{url=\"http://127.0.0.1:1/x\"} 6\n"), "wh drops");
	ASSERT_EQ(run_promtool(t), 0, "promtool check metrics");
	/* the node's totals outlive a cgroup: a container's is removed right after its kill */
	ASSERT_TRUE(strstr(t, "oomcast_node_forecasts_total 1\n") != NULL, "node forecasts");
	free(t);
	eng_feed(&e, &(struct obs){ .kind = OBS_CGROUP_DEL, .t = 1013, .cg = 11 });
	t = mx_render(&in, &len);
	ASSERT_TRUE(t && !strstr(t, "memory/leaky") &&
		    strstr(t, "oomcast_node_forecasts_total 1\n") &&
		    strstr(t, "oomcast_node_oom_kills_total 0\n"), "the total stays, the series go");
	free(t);
	/* bpf_stats off: no run counted, no families (zeros would read as "costs nothing") */
	for (int i = 0; i < h.nprogs; i++)
		h.progs[i].run_cnt = h.progs[i].run_time_ns = 0;
	t = mx_render(&in, &len);
	ASSERT_TRUE(t && !strstr(t, "oomcast_bpf_prog_run"), "no BPF run families without stats");
	free(t);
	eng_free(&e);
}

static void test_metrics_escaping(void)
{
	struct mx_input in = { 0 };
	struct engine e;
	struct eng_params p;
	char *t;

	fc_params_default(&p.fc, 10);
	eng_init(&e, &p, NULL, NULL);
	add_cgroup(&e, 1, "/sys/fs/cgroup/memory/we\"ird\\name");
	sample(&e, 1, 1000, 1 << 20, CG_NO_LIMIT);
	in.e = &e;
	t = mx_render(&in, NULL);
	ASSERT_TRUE(t && strstr(t, "cgroup=\"/sys/fs/cgroup/memory/we\\\"ird\\\\name\"}"), "escaped");
	ASSERT_TRUE(t && !strstr(t, "oomcast_cgroup_limit_bytes{"), "no limit series when unlimited");
	ASSERT_EQ(t ? run_promtool(t) : -1, 0, "promtool on escaped labels");
	free(t);
	eng_free(&e);
}

static void test_mx_parse_addr(void)
{
	char host[64], err[256];
	uint16_t port = 0;

	ASSERT_EQ(mx_parse_addr("9464", host, sizeof(host), &port, err, sizeof(err)), 0, "PORT");
	ASSERT_STR(host, "127.0.0.1", "default host");
	ASSERT_EQ(port, 9464, "port");
	ASSERT_EQ(mx_parse_addr(":9465", host, sizeof(host), &port, err, sizeof(err)), 0, ":PORT");
	ASSERT_STR(host, "127.0.0.1", "default host for :PORT");
	ASSERT_EQ(port, 9465, "port 2");
	ASSERT_EQ(mx_parse_addr("0.0.0.0:1", host, sizeof(host), &port, err, sizeof(err)), 0, "all");
	ASSERT_STR(host, "0.0.0.0", "0.0.0.0");
	ASSERT_EQ(mx_parse_addr("[::1]:80", host, sizeof(host), &port, err, sizeof(err)), 0, "v6");
	ASSERT_STR(host, "::1", "v6 host");
	ASSERT_EQ(mx_parse_addr("host:", host, sizeof(host), &port, err, sizeof(err)), -EINVAL, "no port");
	ASSERT_EQ(mx_parse_addr("h:70000", host, sizeof(host), &port, err, sizeof(err)), -EINVAL, "big");
	ASSERT_EQ(mx_parse_addr("::1:80", host, sizeof(host), &port, err, sizeof(err)), -EINVAL, "bare v6");
	ASSERT_EQ(mx_parse_addr("h:x", host, sizeof(host), &port, err, sizeof(err)), -EINVAL, "x");
}

struct fetched {
	char body[65536];
	size_t len;
};

static size_t fetch_cb(char *p, size_t size, size_t n, void *arg)
{
	struct fetched *f = arg;
	size_t k = size * n;

	if (f->len + k >= sizeof(f->body))
		k = sizeof(f->body) - f->len - 1;
	memcpy(f->body + f->len, p, k);
	f->len += k;
	f->body[f->len] = 0;
	return size * n;
}

static long http(const char *method, uint16_t port, const char *path, struct fetched *f,
		 char **ctype)
{
	CURL *c = curl_easy_init();
	char url[128];
	long code = 0;
	char *ct = NULL;

	f->len = 0;
	f->body[0] = 0;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(c) == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
		if (ctype)
			*ctype = ct ? strdup(ct) : NULL;
	}
	curl_easy_cleanup(c);
	return code;
}

static void test_metrics_server(void)
{
	struct mx_server *m = NULL;
	struct fetched *f = calloc(1, sizeof(*f));
	char err[256], *ct = NULL;
	uint16_t port;

	ASSERT_EQ(mx_start(&m, "127.0.0.1", 0, err, sizeof(err)), 0, "mx_start");
	if (!m || !f) {
		free(f);
		return;
	}
	port = mx_port(m);
	ASSERT_TRUE(port > 0, "an ephemeral port");
	mx_publish(m, strdup("oomcast_watched_cgroups 3\n"), 26);
	ASSERT_EQ(http("GET", port, "/metrics", f, &ct), 200, "GET /metrics");
	ASSERT_STR(f->body, "oomcast_watched_cgroups 3\n", "the snapshot");
	ASSERT_TRUE(ct && !strncmp(ct, "text/plain; version=0.0.4", 25), "content type");
	free(ct);
	mx_publish(m, strdup("x 1\n"), 4);
	ASSERT_EQ(http("GET", port, "/metrics", f, NULL), 200, "GET again");
	ASSERT_STR(f->body, "x 1\n", "the new snapshot");
	ASSERT_EQ(http("GET", port, "/", f, NULL), 200, "GET /");
	ASSERT_TRUE(strstr(f->body, "/metrics") != NULL, "index links /metrics");
	ASSERT_EQ(http("GET", port, "/nope", f, NULL), 404, "404");
	ASSERT_EQ(http("DELETE", port, "/metrics", f, NULL), 405, "405");
	mx_stop(m);
	free(f);
	ASSERT_EQ(mx_start(&m, "no.such.host.invalid", 0, err, sizeof(err)) < 0, 1, "bad host");
}

/* ---------------------------------------------------------------- webhooks */

/* A loopback receiver: answers 200 to every POST and keeps the last signature and body. */
struct receiver {
	int fd, stop, count;
	uint16_t port;
	pthread_t thread;
	pthread_mutex_t mu;
	char sig[128], body[8192];
};

static int listen_local(uint16_t *port, int backlog)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, backlog) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

static void serve_one(struct receiver *r, int c)
{
	char buf[16384], *hend, *cl, *sig;
	size_t n = 0;
	long want = 0;
	ssize_t k;

	while (n < sizeof(buf) - 1) {
		k = read(c, buf + n, sizeof(buf) - 1 - n);
		if (k <= 0)
			return;
		n += k;
		buf[n] = 0;
		hend = strstr(buf, "\r\n\r\n");
		if (!hend)
			continue;
		cl = strcasestr(buf, "\r\nContent-Length:");
		want = cl ? strtol(cl + 17, NULL, 10) : 0;
		if ((long)(n - (hend + 4 - buf)) >= want)
			break;
	}
	hend = strstr(buf, "\r\n\r\n");
	if (!hend)
		return;
	*hend = 0;
	pthread_mutex_lock(&r->mu);
	sig = strcasestr(buf, "\r\nX-Oomcast-Signature: ");
	snprintf(r->sig, sizeof(r->sig), "%.*s", sig ? (int)strcspn(sig + 23, "\r\n") : 0,
		 sig ? sig + 23 : "");
	snprintf(r->body, sizeof(r->body), "%.*s", (int)want, hend + 4);
	r->count++;
	pthread_mutex_unlock(&r->mu);
	k = write(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 57);
	(void)k;
}

static void *receiver_main(void *arg)
{
	struct receiver *r = arg;
	struct pollfd p = { .fd = r->fd, .events = POLLIN };
	int c;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		c = accept4(r->fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		serve_one(r, c);
		close(c);
	}
	return NULL;
}

static void test_webhook_queue_bound(void)
{
	static const char key[] = "k3y";
	struct webhook *refused = NULL, *hung = NULL, *good = NULL;
	struct wh_opts o = { 0 };
	struct receiver r = { 0 };
	struct wh_stats s;
	char err[256], url[128], hex[65];
	uint16_t hport;
	double t0, dt;
	int hfd, i, got = 0;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	hfd = listen_local(&hport, 1024);       /* accepts (in the kernel), never answers */
	r.fd = listen_local(&r.port, 64);
	ASSERT_TRUE(hfd >= 0 && r.fd >= 0, "listening sockets");
	pthread_mutex_init(&r.mu, NULL);
	pthread_create(&r.thread, NULL, receiver_main, &r);

	o.url = "http://127.0.0.1:1/refused";
	ASSERT_EQ(wh_start(&refused, &o, err, sizeof(err)), 0, "start refused");
	snprintf(url, sizeof(url), "http://user:pw@127.0.0.1:%u/hang?token=secret", hport);
	o.url = url;
	ASSERT_EQ(wh_start(&hung, &o, err, sizeof(err)), 0, "start hung");
	ASSERT_TRUE(hung && !strstr(wh_label(hung), "secret") && !strstr(wh_label(hung), "pw"),
		    "no credentials in the label");
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/good", r.port);
	o.url = url;
	o.secret = (const unsigned char *)key;
	o.secretlen = 3;
	ASSERT_EQ(wh_start(&good, &o, err, sizeof(err)), 0, "start good");
	if (!refused || !hung || !good)
		goto cleanup;

	/* 1000 posts to each: the caller never waits, the bound holds, the rest is counted */
	t0 = mono();
	for (i = 0; i < 1000; i++) {
		wh_post(refused, "{\"n\":1}");
		wh_post(hung, "{\"n\":1}");
	}
	dt = mono() - t0;
	ASSERT_RANGE(dt, 0, 0.5, "2000 posts take no time");
	wh_get_stats(hung, &s);
	ASSERT_RANGE(s.dropped, 1000 - WH_QUEUE_MAX - 1, 1000 - WH_QUEUE_MAX, "hung: drops counted");
	wh_get_stats(refused, &s);
	ASSERT_RANGE(s.dropped, 1, 1000 - WH_QUEUE_MAX, "refused: drops counted");

	/* and the good receiver is served meanwhile */
	wh_post(good, "{\"event\":\"forecast\"}");
	for (i = 0; i < 100 && !got; i++) {
		usleep(20000);
		pthread_mutex_lock(&r.mu);
		got = r.count;
		pthread_mutex_unlock(&r.mu);
	}
	ASSERT_EQ(got, 1, "the good receiver got its post while the others fail");
	wh_hmac_hex(key, 3, "{\"event\":\"forecast\"}", 20, hex);
	pthread_mutex_lock(&r.mu);
	ASSERT_STR(r.body, "{\"event\":\"forecast\"}", "body");
	ASSERT_TRUE(!strncmp(r.sig, "sha256=", 7) && !strcmp(r.sig + 7, hex), "signature");
	pthread_mutex_unlock(&r.mu);
	wh_get_stats(good, &s);
	ASSERT_EQ(s.sent, 1, "good: sent");
	ASSERT_EQ(s.failures + s.dropped, 0, "good: no loss");
	wh_get_stats(refused, &s);
	ASSERT_TRUE(s.failures >= 1 || s.retries >= 1, "refused: failures or retries");

cleanup:
	t0 = mono();
	wh_stop_async(refused, 0.3);
	wh_stop_async(hung, 0.3);
	wh_free(refused, 0.3);
	wh_free(hung, 0.3);
	wh_free(good, 0.3);
	dt = mono() - t0;
	ASSERT_RANGE(dt, 0, 2.5, "close is bounded even with a hung receiver");
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(r.thread, NULL);
	pthread_mutex_destroy(&r.mu);
	if (r.fd >= 0)
		close(r.fd);
	if (hfd >= 0)
		close(hfd);
	curl_global_cleanup();
}

/* An open Alertmanager alert is posted again while it lasts, with its first start:
 * Alertmanager resolves one it has not heard of for its resolve_timeout (5 minutes), and a
 * stall lasts as long as the service is frozen. Once cleared, no more posts. */
static int received(struct receiver *r, char *body, size_t len)
{
	int n;

	pthread_mutex_lock(&r->mu);
	n = r->count;
	if (body)
		snprintf(body, len, "%s", r->body);
	pthread_mutex_unlock(&r->mu);
	return n;
}

static void test_alertmanager_resend(void)
{
	struct cg_kube_names kn = { "shop", "api-7d9f8", "server" };
	struct act_config cfg = { 0 };
	struct actions *a = NULL;
	struct receiver r = { 0 };
	struct oc_event ev;
	struct cg_labels l;
	static char body[8192];
	char err[256], url[128];
	int i, n1, n2;

	r.fd = listen_local(&r.port, 64);
	ASSERT_TRUE(r.fd >= 0, "listening socket");
	pthread_mutex_init(&r.mu, NULL);
	pthread_create(&r.thread, NULL, receiver_main, &r);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v2/alerts", r.port);
	cfg.nwebhooks = 1;
	cfg.webhooks[0] = url;
	cfg.webhook_format = "alertmanager";
	cfg.am_resend = 0.3;
	ASSERT_EQ(act_init(&a, &cfg, err, sizeof(err)), 0, err);
	if (!a)
		goto out;
	forecast_event(&ev, &l);
	act_event(a, &ev);
	/* the cgroup's names are found after the alert fired: its re-posts and its resolution
	 * keep the labels it fired with (else Alertmanager holds two alerts, one never resolved) */
	l.kube = &kn;
	for (i = 0; i < 12; i++) {              /* 1.2 s of ticks */
		usleep(100000);
		act_tick(a, NULL, NULL);
	}
	usleep(200000);
	n1 = received(&r, body, sizeof(body));
	ASSERT_RANGE(n1, 4, 6, "posted, then again every 0.3 s while open");
	ASSERT_TRUE(strstr(body, "OomcastForecast") && strstr(body, "2025-11-25T10:00:00.500Z") &&
		    !strstr(body, "endsAt"), "the same alert, its first start, still open");
	ASSERT_TRUE(!strstr(body, "api-7d9f8"), "its labels as it fired, no names found since");
	ev.kind = EV_CLEAR;
	ev.time += 5;
	act_event(a, &ev);
	usleep(200000);
	n2 = received(&r, body, sizeof(body));
	ASSERT_TRUE(strstr(body, "endsAt") != NULL, "the clear resolves it");
	ASSERT_TRUE(!strstr(body, "api-7d9f8"), "with the labels it fired with");
	for (i = 0; i < 8; i++) {
		usleep(100000);
		act_tick(a, NULL, NULL);
	}
	usleep(200000);
	ASSERT_EQ(received(&r, NULL, 0), n2, "no post once cleared");
	act_close(a);
out:
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	pthread_join(r.thread, NULL);
	pthread_mutex_destroy(&r.mu);
	if (r.fd >= 0)
		close(r.fd);
}

/* ---------------------------------------------------------------- act_init */

static void test_act_init_checks(void)
{
	struct act_config cfg = { 0 };
	struct actions *a = NULL;
	char err[512], path[] = "/tmp/oomcast-test-secret-XXXXXX";
	int fd;

	cfg.signal = SIGUSR1;
	ASSERT_EQ(act_init(&a, &cfg, err, sizeof(err)), -EINVAL, "--signal alone refused");
	ASSERT_TRUE(strstr(err, "--signal-all-cgroups") != NULL, "the message names the way out");
	cfg.signal_all_cgroups = 1;
	ASSERT_EQ(act_init(&a, &cfg, err, sizeof(err)), 0, "with --signal-all-cgroups");
	act_close(a);
	cfg.signal_all_cgroups = 0;
	cfg.explicit_cgroups = 1;
	ASSERT_EQ(act_init(&a, &cfg, err, sizeof(err)), 0, "with --cgroup");
	act_close(a);
	cfg.signal = SIGKILL;
	ASSERT_EQ(act_init(&a, &cfg, err, sizeof(err)), -EINVAL, "SIGKILL refused");

	memset(&cfg, 0, sizeof(cfg));
	cfg.nwebhooks = 1;
	cfg.webhooks[0] = "http://127.0.0.1:1/";
	cfg.webhook_secret_file = "/nonexistent/secret";
	ASSERT_TRUE(act_init(&a, &cfg, err, sizeof(err)) < 0, "unreadable secret refused");
	ASSERT_TRUE(strstr(err, "/nonexistent/secret") != NULL, "names the file");
	fd = mkstemp(path);
	ASSERT_TRUE(fd >= 0, "mkstemp");
	ASSERT_EQ(write(fd, "\n", 1), 1, "write");
	cfg.webhook_secret_file = path;
	ASSERT_EQ(act_init(&a, &cfg, err, sizeof(err)), -EINVAL, "empty secret refused");
	ASSERT_TRUE(strstr(err, "empty") != NULL, "says empty");
	ASSERT_EQ(pwrite(fd, "s3cret\n", 7, 0), 7, "pwrite");
	ASSERT_EQ(act_init(&a, &cfg, err, sizeof(err)), 0, "readable secret");
	act_close(a);
	close(fd);
	unlink(path);
}

/* act_* in-process: the tick's snapshot is what a scrape gets. */
static void test_act_metrics_tick(void)
{
	struct act_health h = { .samples = 12, .last_event_time = 1 };
	struct act_config cfg = { 0 };
	struct actions *a = NULL;
	struct fetched *f = calloc(1, sizeof(*f));
	struct engine e;
	char err[256], addr[32];
	uint16_t port = 0;
	int fd;

	/* the port is not in the API: take a free one from the kernel, then let it go */
	fd = listen_local(&port, 1);
	close(fd);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	cfg.metrics_addr = addr;
	nforecasts = 0;
	fake_engine(&e);
	ASSERT_EQ(act_init(&a, &cfg, err, sizeof(err)), 0, "act_init with metrics");
	if (a && f) {
		ASSERT_EQ(http("GET", port, "/metrics", f, NULL), 200, "scrape before a tick");
		ASSERT_TRUE(strstr(f->body, "oomcast_build_info") != NULL, "build info at once");
		act_tick(a, &e, &h);
		ASSERT_EQ(http("GET", port, "/metrics", f, NULL), 200, "scrape after a tick");
		ASSERT_TRUE(strstr(f->body, "oomcast_cgroup_limit_bytes{cgroup=\"/sys/fs/cgroup/memory/leaky\"} 134217728") != NULL,
			    "the engine's cgroup in the scrape");
		ASSERT_TRUE(strstr(f->body, "oomcast_samples_total 12\n") != NULL, "health in the scrape");
	}
	act_close(a);
	eng_free(&e);
	free(f);
}

/* ---------------------------------------------------------------- signal delivery */

#define MEMCG "/sys/fs/cgroup/memory"

static pid_t spawn_waiter(const char *procs)
{
	pid_t pid = fork();
	sigset_t set;
	int sig, fd;

	if (pid)
		return pid;
	if (procs) {
		fd = open(procs, O_WRONLY);
		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(3);
		close(fd);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	alarm(10);                              /* bounded whatever happens */
	if (sigwait(&set, &sig))
		_exit(4);
	_exit(42);                              /* got SIGUSR1 */
}

/* 42 if it got SIGUSR1 within ms, -1 if still waiting. */
static int reap(pid_t pid, int ms)
{
	int st, i;

	for (i = 0; i < ms / 10; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(10000);
	}
	return -1;
}

static void test_signal_stays_in_cgroup(void)
{
	char dir[128], procs[160];
	struct oc_event ev = { 0 };
	pid_t in1, in2, out;
	int n;

	if (geteuid() || access(MEMCG, W_OK)) {
		printf("# skip test_signal_stays_in_cgroup: needs root and %s\n", MEMCG);
		return;
	}
	snprintf(dir, sizeof(dir), MEMCG "/oomcast-unit-%d", (int)getpid());
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	if (mkdir(dir, 0755)) {
		T_FAIL("mkdir %s: %s", dir, strerror(errno));
		return;
	}
	in1 = spawn_waiter(procs);
	in2 = spawn_waiter(procs);
	out = spawn_waiter(NULL);
	usleep(100000);
	ev.kind = EV_FORECAST;
	ev.cgroup = dir;
	ev.eta_seconds = 3;
	ev.ntop = 1;
	ev.top[0].pid = out;            /* a grower outside the cgroup: must not be signalled */

	n = sig_deliver(SIGUSR1, SIG_TO_TOP, &ev);
	ASSERT_EQ(n, 1, "top: one task");
	ASSERT_EQ(reap(out, 200), -1, "the task outside the cgroup was not signalled");
	ASSERT_EQ((reap(in1, 1000) == 42) + (reap(in2, 300) == 42), 1, "top: one task inside got it");

	ev.top[0].pid = 1;              /* never init */
	n = sig_deliver(SIGUSR1, SIG_TO_ALL, &ev);
	ASSERT_EQ(n, 1, "all: the remaining task inside");
	reap(in1, 1000);
	reap(in2, 1000);
	ASSERT_EQ(reap(out, 200), -1, "still not the outsider");
	ASSERT_EQ(sig_deliver(SIGUSR1, SIG_TO_ALL, &ev), 0, "empty cgroup: nothing");

	kill(out, SIGTERM);
	reap(out, 1000);
	kill(in1, SIGTERM);
	kill(in2, SIGTERM);
	reap(in1, 500);
	reap(in2, 500);
	if (rmdir(dir))
		T_FAIL("rmdir %s: %s", dir, strerror(errno));
}

int main(void)
{
	RUN(test_sig_parse);
	RUN(test_hmac_rfc4231_case2);
	RUN(test_rfc3339);
	RUN(test_alertmanager_payload);
	RUN(test_json_body_matches_stdout);
	RUN(test_url_check);
	RUN(test_metrics_text);
	RUN(test_metrics_escaping);
	RUN(test_mx_parse_addr);
	RUN(test_metrics_server);
	RUN(test_webhook_queue_bound);
	RUN(test_alertmanager_resend);
	RUN(test_act_init_checks);
	RUN(test_act_metrics_tick);
	RUN(test_signal_stays_in_cgroup);
	return TEST_EXIT();
}
