#!/usr/bin/env bash
# run.sh: oomcast's end-to-end cases inside a real Linux 6.1 kernel with cgroup v2 and the
# memory controller, under qemu with software emulation (no KVM on these machines).
# The host kernel binds the memory controller to cgroup v1; this is where v2 gets tested.
#
# Usage: tests/vm/run.sh [CASE...]     cases: kernel leak classic unseen tmpfs cache high discover swap swap_v1 (default: all)
#   kernel  the VM itself, no oomcast: cgroup v2 memory controller, BTF, tracefs, a real OOM kill
#   leak    steady leak into memory.max: forecast first, lead within 0.8x..1.5x the horizon
#   cache   a reader streaming a file 4x its cgroup's limit: no forecast
#   high    memory.high below memory.max: forecast before the kill or the throttling
#   swap    a leak into memory.max with swap behind it (memory.swap.max): the kill comes when
#           both are full, and so must the forecast (lead within 0.5x..1.5x the horizon)
#   swap_v1 the same on cgroup v1 (a second boot with the v1 memory hierarchy), held by
#           memory.memsw.limit_in_bytes: Docker's --memory-swap on a v1 host
# Output: one line per case on stdout, `ok - vm_<case>` or `not ok - vm_<case> # reason`,
# plus `vm_boot` (`vm_boot_v1`) for the VM itself; details on stderr; the serial console is
# kept in build/vm/console.log (console-v1.log). Exit 0 only when every line is ok. Never passes silently: a VM that
# does not boot, a kernel that cannot be fetched or a guest that stops early is a `not ok`.
# Environment: BUILD (default build), VM_TIMEOUT (seconds for the whole VM, default 900).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$root/build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
export BUILD
vm=$BUILD/vm
timeout_s=${VM_TIMEOUT:-900}

cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(kernel leak classic unseen tmpfs cache high discover swap swap_v1)
v2_cases=() v1_cases=()
for c in "${cases[@]}"; do
	case $c in
	kernel | leak | classic | unseen | tmpfs | cache | high | discover | swap) v2_cases+=("$c") ;;
	swap_v1) v1_cases+=("$c") ;;
	*) echo "run.sh: unknown case '$c'" >&2; exit 2 ;;
	esac
done

