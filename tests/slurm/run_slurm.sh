#!/usr/bin/env bash
# The jobs/ scripts under a real SLURM: starts a one-node cluster on 127.0.0.1 (munged,
# slurmctld, slurmd, all state under a temporary directory, stopped and removed on exit), then
# submits prepare.sbatch -> lorenz_array.sbatch (afterok) -> postprocess.sbatch (afterany) as
# jobs/README.md tells users, on inputs/tests/slurm_lorenz.yaml (6 seeds: seed 0 in prepare,
# three array tasks of two seeds on two MPI ranks each, launched by srun through PMIx).
# While the array runs, task 1 is requeued by `scontrol requeue` and task 2 runs into its time
# limit (1 minute, so the script's USR1 trap requeues it). Each is paused (SIGSTOP) until
# SLURM interrupts it, so the interruptions land where intended however fast the machine is:
# task 1 while it writes its seed files (leaving temporary files behind), task 2 right after
# its first checkpoint (mid-training). Then: every job COMPLETED, both tasks restarted and
# resumed from their checkpoints, each seed trained exactly once and written to exactly one
# whole seed file, no checkpoint or temporary file left, run.h5's summary holds all seeds,
# the figures exist. Needs root (SlurmUser=root) and the packages of scripts/setup.sh.
# usage: run_slurm.sh EQFLOW SOURCE_DIR WORKDIR
set -euo pipefail
eqflow=$(realpath "$1") src=$(realpath "$2") work=$3
seeds=6 per_task=2 tasks=3 epochs=24  # as in the deck
python=/usr/bin/python3  # with h5py (scripts/setup.sh), as postprocess.sbatch uses

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

for cmd in munged mungekey slurmctld slurmd sbatch scontrol squeue sinfo srun "$python"; do
  command -v "$cmd" > /dev/null || fail "$cmd not found: run scripts/setup.sh (as root)"
done
[ "$(id -u)" -eq 0 ] || fail "must run as root: the test cluster's daemons run as SlurmUser=root"

rm -rf "$work" && mkdir -p "$work"
tmp=$(mktemp -d /tmp/eqflow-slurm.XXXXXX)  # short: the munge socket path must fit
chmod 755 "$tmp"
mkdir -p "$tmp/munge" "$tmp/ctld" "$tmp/spool" "$tmp/tmpfs" "$tmp/log"
daemons=()

