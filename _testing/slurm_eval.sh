#!/usr/bin/env bash
# docs/cluster.md's Slurm job array, run for real on this one machine.
#
# Starts a private single-node Slurm (munged, slurmctld, slurmd; the Debian packages slurm-wlm and
# munge), submits the two batch scripts exactly as docs/cluster.md prints them (eval.sbatch as an
# array 0-3, merge.sbatch with --dependency=afterok) on the BAPPS-format fixture bapps-mini, waits,
# and compares the merged scores.json and per-item CSV files byte for byte with one unsharded
# `lpips eval --json --per-item` of the same data. The daemons are stopped on exit, whatever
# happens. Nothing touches the network: the weights come from LPIPS_WEIGHTS_DIR.
#
#   sudo apt-get install slurm-wlm munge
#   sudo bash _testing/slurm_eval.sh
#
# Needs root (slurmd runs jobs as their user), Deno 2.9.6 (`deno` on PATH, $DENO, or the npm
# package through npx), and the test data: $LPIPS_TEST_DATA (default ../shared) with bapps-mini/
# and weights/. Settings (environment):
#   LPIPS_SLURM_DIR      scratch folder, wiped at the start (default /tmp/lpips-slurm)
#   LPIPS_SLURM_PORT     slurmctld's port; slurmd takes the next (default 16817, not Slurm's own
#                        6817, so that a Slurm already on the machine is left alone)
#   LPIPS_SLURM_TIMEOUT  seconds Slurm may take to come up (default 60)
#   LPIPS_SLURM_JOBS_TIMEOUT  seconds the jobs may take (default 300)
# On failure the daemons' and the jobs' logs are printed and the scratch folder is kept.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
data=${LPIPS_TEST_DATA:-$repo/../shared}
base=${LPIPS_SLURM_DIR:-/tmp/lpips-slurm}
port=${LPIPS_SLURM_PORT:-16817}
up_timeout=${LPIPS_SLURM_TIMEOUT:-60}
jobs_timeout=${LPIPS_SLURM_JOBS_TIMEOUT:-300}
# The fixture has two of the six 2AFC validation sets; batches of 20 give every dataset 6 batches,
# so that each of the 4 shards gets 1 or 2 of them (none is empty).
eval_args=(--datasets val/traditional val/cnn --batch-size 20)

say() { echo "slurm_eval: $*"; }
die() {
  echo "slurm_eval: error: $*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root (sudo bash $0): slurmd must run as root"
for cmd in munged mungekey slurmctld slurmd sbatch squeue scontrol sinfo scancel; do
  command -v "$cmd" >/dev/null || die "$cmd not found: install Debian's slurm-wlm and munge"
done
[ -d "$data/bapps-mini/2afc/val" ] || die "no $data/bapps-mini/2afc/val: set LPIPS_TEST_DATA"
[ -f "$data/weights/lpips/v0.1/alex.pth" ] || die "no $data/weights/lpips/v0.1/alex.pth"
data=$(cd "$data" && pwd)

# Deno for the jobs: a fixed binary on their PATH (sbatch passes the environment on).
if [ -z "${DENO:-}" ]; then
  if command -v deno >/dev/null; then
    DENO=$(command -v deno)
  else
    DENO=$(npx -y deno@2.9.6 eval 'console.log(Deno.execPath())') || die "cannot run deno via npx"
  fi
fi
[ -x "$DENO" ] || die "DENO=$DENO is not an executable"

# A port in use means another Slurm (or our own from a run killed with SIGKILL, stopped below).
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Stops the daemons whose pid files are in $base/run, each by its pid, checking that the pid is
# still that daemon; then waits (10 s) for them to exit.
stop_daemons() {
  local f pid name pids=()
  for f in "$base"/run/slurmd.pid "$base"/run/slurmctld.pid "$base"/run/munged.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    name=$(basename "$f" .pid)
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]; then
      kill "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  for _ in $(seq 100); do
    local alive=0
    for pid in "${pids[@]}"; do [ -d "/proc/$pid" ] && alive=1; done
    [ "$alive" -eq 0 ] && return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
}

