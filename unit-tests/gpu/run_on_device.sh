#!/usr/bin/env bash
# Runs the GPU test suite on the device machine with binaries built on the build machine
# (carried in build/bin), then again under compute-sanitizer's memcheck. Logs go to $OUT.
#
#   unit-tests/gpu/run_on_device.sh [gtest filter for the memcheck pass]
#
# G4C_GPU_TEST_FILTER narrows the first pass; G4C_GPU_TEST_TIMEOUT and G4C_MEMCHECK_TIMEOUT (seconds)
# bound each pass so that a hung kernel cannot eat the device session.
set -uo pipefail
out=${OUT:-/tmp/g4c-gpu-logs}
mkdir -p "$out"
export G4C_SOURCE_DIR=$PWD
export G4C_TEST_KERNEL_CACHE=${G4C_TEST_KERNEL_CACHE:-/tmp/g4c-kernel-cache}

{
  echo "# $(date -u) on $(hostname)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv
  ls /usr/local/cuda/lib*/libnvrtc.so.* 2>/dev/null
  command -v compute-sanitizer && compute-sanitizer --version | tail -1
} > "$out/device.txt" 2>&1

command="build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter=${G4C_GPU_TEST_FILTER:-*}"
echo "== $command" | tee "$out/gpu-tests.log"
start=$(date +%s)
timeout "${G4C_GPU_TEST_TIMEOUT:-540}" $command 2>&1 | tee -a "$out/gpu-tests.log"
status=${PIPESTATUS[0]}
echo "exit status $status after $(( $(date +%s) - start )) s" | tee -a "$out/gpu-tests.log"

if command -v compute-sanitizer >/dev/null; then
  filter=${1:-*}
  command="compute-sanitizer --tool memcheck --error-exitcode 99 build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter=$filter"
  echo "== $command" | tee "$out/memcheck.log"
  start=$(date +%s)
  timeout "${G4C_MEMCHECK_TIMEOUT:-540}" $command 2>&1 | tail -n 600 | tee -a "$out/memcheck.log" | tail -n 60
  echo "memcheck exit status ${PIPESTATUS[0]} after $(( $(date +%s) - start )) s" | tee -a "$out/memcheck.log"
else
  echo "compute-sanitizer is not on this machine" | tee "$out/memcheck.log"
fi
exit "$status"
