/* signals.h: --signal: name a signal, and send it to the tasks of the one cgroup a forecast
 * is about, checking before each delivery that the task is still in that cgroup. */
#ifndef OOMCAST_SIGNALS_H
#define OOMCAST_SIGNALS_H
#include <stddef.h>
#include <sys/types.h>
#include "engine.h"

enum sig_target { SIG_TO_TOP = 0, SIG_TO_ALL = 1 };

/* "SIGUSR1", "USR1", "usr1", "10", "SIGRTMIN+2", "RTMAX-1" -> the signal number.
 * -EINVAL for an unknown name, -EPERM for SIGKILL and SIGSTOP: oomcast warns, the kernel
 * kills, and a task stopped at its memory limit only makes the episode worse. */
int sig_parse(const char *name);
/* "SIGUSR1", "SIGRTMIN+2": into buf, which is returned. */
const char *sig_name(int signo, char *buf, size_t len);

/* Send signo to the tasks of ev->cgroup (a forecast): the top growing task (falling back to
 * the largest-RSS task) or every task listed in its cgroup.procs. Never PID 1, never
 * ourselves, never a task that is not in that cgroup at the moment of delivery. Logs one
 * line per signal on stderr. Returns how many tasks were signalled. */
int sig_deliver(int signo, enum sig_target to, const struct oc_event *ev);

/* The largest-RSS pid among pids (via /proc/PID/statm), 0 if none is readable. */
pid_t sig_largest_rss(const pid_t *pids, size_t n);

#endif
