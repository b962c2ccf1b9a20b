/* test_cgroup.c: unit tests of the memory-cgroup backend: its parsers on real v1 and
 * documented v2 file contents and on garbage, path labels, a fake v2 tree, and a real v1
 * cgroup it creates (and removes) under /sys/fs/cgroup/memory. */
#include "cgroup.h"
#include "kube.h"
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1024ULL * 1024)
#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* memory.stat of a v1 cgroup on this host (6.18) with a 64 MiB limit, after a shell wrote
 * 3 MiB to /dev/shm and 5 MB to a disk file in it. */
static const char v1_stat_real[] =
	"cache 10346496\nrss 118784\nrss_huge 0\nshmem 3145728\nmapped_file 0\ndirty 5009408\n"
	"writeback 0\nworkingset_refault_anon 0\nworkingset_refault_file 515\nswap 0\n"
	"swapcached 0\npgpgin 9796\npgpgout 7228\npgfault 12068\npgmajfault 7\n"
	"inactive_anon 3256320\nactive_anon 4096\ninactive_file 6856704\nactive_file 344064\n"
	"unevictable 0\nhierarchical_memory_limit 67108864\n"
	"hierarchical_memsw_limit 9223372036854771712\ntotal_cache 10346496\n"
	"total_rss 118784\ntotal_rss_huge 0\ntotal_shmem 3145728\ntotal_mapped_file 0\n"
	"total_dirty 5009408\ntotal_writeback 0\ntotal_workingset_refault_anon 0\n"
	"total_workingset_refault_file 515\ntotal_swap 0\ntotal_swapcached 0\n"
	"total_pgpgin 9796\ntotal_pgpgout 7228\ntotal_pgfault 12068\ntotal_pgmajfault 7\n"
	"total_inactive_anon 3256320\ntotal_active_anon 4096\ntotal_inactive_file 6856704\n"
	"total_active_file 344064\ntotal_unevictable 0\n";

/* The root of this host's v1 memory hierarchy: no limit, spelled PAGE_COUNTER_MAX. */
static const char v1_stat_root[] =
	"cache 10747904\nrss 3870720\nshmem 9084928\npgmajfault 0\n"
	"hierarchical_memory_limit 9223372036854771712\n"
	"hierarchical_memsw_limit 9223372036854771712\ntotal_cache 10747904\n"
	"total_rss 3870720\ntotal_shmem 9084928\ntotal_inactive_file 184320\n"
	"total_active_file 1478656\ntotal_pgmajfault 0\n";

/* memory.stat of a v2 cgroup, fields as Documentation/admin-guide/cgroup-v2.rst lists
 * them for 6.x (abridged to the common ones, in kernel order). */
static const char v2_stat_6x[] =
	"anon 1073741824\nfile 536870912\nkernel 16777216\nkernel_stack 327680\n"
	"pagetables 2097152\nsec_pagetables 0\npercpu 1200\nsock 0\nvmalloc 0\n"
	"shmem 4194304\nzswap 0\nzswapped 0\nfile_mapped 10485760\nfile_dirty 4096\n"
	"file_writeback 0\nswapcached 0\nanon_thp 0\nfile_thp 0\nshmem_thp 0\n"
	"inactive_anon 1073741824\nactive_anon 4194304\ninactive_file 268435456\n"
	"active_file 264241152\nunevictable 0\nslab_reclaimable 8388608\n"
	"slab_unreclaimable 4194304\nslab 12582912\nworkingset_refault_anon 3\n"
	"workingset_refault_file 1234\nworkingset_activate_anon 0\n"
	"workingset_activate_file 100\nworkingset_restore_anon 0\nworkingset_restore_file 10\n"
	"workingset_nodereclaim 0\npgscan 500\npgsteal 400\npgscan_kswapd 0\n"
	"pgscan_direct 500\npgsteal_kswapd 0\npgsteal_direct 400\npgfault 300000\n"
	"pgmajfault 42\npgrefill 0\npgactivate 20\npgdeactivate 0\npglazyfree 0\n"
	"pglazyfreed 0\nthp_fault_alloc 0\nthp_collapse_alloc 0\n";

/* A real one: Debian's 6.1 kernel (tests/vm), a cgroup with memory.high 40 MiB under a
 * 100 MiB memory.max, holding a 4 MiB tmpfs file and a 60 MiB malloc being throttled. */
static const char v2_stat_61_real[] =
	"anon 43298816\nfile 4194304\nkernel 155648\nkernel_stack 0\npagetables 114688\n"
	"sec_pagetables 0\npercpu 0\nsock 0\nvmalloc 0\nshmem 4194304\nfile_mapped 0\n"
	"file_dirty 0\nfile_writeback 0\nswapcached 0\nanon_thp 0\nfile_thp 0\nshmem_thp 0\n"
	"inactive_anon 47489024\nactive_anon 4096\ninactive_file 0\nactive_file 0\n"
	"unevictable 0\nslab_reclaimable 8488\nslab_unreclaimable 9712\nslab 18200\n"
	"workingset_refault_anon 0\nworkingset_refault_file 0\nworkingset_activate_anon 0\n"
	"workingset_activate_file 0\nworkingset_restore_anon 0\nworkingset_restore_file 0\n"
	"workingset_nodereclaim 0\npgscan 0\npgsteal 0\npgscan_kswapd 0\npgscan_direct 0\n"
	"pgsteal_kswapd 0\npgsteal_direct 0\npgfault 10881\npgmajfault 0\npgrefill 0\n"
	"pgactivate 0\npgdeactivate 0\npglazyfree 0\npglazyfreed 0\nthp_fault_alloc 0\n"
	"thp_collapse_alloc 0\n";
static const char v2_events_61_real[] =
	"low 0\nhigh 376\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n";
static const char v2_pressure_61_real[] =
	"some avg10=68.73 avg60=17.69 avg300=3.94 total=11833168\n"
	"full avg10=68.73 avg60=17.69 avg300=3.94 total=11833168\n";

/* A 5.4 kernel's v2 memory.stat: one workingset_refault, no anon/file split. */
static const char v2_stat_54[] =
	"anon 8192000\nfile 4096000\nkernel_stack 16384\nslab 200000\nsock 0\nshmem 0\n"
	"file_mapped 0\nfile_dirty 0\nfile_writeback 0\nanon_thp 0\ninactive_anon 0\n"
	"active_anon 8192000\ninactive_file 2048000\nactive_file 2048000\nunevictable 0\n"
	"slab_reclaimable 100000\nslab_unreclaimable 100000\npgfault 2000\npgmajfault 5\n"
	"workingset_refault 77\nworkingset_activate 7\nworkingset_nodereclaim 0\n";

static const char v2_events[] = "low 0\nhigh 12\nmax 34\noom 2\noom_kill 1\noom_group_kill 0\n";
static const char v2_pressure[] =
	"some avg10=1.53 avg60=0.87 avg300=0.20 total=123456\n"
	"full avg10=0.50 avg60=0.10 avg300=0.02 total=45678\n";

