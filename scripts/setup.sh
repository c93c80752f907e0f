#!/usr/bin/env bash
# Installs the Debian packages eqflow needs, only those that are missing (idempotent, and fast
# when everything is present). Run as root, or as a user with sudo. With arguments it installs
# those packages instead (bench/setup_torch.sh uses that for the PyTorch baseline).
# `setup.sh --kokkos-openmp [PREFIX]` also builds an OpenMP Kokkos (scripts/kokkos_standalone.sh).
set -euo pipefail
if [ "${1:-}" = "--kokkos-openmp" ]; then
  bash "$0"
  exec bash "$(dirname "$0")/kokkos_standalone.sh" openmp "${@:2}"
fi

packages=(
  build-essential cmake ccache git pkg-config clang-format
  clang
  libtrilinos-kokkos-dev libtrilinos-kokkos-kernels-dev libopenblas-dev
  libopenmpi-dev openmpi-bin
  libhdf5-openmpi-dev hdf5-tools
  libyaml-cpp-dev libfmt-dev libgtest-dev libcli11-dev
  python3 python3-h5py python3-matplotlib python3-numpy python3-scipy
  python3-pil ffmpeg
  slurmctld slurmd slurm-client munge
)
[ $# -gt 0 ] && packages=("$@")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