# Cancels every job of this private cluster (so that no job outlives slurmd) and waits (15 s) for
# them to go.
cancel_jobs() {
  [ -f "$base/slurm.conf" ] || return 0
  local ids
  ids=$(SLURM_CONF="$base/slurm.conf" squeue -h -o %A 2>/dev/null) || return 0
  [ -n "$ids" ] || return 0
  # shellcheck disable=SC2086 # one job id per word
  SLURM_CONF="$base/slurm.conf" scancel $ids 2>/dev/null || return 0
  for _ in $(seq 30); do
    [ -z "$(SLURM_CONF="$base/slurm.conf" squeue -h -o %A 2>/dev/null)" ] && return 0
    sleep 0.5
  done
}

show_logs() {
  local f
  for f in "$base"/log/* "$base"/proj/logs/*; do
    [ -f "$f" ] || continue
    echo "----- $f (last 30 lines)" >&2
    tail -n 30 "$f" >&2
  done
}

finish() {
  local rc=$?
  set +e
  cancel_jobs
  stop_daemons
  if [ "$rc" -eq 0 ]; then
    rm -rf "$base"
  else
    show_logs
    echo "slurm_eval: FAILED; logs and files kept in $base" >&2
  fi
  exit "$rc"
}

# A clean scratch folder; a previous run's daemons (if it was killed) are stopped first. Only a
# folder this script made (it holds the marker) is ever removed.
if [ -e "$base" ]; then
  [ -f "$base/.lpips-slurm" ] || die "$base exists and was not made by this script"
  cancel_jobs
  stop_daemons
  rm -rf "$base"
fi
mkdir -p "$base"/{run,log,state,spool,munge-key,munge,bin,proj/logs,unsharded,site/cache}
touch "$base/.lpips-slurm"
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for p in "$port" "$((port + 1))"; do
  port_busy "$p" && die "port $p is in use: set LPIPS_SLURM_PORT to a free port"
done

ln -s "$DENO" "$base/bin/deno"
export PATH="$base/bin:$PATH" NO_COLOR=1
# The site's shared folder of docs/cluster.md (/shared/lpips): the dataset and the weights.
ln -s "$data/bapps-mini" "$base/site/bapps"
ln -s "$data/weights" "$base/site/cache/lpips"
# The project folder the jobs are submitted from: the repository's files, linked, so that
# `deno task` finds deno.json there and results/ and logs/ are made in the scratch folder.
for f in "$repo"/*; do ln -s "$f" "$base/proj/"; done

# munge: a key of our own and a socket of our own (munged wants the socket's folder world-
# searchable and the key's folder private).
chmod 700 "$base/munge-key"
chmod 755 "$base/munge"
mungekey --create --keyfile="$base/munge-key/munge.key"
munged --socket="$base/munge/munge.socket" --key-file="$base/munge-key/munge.key" \
  --pid-file="$base/run/munged.pid" --log-file="$base/log/munged.log" \
  --seed-file="$base/munge-key/munged.seed" ||
  die "munged did not start"

# slurm.conf for this one host. The node line is slurmd's own view (slurmd -C), so that CPUs and
# RealMemory match what slurmd reports and the node is not drained as invalid.
node=$(hostname -s)
node_line=$(slurmd -C | head -n 1)
export SLURM_CONF="$base/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=lpips
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$base/munge/munge.socket
StateSaveLocation=$base/state
SlurmdSpoolDir=$base/spool
SlurmctldPidFile=$base/state/slurmctld.pid
SlurmdPidFile=$base/state/slurmd.pid
SlurmctldLogFile=$base/log/slurmctld.log
SlurmdLogFile=$base/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
DependencyParameters=kill_invalid_depend
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
$node_line NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=lpips Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

# In the foreground (-D) as our children, so that their pids are known at once; $base/run keeps
# them for stop_daemons (and for the next run, should this one be killed).
slurmctld -D -i >"$base/log/slurmctld.stderr" 2>&1 &
echo $! >"$base/run/slurmctld.pid"
slurmd -D >"$base/log/slurmd.stderr" 2>&1 &
echo $! >"$base/run/slurmd.pid"
say "waiting up to ${up_timeout}s for Slurm ($node_line)"
for ((t = 0; ; t++)); do
  state=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  for d in slurmctld slurmd munged; do
    pid=$(cat "$base/run/$d.pid" 2>/dev/null || true)
    { [ -n "$pid" ] && [ -d "/proc/$pid" ]; } || die "$d exited (see its log below)"
  done
  [ "$t" -lt "$((up_timeout * 2))" ] ||
    die "Slurm did not come up within ${up_timeout}s (node state: ${state:-none})"
  sleep 0.5
done
say "Slurm is up: node $node idle after $((t / 2))s"

# The two batch scripts, as docs/cluster.md prints them, with the site's folder replaced.
extract() {
  awk -v want="$1" '
    /^```/ { if (inblock) { if (found) { printf "%s", text; exit } inblock = 0 }
             else if ($0 == "```bash") { inblock = 1; text = ""; found = 0 }
             next }
    inblock { text = text $0 "\n"; if (index($0, want)) found = 1 }
  ' "$repo/docs/cluster.md" | sed "s#/shared/lpips#$base/site#g"
}
extract "--job-name=lpips-eval" >"$base/proj/eval.sbatch"
extract "--job-name=lpips-merge" >"$base/proj/merge.sbatch"
grep -q -- "--array=0-3" "$base/proj/eval.sbatch" || die "no eval.sbatch job array in docs/cluster.md"
grep -q "lpips merge" "$base/proj/merge.sbatch" || die "no merge.sbatch in docs/cluster.md"

# Submitted as the docs submit them; the 2-core CI machine has fewer CPUs and less memory than the
# docs ask for, so the requests are made smaller on the command line (which overrides #SBATCH).
cd "$base/proj"
start=$SECONDS
eval_job=$(sbatch --parsable --array=0-3 --cpus-per-task=1 --mem=1G eval.sbatch "${eval_args[@]}")
merge_job=$(sbatch --parsable --dependency=afterok:"$eval_job" merge.sbatch)
job_ids=$eval_job,$merge_job
say "submitted eval array $eval_job (tasks 0-3) and merge $merge_job (afterok)"
while [ -n "$(squeue -h -j "$job_ids")" ]; do
  [ "$((SECONDS - start))" -lt "$jobs_timeout" ] || die "the jobs did not end within ${jobs_timeout}s"
  sleep 1
done
say "jobs done after $((SECONDS - start))s"

# Every array task and the merge completed (no accounting: slurmctld still holds the records).
records=$(scontrol -o show job "$eval_job"; scontrol -o show job "$merge_job")
field() { sed -E "s/.*[[:space:]]$1=([^[:space:]]*).*/\\1/"; }
while read -r rec; do
  id=$(field JobId <<<" $rec")
  grep -q "ArrayTaskId=" <<<"$rec" && id="$(field ArrayJobId <<<" $rec")_$(field ArrayTaskId <<<" $rec")"
  printf '  %-8s %-12s %-10s exit %-4s %s -> %s\n' "$id" "$(field JobName <<<" $rec")" \
    "$(field JobState <<<" $rec")" "$(field ExitCode <<<" $rec")" \
    "$(field StartTime <<<" $rec")" "$(field EndTime <<<" $rec")"
done <<<"$records"
[ "$(grep -c "ArrayTaskId=" <<<"$records")" -eq 4 ] || die "expected 4 array tasks"
[ "$(grep -c "JobState=COMPLETED" <<<"$records")" -eq 5 ] || die "not every job completed"
for k in 0 1 2 3; do
  end=$(tail -n 1 "results/shard-$k.jsonl")
  rows=$(sed -nE 's/^\{"end":true,.*"items":([0-9]+).*/\1/p' <<<"$end")
  [ "${rows:-0}" -gt 0 ] || die "shard $k holds no items (its end line: $end)"
  say "shard $k: $rows items"
done

# The unsharded run of the same command, then the comparison, byte for byte.
export LPIPS_WEIGHTS_DIR="$base/site/cache/lpips"
deno task lpips eval --root "$base/site/bapps" --dataset-mode 2afc --net alex "${eval_args[@]}" \
  --json --per-item "$base/unsharded/items.csv" --quiet >"$base/unsharded/scores.json"
(cd "$base/unsharded" && ls) >"$base/unsharded.list"
(cd results && ls scores.json items*.csv) >"$base/merged.list"
cmp "$base/unsharded.list" "$base/merged.list" || die "merge wrote other files than eval"
[ "$(wc -l <"$base/merged.list")" -eq 3 ] || die "expected scores.json and 2 per-item files"
while read -r f; do
  cmp "$base/unsharded/$f" "results/$f" || die "$f differs from the unsharded run"
  say "identical: $f ($(wc -c <"results/$f") bytes)"
done <"$base/merged.list"
grep -q '"val/traditional":{"score":' results/scores.json || die "no val/traditional score"
grep -q '"val/cnn":{"score":' results/scores.json || die "no val/cnn score"
say "ok: the Slurm array's merged results equal the unsharded run's ($((SECONDS - start))s)"
