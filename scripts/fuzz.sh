#!/usr/bin/env bash
# Coverage-guided fuzzing of every reader (fuzz/fuzz_targets/*.rs) with libFuzzer through cargo-fuzz,
# on the stable toolchain (RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its sanitizer and coverage flags).
# The seeds come from an example of the workspace, built like the rest of it (CARGO_TARGET_DIR is
# honoured).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Each target runs SECONDS (default 600) under AddressSanitizer with debug assertions, a 2 s timeout per
# input, a 1 GiB cap on any one allocation and 2 GiB on the process, in libFuzzer's fork mode so that
# it goes on after a finding. The corpus grows in
# target/fuzz-work/corpus/<target> (kept between runs), seeded from real files: the repository's
# Bandai-Namco clips (ui/examples/fuzz_seeds.rs) and, when ../shared is beside the clone, the HDM05
# ASF/AMC files and the MAMP checkpoint. What a target finds lands in target/fuzz-work/artifacts/<target>;
# a finding becomes a file in tests/data/fuzz/<target>/ that the regression tests read
# (core/tests/fuzz_regressions.rs, ui/tests/fuzz_regressions.rs).
#
# Environment: FUZZ_JOBS (targets at once, default 2), FUZZ_TARGET_DIR (build folder),
# AMR_SHARED_DIR (default ../shared).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
secs=${1:-600}
shift || true
jobs=${FUZZ_JOBS:-2}
target_dir=${FUZZ_TARGET_DIR:-$root/target/fuzz}
work=$root/target/fuzz-work
shared=${AMR_SHARED_DIR:-$root/../shared}

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cd fuzz/fuzz_targets && ls ./*.rs | sed 's|./||; s|\.rs$||')
fi

echo "== building the fuzz targets (ASan, debug assertions)"
# RUSTC_BOOTSTRAP only here: cargo fingerprints it, and setting it for the other builds would rebuild
# their dependencies.
(cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build -O -a --target-dir "$target_dir")
bin=$target_dir/x86_64-unknown-linux-gnu/release

echo "== seeds"
rm -rf "$work/seeds"
cargo run --quiet -p amr-ui --example fuzz_seeds -- "$work/seeds"
if [ -d "$shared/data/raw/asf-amc" ]; then
    mkdir -p "$work/seeds/asf_amc"
    asf=$(ls "$shared"/data/raw/asf-amc/*.asf | head -1)
    for amc in $(ls "$shared"/data/raw/asf-amc/*.amc | head -2); do
        # The ASF, a NUL byte, then the AMC's header and first three frames.
        { cat "$asf"; printf '\0'; awk '/^[0-9]+$/ && $1 > 3 { exit } { print }' "$amc"; } \
            >"$work/seeds/asf_amc/$(basename "$amc").seed"
    done
fi
fixture=$shared/fixtures/mamp-checkpoint/checkpoint-399.pth
if [ -f "$fixture" ]; then
    mkdir -p "$work/seeds/mamp_checkpoint" "$work/seeds/mamp_pickle"
    cp "$fixture" "$work/seeds/mamp_checkpoint/"
    python3 -c 'import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
name = next(n for n in z.namelist() if n.endswith("data.pkl"))
open(sys.argv[2], "wb").write(z.read(name))' "$fixture" "$work/seeds/mamp_pickle/data.pkl"
fi
# Earlier findings seed the next run too.
for t in "${targets[@]}"; do
    if [ -d "tests/data/fuzz/$t" ]; then
        mkdir -p "$work/seeds/$t"
        cp tests/data/fuzz/"$t"/* "$work/seeds/$t/"
    fi
done

echo "== running each target for ${secs} s, ${jobs} at a time"
run_one() {
    local t=$1
    mkdir -p "$work/corpus/$t" "$work/artifacts/$t" "$work/seeds/$t"
    "$bin/$t" "$work/corpus/$t" "$work/seeds/$t" \
        -max_total_time="$secs" -timeout=2 -malloc_limit_mb=1024 -rss_limit_mb=2048 \
        -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -artifact_prefix="$work/artifacts/$t/" -print_final_stats=1 \
        >"$work/$t.log" 2>&1 || true
    echo "   $t done"
}
export -f run_one
export bin work secs
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}'

echo "== summary"
printf '%-18s %12s %8s %8s %8s %9s\n' target executions cov features corpus findings
for t in "${targets[@]}"; do
    log=$work/$t.log
    execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
    corpus=$(ls "$work/corpus/$t" | wc -l)
    found=$(ls "$work/artifacts/$t" | wc -l)
    printf '%-18s %12s %8s %8s %8s %9s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$corpus" "$found"
done
echo "logs: $work/<target>.log; findings: $work/artifacts/<target>/"
