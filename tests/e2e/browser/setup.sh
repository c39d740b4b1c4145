#!/bin/sh
# Installs what the browser tests need: Debian's Chromium (apt, only when
# missing) and playwright-core (npm ci, pinned by package-lock.json; no
# browser download: the tests drive /usr/bin/chromium). Idempotent.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -x "${WEIR_CHROMIUM:-/usr/bin/chromium}" ]; then
	if [ "$(id -u)" = 0 ]; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
	else
		echo "setup.sh: chromium missing; run as root or: sudo apt-get install chromium" >&2
		exit 1
	fi
fi

cd "$here"
if ! command -v npm >/dev/null 2>&1; then
	echo "setup.sh: npm missing (apt-get install npm, or Node 18+)" >&2
	exit 1
fi
# Skip npm ci when the installed tree already matches the lock file.
if [ ! -f node_modules/.package-lock.json ] ||
	[ package-lock.json -nt node_modules/.package-lock.json ]; then
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
fi
