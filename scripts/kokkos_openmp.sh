#!/usr/bin/env bash
# Builds Kokkos (Serial + OpenMP) and KokkosKernels (BLAS component, no default ETI, OpenBLAS)
# 3.4.1 from Debian's trilinos 13.2 source package into PREFIX (default
# /opt/eqflow/kokkos-openmp), outside the tree. Idempotent: does nothing when PREFIX already
# holds an install made by this script with the same options. Sources are fetched with
# `apt-get source --download-only` into EQFLOW_SRC_CACHE (default /var/cache/eqflow/src).
# Usage: scripts/kokkos_openmp.sh [PREFIX]
set -euo pipefail
prefix=${1:-/opt/eqflow/kokkos-openmp}
cache=${EQFLOW_SRC_CACHE:-/var/cache/eqflow/src}
jobs=${EQFLOW_JOBS:-$(nproc)}
trilinos=13.2.0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

kokkos_opts=(-DKokkos_ENABLE_SERIAL=ON -DKokkos_ENABLE_OPENMP=ON -DCMAKE_CXX_STANDARD=17
  -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DCMAKE_POSITION_INDEPENDENT_CODE=ON)
kernels_opts=(-DKokkosKernels_ENABLED_COMPONENTS=BLAS -DKokkosKernels_ADD_DEFAULT_ETI=OFF
  -DKokkosKernels_ENABLE_TPL_BLAS=ON -DBLA_VENDOR=OpenBLAS -DKokkosKernels_ENABLE_TPL_LAPACK=OFF
  -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DCMAKE_POSITION_INDEPENDENT_CODE=ON)
stamp_text="trilinos $trilinos; kokkos ${kokkos_opts[*]}; kernels ${kernels_opts[*]}"
stamp="$prefix/share/eqflow-kokkos-openmp.stamp"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_text" ]; then
  echo "kokkos_openmp: $prefix is complete"
  exit 0
fi
# A stamp that does not match: this script's own older install, replaced as a whole.
[ -f "$stamp" ] && $sudo rm -rf "$prefix"

# Debian's source package: add a deb-src entry for bookworm when apt has none.
orig="$cache/trilinos_$trilinos.orig.tar.gz"
if [ ! -f "$orig" ]; then
  if ! grep -rqs '^\(Types: *deb-src\|deb-src \)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "kokkos_openmp: adding a deb-src entry for bookworm"
    $sudo tee /etc/apt/sources.list.d/eqflow-src.sources >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    $sudo apt-get update -qq
  fi
  $sudo mkdir -p "$cache"
  (cd "$cache" && $sudo apt-get source --download-only -qq trilinos)
  [ -f "$orig" ] || { echo "kokkos_openmp: apt-get source gave no $orig" >&2; exit 1; }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar xzf "$orig" -C "$work" --strip-components=1 --wildcards \
  '*/packages/kokkos/*' '*/packages/kokkos-kernels/*'
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

# Quiet unless a step fails; then its log is shown.
log="$work/log"
quiet() { "$@" >"$log" 2>&1 || { cat "$log" >&2; echo "kokkos_openmp: failed: $*" >&2; exit 1; }; }
$sudo mkdir -p "$prefix/share"
quiet cmake -S "$work/packages/kokkos" -B "$work/build-kokkos" -DCMAKE_INSTALL_PREFIX="$prefix" \
  "${launcher[@]}" "${kokkos_opts[@]}"
quiet cmake --build "$work/build-kokkos" -j "$jobs"
quiet $sudo cmake --install "$work/build-kokkos"
quiet cmake -S "$work/packages/kokkos-kernels" -B "$work/build-kernels" \
  -DCMAKE_INSTALL_PREFIX="$prefix" -DKokkos_ROOT="$prefix" "${launcher[@]}" "${kernels_opts[@]}"
quiet cmake --build "$work/build-kernels" -j "$jobs"
quiet $sudo cmake --install "$work/build-kernels"
echo "$stamp_text" | $sudo tee "$stamp" >/dev/null
echo "kokkos_openmp: installed Kokkos and KokkosKernels 3.4.1 (OpenMP) in $prefix"
