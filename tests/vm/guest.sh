#!/bin/sh
# guest.sh: the oomcast end-to-end cases, run by /init inside the 6.1 VM (busybox ash).
# Cases come from the kernel command line: vmcases=kernel,leak,cache,high,discover,swap,swap_v1 (the
# last on a boot with vmcg=v1: the v1 memory hierarchy at /sys/fs/cgroup/memory)
# Results go to the second serial port (/dev/ttyS1), which only this script writes, so kernel
# messages on the console (OOM reports) can never garble a result line:
#   OOMCAST-VM booted
#   OOMCAST-VM ok vm_<case>            or   OOMCAST-VM not ok vm_<case>: <reason>
#   OOMCAST-VM # <detail>
#   OOMCAST-VM done
# Every wait is bounded; a case that hangs is a failure, never a silent pass.
# No set -e: one failing command must fail its case, not end the whole run unreported.
set -u

RES=/dev/ttyS1
[ -c "$RES" ] || RES=/dev/null
CG=/sys/fs/cgroup
W=/tmp/vm
mkdir -p "$W"

say() { # one whole line per write, to the results port and to the console
	printf 'OOMCAST-VM %s\n' "$*" >"$RES"
	printf 'OOMCAST-VM %s\n' "$*"
}
detail() { say "# $*"; }
ok() { say "ok vm_$1"; }
fail() { say "not ok vm_$1: $2"; }

# Wall-clock time with microseconds, the clock oomcast stamps its events with. busybox date
# has no %N; adjtimex (mode 0: read only) prints the time to the microsecond.
now() { adjtimex | awk '/time.tv_sec/{s=$2} /time.tv_usec/{u=$2} END{printf "%d.%06d\n", s, u}'; }

# jget KEY: the value of "KEY" in the one-line JSON object on stdin (number or string).
jget() {
	awk -v k="$1" '{
		if (match($0, "\"" k "\"[ ]*:[ ]*(\"[^\"]*\"|[^,}]*)")) {
			v = substr($0, RSTART, RLENGTH); sub(/^"[^"]*"[ ]*:[ ]*/, "", v); gsub(/"/, "", v)
			print v; exit
		}
	}'
}
# first FILE EVENT: the first line of FILE with "event":"EVENT"
first() { grep -m1 "\"event\"[ ]*:[ ]*\"$2\"" "$1" 2>/dev/null; }
count() { grep -c "\"event\"[ ]*:[ ]*\"$2\"" "$1" 2>/dev/null; }

