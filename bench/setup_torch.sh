#!/usr/bin/env bash
# Installs what the PyTorch side-by-side comparison needs (bench/compare.sh) and nothing else:
# Debian's python3-torch (1.13, with functorch), python3-h5py / python3-numpy for the
# baseline's file access, and GNU time for peak-memory measurements, through
# scripts/setup.sh's idempotent installer (only missing packages; instant when present).
# Deliberately separate from the main set-up: eqflow itself never needs PyTorch.
# The baseline runs with Debian's Python, /usr/bin/python3.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh python3 python3-torch python3-h5py python3-numpy time
/usr/bin/python3 -c "import torch, functorch; print('setup_torch: torch', torch.__version__)"
