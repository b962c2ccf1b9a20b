/* leak.c: a test workload that allocates and touches memory at a set rate until it is
 * killed or its time bound runs out. Shapes: steady, accelerating, step, sawtooth,
 * rising-sawtooth, burst, page cache, spells (a leak that comes and goes), stairs. Every
 * shape is paced by the clock (what is held is a function of the time since start), so a
 * slow CPU delays but does not distort the shape.
 * Static, so it also runs inside the VM's initramfs. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct opts {
	const char *shape;      /* steady | accel | step | sawtooth | rising-sawtooth | burst | cache
				   | spells | stairs */
	double rate_mb;         /* MB/s (steady), initial rate (accel) */
	double accel_mb;        /* MB/s added per second (accel) */
	double step_mb;         /* one-off allocation (step) at step_at seconds */
	double step_at;
	double peak_mb;         /* sawtooth: grow to this, then free back to floor_mb */
	double floor_mb;
	double peak_rise_mb;    /* rising-sawtooth: each peak this much higher */
	double max_mb;          /* steady/accel: stop growing here and hold (0: no cap) */
	double on, off;         /* spells: --on seconds at --rate, then --off seconds still */
	double period;          /* stairs: --step MB at once every --period seconds */
	double idle;            /* seconds to wait before the shape starts */
	double timeout;         /* hard time bound, seconds */
	const char *file;       /* cache: file to read repeatedly */
	const char *shm;        /* hold the memory in this file (on tmpfs: shmem) instead */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: leak [--shape S] [--rate MB/s] [--accel MB/s^2] [--step MB --step-at S]\n"
		"            [--peak MB --floor MB [--peak-rise MB]] [--max MB] [--idle S]\n"
		"            [--on S --off S] [--period S] [--file F] [--shm F] [--timeout S]\n"
		"sawtooth: allocate --floor at once (the live set), grow at --rate to --peak, free\n"
		"back to the floor, repeat; rising-sawtooth: each peak --peak-rise higher and each\n"
		"floor half that (a leak under a GC). burst: grow at --rate (0: as fast as it can).\n"
		"spells: grow at --rate for --on s, hold for --off s, repeat. stairs: allocate\n"
		"--step MB at once every --period s. --shm F: hold the memory as the pages of file F\n"
		"(created; on tmpfs that is shmem, which outlives the process) instead of anonymous.\n"
		"shapes: steady (default), accel, step, sawtooth, rising-sawtooth, burst, cache,\n"
		"        spells, stairs\n");
	exit(2);
}

