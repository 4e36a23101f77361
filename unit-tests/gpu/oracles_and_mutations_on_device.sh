#!/usr/bin/env bash
# One device call for the oracle runs of record: the whole GPU suite and the GPU mutation table
# (unit-tests/gpu/oracles_on_device.sh's steps), side by side when the card has the memory for
# both full-size models at once (an H200), one after the other otherwise. Everything lands in
# $OUT/oracles.tgz; the tails are printed.
set -uo pipefail
r=/tmp/g4c-oracles; rm -rf $r; mkdir -p $r
memory_mib=$(nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits | head -1)
if [ "${memory_mib:-0}" -gt 100000 ]; then
  OUT=$r/suite G4C_GPU_TEST_TIMEOUT=${G4C_GPU_TEST_TIMEOUT:-570} unit-tests/gpu/oracles_on_device.sh suite > $r/suite-run.log 2>&1 &
  suite=$!
  OUT=$r/mutations G4C_MUTATION_TIMEOUT=${G4C_MUTATION_TIMEOUT:-570} unit-tests/gpu/oracles_on_device.sh mutations > $r/mutations-run.log 2>&1
  wait $suite
else
  OUT=$r/suite G4C_GPU_TEST_TIMEOUT=${G4C_GPU_TEST_TIMEOUT:-300} unit-tests/gpu/oracles_on_device.sh suite > $r/suite-run.log 2>&1
  OUT=$r/mutations G4C_MUTATION_TIMEOUT=${G4C_MUTATION_TIMEOUT:-270} unit-tests/gpu/oracles_on_device.sh mutations > $r/mutations-run.log 2>&1
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > $r/device.txt 2>&1
tar -czf ${OUT:-/tmp}/oracles.tgz -C $r .
grep -E "^\[  (PASSED|FAILED) |^\[  FAILED|tests ran" $r/suite/gpu-tests.log | head -40
cat $r/suite/steps.log $r/mutations/steps.log 2>/dev/null
tail -n 30 $r/mutations/mutation-gpu.log
