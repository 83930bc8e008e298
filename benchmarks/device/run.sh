#!/usr/bin/env bash
# Device benchmark (benchmarks/device/bench_device.py): faster-whisper large-v3 architecture, demucs
# htdemucs architecture (random weights of the real shape), the embedded diarizer and a full
# `anim400k build`, printed as a table. Meant to finish in < 8 minutes on one NVIDIA GPU
# (TIMEOUT=480 s by default).
#
#   benchmarks/device/run.sh               # CUDA, full sizes (10 min of audio, 1 min episode build)
#   DEVICE=cpu benchmarks/device/run.sh    # CPU smoke run: tiny models, 20 s of audio
#   benchmarks/device/run.sh --quick       # tiny sizes on CUDA
#   benchmarks/device/run.sh --inputs DIR --build-copies 1 16 --jobs 8
#       # inputs made elsewhere (bench_device.py --prepare DIR), and a 16-episode build row
#
# Results on an NVIDIA H200 (2026-12-04): docs/scaling.md, "Measured on a GPU"; raw logs in
# benchmarks/device/results/.
# PYTHON overrides the interpreter (default: .venv/bin/python if present, else python3).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PYTHON:-}"
if [[ -z "$PY" ]]; then
  if [[ -x .venv/bin/python ]]; then PY=.venv/bin/python; else PY=python3; fi
fi
DEVICE="${DEVICE:-cuda}"
ARGS=("--device" "$DEVICE")
if [[ "$DEVICE" == "cpu" ]]; then ARGS+=("--quick"); fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1
exec timeout "${TIMEOUT:-480}" "$PY" benchmarks/device/bench_device.py "${ARGS[@]}" "$@"