failed=0
report() { # report CASE ok|notok [REASON]
	if [ "$2" = ok ]; then
		echo "ok - vm_$1"
	else
		echo "not ok - vm_$1${3:+ # $3}"
		failed=1
	fi
}
# Every requested case gets a line even when the VM never ran, so that nothing is lost from
# the runner's count.
all_fail() {
	[ ${#v2_cases[@]} -eq 0 ] || report boot notok "$1"
	[ ${#v1_cases[@]} -eq 0 ] || report boot_v1 notok "$1"
	for c in "${cases[@]}"; do report "$c" notok "VM did not run"; done
	exit 1
}

needs_oomcast=0
for c in "${cases[@]}"; do [ "$c" = kernel ] || needs_oomcast=1; done
if [ $needs_oomcast = 1 ] && [ ! -x "$BUILD/oomcast" ]; then
	echo "run.sh: $BUILD/oomcast is missing: run 'make' first (or run only the 'kernel' case)" >&2
	all_fail "build/oomcast missing: run make"
fi
# The workload is static and cheap to build; the Makefile knows how.
if [ ! -x "$BUILD/workloads/leak" ]; then
	make -s -C "$root" BUILD="$BUILD" "$BUILD/workloads/leak" >&2 ||
		all_fail "cannot build the leak workload"
fi
for tool in qemu-system-x86_64 cpio gzip mke2fs apt-get dpkg; do
	command -v "$tool" >/dev/null || all_fail "$tool missing (scripts/deps.sh installs it)"
done

if ! "$here/build-image.sh"; then
	all_fail "image build failed (kernel fetch or initramfs; see stderr)"
fi

console=$vm/console.log
results=$vm/results.log

# boot: one run of the guest, with $append and its console in $console. A guest kernel that
# reports a soft lockup or an RCU stall is stopped at once (it would otherwise sit until the
# time bound).
boot() {
	rm -f "$console" "$results"
	# The swap case's disk: sparse, fresh for every boot (the guest runs mkswap on it).
	rm -f "$vm/swap.img"
	truncate -s 160M "$vm/swap.img" || echo "run.sh: cannot create $vm/swap.img" >&2
	echo "run.sh: booting $(cat "$vm/kernel.version") (tcg, bound ${timeout_s}s), ${append#*quiet }" >&2
	t0=$(date +%s.%N)
	rc=0
	# ttyS0 (the console, kernel messages included) and ttyS1 (results only, written by the
	# guest script alone) go to two files. -nic none: the guest has no network. -no-reboot with
	# panic=-1: a kernel panic ends qemu at once instead of looping. The data disk is read-only
	# so the cached image is never modified.
	timeout -k 10 "$timeout_s" qemu-system-x86_64 \
		-accel tcg,thread=single -m 1024 -smp 2 -nographic -no-reboot -nic none -monitor none \
		-kernel "$vm/vmlinuz" -initrd "$vm/initramfs.cpio.gz" -append "$append" \
		-drive "file=$vm/data.ext2,format=raw,if=virtio,readonly=on" \
		-drive "file=$vm/swap.img,format=raw,if=virtio" \
		-serial "file:$console" -serial "file:$results" \
		</dev/null >"$vm/qemu.log" 2>&1 &
	local qpid=$! lockup=0
	while kill -0 "$qpid" 2>/dev/null; do
		if grep -qE 'soft lockup|rcu_preempt detected stalls' "$console" 2>/dev/null; then
			lockup=1
			kill "$qpid" 2>/dev/null
			break
		fi
		sleep 1
	done
	wait "$qpid" || rc=$?
	t1=$(date +%s.%N)
	echo "run.sh: qemu exited with $rc after $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b - a}') s" >&2
	return "$lockup"
}

# run_group BOOTNAME CGROUP-VERSION CASES...: boot the guest for these cases and report them.
# Under multi-threaded TCG the 6.1 guest locked up (RCU stall, then a soft lockup) in 3 of
# 24 boots in one day (once before that), each time while a daemon attached or detached its programs (the kernel
# patches its tracepoint sites then, across CPUs); with one host thread for both vCPUs
# (thread=single), none in 8 boots, and the cases take as long. Should it lock up anyway,
# the run is shown in full on stderr and said on stdout, and the guest is booted once more;
# a second lockup fails.
run_group() {
	local bootname=$1 cgv=$2 c line why res
	shift 2
	console=$vm/console.log
	[ "$cgv" = v2 ] || console=$vm/console-$cgv.log
	append="console=ttyS0 panic=-1 quiet vmcg=$cgv vmcases=$(
		IFS=,
		echo "$*"
	)"
	rc=0
	if ! boot; then
		echo "# vm: the guest kernel locked up (soft lockup / RCU stall); console tail below; booting again"
		tail -n 40 "$console" >&2 2>/dev/null || true
		cp "$console" "${console%.log}-lockup.log" 2>/dev/null || true
		if ! boot; then
			echo "run.sh: the guest kernel locked up twice" >&2
			rc=lockup
		fi
	fi

	# Result lines from the guest, without the tty's carriage returns.
	res=$(tr -d '\r' <"$results" 2>/dev/null || true)
	grep '^OOMCAST-VM # ' <<<"$res" | sed 's/^OOMCAST-VM # /vm: /' >&2 || true

	if ! grep -qx 'OOMCAST-VM booted' <<<"$res"; then
		echo "run.sh: the guest never started its tests; console tail:" >&2
		tail -n 30 "$console" >&2 2>/dev/null || true
		cat "$vm/qemu.log" >&2 2>/dev/null || true
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then why="timed out after ${timeout_s}s before the guest started"
		else why="guest did not boot (qemu exit $rc; see ${console#"$root"/})"; fi
		report "$bootname" notok "$why"
		for c in "$@"; do report "$c" notok "VM did not run"; done
		return
	fi
	if grep -qx 'OOMCAST-VM done' <<<"$res"; then
		report "$bootname" ok
	else
		echo "run.sh: the guest stopped before the end; console tail:" >&2
		tail -n 30 "$console" >&2 2>/dev/null || true
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then report "$bootname" notok "timed out after ${timeout_s}s"
		else report "$bootname" notok "guest stopped early (qemu exit $rc; see ${console#"$root"/})"; fi
	fi
	for c in "$@"; do
		if grep -qx "OOMCAST-VM ok vm_$c" <<<"$res"; then
			report "$c" ok
		elif line=$(grep -m1 "^OOMCAST-VM not ok vm_$c: " <<<"$res"); then
			report "$c" notok "${line#OOMCAST-VM not ok vm_"$c": }"
		else
			report "$c" notok "no result from the guest"
		fi
	done
}

[ ${#v2_cases[@]} -eq 0 ] || run_group boot v2 "${v2_cases[@]}"
[ ${#v1_cases[@]} -eq 0 ] || run_group boot_v1 v1 "${v1_cases[@]}"
rm -f "$vm/swap.img"
exit "$failed"
