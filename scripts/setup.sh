#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine: Mesa's lavapipe (Vulkan on the CPU), Xvfb,
# Chromium, ImageMagick, the wasm32 target and wasm-bindgen-cli at the version in Cargo.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
pkgs="mesa-vulkan-drivers libvulkan1 xvfb chromium chromium-driver imagemagick xdotool binaryen"
missing=""
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
rustup show active-toolchain >/dev/null   # installs the toolchain of rust-toolchain.toml if needed
rustup target add wasm32-unknown-unknown >/dev/null
want=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$want" != "$have" ]; then
  echo "installing wasm-bindgen-cli $want"
  # Not --locked: the registry mirror lacks some of the versions that tool's own lockfile pins.
  cargo install -q wasm-bindgen-cli --version "$want"
fi
echo "setup done"
