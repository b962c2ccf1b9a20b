/* events.h: how an event is said: one JSON object (json-c) or one readable line. Shared
 * by stdout, webhooks, the record replay and the metrics' last-event bookkeeping. */
#ifndef OOMCAST_EVENTS_H
#define OOMCAST_EVENTS_H
#include <stdio.h>
#include "engine.h"

struct json_object;

/* The event as a JSON object (caller puts it with json_object_put). */
struct json_object *ev_to_json(const struct oc_event *ev);
/* The event as a compact one-line JSON string, malloc'd (caller frees). */
char *ev_to_json_string(const struct oc_event *ev);
/* One line, newline-terminated: JSON with json != 0, else a readable sentence. */
void ev_print(FILE *f, const struct oc_event *ev, int json);

#endif
