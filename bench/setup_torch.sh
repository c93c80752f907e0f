#!/usr/bin/env bash
# Installs what the PyTorch side-by-side comparison needs (bench/compare.sh) and nothing else:
# Debian's python3-torch (1.13, with functorch), python3-h5py / python3-numpy for the
# baseline's file access, and GNU time for peak-memory measurements. Only missing packages
# are installed and `apt-get update` runs only then (idempotent, instant when present).
# Deliberately separate from scripts/setup.sh: eqflow itself never needs PyTorch.
# The baseline runs with Debian's Python, /usr/bin/python3.
set -euo pipefail

packages=(python3 python3-torch python3-h5py python3-numpy time)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup_torch: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || {
    echo "setup_torch: need root or sudo to install: ${missing[*]}" >&2
    exit 1
  }
  sudo="sudo"
fi
echo "setup_torch: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
/usr/bin/python3 -c "import torch, functorch; print('setup_torch: torch', torch.__version__)"