# alive PID: running and not a zombie (ash reaps background jobs only at `wait`, and kill -0
# succeeds on a zombie).
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}
# wait_gone PID SECONDS: wait for PID to exit, at most SECONDS (tenths of a second polls)
wait_gone() {
	_n=$(($2 * 10))
	while alive "$1" && [ "$_n" -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
	! alive "$1"
}
# wait_grep FILE PATTERN SECONDS [PID]: wait for PATTERN in FILE; give up early if PID dies
wait_grep() {
	_n=$(($3 * 10))
	while [ "$_n" -gt 0 ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		if [ -n "${4:-}" ] && ! alive "$4"; then grep -q "$2" "$1" 2>/dev/null; return; fi
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}
# stop PID: SIGTERM, then SIGKILL after 10 s; reaps it
stop() {
	kill -TERM "$1" 2>/dev/null
	wait_gone "$1" 10 || kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
# ev CGROUP KEY: a counter from memory.events
ev() { awk -v k="$2" '$1==k{print $2}' "$1/memory.events"; }
# flt EXPR: evaluate a floating-point expression (ash arithmetic is integer only)
flt() { awk "BEGIN{print ($1)}"; }
# dump FILE LABEL: show a (bounded) file as detail lines, for diagnosis from the host
dump() {
	[ -s "$1" ] || { detail "$2: (empty)"; return; }
	head -c 6000 "$1" | while IFS= read -r l; do detail "$2: $l"; done
}

# subdirs DIR: the names of DIR's subdirectories on one line
subdirs() {
	for _e in "$1"/*/; do [ -d "$_e" ] && _e=${_e%/} && printf '%s ' "${_e##*/}"; done
}

# mkcg NAME MAX [HIGH]: a fresh memory cgroup with no swap
mkcg() {
	_d=$CG/$1
	[ -d "$_d" ] && rmdir "$_d" 2>/dev/null
	mkdir "$_d" || return 1
	echo "$2" >"$_d/memory.max" || return 1
	[ -e "$_d/memory.swap.max" ] && echo 0 >"$_d/memory.swap.max"
	[ -n "${3:-}" ] && { echo "$3" >"$_d/memory.high" || return 1; }
	echo "$_d"
}
# run_in CGDIR OUTPREFIX ARGS...: start `leak ARGS` inside the cgroup, in the background.
# The shell moves itself into the cgroup and then execs leak, so every page leak touches is
# charged there and $! is leak's pid.
run_in() {
	_d=$1 _o=$2
	shift 2
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec leak "$@"' sh "$_d" "$@" \
		>"$_o.out" 2>"$_o.err" &
	LPID=$!
}
# start_oomcast CGDIR HORIZON OUTPREFIX: start the daemon and wait for "ready" (the verifier
# and the attach are slow under software emulation, hence the long bound)
# (CGDIR "" watches every limited cgroup: the DaemonSet's mode)
# ($OC_EXTRA: more daemon flags, for one case)
OC_EXTRA=
start_oomcast() {
	# shellcheck disable=SC2086
	oomcast run ${1:+--cgroup "$1"} --horizon "$2" --json --verbose $OC_EXTRA >"$3.json" 2>"$3.log" &
	OPID=$!
	_t0=$(now)
	if ! wait_grep "$3.json" '"event"[ ]*:[ ]*"ready"' 120 "$OPID"; then
		detail "oomcast never said ready (alive: $(alive "$OPID" && echo yes || echo no))"
		dump "$3.log" stderr
		dump "$3.json" stdout
		stop "$OPID"
		return 1
	fi
	detail "oomcast ready after $(flt "$(now) - $_t0") s"
}

# --- kernel: the VM itself, without oomcast ------------------------------------------------
case_kernel() {
	_bad=
	detail "kernel $(uname -r), $(nproc) cpus, $(awk '/MemTotal/{print $2 " kB"}' /proc/meminfo)"
	detail "cgroup.controllers: $(cat $CG/cgroup.controllers)"
	detail "subtree_control: $(cat $CG/cgroup.subtree_control)"
	grep -qw memory $CG/cgroup.subtree_control || _bad="$_bad memory-controller-off"
	if [ -e /sys/kernel/btf/vmlinux ]; then
		detail "BTF: /sys/kernel/btf/vmlinux $(wc -c </sys/kernel/btf/vmlinux) bytes"
	else
		_bad="$_bad no-btf"
	fi
	[ -e /proc/pressure/memory ] && detail "PSI: $(head -1 /proc/pressure/memory)"
	detail "THP: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)"
	_T=/sys/kernel/tracing
	if mount -t tracefs tracefs $_T && ls $_T >/dev/null; then
		for g in kmem oom vmscan memcg; do
			if [ -d $_T/events/$g ]; then
				detail "events/$g: $(subdirs $_T/events/$g)"
			else
				detail "events/$g: (absent)"
			fi
		done
		if [ -d $_T/events/syscalls ]; then
			_s=$(subdirs $_T/events/syscalls)
			detail "events/syscalls: $(echo "$_s" | wc -w) tracepoints; of the hooks oomcast may use:" \
				"$(for e in sys_enter_mmap sys_enter_munmap sys_enter_brk sys_exit_brk; do
					case " $_s " in *" $e "*) printf '%s ' "$e" ;; *) printf '%s(absent) ' "$e" ;; esac
				done)"
		else
			detail "events/syscalls: (absent)"
		fi
		# functions fentry/kprobes could attach to (static ones are often inlined away)
		_ff=
		for f in mark_victim oom_kill_process __oom_kill_process out_of_memory \
			mem_cgroup_out_of_memory try_charge_memcg mem_cgroup_oom_synchronize; do
			grep -q "^$f\( \|\$\)" $_T/available_filter_functions 2>/dev/null && _ff="$_ff $f"
		done
		detail "kprobe_events: $([ -e $_T/kprobe_events ] && echo present || echo absent);" \
			"traceable functions:${_ff:- none of mark_victim oom_kill_process out_of_memory ...}"
		# oomcast must mount tracefs itself: leave it as a fresh machine has it
		umount $_T
	else
		_bad="$_bad no-tracefs"
	fi
	if command -v bpftool >/dev/null; then
		bpftool btf dump file /sys/kernel/btf/vmlinux format raw >$W/btf.raw 2>&1
		grep -A3 "'btf_trace_mark_victim'" $W/btf.raw | while IFS= read -r l; do detail "btf: $l"; done
		rm -f $W/btf.raw
		detail "bpftool feature probe: $(bpftool feature probe kernel 2>/dev/null |
			grep -E 'program_type (tracing|kprobe|lsm|raw_tracepoint|tracepoint) ' |
			sed 's/eBPF program_type //' | tr '\n' ';')"
		# the same as C, easier to read
		bpftool btf dump file /sys/kernel/btf/vmlinux format c 2>/dev/null |
			grep -E 'btf_trace_(mark_victim|oom_score_adj_update|mm_page_alloc|memcg_|mm_vmscan_memcg)' |
			while IFS= read -r l; do detail "btf: $l"; done
	fi
	# A real memcg OOM kill without oomcast: the ground truth every other case builds on.
	_d=$(mkcg oomcast-vm-kernel 32M) || { fail kernel "cannot create a memory cgroup"; return; }
	_t0=$(now)
	run_in "$_d" $W/kernel-leak --rate 8 --timeout 60
	wait_gone "$LPID" 70 || kill -KILL "$LPID"
	wait "$LPID"
	_rc=$?
	_dt=$(flt "$(now) - $_t0")
	_k=$(ev "$_d" oom_kill)
	detail "leak at 8 MB/s into 32M: exit $_rc after $_dt s, memory.events: $(tr '\n' ' ' <"$_d/memory.events")"
	rmdir "$_d"
	[ "$_k" = 1 ] && [ "$_rc" = 137 ] || _bad="$_bad no-oom-kill(oom_kill=$_k,rc=$_rc)"
	if [ -z "$_bad" ]; then ok kernel; else fail kernel "${_bad# }"; fi
}

