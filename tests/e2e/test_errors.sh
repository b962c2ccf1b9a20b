#!/usr/bin/env bash
# Bad input gets a clear message naming the problem and a non-zero exit, never a crash.
source "$(dirname "$0")/lib.sh"
need_root

# expect NAME PATTERN CMD...: CMD exits non-zero (not a signal) and stderr matches PATTERN
expect() {
	local name=$1 pat=$2; shift 2
	"$@" > "$TEST_TMP/out" 2> "$TEST_TMP/err"
	local rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] && grep -qiE "$pat" "$TEST_TMP/err"; then
		ok "$name"
	else
		not_ok "$name" "rc=$rc stderr: $(head -c 300 "$TEST_TMP/err")"
	fi
}

expect "unknown flag" "unrecognized option|invalid option" "$OOMCAST" run --bogus
expect "unknown command" "unknown command" "$OOMCAST" frobnicate
expect "no command" "usage" "$OOMCAST"
expect "negative horizon" "horizon.*positive" "$OOMCAST" run --horizon -3
expect "non-numeric horizon" "horizon.*positive" "$OOMCAST" run --horizon soon
expect "zero horizon" "horizon.*positive" "$OOMCAST" run --horizon 0
expect "bad interval" "interval" "$OOMCAST" run --interval 0
expect "stray argument" "unexpected argument" "$OOMCAST" run /sys/fs/cgroup/memory
expect "missing cgroup" "does not exist|no such" "$OOMCAST" run --no-pin --cgroup /sys/fs/cgroup/memory/oomcast-nope-$$
expect "not a directory" "not a directory" "$OOMCAST" run --no-pin --cgroup /etc/hostname
expect "not a cgroup" "not a cgroup" "$OOMCAST" run --no-pin --cgroup /tmp
if [ -d /sys/fs/cgroup/cpu ]; then
	expect "v1 cgroup of another controller" "not a memory cgroup|memory controller" \
		"$OOMCAST" run --no-pin --cgroup /sys/fs/cgroup/cpu
fi
if [ -d /sys/fs/cgroup/unified ] && [ ! -e /sys/fs/cgroup/unified/memory.current ] &&
   ! grep -qw memory /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
	expect "v2 cgroup without the memory controller" "memory" \
		"$OOMCAST" run --no-pin --cgroup /sys/fs/cgroup/unified
fi
expect "bad record size" "record-max-bytes" "$OOMCAST" run --record-max-bytes lots
expect "bad record keep" "record-keep.*1 to 99" "$OOMCAST" run --record-keep 0
expect "fractional record keep" "record-keep.*1 to 99" "$OOMCAST" run --record-keep 2.5
expect "bad sample size" "sample-kib" "$OOMCAST" run --sample-kib 3
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	expect "not root" "needs root" setpriv --reuid=nobody --regid=nogroup --clear-groups "$OOMCAST" run
	# root without the capabilities BPF needs (a container that is not privileged)
	expect "root without CAP_BPF" "not allowed to create BPF maps.*CAP_BPF" \
		setpriv --bounding-set=-sys_admin,-bpf,-perfmon "$OOMCAST" run --no-pin
fi
check "help explains the options" bash -c "'$OOMCAST' run --help | grep -q -- '--horizon'"
check "top-level help exits 0" bash -c "'$OOMCAST' --help >/dev/null"
finish