# On every exit: cancel the jobs, wait for their processes, stop the daemons, remove $tmp.
cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  if [ ${#daemons[@]} -gt 1 ] && scontrol ping > /dev/null 2>&1; then
    scancel --user=root 2> /dev/null || true
    for ((i = 0; i < 60; i++)); do
      [ -z "$(squeue -h -o %i 2> /dev/null)" ] && break
      sleep 0.5
    done
  fi
  if [ "$rc" -ne 0 ]; then
    for name in munged slurmctld slurmd; do  # the log file, or stderr before it opened
      for log in "$tmp/log/$name.log" "$tmp/log/$name.out"; do
        [ -s "$log" ] && { echo "--- tail of $(basename "$log")"; tail -n 15 "$log"; break; }
      done
    done
  fi
  for ((i = ${#daemons[@]} - 1; i >= 0; i--)); do
    kill "${daemons[i]}" 2> /dev/null || true
    wait "${daemons[i]}" 2> /dev/null || true
  done
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS WHAT COMMAND...: polls COMMAND until it succeeds, fails after SECONDS.
wait_for() {
  local limit=$(($1 * 10)) what=$2 i
  shift 2
  for ((i = 0; i < limit; i++)); do
    "$@" > /dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "$what: not within $((limit / 10)) s"
}

# 1. The cluster: munged, slurmctld, slurmd, on two free ports of 127.0.0.1.
read -r ctld_port slurmd_port < <("$python" -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
mungekey --create --keyfile="$tmp/munge/munge.key" --bits=1024 > /dev/null 2>&1 \
  || dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge/munge.key"
socket=$tmp/munge/socket
cat > "$tmp/slurm.conf" << EOF
ClusterName=eqflowtest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
CommunicationParameters=NoInAddrAny,NoCtldInAddrAny
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket,cred_expire=10
StateSaveLocation=$tmp/ctld
SlurmdSpoolDir=$tmp/spool
TmpFS=$tmp/tmpfs
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=sched_interval=2,bf_interval=2
SlurmdParameters=config_overrides
MpiDefault=none
JobRequeue=1
ReturnToService=2
MinJobAge=600
KillWait=5
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$tmp/slurm.conf

munged --foreground --force --socket="$socket" --key-file="$tmp/munge/munge.key" \
  --log-file="$tmp/log/munged.log" --pid-file="$tmp/munge/munged.pid" \
  --seed-file="$tmp/munge/seed" > "$tmp/log/munged.out" 2>&1 &
daemons+=($!)
wait_for 20 "munged did not create its socket $socket" test -S "$socket"
munge -n -S "$socket" | unmunge -S "$socket" > /dev/null || fail "munge: no credential round trip"
slurmctld -D -c > "$tmp/log/slurmctld.out" 2>&1 &
daemons+=($!)
wait_for 30 "slurmctld did not answer on 127.0.0.1:$ctld_port" scontrol ping
slurmd -D -N localhost > "$tmp/log/slurmd.out" 2>&1 &
daemons+=($!)
node_idle() { [ "$(sinfo -h -n localhost -o %T)" = idle ]; }
wait_for 30 "slurmd: node localhost not idle" node_idle
echo "ok   one-node SLURM on 127.0.0.1:$ctld_port ($(sinfo -V))"

# 2. Submit as jobs/README.md says, from the directory that gets the job logs. MpiDefault is
# none here, as on many sites: OpenMPI then needs SLURM_MPI_TYPE=pmix (jobs/README.md).
cd "$work"
export EQFLOW=$eqflow DECK=$src/inputs/tests/slurm_lorenz.yaml OUTPUT=$work/out
export POSTPROCESS=$src/postprocess SLURM_MPI_TYPE=pmix
export MPLBACKEND=Agg MPLCONFIGDIR=$work/mplconfig PYTHONDONTWRITEBYTECODE=1
site=(--account=eqflow --partition=debug)  # the ACCOUNT / PARTITION placeholders
prep=$(sbatch --parsable "${site[@]}" "$src/jobs/prepare.sbatch")
arr=$(SEEDS_PER_TASK=$per_task sbatch --parsable "${site[@]}" --array=0-$((tasks - 1)) \
  --ntasks=$per_task --dependency=afterok:"$prep" "$src/jobs/lorenz_array.sbatch")
post=$(sbatch --parsable "${site[@]}" --dependency=afterany:"$arr" "$src/jobs/postprocess.sbatch")
scontrol update JobId="${arr}_2" TimeLimit=1 || fail "cannot shorten task 2's time limit"
echo "ok   submitted prepare $prep, array $arr (task 2: 1 minute), postprocess $post"

# field JOB NAME: one field of `scontrol show job` (of the first record for a whole array).
field() {
  { scontrol show job -o "$1" 2> /dev/null || true; } | awk -v key="$2" 'NR == 1 {
    for (i = 1; i <= NF; i++) if (index($i, key "=") == 1) print substr($i, length(key) + 2) }'
}
# checkpointed FIRST LAST: a checkpoint of one of the seeds FIRST..LAST-1 exists.
checkpointed() {
  local s
  for ((s = $1; s < $2; s++)); do
    [ -e "$(printf '%s/checkpoints/seed_%06d.h5' "$OUTPUT" "$s")" ] && return 0
  done
  return 1
}
# writing FIRST LAST: a seed file of one of the seeds FIRST..LAST-1 is being written (the
# analyses run into it under its temporary name, which a kill leaves behind).
writing() {
  local s
  for ((s = $1; s < $2; s++)); do
    compgen -G "$(printf '%s/seeds/seed_%06d.h5' "$OUTPUT" "$s").tmp.*" > /dev/null && return 0
  done
  return 1
}
# pause TASK: SIGSTOP every eqflow process of the running array task (none: fails).
pause() {
  local id pid n=0
  id=$(squeue -h -j "${arr}_$1" -o %A 2> /dev/null) || return 1
  [ -n "$id" ] || return 1
  for pid in $(scontrol listpids "$id" 2> /dev/null | awk 'NR > 1 { print $1 }'); do
    if [ "$(cat "/proc/$pid/comm" 2> /dev/null)" = eqflow ] && kill -STOP "$pid" 2> /dev/null; then
      n=$((n + 1))
    fi
  done
  [ "$n" -gt 0 ]
}
# resume TASK: SIGCONT every eqflow process of the array task (undoes pause).
resume() {
  local id pid
  id=$(squeue -h -j "${arr}_$1" -o %A 2> /dev/null) || return 0
  for pid in $(scontrol listpids "$id" 2> /dev/null | awk 'NR > 1 { print $1 }'); do
    [ "$(cat "/proc/$pid/comm" 2> /dev/null)" = eqflow ] && kill -CONT "$pid" 2> /dev/null
  done
  return 0
}

# 3. Interrupt tasks 1 and 2 (whichever runs first): task 1 while it writes its seed files
# (after training: the rerun must clear the stale temporary files), task 2 after its first
# checkpoint (mid-training). A tight loop on the files, SLURM queried once a second.
requeued=0 limited=0 deadline=$((SECONDS + 300)) polled=-1
while [ "$requeued" -eq 0 ] || [ "$limited" -lt 2 ]; do
  if [ "$requeued" -eq 0 ] && writing $((1 * per_task)) $((2 * per_task)) && pause 1; then
    if writing $((1 * per_task)) $((2 * per_task)); then
      scontrol requeue "${arr}_1" || fail "scontrol requeue ${arr}_1"
      requeued=1 stale=$(find "$OUTPUT/seeds" -name '*.tmp.*' -printf '%f\n')
      # Seeds of task 1 already complete: trained by the run that is killed before it reports.
      killed_done=0
      for ((s = per_task; s < 2 * per_task; s++)); do
        [ -e "$(printf '%s/seeds/seed_%06d.h5' "$OUTPUT" "$s")" ] && killed_done=$((killed_done + 1))
      done
      echo "ok   task 1 paused while writing $(echo "$stale" | xargs) and requeued (scontrol requeue)"
    else
      resume 1  # the file was committed before the pause (a loaded machine): try its next seed
    fi
  fi
  if [ "$limited" -eq 0 ] && checkpointed $((2 * per_task)) $((3 * per_task)) && pause 2; then
    limited=1 paused_at=$(field "${arr}_2" Restarts)  # a limit can strike before a checkpoint
    echo "ok   task 2 paused after a checkpoint, waiting for its time limit"
  fi
  if [ "$polled" -ne "$SECONDS" ]; then
    polled=$SECONDS
    [ "$SECONDS" -lt "$deadline" ] \
      || fail "tasks 1 and 2 not both interrupted (requeue: $requeued, time limit: $limited)"
    state=$(field "$prep" JobState)
    case $state in PENDING | RUNNING | COMPLETING | COMPLETED) ;; *) fail "prepare: $state" ;; esac
    restarts=$(field "${arr}_2" Restarts)
    if [ "$limited" -eq 1 ] && [ "${restarts:-0}" -gt "${paused_at:-0}" ]; then
      # Requeued by its USR1 trap: give the rerun room to finish (the script's 30 minutes).
      scontrol update JobId="${arr}_2" TimeLimit=30 || fail "cannot restore task 2's time limit"
      limited=2
      echo "ok   task 2 requeued itself at its time limit"
    fi
  fi
  sleep 0.02
done

# 4. Everything ends: postprocess runs after every array task (afterany).
finished() {
  case $(field "$post" JobState) in PENDING | RUNNING | COMPLETING | CONFIGURING) return 1 ;; esac
}
wait_for 300 "postprocess job $post did not finish" finished
echo "ok   all jobs ended after $SECONDS s"

# 5. Checks. Every job and array task COMPLETED with exit 0; tasks 1 and 2 restarted.
check_job() {  # check_job JOB: COMPLETED, ExitCode 0:0
  local state code
  state=$(field "$1" JobState) code=$(field "$1" ExitCode)
  if [ "$state" != COMPLETED ] || [ "$code" != 0:0 ]; then fail "job $1: $state, exit $code"; fi
}
check_job "$prep"
check_job "$post"
for ((t = 0; t < tasks; t++)); do check_job "${arr}_$t"; done
for t in 1 2; do
  restarts=$(field "${arr}_$t" Restarts)
  [ "${restarts:-0}" -ge 1 ] || fail "task $t was not restarted"
  log=eqflow-lorenz-array-${arr}_$t.out
  resumed=$(grep -o "resuming from .* at epoch [0-9]*" "$log") \
    || { cat "$log"; fail "task $t did not resume from a checkpoint"; }
  echo "ok   task $t: ${resumed##*/}"
done
grep -q "time limit near, requeueing task 2" "eqflow-lorenz-array-${arr}_2.out" \
  || fail "task 2's USR1 trap did not requeue it"
grep -q "DUE TO JOB REQUEUE" "eqflow-lorenz-array-${arr}_1.out" || fail "task 1 not requeued"
echo "ok   jobs COMPLETED; tasks 1 and 2 restarted and resumed from their checkpoints"
grep -q "eqflow run: .* $per_task rank(s)" "eqflow-lorenz-array-${arr}_0.out" \
  || fail "array task 0 did not run on $per_task MPI ranks"

# Each seed trained exactly once: the runs' "flows: N seed(s) trained" add up to the seeds
# but those task 1 completed before it was killed (that run never reported; its rerun skips
# them).
trained=$(cat eqflow-*.out | sed -n 's/.*flows: \([0-9]*\) seed(s) trained.*/\1/p' \
  | awk '{ n += $1 } END { print n + 0 }')
[ "$trained" -eq $((seeds - killed_done)) ] \
  || fail "$trained seeds trained in all runs, expected $seeds less $killed_done done before the kill"

# One whole seed file per seed, nothing else; no checkpoint, no temporary file anywhere.
expected=$(for ((s = 0; s < seeds; s++)); do printf 'seed_%06d.h5\n' "$s"; done)
[ "$(ls "$OUTPUT/seeds")" = "$expected" ] \
  || fail "seeds/ holds: $(find "$OUTPUT/seeds" -mindepth 1 -printf '%f ')"
[ -z "$(ls -A "$OUTPUT/checkpoints")" ] || fail "checkpoints left: $(ls "$OUTPUT/checkpoints")"
leftovers=$(find "$OUTPUT" -name '*.tmp*')
[ -z "$leftovers" ] || fail "temporary files left: $leftovers"
[ -n "$stale" ] || fail "task 1 left no temporary file when it was requeued"
"$python" - "$OUTPUT" "$seeds" "$epochs" << 'EOF' || fail "run.h5 or a seed file is not whole"
import sys, h5py
out, seeds, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for k in range(seeds):
    with h5py.File(f"{out}/seeds/seed_{k:06d}.h5", "r") as f:
        assert f.attrs["seed"] == k, f"seed file {k}: seed {f.attrs['seed']}"
        assert len(f["flow/loss"]) == epochs, f"seed {k}: {len(f['flow/loss'])} epochs"
        assert "analysis" in f, f"seed {k}: no analysis"
with h5py.File(f"{out}/run.h5", "r") as f:
    got = list(f["summary/seeds"][()])
    assert got == list(range(seeds)), f"run.h5 summary seeds {got}"
    assert all(f[f"summary/ran/{a}"][()].all() for a in ("lyapunov", "mmd")), "analyses missing"
    for name in ("final_loss", "similarity", "lyapunov/exponent"):
        assert len(f["summary/" + name]) == seeds, f"summary/{name}: {len(f['summary/' + name])}"
    assert f["summary/mmd/learned"].shape[0] == seeds, "summary/mmd/learned"
EOF
"$eqflow" summary "$OUTPUT/run.h5" | grep -q "complete seeds: $seeds of $seeds" \
  || fail "eqflow summary run.h5: no summary of $seeds seeds"
echo "ok   $seeds seeds, each trained once, one whole file each; run.h5 summary has all"

for png in training.png mmd.png lyapunov.png lorenz_seed_000000.png; do
  [ -s "$OUTPUT/figures/$png" ] || fail "postprocess.sbatch: no figures/$png"
done
echo "ok   figures written by postprocess.sbatch"
echo "all SLURM checks passed in $SECONDS s"