static void test_parse_u64_or_max(void)
{
	uint64_t v = 7;

	ASSERT_EQ(cg_parse_u64_or_max("67108864\n", &v), 0, "plain");
	ASSERT_EQ(v, 67108864, "plain value");
	ASSERT_EQ(cg_parse_u64_or_max("max\n", &v), 0, "max");
	ASSERT_TRUE(v == CG_NO_LIMIT, "max is CG_NO_LIMIT");
	ASSERT_EQ(cg_parse_u64_or_max("0", &v), 0, "zero, no newline");
	ASSERT_EQ(v, 0, "zero value");
	ASSERT_EQ(cg_parse_u64_or_max("18446744073709551615\n", &v), 0, "UINT64_MAX");
	ASSERT_TRUE(v == UINT64_MAX, "UINT64_MAX value");
	ASSERT_EQ(cg_parse_u64_or_max("9223372036854771712\n", &v), 0, "v1 no limit, raw");
	ASSERT_TRUE(v == 9223372036854771712ULL, "the parser itself does not clamp");

	static const char *const bad[] = {
		"", "\n", "18446744073709551616", "99999999999999999999999", "-1", "+1", " 12",
		"12a", "0x10", "1 2", "maxx", "ma", "1.5", "12\n34",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 7;
		ASSERT_EQ(cg_parse_u64_or_max(bad[i], &v), -EINVAL, bad[i]);
		ASSERT_EQ(v, 7, "untouched on error");
	}
	ASSERT_EQ(cg_parse_u64_or_max(NULL, &v), -EINVAL, "NULL");
}

static void test_stat_v1_real(void)
{
	struct cg_stat st = { 0 };

	ASSERT_EQ(cg_parse_stat_v1(v1_stat_real, &st), 0, "parse");
	ASSERT_EQ(st.anon, 118784 + 3145728, "anon = total_rss + total_shmem");
	ASSERT_EQ(st.file, 10346496 - 3145728, "file = total_cache - total_shmem");
	ASSERT_EQ(st.active_file, 344064, "active_file");
	ASSERT_EQ(st.inactive_file, 6856704, "inactive_file");
	ASSERT_EQ(st.reclaimable, 344064 + 6856704, "reclaimable");
	ASSERT_EQ(st.workingset_refault, 515, "total_workingset_refault_file");
	ASSERT_EQ(st.pgmajfault, 7, "total_pgmajfault");
	ASSERT_EQ(st.limit, 64 * MIB, "hierarchical_memory_limit");
}

static void test_stat_v1_no_limit(void)
{
	struct cg_stat st = { 0 };

	ASSERT_EQ(cg_parse_stat_v1(v1_stat_root, &st), 0, "root");
	ASSERT_TRUE(st.limit == CG_NO_LIMIT, "PAGE_COUNTER_MAX is no limit");
	ASSERT_EQ(st.anon, 3870720 + 9084928, "root anon");
	ASSERT_EQ(st.workingset_refault, 0, "no refault field: 0");

	/* 2^62 is already "no limit"; just below it is a limit, however odd. */
	ASSERT_EQ(cg_parse_stat_v1("hierarchical_memory_limit 4611686018427387904\n", &st), 0, "2^62");
	ASSERT_TRUE(st.limit == CG_NO_LIMIT, "2^62 is no limit");
	ASSERT_EQ(cg_parse_stat_v1("hierarchical_memory_limit 4611686018427387903\n", &st), 0, "<2^62");
	ASSERT_TRUE(st.limit == 4611686018427387903ULL, "just under 2^62 is a limit");

	/* Without hierarchical_memory_limit the parser leaves limit to the caller. */
	st.limit = 42;
	ASSERT_EQ(cg_parse_stat_v1("total_rss 4096\ntotal_workingset_refault 9\n", &st), 0, "old");
	ASSERT_EQ(st.limit, 42, "limit untouched when absent");
	ASSERT_EQ(st.workingset_refault, 9, "pre-5.9 total_workingset_refault");
	ASSERT_EQ(st.anon, 4096, "anon");
	ASSERT_EQ(st.file, 0, "absent fields are 0");
}

static void test_stat_v2(void)
{
	struct cg_stat st = { 0 };

	ASSERT_EQ(cg_parse_stat_v2(v2_stat_6x, &st), 0, "6.x");
	ASSERT_EQ(st.anon, 1073741824 + 4194304, "anon + shmem");
	ASSERT_EQ(st.file, 536870912 - 4194304, "file - shmem");
	ASSERT_EQ(st.active_file, 264241152, "active_file");
	ASSERT_EQ(st.inactive_file, 268435456, "inactive_file");
	ASSERT_EQ(st.reclaimable, 264241152 + 268435456 + 8388608, "files + slab_reclaimable");
	ASSERT_EQ(st.workingset_refault, 1234, "workingset_refault_file, not _anon");
	ASSERT_EQ(st.pgmajfault, 42, "pgmajfault");
	ASSERT_EQ(st.have_kernel, 1, "kernel seen");
	ASSERT_EQ(st.kernel, 16777216, "kernel + sock (0)");

	ASSERT_EQ(cg_parse_stat_v2(v2_stat_61_real, &st), 0, "6.1, real");
	ASSERT_EQ(st.kernel, 155648, "real kernel");
	ASSERT_EQ(st.anon, 43298816 + 4194304, "real anon + shmem");
	ASSERT_EQ(st.file, 0, "the only file pages are the tmpfs file's");
	ASSERT_EQ(st.reclaimable, 8488, "real reclaimable: slab only");

	ASSERT_EQ(cg_parse_stat_v2(v2_stat_54, &st), 0, "5.4");
	ASSERT_EQ(st.workingset_refault, 77, "single workingset_refault");
	ASSERT_EQ(st.anon, 8192000, "5.4 anon");
	ASSERT_EQ(st.reclaimable, 2048000 + 2048000 + 100000, "5.4 reclaimable");
	ASSERT_EQ(st.pgmajfault, 5, "5.4 pgmajfault");
	ASSERT_EQ(st.have_kernel, 0, "5.4 has no kernel total");
	ASSERT_EQ(cg_parse_stat_v2("anon 4096\nkernel 8192\nsock 4096\n", &st), 0, "sock");
	ASSERT_EQ(st.kernel, 12288, "socket buffers are charged beside kernel");
	ASSERT_EQ(cg_parse_stat_v2("kernel 8192\nhugetlb 2097152\n", &st), 0, "hugetlb");
	ASSERT_EQ(st.kernel, 8192 + 2097152, "accounted hugetlb too");
}

/* Usage less every page the kernel accounts for, within [0, cap]; nothing where the
 * kernel memory is unknown (it would all look like stock). */
static void test_charge_stock(void)
{
	struct cg_stat st = { .usage = 40960 * 1024ULL, .anon = 40000 * 1024ULL,
			      .file = 512 * 1024, .kernel = 132 * 1024, .have_kernel = 1 };

	ASSERT_EQ(cg_charge_stock(&st, 512 * 1024), 316 * 1024, "the 1 MB/s leak at its limit");
	ASSERT_EQ(cg_charge_stock(&st, 256 * 1024), 256 * 1024, "capped");
	st.kernel += 316 * 1024;
	ASSERT_EQ(cg_charge_stock(&st, 512 * 1024), 0, "all accounted for");
	st.kernel += 4096;
	ASSERT_EQ(cg_charge_stock(&st, 512 * 1024), 0, "growth between the reads: not negative");
	st.kernel = 0;
	st.have_kernel = 0;
	ASSERT_EQ(cg_charge_stock(&st, 512 * 1024), 0, "kernel memory unknown: no stock");
	st.have_kernel = 1;
	st.anon = st.file = 0;
	st.usage = UINT64_MAX;
	ASSERT_EQ(cg_charge_stock(&st, 512 * 1024), 512 * 1024, "absurd usage: the cap");
	ASSERT_EQ(cg_charge_stock(NULL, 512 * 1024), 0, "NULL");
	ASSERT_EQ(cg_stock_cap() % (64 * 4096), 0, "64 pages a CPU");
	ASSERT_TRUE(cg_stock_cap() >= 64 * 4096, "at least one CPU");
}