static double num(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || v < 0) {
		fprintf(stderr, "leak: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

#define CHUNK (256UL * 1024)
#define MAX_CHUNKS (1UL << 16) /* 16 GiB worth of 256 KiB chunks */

static void *chunks[MAX_CHUNKS];
static size_t nchunks;
/* --shm: the chunks are this file's pages instead. On tmpfs (/dev/shm, an emptyDir of
 * medium Memory) they are shmem: charged to the writer's cgroup, not reclaimable without
 * swap, and not freed when the writer is killed. */
static int shm_fd = -1;

static void grow(size_t bytes)
{
	static char page[CHUNK];

	for (; shm_fd >= 0 && bytes >= CHUNK && nchunks < MAX_CHUNKS; bytes -= CHUNK) {
		memset(page, (int)nchunks + 1, sizeof(page));
		if (pwrite(shm_fd, page, CHUNK, (off_t)(nchunks * CHUNK)) != (ssize_t)CHUNK) {
			perror("leak: write --shm file");
			exit(1);
		}
		nchunks++;
	}
	for (; bytes >= CHUNK && nchunks < MAX_CHUNKS; bytes -= CHUNK) {
		char *p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			perror("leak: mmap");
			exit(1);
		}
		for (size_t i = 0; i < CHUNK; i += 4096)
			p[i] = (char)i + 1;
		chunks[nchunks++] = p;
	}
}

static void shrink_to(size_t bytes)
{
	if (shm_fd >= 0 && nchunks * CHUNK > bytes) {
		nchunks = bytes / CHUNK;
		if (ftruncate(shm_fd, (off_t)(nchunks * CHUNK)))
			perror("leak: truncate --shm file");
		return;
	}
	while (nchunks && nchunks * CHUNK > bytes)
		munmap(chunks[--nchunks], CHUNK);
}

static void read_cache(const char *file)
{
	static char buf[1 << 20];
	static int dropped;
	int fd = open(file, O_RDONLY);

	if (fd < 0) {
		perror("leak: open");
		exit(1);
	}
	/* Pages cached before we moved into the cgroup stay charged elsewhere: drop them
	 * once, so that this cgroup's reads bring them in (and are charged here). */
	if (!dropped++)
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

/* Bytes the shape holds at time t (seconds since the shape started). */
static double target_mb(const struct opts *o, double t)
{
	double want = o->rate_mb * t;

	if (!strcmp(o->shape, "accel"))
		want += o->accel_mb * t * t / 2;
	if (!strcmp(o->shape, "step") && t >= o->step_at)
		want += o->step_mb;
	if (!strcmp(o->shape, "spells"))
		want = o->rate_mb * (o->on * floor(t / (o->on + o->off)) +
				     fmin(fmod(t, o->on + o->off), o->on));
	if (!strcmp(o->shape, "stairs"))
		want = o->step_mb * floor(t / o->period);
	if (o->max_mb > 0 && want > o->max_mb)
		want = o->max_mb;
	return want;
}

/* The sawtooth as a function of time: cycle k grows from floor_k to peak_k at rate_mb,
 * then drops at once (a GC that hands its pages back); floors and peaks rise by half and
 * all of peak_rise_mb each cycle. Walking the cycles from 0 keeps it exact for any t. */
static double sawtooth_mb(const struct opts *o, double t)
{
	double floor = o->floor_mb, peak = o->peak_mb;

	if (o->rate_mb <= 0 || peak <= floor)
		return floor;
	for (int k = 0; k < 100000; k++) {
		double leg = (peak - floor) / o->rate_mb;

		if (t < leg)
			return floor + o->rate_mb * t;
		t -= leg;
		floor += o->peak_rise_mb / 2;
		peak += o->peak_rise_mb;
	}
	return peak;
}

/* Hold whole chunks, as many as cover mb: grown rounded up, and freed only down to that.
 * (Freed down to mb itself, the chunk grown past it went at the next tick and came back
 * at the one after: a steady 8 MB/s leak allocated 17 MB/s.) */
static void hold_mb(double mb)
{
	size_t keep = ((size_t)(mb * 1e6) + CHUNK - 1) / CHUNK * CHUNK;

	if (keep > nchunks * CHUNK)
		grow(keep - nchunks * CHUNK);
	else
		shrink_to(keep);
}

int main(int argc, char **argv)
{
	struct opts o = { .shape = "steady", .rate_mb = 10, .timeout = 300, .floor_mb = 0 };
	int i, saw, known;
	double t0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		if (!strcmp(a, "--shape")) o.shape = v;
		else if (!strcmp(a, "--rate")) o.rate_mb = num(v);
		else if (!strcmp(a, "--accel")) o.accel_mb = num(v);
		else if (!strcmp(a, "--step")) o.step_mb = num(v);
		else if (!strcmp(a, "--step-at")) o.step_at = num(v);
		else if (!strcmp(a, "--peak")) o.peak_mb = num(v);
		else if (!strcmp(a, "--floor")) o.floor_mb = num(v);
		else if (!strcmp(a, "--peak-rise")) o.peak_rise_mb = num(v);
		else if (!strcmp(a, "--max")) o.max_mb = num(v);
		else if (!strcmp(a, "--on")) o.on = num(v);
		else if (!strcmp(a, "--off")) o.off = num(v);
		else if (!strcmp(a, "--period")) o.period = num(v);
		else if (!strcmp(a, "--idle")) o.idle = num(v);
		else if (!strcmp(a, "--timeout")) o.timeout = num(v);
		else if (!strcmp(a, "--file")) o.file = v;
		else if (!strcmp(a, "--shm")) o.shm = v;
		else usage();
		i++;
	}
	saw = !strcmp(o.shape, "sawtooth") || !strcmp(o.shape, "rising-sawtooth");
	known = saw || !strcmp(o.shape, "steady") || !strcmp(o.shape, "accel") ||
		!strcmp(o.shape, "step") || !strcmp(o.shape, "burst") || !strcmp(o.shape, "cache") ||
		!strcmp(o.shape, "spells") || !strcmp(o.shape, "stairs");
	if (!known || (!strcmp(o.shape, "cache") && !o.file) || (saw && o.peak_mb <= o.floor_mb) ||
	    (!strcmp(o.shape, "spells") && !(o.on > 0)) ||
	    (!strcmp(o.shape, "stairs") && !(o.period > 0)))
		usage();
	if (o.shm && (shm_fd = open(o.shm, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0) {
		fprintf(stderr, "leak: open --shm %s: %s\n", o.shm, strerror(errno));
		exit(1);
	}
	t0 = now_s();
	fprintf(stderr, "leak: pid %d shape %s rate %.1f MB/s\n", getpid(), o.shape, o.rate_mb);
	while (now_s() - t0 < o.idle)
		usleep(10000);
	t0 = now_s();
	for (;;) {
		double t = now_s() - t0;

		if (t > o.timeout) {
			fprintf(stderr, "leak: time bound reached, exiting\n");
			return 0;
		}
		if (!strcmp(o.shape, "cache")) {
			read_cache(o.file);
			usleep(10000);
		} else if (!strcmp(o.shape, "burst") && o.rate_mb <= 0) {
			grow(CHUNK);    /* as fast as the page allocator lets us */
		} else {
			hold_mb(saw ? sawtooth_mb(&o, t) : target_mb(&o, t));
			usleep(10000);
		}
	}
}
