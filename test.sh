#!/usr/bin/env bash
# Runs RemoteMem's whole test suite on a fresh Debian/Ubuntu machine (as root, as CI does) or a
# developer's machine: installs what the tests need, starts what they use, runs `dotnet test` in
# Release, stops what it started, and ends with one line: "N passed, N failed".
#
# The tests start their own managers and donors (in-process and as child processes on loopback).
# Services they need from outside: a real two-node Slurm (munge, slurmctld, two slurmd on loopback),
# started here by tests/slurm/up.sh and stopped by PID at exit.
set -uo pipefail
cd "$(dirname "$0")"

# slurm-wlm, munge: the real Slurm of the Slurm tests. cmake, gcc, pkg-config, libfabric-dev: the
# native-rdma shim that `dotnet build` compiles (the fabric tests fail, never skip, without it).
APT_PACKAGES=(slurm-wlm munge cmake gcc pkg-config libfabric-dev)

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET SDK 10 is required (dotnet not found on PATH)." >&2
  echo "0 passed, 1 failed"
  exit 1
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: missing packages ${missing[*]}; run as root or install them: apt-get install -y ${missing[*]}" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" || {
    echo "test.sh: apt-get could not install ${missing[*]}" >&2
    echo "0 passed, 1 failed"
    exit 1
  }
fi

# The C tests of the native shim (ctest: two processes over tcp;ofi_rxm and over shm), counted below.
native_build=$(mktemp -d)
ctest_passed=0
ctest_failed=0
if cmake -S native-rdma -B "$native_build" -DCMAKE_BUILD_TYPE=Release >/dev/null && cmake --build "$native_build" -j2 >/dev/null; then
  ctest_output=$(ctest --test-dir "$native_build" --output-on-failure --timeout 120 2>&1)
  echo "$ctest_output" | tail -n 5
  ctest_total=$(echo "$ctest_output" | sed -n 's/.* tests failed out of \([0-9]*\).*/\1/p')
  ctest_failed=$(echo "$ctest_output" | sed -n 's/.*, \([0-9]*\) tests failed out of.*/\1/p')
  ctest_total=${ctest_total:-0}
  ctest_failed=${ctest_failed:-1}
  ctest_passed=$(( ctest_total - ctest_failed ))
else
  echo "test.sh: the native-rdma C library did not build (see above)." >&2
  ctest_failed=1
fi
rm -rf "$native_build"

results=$(mktemp -d)
slurm_state=$(mktemp -d)
cleanup() {
  tests/slurm/down.sh "$slurm_state"
  rm -rf "$results" "$slurm_state"
}
trap cleanup EXIT

# A real Slurm for the Slurm integration tests (they fail, never skip, without it).
if [ "$(id -u)" -eq 0 ]; then
  slurm_env=$(tests/slurm/up.sh "$slurm_state") || {
    echo "test.sh: could not start Slurm (logs in $slurm_state):" >&2
    cat "$slurm_state"/slurmctld.log "$slurm_state"/n*/slurmd.log >&2 2>/dev/null
    echo "0 passed, 1 failed"
    exit 1
  }
  eval "$slurm_env"
  echo "test.sh: Slurm is up (SLURM_CONF=$SLURM_CONF): $(sinfo -h -N -o '%N %t' | sort -u | tr '\n' ' ')"
else
  echo "test.sh: not root, so no Slurm is started; the Slurm integration tests will fail (run as root, as CI does)." >&2
fi

dotnet test RemoteMem.sln -c Release \
  --logger "trx;LogFileName=results.trx" --logger "console;verbosity=normal" \
  --results-directory "$results" --blame-hang-timeout 5m
status=$?

trx=$(find "$results" -name results.trx -print -quit)
if [ -z "$trx" ]; then
  echo "test.sh: no test results (the build failed or the test host crashed; see above)." >&2
  echo "0 passed, 1 failed"
  exit 1
fi

counter() { grep -o "<Counters [^>]*" "$trx" | grep -o " $1=\"[0-9]*\"" | grep -o "[0-9]*" || echo 0; }
passed=$(( $(counter passed) + ctest_passed ))
failed=$(( $(counter failed) + $(counter error) + $(counter timeout) + $(counter aborted) + ctest_failed ))
skipped=$(counter notExecuted)

# A test CI should have run but skipped is a failure there: nothing may pass by not running.
if [ "${CI:-}" = "true" ] && [ "$skipped" -gt 0 ]; then
  echo "test.sh: $skipped test(s) did not run; in CI every test must run." >&2
  failed=$(( failed + skipped ))
  skipped=0
fi

if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
