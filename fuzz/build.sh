#!/usr/bin/env bash
# Builds every fuzz/fuzz_*.c as a libFuzzer binary in build-fuzz/.
# The library is compiled with coverage instrumentation once; each target
# links it statically, so it pulls in only the parser it calls.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${FUZZ_BUILD_DIR:-build-fuzz}
flags="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
cmake -S . -B "$out" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	-DCMAKE_C_FLAGS="$flags" >/dev/null
cmake --build "$out" --target weircore -j"$(nproc)" >/dev/null
for src in fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	clang -g -O1 -std=gnu17 -D_GNU_SOURCE -DWEIR_VERSION='"fuzz"' \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc \
		"$src" "$out/libweircore.a" -luv -ljansson -lcrypto $(pkg-config --libs srt librist) -lm -lpthread \
		-o "$out/$name"
done
echo "fuzz targets in $out/: $(cd "$out" && ls fuzz_* | tr '\n' ' ')"