# --- leak: a steady leak into a hard limit --------------------------------------------------
# H=10 s, 64M at 4 MB/s: the kill comes ~16 s after the start, so the forecaster has ~6 s of
# growth to see before the alert is due.
# leak_kill NAME LEAKARGS...: a 4 MB/s leak (held as LEAKARGS say) in a 64M cgroup, forecast
# 0.8-1.5 H before its kill
leak_kill() {
	_c=$1 _h=10
	shift
	_d=$(mkcg oomcast-vm-$_c 64M) || { fail $_c "cannot create the cgroup"; return 1; }
	start_oomcast "$_d" $_h $W/$_c-oomcast || { fail $_c "oomcast not ready"; rmdir "$_d"; return 1; }
	_t0=$(now)
	run_in "$_d" $W/$_c --rate 4 --timeout 80 "$@"
	wait_gone "$LPID" 85 || kill -KILL "$LPID"
	wait "$LPID"
	_rc=$?
	_tk=$(now)
	# the daemon reads the kill from its ring buffer a little later
	wait_grep $W/$_c-oomcast.json '"event"[ ]*:[ ]*"oom_kill"' 10 "$OPID"
	stop "$OPID"
	_k=$(ev "$_d" oom_kill)
	detail "leak pid $LPID exit $_rc after $(flt "$_tk - $_t0") s; memory.events: $(tr '\n' ' ' <"$_d/memory.events")"
	detail "memory.stat: $(grep -E '^(anon|file|shmem|active_file|inactive_file) ' "$_d/memory.stat" | tr '\n' ' ')"
	dump $W/$_c-oomcast.log stderr
	dump $W/$_c-oomcast.json stdout
	rmdir "$_d"
	_f=$(first $W/$_c-oomcast.json forecast)
	_o=$(first $W/$_c-oomcast.json oom_kill)
	[ "$_k" -ge 1 ] 2>/dev/null || { fail $_c "the kernel did not OOM-kill the leak (oom_kill=$_k rc=$_rc)"; return 1; }
	[ -n "$_o" ] || { fail $_c "no oom_kill event"; return 1; }
	[ -n "$_f" ] || { fail $_c "no forecast event before the kill"; return 1; }
	_ft=$(echo "$_f" | jget time)
	_ot=$(echo "$_o" | jget time)
	_lead=$(flt "$_ot - $_ft")
	detail "first forecast: t+$(flt "$_ft - $_t0") s usage $(echo "$_f" | jget usage_bytes) limit $(echo "$_f" | jget limit_bytes) reclaimable $(echo "$_f" | jget reclaimable_bytes) eta $(echo "$_f" | jget eta_seconds) s"
	detail "oom_kill: t+$(flt "$_ot - $_t0") s pid $(echo "$_o" | jget pid) comm $(echo "$_o" | jget comm) cgroup $(echo "$_o" | jget cgroup)"
	detail "lead $_lead s for a horizon of $_h s (accepted: $(flt "0.8 * $_h")..$(flt "1.5 * $_h"))"
	_bad=
	[ "$(echo "$_o" | jget pid)" = "$LPID" ] || _bad="$_bad oom_kill-pid-is-not-leak($LPID)"
	[ "$(echo "$_o" | jget cgroup)" = "$_d" ] || _bad="$_bad oom_kill-cgroup-mismatch"
	[ "$(flt "$_lead >= 0.8 * $_h && $_lead <= 1.5 * $_h")" = 1 ] || _bad="$_bad lead-${_lead}s-out-of-range"
	return 0
}

case_leak() {
	leak_kill leak || return
	if [ -z "$_bad" ]; then ok leak; else fail leak "${_bad# }"; fi
}

