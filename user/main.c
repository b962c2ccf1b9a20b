/* main.c: the `oomcast` command: dispatch to `run` (the daemon) or `replay` (forensics). */
#include <stdio.h>
#include <string.h>
#include "replay.h"
#include "run.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: oomcast COMMAND [OPTION...]\n"
		"Forecast, per memory cgroup, when it will run out of memory, and act before the\n"
		"kernel OOM-kills a task in it or its tasks hang at the limit.\n\n"
		"Commands:\n"
		"  run       the daemon: watch cgroups, forecast, alert (needs root)\n"
		"  replay    run the same forecaster over a record made with `run --record`\n"
		"  version   print the version\n\n"
		"`oomcast COMMAND --help` explains each command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	/* argp names the program after argv[0]: make its messages say "oomcast run". */
	if (!strcmp(argv[1], "run")) {
		argv[1] = "oomcast run";
		return run_main(argc - 1, argv + 1);
	}
	if (!strcmp(argv[1], "replay")) {
		argv[1] = "oomcast replay";
		return replay_main(argc - 1, argv + 1);
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("oomcast %s\n", OOMCAST_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "oomcast: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
