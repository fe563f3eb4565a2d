#!/usr/bin/env bash
# Reproduces the README's results on ../shared/data (CPU): pretraining with a fixed wall-clock budget
# (AMR and the MAMP decoder, the same minutes each), then kNN and the linear probe of a random, the
# AMR and the MAMP encoder on HDM05 and Bandai-2, fine-tuning on HDM05, and the robustness suite of a
# supervised model against MaskCLR on HDM05. Run folders go to runs/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
AMR=${AMR:-target/release/amr}
R=runs/results
mkdir -p "$R"
for d in hdm05 bandai2; do
  for dec in amr mamp; do
    [ -f "$R/$d-pretrain-$dec/checkpoint.safetensors" ] || \
      "$AMR" --no-gui pretrain --config configs/$d-pretrain-$dec.toml --out "$R/$d-pretrain-$dec" --device cpu
  done
done
for d in hdm05 bandai2; do
  for enc in random amr mamp; do
    init=()
    [ "$enc" = random ] || init=(--init "$R/$d-pretrain-$enc/checkpoint.safetensors")
    for p in knn linear; do
      [ -f "$R/$d-$p-$enc/results.json" ] && [ ! -f "$R/$d-$p-$enc/eval.safetensors" -o "$p" = knn ] && continue
      "$AMR" --no-gui $p --config configs/$d-eval.toml "${init[@]}" --out "$R/$d-$p-$enc" --device cpu
    done
  done
done
"$AMR" --no-gui finetune --config configs/hdm05-eval.toml --init "$R/hdm05-pretrain-amr/checkpoint.safetensors" --out "$R/hdm05-finetune-amr" --device cpu
"$AMR" --no-gui supervised --config configs/hdm05-maskclr.toml --out "$R/hdm05-supervised" --device cpu
"$AMR" --no-gui maskclr --config configs/hdm05-maskclr.toml --out "$R/hdm05-maskclr" --device cpu
"$AMR" --no-gui robustness --models "$R/hdm05-supervised,$R/hdm05-maskclr" --names supervised,maskclr --out "$R/hdm05-robustness" --device cpu