static void test_oom_control(void)
{
	struct cg_stat st = { 0 };

	ASSERT_EQ(cg_parse_oom_control("oom_kill_disable 0\nunder_oom 0\noom_kill 0\n", &st), 0,
		  "fresh");
	ASSERT_EQ(st.oom_kill_disable + st.under_oom, 0, "fresh flags");
	ASSERT_EQ(cg_parse_oom_control("oom_kill_disable 1\nunder_oom 1\noom_kill 3\n", &st), 0,
		  "hung");
	ASSERT_EQ(st.oom_kill_disable, 1, "oom_kill_disable");
	ASSERT_EQ(st.under_oom, 1, "under_oom");
	ASSERT_EQ(st.oom_kills, 3, "oom_kill");
	/* Kernels before 4.13 have no oom_kill line. */
	ASSERT_EQ(cg_parse_oom_control("oom_kill_disable 0\nunder_oom 1\n", &st), 0, "pre-4.13");
	ASSERT_EQ(st.oom_kills, 0, "no oom_kill line: 0");
	ASSERT_EQ(st.under_oom, 1, "pre-4.13 under_oom");
}

static void test_events(void)
{
	struct cg_stat st = { 0 };

	ASSERT_EQ(cg_parse_events(v2_events, &st), 0, "parse");
	ASSERT_EQ(st.oom_events, 2, "oom");
	ASSERT_EQ(st.oom_kills, 1, "oom_kill");
	ASSERT_EQ(st.high_events, 12, "high");
	ASSERT_EQ(st.max_events, 34, "max");
	ASSERT_EQ(cg_parse_events(v2_events_61_real, &st), 0, "6.1, real");
	ASSERT_EQ(st.high_events, 376, "real high");
	ASSERT_EQ(cg_parse_events("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n", &st), 0, "5.4");
	ASSERT_EQ(st.oom_kills + st.max_events, 0, "zeroes");
}

static void test_pressure(void)
{
	struct cg_stat st = { 0 };

	ASSERT_EQ(cg_parse_pressure(v2_pressure, &st), 0, "parse");
	ASSERT_NEAR(st.psi_some_avg10, 1.53, 1e-9, "some avg10");
	ASSERT_NEAR(st.psi_full_avg10, 0.50, 1e-9, "full avg10");
	ASSERT_EQ(cg_parse_pressure(v2_pressure_61_real, &st), 0, "6.1, real");
	ASSERT_NEAR(st.psi_some_avg10, 68.73, 1e-9, "real some avg10");
	ASSERT_NEAR(st.psi_full_avg10, 68.73, 1e-9, "real full avg10");
	ASSERT_EQ(cg_parse_pressure("some avg10=100.00 avg60=0.00 avg300=0.00 total=0\n", &st), 0,
		  "some only");
	ASSERT_NEAR(st.psi_some_avg10, 100.0, 1e-9, "100%");
	ASSERT_NEAR(st.psi_full_avg10, 0, 1e-9, "absent full line is 0");

	static const char *const bad[] = {
		"", "\n", "some", "some ", "some avg10=", "some avg10=abc total=1",
		"some avg60=1.00 total=5", "bogus avg10=1.00", "some avg10=1. total=1",
		"some avg10=-1.00", "some avg10=1.00 total=-3", "some avg10=1.00 total=1.5",
		"some avg10=1.00 =3", "some avg10 1.00", "some avg10=.5",
		"some avg10=1.00 total=99999999999999999999999",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st.psi_some_avg10 = 7;
		ASSERT_EQ(cg_parse_pressure(bad[i], &st), -EINVAL, bad[i]);
		ASSERT_NEAR(st.psi_some_avg10, 7, 0, "untouched on error");
	}
}

/* Garbage that the "key value" parsers must refuse, and leave st alone. */
static void test_kv_garbage(void)
{
	static const char *const bad[] = {
		"", "\n", "\n\n", "total_rss\n", "total_rss \n", "total_rss -5\n",
		"total_rss 12x\n", "total_rss 0x10\n", "total_rss 99999999999999999999\n",
		"total_rss 1 2\n", " total_rss 5\n", "total_rss\t5\n", "oom 1.5\n",
		"total_cache 100\ntotal_rs", "total_cache 100\ngarbage\n", "\x01\x02\x03",
	};
	int (*const parsers[])(const char *, struct cg_stat *) = {
		cg_parse_stat_v1, cg_parse_stat_v2, cg_parse_oom_control, cg_parse_events,
	};

	for (size_t p = 0; p < sizeof(parsers) / sizeof(parsers[0]); p++) {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct cg_stat st;

			memset(&st, 0xa5, sizeof(st));
			ASSERT_EQ(parsers[p](bad[i], &st), -EINVAL, bad[i]);
			ASSERT_TRUE(st.anon == 0xa5a5a5a5a5a5a5a5ULL && st.oom_kills == st.anon,
				    "st untouched on error");
		}
		ASSERT_EQ(parsers[p](NULL, &(struct cg_stat){ 0 }), -EINVAL, "NULL buf");
	}
	/* No trailing newline is fine: the last line still has its value. */
	struct cg_stat st = { 0 };
	ASSERT_EQ(cg_parse_stat_v1("total_cache 100\ntotal_rss 5", &st), 0, "no final newline");
	ASSERT_EQ(st.anon, 5, "last line read");
}

/* Every prefix of every sample (what a short read would give): 0 or -EINVAL, never a crash,
 * and ASan checks no parser reads past the NUL. */
static void test_truncated(void)
{
	static const char *const samples[] = {
		v1_stat_real, v2_stat_6x, v2_stat_61_real, v2_stat_54, v2_events, v2_pressure,
		v2_events_61_real, v2_pressure_61_real,
		"oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
	};
	int (*const parsers[])(const char *, struct cg_stat *) = {
		cg_parse_stat_v1, cg_parse_stat_v2, cg_parse_oom_control, cg_parse_events,
		cg_parse_pressure,
	};
	int bad = 0;

	for (size_t s = 0; s < sizeof(samples) / sizeof(samples[0]); s++) {
		size_t len = strlen(samples[s]);

		for (size_t n = 0; n <= len; n++) {
			char *cut = strndup(samples[s], n);
			struct cg_stat st = { 0 };
			uint64_t v;

			for (size_t p = 0; p < sizeof(parsers) / sizeof(parsers[0]); p++) {
				int r = parsers[p](cut, &st);

				bad += r != 0 && r != -EINVAL;
			}
			int r = cg_parse_u64_or_max(cut, &v);
			bad += r != 0 && r != -EINVAL;
			free(cut);
		}
	}
	ASSERT_EQ(bad, 0, "results other than 0 or -EINVAL");
}

struct label_case {
	const char *path, *runtime, *id, *pod, *qos, *unit;
};

