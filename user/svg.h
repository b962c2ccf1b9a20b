/* svg.h: the incident timeline of `oomcast replay --svg`: one panel per cgroup (usage,
 * limit, reclaimable part, forecast ETA, event markers, top tasks), hand-written SVG. */
#ifndef OOMCAST_SVG_H
#define OOMCAST_SVG_H
#include <stddef.h>
#include <stdio.h>
#include "replay.h"

/* Draw the timelines of d's cgroups (those with buckets) into path. 0, or -errno with a
 * sentence in err. */
int svg_write(const char *path, const struct replay_doc *d, char *err, size_t errlen);
/* The same onto an open stream (tests). */
void svg_render(FILE *f, const struct replay_doc *d);

#endif
