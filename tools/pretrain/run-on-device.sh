#!/usr/bin/env bash
# Pretraining on the GPU machine, in one device call (see tools/pretrain/train.py).
# Run from the repository root by the device tool, with the corpus carried along:
#   command: bash tools/pretrain/run-on-device.sh
#   carry:   .cache/corpus/train.bin .cache/corpus/val.bin .cache/corpus/index.json
#            .cache/corpus/prompts.json .cache/corpus/manifest.json
# The device tool brings back at most 8 files of 16 MiB each, and the F16 weights are
# larger, so the model folder comes back as a tar cut into 15 MiB parts, next to the log
# and training.json. Put it together here with:
#   mkdir -p DIR && cat FILES_AT/starter.tar.part-* | tar -xf - -C DIR
# LIMELIGHT_TRAIN_SECONDS sets the training time budget (default 360 s, which with setup,
# compilation, validation and export stays well inside one 10-minute call).
set -euo pipefail

DATA=${LIMELIGHT_CORPUS:-.cache/corpus}
OUT=${OUT:?OUT must name the output folder}
SECONDS_BUDGET=${LIMELIGHT_TRAIN_SECONDS:-360}
MODEL_DIR=$(mktemp -d)/starter
export PYTHONUNBUFFERED=1

for f in train.bin val.bin index.json prompts.json; do
  if [ ! -f "$DATA/$f" ]; then
    echo "run-on-device.sh: $DATA/$f is missing. Build it with 'npm run corpus' and carry .cache/corpus/$f." >&2
    exit 2
  fi
done

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c 'import torch, transformers, safetensors; print("torch", torch.__version__, "cuda", torch.version.cuda, "transformers", transformers.__version__)'

python3 tools/pretrain/train.py --data "$DATA" --out "$MODEL_DIR" --time-budget "$SECONDS_BUDGET" 2>&1 | tee "$OUT/train.log"
cp "$MODEL_DIR/training.json" "$OUT/"
tar -cf - -C "$MODEL_DIR" . | split -b 15M -d - "$OUT/starter.tar.part-"
ls -la "$MODEL_DIR" "$OUT"
