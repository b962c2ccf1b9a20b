/* kube.c: Kubernetes names from the kubelet's log directory (see kube.h). */
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kube.h"

struct kube_entry {
	char key[72];                   /* a container's 64-hex id, or a pod's UID */
	struct cg_kube_names names;
};

void kube_init(struct kube_cache *k, const char *dir)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->dir, sizeof(k->dir), "%s", dir ? dir : "");
	k->scanned = -INFINITY;
}

void kube_free(struct kube_cache *k)
{
	free(k->e);
	k->e = NULL;
	k->n = k->cap = 0;
}

int kube_present(const struct kube_cache *k)
{
	char path[CG_PATH_MAX + 16];
	struct stat st;

	snprintf(path, sizeof(path), "%s/pods", k->dir);
	if (k->dir[0] && !stat(path, &st) && S_ISDIR(st.st_mode))
		return 1;
	snprintf(path, sizeof(path), "%s/containers", k->dir);
	return k->dir[0] && !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* Copy [s, s + n) into dst of size sz: 0 if empty or too long. */
static int part(char *dst, size_t sz, const char *s, size_t n)
{
	if (n == 0 || n >= sz)
		return 0;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 1;
}

/* name = a_b_c with no '_' in a, b or c: the three parts' lengths, 1 if so. */
static int split3(const char *name, size_t len, size_t n[3])
{
	const char *u1 = memchr(name, '_', len), *u2;

	if (!u1)
		return 0;
	u2 = memchr(u1 + 1, '_', len - (size_t)(u1 + 1 - name));
	if (!u2 || memchr(u2 + 1, '_', len - (size_t)(u2 + 1 - name)))
		return 0;
	n[0] = (size_t)(u1 - name);
	n[1] = (size_t)(u2 - u1 - 1);
	n[2] = len - (size_t)(u2 + 1 - name);
	return n[0] && n[1] && n[2];
}

int kube_parse_container_link(const char *name, struct cg_kube_names *out, char id[65])
{
	size_t len = strlen(name), n[3], cl;
	const char *tail;

	memset(out, 0, sizeof(*out));
	/* <pod>_<namespace>_<container>-<64 hex>.log */
	if (len < 4 + 65 || strcmp(name + len - 4, ".log"))
		return 0;
	len -= 4;
	tail = name + len - 65;
	if (*tail != '-' || !cg_is_hex64(tail + 1, 64))
		return 0;
	if (!split3(name, len, n) || n[2] <= 65)
		return 0;
	cl = n[2] - 65;
	if (!part(out->pod, sizeof(out->pod), name, n[0]) ||
	    !part(out->ns, sizeof(out->ns), name + n[0] + 1, n[1]) ||
	    !part(out->container, sizeof(out->container), name + n[0] + n[1] + 2, cl)) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	memcpy(id, tail + 1, 64);
	id[64] = '\0';
	return 1;
}

int kube_parse_pod_dir(const char *name, struct cg_kube_names *out, char uid[40])
{
	size_t len = strlen(name), n[3];
	const char *u;

	memset(out, 0, sizeof(*out));
	/* <namespace>_<pod>_<uid> */
	if (!split3(name, len, n) || n[2] >= 40)
		return 0;
	u = name + n[0] + n[1] + 2;
	for (size_t i = 0; i < n[2]; i++)
		if (!isxdigit((unsigned char)u[i]) && u[i] != '-')
			return 0;
	if (!part(out->ns, sizeof(out->ns), name, n[0]) ||
	    !part(out->pod, sizeof(out->pod), name + n[0] + 1, n[1])) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	memcpy(uid, u, n[2]);
	uid[n[2]] = '\0';
	return 1;
}

static void add(struct kube_cache *k, const char *key, const struct cg_kube_names *names)
{
	if (k->n == k->cap) {
		int cap = k->cap ? 2 * k->cap : 64;
		struct kube_entry *e = realloc(k->e, (size_t)cap * sizeof(*e));

		if (!e)
			return;         /* names are a courtesy: the alert goes out without them */
		k->e = e;
		k->cap = cap;
	}
	snprintf(k->e[k->n].key, sizeof(k->e[k->n].key), "%s", key);
	k->e[k->n].names = *names;
	k->n++;
}

/* A container link's target, <pods dir>/<namespace>_<pod>_<uid>/<container>/N.log, names
 * its pod with its UID: the pod's own cgroup is named by it where the pods directory is not
 * at DIR/pods (the kubelet's podLogsDir moves it; the links stay in /var/log/containers). */
static void add_target_pod(struct kube_cache *k, const char *dir, const char *name)
{
	char link[CG_PATH_MAX + 300], target[CG_PATH_MAX];
	struct cg_kube_names nm;
	char uid[40], *end, *start;
	ssize_t n;

	snprintf(link, sizeof(link), "%s/%s", dir, name);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0 || n >= (ssize_t)sizeof(target) - 1)
		return;         /* none, or cut: its components would be the wrong ones */
	target[n] = '\0';
	/* the component two above the file */
	if (!(end = strrchr(target, '/')))
		return;
	*end = '\0';
	if (!(end = strrchr(target, '/')))
		return;
	*end = '\0';
	start = strrchr(target, '/');
	if (kube_parse_pod_dir(start ? start + 1 : target, &nm, uid))
		add(k, uid, &nm);       /* a pod's each link, and pods/: the same names again */
}

/* Read <dir>/containers and <dir>/pods anew. */
static void scan(struct kube_cache *k)
{
	static const char *const sub[] = { "containers", "pods" };
	char path[CG_PATH_MAX + 16];

	k->n = 0;
	k->scans++;
	for (int i = 0; i < 2; i++) {
		struct dirent *de;
		DIR *d;

		snprintf(path, sizeof(path), "%s/%s", k->dir, sub[i]);
		d = opendir(path);
		if (!d)
			continue;
		while ((de = readdir(d))) {
			struct cg_kube_names nm;
			char key[72];
			int ok = i == 0 ? kube_parse_container_link(de->d_name, &nm, key) :
					  kube_parse_pod_dir(de->d_name, &nm, key);

			if (ok)
				add(k, key, &nm);
			if (ok && i == 0)
				add_target_pod(k, path, de->d_name);
		}
		closedir(d);
	}
}

static int find(const struct kube_cache *k, const char *key, struct cg_kube_names *out)
{
	for (int i = 0; i < k->n; i++)
		if (!strcmp(k->e[i].key, key)) {
			*out = k->e[i].names;
			return 1;
		}
	return 0;
}

/* From what was read last: 2 if complete, 1 if only the pod's names for a container. */
static int lookup_once(const struct kube_cache *k, const struct cg_labels *l,
		       struct cg_kube_names *out)
{
	if (l->container_id[0] && find(k, l->container_id, out))
		return 2;
	if (find(k, l->pod_uid, out))
		return l->container_id[0] ? 1 : 2;
	return 0;
}

int kube_lookup(struct kube_cache *k, const struct cg_labels *l, double now,
		struct cg_kube_names *out)
{
	int r;

	/* only what a kubelet made: a pod, or a container of one */
	if (!k->dir[0] || !l->pod_uid[0])
		return 0;
	r = lookup_once(k, l, out);
	if (r == 2 || now - k->scanned < KUBE_RESCAN)
		return r;
	k->scanned = now;
	scan(k);
	return lookup_once(k, l, out);
}
