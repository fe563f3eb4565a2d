#!/usr/bin/env bash
# Reproduces the README's results on ../shared/data (CPU): the raw 1-NN baseline, pretraining with a fixed wall-clock budget
# (AMR and the MAMP decoder, the same minutes each), kNN and the linear probe of a random, the AMR and
# the MAMP encoder, fine-tuning on HDM05, and the robustness suite of a supervised model against
# MaskCLR on HDM05. Run folders go to runs/results/; finished ones are kept, unfinished ones redone.
set -euo pipefail
cd "$(dirname "$0")/.."
AMR=${AMR:-target/release/amr}
R=runs/results
mkdir -p "$R"
pretrain() { # dataset decoder
  [ -f "$R/$1-pretrain-$2/checkpoint.safetensors" ] ||
    "$AMR" --no-gui pretrain --config "configs/$1-pretrain-$2.toml" --out "$R/$1-pretrain-$2" --device cpu
}
evaluate() { # protocol folder args...
  local p=$1 dir=$R/$2; shift 2
  if [ -f "$dir/results.json" ] && { [ "$p" = knn ] || [ -f "$dir/accuracy.png" ]; }; then return; fi
  rm -rf "$dir"
  "$AMR" --no-gui "$p" --out "$dir" --device cpu "$@"
}
encoders() { # dataset
  for enc in random amr mamp; do
    init=()
    [ "$enc" = random ] || init=(--init "$R/$1-pretrain-$enc/checkpoint.safetensors")
    evaluate knn "$1-knn-$enc" --config "configs/$1-eval.toml" "${init[@]}"
    evaluate linear "$1-linear-$enc" --config "configs/$1-eval.toml" "${init[@]}"
  done
}
for d in hdm05 bandai2; do
  [ -f "$R/$d-baseline/results.json" ] || "$AMR" --no-gui baseline --config "configs/$d-eval.toml" --out "$R/$d-baseline"
done
for d in hdm05 bandai2; do pretrain $d amr; pretrain $d mamp; done
encoders hdm05
evaluate finetune hdm05-finetune-amr --config configs/hdm05-eval.toml --epochs 10 \
  --init "$R/hdm05-pretrain-amr/checkpoint.safetensors"
evaluate supervised hdm05-supervised --config configs/hdm05-maskclr.toml
evaluate maskclr hdm05-maskclr --config configs/hdm05-maskclr.toml
"$AMR" --no-gui robustness --models "$R/hdm05-supervised,$R/hdm05-maskclr" --names supervised,maskclr \
  --out "$R/hdm05-robustness" --device cpu
encoders bandai2
evaluate transfer bandai1-transfer-amr --config configs/bandai1-transfer.toml \
  --init "$R/bandai2-pretrain-amr/checkpoint.safetensors"
