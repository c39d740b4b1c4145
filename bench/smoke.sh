#!/usr/bin/env bash
# CI smoke run of the load tool against weir (< 60 s):
#   bench/smoke.sh [WEIR_BIN [WEIR_BENCH_BIN]]
# Starts weir on free loopback ports, publishes 10 s of testsrc2 + sine
# with ffmpeg -re, runs 50 RTMP viewers, 50 HTTP-FLV viewers, 20 LL-HLS
# players and 10 SRT viewers for 5 s each (at the same time), prints the
# tables and fails unless every viewer received video (HLS, SRT: video PES
# in the MPEG-TS).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WEIR=${1:-$ROOT/build-bench/weir}
BENCH=${2:-$(dirname "$WEIR")/bench/weir-bench}
[ -x "$WEIR" ] || { echo "smoke: no weir binary at $WEIR" >&2; exit 1; }
[ -x "$BENCH" ] || { echo "smoke: no weir-bench at $BENCH" >&2; exit 1; }
command -v ffmpeg >/dev/null || { echo "smoke: ffmpeg missing" >&2; exit 1; }

TMP=$(mktemp -d /tmp/weir-smoke.XXXXXX)
WEIR_PID="" FF_PID=""
cleanup() {
	for p in $FF_PID $WEIR_PID; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in $FF_PID $WEIR_PID; do
		wait "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT

free_port() { # below the ephemeral range, not answering
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 12000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
	done
	return 1
}

wait_port() {
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

API=$(free_port)
HTTP=$(free_port)
RTMP=$(free_port)
SRT=$(free_port) # a free TCP port number: most likely a free UDP one too
cat >"$TMP/weir.json" <<EOF
{"config":{"controller":{"port":$API,"interface":"127.0.0.1"},
 "protocols":[{"connector":"HTTP","port":$HTTP},{"connector":"RTMP","port":$RTMP},
  {"connector":"SRT","port":$SRT}],
 "debug":3},
 "streams":{"live":{"name":"live","source":"push://127.0.0.1"}}}
EOF
"$WEIR" -c "$TMP/weir.json" >"$TMP/weir.log" 2>&1 &
WEIR_PID=$!
wait_port "$RTMP" && wait_port "$HTTP" || { cat "$TMP/weir.log" >&2; exit 1; }

ffmpeg -hide_banner -loglevel error -re \
	-f lavfi -i testsrc2=size=640x360:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 \
	-t 10 -c:v libx264 -preset ultrafast -tune zerolatency -g 30 -b:v 1M -pix_fmt yuv420p \
	-c:a aac -b:a 64k -f flv "rtmp://127.0.0.1:$RTMP/live/live+smoke" >"$TMP/ffmpeg.log" 2>&1 &
FF_PID=$!

# Wait until the stream plays over HTTP-FLV (weir answers 404 before).
for _ in $(seq 1 50); do
	code=$(curl -s -m 0.5 -o /dev/null -w '%{http_code}' \
		"http://127.0.0.1:$HTTP/live+smoke.flv" 2>/dev/null || true)
	[ "$code" = 200 ] && break
	sleep 0.2
done
# ... and until the LL-HLS playlist has parts.
for _ in $(seq 1 50); do
	curl -s -m 0.5 "http://127.0.0.1:$HTTP/hls/live+smoke/index.m3u8" 2>/dev/null |
		grep -q STREAM-INF && break
	sleep 0.2
done

# No --pid: both runs share the server, so its CPU per GB would be double counted.
common=(--viewers 50 --ramp 100 --duration 5 --warmup 0 --quiet
	--expect-frames)
"$BENCH" rtmp-play --url "rtmp://127.0.0.1:$RTMP/play/live+smoke" --label smoke \
	"${common[@]}" --json "$TMP/rtmp.json" >"$TMP/rtmp.txt" 2>&1 &
R=$!
"$BENCH" flv-play --url "http://127.0.0.1:$HTTP/live+smoke.flv" --label smoke \
	"${common[@]}" --json "$TMP/flv.json" >"$TMP/flv.txt" 2>&1 &
F=$!
"$BENCH" hls-play --url "http://127.0.0.1:$HTTP/hls/live+smoke/index.m3u8" --label smoke \
	--viewers 20 --ramp 100 --duration 5 --warmup 0 --quiet --expect-frames \
	--json "$TMP/hls.json" >"$TMP/hls.txt" 2>&1 &
H=$!
"$BENCH" srt-play --url "srt://127.0.0.1:$SRT?streamid=live+smoke" --label smoke \
	--viewers 10 --ramp 100 --duration 5 --warmup 0 --quiet --expect-frames \
	--json "$TMP/srt.json" >"$TMP/srt.txt" 2>&1 &
S=$!
rc=0
wait $R || rc=$?
wait $F || rc=$((rc ? rc : $?))
wait $H || rc=$((rc ? rc : $?))
wait $S || rc=$((rc ? rc : $?))
cat "$TMP/rtmp.txt" "$TMP/flv.txt" "$TMP/hls.txt" "$TMP/srt.txt"
if [ "$rc" != 0 ]; then
	echo "smoke: FAILED (weir-bench exit $rc); weir log:" >&2
	tail -20 "$TMP/weir.log" >&2
	exit 1
fi
echo "smoke: OK (every viewer received video)"
rm -rf "$TMP"
