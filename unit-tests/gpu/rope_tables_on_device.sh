#!/usr/bin/env bash
# rms_norm_rope with host-made (cos, sin) tables against angles computed in the kernel (g4run
# --no-rope-tables), on the device machine (binaries carried in build/bin): the 12B default plan
# benchmarked both ways at N = 1, 8, 32, twice alternating; the GPU tests of the norm+RoPE kernel,
# the memory plan and the executor oracles on the default routes; a profile at N = 1.
# Logs: $OUT/rope-tables.tgz.   G4C_DEADLINE=400 unit-tests/gpu/rope_tables_on_device.sh
set -uo pipefail
. "$(dirname "$0")/on_device_common.sh"
on_device_start rope-tables
build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,32 --context 4096 -o build/plans/12b.plan
for round in 1 2; do
  order="tables computed"; [ $round = 2 ] && order="computed tables"
  for variant in $order; do
    flag=; [ $variant = computed ] && flag=--no-rope-tables
    step bench-$variant-$round timeout 60 build/bin/g4run bench build/plans/12b.plan --weights random:seed=1 \
      --batch 1,8,32 --context 1024 $flag
  done
done
step tests timeout $(( $(left) - 40 )) build/bin/g4c_gpu_tests --gtest_color=no \
  --gtest_filter='OpsTest.*:MemoryPlan.*:ExecutorTest.NormChains*:ExecutorTest.StepParts*:*ExecutorVsInterpreter*default*:*ExecutorVsInterpreter*mma16*:ExecutorTest.Gemma12bBatchedMatchesSingleWithDefaultRoutes:ExecutorTest.GemmaE4bBatchedMatchesSingleWithDefaultRoutes'
[ $(left) -gt 25 ] && step profile timeout $(( $(left) - 5 )) build/bin/g4run profile build/plans/12b.plan \
  --weights random:seed=1 --batch 1 --prompt 1024 --repeats 10
tar -czf ${OUT:-/tmp}/rope-tables.tgz -C $r .
grep -E "^\[  (PASSED|FAILED)|tests ran" $r/tests.log | head -20
for f in $r/bench-*.log; do echo "== $f"; grep -E "^ +[0-9]+ +[0-9]+ " $f | cut -c1-60; done
sed -n '/in the captured step/,$p' $r/profile.log 2>/dev/null
cat $r/steps.log
