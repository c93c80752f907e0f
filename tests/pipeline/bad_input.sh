#!/usr/bin/env bash
# Bad decks, options and data each stop eqflow before any work with a non-zero exit and one
# line on stderr that names the key (and the deck line where there is one), in `run` and in
# `check` alike; `check` prints the resolved deck with where each value comes from.
# usage: bad_input.sh EQFLOW WORKDIR
set -euo pipefail
eqflow=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
cd "$work"
failures=0

# expect "description" "fragment" command...
expect() {
  local what=$1 fragment=$2
  shift 2
  set +e
  "$@" > out.txt 2> err.txt
  local code=$?
  set -e
  local lines
  lines=$(wc -l < err.txt)
  if [ $code -eq 0 ] || [ "$lines" -ne 1 ] || ! grep -qF -- "$fragment" err.txt; then
    echo "FAIL $what: exit $code, $lines stderr line(s), expected '$fragment':"
    cat err.txt
    failures=$((failures + 1))
  else
    echo "ok   $what: $(cat err.txt)"
  fi
  [ ! -d out ] || { echo "FAIL $what: work started (out/ exists)"; failures=$((failures + 1)); rm -rf out; }
}

printf 'system: ring\noutput: out\nflow:\n  epoch: 3\n' > unknown.yaml
printf 'system: ring\noutput: out\nflow:\n  epochs: ten\n' > type.yaml
printf 'system: ring\noutput: out\nanalysis:\n  mmd:\n    bandwidth: -1\n' > range.yaml
printf 'system: samples\noutput: out\ndata:\n  file: missing.csv\n' > missing.yaml
printf 'x,y\n1,2\n3,nan\n5,6\n7,8\n' > nan.csv
printf 'system: samples\noutput: out\ndata:\n  file: nan.csv\n' > nan.yaml
printf '1,2\n3,4,5\n' > ragged.csv
printf 'system: samples\noutput: out\ndata:\n  file: ragged.csv\n' > ragged.yaml
printf 'system: ring\noutput: out\n' > good.yaml

expect "unknown key" "unknown.yaml:4:3: key 'flow.epoch'" "$eqflow" run unknown.yaml
expect "wrong type" "type.yaml:4:11: key 'flow.epochs'" "$eqflow" run type.yaml
expect "bad range" "key 'analysis.mmd.bandwidth': must be > 0" "$eqflow" run range.yaml
expect "missing data file" "key 'data.file': cannot read 'missing.csv'" "$eqflow" run missing.yaml
expect "NaN in data" "nan.csv:3" "$eqflow" run nan.yaml
expect "ragged data" "ragged.csv:2" "$eqflow" run ragged.yaml
expect "missing deck" "nodeck.yaml" "$eqflow" run nodeck.yaml
expect "bad --set" "key 'flow.lr'" "$eqflow" run good.yaml --set flow.lr=fast
expect "bad --seeds" "--seeds" "$eqflow" run good.yaml --seeds 5
expect "unknown option" "--bogus" "$eqflow" run good.yaml --bogus
expect "unknown command" "unknown command" "$eqflow" launch good.yaml

# Cross-field rules (issue 9): each fails before any work, in run and in check alike.
printf 'system: ring\noutput: out\nscore:\n  sampling_end: 0\n' > sampling_end.yaml
printf 'system: ring\noutput: out\nscore:\n  schedule_delta: 0\n  samples: 0\nflow:\n  t: 0.005\n' > delta_t.yaml
printf 'system: ring\noutput: out\nscore:\n  schedule_delta: 0\n  samples: 0\nanalysis:\n  langevin:\n    tau: 0.001\n' > delta_tau.yaml
printf 'system: ring\noutput: out\nscore:\n  schedule_delta: 0\n' > delta_ddim.yaml
printf 'system: ring\noutput: out\nflow:\n  epochs: 0\n' > flow_epochs.yaml
printf 'system: ring\noutput: out\nscore:\n  epochs: 0\n' > score_epochs.yaml
printf 'system: ring\noutput: out\ndata:\n  points: 1000\nscore:\n  batch: 500\n' > batch.yaml
printf 'x,y\n1,2\n3,inf\n5,6\n7,8\n' > inf.csv
printf 'system: samples\noutput: out\ndata:\n  file: inf.csv\n' > inf.yaml
/usr/bin/python3 -c '
import h5py, numpy as np
with h5py.File("data.h5", "w") as f:
    f["cube"] = np.ones((4, 3, 2))
    x = np.random.default_rng(0).normal(size=(50, 2)); x[7, 1] = np.nan
    f["holes"] = x
    f["small"] = np.random.default_rng(1).normal(size=(50, 2))
'
printf 'system: samples\noutput: out\ndata:\n  file: data.h5\n  dataset: /cube\n' > rank.yaml
printf 'system: samples\noutput: out\ndata:\n  file: data.h5\n  dataset: /holes\n' > h5nan.yaml
printf 'system: samples\noutput: out\ndata:\n  file: data.h5\n  dataset: /small\nscore:\n  batch: 50\n' > samples_batch.yaml

