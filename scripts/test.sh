#!/usr/bin/env bash
# README command 2: everything CI checks, in order, on this machine.
#
#   deps -> format check -> build + unit tests -> ASan/UBSan build + unit tests
#   -> e2e (pytest) against build/weir -> e2e against build-asan/weir -> fuzz smoke
#
# Every stage runs even if an earlier one failed (except that a stage whose
# build failed is skipped); the exit code is non-zero if any stage failed.
#
# Environment:
#   WEIR_BUILD_DIR       normal build dir (default build)
#   WEIR_ASAN_BUILD_DIR  sanitizer build dir (default build-asan)
#   WEIR_SKIP            space-separated stages to skip: deps format unit asan e2e bench e2e-asan fuzz
#   WEIR_E2E_ARGS        extra pytest arguments (e.g. "-k api -x")
#   WEIR_FUZZ_SECONDS    seconds per fuzz target in the smoke run (default 30)
#   WEIR_FUZZ_BUILD_DIR  fuzz build dir (default build-fuzz)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

BUILD_DIR="${WEIR_BUILD_DIR:-build}"
ASAN_DIR="${WEIR_ASAN_BUILD_DIR:-build-asan}"
SKIP=" ${WEIR_SKIP:-} "
JOBS=$(nproc 2>/dev/null || echo 2)
PY=/usr/bin/python3
export CTEST_OUTPUT_ON_FAILURE=1
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# Media clips for the e2e suite are generated once and shared by both runs.
export WEIR_E2E_CACHE="${WEIR_E2E_CACHE:-$ROOT/$BUILD_DIR/e2e-media}"

declare -a RESULTS=()
FAILED=0
T0=$SECONDS

skipped() { [[ "$SKIP" == *" $1 "* ]]; }

# stage NAME CMD...: runs one stage, records PASS/FAIL and its duration.
stage() {
    local name=$1
    shift
    if skipped "$name"; then
        RESULTS+=("SKIP  $name (WEIR_SKIP)")
        return 0
    fi
    echo
    echo "=== [$name] $* ==="
    local t=$SECONDS
    if "$@"; then
        RESULTS+=("PASS  $name ($((SECONDS - t))s)")
        return 0
    fi
    RESULTS+=("FAIL  $name ($((SECONDS - t))s)")
    FAILED=1
    return 1
}

cmake_build() {
    local dir=$1
    shift
    cmake -S . -B "$dir" "$@" && cmake --build "$dir" -j"$JOBS"
}

unit_tests() {
    local dir=$1
    # No tests registered yet is not a failure.
    if ! ctest --test-dir "$dir" -N 2>/dev/null | grep -q "Total Tests: [1-9]"; then
        echo "no unit tests registered in $dir"
        return 0
    fi
    ctest --test-dir "$dir" --output-on-failure -j"$JOBS" --timeout 300
}

e2e() {
    local bin=$1
    shift
    if [ ! -x "$bin" ]; then
        echo "no binary at $bin"
        return 1
    fi
    # shellcheck disable=SC2086
    WEIR_BIN="$ROOT/$bin" timeout -k 10 900 "$PY" -m pytest tests/e2e -p no:cacheprovider \
        -q -rfE --durations=5 ${WEIR_E2E_ARGS:-} "$@"
}

# Fuzz smoke. Hooks owned by the fuzz targets' author:
#   fuzz/build.sh  builds one libFuzzer executable per target, fuzz_<name>,
#                  into $FUZZ_BUILD_DIR (default build-fuzz);
#   fuzz/run.sh S  runs each for S seconds on its kept corpus, non-zero on a
#                  crash.
# Without run.sh, each $FUZZ_BUILD_DIR/fuzz_* runs here on a scratch corpus
# seeded from fuzz/corpus/<name>/.
fuzz_smoke() {
    if [ ! -f fuzz/build.sh ]; then
        echo "fuzz/build.sh not present: no fuzz targets yet"
        return 0
    fi
    local secs=${WEIR_FUZZ_SECONDS:-30}
    export FUZZ_BUILD_DIR="${WEIR_FUZZ_BUILD_DIR:-${FUZZ_BUILD_DIR:-build-fuzz}}"
    bash fuzz/build.sh || return 1
    if [ -f fuzz/run.sh ]; then
        timeout -k 10 $((secs * 20 + 120)) bash fuzz/run.sh "$secs"
        return
    fi
    local out=$FUZZ_BUILD_DIR rc=0 n=0 t name corpus
    for t in "$out"/fuzz_*; do
        [ -x "$t" ] && [ -f "$t" ] || continue
        name=$(basename "$t")
        corpus="$out/smoke-corpus/$name"
        mkdir -p "$corpus"
        [ -d "fuzz/corpus/${name#fuzz_}" ] && cp -r "fuzz/corpus/${name#fuzz_}/." "$corpus/"
        n=$((n + 1))
        if ! timeout -k 10 $((secs + 60)) "$t" -max_total_time="$secs" -timeout=10 \
            -rss_limit_mb=2048 -artifact_prefix="$out/" "$corpus" >"$out/$name.log" 2>&1; then
            echo "$name FAILED; last lines of $out/$name.log:"
            tail -n 40 "$out/$name.log"
            rc=1
        fi
    done
    echo "fuzz: ran $n target(s) for ${secs}s each"
    return $rc
}

stage deps bash scripts/deps.sh
stage format bash scripts/format-check.sh

build_ok=0
if stage build cmake_build "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
    build_ok=1
    stage unit unit_tests "$BUILD_DIR"
fi

asan_ok=0
if ! skipped asan; then
    SAN_CC=$(command -v clang || command -v gcc)
    if stage asan-build cmake_build "$ASAN_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DWEIR_SANITIZE=ON -DCMAKE_C_COMPILER="$SAN_CC"; then
        asan_ok=1
        stage asan-unit unit_tests "$ASAN_DIR"
    fi
else
    RESULTS+=("SKIP  asan (WEIR_SKIP)")
fi

if [ $build_ok = 1 ]; then
    stage e2e e2e "$BUILD_DIR/weir"
    # A 5 s load-tool run (50 RTMP + 50 HTTP-FLV viewers) keeps bench/ working.
    stage bench bash bench/smoke.sh "$BUILD_DIR/weir" "$BUILD_DIR/bench/weir-bench"
else
    RESULTS+=("SKIP  e2e (build failed)")
fi
if [ $asan_ok = 1 ]; then
    stage e2e-asan e2e "$ASAN_DIR/weir"
elif ! skipped asan; then
    RESULTS+=("SKIP  e2e-asan (sanitizer build failed)")
fi
stage fuzz fuzz_smoke

echo
echo "=== summary ($((SECONDS - T0))s) ==="
printf '  %s\n' "${RESULTS[@]}"
if [ $FAILED -ne 0 ]; then
    echo "RESULT: FAIL"
    exit 1
fi
echo "RESULT: PASS"
