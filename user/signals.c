/* signals.c: --signal: signal names, choosing the tasks of a forecast's cgroup, and a
 * delivery that cannot reach a task outside that cgroup (pidfd, then re-check membership). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/pidfd.h>
#include <sys/vfs.h>
#include "signals.h"

#define SIG_MAX_PIDS 8192

static const struct { const char *name; int signo; } sig_aliases[] = {
	{ "IOT", SIGABRT }, { "CLD", SIGCHLD }, { "IO", SIGIO }, { "POLL", SIGPOLL },
};

/* "RTMIN", "RTMIN+n", "RTMAX", "RTMAX-n" (after the SIG prefix); 0 if not one of those. */
static int parse_rt(const char *s)
{
	int base, sign, signo;
	char *end;
	long n = 0;

	if (!strncasecmp(s, "RTMIN", 5)) {
		base = SIGRTMIN;
		sign = '+';
	} else if (!strncasecmp(s, "RTMAX", 5)) {
		base = SIGRTMAX;
		sign = '-';
	} else {
		return 0;
	}
	s += 5;
	if (*s) {
		if (*s != sign || !isdigit((unsigned char)s[1]))
			return 0;
		n = strtol(s + 1, &end, 10);
		if (*end)
			return 0;
	}
	signo = sign == '+' ? base + (int)n : base - (int)n;
	return signo >= SIGRTMIN && signo <= SIGRTMAX ? signo : 0;
}

static int parse_name(const char *s)
{
	size_t i;
	int signo;

	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (signo = 1; signo < NSIG; signo++) {
		const char *abbrev = sigabbrev_np(signo);

		if (abbrev && !strcasecmp(abbrev, s))
			return signo;
	}
	for (i = 0; i < sizeof(sig_aliases) / sizeof(sig_aliases[0]); i++)
		if (!strcasecmp(sig_aliases[i].name, s))
			return sig_aliases[i].signo;
	return parse_rt(s);
}

int sig_parse(const char *name)
{
	int signo = 0;
	char *end;
	long n;

	if (!name || !*name)
		return -EINVAL;
	if (isdigit((unsigned char)*name)) {
		errno = 0;
		n = strtol(name, &end, 10);
		if (errno || *end || n < 1 || n >= NSIG)
			return -EINVAL;
		signo = (int)n;
		/* 32 and 33 are glibc's own (thread cancellation, setxid): never a user's */
		if (!sigabbrev_np(signo) && (signo < SIGRTMIN || signo > SIGRTMAX))
			return -EINVAL;
	} else {
		signo = parse_name(name);
		if (!signo)
			return -EINVAL;
	}
	if (signo == SIGKILL || signo == SIGSTOP)
		return -EPERM;
	return signo;
}

const char *sig_name(int signo, char *buf, size_t len)
{
	const char *abbrev = signo > 0 && signo < NSIG ? sigabbrev_np(signo) : NULL;

	if (abbrev)
		snprintf(buf, len, "SIG%s", abbrev);
	else if (signo >= SIGRTMIN && signo <= SIGRTMAX)
		snprintf(buf, len, signo == SIGRTMIN ? "SIGRTMIN" : "SIGRTMIN+%d", signo - SIGRTMIN);
	else
		snprintf(buf, len, "signal %d", signo);
	return buf;
}

static int pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static int has_pid(const pid_t *sorted, int n, pid_t pid)
{
	return n > 0 && bsearch(&pid, sorted, n, sizeof(pid), pid_cmp) != NULL;
}

/* cgroup.procs of the directory, sorted: through the cgroup backend, which only needs to
 * know the version, and that a statfs tells. */