# --- classic: the same leak with classic tracepoints only (the kmem/mm_page_alloc and
# oom/mark_victim programs, as kernels without tp_btf for them load), on v2 ---------------
case_classic() {
	OC_EXTRA=--classic-tracepoints
	leak_kill classic
	_r=$?
	OC_EXTRA=
	[ $_r = 0 ] || return
	grep -q "hook mark_victim: tracepoint" $W/classic-oomcast.log ||
		_bad="$_bad mark_victim-not-classic"
	grep -q "hook mm_page_alloc: tracepoint" $W/classic-oomcast.log ||
		_bad="$_bad mm_page_alloc-not-classic"
	if [ -z "$_bad" ]; then ok classic; else fail classic "${_bad# }"; fi
}

# --- unseen: a leak in a child (64M) of a watched parent (200M), with neither OOM victim
# program (the kernel refuses them, by the tests-only OOMCAST_TEST_REFUSE): the kill counts
# in both cgroups' memory.events (v2's are hierarchical) and is reported once, from the
# counts, without pid or comm -----------------------------------------------------------
case_unseen() {
	_h=10 _bad=
	_dp=$CG/oomcast-vm-unseen
	_dl=$_dp/leaf
	mkcg oomcast-vm-unseen 200M >/dev/null && echo +memory >"$_dp/cgroup.subtree_control" &&
		mkcg oomcast-vm-unseen/leaf 64M >/dev/null || { fail unseen "cannot create the cgroups"; return; }
	export OOMCAST_TEST_REFUSE=oc_victim_btf,oc_victim_tp
	OC_EXTRA="--cgroup $_dl"
	start_oomcast "$_dp" $_h $W/unseen || _bad="$_bad oomcast-not-ready"
	OC_EXTRA=
	unset OOMCAST_TEST_REFUSE
	if [ -z "$_bad" ]; then
		run_in "$_dl" $W/unseen-leak --rate 4 --timeout 60
		wait_gone "$LPID" 65 || kill -KILL "$LPID"
		wait "$LPID"
		_rc=$?
		wait_grep $W/unseen.json '"event"[ ]*:[ ]*"oom_kill"' 10 "$OPID"
		sleep 3         # time for a second report, were the parent's count taken for another
		stop "$OPID"
		detail "leak pid $LPID exit $_rc; memory.events: child $(tr '\n' ' ' <"$_dl/memory.events"), parent $(tr '\n' ' ' <"$_dp/memory.events")"
		[ "$_rc" = 137 ] || _bad="$_bad leak-exit-$_rc-not-137"
		[ "$(ev "$_dp" oom_kill)" = 1 ] || _bad="$_bad parent-count-not-1"
	fi
	rmdir "$_dl" "$_dp" 2>/dev/null
	dump $W/unseen.log stderr
	dump $W/unseen.json stdout
	grep -q "hook mark_victim disabled" $W/unseen.log || _bad="$_bad mark_victim-not-disabled"
	_o=$(first $W/unseen.json oom_kill)
	[ -n "$_o" ] || _bad="$_bad no-oom_kill"
	[ "$(grep -c '"event":"oom_kill"' $W/unseen.json)" = 1 ] || _bad="$_bad not-one-oom_kill"
	[ "$(echo "$_o" | jget pid)" = null ] || _bad="$_bad oom_kill-pid-not-null"
	echo "$_o" | grep -q 'memory.events; its victim was not seen' || _bad="$_bad no-reason"
	if [ -z "$_bad" ]; then ok unseen; else fail unseen "${_bad# }"; fi
}

# --- tmpfs: the leak held in a tmpfs file (shmem). On v2 memory.stat's `file` counts shmem,
# but shmem sits on the anon LRU, not reclaimable without swap: it must be risk. ----------
case_tmpfs() {
	mkdir -p /mnt/shm && mount -t tmpfs -o size=128m oomcast-vm /mnt/shm ||
		{ fail tmpfs "cannot mount a tmpfs"; return; }
	leak_kill tmpfs --shm /mnt/shm/blob
	_r=$?
	_sh=$(ls -l /mnt/shm/blob 2>/dev/null | awk '{print $5}')
	rm -f /mnt/shm/blob
	umount /mnt/shm
	[ $_r = 0 ] || return
	detail "the tmpfs file held $_sh bytes after the kill"
	[ "${_sh:-0}" -ge $((48 << 20)) ] 2>/dev/null || _bad="$_bad tmpfs-file-held-only-${_sh}-bytes"
	[ "$(echo "$_f" | jget reclaimable_bytes)" -lt $((8 << 20)) ] 2>/dev/null ||
		_bad="$_bad shmem-counted-reclaimable"
	if [ -z "$_bad" ]; then ok tmpfs; else fail tmpfs "${_bad# }"; fi
}

