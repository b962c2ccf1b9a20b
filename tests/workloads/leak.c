/* leak.c: a test workload that allocates and touches memory at a set rate until it is
 * killed or its time bound runs out. Shapes: steady, accelerating, step, sawtooth, burst,
 * page cache. Static, so it also runs inside the VM's initramfs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct opts {
	const char *shape;      /* steady | accel | step | sawtooth | rising-sawtooth | burst | cache */
	double rate_mb;         /* MB/s (steady), initial rate (accel) */
	double accel_mb;        /* MB/s added per second (accel) */
	double step_mb;         /* one-off allocation (step) at step_at seconds */
	double step_at;
	double peak_mb;         /* sawtooth: grow to this, then free back to floor_mb */
	double floor_mb;
	double peak_rise_mb;    /* rising-sawtooth: each peak this much higher */
	double timeout;         /* hard time bound, seconds */
	const char *file;       /* cache: file to read repeatedly */
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
		"            [--peak MB --floor MB [--peak-rise MB]] [--file F] [--timeout S]\n"
		"shapes: steady (default), accel, step, sawtooth, rising-sawtooth, burst, cache\n");
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

static void grow(size_t bytes)
{
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

int main(int argc, char **argv)
{
	struct opts o = { .shape = "steady", .rate_mb = 10, .timeout = 300, .floor_mb = 0 };
	double t0, t, done_mb = 0, peak;
	int i;

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
		else if (!strcmp(a, "--timeout")) o.timeout = num(v);
		else if (!strcmp(a, "--file")) o.file = v;
		else usage();
		i++;
	}
	t0 = now_s();
	peak = o.peak_mb;
	fprintf(stderr, "leak: pid %d shape %s rate %.1f MB/s\n", getpid(), o.shape, o.rate_mb);
	for (;;) {
		t = now_s() - t0;
		if (t > o.timeout) {
			fprintf(stderr, "leak: time bound reached, exiting\n");
			return 0;
		}
		if (!strcmp(o.shape, "cache")) {
			if (!o.file)
				usage();
			read_cache(o.file);
			usleep(10000);
			continue;
		}
		double rate = o.rate_mb;

		if (!strcmp(o.shape, "accel"))
			rate += o.accel_mb * t;
		double want = !strcmp(o.shape, "burst") ? 1e9 : done_mb + rate * 0.01;

		if (!strcmp(o.shape, "step") && o.step_mb > 0 && t >= o.step_at) {
			grow((size_t)(o.step_mb * 1e6));
			o.step_mb = 0;
		}
		if (!strcmp(o.shape, "burst")) {
			grow(CHUNK);
			continue;
		}
		/* steady pacing: allocate what the rate says is due since start */
		want = o.rate_mb * t + (!strcmp(o.shape, "accel") ? o.accel_mb * t * t / 2 : 0);
		if (!strncmp(o.shape, "sawtooth", 8) || !strcmp(o.shape, "rising-sawtooth")) {
			size_t cur = nchunks * CHUNK;

			if (cur >= peak * 1e6) {
				shrink_to((size_t)(o.floor_mb * 1e6));
				peak += o.peak_rise_mb;
				o.floor_mb += o.peak_rise_mb / 2;
			}
			grow((size_t)(rate * 0.01 * 1e6) + CHUNK / 2);
			usleep(10000);
			continue;
		}
		if (want > done_mb) {
			size_t before = nchunks;

			grow((size_t)((want - done_mb) * 1e6) + (CHUNK - 1));
			done_mb += (nchunks - before) * (CHUNK / 1e6);
		}
		usleep(10000);
	}
}
