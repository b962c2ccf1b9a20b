// SPDX-License-Identifier: GPL-2.0
/* empty.bpf.c: the yardstick for `make bench-overhead`: an empty program on the same hook as
 * oomcast's hot path. Attached in the same run as the daemon, its ns per run is what any
 * program costs on this machine before doing anything (mostly bpf_stats' own clock reads),
 * and its run count is the number of page allocations in the window. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/mm_page_alloc")
int BPF_PROG(empty_page_alloc)
{
	return 0;
}
