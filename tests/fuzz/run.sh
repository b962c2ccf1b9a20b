#!/usr/bin/env bash
# run.sh: build the fuzzers (libFuzzer + ASan + UBSan) and run each for SECONDS: the record
# reader over the seeds in tests/fuzz/corpus (new inputs to build/fuzz/corpus), the
# forecaster and engine over tests/fuzz/corpus-forecast (new inputs to
# build/fuzz/corpus-forecast). Crashes go to build/fuzz/.
# `run.sh --seed` rewrites the seeds with the current writer instead.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
out="$root/build/fuzz"
cflags=(-g -O1 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$root/user" -I"$root/bpf")
mkdir -p "$out/corpus"

if [[ "${1:-}" == "--seed" ]]; then
	cc "${cflags[@]}" "$root/tests/fuzz/gen_seeds.c" "$root/user/record.c" -lz -lm -o "$out/gen_seeds"
	"$out/gen_seeds" "$root/tests/fuzz/corpus"
	exit 0
fi

secs=${1:-60}
[[ "$secs" =~ ^[0-9]+$ ]] || { echo "usage: $0 [SECONDS | --seed]" >&2; exit 2; }
# The CRC check is skipped in this build (FUZZING_BUILD_MODE_...) so that mutated records
# reach the decoder instead of all stopping at the checksum; unit tests cover the CRC.
clang "${cflags[@]}" -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	"$root/tests/fuzz/fuzz_record.c" "$root/user/record.c" -lz -lm -o "$out/fuzz_record"
# The forecaster and engine on any series of observations, from seeds of the main shapes
# (tests/fuzz/corpus-forecast: 1000 observations each, so the long-history rules run at once).
clang "${cflags[@]}" -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	"$root/tests/fuzz/fuzz_forecast.c" "$root/user/engine.c" "$root/user/forecast.c" \
	"$root/user/cgroup.c" -lm -o "$out/fuzz_forecast"
mkdir -p "$out/corpus-forecast"

# run NAME MAX_LEN CORPUS...: SECONDS of one target; says ok / not ok
run() {
	local name=$1 max=$2 log="$out/$1.log" rc=0
	shift 2
	"$out/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len="$max" -print_final_stats=1 -artifact_prefix="$out/" "$@" 2> "$log" || rc=$?
	if [ "$rc" = 0 ]; then
		echo "ok - $name: $(grep -o 'Done [0-9]* runs' "$log" | tail -1) in $secs s, no crash, hang or leak"
	else
		tail -n 40 "$log" >&2
		echo "not ok - $name: exit $rc, the input is saved in $out/ (log $log)"
	fi
	return "$rc"
}
rc=0
run fuzz_record 65536 "$out/corpus" "$root/tests/fuzz/corpus" || rc=1
run fuzz_forecast 12289 "$out/corpus-forecast" "$root/tests/fuzz/corpus-forecast" || rc=1
exit "$rc"
