#!/usr/bin/env bash
# Re-vendors the web client's libraries from npm at the pinned versions below, as native ES
# modules whose imports point at each other (the page's CSP allows no inline import map), with
# their licences beside them. Each `.d.ts` beside a file hands its types to the npm package of
# the same version, which the test step installs for `tsc --checkJs` (web/package.json).
set -euo pipefail
cd "$(dirname "$0")/.."
PREACT=10.29.8 HTM=3.1.1 SIGNALS=2.11.4 SIGNALS_CORE=1.14.5
out=crates/confab-web/web/static/vendor
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && for p in preact@$PREACT htm@$HTM @preact/signals@$SIGNALS @preact/signals-core@$SIGNALS_CORE; do
  npm pack --silent "$p" >/dev/null; done
  for f in *.tgz; do mkdir "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done)
p=$tmp/preact-$PREACT/package h=$tmp/htm-$HTM/package s=$tmp/preact-signals-$SIGNALS/package c=$tmp/preact-signals-core-$SIGNALS_CORE/package
mkdir -p "$out/licenses"
cp "$p/dist/preact.module.js" "$out/preact.js"
sed 's#from"preact"#from"./preact.js"#g' "$p/hooks/dist/hooks.module.js" > "$out/hooks.js"
cp "$c/dist/signals-core.mjs" "$out/signals-core.js"
sed 's#from"@preact/signals-core"#from"./signals-core.js"#g; s#from"preact/hooks"#from"./hooks.js"#g; s#from"preact"#from"./preact.js"#g' \
  "$s/dist/signals.mjs" > "$out/signals.js"
cp "$h/dist/htm.mjs" "$out/htm.js"
sed -i 's|//# sourceMappingURL=.*$||' "$out"/*.js
cp "$p/LICENSE" "$out/licenses/preact.LICENSE"
cp "$h/LICENSE" "$out/licenses/htm.LICENSE"
cp "$s/LICENSE" "$out/licenses/preact-signals.LICENSE"
cp "$c/LICENSE" "$out/licenses/preact-signals-core.LICENSE"
echo "vendored preact $PREACT, htm $HTM, @preact/signals $SIGNALS, @preact/signals-core $SIGNALS_CORE into $out"
