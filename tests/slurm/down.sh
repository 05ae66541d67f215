#!/usr/bin/env bash
# Stops what up.sh STATE_DIR started, by PID file: both slurmd daemons, slurmctld, and munged
# if (and only if) up.sh started it. Jobs still in this Slurm are cancelled first (their steps
# would outlive slurmd) and given a few seconds to end.
# Usage: tests/slurm/down.sh STATE_DIR
set -uo pipefail
state=${1:?usage: down.sh STATE_DIR}
stop() {
  local file=$1
  [ -s "$file" ] || return 0
  local pid; pid=$(cat "$file")
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
if [ -s "$state/slurmctld.pid" ] && kill -0 "$(cat "$state/slurmctld.pid")" 2>/dev/null; then
  export SLURM_CONF="$state/slurm.conf"
  jobs=$(squeue -h -o %i 2>/dev/null)
  if [ -n "$jobs" ]; then
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null
    for _ in $(seq 50); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.2; done
  fi
fi
stop "$state/n1/slurmd.pid"
stop "$state/n2/slurmd.pid"
stop "$state/slurmctld.pid"
stop "$state/started-munged.pid"
