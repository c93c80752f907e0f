#!/usr/bin/env bash
# Data-parallel score training on 1 and 2 MPI ranks (issue 11, point 5): training samples per
# second of the last of EPOCHS epochs (from score.h5 /training/epoch_seconds: the steps and the
# validation pass; the first epoch also pays for allocating and first touching the buffers)
# and the peak resident memory of each rank (/usr/bin/time), on a Gray-Scott data set of N
# fields of SIZE x SIZE with the reference's UNet and global batch 64.
#
#   bash bench/turing_ranks.sh [--size 64] [--samples 576] [--batch 64] [--epochs 2] [--work DIR]
# The data set's values do not matter for speed or memory (200 Gray-Scott steps); memory per
# rank does not grow with N (each rank holds only its share of the current batch).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
size=64 samples=576 batch=64 epochs=2 work=/tmp/eqflow_turing_ranks
while [ $# -gt 0 ]; do
  case $1 in
    --size) size=$2; shift 2 ;;
    --samples) samples=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "turing_ranks: unknown option $1" >&2; exit 1 ;;
  esac
done
eqflow=${EQFLOW:-$here/build/bin/eqflow}
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
rm -rf "$work" && mkdir -p "$work"
sets=(--set "data.samples=$samples" --set "data.height=$size" --set "data.width=$size"
  --set data.steps=200 --set "score.epochs=$epochs" --set "score.batch=$batch" --set score.samples=0
  --set score.validation_fraction=0.1)
mpirun -n 2 "$eqflow" generate "$here/inputs/turing_quick.yaml" "${sets[@]}" \
  --set output="$work/data" --no-progress > "$work/generate.log"
for ranks in 1 2; do
  mkdir -p "$work/np$ranks" && cp "$work/data/data.h5" "$work/np$ranks/"
  # shellcheck disable=SC2016  # expanded by each rank's shell
  mpirun -n "$ranks" --oversubscribe bash -c \
    '/usr/bin/time -o "$0.$OMPI_COMM_WORLD_RANK" -f "maxrss_kb %M" "$@"' "$work/np$ranks.rss" \
    "$eqflow" run "$here/inputs/turing_quick.yaml" "${sets[@]}" --set output="$work/np$ranks" \
    --no-progress > "$work/np$ranks.log" 2>&1
done
/usr/bin/python3 - "$work" "$size" "$batch" <<'PY'
import glob, re, sys, h5py
work, size, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rate = {}
print(f"{size}x{size}, global batch {batch}, reference UNet (905,666 parameters), last epoch")
print(f"{'ranks':>5} {'train samples':>13} {'epoch s':>8} {'samples/s':>10} {'peak RSS per rank (MiB)':>26}")
for ranks in (1, 2):
    with h5py.File(f"{work}/np{ranks}/score.h5", "r") as f:
        seconds = float(f["training/epoch_seconds"][-1])
        train = int(f["training"].attrs["train_samples"])
    rss = [int(re.search(r"maxrss_kb (\d+)", open(p).read()).group(1)) / 1024
           for p in sorted(glob.glob(f"{work}/np{ranks}.rss.*"))]
    rate[ranks] = train / seconds
    print(f"{ranks:>5} {train:>13} {seconds:>8.1f} {rate[ranks]:>10.2f} "
          f"{' '.join(f'{r:.0f}' for r in rss):>26}")
print(f"speed-up 2 ranks / 1 rank: {rate[2] / rate[1]:.2f}x")
PY
