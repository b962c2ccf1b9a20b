#!/usr/bin/env bash
# --signal end to end with a real Go program (tests/workloads/degrade.go) whose cache grows
# 8 MB/s into a 128 MiB limit (the kernel would kill it after ~16 s) and that sheds the cache
# on SIGUSR1: without --signal it is OOM-killed (the control); with --signal SIGUSR1 it is
# still alive at 25 s, both with --signal-to all and --signal-to top, and `top` leaves a
# bystander task in the same cgroup alone. --signal without --cgroup is refused.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
[ -n "${OOMCAST_BIN:-}" ] && OOMCAST=$OOMCAST_BIN   # test another build of the daemon
need_root

DEGRADE=$ROOT/build/workloads/degrade
if [ ! -x "$DEGRADE" ] || [ "$ROOT/tests/workloads/degrade.go" -nt "$DEGRADE" ]; then
	mkdir -p "$ROOT/build/workloads"
	if ! GOCACHE=$ROOT/build/go-cache GOFLAGS='' go build -o "$DEGRADE" "$ROOT/tests/workloads/degrade.go"; then
		not_ok "go build tests/workloads/degrade.go"; exit 1
	fi
fi

LIMIT=$((128 << 20)) RATE=8 HORIZON=5 LIFE=25   # the kill would come at ~16 s

# run_case NAME ARGS...: degrade in a fresh cgroup under a daemon with ARGS; sets RC, OUT, CG
run_case() {
	local name=$1; shift
	CG=$(make_cgroup "$name" $LIMIT) || { not_ok "$name: mkdir"; return 1; }
	_cgroups+=("$CG")   # make_cgroup ran in a $(...) subshell: remember it here for cleanup
	OUT=$TEST_TMP/$name.json
	if ! start_daemon "$OUT" --cgroup "$CG" --horizon $HORIZON "$@"; then
		not_ok "$name: daemon ready" "$(tail -3 "$OUT.err")"; return 1
	fi
	if [ "$name" = top ]; then          # a bystander that SIGUSR1 would kill
		run_in_cgroup "$CG" sleep $((LIFE + 10))
		BYSTANDER=$WORK_PID
	fi
	run_in_cgroup "$CG" "$DEGRADE" --rate $RATE --timeout $LIFE
	wait "$WORK_PID" 2>/dev/null
	RC=$?
	stop_daemon
}

if run_case control; then
	check "control: without --signal the Go service is OOM-killed (exit $RC)" test "$RC" -eq 137
	check "control: the kill was forecast" test -n "$(field "$OUT" forecast time)"
fi

if run_case all --signal SIGUSR1 --signal-to all; then
	check "all: with --signal SIGUSR1 the Go service survives $LIFE s (exit $RC)" test "$RC" -eq 0
	n=$(grep -c "oomcast: sent SIGUSR1 to pid $WORK_PID (degrade) in $CG" "$OUT.err")
	check "all: each forecast sent one SIGUSR1, logged ($n)" \
		test "$n" -ge 1 -a "$n" -eq "$(count_events "$OUT" forecast)"
	check "all: no signal went outside the cgroup" \
		test "$(grep -c 'oomcast: sent' "$OUT.err")" -eq "$n"
	check "all: no oom_kill" test "$(count_events "$OUT" oom_kill)" -eq 0
fi

if run_case top --signal USR1 --signal-to top; then
	check "top: the Go service survives $LIFE s (exit $RC)" test "$RC" -eq 0
	check "top: the signal went to the top grower" grep -q "sent SIGUSR1 to pid $WORK_PID (degrade)" "$OUT.err"
	check "top: the bystander in the same cgroup was left alone" kill -0 "$BYSTANDER"
	check "top: never to the bystander" eval "! grep -q 'to pid $BYSTANDER ' '$OUT.err'"
fi

msg=$("$OOMCAST" run --json --no-pin --signal USR1 --duration 1 2>&1 >/dev/null); rc=$?
check "--signal without --cgroup is refused (exit $rc)" test "$rc" -ne 0
check "... with a message naming --signal-all-cgroups" grep -q -- "--signal-all-cgroups" <<<"$msg"
msg=$("$OOMCAST" run --cgroup / --signal KILL 2>&1 >/dev/null); rc=$?
check "--signal KILL is refused (exit $rc)" test "$rc" -ne 0
check "... saying why" grep -q "refused" <<<"$msg"
finish
