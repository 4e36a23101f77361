#!/usr/bin/env bash
# The oracle runs of record on the device machine, with binaries built on the build machine
# (carried in build/bin): the whole GPU suite, then the GPU mutation table (each known bug
# injected into the kernels, unit-tests/mutation/mutation_table.py), then memcheck over the
# given filter. Logs go to $OUT.
#
#   unit-tests/gpu/oracles_on_device.sh [suite|mutations|memcheck ...]   (default: all three)
set -uo pipefail
out=${OUT:-/tmp/g4c-oracle-logs}
mkdir -p "$out"
export G4C_SOURCE_DIR=$PWD G4C_TEST_KERNEL_CACHE=${G4C_TEST_KERNEL_CACHE:-/tmp/g4c-kernel-cache}
steps=${*:-suite mutations memcheck}
status=0
for step in $steps; do
  start=$(date +%s)
  case $step in
    suite)
      timeout "${G4C_GPU_TEST_TIMEOUT:-540}" build/bin/g4c_gpu_tests --gtest_color=no \
        --gtest_filter="${G4C_GPU_TEST_FILTER:-*}" --gtest_output=json:"$out/gpu-tests.json" > "$out/gpu-tests.log" 2>&1 ;;
    mutations)
      timeout "${G4C_MUTATION_TIMEOUT:-540}" python3 unit-tests/mutation/mutation_table.py --suite gpu \
        --binary build/bin/g4c_gpu_tests --work-dir /tmp/g4c-mutation-gpu --markdown "$out/mutation-gpu.md" \
        ${G4C_MUTATION_BUGS:+--bugs $G4C_MUTATION_BUGS} ${G4C_CLEAN_REPORT:+--clean-report $G4C_CLEAN_REPORT} \
        > "$out/mutation-gpu.log" 2>&1 ;;
    memcheck)
      timeout "${G4C_MEMCHECK_TIMEOUT:-300}" compute-sanitizer --tool memcheck --error-exitcode 99 \
        build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter="${G4C_MEMCHECK_FILTER:-AttentionTest.*:OpsTest.*}" \
        > "$out/memcheck.log" 2>&1 ;;
  esac
  rc=$?
  echo "$step: exit $rc after $(( $(date +%s) - start )) s" | tee -a "$out/steps.log"
  [ $rc -eq 0 ] || status=1
done
tail -n 5 "$out/gpu-tests.log" 2>/dev/null; tail -n 30 "$out/mutation-gpu.log" 2>/dev/null; tail -n 3 "$out/memcheck.log" 2>/dev/null
exit $status
