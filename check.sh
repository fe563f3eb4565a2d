#!/usr/bin/env bash
# Everything CI checks, in the order it checks it: formatting, lints (native and wasm32), the web
# build, and every test (unit, real-data, lavapipe GPU, CLI, desktop under Xvfb, web in Chromium).
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export CUBECL_AUTOTUNE_LEVEL="${CUBECL_AUTOTUNE_LEVEL:-minimal}"   # keep burn's autotune short on lavapipe
if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -d "$XDG_RUNTIME_DIR" ]; then
  export XDG_RUNTIME_DIR="$(mktemp -d)"; chmod 700 "$XDG_RUNTIME_DIR"
fi
jobs="${CARGO_BUILD_JOBS:-2}"
step() { echo; echo "== $* ($(date +%T))"; }

step "rustfmt"
cargo fmt --all -- --check
step "clippy (native)"
cargo clippy -j "$jobs" --workspace --all-targets -- -D warnings
step "clippy (wasm32, with the calls that break in a browser banned: clippy-wasm/clippy.toml)"
CLIPPY_CONF_DIR=clippy-wasm cargo clippy -j "$jobs" -p amr-core -p amr-ui -p amr-web --lib --target wasm32-unknown-unknown -- -D warnings
step "web build"
export AMR_WEB_DIST="$CARGO_TARGET_DIR/web-dist"
app-web/build.sh "$AMR_WEB_DIST"
step "tests"
if [ -z "${AMR_SHARED:-}" ]; then
  # (libtest hides the SKIPPED lines of passing tests: say it here.)
  echo "******** AMR_SHARED is not set: the tests on ../shared data (HDM05, the whole Bandai-2 file, the"
  echo "******** MAMP fixture) are SKIPPED and check nothing. Set AMR_SHARED=<path to ../shared> to run them."
fi
cargo test --locked -j "$jobs" --workspace -- --test-threads 2
