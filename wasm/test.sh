#!/usr/bin/env bash
# The browser tests (issue #12): the wasm package in real headless Chromium.
#   bash wasm/test.sh                 every scenario
#   bash wasm/test.sh rotate garbage  only those scenarios (names in wasm/test/run.mjs, and
#                                     `types`)
# Installs what it needs when it is missing: chromium (apt), node + playwright-core and
# typescript (npm), wasm-bindgen-cli (cargo, ~5 min to build, at the version wasm/Cargo.toml
# pins). Builds the package, serves it on 127.0.0.1, runs the scenarios of wasm/test/run.mjs,
# type-checks sframe.d.ts (scenario `types`), then the native side of the interop test on the
# frames the page exported. Prints `N passed, M failed` last; on a failure the screenshot and
# console log of each failed scenario are in $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target="${CARGO_TARGET_DIR:-$root/target}"
work="$target/wasm-browser"
out="${OUT:-$work/out}"
site="$work/site"
wb_version="$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' wasm/Cargo.toml)"
playwright_version=1.65.1
typescript_version=5.9.3
step() { printf '\n=== %s\n' "$*"; }
start=$SECONDS

step "tools (installed only when missing)"
if ! command -v chromium >/dev/null; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
if ! command -v node >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm
fi
if [ ! -f "$work/node/node_modules/playwright-core/package.json" ]; then
  mkdir -p "$work/node"
  (cd "$work/node" && npm init -y >/dev/null && npm install --no-audit --no-fund "playwright-core@$playwright_version")
fi
if [ ! -f "$work/node/node_modules/typescript/package.json" ]; then
  mkdir -p "$work/node"
  (cd "$work/node" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --no-audit --no-fund "typescript@$typescript_version")
fi
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wb_version" ]; then
  # No --locked: the CLI's lockfile pins crates this registry mirror may lack (research/browser.md).
  cargo install wasm-bindgen-cli --version "$wb_version"
fi
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
chromium --version 2>/dev/null | head -1

step "build: the wasm package"
CARGO_PROFILE_RELEASE_LTO=true CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 \
  cargo build --release -p secure-frame-wasm --target wasm32-unknown-unknown
rm -rf "$site" "$out"
mkdir -p "$site/pkg" "$site/test" "$out"
wasm-bindgen --target web --out-dir "$site/pkg" \
  "$target/wasm32-unknown-unknown/release/secure_frame_wasm.wasm"
cp wasm/package.json wasm/js/* "$site/pkg/"
cp wasm/test/index.html wasm/test/page.js wasm/test/bench.html wasm/test/bench-worker.js "$site/test/"
cp wasm/tests/fixtures/native-frames.json "$site/test/"
ls -l "$site/pkg" | awk 'NR > 1 { print $5, $9 }'

step "scenarios in headless Chromium"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$site" >"$out/http.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/test/index.html')" 2>/dev/null && break
  sleep 0.1
done
cp wasm/test/run.mjs "$work/node/"
set +e
(cd "$work/node" && BASE="http://127.0.0.1:$port" node run.mjs "$out" "$@") | tee "$out/run.log"
set -e
read -r passed failed < <(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$out/run.log" | tail -1)
passed="${passed:-0}"
failed="${failed:-1}"
# The README's screenshot: the demo page at the end of the codec-aware VP8 scenario
# (UPDATE_SCREENSHOT=1 writes it to wasm/demo.png).
if [ -f "$out/codec-aware-VP8.png" ]; then
  cp "$out/codec-aware-VP8.png" "$out/demo.png"
  if [ -n "${UPDATE_SCREENSHOT:-}" ]; then cp "$out/demo.png" wasm/demo.png; fi
fi

step "types: sframe.d.ts under tsc --strict (wasm/test/types-check.ts)"
if [ "$#" -eq 0 ] || printf '%s\n' "$@" | grep -qx types; then
  rm -rf "$work/types"
  mkdir -p "$work/types"
  cp wasm/js/sframe.d.ts wasm/test/types-check.ts "$work/types/"
  if (cd "$work/types" && "$work/node/node_modules/.bin/tsc" --noEmit --strict --target es2022 \
    --module es2022 --moduleResolution bundler --lib es2022,dom,dom.iterable types-check.ts) \
    >"$out/types.log" 2>&1; then
    passed=$((passed + 1))
    echo "ok   types"
  else
    failed=$((failed + 1))
    cat "$out/types.log"
    echo "FAIL types  [$out/types.log]"
  fi
else
  echo "(not asked for)"
fi

step "native side: the frames the page exported, with the library on the host"
if ! ls "$out"/export-*.json >/dev/null 2>&1; then
  echo "(no export scenario ran)"
elif SFRAME_BROWSER_FRAMES="$out" cargo test -p secure-frame-wasm --test native_interop; then
  passed=$((passed + 1))
  echo "ok   native-interop"
else
  failed=$((failed + 1))
  echo "FAIL native-interop"
fi

printf '\nbrowser tests took %ss; output in %s\n' "$((SECONDS - start))" "$out"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
