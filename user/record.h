/* record.h: the record file: a versioned, crash-safe stream of observations (see
 * docs/record-format.md). `run --record` writes it; `replay` reads it. */
#ifndef OOMCAST_RECORD_H
#define OOMCAST_RECORD_H
#include <stddef.h>
#include <stdint.h>
#include "engine.h"

#define REC_FORMAT_VERSION 4     /* reads 1 to 3 too: see docs/record-format.md */

struct rec_header {
	uint32_t format_version;
	double start_time;              /* seconds since the Unix epoch */
	char oomcast_version[64];
	char kernel[128];               /* uname -r */
	char host[128];
	uint8_t cgroup_version;         /* 1, 2, or 3 = both */
	char options[1024];             /* the command line in force */
};

struct rec_writer;
struct rec_reader;

/* Create path and write the header. An existing record is kept: renamed to path.1, the
 * older ones one number up, up to path.keep (keep 0 or 1: path.1 alone, replaced) unless it holds nothing to replay (no observation but cgroups
 * announced, ready and stop), in which case it is replaced. An existing file that is not a
 * record is refused (-EEXIST). max_bytes > 0 rotates: when the file would pass max_bytes it
 * is renamed to path.1 (the older ones shifted as above) and a new file starts with the same header
 * and the current cgroup set re-announced by the writer. Returns 0, 1 when an existing
 * record was moved to path.1 (err then says so, for the daemon to tell), or -errno (err
 * says why). */
int rec_open_write(struct rec_writer **w, const char *path, const struct rec_header *h,
		   uint64_t max_bytes, unsigned keep, char *err, size_t errlen);
/* Append one observation. Returns 0, 1 if the file rotated (the writer itself re-announces
 * the watched cgroups with their original OBS_CGROUP_ADDs at the top of the new file), or
 * -errno (the recording is then over: the delta chain cannot skip a record). */
int rec_write(struct rec_writer *w, const struct obs *o);
/* Push buffered records to the kernel (the daemon calls it at least once a second). */
int rec_flush(struct rec_writer *w);
void rec_close_write(struct rec_writer *w);

int rec_open_read(struct rec_reader **r, const char *path, struct rec_header *h,
		  char *err, size_t errlen);
/* Next observation: 1 = one read, 0 = clean end, -1 = damaged (rec_error says what and
 * where; a damaged tail ends the stream, the records before it are valid). */
int rec_next(struct rec_reader *r, struct obs *o);
const char *rec_error(const struct rec_reader *r);
/* 1 when the stream ended in a torn tail (the file ends inside its last record, as after a
 * crash), 0 when it ended cleanly or in corruption. */
int rec_torn(const struct rec_reader *r);
uint64_t rec_offset(const struct rec_reader *r);
void rec_close_read(struct rec_reader *r);

#endif
