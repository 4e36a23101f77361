#!/usr/bin/env bash
# quantize-in-producer on the device machine (binaries built on the build machine, carried in
# build/bin): the 12B benchmarked at N = 1, 8, 16, 32 with every default fusion and without
# quantize-in-producer, twice in alternating order (the same run, the card alone); then the GPU
# tests that run the fused kernels (their bytes against the routes' own kernels, fused vs unfused
# logits, executor vs interpreter on the default and mma16 routes, the 12B and E4B batched vs
# single) and compute-sanitizer memcheck of the kernel test and the fused-vs-unfused test.
# Logs: $OUT/quantize-in-producer.tgz.   G4C_DEADLINE=560 unit-tests/gpu/quantize_in_producer_on_device.sh
set -uo pipefail
. "$(dirname "$0")/on_device_common.sh"
on_device_start quantize-in-producer
build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 -o build/plans/12b-fused.plan
build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 \
  --fuse=residual-norm,norm-rope,quantize-once,group-matmuls -o build/plans/12b-unfused.plan
for round in 1 2; do
  order="fused unfused"; [ $round = 2 ] && order="unfused fused"
  for variant in $order; do
    [ $(left) -gt 330 ] || break
    step bench-$variant-$round timeout 90 build/bin/g4run bench build/plans/12b-$variant.plan --weights random:seed=1 \
      --batch 1,8,16,32 --context 1024
  done
done
step tests timeout $(( $(left) - 100 )) build/bin/g4c_gpu_tests --gtest_color=no \
  --gtest_filter='OpsTest.*:ExecutorTest.QuantizeInProducer*:ExecutorTest.LaunchGroups*:*ExecutorVsInterpreter*mma16*:*ExecutorVsInterpreter*default*:ExecutorTest.Gemma12bBatchedMatchesSingleWithDefaultRoutes:ExecutorTest.GemmaE4bBatchedMatchesSingleWithDefaultRoutes'
if [ $(left) -gt 40 ]; then
  step memcheck timeout $(( $(left) - 10 )) compute-sanitizer --tool memcheck --error-exitcode 1 \
    build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter='OpsTest.NormAndGeglu*:ExecutorTest.QuantizeInProducer*'
fi
tar -czf ${OUT:-/tmp}/quantize-in-producer.tgz -C $r .
grep -E "^\[  (PASSED|FAILED)|tests ran" $r/tests.log | head -30
grep -E "ERROR SUMMARY|^\[  (PASSED|FAILED)" $r/memcheck.log 2>/dev/null | head
for f in $r/bench-*.log; do echo "== $f"; grep -E "^ +N |^ +[0-9]+ +[0-9]+ |copy bandwidth|launches" $f; done
cat $r/steps.log
