#!/bin/sh
# Installs the pinned front-end packages (package-lock.json) and copies the
# browser bundles the player lazy-loads into www/dist/:
#   dist/hls.min.js        hls.js (LL-HLS, CMAF and TS HLS over MSE)
#   dist/dash.all.min.js   dash.js (DASH over MSE)
# with their licence files. Run by the build (www/CMakeLists.txt) when node
# and npm exist; safe to run by hand. Exits non-zero when npm fails.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

# Several build trees may run this at once: one at a time.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$here/.build.lock"
	flock 9
fi

npm ci --no-audit --no-fund --loglevel=error

mkdir -p dist
copy() { # copy SRC DEST: only when different, via a temp file (atomic)
	if ! cmp -s "$1" "dist/$2"; then
		cp "$1" "dist/$2.tmp"
		mv -f "dist/$2.tmp" "dist/$2"
	fi
}
copy node_modules/hls.js/dist/hls.min.js hls.min.js
copy node_modules/hls.js/LICENSE hls.js.LICENSE.txt
copy node_modules/dashjs/dist/modern/umd/dash.all.min.js dash.all.min.js
copy node_modules/dashjs/dist/modern/umd/dash.all.min.js.LICENSE.txt dash.all.min.js.LICENSE.txt
copy node_modules/dashjs/LICENSE.md dashjs.LICENSE.md
# Versions, for the record (and for bug reports).
node -e 'const v=n=>require("./node_modules/"+n+"/package.json").version;
process.stdout.write(JSON.stringify({"hls.js":v("hls.js"),"dashjs":v("dashjs")})+"\n")' \
	>dist/versions.json
echo "www/dist: hls.js $(node -p 'require("./node_modules/hls.js/package.json").version'), dash.js $(node -p 'require("./node_modules/dashjs/package.json").version')"
