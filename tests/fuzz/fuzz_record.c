/* fuzz_record.c: libFuzzer target for the record reader (tests/fuzz/run.sh): any bytes read
 * as a record must not crash, hang or leak, and whatever decodes must re-encode and decode
 * to the very same header and observations. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "record.h"

#define FUZZ_KEEP 128           /* observations compared after the round trip */

static int in_fd = -1, out_fd = -1;
static char in_path[64], out_path[64];
static struct obs kept[FUZZ_KEEP], again;

/* memfds reopened by /proc path: the reader and writer get their usual path API, no disk. */
static void setup(void)
{
	in_fd = memfd_create("fuzz-in", 0);
	out_fd = memfd_create("fuzz-out", 0);
	if (in_fd < 0 || out_fd < 0)
		abort();
	snprintf(in_path, sizeof(in_path), "/proc/self/fd/%d", in_fd);
	snprintf(out_path, sizeof(out_path), "/proc/self/fd/%d", out_fd);
}

static void load(const uint8_t *data, size_t size)
{
	if (ftruncate(in_fd, 0) || (size && pwrite(in_fd, data, size, 0) != (ssize_t)size))
		abort();
}

/* Read the re-encoded file back: same header, same observations, a clean end. */
static void check_again(const struct rec_header *h, int n)
{
	struct rec_reader *r;
	struct rec_header h2;
	char err[512];
	int i = 0, rc;

	if (rec_open_read(&r, out_path, &h2, err, sizeof(err)))
		abort();
	if (memcmp(&h2.start_time, &h->start_time, sizeof(double)) ||
	    h2.cgroup_version != h->cgroup_version || strcmp(h2.host, h->host) ||
	    strcmp(h2.kernel, h->kernel) || strcmp(h2.options, h->options) ||
	    strcmp(h2.oomcast_version, h->oomcast_version))
		abort();
	while ((rc = rec_next(r, &again)) == 1) {
		if (i < FUZZ_KEEP && i < n && memcmp(&again, &kept[i], sizeof(again)))
			abort();
		i++;
	}
	if (rc != 0 || i != n)
		abort();
	rec_close_read(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct obs o;
	struct rec_reader *r;
	struct rec_writer *w;
	struct rec_header h;
	char err[512];
	int n = 0;

	if (in_fd < 0)
		setup();
	load(data, size);
	if (rec_open_read(&r, in_path, &h, err, sizeof(err)))
		return 0;
	/* emptied first: the writer keeps (renames) a file that already holds a record */
	if (ftruncate(out_fd, 0) || rec_open_write(&w, out_path, &h, 0, 1, err, sizeof(err)))
		abort();
	while (rec_next(r, &o) == 1) {
		if (n < FUZZ_KEEP)
			kept[n] = o;
		n++;
		if (rec_write(w, &o))
			abort();        /* anything the reader produces, the writer must take */
	}
	rec_error(r);
	rec_offset(r);
	rec_close_read(r);
	rec_close_write(w);
	check_again(&h, n);
	return 0;
}
