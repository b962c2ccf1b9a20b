/* test_record.c: the record format: exact round trip of every observation kind, rotation,
 * and the reader's verdict on torn, corrupt, future-version, empty and missing files. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test.h"
#include "forecast.h"
#include "record.h"
#include "replay.h"

#define NOBS 64

static char dir[64];

static const char *tpath(const char *name)
{
	static char buf[32][128];
	static int i;

	i = (i + 1) % 32;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static void header(struct rec_header *h)
{
	memset(h, 0, sizeof(*h));
	h->start_time = 1764081234.123456789;
	strcpy(h->oomcast_version, "test-1.0");
	strcpy(h->kernel, "6.18.44-test");
	strcpy(h->host, "node-a");
	h->cgroup_version = 1;
	strcpy(h->options, "oomcast run --horizon 20 --record x.rec");
}

/* Every kind, with awkward values: times that are not whole nanoseconds, negative and huge
 * numbers, -0.0, NaN payloads, CG_NO_LIMIT, usage falling, cgroups interleaved. */
static int make_obs(struct obs *o)
{
	double t = 1764081234.987654321;
	int n = 0, i;

#define NEXT() (memset(&o[n], 0, sizeof(o[n])), &o[n++])
	struct obs *x = NEXT();
	x->kind = OBS_CGROUP_ADD, x->t = t, x->cg = 4242, x->add.version = 1;
	strcpy(x->add.path, "/sys/fs/cgroup/memory/oomcast-a");
	strcpy(x->add.names.ns, "kube-system");        /* format 4: names known at once */
	strcpy(x->add.names.pod, "coredns-5d78c9869d-x7x2p");
	strcpy(x->add.names.container, "coredns");
	x = NEXT();
	x->kind = OBS_CGROUP_ADD, x->t = t, x->cg = 77777777777ull, x->add.version = 2;
	memset(x->add.path, 'p', CG_PATH_MAX - 1);     /* the longest path there is */
	x = NEXT();
	x->kind = OBS_NAMES, x->t = t + 0.0005, x->cg = 77777777777ull;       /* format 4 */
	memset(x->names.ns, 'n', sizeof(x->names.ns) - 1);     /* each the longest there is */
	memset(x->names.pod, 'p', sizeof(x->names.pod) - 1);
	memset(x->names.container, 'c', sizeof(x->names.container) - 1);
	x = NEXT();
	x->kind = OBS_NAMES, x->t = t + 0.0006, x->cg = 4242;
	strcpy(x->names.ns, "shop");
	strcpy(x->names.pod, "api-7d9f8");
	x = NEXT();
	x->kind = OBS_READY, x->t = t + 0.001;
	for (i = 0; i < 20; i++) {
		x = NEXT();
		x->kind = OBS_SAMPLE, x->t = t + 1 + i * 0.1 + 1e-7 * i, x->cg = i % 2 ? 4242 : 77777777777ull;
		x->sample.usage = (uint64_t)100 << 20 | (uint64_t)(i * 12345);
		if (i == 7)
			x->sample.usage = 3;    /* a fall: negative delta */
		x->sample.limit = i % 2 ? (uint64_t)200 << 20 : UINT64_MAX;
		x->sample.reclaimable = (uint64_t)i << 12;
		x->sample.anon = x->sample.usage - x->sample.reclaimable;
		x->sample.high = UINT64_MAX - (i == 9);
		x->sample.kernel_rate = i == 3 ? -0.0 : i == 4 ? NAN : i == 5 ? 1e300 : i * 1048576.25;
		x->sample.source = (uint8_t)(i % 3);
		/* format 2's evidence: a counter that moves and resets, PSI with -0.0 and NaN */
		x->sample.workingset_refault = i == 11 ? 5 : (uint64_t)i * i * 1000003;
		x->sample.inactive_file = i % 4 ? (uint64_t)i << 20 : UINT64_MAX - i;
		x->sample.psi_some_avg10 = i == 6 ? -0.0 : i == 8 ? NAN : i * 3.25;
		x->sample.psi_full_avg10 = i % 5 ? i * 0.125 : 0;
		/* format 3's swap: growing, a fall, and a limit that moves with the free swap */
		x->sample.swap = i == 13 ? 0 : (uint64_t)i << 21;
		x->sample.swap_limit = i % 3 ? (uint64_t)(48 + i) << 20 : UINT64_MAX - 1;
	}
	x = NEXT();
	x->kind = OBS_TASK, x->t = t + 3, x->cg = 4242;
	x->task = (struct obs_task){ 31337, -999, "leak", 10485760.5, -123456789012ll, 99 << 20 };
	x = NEXT();
	x->kind = OBS_TASK, x->t = t + 3, x->cg = 4242;
	x->task = (struct obs_task){ UINT32_MAX, 1000, "fifteen-chars!!", 0, INT64_MIN, UINT64_MAX };
	x = NEXT();
	x->kind = OBS_SCORE_ADJ, x->t = t + 3.5, x->cg = 4242;
	x->task.pid = 31337, x->task.oom_score_adj = 500;
	strcpy(x->task.comm, "leak");
	x = NEXT();
	x->kind = OBS_RECLAIM, x->t = t + 3.6, x->cg = 4242;
	x->reclaim.count = 17, x->reclaim.usage = 199 << 20;
	x = NEXT();
	x->kind = OBS_OOM_STATE, x->t = t + 3.7, x->cg = 4242;
	x->oom = (struct obs_oom_state){ 1, 1, 3, 4, UINT64_MAX, 6, 12.34 };
	x = NEXT();
	x->kind = OBS_VICTIM, x->t = t + 4, x->cg = 4242;
	x->victim = (struct obs_victim){ 31337, -1001, "leak", 4243, 198 << 20, 200 << 20 };
	x = NEXT();
	x->kind = OBS_CGROUP_DEL, x->t = t + 5, x->cg = 4242;
	x = NEXT();
	x->kind = OBS_SAMPLE, x->t = t - 1e6, x->cg = 77777777777ull;   /* time going back */
	x = NEXT();
	x->kind = OBS_END, x->t = t + 6;
#undef NEXT
	return n;
}

static void expect_same(const struct obs *got, const struct obs *want, int i)
{
	char what[64];

	snprintf(what, sizeof(what), "obs %d (kind %u) bytes equal", i, want->kind);
	ASSERT_TRUE(!memcmp(got, want, sizeof(*got)), what);
}

static int write_file(const char *path, const struct obs *o, int n, uint64_t max)
{
	struct rec_writer *w;
	struct rec_header h;
	char err[256];
	int i, rotations = 0, rc;

	header(&h);
	unlink(path);   /* a new file, not a daemon's restart (which keeps the old as path.1) */
	if (rec_open_write(&w, path, &h, max, 1, err, sizeof(err))) {
		T_FAIL("open for write: %s", err);
		return -1;
	}
	for (i = 0; i < n; i++) {
		rc = rec_write(w, &o[i]);
		ASSERT_TRUE(rc == 0 || rc == 1, "rec_write returns 0 or 1");
		rotations += rc == 1;
		if (i % 7 == 0)
			ASSERT_EQ(rec_flush(w), 0, "rec_flush");
	}
	rec_close_write(w);
	return rotations;
}

