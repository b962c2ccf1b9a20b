/* kube.h: Kubernetes names (namespace, pod, container) for the pod UIDs and container ids
 * that cgroup paths carry, read from the kubelet's log directory, without the API server.
 *
 * The kubelet names each container's log link <pod>_<namespace>_<container>-<id>.log in
 * <dir>/containers and each pod's directory <namespace>_<pod>_<uid> in <dir>/pods (the
 * CRI log layout, Kubernetes 1.14 and later). Kubernetes names cannot hold '_', so the
 * parts split unambiguously. A link is made just after its container starts, so a cgroup
 * may be watched before its names can be found: kube_lookup() reads the directories again
 * on a miss, at most every KUBE_RESCAN seconds. */
#ifndef OOMCAST_KUBE_H
#define OOMCAST_KUBE_H

#include "cgroup.h"

#define KUBE_RESCAN 2.0         /* seconds between reads of the directories on misses */
#define KUBE_GIVE_UP 60.0       /* seconds after its watch that a cgroup's names are looked
				   for: the kubelet makes a link as the container starts */

struct kube_entry;

struct kube_cache {
	char dir[CG_PATH_MAX];          /* the kubelet's log directory (/var/log) */
	struct kube_entry *e;
	int n, cap;
	double scanned;                 /* when the directories were last read (-inf: never) */
	int scans;                      /* how many times they were read */
};

void kube_init(struct kube_cache *k, const char *dir);
void kube_free(struct kube_cache *k);
/* Whether the directory has the kubelet's pods/ or containers/. */
int kube_present(const struct kube_cache *k);

/* Names for a cgroup's labels into *out; now is any monotonic clock in seconds. 2: all of
 * them (a container's, from its id; a pod's own cgroup's, from its UID); 1: a container's
 * pod's only (no link for its id, yet: ask again); 0: none (yet), also for a cgroup that
 * is no pod's or container's. */
int kube_lookup(struct kube_cache *k, const struct cg_labels *l, double now,
		struct cg_kube_names *out);

/* Parsing a directory entry's name, exposed for the tests: 1 and the parts if it is the
 * kubelet's, else 0. A container log link: pod, namespace, container and id; a pod
 * directory: namespace, pod and uid (container empty). */
int kube_parse_container_link(const char *name, struct cg_kube_names *out, char id[65]);
int kube_parse_pod_dir(const char *name, struct cg_kube_names *out, char uid[40]);

#endif
