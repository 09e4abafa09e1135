#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Copies the dashboard into DEST for mosquitto's http_dir: the page, its
# stylesheet and script, and MQTT.js's dist/mqtt.min.js (with its
# licence) from the npm package pinned by package-lock.json (installed
# here with `npm ci` when missing). The copy is never edited by hand and never committed. An
# operator's config.json in DEST (docs/dashboard.md, broker address) is
# left as it is.
# Usage: examples/dashboard/stage.sh DEST
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:?usage: stage.sh DEST}
if [ ! -f "$here/node_modules/mqtt/dist/mqtt.min.js" ] \
	|| ! cmp -s "$here/package-lock.json" "$here/node_modules/.package-lock.json.staged" 2>/dev/null; then
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
	cp "$here/package-lock.json" "$here/node_modules/.package-lock.json.staged"
fi
mkdir -p "$dest"
cp "$here/index.html" "$here/app.js" "$here/stations.js" "$here/style.css" "$dest/"
cp "$here/node_modules/mqtt/dist/mqtt.min.js" "$dest/mqtt.min.js"
cp "$here/node_modules/mqtt/LICENSE.md" "$dest/mqtt.min.js.LICENSE.md"
chmod -R a+rX "$dest"
