#!/usr/bin/env bash
# Builds the web app into a static folder: app-web/build.sh [OUT_DIR] (default: dist/web).
# Needs the wasm32-unknown-unknown target and wasm-bindgen-cli at the version in Cargo.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-dist/web}"
target_dir="${CARGO_TARGET_DIR:-target}"
want=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')
if [ "$want" != "$have" ]; then
  echo "wasm-bindgen-cli $want is needed (found: ${have:-none}): cargo install wasm-bindgen-cli --version $want" >&2
  exit 1
fi
cargo build -p amr-web --lib --target wasm32-unknown-unknown --profile web
mkdir -p "$out"
wasm-bindgen --target web --no-typescript --out-dir "$out" "$target_dir/wasm32-unknown-unknown/web/amr_web.wasm"
if [ "${AMR_WASM_OPT:-0}" = "1" ] && command -v wasm-opt >/dev/null; then
  wasm-opt -O2 --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
    "$out/amr_web_bg.wasm" -o "$out/amr_web_bg.wasm"
fi
cp app-web/index.html "$out/index.html"
# The training worker's script: it loads the same module off the page's thread.
cp app-web/worker.js "$out/worker.js"
# The demo subset the page fetches after its first paint (the first take of each action is in the wasm).
cp assets/bandai2_web.safetensors "$out/"
# The pretrained model the reconstruction view opens with, fetched after the demo subset.
cp assets/bandai2_amr.safetensors "$out/"
echo "web app in $out: $(du -h "$out/amr_web_bg.wasm" | cut -f1) wasm, $(du -h "$out/bandai2_web.safetensors" | cut -f1) data"
