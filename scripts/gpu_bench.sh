#!/usr/bin/env bash
# GPU figures on a machine with an NVIDIA GPU, nvidia-smi and PyTorch with CUDA:
#   1. `amr --no-gui bench --device gpu`: both decoders at the paper configuration through burn's wgpu
#      backend (Vulkan), with the device memory burn's allocator reserved;
#   2. the PyTorch peer (scripts/peer_bench.py) on CUDA, fused and written-out attention;
#   3. a sustained AMR pretraining run of MINUTES on synthetic NTU-sized data (4096 sequences of 150
#      frames x 2 persons x 25 joints) through wgpu, with its throughput.
# Each phase's peak device memory as nvidia-smi sees it (sampled every 250 ms) is printed after it.
#
# Usage: scripts/gpu_bench.sh AMR_BINARY OUT_DIR [MINUTES]   (run from the repository root)
set -u
amr=$1
out=$2
minutes=${3:-10}
mkdir -p "$out"
log="$out/gpu-bench.txt"

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 | tee "$log"

# phase NAME TIMEOUT_S COMMAND...: runs the command with nvidia-smi sampling beside it.
phase() {
    local name=$1 limit=$2
    shift 2
    echo "== $name: $*" | tee -a "$log"
    nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv,noheader,nounits -lms 250 >"/tmp/smi-$name.csv" 2>&1 &
    local smi=$!
    local t0=$SECONDS
    timeout "$limit" "$@" 2>&1 | tee -a "$log"
    local rc=${PIPESTATUS[0]}
    kill "$smi" 2>/dev/null
    wait "$smi" 2>/dev/null
    awk -F', ' -v n="$name" -v rc="$rc" -v s=$((SECONDS - t0)) \
        '$1+0>m{m=$1+0} $2+0>u{u=$2+0} END{printf "== %s: exit %s, %d s, peak device memory %d MiB (nvidia-smi), peak utilisation %d %%\n", n, rc, s, m, u}' \
        "/tmp/smi-$name.csv" | tee -a "$log"
}

phase bench 200 "$amr" --no-gui bench --device gpu --batch 32 --warmup 3 --steps 10 --json "$out/bench-gpu.json"
phase peer-fused 90 python3 scripts/peer_bench.py --device cuda --batch 32 --warmup 3 --steps 10 --json "$out/peer-cuda.json"
phase sustained $((${minutes%.*} * 60 + 60)) "$amr" --no-gui bench --device gpu --decoders amr --warmup 0 --steps 1 \
    --minutes "$minutes" --sequences 4096 --json "$out/sustained.json"
phase peer-written-out 90 python3 scripts/peer_bench.py --device cuda --batch 32 --warmup 3 --steps 10 --manual-attention
