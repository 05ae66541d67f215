#!/bin/sh
# Builds the native-rdma shim (Release, without its ctest programs) into a CMake build tree.
# Called by RemoteMem.Fabric.Native.targets: build-native.sh <native-rdma dir> <build dir>
set -eu
src="$1"
out="$2"
mkdir -p "$out"
# A solution build can reach this project more than once at a time; two CMake runs must not share a tree.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$out/.build.lock"
  flock 9
fi
log="$out/build.log"
if ! { cmake -S "$src" -B "$out" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF &&
       cmake --build "$out" --target remotemem_rdma -j 2; } >"$log" 2>&1; then
  echo "native-rdma build failed (full log: $log):" >&2
  cat "$log" >&2
  exit 1
fi
# The library may be left untouched when nothing it depends on changed; MSBuild's
# Inputs/Outputs check compares timestamps, so mark it up to date.
touch "$out/libremotemem_rdma.so"
