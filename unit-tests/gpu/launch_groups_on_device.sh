#!/usr/bin/env bash
# group-matmuls and mma16 row groups on the device machine (binaries built on the build machine,
# carried in build/bin): the GPU tests that run grouped launches (grouped vs separate, executor vs
# interpreter with the layers on mma16, the captured launch count, the 12B and E4B batched vs single
# at the default routes), then the 12B benchmarked at N = 1, 8, 16, 32 with every fusion, without
# group-matmuls and on mmq in the same run, and a profile of the default plan at N = 1 and 8.
# Logs: $OUT/launch-groups.tgz.   G4C_DEADLINE=560 unit-tests/gpu/launch_groups_on_device.sh
set -uo pipefail
. "$(dirname "$0")/on_device_common.sh"
on_device_start launch-groups
step tests timeout 240 build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter='ExecutorTest.LaunchGroups*:*ExecutorVsInterpreter*mma16*:*ExecutorVsInterpreter*default*:ExecutorTest.CapturedSteps*:ExecutorTest.Gemma12bBatchedMatchesSingleWithDefaultRoutes:ExecutorTest.GemmaE4bBatchedMatchesSingleWithDefaultRoutes:MatmulTest.*'
for variant in default no-groups no-mma16; do
  flags=
  [ $variant = no-groups ] && flags=--fuse=residual-norm,norm-rope,quantize-once
  [ $variant = no-mma16 ] && flags=--route-policy=no-mma16
  build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 $flags -o build/plans/12b-$variant.plan
  [ $(left) -gt 60 ] || break
  step bench-$variant timeout 90 build/bin/g4run bench build/plans/12b-$variant.plan --weights random:seed=1 \
    --batch 1,8,16,32 --context 1024
done
for n in 1 8; do
  [ $(left) -gt 40 ] || break
  step profile-n$n timeout $(( $(left) - 10 )) build/bin/g4run profile build/plans/12b-default.plan --weights random:seed=1 \
    --batch $n --prompt 1024 --repeats 5
done
tar -czf ${OUT:-/tmp}/launch-groups.tgz -C $r .
grep -E "^\[  (PASSED|FAILED)|tests ran|grouped vs separate" $r/tests.log | head -30
for f in $r/bench-*.log; do echo "== $f"; grep -E "^ +N |^ +[0-9]+ +[0-9]+ |copy bandwidth" $f; done
cat $r/steps.log