/* Read a file: how many observations came out, the reader's last status and message. */
static int read_file(const char *path, struct obs *o, int max, int *status, char *msg,
		     size_t msglen, struct rec_header *h)
{
	struct rec_reader *r;
	struct rec_header hh;
	struct obs tmp;
	int n = 0, rc;

	msg[0] = 0;
	if (rec_open_read(&r, path, h ? h : &hh, msg, msglen)) {
		*status = -2;
		return 0;
	}
	while ((rc = rec_next(r, n < max ? &o[n] : &tmp)) == 1)
		n++;
	*status = rc;
	if (rc < 0) {
		snprintf(msg, msglen, "%s", rec_error(r));
		*status = rec_torn(r) ? -1 : -3;
	}
	rec_close_read(r);
	return n;
}

static void test_round_trip_every_kind(void)
{
	static struct obs in[NOBS], out[NOBS];
	struct rec_header h, want;
	char msg[512];
	int n = make_obs(in), got, st, i;

	write_file(tpath("rt.rec"), in, n, 0);
	got = read_file(tpath("rt.rec"), out, NOBS, &st, msg, sizeof(msg), &h);
	ASSERT_EQ(st, 0, "clean end");
	ASSERT_EQ(got, n, "observations read");
	for (i = 0; i < n && i < got; i++)
		expect_same(&out[i], &in[i], i);
	header(&want);
	ASSERT_EQ(h.format_version, REC_FORMAT_VERSION, "format version");
	ASSERT_TRUE(!memcmp(&h.start_time, &want.start_time, sizeof(double)), "start time bits");
	ASSERT_STR(h.oomcast_version, want.oomcast_version, "oomcast version");
	ASSERT_STR(h.kernel, want.kernel, "kernel");
	ASSERT_STR(h.host, want.host, "host");
	ASSERT_STR(h.options, want.options, "options");
	ASSERT_EQ(h.cgroup_version, 1, "cgroup version");
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

/* A record is a few dozen bytes, not a 4 KiB struct: what makes days of recording fit. */
static void test_compact(void)
{
	static struct obs o[1];
	struct rec_writer *w;
	struct rec_header h;
	char err[256];
	off_t before, after;
	int i;

	header(&h);
	if (rec_open_write(&w, tpath("compact.rec"), &h, 0, 1, err, sizeof(err))) {
		T_FAIL("%s", err);
		return;
	}
	rec_flush(w);
	before = file_size(tpath("compact.rec"));
	for (i = 0; i < 3600; i++) {
		memset(o, 0, sizeof(o));
		o->kind = OBS_SAMPLE, o->t = 1764081234.0 + i + i * 1e-6, o->cg = 123456;
		o->sample = (struct obs_sample){ (uint64_t)(50 << 20) + (uint64_t)i * 1048576, 1 << 30,
			(uint64_t)i << 12, 30 << 20, UINT64_MAX, i * 1024.0, SRC_POLL, 0, 0, 0, 0, 0, 0 };
		rec_write(w, o);
	}
	rec_close_write(w);
	after = file_size(tpath("compact.rec"));
	printf("# an hour of 1 Hz samples of one growing cgroup: %lld bytes (%.1f per sample)\n",
	       (long long)(after - before), (after - before) / 3600.0);
	ASSERT_RANGE((after - before) / 3600.0, 5, 30, "bytes per sample");
}

static void test_rotation(void)
{
	static struct obs o[1], out[NOBS];
	struct rec_writer *w;
	struct rec_header h;
	char err[256], msg[512];
	int i, rc, rotations = 0, st, n;

	unlink(tpath("rot.rec.1"));
	header(&h);
	if (rec_open_write(&w, tpath("rot.rec"), &h, 4000, 1, err, sizeof(err))) {
		T_FAIL("%s", err);
		return;
	}
	memset(o, 0, sizeof(o));
	o->kind = OBS_CGROUP_ADD, o->t = 100, o->cg = 9;
	strcpy(o->add.path, "/sys/fs/cgroup/memory/rot");
	rec_write(w, o);
	memset(o, 0, sizeof(o));
	o->kind = OBS_NAMES, o->t = 100.2, o->cg = 9;
	strcpy(o->names.ns, "shop");
	strcpy(o->names.pod, "api-1");
	strcpy(o->names.container, "server");
	rec_write(w, o);
	memset(o, 0, sizeof(o));
	o->kind = OBS_OOM_STATE, o->t = 100.3, o->cg = 9;
	o->oom.oom_kills = 2;
	rec_write(w, o);
	o->kind = OBS_READY, o->t = 100.5, o->cg = 0;
	rec_write(w, o);
	for (i = 0; i < 1000; i++) {
		memset(o, 0, sizeof(o));
		o->kind = OBS_SAMPLE, o->t = 101 + i, o->cg = 9;
		o->sample.usage = (uint64_t)i * 7777777, o->sample.limit = 1 << 30;
		rc = rec_write(w, o);
		ASSERT_TRUE(rc == 0 || rc == 1, "rec_write");
		rotations += rc == 1;
	}
	rec_close_write(w);
	ASSERT_TRUE(rotations >= 2, "rotated more than once");
	ASSERT_RANGE(file_size(tpath("rot.rec")), 1, 4000, "current file within max");
	ASSERT_RANGE(file_size(tpath("rot.rec.1")), 3000, 4000, "previous file within max");
	n = read_file(tpath("rot.rec"), out, NOBS, &st, msg, sizeof(msg), &h);
	ASSERT_EQ(st, 0, "rotated file reads cleanly");
	ASSERT_TRUE(n >= 2, "re-announcement and samples");
	ASSERT_EQ(out[0].kind, OBS_CGROUP_ADD, "starts with the cgroup re-announced");
	ASSERT_STR(out[0].add.path, "/sys/fs/cgroup/memory/rot", "its path");
	ASSERT_STR(out[0].add.names.container, "server", "with the names found since");
	ASSERT_STR(out[0].add.names.ns, "shop", "... its namespace");
	/* OOM states are said only as they change: the new file starts from the last one, or
	 * a kill count's rise within it would be taken for where the count starts */
	ASSERT_EQ(out[1].kind, OBS_OOM_STATE, "then its last OOM state");
	ASSERT_EQ(out[1].oom.oom_kills, 2, "its kill count");
	ASSERT_TRUE(out[1].t == h.start_time, "as it stands at the rotation (the file's start)");
	ASSERT_EQ(out[2].kind, OBS_SAMPLE, "then samples (ready is not repeated)");
	/* the first sample of a new file is not a delta against the old file's last one */
	ASSERT_EQ(out[2].sample.usage, (uint64_t)(out[2].t - 101) * 7777777, "usage exact");
	ASSERT_TRUE(h.start_time == out[2].t, "header start time is the rotation time");
	n = read_file(tpath("rot.rec.1"), out, NOBS, &st, msg, sizeof(msg), NULL);
	ASSERT_EQ(st, 0, "previous file reads cleanly");
}

static int copy_prefix(const char *src, const char *dst, off_t len)
{
	static char buf[1 << 16];
	int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ssize_t n = in >= 0 ? read(in, buf, sizeof(buf)) : -1;
	int rc = -1;

	if (in >= 0 && out >= 0 && n >= len && write(out, buf, len) == len)
		rc = 0;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/* Cut the file at every byte of its last record: the records before it all come out, and the
 * message names the torn record's offset. */
static void test_torn_tail_every_offset(void)
{
	static struct obs in[NOBS], out[NOBS];
	char msg[512], want[64];
	int n = make_obs(in), st, got, fails = 0;
	off_t full, last, cut;

	write_file(tpath("torn.rec"), in, n - 1, 0);
	last = file_size(tpath("torn.rec"));
	write_file(tpath("torn.rec"), in, n, 0);
	full = file_size(tpath("torn.rec"));
	ASSERT_TRUE(last > 0 && full > last, "sizes");
	snprintf(want, sizeof(want), "byte offset %lld", (long long)last);
	for (cut = last + 1; cut < full; cut++) {
		copy_prefix(tpath("torn.rec"), tpath("cut.rec"), cut);
		got = read_file(tpath("cut.rec"), out, NOBS, &st, msg, sizeof(msg), NULL);
		if (got != n - 1 || st != -1 || !strstr(msg, want) || !strstr(msg, "truncated")) {
			if (!fails++)
				T_FAIL("cut at %lld: %d obs, status %d, \"%s\"", (long long)cut, got, st, msg);
		}
	}
	copy_prefix(tpath("torn.rec"), tpath("cut.rec"), last);
	got = read_file(tpath("cut.rec"), out, NOBS, &st, msg, sizeof(msg), NULL);
	ASSERT_EQ(got, n - 1, "cut at a record boundary: all before it");
	ASSERT_EQ(st, 0, "cut at a record boundary: a clean end");
	ASSERT_EQ(fails, 0, "cuts misread");
}

/* Flip every bit of the file, one at a time: never a crash, never an observation that was
 * not written; flips inside records are caught by the CRC at that record's offset. */
static void test_bit_flips_detected(void)
{
	static struct obs in[NOBS], out[NOBS];
	static uint8_t orig[1 << 16];
	char msg[512];
	int n = make_obs(in), st, got, fd, i, misread = 0, undetected = 0, bad_stop = 0;
	off_t size, byte;

	/* without the 4 KiB path: every bit of the rest is flipped, and that is enough */
	memmove(&in[1], &in[2], (n - 2) * sizeof(in[0]));
	n--;
	write_file(tpath("flip.rec"), in, n, 0);
	fd = open(tpath("flip.rec"), O_RDONLY);
	size = read(fd, orig, sizeof(orig));
	close(fd);
	ASSERT_TRUE(size > 100 && size < (off_t)sizeof(orig), "file size");
	for (byte = 0; byte < size; byte++) {
		for (i = 0; i < 8; i++) {
			orig[byte] ^= 1 << i;
			fd = open(tpath("flipped.rec"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
			if (write(fd, orig, size) != size)
				T_FAIL("write");
			close(fd);
			orig[byte] ^= 1 << i;
			got = read_file(tpath("flipped.rec"), out, NOBS, &st, msg, sizeof(msg), NULL);
			for (int k = 0; k < got && k < n; k++)
				misread += memcmp(&out[k], &in[k], sizeof(out[k])) != 0;
			if (st == 0 && got == n)
				undetected++;
			else if (st == 0)
				bad_stop++;
			else if (!strstr(msg, "offset"))
				bad_stop++;
		}
	}
	ASSERT_EQ(misread, 0, "observations misread after a flip");
	ASSERT_EQ(undetected, 0, "flips not detected");
	ASSERT_EQ(bad_stop, 0, "flips ending without a message naming the offset");
}

static void write_bytes(const char *path, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, p, len) != (ssize_t)len)
		T_FAIL("write %s", path);
	if (fd >= 0)
		close(fd);
}

static void test_future_version_rejected(void)
{
	static struct obs in[NOBS], out[NOBS];
	static uint8_t buf[1 << 16];
	char msg[512];
	int n = make_obs(in), st, fd;
	ssize_t size;

	write_file(tpath("future.rec"), in, n, 0);
	fd = open(tpath("future.rec"), O_RDONLY);
	size = read(fd, buf, sizeof(buf));
	close(fd);
	buf[8] = REC_FORMAT_VERSION + 1;
	write_bytes(tpath("future.rec"), buf, size);
	ASSERT_EQ(read_file(tpath("future.rec"), out, NOBS, &st, msg, sizeof(msg), NULL), 0, "no obs");
	ASSERT_EQ(st, -2, "open fails");
	char want[64];

	snprintf(want, sizeof(want), "format version %d", REC_FORMAT_VERSION + 1);
	ASSERT_TRUE(strstr(msg, want) && strstr(msg, "newer") && strstr(msg, "byte offset 8"), msg);
}

/* An older file is read, the fields its version lacks zero: version 1 (samples without
 * format 2's evidence: its mask byte is the same varint) and version 2 (without swap). */
/* in[0..n) written by this writer, then labelled as an older format version */
static void write_as_version(const char *path, const struct obs *in, int n, int version)
{
	static uint8_t buf[1 << 16];
	ssize_t size;
	int fd;

	write_file(path, in, n, 0);
	fd = open(path, O_RDONLY);
	size = read(fd, buf, sizeof(buf));
	close(fd);
	ASSERT_EQ(buf[8], REC_FORMAT_VERSION, "written as the current version");
	buf[8] = (uint8_t)version;
	write_bytes(path, buf, size);
}

static void check_old_version(int version)
{
	static struct obs in[NOBS], out[NOBS];
	char msg[512], what[64];
	int n = make_obs(in), st, i, got, m;

	for (i = m = 0; i < n; i++) {   /* names came with format 4 */
		memset(&in[i].add.names, 0, in[i].kind == OBS_CGROUP_ADD ? sizeof(in[i].add.names) : 0);
		if (in[i].kind != OBS_NAMES)
			in[m++] = in[i];
	}
	n = m;
	for (i = 0; i < n; i++) {
		if (in[i].kind != OBS_SAMPLE || version > 2)
			continue;
		in[i].sample.swap = in[i].sample.swap_limit = 0;
		if (version > 1)
			continue;
		in[i].sample.workingset_refault = in[i].sample.inactive_file = 0;
		in[i].sample.psi_some_avg10 = in[i].sample.psi_full_avg10 = 0;
	}
	snprintf(what, sizeof(what), "v%d.rec", version);
	write_as_version(tpath(what), in, n, version);
	got = read_file(tpath(what), out, NOBS, &st, msg, sizeof(msg), NULL);
	ASSERT_EQ(got, n, msg);
	ASSERT_EQ(st, 0, msg);
	snprintf(what, sizeof(what), "version %d obs identical", version);
	for (i = 0; i < n && i < got; i++)
		ASSERT_TRUE(!memcmp(&out[i], &in[i], sizeof(out[i])), what);
}

static void test_old_versions_read(void)
{
	check_old_version(1);
	check_old_version(2);
	check_old_version(3);
}

/* What its version does not have is damage: a version-3 file with names in it (with a
 * watch, or a kind of their own). */
static void test_names_need_version_4(void)
{
	static struct obs in[NOBS], out[NOBS];
	char msg[512];
	int n = make_obs(in), st, got;

	write_as_version(tpath("v3names.rec"), in, n, 3);
	got = read_file(tpath("v3names.rec"), out, NOBS, &st, msg, sizeof(msg), NULL);
	ASSERT_EQ(got, 0, "read up to the first names: the first cgroup's, with its watch");
	ASSERT_TRUE(st != 0 && strstr(msg, "malformed"), msg);
	memset(&in[0].add.names, 0, sizeof(in[0].add.names));
	write_as_version(tpath("v3names.rec"), in, n, 3);
	got = read_file(tpath("v3names.rec"), out, NOBS, &st, msg, sizeof(msg), NULL);
	ASSERT_EQ(got, 2, "without them, read up to the names of their own kind");
	ASSERT_TRUE(st != 0 && strstr(msg, "malformed") && strstr(msg, "kind 11"), msg);
}

static void test_bad_files(void)
{
	static struct obs out[NOBS];
	char msg[512];
	int st;

	unlink(tpath("missing.rec"));
	read_file(tpath("missing.rec"), out, NOBS, &st, msg, sizeof(msg), NULL);
	ASSERT_EQ(st, -2, "missing: open fails");
	ASSERT_TRUE(strstr(msg, "missing.rec") && strstr(msg, "No such file"), msg);

	mkdir(tpath("dir.rec"), 0700);
	read_file(tpath("dir.rec"), out, NOBS, &st, msg, sizeof(msg), NULL);
	ASSERT_EQ(st, -2, "directory: open fails");
	ASSERT_TRUE(strstr(msg, "dir.rec") && strstr(msg, "is a directory"), msg);

	write_bytes(tpath("empty.rec"), "", 0);
	read_file(tpath("empty.rec"), out, NOBS, &st, msg, sizeof(msg), NULL);
	ASSERT_EQ(st, -2, "empty: open fails");
	ASSERT_TRUE(strstr(msg, "empty.rec") && strstr(msg, "empty (0 bytes)"), msg);

	write_bytes(tpath("text.rec"), "hello world, not a record\n", 26);
	read_file(tpath("text.rec"), out, NOBS, &st, msg, sizeof(msg), NULL);
	ASSERT_EQ(st, -2, "not a record: open fails");
	ASSERT_TRUE(strstr(msg, "bad magic at byte offset 0"), msg);

	write_bytes(tpath("short.rec"), "OOMCAST\0\1", 9);
	read_file(tpath("short.rec"), out, NOBS, &st, msg, sizeof(msg), NULL);
	ASSERT_EQ(st, -2, "preamble cut: open fails");
	ASSERT_TRUE(strstr(msg, "truncated at byte offset 9"), msg);

	write_bytes(tpath("nohdr.rec"), "OOMCAST\0\1\0\0\0", 12);
	read_file(tpath("nohdr.rec"), out, NOBS, &st, msg, sizeof(msg), NULL);
	ASSERT_EQ(st, -2, "no header: open fails");
	ASSERT_TRUE(strstr(msg, "no header record") && strstr(msg, "byte offset 12"), msg);
}

/* Corruption in the middle ends the stream there, as corruption (not a torn tail). */
static void test_corrupt_middle(void)
{
	static struct obs in[NOBS], out[NOBS];
	static uint8_t buf[1 << 16];
	char msg[512], want[64];
	int n = make_obs(in), st, fd, got;
	off_t at;
	ssize_t size;

	write_file(tpath("mid.rec"), in, 10, 0);
	at = file_size(tpath("mid.rec"));
	write_file(tpath("mid.rec"), in, n, 0);
	fd = open(tpath("mid.rec"), O_RDONLY);
	size = read(fd, buf, sizeof(buf));
	close(fd);
	buf[at + 3] ^= 0x40;
	write_bytes(tpath("mid.rec"), buf, size);
	got = read_file(tpath("mid.rec"), out, NOBS, &st, msg, sizeof(msg), NULL);
	ASSERT_EQ(got, 10, "the prefix");
	ASSERT_EQ(st, -3, "corrupt, not torn");
	snprintf(want, sizeof(want), "byte offset %lld", (long long)at);
	ASSERT_TRUE(strstr(msg, want) && strstr(msg, "CRC"), msg);

	/* a tail of zeros (what a file system may leave after power loss) reads as torn */
	memset(buf + at, 0, size - at);
	write_bytes(tpath("mid.rec"), buf, size);
	got = read_file(tpath("mid.rec"), out, NOBS, &st, msg, sizeof(msg), NULL);
	ASSERT_EQ(got, 10, "the prefix before zeros");
	ASSERT_EQ(st, -1, "zeros: torn");
}

/* A writer killed between flushes leaves only whole records: what rec_flush pushed. */
static void test_flush_is_the_crash_boundary(void)
{
	static struct obs in[NOBS], out[NOBS];
	struct rec_writer *w;
	struct rec_header h;
	char err[256], msg[512];
	int n = make_obs(in), i, st, got;
	pid_t pid;

	header(&h);
	pid = fork();
	if (pid == 0) {
		if (rec_open_write(&w, tpath("kill.rec"), &h, 0, 1, err, sizeof(err)))
			_exit(1);
		for (i = 0; i < 10; i++)
			rec_write(w, &in[i]);
		rec_flush(w);
		for (; i < n; i++)
			rec_write(w, &in[i]);
		_exit(0);       /* no flush, no close: as if SIGKILLed */
	}
	waitpid(pid, NULL, 0);
	got = read_file(tpath("kill.rec"), out, NOBS, &st, msg, sizeof(msg), NULL);
	ASSERT_EQ(got, 10, "flushed records survive");
	ASSERT_EQ(st, 0, "ends cleanly at the last flush");
	for (i = 0; i < got; i++)
		expect_same(&out[i], &in[i], i);
}

static void test_writer_rejects_unknown_kind(void)
{
	static struct obs o[1];
	struct rec_writer *w;
	struct rec_header h;
	char err[256];

	header(&h);
	if (rec_open_write(&w, tpath("bad.rec"), &h, 0, 1, err, sizeof(err))) {
		T_FAIL("%s", err);
		return;
	}
	memset(o, 0, sizeof(o));
	o->kind = 99;
	ASSERT_EQ(rec_write(w, o), -EINVAL, "unknown kind refused");
	rec_close_write(w);
	ASSERT_EQ(rec_open_write(&w, "/nonexistent-dir/x.rec", &h, 0, 1, err, sizeof(err)), -ENOENT,
		  "unwritable path");
	ASSERT_TRUE(strstr(err, "/nonexistent-dir/x.rec") != NULL, err);
}

/* ---- replay over a synthetic incident ---- */

/* A 100 MB cgroup filling at 4 MB/s from 20 MB, a second quiet cgroup, one leaking task, the
 * kill at the limit. */
static void write_incident_at(const char *path, const char *options, double t0, uint64_t max)
{
	static struct obs o;
	struct rec_writer *w;
	struct rec_header h;
	char err[256];
	int i;

	header(&h);
	snprintf(h.options, sizeof(h.options), "%s", options);
	unlink(path);
	if (rec_open_write(&w, path, &h, max, 1, err, sizeof(err))) {
		T_FAIL("%s", err);
		return;
	}
#define PUT(k, tt, c) (o.kind = (k), o.t = (tt), o.cg = (c), rec_write(w, &o), memset(&o, 0, sizeof(o)))
	o.add.version = 1;
	strcpy(o.add.path, "/sys/fs/cgroup/memory/app");
	PUT(OBS_CGROUP_ADD, t0, 11);
	o.add.version = 1;
	strcpy(o.add.path, "/sys/fs/cgroup/memory/quiet");
	PUT(OBS_CGROUP_ADD, t0, 12);
	PUT(OBS_READY, t0, 0);
	for (i = 0; i <= 20; i++) {
		o.sample = (struct obs_sample){ 20000000 + 4000000ull * i, 100000000, 1000000,
			19000000 + 4000000ull * i, UINT64_MAX, 0, SRC_POLL, 0, 0, 0, 0, 0, 0 };
		PUT(OBS_SAMPLE, t0 + 1 + i, 11);
		o.sample = (struct obs_sample){ 5000000, 100000000, 0, 5000000, UINT64_MAX, 0, SRC_POLL, 0, 0, 0, 0, 0, 0 };
		PUT(OBS_SAMPLE, t0 + 1 + i, 12);
		o.task = (struct obs_task){ 777, 0, "hog", 4e6, 4000000ll * i, 0 };
		PUT(OBS_TASK, t0 + 1 + i, 11);
		o.task = (struct obs_task){ 778, 0, "idle", 0, 1000, 0 };
		PUT(OBS_TASK, t0 + 1 + i, 11);
	}
	o.victim = (struct obs_victim){ 777, 0, "hog", 11, 99000000, 100000000 };
	PUT(OBS_VICTIM, t0 + 21.5, 11);
	o.sample = (struct obs_sample){ 1000000, 100000000, 0, 0, UINT64_MAX, 0, SRC_POLL, 0, 0, 0, 0, 0, 0 };
	PUT(OBS_SAMPLE, t0 + 22, 11);
	PUT(OBS_END, t0 + 23, 0);
#undef PUT
	rec_close_write(w);
}

static void write_incident(const char *path, const char *options)
{
	write_incident_at(path, options, 1764081000.25, 0);
}

/* Run `oomcast replay ARGS` in-process; stdout and stderr land in files. */
static int run_replay_v(const char *out, const char *errf, va_list ap)
{
	char *argv[16] = { "replay" };
	int argc = 1, rc, o1, o2, fo, fe;

	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	fflush(stdout);
	fflush(stderr);
	o1 = dup(1), o2 = dup(2);
	fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	fe = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fo, 1), dup2(fe, 2);
	rc = replay_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(o1, 1), dup2(o2, 2);
	close(fo), close(fe), close(o1), close(o2);
	return rc;
}

static int run_replay(const char *out, const char *errf, ...)
{
	va_list ap;
	int rc;

	va_start(ap, errf);
	rc = run_replay_v(out, errf, ap);
	va_end(ap);
	return rc;
}

/* The same in a child, for what exits (argp's errors): its exit status. */
static int run_replay_exit(const char *out, const char *errf, ...)
{
	va_list ap;
	pid_t pid;
	int st;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		va_start(ap, errf);
		_exit(run_replay_v(out, errf, ap));
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static char *slurp(const char *path)
{
	static char buf[1 << 20];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static double json_num_after(const char *s, const char *event, const char *key)
{
	const char *e = strstr(s, event), *k = e ? strstr(e, key) : NULL;

	return k ? strtod(k + strlen(key), NULL) : NAN;
}

static void test_replay_incident(void)
{
	const char *rec = tpath("incident.rec"), *out = tpath("out.txt"), *err = tpath("err.txt");
	const char *svg = tpath("incident.svg");
	char *s;

	write_incident(rec, "oomcast run --horizon 20 --record x");
	ASSERT_EQ(run_replay(out, err, (char *)rec, "--json", "--summary", "--svg", (char *)svg, NULL),
		  0, "exit status");
	s = slurp(out);
	ASSERT_TRUE(strstr(s, "{\"event\":\"ready\",\"time\":1764081000.250000,\"cgroups\":2}") != NULL,
		    "ready with the recorded time");
	ASSERT_TRUE(strstr(s, "\"event\":\"forecast\"") != NULL, "a forecast");
	ASSERT_TRUE(strstr(s, "\"event\":\"oom_kill\"") != NULL, "the kill");
	ASSERT_TRUE(strstr(s, "\"event\":\"stop\"") != NULL, "the stop");
	/* horizon 20 from the recorded options: fill at 4 MB/s, so the forecast comes when ~80 MB
	 * are left, i.e. about 20 s ahead */
	ASSERT_RANGE(json_num_after(s, "\"event\":\"forecast\"", "\"eta_seconds\":"), 0, 20.001,
		     "forecast ETA within the recorded horizon");
	ASSERT_RANGE(json_num_after(s, "\"event\":\"oom_kill\"", "\"lead_seconds\":"), 5, 21,
		     "kill lead");
	ASSERT_TRUE(strstr(s, "{\"event\":\"summary\"") != NULL, "summary lines");
	ASSERT_EQ(json_num_after(s, "\"cgroup\":\"/sys/fs/cgroup/memory/app\",\"cgroup_id\":11,\"first",
				 "\"peak_usage_bytes\":"), 100000000, "peak usage");
	ASSERT_RANGE(json_num_after(s, "\"cgroup\":\"/sys/fs/cgroup/memory/app\",\"cgroup_id\":11,\"first",
				    "\"growth_bytes_per_second\":"), 3.99e6, 4.01e6, "growth");
	/* the record is 23 s long: the slope is over the 20 s of samples before the peak */
	ASSERT_EQ(json_num_after(s, "\"cgroup\":\"/sys/fs/cgroup/memory/app\",\"cgroup_id\":11,\"first",
				 "\"growth_seconds\":"), 20, "growth span");
	ASSERT_TRUE(strstr(s, "\"top_tasks\":[{\"pid\":777,\"comm\":\"hog\",\"growth_bytes\":80000000") != NULL,
		    "top task by growth");
	ASSERT_TRUE(strstr(s, "\"victims\":[{\"time\":1764081021.75,\"pid\":777,\"comm\":\"hog\"") != NULL,
		    "victim");
	s = slurp(svg);
	ASSERT_TRUE(strstr(s, "<svg xmlns=\"http://www.w3.org/2000/svg\"") != NULL, "an SVG");
	ASSERT_TRUE(strstr(s, "id=\"cg0-usage\" class=\"series usage\" d=\"M") != NULL, "usage series");
	ASSERT_TRUE(strstr(s, "id=\"cg0-limit\" class=\"series limit\" d=\"M") != NULL, "limit series");
	ASSERT_TRUE(strstr(s, "id=\"cg0-reclaimable\"") != NULL, "reclaimable band");
	ASSERT_TRUE(strstr(s, "id=\"cg0-eta\" class=\"series eta\" d=\"M") != NULL, "eta series");
	ASSERT_TRUE(strstr(s, "class=\"marker forecast\"") != NULL, "forecast marker");
	ASSERT_TRUE(strstr(s, "class=\"marker oom_kill\"") != NULL, "kill marker");
	ASSERT_TRUE(strstr(s, "id=\"cg0-task-777\"") != NULL, "top task series");
	ASSERT_TRUE(strstr(s, "data-path=\"/sys/fs/cgroup/memory/app\"") != NULL, "incident panel first");
	ASSERT_TRUE(strstr(s, "id=\"cg1\" class=\"cgroup\"") != NULL, "quiet cgroup panel too");
}

/* The same record replays to the same bytes; a shorter horizon forecasts later. */
static void test_replay_deterministic_and_options(void)
{
	const char *rec = tpath("incident.rec"), *err = tpath("err.txt");
	char a[1 << 14], *s;
	double eta20, eta5;
	struct fc_params fp;

	write_incident(rec, "oomcast run --horizon=20");
	run_replay(tpath("a.txt"), err, (char *)rec, "--json", NULL);
	snprintf(a, sizeof(a), "%s", slurp(tpath("a.txt")));
	run_replay(tpath("b.txt"), err, (char *)rec, "--json", NULL);
	ASSERT_STR(slurp(tpath("b.txt")), a, "two replays agree");
	eta20 = json_num_after(a, "\"event\":\"forecast\"", "\"eta_seconds\":");
	run_replay(tpath("c.txt"), err, (char *)rec, "--json", "--horizon", "5", NULL);
	s = slurp(tpath("c.txt"));
	eta5 = json_num_after(s, "\"event\":\"forecast\"", "\"eta_seconds\":");
	fc_params_default(&fp, 5);
	ASSERT_RANGE(eta5, 0, fc_fire_eta(&fp) + 0.001, "--horizon 5 at replay");
	ASSERT_TRUE(eta20 > eta5, "the recorded horizon (20) forecasts earlier");
	run_replay(tpath("t.txt"), err, (char *)rec, "-q", "--summary", NULL);
	ASSERT_TRUE(strstr(slurp(tpath("t.txt")), "growth      +3.8 MiB/s over the 20 s before the "
			   "peak\n") != NULL, slurp(tpath("t.txt")));
	run_replay(tpath("d.txt"), err, (char *)rec, "--json", "-q", "--summary", "--cgroup",
		   "/sys/fs/cgroup/memory/quiet", NULL);
	s = slurp(tpath("d.txt"));
	ASSERT_TRUE(!strstr(s, "\"event\":\"forecast\"") && !strstr(s, "memory/app"), "filtered");
	ASSERT_TRUE(strstr(s, "\"cgroup\":\"/sys/fs/cgroup/memory/quiet\"") != NULL, "quiet summary");
	ASSERT_STR(slurp(err), "", "a --cgroup in the record: no warning");
	run_replay(tpath("d2.txt"), err, (char *)rec, "--json", "-q", "--summary", "--cgroup",
		   "/sys/fs/cgroup/memory/quiet/", NULL);
	ASSERT_STR(slurp(err), "", "a trailing slash: no warning");
	s = strdup(slurp(tpath("d.txt")));
	ASSERT_TRUE(s && strstr(s, "memory/quiet") && !strcmp(slurp(tpath("d2.txt")), s),
		    "a trailing slash selects the same cgroup");
	free(s);
	ASSERT_EQ(run_replay(tpath("e.txt"), err, (char *)rec, "--cgroup",
			     "/sys/fs/cgroup/memory/ap", NULL), 0, "no such --cgroup: exit 0");
	ASSERT_TRUE(strstr(slurp(err), "warning: --cgroup /sys/fs/cgroup/memory/ap matches no "
			   "cgroup in the record (it has /sys/fs/cgroup/memory/app, ") != NULL,
		    slurp(err));
}

static void test_replay_damaged(void)
{
	const char *rec = tpath("incident.rec"), *out = tpath("out.txt"), *err = tpath("err.txt");
	static uint8_t buf[1 << 16];
	ssize_t size;
	int fd;

	write_incident(rec, "");
	fd = open(rec, O_RDONLY);
	size = read(fd, buf, sizeof(buf));
	close(fd);
	write_bytes(tpath("torn-inc.rec"), buf, size - 3);
	ASSERT_EQ(run_replay(out, err, (char *)tpath("torn-inc.rec"), "--json", NULL), 0,
		  "torn tail: exit 0");
	ASSERT_TRUE(strstr(slurp(err), "warning: ") && strstr(slurp(err), "truncated record at byte offset"),
		    slurp(err));
	ASSERT_TRUE(strstr(slurp(out), "\"event\":\"oom_kill\"") != NULL, "prefix replayed");
	buf[size / 2] ^= 0x10;
	write_bytes(tpath("mid-inc.rec"), buf, size);
	ASSERT_EQ(run_replay(out, err, (char *)tpath("mid-inc.rec"), "--json", NULL), 1,
		  "corrupt middle: exit 1");
	ASSERT_TRUE(strstr(slurp(err), "corrupt record at byte offset") != NULL, slurp(err));
	ASSERT_TRUE(strstr(slurp(out), "\"event\":\"ready\"") != NULL, "prefix replayed");
	unlink(tpath("gone.rec"));
	ASSERT_EQ(run_replay(out, err, (char *)tpath("gone.rec"), NULL), 1, "missing: exit 1");
	ASSERT_TRUE(strstr(slurp(err), "No such file") != NULL, slurp(err));
	write_bytes(tpath("empty.rec"), "", 0);
	ASSERT_EQ(run_replay(out, err, (char *)tpath("empty.rec"), NULL), 1, "empty: exit 1");
	ASSERT_TRUE(strstr(slurp(err), "empty (0 bytes)") != NULL, slurp(err));
	mkdir(tpath("dir-inc.rec"), 0700);
	ASSERT_EQ(run_replay(out, err, (char *)tpath("dir-inc.rec"), NULL), 1, "directory: exit 1");
	ASSERT_TRUE(strstr(slurp(err), "is a directory") != NULL, slurp(err));
}

/* Several files replay as one history in time order, whatever order they are given in; the
 * same file twice, files that overlap in time and files recorded at different horizons
 * (without --horizon) are refused before anything is printed. */
static void test_replay_files_in_time_order(void)
{
	const char *one = tpath("one.rec"), *rot = tpath("hist.rec"), *rot1 = tpath("hist.rec.1");
	const char *out = tpath("out.txt"), *err = tpath("err.txt");
	const char *opts = "oomcast run --horizon 20";
	double t0 = 1764081000.25;
	static char want[1 << 14];

	write_incident_at(one, opts, t0, 0);
	ASSERT_EQ(run_replay(out, err, (char *)one, "--json", NULL), 0, "one file");
	snprintf(want, sizeof(want), "%s", slurp(out));
	/* rotated once: hist.rec.1 holds the first ~60%, hist.rec the rest */
	write_incident_at(rot, opts, t0, file_size(one) * 3 / 5);
	ASSERT_TRUE(file_size(rot1) > 0, "rotated");
	ASSERT_EQ(run_replay(out, err, (char *)rot1, (char *)rot, "--json", NULL), 0, "rot.1 rot");
	ASSERT_STR(slurp(out), want, "FILE.1 FILE: the events of the whole record");
	ASSERT_EQ(run_replay(out, err, (char *)rot, (char *)rot1, "--json", NULL), 0, "rot rot.1");
	ASSERT_STR(slurp(out), want, "FILE FILE.1 (as rec* gives them): the same, in time order");

	ASSERT_EQ(run_replay(out, err, (char *)one, (char *)one, "--json", NULL), 1, "same file");
	ASSERT_STR(slurp(out), "", "nothing replayed");
	ASSERT_TRUE(strstr(slurp(err), "same file") && strstr(slurp(err), one), slurp(err));

	write_incident_at(tpath("two.rec"), opts, t0 + 10, 0);     /* a daemon running at once */
	ASSERT_EQ(run_replay(out, err, (char *)tpath("two.rec"), (char *)one, NULL), 1, "overlap");
	ASSERT_STR(slurp(out), "", "nothing replayed");
	ASSERT_TRUE(strstr(slurp(err), "overlap") && strstr(slurp(err), one) &&
		    strstr(slurp(err), tpath("two.rec")), slurp(err));

	/* a later record given first: replayed after, and the span is positive */
	write_incident_at(tpath("later.rec"), opts, t0 + 100, 0);
	ASSERT_EQ(run_replay(out, err, (char *)tpath("later.rec"), (char *)one, "-q", "--summary",
			     NULL), 0, "later record first");
	ASSERT_TRUE(strstr(slurp(out), "(123.0 s)") && strstr(slurp(out), "and 1 later file"),
		    slurp(out));

	/* a restart: the later daemon started afresh, and so does its part of the replay */
	ASSERT_EQ(run_replay(out, err, (char *)one, "--json", NULL), 0, "first session");
	snprintf(want, sizeof(want), "%s", slurp(out));
	ASSERT_EQ(run_replay(out, err, (char *)tpath("later.rec"), "--json", NULL), 0, "second");
	snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s", slurp(out));
	ASSERT_EQ(run_replay(out, err, (char *)one, (char *)tpath("later.rec"), "--json", NULL), 0,
		  "both sessions");
	ASSERT_STR(slurp(out), want, "a restart: each session's own events");

	write_incident_at(tpath("h60.rec"), "oomcast run -H 60", t0 + 100, 0);
	ASSERT_EQ(run_replay(out, err, (char *)one, (char *)tpath("h60.rec"), NULL), 1,
		  "different recorded horizons");
	ASSERT_TRUE(strstr(slurp(err), "--horizon") && strstr(slurp(err), "20 s"), slurp(err));
	ASSERT_EQ(run_replay(out, err, (char *)one, (char *)tpath("h60.rec"), "-q", "--summary",
			     "-H", "30", NULL), 0, "--horizon given: one horizon for both");
	ASSERT_TRUE(strstr(slurp(out), "horizon 30 s") != NULL, slurp(out));
}

/* A live record is not strictly in time order: a task's observation carries its last
 * activity (up to a second old), kernel records drained after polls their own times. A
 * rotation that such an observation sets off starts the new file before the old one's last
 * observation: still one history. Rotated at 40 sizes, each pair replays (exit 0). */
static void test_replay_rotation_out_of_order(void)
{
	const char *rot = tpath("dis.rec"), *rot1 = tpath("dis.rec.1");
	const char *out = tpath("out.txt"), *err = tpath("err.txt");
	double t0 = 1764081000.25;
	int refused = 0, rotated = 0;

	for (uint64_t max = 400; max < 400 + 40 * 25; max += 25) {
		static struct obs o;
		struct rec_writer *w;
		struct rec_header h;
		char e[256];

		header(&h);
		unlink(rot);
		unlink(rot1);
		if (rec_open_write(&w, rot, &h, max, 1, e, sizeof(e))) {
			T_FAIL("%s", e);
			return;
		}
		memset(&o, 0, sizeof(o));
		o.kind = OBS_CGROUP_ADD, o.t = t0, o.cg = 11, o.add.version = 1;
		strcpy(o.add.path, "/sys/fs/cgroup/memory/app");
		rec_write(w, &o);
		memset(&o, 0, sizeof(o));
		o.kind = OBS_READY, o.t = t0;
		rec_write(w, &o);
		for (int i = 1; i <= 30; i++) {
			memset(&o, 0, sizeof(o));
			o.kind = OBS_SAMPLE, o.t = t0 + i, o.cg = 11;
			o.sample = (struct obs_sample){ 20000000 + 1000000ull * i, 100000000, 0,
				19000000 + 1000000ull * i, UINT64_MAX, 0, SRC_POLL, 0, 0, 0, 0, 0, 0 };
			rec_write(w, &o);
			memset(&o, 0, sizeof(o));
			o.kind = OBS_TASK, o.t = t0 + i - 0.5, o.cg = 11;     /* last active 0.5 s ago */
			o.task = (struct obs_task){ 777, 0, "hog", 1e6, 1000000ll * i, 0 };
			rec_write(w, &o);
		}
		rec_close_write(w);
		if (file_size(rot1) <= 0)
			continue;
		rotated++;
		refused += run_replay(out, err, (char *)rot1, (char *)rot, "-q", NULL) != 0;
	}
	printf("# %d of 40 sizes rotated\n", rotated);
	ASSERT_TRUE(rotated >= 30, "rotated at most sizes");
	ASSERT_EQ(refused, 0, "every FILE.1 FILE pair replays as one history");
}

/* Bad option values are named with their rule, as `run` names its own. */
static void test_replay_option_messages(void)
{
	const char *rec = tpath("opts.rec"), *out = tpath("out.txt"), *err = tpath("err.txt");

	write_incident(rec, "");
	ASSERT_TRUE(run_replay_exit(out, err, (char *)rec, "-H", "0", NULL) > 0, "-H 0 refused");
	ASSERT_TRUE(strstr(slurp(err), "--horizon must be a positive number of seconds, not '0'")
		    != NULL, slurp(err));
	ASSERT_TRUE(run_replay_exit(out, err, (char *)rec, "--clear-factor", "0.5", NULL) > 0,
		    "--clear-factor 0.5 refused");
	ASSERT_TRUE(strstr(slurp(err), "--clear-factor must be a number of at least 1.2") &&
		    strstr(slurp(err), "'0.5'"), slurp(err));
	ASSERT_TRUE(run_replay_exit(out, err, (char *)rec, "--clear-factor", "1.1", NULL) > 0,
		    "--clear-factor 1.1 refused: it would clear where a forecast fires");
	ASSERT_EQ(run_replay_exit(out, err, (char *)rec, "-q", "--clear-factor", "1.2", NULL), 0,
		  "--clear-factor 1.2 taken");
	ASSERT_TRUE(run_replay_exit(out, err, (char *)rec, "--clear-hold", "-1", NULL) > 0,
		    "--clear-hold -1 refused");
	ASSERT_TRUE(strstr(slurp(err), "--clear-hold must be a number of seconds") != NULL,
		    slurp(err));
	ASSERT_TRUE(run_replay_exit(out, err, (char *)rec, "--min-samples", "x", NULL) > 0,
		    "--min-samples x refused");
	ASSERT_TRUE(strstr(slurp(err), "--min-samples must be a number of samples") != NULL,
		    slurp(err));
}

/* A daemon restarted on the same --record (systemd's Restart=on-failure) keeps the record of
 * what came before as FILE.1, replaces one that holds nothing, and never overwrites a file
 * that is not a record. */
static void test_existing_record_kept(void)
{
	static struct obs in[NOBS], out[NOBS], o;
	const char *rec = tpath("restart.rec"), *old = tpath("restart.rec.1");
	struct rec_writer *w;
	struct rec_header h;
	char err[512], msg[512];
	int n = make_obs(in), st, got;

	header(&h);
	unlink(old);
	write_file(rec, in, n, 0);
	ASSERT_EQ(rec_open_write(&w, rec, &h, 0, 1, err, sizeof(err)), 1, "existing record kept");
	ASSERT_TRUE(strstr(err, "moved it to") && strstr(err, old), err);
	ASSERT_TRUE(!strstr(err, "replacing"), "no older FILE.1 to replace");
	memset(&o, 0, sizeof(o));
	o.kind = OBS_READY, o.t = 1764082000;
	if (w)
		rec_write(w, &o);
	rec_close_write(w);
	got = read_file(old, out, NOBS, &st, msg, sizeof(msg), NULL);
	ASSERT_EQ(got, n, "the old record, whole, in FILE.1");
	ASSERT_EQ(st, 0, "FILE.1 reads cleanly");
	got = read_file(rec, out, NOBS, &st, msg, sizeof(msg), NULL);
	ASSERT_EQ(got, 1, "the new record starts empty");

	/* FILE holds only a ready: nothing to replay, so it is replaced and FILE.1 stays */
	ASSERT_EQ(rec_open_write(&w, rec, &h, 0, 1, err, sizeof(err)), 0, "empty session replaced");
	rec_close_write(w);
	ASSERT_EQ(read_file(old, out, NOBS, &st, msg, sizeof(msg), NULL), n, "FILE.1 untouched");

	/* a second restart with something recorded replaces the older FILE.1, as rotation does */
	write_file(rec, in, 7, 0);      /* two cgroups, their names, ready, two samples */
	ASSERT_EQ(rec_open_write(&w, rec, &h, 0, 1, err, sizeof(err)), 1, "kept again");
	ASSERT_TRUE(strstr(err, "replacing the older one") != NULL, err);
	rec_close_write(w);
	ASSERT_EQ(read_file(old, out, NOBS, &st, msg, sizeof(msg), NULL), 7, "the newer record");

	/* an empty file holds nothing either */
	write_bytes(rec, "", 0);
	ASSERT_EQ(rec_open_write(&w, rec, &h, 0, 1, err, sizeof(err)), 0, "empty file replaced");
	rec_close_write(w);

	/* nor does a torn header (a daemon killed in its first write): FILE.1 stays */
	write_file(rec, in, 5, 0);
	ASSERT_EQ(truncate(rec, 12), 0, "tear the header");
	ASSERT_EQ(rec_open_write(&w, rec, &h, 0, 1, err, sizeof(err)), 0, "torn header replaced");
	rec_close_write(w);
	ASSERT_EQ(read_file(old, out, NOBS, &st, msg, sizeof(msg), NULL), 7, "FILE.1 kept");

	/* not a record: refused, named, left as it was */
	write_bytes(rec, "precious notes\n", 15);
	w = NULL;
	ASSERT_EQ(rec_open_write(&w, rec, &h, 0, 1, err, sizeof(err)), -EEXIST, "garbage refused");
	ASSERT_TRUE(w == NULL, "no writer");
	ASSERT_TRUE(strstr(err, rec) && strstr(err, "not an oomcast record"), err);
	ASSERT_STR(slurp(rec), "precious notes\n", "the file is untouched");
}

/* --record-keep 3: restarts and rotations push the older files one number up, up to
 * FILE.3, the oldest falling off. */
static void test_record_keep(void)
{
	static struct obs in[NOBS], out[NOBS];
	const char *rec = tpath("keep.rec");
	char path[600], err[512], msg[512];
	struct rec_writer *w;
	struct rec_header h;
	int n = make_obs(in), st, i, k;

	header(&h);
	for (i = 1; i <= 4; i++) {
		snprintf(path, sizeof(path), "%s.%d", rec, i);
		unlink(path);
	}
	/* four sessions of 10, 11, 12 and 13 observations, each restart keeping the last */
	for (k = 10; k <= 13; k++) {
		write_file(rec, in, k, 0);
		ASSERT_EQ(rec_open_write(&w, rec, &h, 0, 3, err, sizeof(err)), 1, "kept");
		rec_close_write(w);
	}
	for (i = 1; i <= 3; i++) {
		snprintf(path, sizeof(path), "%s.%d", rec, i);
		ASSERT_EQ(read_file(path, out, NOBS, &st, msg, sizeof(msg), NULL), 14 - i,
			  "FILE.i holds the i-th newest session");
	}
	snprintf(path, sizeof(path), "%s.4", rec);
	ASSERT_TRUE(access(path, F_OK) != 0, "no FILE.4: the oldest fell off");

	/* rotation: a small max_bytes makes many files; never more than FILE.3 (none left from
	 * the restarts above, so that each one read below is the rotation's own) */
	unlink(rec);
	for (i = 1; i <= 3; i++) {
		snprintf(path, sizeof(path), "%s.%d", rec, i);
		unlink(path);
	}
	ASSERT_EQ(rec_open_write(&w, rec, &h, 600, 3, err, sizeof(err)), 0, "open");
	for (i = k = 0; i < n; i++)
		k += rec_write(w, &in[i]) == 1;
	rec_close_write(w);
	ASSERT_TRUE(k > 3, "rotated more than three times");
	for (i = 1; i <= 3; i++) {
		snprintf(path, sizeof(path), "%s.%d", rec, i);
		ASSERT_TRUE(read_file(path, out, NOBS, &st, msg, sizeof(msg), NULL) > 0 && st == 0,
			    "each kept rotation reads cleanly");
	}
	ASSERT_TRUE(access(path, F_OK) == 0 && (snprintf(path, sizeof(path), "%s.4", rec),
						 access(path, F_OK) != 0), "FILE.1..3, no FILE.4");
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/oomcast-test-record-%d", getpid());
	if (mkdir(dir, 0700)) {
		perror(dir);
		return 1;
	}
	RUN(test_round_trip_every_kind);
	RUN(test_compact);
	RUN(test_rotation);
	RUN(test_torn_tail_every_offset);
	RUN(test_bit_flips_detected);
	RUN(test_future_version_rejected);
	RUN(test_old_versions_read);
	RUN(test_names_need_version_4);
	RUN(test_bad_files);
	RUN(test_corrupt_middle);
	RUN(test_flush_is_the_crash_boundary);
	RUN(test_writer_rejects_unknown_kind);
	RUN(test_replay_incident);
	RUN(test_replay_deterministic_and_options);
	RUN(test_replay_damaged);
	RUN(test_existing_record_kept);
	RUN(test_record_keep);
	RUN(test_replay_files_in_time_order);
	RUN(test_replay_rotation_out_of_order);
	RUN(test_replay_option_messages);
	{       /* removed whatever failed: the assertions say what went wrong */
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return TEST_EXIT();
}