# --- cache: a reader streaming a 256 MiB file through a 64M cgroup: reclaimable, no alert ----
case_cache() {
	_h=10
	[ -s /mnt/data/big ] || { fail cache "no /mnt/data/big (data disk not mounted)"; return; }
	_d=$(mkcg oomcast-vm-cache 64M) || { fail cache "cannot create the cgroup"; return; }
	start_oomcast "$_d" $_h $W/cache-oomcast || { fail cache "oomcast not ready"; rmdir "$_d"; return; }
	_t0=$(now)
	run_in "$_d" $W/cache --shape cache --file /mnt/data/big --timeout 20
	wait_gone "$LPID" 40 || kill -KILL "$LPID"
	wait "$LPID"
	_rc=$?
	detail "reader exit $_rc after $(flt "$(now) - $_t0") s; memory.events: $(tr '\n' ' ' <"$_d/memory.events")"
	detail "memory.stat: $(grep -E '^(anon|file|pgscan|pgsteal|workingset_refault_file) ' "$_d/memory.stat" | tr '\n' ' ')"
	detail "disk reads: $(awk '{print $3 " sectors"}' /sys/block/vda/stat)"
	_max=$(ev "$_d" max)
	_k=$(ev "$_d" oom_kill)
	sleep 1
	stop "$OPID"
	dump $W/cache-oomcast.log stderr
	dump $W/cache-oomcast.json stdout
	rmdir "$_d"
	_n=$(count $W/cache-oomcast.json forecast)
	detail "forecast events: $_n"
	[ "$_rc" = 0 ] || { fail cache "the reader did not run to its time bound (exit $_rc, oom_kill=$_k)"; return; }
	# Without reaching the limit the case proves nothing: say so rather than pass.
	[ "$_max" -gt 0 ] 2>/dev/null || { fail cache "the cgroup never reached memory.max (max=$_max): workload too slow?"; return; }
	[ "$_n" = 0 ] || { fail cache "$_n forecast event(s) for reclaimable page cache"; return; }
	ok cache
}

# --- high: memory.high below memory.max, and a leak ----------------------------------------
# Above memory.high the kernel reclaims and then throttles the task (up to 2 s per return to
# user space); with no swap, anon memory cannot be reclaimed, so the leak crawls towards
# memory.max and may never reach it within the bound. The forecast must come before the kill,
# or, when there is no kill, before the throttling starts (the first "high" event).
case_high() {
	_h=10
	_d=$(mkcg oomcast-vm-high 64M 48M) || { fail high "cannot create the cgroup"; return; }
	start_oomcast "$_d" $_h $W/high-oomcast || { fail high "oomcast not ready"; rmdir "$_d"; return; }
	rm -f $W/high-throttle
	_t0=$(now)
	run_in "$_d" $W/high --rate 4 --timeout 30
	# note when the kernel first counts a memory.high breach (throttling starts then)
	(
		while alive "$LPID"; do
			[ "$(ev "$_d" high)" -gt 0 ] 2>/dev/null && { now >$W/high-throttle; break; }
			sleep 0.1
		done
	) &
	_wp=$!
	# leak checks its own time bound only between allocations, and a throttled allocation can
	# take long: past the bound, the harness kills it (exit 137 then is ours, not the kernel's)
	_by=
	if ! wait_gone "$LPID" 35; then
		_by=" (killed by the harness at the bound; memory.current then $(cat "$_d/memory.current"))"
		kill -KILL "$LPID"
	fi
	wait "$LPID"
	_rc=$?
	_te=$(now)
	wait "$_wp" 2>/dev/null
	_k=$(ev "$_d" oom_kill)
	[ "$_k" -ge 1 ] 2>/dev/null &&
		wait_grep $W/high-oomcast.json '"event"[ ]*:[ ]*"oom_kill"' 10 "$OPID"
	_cur=$(cat "$_d/memory.current")
	stop "$OPID"
	detail "leak exit $_rc$_by after $(flt "$_te - $_t0") s; memory.current $_cur; memory.events: $(tr '\n' ' ' <"$_d/memory.events")"
	dump $W/high-oomcast.log stderr
	dump $W/high-oomcast.json stdout
	rmdir "$_d"
	_f=$(first $W/high-oomcast.json forecast)
	_o=$(first $W/high-oomcast.json oom_kill)
	_th=$(cat $W/high-throttle 2>/dev/null)
	[ -n "$_th" ] && detail "throttling (first memory.high event) at t+$(flt "$_th - $_t0") s"
	[ -n "$_f" ] || { fail high "no forecast event (oom_kill=$_k)"; return; }
	_ft=$(echo "$_f" | jget time)
	detail "first forecast: t+$(flt "$_ft - $_t0") s usage $(echo "$_f" | jget usage_bytes) limit $(echo "$_f" | jget limit_bytes) eta $(echo "$_f" | jget eta_seconds) s"
	if [ "$_k" -ge 1 ] 2>/dev/null; then
		[ -n "$_o" ] || { fail high "killed (oom_kill=$_k) but no oom_kill event"; return; }
		_ot=$(echo "$_o" | jget time)
		detail "killed: oom_kill event at t+$(flt "$_ot - $_t0") s, lead $(flt "$_ot - $_ft") s"
		[ "$(flt "$_ft < $_ot")" = 1 ] || { fail high "forecast after the kill"; return; }
	else
		detail "not killed within the bound"
		[ -n "$_th" ] || { fail high "neither killed nor throttled: workload too slow?"; return; }
		detail "forecast lead over throttling: $(flt "$_th - $_ft") s"
		[ "$(flt "$_ft < $_th")" = 1 ] || { fail high "forecast came after throttling started"; return; }
	fi
	ok high
}

