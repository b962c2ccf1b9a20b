/* metrics.h: --metrics: the Prometheus exposition text of the engine's state and the
 * daemon's health, and the libmicrohttpd server that serves the last published snapshot
 * (the HTTP thread never touches the engine). */
#ifndef OOMCAST_METRICS_H
#define OOMCAST_METRICS_H
#include <stddef.h>
#include <stdint.h>
#include "actions.h"
#include "engine.h"

#define MX_MAX_WEBHOOKS 16

/* "HOST:PORT", ":PORT", "PORT", "[v6addr]:PORT" -> host (127.0.0.1 when absent) and port
 * (0 = any free port). 0, or -EINVAL and why. No lookup. */
int mx_parse_addr(const char *s, char *host, size_t hostlen, uint16_t *port,
		  char *err, size_t errlen);

struct mx_webhook {
	const char *url;                /* the label: no credentials */
	uint64_t sent, failures, dropped;
};

/* Everything one scrape shows. */
struct mx_input {
	const struct engine *e;
	const struct act_health *h;     /* may be NULL */
	double now;                     /* seconds since the Unix epoch */
	uint64_t signals_sent;
	int nwebhooks;
	struct mx_webhook wh[MX_MAX_WEBHOOKS];
};

/* The text format 0.0.4 for the input: malloc'd, NUL-terminated, *len without the NUL. */
char *mx_render(const struct mx_input *in, size_t *len);

struct mx_server;

/* Listen on host:port (host must resolve to a local address). -errno + message. */
int mx_start(struct mx_server **m, const char *host, uint16_t port, char *err, size_t errlen);
uint16_t mx_port(const struct mx_server *m);
/* Replace the snapshot the server answers with (takes text, malloc'd). */
void mx_publish(struct mx_server *m, char *text, size_t len);
void mx_stop(struct mx_server *m);

#endif
