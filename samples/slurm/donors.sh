#!/bin/bash
# (a, part 2) Lend idle nodes to RemoteMem: see what Slurm can give, then submit one donor job per
# node into the preemptible partition. Run it on a login node after manager.sbatch has started.
#
#   samples/slurm/donors.sh                 # 4 donors of 16 GiB each
#   COUNT=8 MEMORY=64GiB samples/slurm/donors.sh
#   remotemem slurm release                 # later: end them all (each leaves the cluster cleanly)
#
# When the batch system needs a node back it preempts the donor job: SIGTERM, GraceTime, SIGKILL.
# The donor leaves at SIGTERM; clients holding its memory are told (LeaseLostException) at once.
#
# Settings (environment variables, all optional): REMOTEMEM_SHARED and REMOTEMEM as in manager.sbatch;
# COUNT (4), MEMORY per donor (16GiB), CORES per donor (1), PARTITION (scavenger), TIME (4:00:00),
# DONOR_LISTEN (0.0.0.0:0: any free port, so donors can share a node).
set -euo pipefail
shared=${REMOTEMEM_SHARED:-$HOME/.remotemem}
remotemem=${REMOTEMEM:-remotemem}

# Idle and partly used nodes, with the cores and memory Slurm can still hand out.
$remotemem slurm scan --partition "${PARTITION:-scavenger}"

# Donor jobs register with the manager on their own (its address is in the shared folder);
# --wait returns once every donor is serving, so the next command can rely on them.
$remotemem slurm donate \
  --partition "${PARTITION:-scavenger}" \
  --count "${COUNT:-4}" --memory "${MEMORY:-16GiB}" --cores "${CORES:-1}" \
  --time "${TIME:-4:00:00}" --signal-lead 60s \
  --manager-file "$shared/manager" --secret-file "$shared/cluster.secret" \
  --donor-listen "${DONOR_LISTEN:-0.0.0.0:0}" --log-dir "$shared/logs" \
  --wait

$remotemem status --manager "$(cat "$shared/manager")" --secret-file "$shared/cluster.secret"