# --- discover: no --cgroup (the DaemonSet's mode), cgroups made after the start --------------
# A parent limited at 200M whose child is limited at 64M (each has a limit of its own: both
# watched) and a cgroup without a limit (not watched), all made after "ready". A 4 MB/s leak
# in the child is forecast against the child's limit and killed there; the parent, 136 MiB
# from its own limit at the kill (34 s at that pace, beyond 2 H), gets no forecast; removing
# the cgroups brings "unwatch" for both. Discovery rescans every 2-10 s.
case_discover() {
	_h=10
	start_oomcast "" $_h $W/disc || { fail discover "oomcast not ready"; return; }
	_dn=$CG/oomcast-vm-nolimit
	_dp=$CG/oomcast-vm-disc
	_dl=$_dp/leaf
	_bad=
	mkdir "$_dn" || _bad="$_bad mkdir-nolimit"
	mkcg oomcast-vm-disc 200M >/dev/null && echo +memory >"$_dp/cgroup.subtree_control" &&
		mkcg oomcast-vm-disc/leaf 64M >/dev/null || _bad="$_bad cannot-create-the-cgroups"
	_t0=$(now)
	if [ -z "$_bad" ] && wait_grep $W/disc.json "\"watch\".*\"cgroup\":\"$_dl\"" 15 "$OPID"; then
		detail "child watched after $(flt "$(now) - $_t0") s"
		run_in "$_dl" $W/disc-leak --rate 4 --timeout 60
		wait_gone "$LPID" 65 || kill -KILL "$LPID"
		wait "$LPID"
		_rc=$?
		wait_grep $W/disc.json '"event"[ ]*:[ ]*"oom_kill"' 10 "$OPID"
		detail "leak pid $LPID exit $_rc; child memory.events: $(tr '\n' ' ' <"$_dl/memory.events")"
	else
		_bad="$_bad child-not-watched-within-15s"
	fi
	for _d in "$_dl" "$_dp" "$_dn"; do rmdir "$_d" 2>/dev/null || _bad="$_bad cannot-remove-$_d"; done
	_t1=$(now)
	wait_grep $W/disc.json "\"unwatch\".*\"cgroup\":\"$_dp\"" 15 "$OPID" &&
		wait_grep $W/disc.json "\"unwatch\".*\"cgroup\":\"$_dl\"" 5 "$OPID" &&
		detail "unwatched after $(flt "$(now) - $_t1") s" || _bad="$_bad no-unwatch-within-15s"
	stop "$OPID"
	dump $W/disc.log stderr
	dump $W/disc.json stdout
	[ -n "$_bad" ] && { fail discover "${_bad# }"; return; }
	grep -q "\"watch\".*\"cgroup\":\"$_dp\"" $W/disc.json || _bad="$_bad parent-not-watched"
	grep -q "\"cgroup\":\"$_dn\"" $W/disc.json && _bad="$_bad unlimited-cgroup-in-events"
	grep -q "\"forecast\".*\"cgroup\":\"$_dp\"" $W/disc.json && _bad="$_bad forecast-for-the-parent"
	_f=$(grep -m1 "\"forecast\".*\"cgroup\":\"$_dl\"" $W/disc.json)
	_o=$(grep -m1 "\"oom_kill\".*\"cgroup\":\"$_dl\"" $W/disc.json)
	[ "$_rc" = 137 ] || _bad="$_bad leak-exit-$_rc-not-137"
	# the kill counts in the parent's memory.events too: still one kill
	[ "$(grep -c '"event":"oom_kill"' $W/disc.json)" = 1 ] || _bad="$_bad not-one-oom_kill"
	if [ -z "$_f" ] || [ -z "$_o" ]; then
		fail discover "${_bad# } no forecast ($([ -n "$_f" ] && echo 1 || echo 0)) or oom_kill ($([ -n "$_o" ] && echo 1 || echo 0)) for the child"
		return
	fi
	_lead=$(flt "$(echo "$_o" | jget time) - $(echo "$_f" | jget time)")
	detail "child: first forecast eta $(echo "$_f" | jget eta_seconds) s limit $(echo "$_f" | jget limit_bytes); lead $_lead s for H=$_h (accepted: $(flt "0.8 * $_h")..$(flt "1.5 * $_h"))"
	[ "$(echo "$_f" | jget limit_bytes)" = $((64 << 20)) ] || _bad="$_bad forecast-limit-not-the-child's"
	[ "$(echo "$_o" | jget pid)" = "$LPID" ] || _bad="$_bad oom_kill-pid-is-not-leak($LPID)"
	[ "$(flt "$_lead >= 0.8 * $_h && $_lead <= 1.5 * $_h")" = 1 ] || _bad="$_bad lead-${_lead}s-out-of-range"
	if [ -z "$_bad" ]; then ok discover; else fail discover "${_bad# }"; fi
}

