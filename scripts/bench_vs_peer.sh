#!/usr/bin/env bash
# Our pretraining step against the PyTorch peer (scripts/peer_bench.py) on this machine's CPU, back to
# back in one run: per decoder, `amr --no-gui bench --device cpu`, then the peer with fused attention
# (scaled_dot_product_attention) and with written-out attention, all with the same batch and step
# counts; then our speed over each peer's. Needs PyTorch (PYTHON names an interpreter that has it).
#
# Usage: scripts/bench_vs_peer.sh [OUT_FILE]
#   env: PYTHON (python3), BATCH (32), STEPS (3), THREADS (nproc), DECODERS ("amr mamp")
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
batch=${BATCH:-32}
steps=${STEPS:-3}
threads=${THREADS:-$(nproc)}
out=${1:-/dev/stdout}
"$py" -c 'import torch' || { echo "bench_vs_peer: $py cannot import torch (set PYTHON)" >&2; exit 1; }
cargo build --release -p amr --quiet
amr=${CARGO_TARGET_DIR:-target}/release/amr
tmp=$(mktemp -d)
{
    echo "bench_vs_peer: $(date -u +%F), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), batch $batch x 2 persons, 1 warm-up + $steps timed steps, peer threads $threads"
    for dec in ${DECODERS:-amr mamp}; do
        "$amr" --no-gui bench --device cpu --batch "$batch" --steps "$steps" --decoders "$dec" --json "$tmp/ours-$dec.json"
        "$py" scripts/peer_bench.py --threads "$threads" --batch "$batch" --steps "$steps" --decoders "$dec" --json "$tmp/fused-$dec.json"
        "$py" scripts/peer_bench.py --threads "$threads" --batch "$batch" --steps "$steps" --decoders "$dec" --manual-attention --json "$tmp/written-$dec.json"
    done
    "$py" - "$tmp" ${DECODERS:-amr mamp} <<'PY'
import json, sys
tmp, decoders = sys.argv[1], sys.argv[2:]
for dec in decoders:
    ours = json.load(open(f"{tmp}/ours-{dec}.json"))["modes"][0]["ms_per_step_median"]
    for peer in ("fused", "written"):
        theirs = json.load(open(f"{tmp}/{peer}-{dec}.json"))["modes"][0]["ms_per_step_median"]
        print(f"{dec:>4}: ours {ours:9.1f} ms/step, peer ({peer} attention) {theirs:9.1f} ms/step: our speed / peer's = {theirs / ours:.2f}")
PY
} | tee "$out"
rm -r "$tmp"
