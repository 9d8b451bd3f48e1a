#!/usr/bin/env bash
# GPU check (README, "GPU check"): one command for a maintainer with one CUDA GPU; no network, under 8 minutes.
#   1. bench: full fine-tuning, BitFit, LoRA and SPAFIT on a randomly initialised bert-large-cased
#      (24 layers; SPAFIT N1=8, N2=16, the quick profile's 2/4 of 6 scaled), step time, forward time, peak memory;
#   2. compare: the quick profile (all-MiniLM-L6-v2 on the offline polarity corpus) trained on the GPU.
# Usage: scripts/gpu_check.sh [OUTPUT_FOLDER]   (default results/gpu-check); PYTHON picks the interpreter.
set -euo pipefail

out="${1:-results/gpu-check}"
python="${PYTHON:-python}"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false

if ! "$python" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    echo "gpu_check: torch sees no CUDA device; this check needs one GPU" >&2
    exit 1
fi
mkdir -p "$out"
"$python" -c "import torch; print('GPU:', torch.cuda.get_device_name(), '| torch', torch.__version__)" | tee "$out/device.txt"

echo "== 1/2 bench: bert-large-cased (random init), batch 32 x 128 tokens, bf16 autocast"
start=$(date +%s)
timeout 300 "$python" -m spafit_course.cli bench --model bert-large-cased --random-init --device cuda \
    --batch-size 32 --seq-length 128 --steps 10 --warmup 3 --rounds 2 --output "$out" | tee "$out/bench.txt"

echo "== 2/2 compare: the quick profile on the GPU"
timeout 240 "$python" -m spafit_course.cli compare --output "$out" | tee "$out/compare.txt"

echo "gpu_check: done in $(( $(date +%s) - start )) s; results in $out"
