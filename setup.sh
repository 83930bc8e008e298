#!/usr/bin/env bash
# Installs everything anim400k needs into ./.venv (idempotent; re-running is cheap).
set -euo pipefail
cd "$(dirname "$0")"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "[setup] error: anim400k needs Python >= 3.11; $PY is $("$PY" -V 2>&1 || echo missing)" \
    "(give another with PYTHON=python3.11 bash setup.sh)" >&2
  exit 1
fi
need_apt=()
command -v espeak-ng >/dev/null 2>&1 || need_apt+=(espeak-ng)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)  # the MUSHRA page's browser test (tests/e2e)
# webrtcvad (Resemblyzer's) is built from source by pip: a C compiler and Python's headers; and venv's ensurepip
pyver=$("$PY" -c 'import sys; print(f"python3.{sys.version_info[1]}")')
command -v cc >/dev/null 2>&1 || need_apt+=(build-essential)
"$PY" -c 'import os, sys, sysconfig as c; sys.exit(not os.path.exists(c.get_paths()["include"] + "/Python.h"))' \
  2>/dev/null || need_apt+=("$pyver-dev")
"$PY" -c 'import ensurepip' 2>/dev/null || need_apt+=("$pyver-venv")
# FFmpeg's shared libraries, for torchcodec: `datasets` decodes the Hugging Face export's Audio
# columns (ds[0]["jp_audio"]) with it, and torchcodec ships without FFmpeg (it loads FFmpeg 4-8).
# Only the libraries: anim400k itself decodes media with PyAV's bundled FFmpeg, never a system one.
ffmpeg_libs=1
ldconfig_bin=$(command -v ldconfig || echo /sbin/ldconfig)
# grep reads the whole list (with -q it stops at the first match, ldconfig gets SIGPIPE, and pipefail called the
# libraries missing: a re-run went to apt again)
"$ldconfig_bin" -p 2>/dev/null | grep 'libavdevice\.so\.' >/dev/null || ffmpeg_libs=0
if [ ${#need_apt[@]} -gt 0 ] || [ "$ffmpeg_libs" = 0 ]; then
  if [ -n "$SUDO" ] && ! command -v sudo >/dev/null 2>&1; then
    echo "[setup] error: system packages are missing (${need_apt[*]} and FFmpeg's libavdevice if named) and" \
      "there is no sudo: install them as root, then run setup.sh again" >&2
    exit 1
  fi
  $SUDO apt-get update -qq
  if [ "$ffmpeg_libs" = 0 ]; then  # libavdevice59 (Debian 12), libavdevice60 (Ubuntu 24.04): pulls the rest
    lib=$(apt-cache search --names-only '^libavdevice[0-9]+$' | cut -d' ' -f1 | sort -V | tail -n 1)
    [ -n "$lib" ] && need_apt+=("$lib")
  fi
  echo "[setup] installing system packages: ${need_apt[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
  "$PY" -m venv --clear .venv  # a .venv whose pip is missing (venv stopped at ensurepip) is made again
fi
stamp=.venv/.anim400k-installed
want=$(cat pyproject.toml setup.sh constraints.txt | sha256sum | cut -d' ' -f1)
# torch, torchaudio and torchcodec must be builds of one release: the voice-cloning (coqui-tts) and
# pyannote backends import torchaudio, whose compiled parts only load into the torch they were built for.
TORCH_PINS=("torch==2.9.1" "torchaudio==2.9.1" "torchcodec==0.8.*")
pip_install() {  # quiet pip, within the tested versions (constraints.txt), without the warnings about find-links
  # folders that a machine's pip config may name
  .venv/bin/python -m pip install -q -c constraints.txt "$@" 2>&1 | { grep -v "^WARNING: Location '.*' is ignored" || true; }
}
need_mb=11000  # measured peak of a first install: ~10.7 GB (9.3 GB stays in .venv)
check_disk() {  # fail early, in one line, instead of pip's "No space left on device" half-way through
  local have_mb
  have_mb=$(df -Pm .venv | awk 'NR==2 {print $4}')
  if [ -n "$have_mb" ] && [ "$have_mb" -lt "$need_mb" ]; then
    echo "[setup] error: $(pwd)/.venv needs about $((need_mb / 1000)) GB of free disk for its first install;" \
      "only $((have_mb / 1000)) GB free there (free some space, or set TMPDIR and the checkout on a bigger disk)" >&2
    exit 1
  fi
}
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  [ -d .venv/lib/python3*/site-packages/torch ] || check_disk
  echo "[setup] installing Python packages into .venv (first time: ~9.5 GB, a few minutes)"
  pip_install "${TORCH_PINS[@]}"
  pip_install -e ".[dev,whisper,export,ray,demucs,xtts,pyannote,anime,campplus]" "${TORCH_PINS[@]}" "setuptools>=77"
  echo "$want" > "$stamp"
fi
echo "[setup] ready: .venv/bin/anim400k"