# --- swap: a leak into memory.max with swap behind it ---------------------------------------
# 32M of memory and 48M of swap (v2 memory.swap.max; v1 memory.memsw.limit_in_bytes 80M, on
# memory plus swap): at the memory limit the kernel swaps the leak's pages out instead of
# killing it, until the swap limit is met as well, so the kill comes after about 80 MiB (20 s
# at 4 MB/s). A forecast blind to swap fires as the memory limit nears, 12 s (48 MiB) early
# at H=10, and its lead (1.8 H measured) fails the bound. The lower bound is 0.5 H, not the
# leak case's 0.8: on v2, when memory.swap.current passes half of memory.swap.max, it jumps
# by 10-15 MiB within a second (pages held in the swap cache, in memory and in swap both),
# so the kill comes 1-2.9 s before the ETA said (leads 7.1-9.1 s in 11 runs, docs/forecast.md), and
# 15 MiB is 3.75 s of this leak.
# swap_case NAME VERSION (2 or 1)
swap_case() {
	_c=$1 _v=$2 _h=10
	_n=50
	while [ ! -b /dev/vdb ] && [ $_n -gt 0 ]; do sleep 0.1; _n=$((_n - 1)); done
	[ -b /dev/vdb ] || { fail "$_c" "no swap disk (/dev/vdb)"; return; }
	mkswap /dev/vdb >/dev/null 2>&1 && swapon /dev/vdb ||
		{ fail "$_c" "mkswap/swapon /dev/vdb failed"; return; }
	detail "swap: $(awk '/SwapTotal|SwapFree/{printf "%s %s kB ", $1, $2}' /proc/meminfo); vm.swappiness $(cat /proc/sys/vm/swappiness)"
	if [ "$_v" = 2 ]; then
		_d=$(mkcg oomcast-vm-$_c 32M) && echo 48M >"$_d/memory.swap.max" ||
			{ fail "$_c" "cannot create the cgroup"; rmdir "$CG/oomcast-vm-$_c" 2>/dev/null; swapoff /dev/vdb; return; }
		_uf=memory.current _sf=memory.swap.current
	else
		_d=$CG/memory/oomcast-vm-$_c
		[ -e "$CG/memory/memory.limit_in_bytes" ] ||
			{ fail "$_c" "no v1 memory hierarchy at $CG/memory (see the console)"; swapoff /dev/vdb; return; }
		mkdir "$_d" && echo 32M >"$_d/memory.limit_in_bytes" &&
			echo 80M >"$_d/memory.memsw.limit_in_bytes" ||
			{ fail "$_c" "cannot create the v1 cgroup with a memsw limit"; rmdir "$_d"; swapoff /dev/vdb; return; }
		_uf=memory.usage_in_bytes _sf=memory.memsw.usage_in_bytes
	fi
	start_oomcast "$_d" $_h $W/$_c-oomcast || { fail "$_c" "oomcast not ready"; rmdir "$_d"; swapoff /dev/vdb; return; }
	_t0=$(now)
	run_in "$_d" $W/$_c --rate 4 --timeout 80
	# the most swap the cgroup held (v1: memory plus swap): proof that the kill came with swap
	# full, not at the memory limit; and memory and swap every 0.2 s (uptime, no forks but cat:
	# under software emulation a busy sampler slows the swap writes, and the swap cache then
	# holds more)
	(
		_m=0
		while alive "$LPID"; do
			_s=$(cat "$_d/$_sf" 2>/dev/null || echo 0)
			[ "$_s" -gt "$_m" ] 2>/dev/null && { _m=$_s; echo "$_m" >$W/$_c-peak; }
			read -r _up _x </proc/uptime
			echo "$_up $(cat "$_d/$_uf" 2>/dev/null) $_s" >>$W/$_c-series
			sleep 0.2
		done
	) &
	_wp=$!
	wait_gone "$LPID" 85 || kill -KILL "$LPID"
	wait "$LPID"
	_rc=$?
	_tk=$(now)
	wait "$_wp" 2>/dev/null
	wait_grep $W/$_c-oomcast.json '"event"[ ]*:[ ]*"oom_kill"' 10 "$OPID"
	stop "$OPID"
	if [ "$_v" = 2 ]; then
		_k=$(ev "$_d" oom_kill) _state="memory.events: $(tr '\n' ' ' <"$_d/memory.events")"
	else
		_k=$(awk '$1=="oom_kill"{print $2}' "$_d/memory.oom_control")
		_state="memory.oom_control: $(tr '\n' ' ' <"$_d/memory.oom_control")"
	fi
	_peak=$(cat $W/$_c-peak 2>/dev/null || echo 0)
	detail "leak pid $LPID exit $_rc after $(flt "$_tk - $_t0") s; peak $_sf $_peak; $_state"
	dump $W/$_c-series "uptime $_uf $_sf"
	dump $W/$_c-oomcast.log stderr
	dump $W/$_c-oomcast.json stdout
	rmdir "$_d"
	swapoff /dev/vdb
	_f=$(first $W/$_c-oomcast.json forecast)
	_o=$(first $W/$_c-oomcast.json oom_kill)
	[ "$_k" -ge 1 ] 2>/dev/null || { fail "$_c" "the kernel did not OOM-kill the leak (oom_kill=$_k rc=$_rc)"; return; }
	# Without swap in use the case proves nothing: say so rather than pass (v2: 32 MiB of
	# swap; v1: memory plus swap 32 MiB beyond the memory limit).
	_want=$((32 * 1024 * 1024))
	[ "$_v" = 1 ] && _want=$((64 * 1024 * 1024))
	[ "$_peak" -ge "$_want" ] 2>/dev/null ||
		{ fail "$_c" "$_sf peaked at $_peak bytes: swap not in play"; return; }
	[ -n "$_o" ] || { fail "$_c" "no oom_kill event"; return; }
	[ -n "$_f" ] || { fail "$_c" "no forecast event before the kill"; return; }
	_ft=$(echo "$_f" | jget time)
	_ot=$(echo "$_o" | jget time)
	_lead=$(flt "$_ot - $_ft")
	detail "first forecast: t+$(flt "$_ft - $_t0") s usage $(echo "$_f" | jget usage_bytes) limit $(echo "$_f" | jget limit_bytes) swap $(echo "$_f" | jget swap_bytes) of $(echo "$_f" | jget swap_limit_bytes) eta $(echo "$_f" | jget eta_seconds) s"
	detail "oom_kill: t+$(flt "$_ot - $_t0") s pid $(echo "$_o" | jget pid); lead $_lead s for a horizon of $_h s (accepted: $(flt "0.5 * $_h")..$(flt "1.5 * $_h"))"
	_bad=
	[ "$(echo "$_o" | jget pid)" = "$LPID" ] || _bad="$_bad oom_kill-pid-is-not-leak($LPID)"
	[ "$(echo "$_f" | jget swap_limit_bytes)" -gt 0 ] 2>/dev/null || _bad="$_bad forecast-without-swap_limit_bytes"
	[ "$(flt "$_lead >= 0.5 * $_h && $_lead <= 1.5 * $_h")" = 1 ] || _bad="$_bad lead-${_lead}s-out-of-range"
	if [ -z "$_bad" ]; then ok "$_c"; else fail "$_c" "${_bad# }"; fi
}

say booted
cases=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^vmcases=//p' | tr ',' ' ')
[ -n "$cases" ] || cases=kernel
detail "cases: $cases; uptime $(cut -d' ' -f1 /proc/uptime) s"
for c in $cases; do
	_c0=$(now)
	case $c in
	kernel) case_kernel ;;
	leak | classic | unseen | tmpfs | cache | high | discover)
		if command -v oomcast >/dev/null; then "case_$c"; else fail "$c" "no oomcast in the image"; fi
		;;
	swap | swap_v1)
		if command -v oomcast >/dev/null; then swap_case "$c" "$([ $c = swap ] && echo 2 || echo 1)"
		else fail "$c" "no oomcast in the image"; fi
		;;
	*) fail "$c" "unknown case" ;;
	esac
	detail "case $c took $(flt "$(now) - $_c0") s"
done
say 'done'
