#!/usr/bin/env bash
# Bad decks, options and data each stop eqflow before any work with a non-zero exit and one
# line on stderr that names the key (and the deck line where there is one).
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

"$eqflow" check good.yaml > resolved.yaml
grep -q "epochs: 1024" resolved.yaml || { echo "FAIL check: resolved deck lacks defaults"; failures=$((failures + 1)); }
[ $failures -eq 0 ] && echo "bad_input: every bad input was refused with one clear line"
exit $failures
