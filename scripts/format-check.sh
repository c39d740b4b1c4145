#!/usr/bin/env bash
# Checks (default) or fixes (--fix) the C formatting against .clang-format.
# Covers src/, tests/unit/, fuzz/, bench/. Exits 1 on violations.
set -euo pipefail
cd "$(dirname "$0")/.."

CLANG_FORMAT="${CLANG_FORMAT:-clang-format}"
mapfile -t files < <(find src tests/unit fuzz bench -type f \( -name '*.c' -o -name '*.h' \) \
    2>/dev/null | sort)
if [ "${#files[@]}" -eq 0 ]; then
    echo "format: no C files"
    exit 0
fi

if [ "${1:-}" = "--fix" ]; then
    "$CLANG_FORMAT" -i "${files[@]}"
    echo "format: formatted ${#files[@]} files"
    exit 0
fi

bad=()
for f in "${files[@]}"; do
    if ! "$CLANG_FORMAT" --dry-run -Werror "$f" >/dev/null 2>&1; then
        bad+=("$f")
    fi
done
if [ "${#bad[@]}" -ne 0 ]; then
    echo "format: ${#bad[@]} of ${#files[@]} files need formatting:"
    printf '  %s\n' "${bad[@]}"
    echo "format: run 'make format' (or scripts/format-check.sh --fix) to fix"
    exit 1
fi
echo "format: ${#files[@]} files OK"