static const struct label_case label_cases[] = {
	{ "/sys/fs/cgroup/memory/docker/" HEX64, "docker", HEX64, "", "", "" },
	{ "/sys/fs/cgroup/system.slice/docker-" HEX64 ".scope", "docker", HEX64, "", "",
	  "docker-" HEX64 ".scope" },
	{ "/sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/"
	  "kubepods-burstable-pod1234abcd_5678_90ef_1234_567890abcdef.slice/"
	  "cri-containerd-" HEX64 ".scope",
	  "containerd", HEX64, "1234abcd-5678-90ef-1234-567890abcdef", "burstable",
	  "cri-containerd-" HEX64 ".scope" },
	{ "/sys/fs/cgroup/memory/kubepods/besteffort/pod1234abcd-5678-90ef-1234-567890abcdef/"
	  HEX64, "containerd", HEX64, "1234abcd-5678-90ef-1234-567890abcdef", "besteffort", "" },
	{ "/sys/fs/cgroup/memory/kubepods/burstable/pod1234abcd-5678-90ef-1234-567890abcdef/"
	  HEX64, "containerd", HEX64, "1234abcd-5678-90ef-1234-567890abcdef", "burstable", "" },
	{ "/kubepods/pod1234abcd-5678-90ef-1234-567890abcdef/" HEX64, "containerd", HEX64,
	  "1234abcd-5678-90ef-1234-567890abcdef", "guaranteed", "" },
	{ "/sys/fs/cgroup/kubepods.slice/kubepods-pod1234abcd_5678_90ef_1234_567890abcdef.slice/"
	  "crio-" HEX64 ".scope", "cri-o", HEX64, "1234abcd-5678-90ef-1234-567890abcdef",
	  "guaranteed", "crio-" HEX64 ".scope" },
	{ "/sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/"
	  "kubepods-besteffort-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice",
	  "", "", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "besteffort", "" },
	{ "/sys/fs/cgroup/memory/libpod_parent/libpod-" HEX64, "podman", HEX64, "", "", "" },
	{ "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" HEX64
	  ".scope", "podman", HEX64, "", "", "libpod-" HEX64 ".scope" },
	{ "/sys/fs/cgroup/system.slice/nginx.service", "", "", "", "", "nginx.service" },
	{ "/sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope/", "", "", "", "",
	  "session-2.scope" },
	/* conmon watches a container but is not one; a short id is not an id. */
	{ "/sys/fs/cgroup/machine.slice/libpod-conmon-" HEX64 ".scope", "", "", "", "",
	  "libpod-conmon-" HEX64 ".scope" },
	{ "/sys/fs/cgroup/system.slice/docker-0123456789abcdef.scope", "", "", "", "",
	  "docker-0123456789abcdef.scope" },
	{ "/sys/fs/cgroup/memory/process_api/6b3d0a7caff6e4d5607e463c38ba2d95", "", "", "", "",
	  "" },
	{ "/sys/fs/cgroup/memory/oomcast-unit-123", "", "", "", "", "" },
	{ "/sys/fs/cgroup/memory/podXYZ/" HEX64, "", "", "", "", "" },
	{ "", "", "", "", "", "" },
	{ "/", "", "", "", "", "" },
	{ "///", "", "", "", "", "" },
};

static void test_labels(void)
{
	for (size_t i = 0; i < sizeof(label_cases) / sizeof(label_cases[0]); i++) {
		const struct label_case *c = &label_cases[i];
		struct cg_labels l;

		memset(&l, 0x5a, sizeof(l));
		cg_labels(c->path, &l);
		ASSERT_STR(l.runtime, c->runtime, c->path);
		ASSERT_STR(l.container_id, c->id, c->path);
		ASSERT_STR(l.pod_uid, c->pod, c->path);
		ASSERT_STR(l.qos, c->qos, c->path);
		ASSERT_STR(l.unit, c->unit, c->path);
	}
	struct cg_labels l;
	cg_labels(NULL, &l);
	ASSERT_STR(l.runtime, "", "NULL path");
}

/* The kubelet's names: container log links and pod directories (kube.h). */
static void test_kube_parse(void)
{
	struct cg_kube_names n;
	char id[65], uid[40];

	ASSERT_TRUE(kube_parse_container_link("api-7d9f8_shop_server-" HEX64 ".log", &n, id),
		    "a container link");
	ASSERT_STR(n.pod, "api-7d9f8", "its pod");
	ASSERT_STR(n.ns, "shop", "its namespace");
	ASSERT_STR(n.container, "server", "its container (dashes before the id are its own)");
	ASSERT_STR(id, HEX64, "its id");
	ASSERT_TRUE(kube_parse_container_link("p_ns_side-car-" HEX64 ".log", &n, id) &&
		    !strcmp(n.container, "side-car"), "a container name with dashes");
	ASSERT_TRUE(!kube_parse_container_link("p_ns_c-" HEX64 ".txt", &n, id), "not .log");
	ASSERT_TRUE(!kube_parse_container_link("p_ns_c-0123.log", &n, id), "a short id");
	ASSERT_TRUE(!kube_parse_container_link("p_ns_x_c-" HEX64 ".log", &n, id), "four parts");
	ASSERT_TRUE(!kube_parse_container_link("p_ns_-" HEX64 ".log", &n, id), "no container");
	ASSERT_TRUE(!kube_parse_container_link("_ns_c-" HEX64 ".log", &n, id), "no pod");
	ASSERT_TRUE(!kube_parse_container_link(".", &n, id), "a dot");
	ASSERT_TRUE(kube_parse_pod_dir("shop_api-7d9f8_1234abcd-5678-90ef-1234-567890abcdef",
				       &n, uid), "a pod directory");
	ASSERT_STR(n.ns, "shop", "its namespace");
	ASSERT_STR(n.pod, "api-7d9f8", "its pod");
	ASSERT_STR(n.container, "", "no container");
	ASSERT_STR(uid, "1234abcd-5678-90ef-1234-567890abcdef", "its UID");
	ASSERT_TRUE(!kube_parse_pod_dir("shop_api_not-a-uid!", &n, uid), "not a UID");
	ASSERT_TRUE(!kube_parse_pod_dir("shop_api", &n, uid), "two parts");
}

#define UID "1234abcd-5678-90ef-1234-567890abcdef"

/* Lookups against a kubelet log directory made here: a container found by its id, a pod's
 * cgroup by its UID, a container whose link is not there yet by its pod's names, and the
 * link made later found on the next read of the directory, not before KUBE_RESCAN. */
