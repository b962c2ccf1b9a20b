/* run.h: `oomcast run`, the daemon. */
#ifndef OOMCAST_RUN_H
#define OOMCAST_RUN_H
int run_main(int argc, char **argv);
#endif