for cmd in run check; do
  expect "$cmd sampling_end 0" "sampling_end.yaml:4:17: key 'score.sampling_end': must be in [1, score.diffusion_steps - 1]" "$eqflow" $cmd sampling_end.yaml
  expect "$cmd delta 0, t below 1/99" "delta_t.yaml:7:6: key 'flow.t'" "$eqflow" $cmd delta_t.yaml
  expect "$cmd delta 0, tau below 1/99" "delta_tau.yaml:8:10: key 'analysis.langevin.tau'" "$eqflow" $cmd delta_tau.yaml
  expect "$cmd delta 0 with DDIM samples" "key 'score.schedule_delta'" "$eqflow" $cmd delta_ddim.yaml
  expect "$cmd flow.epochs 0" "flow_epochs.yaml:4:11: key 'flow.epochs': must be >= 1" "$eqflow" $cmd flow_epochs.yaml
  expect "$cmd score.epochs 0" "key 'score.epochs': must be >= 1" "$eqflow" $cmd score_epochs.yaml
  expect "$cmd flow batch > points" "key 'flow.batch': 2048 (default) is larger than the 1000 data points" "$eqflow" $cmd batch.yaml
  expect "$cmd flow batch > rows" "key 'flow.batch': 2048 (default) is larger than the 50 data points (data.file: the rows of data.h5)" "$eqflow" $cmd samples_batch.yaml
  expect "$cmd lyapunov.dt 0" "key 'analysis.lyapunov.dt': must be > 0" "$eqflow" $cmd good.yaml --set analysis.lyapunov.dt=0
  expect "$cmd spectrum.dt < 0" "key 'analysis.spectrum.dt': must be > 0" "$eqflow" $cmd good.yaml --set analysis.spectrum.dt=-1
  expect "$cmd mmd.dt 0" "key 'analysis.mmd.dt': must be > 0" "$eqflow" $cmd good.yaml --set analysis.mmd.dt=0
  expect "$cmd trajectory_dt 0" "key 'analysis.trajectory_dt': must be > 0" "$eqflow" $cmd good.yaml --set analysis.trajectory_dt=0
  expect "$cmd NaN in CSV" "nan.csv:3: column 2: 'nan' is not finite" "$eqflow" $cmd nan.yaml
  expect "$cmd inf in CSV" "inf.csv:3: column 2: 'inf' is not finite" "$eqflow" $cmd inf.yaml
  expect "$cmd ragged CSV" "ragged.csv:2: 3 columns, expected 2" "$eqflow" $cmd ragged.yaml
  expect "$cmd NaN in HDF5" "data.h5: dataset '/holes': row 7 (from 0), column 1 is NaN" "$eqflow" $cmd h5nan.yaml
  expect "$cmd HDF5 rank 3" "data.h5: dataset '/cube' has rank 3 (4 x 3 x 2)" "$eqflow" $cmd rank.yaml
  expect "$cmd without a deck" "eqflow $cmd: missing DECK; usage: eqflow $cmd DECK" "$eqflow" $cmd
done

# The command line: options of run only, help per command.
expect "check --seeds" "eqflow check: --seeds is an option of \`eqflow run\` only" "$eqflow" check good.yaml --seeds 0:1
expect "check --no-progress" "eqflow check: --no-progress is an option of \`eqflow run\` only" "$eqflow" check good.yaml --no-progress
expect "check unknown option" "eqflow check: " "$eqflow" check good.yaml --bogus
expect "bad --seeds range" "--seeds '3:1': need 0 <= FIRST < LAST" "$eqflow" run good.yaml --seeds 3:1
expect "summary without a file" "eqflow summary: " "$eqflow" summary
"$eqflow" check --help > help.txt || { echo "FAIL check --help: non-zero exit"; failures=$((failures + 1)); }
grep -q -- "--set" help.txt && ! grep -q -- "--seeds" help.txt \
  || { echo "FAIL check --help: expected --set and not --seeds:"; cat help.txt; failures=$((failures + 1)); }

# check prints the resolved values and where each comes from; the text is still a deck.
"$eqflow" check good.yaml --set flow.epochs=7 > resolved.yaml
for line in '  divergence: "exact"  # default; auto: d = 2 <= 8' \
            '  points: 10000  # default; 0 -> the ring default' '  epochs: 7  # --set' \
            'system: "ring"  # good.yaml:1' '  epochs: 2048  # default (ring)'; do
  grep -qF -- "$line" resolved.yaml || { echo "FAIL check: no line '$line' in:"; cat resolved.yaml; failures=$((failures + 1)); }
done
"$eqflow" check resolved.yaml > /dev/null || { echo "FAIL check: its output is not a valid deck"; failures=$((failures + 1)); }
[ $failures -eq 0 ] && echo "bad_input: every bad input was refused with one clear line"
exit $failures