static void test_kube_lookup(void)
{
	char dir[] = "/tmp/oomcast-kube-XXXXXX", sub[600], link[800];
	struct cg_labels pod, ctr;
	struct cg_kube_names n;
	struct kube_cache k;

	if (!mkdtemp(dir)) {
		ASSERT_TRUE(0, "mkdtemp");
		return;
	}
	snprintf(sub, sizeof(sub), "%s/pods", dir);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/pods/shop_api-1_" UID, dir);
	mkdir(sub, 0755);
	snprintf(sub, sizeof(sub), "%s/containers", dir);
	mkdir(sub, 0755);
	cg_labels("/sys/fs/cgroup/memory/kubepods/burstable/pod" UID, &pod);
	cg_labels("/sys/fs/cgroup/memory/kubepods/burstable/pod" UID "/" HEX64, &ctr);
	kube_init(&k, dir);
	ASSERT_EQ(kube_lookup(&k, &pod, 100, &n), 2, "the pod's cgroup");
	ASSERT_STR(n.pod, "api-1", "the pod");
	ASSERT_EQ(kube_lookup(&k, &ctr, 100.5, &n), 1, "a container with no link: its pod's");
	ASSERT_STR(n.ns, "shop", "... namespace");
	ASSERT_STR(n.container, "", "... and no container");
	snprintf(link, sizeof(link), "%s/containers/api-1_shop_server-" HEX64 ".log", dir);
	ASSERT_EQ(symlink("/nonexistent", link), 0, "the link is made");
	ASSERT_EQ(kube_lookup(&k, &ctr, 101, &n), 1, "not read again within KUBE_RESCAN");
	ASSERT_EQ(kube_lookup(&k, &ctr, 100 + KUBE_RESCAN, &n), 2, "read again after it");
	ASSERT_STR(n.container, "server", "the container");
	ASSERT_EQ(k.scans, 2, "two reads of the directory");
	ASSERT_EQ(kube_lookup(&k, &ctr, 200, &n), 2, "found without reading again");
	ASSERT_EQ(k.scans, 2, "still two");
	cg_labels("/sys/fs/cgroup/memory/system.slice/x.service", &pod);
	ASSERT_EQ(kube_lookup(&k, &pod, 300, &n), 0, "no pod: nothing, and no read");
	ASSERT_EQ(k.scans, 2, "no read for it");
	kube_free(&k);
	/* no pods/ (the kubelet's podLogsDir moved it): the links' targets name the pod */
	snprintf(sub, sizeof(sub), "%s/pods/shop_api-1_" UID, dir);
	rmdir(sub);
	unlink(link);
	ASSERT_EQ(symlink("/srv/podlogs/shop_api-2_" UID "/server/0.log", link), 0, "a link");
	cg_labels("/sys/fs/cgroup/memory/kubepods/burstable/pod" UID, &pod);
	kube_init(&k, dir);
	ASSERT_EQ(kube_lookup(&k, &pod, 0, &n), 2, "the pod's cgroup, named by a link's target");
	ASSERT_STR(n.pod, "api-2", "the pod, from the target");
	ASSERT_STR(n.container, "", "no container for the pod's own cgroup");
	kube_free(&k);
	kube_init(&k, "");
	ASSERT_EQ(kube_lookup(&k, &ctr, 0, &n), 0, "no directory given");
	kube_free(&k);
	kube_init(&k, "/nonexistent");
	ASSERT_EQ(kube_lookup(&k, &ctr, 0, &n), 0, "a directory that is not there");
	kube_free(&k);
	unlink(link);
	snprintf(sub, sizeof(sub), "%s/containers", dir);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/pods", dir);
	rmdir(sub);
	ASSERT_EQ(rmdir(dir), 0, "nothing left");
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	return close(fd) == 0 && ok ? 0 : -1;
}

static const char *const fake_files[] = {
	"memory.max", "memory.current", "memory.stat", "memory.high", "memory.events",
	"memory.pressure", "memory.swap.current", "memory.swap.max", "memory.usage_in_bytes",
	"memory.swappiness", "cgroup.events",
};

