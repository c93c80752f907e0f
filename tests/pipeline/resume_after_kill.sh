#!/usr/bin/env bash
# A run killed (SIGKILL) in the middle of flow training resumes from its checkpoint and ends
# with exactly the result of an uninterrupted run; a rerun of a complete output does nothing.
# usage: resume_after_kill.sh EQFLOW DECK WORKDIR
set -euo pipefail
eqflow=$1 deck=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
export OPENBLAS_NUM_THREADS=1
common=(--set experiments=1 --set flow.epochs=400 --set flow.checkpoint_every=5 --no-progress)
"$eqflow" run "$deck" "${common[@]}" --set output="$work/straight" > "$work/straight.log" 2>&1

"$eqflow" run "$deck" "${common[@]}" --set output="$work/killed" > "$work/killed1.log" 2>&1 &
pid=$!
ckpt="$work/killed/checkpoints/seed_000000.h5"
for _ in $(seq 1 1200); do
  [ -f "$ckpt" ] && break
  sleep 0.05
done
kill -9 "$pid" 2> /dev/null || true
wait "$pid" 2> /dev/null || true
[ -f "$ckpt" ] || { echo "resume: no checkpoint appeared"; exit 1; }
[ ! -f "$work/killed/seeds/seed_000000.h5" ] || { echo "resume: the run finished before the kill"; exit 1; }

"$eqflow" run "$deck" "${common[@]}" --set output="$work/killed" > "$work/killed2.log" 2>&1
grep -q "resuming from" "$work/killed2.log" || { echo "resume: the rerun did not resume"; cat "$work/killed2.log"; exit 1; }
grep -q "score model: reusing" "$work/killed2.log" || { echo "resume: the score stage was redone"; exit 1; }
[ ! -f "$ckpt" ] || { echo "resume: the checkpoint of a finished seed was kept"; exit 1; }
h5diff "$work/straight/seeds/seed_000000.h5" "$work/killed/seeds/seed_000000.h5" /flow
h5diff "$work/straight/seeds/seed_000000.h5" "$work/killed/seeds/seed_000000.h5" /analysis

before=$(stat -c %Y "$work/killed/seeds/seed_000000.h5")
"$eqflow" run "$deck" "${common[@]}" --set output="$work/killed" > "$work/killed3.log" 2>&1
after=$(stat -c %Y "$work/killed/seeds/seed_000000.h5")
[ "$before" = "$after" ] || { echo "resume: a complete seed was recomputed"; exit 1; }
if ls "$work"/killed/seeds/*.tmp.* > /dev/null 2>&1; then echo "resume: temporary files left"; exit 1; fi
echo "resume: killed run resumed from its checkpoint and matches the uninterrupted run exactly"