static int read_procs(const char *path, pid_t *pids, size_t max)
{
	struct cg_info cg;
	struct statfs sfs;
	int n;

	memset(&cg, 0, sizeof(cg));
	snprintf(cg.path, sizeof(cg.path), "%s", path);
	cg.version = statfs(path, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC ? CG_V2 : CG_V1;
	n = cg_pids(&cg, pids, max);
	if (n > 0)
		qsort(pids, n, sizeof(pids[0]), pid_cmp);
	return n;
}

static uint64_t rss_of(pid_t pid)
{
	char path[64];
	unsigned long size, resident;
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	ok = fscanf(f, "%lu %lu", &size, &resident) == 2;
	fclose(f);
	return ok ? (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

pid_t sig_largest_rss(const pid_t *pids, size_t n)
{
	uint64_t best = 0, rss;
	pid_t who = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		rss = rss_of(pids[i]);
		if (rss > best) {
			best = rss;
			who = pids[i];
		}
	}
	return who;
}

static void comm_of(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(buf, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

/* Never the host's init, never ourselves: whatever cgroup.procs says. */
static int allowed(pid_t pid)
{
	return pid > 1 && pid != getpid();
}

/* The candidates, among pids (sorted, as first read): the top grower or all of them. */
static int choose(enum sig_target to, const struct oc_event *ev, const pid_t *pids, int n,
		  pid_t *cand)
{
	int i, nc = 0;
	pid_t top;

	for (i = 0; i < n; i++)
		if (allowed(pids[i]))
			cand[nc++] = pids[i];
	if (to == SIG_TO_ALL)
		return nc;
	top = ev->ntop > 0 ? (pid_t)ev->top[0].pid : 0;
	if (top && allowed(top) && has_pid(pids, n, top)) {
		cand[0] = top;
		return 1;
	}
	/* the grower is a thread id, gone, or the kernel side saw none: the biggest then */
	top = sig_largest_rss(cand, nc);
	if (!top)
		return 0;
	cand[0] = top;
	return 1;
}

static int send_one(int pidfd, pid_t pid, int signo)
{
	if (pidfd >= 0)
		return pidfd_send_signal(pidfd, signo, NULL, 0);
	return kill(pid, signo);
}

int sig_deliver(int signo, enum sig_target to, const struct oc_event *ev)
{
	pid_t *pids = NULL, *cand = NULL;
	int *fds = NULL;
	int n, nc = 0, i, sent = 0;
	char name[32], comm[32];

	if (!ev->cgroup || signo <= 0)
		return 0;
	pids = calloc(SIG_MAX_PIDS, sizeof(*pids));
	cand = calloc(SIG_MAX_PIDS, sizeof(*cand));
	fds = calloc(SIG_MAX_PIDS, sizeof(*fds));
	if (!pids || !cand || !fds)
		goto cleanup;
	sig_name(signo, name, sizeof(name));
	n = read_procs(ev->cgroup, pids, SIG_MAX_PIDS);
	if (n < 0) {
		fprintf(stderr, "oomcast: %s not sent: cannot list the tasks of %s: %s\n", name,
			ev->cgroup, strerror(-n));
		goto cleanup;
	}
	nc = choose(to, ev, pids, n, cand);
	/* a pidfd pins the very process: if the pid is recycled after this, the signal fails
	 * with ESRCH instead of reaching a stranger */
	for (i = 0; i < nc; i++) {
		fds[i] = pidfd_open(cand[i], 0);
		if (fds[i] < 0 && errno != ENOSYS)
			cand[i] = 0;    /* gone already */
	}
	n = read_procs(ev->cgroup, pids, SIG_MAX_PIDS);
	for (i = 0; i < nc; i++) {
		if (!cand[i] || !has_pid(pids, n, cand[i]))
			continue;       /* left the cgroup (or died) since it was chosen */
		comm_of(cand[i], comm, sizeof(comm));
		if (send_one(fds[i], cand[i], signo)) {
			fprintf(stderr, "oomcast: %s to pid %d (%s) in %s failed: %s\n", name,
				(int)cand[i], comm, ev->cgroup, strerror(errno));
			continue;
		}
		sent++;
		fprintf(stderr, "oomcast: sent %s to pid %d (%s) in %s: forecast full in %.1f s\n",
			name, (int)cand[i], comm, ev->cgroup, ev->eta_seconds);
	}
	if (!sent && !nc)
		fprintf(stderr, "oomcast: %s not sent: no task directly in %s to signal\n", name,
			ev->cgroup);
cleanup:
	for (i = 0; fds && i < nc; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	free(cand);
	free(pids);
	return sent;
}