static void remove_fake_dir(const char *dir)
{
	char path[512];

	for (size_t i = 0; i < sizeof(fake_files) / sizeof(fake_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, fake_files[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* No kernel here has a v2 memory controller, so cg_read's v2 path runs on a plain-directory
 * copy of one: parent (100 MiB) / child (memory.max "max"). */
static void check_fake_v2(const char *parent, const char *child)
{
	struct cg_info cg = { .version = CG_V2 };
	struct cg_stat st;
	uint64_t usage = 0;
	char path[512];

	ASSERT_EQ(write_file(parent, "memory.max", "104857600\n"), 0, "parent memory.max");
	ASSERT_EQ(write_file(child, "memory.max", "max\n"), 0, "memory.max");
	ASSERT_EQ(write_file(child, "memory.current", "52428800\n"), 0, "memory.current");
	ASSERT_EQ(write_file(child, "memory.stat", v2_stat_6x), 0, "memory.stat");
	ASSERT_EQ(write_file(child, "memory.high", "max\n"), 0, "memory.high");
	ASSERT_EQ(write_file(child, "memory.events", v2_events), 0, "memory.events");
	ASSERT_EQ(write_file(child, "memory.pressure", v2_pressure), 0, "memory.pressure");
	snprintf(cg.path, sizeof(cg.path), "%s", child);

	ASSERT_EQ(cg_read(&cg, &st), 0, "cg_read v2");
	ASSERT_EQ(st.usage, 50 * MIB, "usage");
	ASSERT_EQ(st.limit, 100 * MIB, "limit is the parent's");
	ASSERT_TRUE(st.high == CG_NO_LIMIT, "high max");
	ASSERT_EQ(st.oom_kills, 1, "events oom_kill");
	ASSERT_EQ(st.max_events, 34, "events max");
	ASSERT_NEAR(st.psi_some_avg10, 1.53, 1e-9, "psi some");
	ASSERT_EQ(st.workingset_refault, 1234, "stat");
	ASSERT_EQ(cg_read_usage(&cg, &usage), 0, "cg_read_usage");
	ASSERT_EQ(usage, 50 * MIB, "usage alone");

	/* usage beyond what memory.stat accounts for is stock, within its cap: v2_stat_6x
	 * holds anon + file + kernel + sock = 1.5 GiB + 16 MiB. */
	{
		uint64_t held = 1073741824ULL + 536870912ULL + 16777216ULL, files;
		char cur[64];

		files = 264241152ULL + 268435456ULL + 8388608ULL;
		snprintf(cur, sizeof(cur), "%llu\n", (unsigned long long)(held + 100 * 1024));
		ASSERT_EQ(write_file(child, "memory.current", cur), 0, "memory.current, stock");
		ASSERT_EQ(cg_read(&cg, &st), 0, "cg_read with stock");
		ASSERT_EQ(st.charge_stock, 100 * 1024, "100 KiB of stock");
		ASSERT_EQ(st.reclaimable, files + 100 * 1024, "reclaimable counts it");
		snprintf(cur, sizeof(cur), "%llu\n",
			 (unsigned long long)(held + cg_stock_cap() + 4096));
		ASSERT_EQ(write_file(child, "memory.current", cur), 0, "memory.current, over cap");
		ASSERT_EQ(cg_read(&cg, &st), 0, "cg_read over the cap");
		ASSERT_EQ(st.charge_stock, cg_stock_cap(), "no more than the cap");
		ASSERT_EQ(write_file(child, "memory.current", "52428800\n"), 0, "memory.current");
	}

	/* Its own, tighter limit wins; missing optional files are not errors. */
	ASSERT_EQ(write_file(child, "memory.max", "52428800\n"), 0, "tighter memory.max");
	ASSERT_EQ(write_file(child, "memory.high", "41943040\n"), 0, "memory.high");
	snprintf(path, sizeof(path), "%s/memory.pressure", child);
	ASSERT_EQ(unlink(path), 0, "rm memory.pressure");
	ASSERT_EQ(cg_read(&cg, &st), 0, "cg_read without memory.pressure");
	ASSERT_EQ(st.limit, 50 * MIB, "own limit");
	ASSERT_EQ(st.high, 40 * MIB, "memory.high");
	ASSERT_NEAR(st.psi_some_avg10, 0, 0, "no pressure file: 0");

	ASSERT_EQ(write_file(child, "memory.events", "oom x\n"), 0, "corrupt memory.events");
	ASSERT_EQ(cg_read(&cg, &st), -EINVAL, "garbage is an error");

	remove_fake_dir(child);
	ASSERT_EQ(cg_read(&cg, &st), -ENOENT, "removed cgroup");
	ASSERT_EQ(cg_read_usage(&cg, &usage), -ENOENT, "removed cgroup, usage");
	cg.version = 0;
	ASSERT_EQ(cg_read(&cg, &st), -EINVAL, "bad version");
}

/* Swap on v2: the child holds 30 MiB of swap (2 of them swap cache, in memory too, and both
 * count: the kernel kills at memory.current + memory.swap.current); its own
 * memory.swap.max is "max", its parent's 64 MiB with 40 MiB of its subtree's in swap: 24 MiB
 * more fit, unless the host has less free. */
static void check_fake_v2_swap(const char *parent, const char *child)
{
	struct cg_info cg = { .version = CG_V2 };
	struct cg_stat st;

	ASSERT_EQ(write_file(parent, "memory.max", "104857600\n"), 0, "parent memory.max");
	ASSERT_EQ(write_file(parent, "memory.swap.current", "41943040\n"), 0, "parent swap");
	ASSERT_EQ(write_file(parent, "memory.swap.max", "67108864\n"), 0, "parent swap.max");
	ASSERT_EQ(write_file(child, "memory.max", "33554432\n"), 0, "memory.max");
	ASSERT_EQ(write_file(child, "memory.current", "33554432\n"), 0, "memory.current");
	ASSERT_EQ(write_file(child, "memory.stat", "anon 33554432\nfile 0\nswapcached 2097152\n"),
		  0, "memory.stat");
	ASSERT_EQ(write_file(child, "memory.swap.current", "31457280\n"), 0, "swap.current");
	ASSERT_EQ(write_file(child, "memory.swap.max", "max\n"), 0, "swap.max");
	snprintf(cg.path, sizeof(cg.path), "%s", child);

	cg_override_host_swap(1, 1024 * MIB, 60);
	ASSERT_EQ(cg_read(&cg, &st), 0, "cg_read v2 with swap");
	ASSERT_EQ(st.swap, 30 * MIB, "memory.swap.current");
	ASSERT_EQ(st.swap_limit, 30 * MIB + 24 * MIB, "the parent's swap.max bounds it");
	ASSERT_EQ(st.limit, 32 * MIB, "memory limit unchanged");

	cg_override_host_swap(1, 10 * MIB, 60);
	ASSERT_EQ(cg_read(&cg, &st), 0, "cg_read, little free swap");
	ASSERT_EQ(st.swap_limit, 30 * MIB + 10 * MIB, "the host's free swap bounds it");
	cg_override_host_swap(1, 10 * MIB, 0);
	ASSERT_EQ(cg_read(&cg, &st), 0, "cg_read, vm.swappiness 0");
	ASSERT_EQ(st.swap_limit, 30 * MIB, "swappiness 0: no more than it holds");

	/* The parent, read itself: its tasks are in the child, whose memory.swap.max is 0 (a
	 * Kubernetes pod's containers under NoSwap): it cannot swap more, whatever its own
	 * memory.swap.max says; with the child's "max" back, the parent's limit binds. */
	ASSERT_EQ(write_file(parent, "memory.current", "33554432\n"), 0, "parent memory.current");
	ASSERT_EQ(write_file(parent, "memory.stat", "anon 33554432\nfile 0\n"), 0, "parent stat");
	ASSERT_EQ(write_file(child, "memory.swap.max", "0\n"), 0, "child swap.max 0");
	snprintf(cg.path, sizeof(cg.path), "%s", parent);
	cg_override_host_swap(1, 1024 * MIB, 60);
	ASSERT_EQ(cg_read(&cg, &st), 0, "cg_read parent");
	ASSERT_EQ(st.swap, 40 * MIB, "the parent's swap");
	ASSERT_EQ(st.swap_limit, 40 * MIB, "children that cannot swap: no room");
	{       /* an empty sibling that could swap makes no room; once it has tasks, it does */
		char idle[600];

		snprintf(idle, sizeof(idle), "%s/idle", parent);
		ASSERT_EQ(mkdir(idle, 0755), 0, "mkdir idle");
		ASSERT_EQ(write_file(idle, "cgroup.events", "populated 0\nfrozen 0\n"), 0, "events");
		ASSERT_EQ(write_file(idle, "memory.swap.current", "0\n"), 0, "idle swap.current");
		ASSERT_EQ(write_file(idle, "memory.swap.max", "max\n"), 0, "idle swap.max");
		ASSERT_EQ(cg_read(&cg, &st), 0, "cg_read parent, idle sibling");
		ASSERT_EQ(st.swap_limit, 40 * MIB, "an empty child makes no room");
		ASSERT_EQ(write_file(idle, "cgroup.events", "populated 1\nfrozen 0\n"), 0, "busy");
		ASSERT_EQ(cg_read(&cg, &st), 0, "cg_read parent, busy sibling");
		ASSERT_EQ(st.swap_limit, 64 * MIB, "a child with tasks that may swap");
		remove_fake_dir(idle);
	}
	ASSERT_EQ(write_file(child, "memory.swap.max", "max\n"), 0, "child swap.max max");
	ASSERT_EQ(cg_read(&cg, &st), 0, "cg_read parent, child may swap");
	ASSERT_EQ(st.swap_limit, 64 * MIB, "the parent's own memory.swap.max");
	snprintf(cg.path, sizeof(cg.path), "%s", child);
	cg_override_host_swap(1, 10 * MIB, 60);

	/* Without swap accounting (no swap files) what it swapped is not known; it may swap as
	 * far as the host's free swap goes. */
	ASSERT_EQ(write_file(parent, "memory.swap.max", "max\n"), 0, "parent swap.max max");
	{
		char path[512];

		snprintf(path, sizeof(path), "%s/memory.swap.current", child);
		ASSERT_EQ(unlink(path), 0, "rm swap.current");
		snprintf(path, sizeof(path), "%s/memory.swap.current", parent);
		ASSERT_EQ(unlink(path), 0, "rm parent swap.current");
	}
	ASSERT_EQ(cg_read(&cg, &st), 0, "cg_read without swap accounting");
	ASSERT_EQ(st.swap, 0, "unknown: 0");
	ASSERT_EQ(st.swap_limit, 10 * MIB, "the host's free swap");

	cg_override_host_swap(0, 0, 60);
	ASSERT_EQ(cg_read(&cg, &st), 0, "cg_read, host without swap");
	ASSERT_EQ(st.swap_limit, 0, "no swap: no swap limit");
	cg_override_host_swap(-1, 0, 0);
}

/* Swap on v1: memory plus swap is held by hierarchical_memsw_limit (80 MiB here, 32 MiB of
 * memory): the swap held (20 MiB; v1 counts a page's swap when it leaves memory) and 28 MiB
 * more. */
static void check_fake_v1_swap(const char *dir)
{
	static const char stat[] = "total_rss 33554432\ntotal_cache 0\n"
		"hierarchical_memory_limit 33554432\nhierarchical_memsw_limit 83886080\n"
		"total_swap 20971520\ntotal_swapcached 4194304\n";
	struct cg_info cg = { .version = CG_V1 };
	struct cg_stat st;

	ASSERT_EQ(write_file(dir, "memory.usage_in_bytes", "33554432\n"), 0, "usage");
	ASSERT_EQ(write_file(dir, "memory.stat", stat), 0, "memory.stat");
	ASSERT_EQ(write_file(dir, "memory.swappiness", "60\n"), 0, "swappiness");
	snprintf(cg.path, sizeof(cg.path), "%s", dir);

	cg_override_host_swap(1, 1024 * MIB, 60);
	ASSERT_EQ(cg_read(&cg, &st), 0, "cg_read v1 with swap");
	ASSERT_EQ(st.swap, 20 * MIB, "total_swap");
	ASSERT_EQ(st.swap_limit, 20 * MIB + 28 * MIB, "memsw limit less limit less swap held");
	cg_override_host_swap(1, 8 * MIB, 60);
	ASSERT_EQ(cg_read(&cg, &st), 0, "cg_read v1, little free swap");
	ASSERT_EQ(st.swap_limit, 20 * MIB + 8 * MIB, "free swap bounds it");
	ASSERT_EQ(write_file(dir, "memory.swappiness", "0\n"), 0, "swappiness 0");
	ASSERT_EQ(cg_read(&cg, &st), 0, "cg_read v1, swappiness 0");
	ASSERT_EQ(st.swap_limit, 20 * MIB, "swappiness 0 swaps no more");
	/* docker's --memory-swap equal to --memory: the memsw limit is the memory limit */
	ASSERT_EQ(write_file(dir, "memory.swappiness", "60\n"), 0, "swappiness 60");
	ASSERT_EQ(write_file(dir, "memory.stat", "total_rss 33554432\n"
			     "hierarchical_memory_limit 33554432\n"
			     "hierarchical_memsw_limit 33554432\ntotal_swap 0\n"), 0, "stat memsw=mem");
	ASSERT_EQ(cg_read(&cg, &st), 0, "cg_read v1, memsw = limit");
	ASSERT_EQ(st.swap_limit, 0, "no room for swap");
	/* ... and 8 MiB swapped out by the host's own reclaim: memory plus swap is held at the
	 * memsw limit, so no more memory fits than 24 MiB (swap_limit 0 < swap 8 MiB). */
	ASSERT_EQ(write_file(dir, "memory.stat", "total_rss 25165824\n"
			     "hierarchical_memory_limit 33554432\n"
			     "hierarchical_memsw_limit 33554432\ntotal_swap 8388608\n"), 0, "stat swapped");
	ASSERT_EQ(cg_read(&cg, &st), 0, "cg_read v1, memsw = limit, swapped");
	ASSERT_EQ(st.swap, 8 * MIB, "swap held");
	ASSERT_EQ(st.swap_limit, 0, "the memsw limit caps memory plus swap");
	cg_override_host_swap(0, 0, 60);
	ASSERT_EQ(cg_read(&cg, &st), 0, "cg_read v1, no host swap");
	ASSERT_EQ(st.swap_limit, 0, "no swap");
	cg_override_host_swap(-1, 0, 0);
}

static void test_swap_limit(void)
{
	ASSERT_EQ(cg_swap_limit(5, 100, 1, 1000, 60), 105, "room by limits");
	ASSERT_EQ(cg_swap_limit(5, CG_NO_LIMIT, 1, 1000, 60), 1005, "room by free swap");
	ASSERT_EQ(cg_swap_limit(5, 100, 0, 0, 60), 5, "no host swap: what it holds");
	ASSERT_EQ(cg_swap_limit(5, 100, 1, 1000, 0), 5, "swappiness 0: what it holds");
	ASSERT_EQ(cg_swap_limit(0, 0, 1, 1000, 60), 0, "memsw limit met");
}

static void check_fake_swap(const char *parent, const char *child)
{
	check_fake_v2_swap(parent, child);
	check_fake_v1_swap(parent);
}

/* A plain-directory tree /tmp/oomcast-unit-TAG-PID/child for check(parent, child), removed
 * after it whatever it asserted. */
static void with_fake_tree(const char *tag, void (*check)(const char *, const char *))
{
	char parent[256], child[300];

	snprintf(parent, sizeof(parent), "/tmp/oomcast-unit-%s-%d", tag, (int)getpid());
	snprintf(child, sizeof(child), "%s/child", parent);
	if (mkdir(parent, 0755) || mkdir(child, 0755))
		T_FAIL("mkdir %s: %s", child, strerror(errno));
	else
		check(parent, child);
	cg_override_host_swap(-1, 0, 0);
	remove_fake_dir(child);
	remove_fake_dir(parent);
}

static void test_fake_swap(void)
{
	with_fake_tree("swap", check_fake_swap);
}

static void test_fake_v2_tree(void)
{
	with_fake_tree("v2", check_fake_v2);
}

/* ---- a real v1 memory cgroup ---- */

#define V1_ROOT "/sys/fs/cgroup/memory"

struct find {
	const char *path;
	uint64_t id;
	int found;
	int saw_root;
};

static int find_cb(const struct cg_info *cg, void *arg)
{
	struct find *f = arg;

	if (!strcmp(cg->path, f->path)) {
		f->found++;
		f->id = cg->id;
	}
	/* Other cgroups on the machine are not ours to check, but the root is never limited. */
	f->saw_root += !strcmp(cg->path, V1_ROOT);
	return 0;
}

static int stop_cb(const struct cg_info *cg, void *arg)
{
	(void)cg;
	(*(int *)arg)++;
	return 1;
}

/* A child that joins the cgroup, faults in 16 MiB of anonymous memory and waits to be
 * killed. Returns its pid, or -1. */
static pid_t start_hog(const char *dir)
{
	int go[2], ready[2];
	char procs[256], c = 0;
	pid_t pid;

	if (pipe(go) || pipe(ready))
		return -1;
	pid = fork();
	if (pid == 0) {
		if (read(go[0], &c, 1) == 1) {
			char *p = mmap(NULL, 16 * MIB, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p != MAP_FAILED)
				memset(p, 1, 16 * MIB);
			c = p != MAP_FAILED;
			if (write(ready[1], &c, 1) == 1)
				pause();
		}
		_exit(1);
	}
	snprintf(procs, sizeof(procs), "%d\n", (int)pid);
	if (pid > 0 && (write_file(dir, "cgroup.procs", procs) || write(go[1], "g", 1) != 1 ||
			read(ready[0], &c, 1) != 1 || c != 1)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
	return pid;
}

static void check_live_read(const char *dir, struct cg_info *cg)
{
	char err[512] = "", slashed[256];
	struct cg_stat st;
	struct stat sb;

	snprintf(slashed, sizeof(slashed), "%s/", dir);
	ASSERT_EQ(cg_open(slashed, cg, err, sizeof(err)), 0, err);
	ASSERT_STR(cg->path, dir, "path normalised, no trailing slash");
	ASSERT_EQ(cg->version, CG_V1, "version");
	ASSERT_EQ(stat(dir, &sb), 0, "stat");
	ASSERT_EQ(cg->id, sb.st_ino, "id == st_ino");
	ASSERT_EQ(cg_read(cg, &st), 0, "cg_read");
	ASSERT_EQ(st.limit, 64 * MIB, "limit");
	ASSERT_TRUE(st.high == CG_NO_LIMIT, "v1 has no high");
	ASSERT_EQ(st.oom_kills + st.under_oom + st.oom_kill_disable, 0, "fresh oom_control");
	ASSERT_TRUE(st.usage <= 64 * MIB, "usage under the limit");
}

static void check_live_hog(const char *dir, const struct cg_info *cg)
{
	struct cg_stat st;
	uint64_t usage = 0;
	pid_t pids[8] = { 0 }, hog = start_hog(dir);

	ASSERT_TRUE(hog > 0, "hog started in the cgroup");
	if (hog <= 0)
		return;
	ASSERT_EQ(cg_pids(cg, pids, 8), 1, "one pid");
	ASSERT_EQ(pids[0], hog, "the hog's pid");
	ASSERT_EQ(cg_pids(cg, pids, 0), 0, "max 0");
	ASSERT_EQ(cg_read(cg, &st), 0, "cg_read with the hog");
	ASSERT_RANGE(st.anon, 16 * MIB, 40 * MIB, "anon holds the hog's 16 MiB");
	ASSERT_RANGE(st.usage, st.anon, 64 * MIB, "usage >= anon");
	/* Usage less every page memory.stat and the kernel counter account for is at most
	 * the charge stock (plus memory.stat's lag, bounded by as much again): a charged
	 * counter this code does not know of would show here. Where kernel memory is not
	 * charged (cgroup.memory=nokmem) or not there, there is nothing to check. */
	if (st.have_kernel && st.kernel > 0) {
		double resid = (double)st.usage - (double)(st.anon + st.file + st.kernel);

		ASSERT_RANGE(st.kernel, 4096, 8 * MIB, "kernel memory: the hog's page tables");
		ASSERT_RANGE(resid, -(double)cg_stock_cap(), 2.0 * (double)cg_stock_cap(),
			     "usage - anon - file - kernel: the stock, no unknown counter");
		ASSERT_EQ(st.charge_stock, resid < 0 ? 0 : fmin(resid, (double)cg_stock_cap()),
			  "charge_stock is that, clamped");
		ASSERT_EQ(st.reclaimable, st.active_file + st.inactive_file + st.charge_stock,
			  "reclaimable = file LRU + stock");
		printf("# live: usage %llu, anon %llu, file %llu, kernel %llu, stock %llu\n",
		       (unsigned long long)st.usage, (unsigned long long)st.anon,
		       (unsigned long long)st.file, (unsigned long long)st.kernel,
		       (unsigned long long)st.charge_stock);
	} else {
		printf("# skip: kernel memory is not charged or not readable here\n");
	}
	ASSERT_EQ(cg_read_usage(cg, &usage), 0, "cg_read_usage");
	ASSERT_RANGE(usage, 16 * MIB, 64 * MIB, "usage alone");
	ASSERT_EQ(write_file(dir, "memory.oom_control", "1\n"), 0, "disable the OOM killer");
	ASSERT_EQ(cg_read(cg, &st), 0, "cg_read");
	ASSERT_EQ(st.oom_kill_disable, 1, "oom_kill_disable seen");
	kill(hog, SIGKILL);
	waitpid(hog, NULL, 0);
}

static void check_live_discover(const char *dir)
{
	struct find f = { .path = dir };
	struct stat sb;
	int n, stops = 0;

	n = cg_discover(find_cb, &f);
	ASSERT_TRUE(n >= 1, "cg_discover visited at least ours");
	ASSERT_EQ(f.found, 1, "cg_discover found our cgroup once");
	ASSERT_EQ(stat(dir, &sb), 0, "stat");
	ASSERT_EQ(f.id, sb.st_ino, "discovered id");
	ASSERT_EQ(f.saw_root, 0, "the unlimited root is not reported");
	printf("# cg_discover: %d limited cgroups\n", n);
	ASSERT_EQ(cg_discover(stop_cb, &stops), 1, "stops when fn says so");
	ASSERT_EQ(stops, 1, "fn called once");
	ASSERT_EQ(cg_discover(NULL, NULL), -EINVAL, "no fn");
}

static void test_live_v1(void)
{
	char dir[128];
	struct cg_info cg = { 0 };
	struct cg_stat st;

	snprintf(dir, sizeof(dir), V1_ROOT "/oomcast-unit-%d", (int)getpid());
	if (mkdir(dir, 0755)) {
		T_FAIL("mkdir %s: %s (run as root on a v1 memory host)", dir, strerror(errno));
		return;
	}
	if (write_file(dir, "memory.limit_in_bytes", "67108864\n") == 0) {
		check_live_read(dir, &cg);
		check_live_hog(dir, &cg);
		check_live_discover(dir);
	} else {
		T_FAIL("cannot set the limit of %s", dir);
	}
	/* Always, whatever failed above: the hog is dead by now, so the cgroup is empty. */
	ASSERT_EQ(rmdir(dir), 0, "rmdir our cgroup");
	if (cg.version)
		ASSERT_EQ(cg_read(&cg, &st), -ENOENT, "removed cgroup reads -ENOENT");
}

/* cg_open(path) fails with want, and its message holds both needles. */
static void expect_open_fail(const char *path, int want, const char *n1, const char *n2)
{
	struct cg_info cg;
	char err[512] = "";
	struct stat sb;

	if (!strncmp(path, "/sys/", 5) && stat(path, &sb)) {
		printf("# skip %s: not on this machine\n", path);
		return;
	}
	ASSERT_EQ(cg_open(path, &cg, err, sizeof(err)), want, path);
	ASSERT_TRUE(strstr(err, n1) != NULL, err);
	ASSERT_TRUE(strstr(err, n2) != NULL, err);
	printf("# cg_open(\"%s\"): %s\n", path, err);
}

static void test_open_errors(void)
{
	expect_open_fail("/nonexistent", -ENOENT, "/nonexistent", "does not exist");
	expect_open_fail("/sys/fs/cgroup/cpu", -ENODEV, "without the memory controller", V1_ROOT);
	expect_open_fail("/sys/fs/cgroup/unified", -ENODEV, "cgroup v2", "memory.current");
	expect_open_fail(V1_ROOT "/memory.stat", -ENOTDIR, "memory.stat", "not a directory");
	expect_open_fail("/tmp", -EINVAL, "not a cgroup", V1_ROOT);
	expect_open_fail("", -EINVAL, "no cgroup path", "");
	/* A NULL or short err buffer is allowed. */
	ASSERT_EQ(cg_open("/nonexistent", &(struct cg_info){ 0 }, NULL, 0), -ENOENT, "NULL err");
}

static void test_open_root(void)
{
	struct cg_info cg;
	struct cg_stat st;
	char err[512] = "";

	ASSERT_EQ(cg_open(V1_ROOT "/.", &cg, err, sizeof(err)), 0, err);
	ASSERT_STR(cg.path, V1_ROOT, "normalised");
	ASSERT_EQ(cg_read(&cg, &st), 0, "read the root");
	ASSERT_TRUE(st.limit == CG_NO_LIMIT, "root has no limit");
	ASSERT_TRUE(st.usage > 0, "root usage");
}

int main(void)
{
	RUN(test_parse_u64_or_max);
	RUN(test_stat_v1_real);
	RUN(test_stat_v1_no_limit);
	RUN(test_stat_v2);
	RUN(test_charge_stock);
	RUN(test_oom_control);
	RUN(test_events);
	RUN(test_pressure);
	RUN(test_kv_garbage);
	RUN(test_truncated);
	RUN(test_labels);
	RUN(test_kube_parse);
	RUN(test_kube_lookup);
	RUN(test_fake_v2_tree);
	RUN(test_swap_limit);
	RUN(test_fake_swap);
	RUN(test_open_errors);
	RUN(test_open_root);
	RUN(test_live_v1);
	return TEST_EXIT();
}
