#!/usr/bin/env bash
# Runs every fuzz target on its kept corpus for SECONDS each (default 30),
# two at a time. New interesting inputs go to a scratch corpus; a crash
# fails the run and leaves its input in build-fuzz/crashes/ — copy it into
# fuzz/corpus/<target>/ as a regression input once fixed.
#   fuzz/run.sh [SECONDS]        (make fuzz-long: fuzz/run.sh 3600)
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
out=${FUZZ_BUILD_DIR:-build-fuzz}
mkdir -p "$out/crashes" "$out/scratch"
fail=0
run_one() {
	local name=$1 corpus=fuzz/corpus/${1#fuzz_}
	mkdir -p "$corpus" "$out/scratch/$name"
	if "$out/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$out/crashes/$name-" -print_final_stats=0 \
		"$out/scratch/$name" "$corpus" >"$out/$name.log" 2>&1; then
		echo "fuzz $name: ok ($(grep -c . "$out/$name.log") log lines)"
	else
		echo "fuzz $name: FAILED, see $out/$name.log"; tail -30 "$out/$name.log"
		return 1
	fi
}
pids=()
names=()
for bin in "$out"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	case "$name" in *.log) continue ;; esac
	run_one "$name" & pids+=($!); names+=("$name")
	if [ ${#pids[@]} -ge 2 ]; then
		wait "${pids[0]}" || fail=1
		pids=("${pids[@]:1}")
	fi
done
for p in "${pids[@]}"; do wait "$p" || fail=1; done
exit $fail
