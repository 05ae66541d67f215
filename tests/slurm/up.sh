#!/usr/bin/env bash
# Starts a real two-node Slurm on this machine for the integration tests: munge (unless one is
# already serving), slurmctld, and two slurmd daemons (n1, n2: two CPUs and 4 GiB each, sharing this
# host's cores) on loopback, all under STATE_DIR. Two partitions over both nodes, as a site that
# lends idle nodes would set them up (samples/slurm/scavenger.conf explains each line): "debug",
# the default, for ordinary jobs, and "scavenger", preemptible by debug jobs with a 5 s GraceTime. Needs root and Debian's slurm-wlm + munge. Waits until both nodes are idle
# (about a second) and prints `export SLURM_CONF=...`. Stop everything with down.sh STATE_DIR:
# it ends exactly the processes started here, by the PID files below.
#
# Usage: tests/slurm/up.sh STATE_DIR
set -euo pipefail
state=${1:?usage: up.sh STATE_DIR}
mkdir -p "$state"
state=$(cd "$state" && pwd)
if [ -s "$state/slurmctld.pid" ] && kill -0 "$(cat "$state/slurmctld.pid")" 2>/dev/null; then
  echo "up.sh: a Slurm from $state is already running (stop it with down.sh $state)" >&2
  exit 1
fi
host=$(hostname -s)

for tool in slurmctld slurmd munged sinfo; do
  command -v "$tool" >/dev/null || { echo "up.sh: $tool not found; apt-get install -y slurm-wlm munge" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "up.sh: slurmd must run as root" >&2; exit 1; }

# munge: Slurm's authentication. munged refuses to run as root, and needs its key and socket folder.
if [ ! -S /run/munge/munge.socket.2 ] || ! munge -n >/dev/null 2>&1; then
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
  fi
  # munged writes its PID file as the munge user, so into a folder that user owns (and can reach:
  # mktemp -d makes the state folder private).
  chmod 755 "$state"
  mkdir -p "$state/munge" && chown munge:munge "$state/munge"
  runuser -u munge -- /usr/sbin/munged --pid-file="$state/munge/munged.pid"
  for _ in $(seq 50); do [ -s "$state/munge/munged.pid" ] && break; sleep 0.1; done
  # Remembered as started here, so that down.sh stops this munged and never someone else's.
  cp "$state/munge/munged.pid" "$state/started-munged.pid"
fi

cat > "$state/slurm.conf" <<CONF
ClusterName=remotemem-ci
SlurmctldHost=localhost
SlurmctldPort=16817
SlurmdPort=17001
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=512
ReturnToService=2
SlurmdTimeout=30
MailProg=/bin/true
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/%n/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/%n/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/%n/slurmd.log
NodeName=n1 NodeHostname=$host NodeAddr=127.0.0.1 Port=17001 CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=4096 State=UNKNOWN
NodeName=n2 NodeHostname=$host NodeAddr=127.0.0.1 Port=17002 CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=4096 State=UNKNOWN
PreemptType=preempt/partition_prio
PreemptMode=CANCEL
PartitionName=debug Nodes=n1,n2 Default=YES MaxTime=INFINITE State=UP PriorityTier=10
PartitionName=scavenger Nodes=n1,n2 MaxTime=INFINITE State=UP PriorityTier=1 PreemptMode=CANCEL GraceTime=5
CONF
mkdir -p "$state/ctld" "$state/n1/spool" "$state/n2/spool"
export SLURM_CONF="$state/slurm.conf"

slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N n1
slurmd -f "$SLURM_CONF" -N n2

for _ in $(seq 100); do
  idle=$(sinfo -h -N -t idle -o "%N" 2>/dev/null | sort -u | wc -l)
  [ "$idle" -ge 2 ] && break
  sleep 0.2
done
if [ "$idle" -lt 2 ]; then
  echo "up.sh: the Slurm nodes did not become idle; see $state/slurmctld.log and $state/n*/slurmd.log" >&2
  sinfo -N >&2 || true
  exit 1
fi
echo "export SLURM_CONF=$SLURM_CONF"
