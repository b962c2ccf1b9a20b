#!/usr/bin/env bash
# run.sh: build the record fuzzer (libFuzzer + ASan + UBSan) and run it for SECONDS over the
# seeds in tests/fuzz/corpus. New inputs go to build/fuzz/corpus, crashes to build/fuzz/.
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
log="$out/fuzz.log"
if "$out/fuzz_record" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-max_len=65536 -print_final_stats=1 -artifact_prefix="$out/" \
	"$out/corpus" "$root/tests/fuzz/corpus" 2> "$log"; then
	echo "ok - fuzz_record: $(grep -o 'Done [0-9]* runs' "$log" | tail -1) in $secs s, no crash, hang or leak"
else
	rc=$?
	tail -n 40 "$log" >&2
	echo "not ok - fuzz_record: exit $rc, the input is saved in $out/ (log $log)"
	exit 1
fi
