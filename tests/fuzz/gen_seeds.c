/* gen_seeds.c: writes the fuzz corpus seeds (tests/fuzz/corpus/) with the real writer: a
 * record of every observation kind, a leak that ends in a kill, and a header-only record.
 * Run by tests/fuzz/run.sh --seed. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "record.h"

static struct obs o;

static void put(struct rec_writer *w, int kind, double t, uint64_t cg)
{
	o.kind = kind;
	o.t = t;
	o.cg = cg;
	if (rec_write(w, &o) < 0)
		fprintf(stderr, "gen_seeds: write failed\n");
	memset(&o, 0, sizeof(o));
}

static struct rec_writer *open_seed(const char *dir, const char *name)
{
	struct rec_header h = { .start_time = 1764081234.5, .cgroup_version = 1 };
	struct rec_writer *w;
	char path[512], err[256];

	strcpy(h.oomcast_version, "seed");
	strcpy(h.kernel, "6.18.0");
	strcpy(h.host, "fuzz");
	strcpy(h.options, "oomcast run --horizon 20");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);   /* rewritten: not kept as path.1, as a daemon's restart would */
	if (rec_open_write(&w, path, &h, 0, 1, err, sizeof(err))) {
		fprintf(stderr, "gen_seeds: %s\n", err);
		return NULL;
	}
	return w;
}

static void every_kind(struct rec_writer *w)
{
	double t = 1764081235.25;

	o.add.version = 1;
	strcpy(o.add.path, "/sys/fs/cgroup/memory/seed");
	put(w, OBS_CGROUP_ADD, t, 7);
	put(w, OBS_READY, t, 0);
	for (int i = 0; i < 4; i++) {
		o.sample = (struct obs_sample){ 1000000u * i, 50000000, 4096u * i, 900000u * i,
			UINT64_MAX, i * 0.5, (uint8_t)(i % 3), 100u * i, 4096u * i, i * 0.25, i * 0.125,
			2000000u * i, 30000000u - 1000000u * i };
		put(w, OBS_SAMPLE, t + i, 7);
	}
	o.task = (struct obs_task){ 42, -17, "leaky", 1e6, -5, 123456 };
	put(w, OBS_TASK, t + 4, 7);
	o.task = (struct obs_task){ 42, 300, "leaky", 0, 0, 0 };
	put(w, OBS_SCORE_ADJ, t + 4, 7);
	o.reclaim.count = 3, o.reclaim.usage = 49000000;
	put(w, OBS_RECLAIM, t + 4.5, 7);
	o.oom = (struct obs_oom_state){ 1, 0, 1, 2, 3, 4, 55.5 };
	put(w, OBS_OOM_STATE, t + 4.6, 7);
	o.victim = (struct obs_victim){ 42, 300, "leaky", 8, 48000000, 50000000 };
	put(w, OBS_VICTIM, t + 5, 7);
	put(w, OBS_CGROUP_DEL, t + 6, 7);
	put(w, OBS_END, t + 7, 0);
}

static void leak(struct rec_writer *w)
{
	double t = 1764081300.0;
	int i;

	o.add.version = 2;
	strcpy(o.add.path, "/sys/fs/cgroup/leak");
	put(w, OBS_CGROUP_ADD, t, 99);
	put(w, OBS_READY, t, 0);
	for (i = 0; i < 30; i++) {
		o.sample = (struct obs_sample){ 8000000u * i, 200000000, 0, 8000000u * i, UINT64_MAX,
			8e6, SRC_POLL, 0, 0, 0, 0, 0, 0 };
		put(w, OBS_SAMPLE, t + i, 99);
		if (i % 5 == 0) {
			o.task = (struct obs_task){ 1234, 0, "leak", 8e6, 8000000ll * i, 0 };
			put(w, OBS_TASK, t + i, 99);
		}
	}
	o.victim = (struct obs_victim){ 1234, 0, "leak", 99, 199000000, 200000000 };
	put(w, OBS_VICTIM, t + 25.5, 99);
	put(w, OBS_END, t + 31, 0);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "tests/fuzz/corpus";
	struct rec_writer *w;

	if ((w = open_seed(dir, "every-kind.rec")))
		every_kind(w), rec_close_write(w);
	if ((w = open_seed(dir, "leak-kill.rec")))
		leak(w), rec_close_write(w);
	if ((w = open_seed(dir, "header-only.rec")))
		rec_close_write(w);
	return 0;
}
