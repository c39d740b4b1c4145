#!/usr/bin/env bash
# Installs weir's build and test dependencies from Debian 12 packages.
# Idempotent and fast: apt is not touched at all when everything is present.
# Extra packages may be given as arguments (or in WEIR_EXTRA_DEPS).
set -euo pipefail

PKGS=(
    build-essential cmake pkg-config
    libuv1-dev libjansson-dev libssl-dev libcmocka-dev
    libsrt-openssl-dev librist-dev srt-tools rist-tools
    clang clang-format libclang-rt-14-dev
    ffmpeg python3 python3-pytest
    valgrind procps iproute2
    gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
)
# shellcheck disable=SC2206
PKGS+=(${WEIR_EXTRA_DEPS:-} "$@")

missing=()
for p in "${PKGS[@]}"; do
    # "install ok installed" is the only state that counts as present.
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    [ -n "${WEIR_DEPS_QUIET:-}" ] || echo "deps: all ${#PKGS[@]} packages present"
    exit 0
fi

echo "deps: installing ${missing[*]}"
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "deps: need root (or sudo) to install: ${missing[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq </dev/null
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
