/* run.h: `oomcast run`, the daemon. */
#ifndef OOMCAST_RUN_H
#define OOMCAST_RUN_H
int run_main(int argc, char **argv);
/* Option values, shared with replay so that both say the same of the same option: the whole
 * of s a finite number (0 or -EINVAL; *out untouched on error) ... */
int parse_number(const char *s, double *out);
/* ... and above 0, as --horizon, --interval and --duration must be. */
int parse_seconds(const char *s, double *out);
#endif
