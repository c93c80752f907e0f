#!/usr/bin/env bash
# Builds Kokkos 3.4.1 from Debian's trilinos 13.2 source package into PREFIX, outside the tree:
#   openmp  Serial + OpenMP, with KokkosKernels (BLAS component, no default ETI, OpenBLAS);
#           default PREFIX /opt/eqflow/kokkos-openmp
#   hip     Serial + HIP with Debian's hipcc (ROCm 5.2), Kokkos only (3.4.1 knows no gfx90a
#           architecture; VEGA908 is the newest, so callers add --offload-arch themselves);
#           default PREFIX /opt/eqflow/kokkos-hip
# Idempotent: does nothing when PREFIX already holds an install made by this script with the
# same options. Sources are fetched with `apt-get source --download-only` into
# EQFLOW_SRC_CACHE (default /var/cache/eqflow/src).
# Usage: scripts/kokkos_standalone.sh openmp|hip [PREFIX]
set -euo pipefail
backend=${1:-openmp}
prefix=${2:-/opt/eqflow/kokkos-$backend}
cache=${EQFLOW_SRC_CACHE:-/var/cache/eqflow/src}
jobs=${EQFLOW_JOBS:-$(nproc)}
trilinos=13.2.0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

common=(-DCMAKE_CXX_STANDARD=17 -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DKokkos_ENABLE_SERIAL=ON)
case $backend in
  openmp)
    kokkos_opts=("${common[@]}" -DKokkos_ENABLE_OPENMP=ON)
    kernels_opts=(-DKokkosKernels_ENABLED_COMPONENTS=BLAS -DKokkosKernels_ADD_DEFAULT_ETI=OFF
      -DKokkosKernels_ENABLE_TPL_BLAS=ON -DBLA_VENDOR=OpenBLAS
      -DKokkosKernels_ENABLE_TPL_LAPACK=OFF "${common[@]}")
    ;;
  hip)
    kokkos_opts=("${common[@]}" -DCMAKE_CXX_COMPILER=hipcc -DKokkos_ENABLE_HIP=ON
      -DKokkos_ARCH_VEGA908=ON)
    kernels_opts=()
    ;;
  *)
    echo "kokkos_standalone: unknown backend '$backend' (openmp, hip)" >&2
    exit 1
    ;;
esac
stamp_text="trilinos $trilinos $backend; kokkos ${kokkos_opts[*]}; kernels ${kernels_opts[*]}"
stamp="$prefix/share/eqflow-kokkos.stamp"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_text" ]; then
  echo "kokkos_standalone: $prefix is complete"
  exit 0
fi
# A stamp that does not match: this script's own older install, replaced as a whole.
[ -f "$stamp" ] && $sudo rm -rf "$prefix"

# Debian's source package: add a deb-src entry for bookworm when apt has none.
orig="$cache/trilinos_$trilinos.orig.tar.gz"
if [ ! -f "$orig" ]; then
  if ! grep -rqs '^\(Types: *deb-src\|deb-src \)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "kokkos_standalone: adding a deb-src entry for bookworm"
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
  [ -f "$orig" ] || { echo "kokkos_standalone: apt-get source gave no $orig" >&2; exit 1; }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar xzf "$orig" -C "$work" --strip-components=1 --wildcards \
  '*/packages/kokkos/*' '*/packages/kokkos-kernels/*'
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

# Quiet unless a step fails; then its log is shown.
log="$work/log"
quiet() { "$@" >"$log" 2>&1 || { cat "$log" >&2; echo "kokkos_standalone: failed: $*" >&2; exit 1; }; }
$sudo mkdir -p "$prefix/share"
quiet cmake -S "$work/packages/kokkos" -B "$work/build-kokkos" -DCMAKE_INSTALL_PREFIX="$prefix" \
  "${launcher[@]}" "${kokkos_opts[@]}"
quiet cmake --build "$work/build-kokkos" -j "$jobs"
quiet $sudo cmake --install "$work/build-kokkos"
if [ ${#kernels_opts[@]} -gt 0 ]; then
  quiet cmake -S "$work/packages/kokkos-kernels" -B "$work/build-kernels" \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DKokkos_ROOT="$prefix" "${launcher[@]}" "${kernels_opts[@]}"
  quiet cmake --build "$work/build-kernels" -j "$jobs"
  quiet $sudo cmake --install "$work/build-kernels"
fi
echo "$stamp_text" | $sudo tee "$stamp" >/dev/null
echo "kokkos_standalone: installed Kokkos 3.4.1 ($backend) in $prefix"
