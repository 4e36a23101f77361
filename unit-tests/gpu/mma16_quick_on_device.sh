#!/usr/bin/env bash
# The shortest look at the mma16 route on a device: its one-hot read-back and route-against-route
# tests, then `g4run tune` of the 12B's (and, with time left, the E4B's) shapes on mmq and mma16 at
# N = 1 and 8. For a lease too short for unit-tests/gpu/mma16_on_device.sh. Logs: $OUT/quick.tgz.
#   G4C_DEADLINE=seconds (default 240) bounds the whole script.
set -uo pipefail
r=/tmp/g4c-quick; rm -rf $r; mkdir -p $r build/plans
start=$(date +%s); deadline=${G4C_DEADLINE:-240}
left() { echo $(( deadline - ($(date +%s) - start) )); }
export G4C_SOURCE_DIR=$PWD G4C_TEST_KERNEL_CACHE=/tmp/g4c-kc G4C_KERNEL_CACHE_DIR=/tmp/g4c-kc
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | tee $r/device.txt
timeout $(( $(left) * 2 / 5 )) build/bin/g4c_gpu_tests --gtest_color=no \
  --gtest_filter='MatmulTest.OneHotActivationsReadBackEveryWeight:MatmulTest.RoutesAgreeWithEachOther' > $r/matmul.log 2>&1
echo "matmul tests: exit $? with $(left) s left" | tee -a $r/steps.log
for model in 12b e4b; do
  [ $(left) -gt 40 ] || break
  build/bin/g4c compile models/gemma4-$model.toml --batch 1,8 --context 4096 -o build/plans/$model.plan
  timeout $(( $(left) - 10 )) build/bin/g4run tune build/plans/$model.plan --batch 1,8 --routes mmq,mma16 \
    -o $r/tune-$model.toml > $r/tune-$model.log 2>&1
  echo "tune $model: exit $? with $(left) s left" | tee -a $r/steps.log
done
tar -czf ${OUT:-/tmp}/quick.tgz -C $r .
grep -E "mma16|FAILED|PASSED|tests ran" $r/matmul.log | head -30
tail -n 28 $r/tune-12b.log 2>/dev/null; tail -n 14 $r/tune-e4b.log 2>/dev/null
