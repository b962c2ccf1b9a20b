/* faulter.c: a fault-heavy workload for the overhead bench: map an anonymous region, touch
 * every page (one page allocation each), unmap, repeat. Prints one JSON line with the pages
 * faulted and the time it took, so the same run measures the workload with and without the
 * daemon. Static, like the other workloads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long num(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0) {
		fprintf(stderr, "faulter: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	long mib = 64, rounds = 16, page = sysconf(_SC_PAGESIZE), pages = 0;
	double t0, dt;
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--mib"))
			mib = num(argv[i + 1]);
		else if (!strcmp(argv[i], "--rounds"))
			rounds = num(argv[i + 1]);
		else
			break;
	}
	if (i != argc) {
		fprintf(stderr, "usage: faulter [--mib MiB per round (64)] [--rounds N (16)]\n");
		return 2;
	}
	t0 = now_s();
	for (long r = 0; r < rounds; r++) {
		size_t len = (size_t)mib << 20;
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			perror("faulter: mmap");
			return 1;
		}
		for (size_t off = 0; off < len; off += page)
			p[off] = 1;
		pages += len / page;
		munmap(p, len);
	}
	dt = now_s() - t0;
	printf("{\"pages\":%ld,\"seconds\":%.6f,\"ns_per_page\":%.1f}\n", pages, dt, dt * 1e9 / pages);
	return 0;
}
