#!/usr/bin/env bash
# One kernel change A/B on the device machine: the same 12B plan benchmarked by this build's g4run
# (build/bin) and by the g4run of the commit before the change (carried in build/ab/g4run; kernels
# are embedded in the binary, so the two run different kernels over identical plans), N = 1, 8,
# 16, 32 at context 1024, twice in alternating order; then the GPU tests TESTS (a gtest filter)
# beside executor vs interpreter on the default routes and the 12B and E4B batched vs single,
# compute-sanitizer memcheck of MEMCHECK, the profile of the default plan at N = 1, and the launch
# records the executor builds on this device against `g4run plan-launches` printed for a device of
# its SM count and shared memory (they must be identical). Logs: $OUT/NAME.tgz.
# G4C_AB_BENCH_LEFT (default 300): a bench run starts only with more seconds than that left.
#   G4C_DEADLINE=560 unit-tests/gpu/kernel_ab_on_device.sh norm-rows 'OpsTest.*' 'OpsTest.*Norm*'
set -uo pipefail
name=$1 tests=$2 memcheck=$3
. "$(dirname "$0")/on_device_common.sh"
on_device_start $name
build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 -o build/plans/12b.plan
build/bin/g4run plan-launches build/plans/12b.plan > $r/launches-device.txt 2>&1
sms=$(sed -n 's/^; width 1 on \([0-9]*\) SMs, \([0-9]*\) bytes.*/\1/p' $r/launches-device.txt)
shared=$(sed -n 's/^; width 1 on \([0-9]*\) SMs, \([0-9]*\) bytes.*/\2/p' $r/launches-device.txt)
build/bin/g4run plan-launches build/plans/12b.plan --sm-count "$sms" --max-shared "$shared" > $r/launches-described.txt 2>&1
cmp $r/launches-device.txt $r/launches-described.txt > $r/launches-cmp.txt 2>&1 && echo "identical ($sms SMs, $shared bytes)" >> $r/launches-cmp.txt
for round in 1 2; do
  order="after before"; [ $round = 2 ] && order="before after"
  for variant in $order; do
    binary=build/bin/g4run; [ $variant = before ] && binary=build/ab/g4run
    [ $(left) -gt ${G4C_AB_BENCH_LEFT:-300} ] && step bench-$variant-$round timeout 90 $binary bench build/plans/12b.plan \
      --weights random:seed=1 --batch 1,8,16,32 --context 1024
  done
done
oracles=":*ExecutorVsInterpreter*default*:ExecutorTest.Gemma12bBatchedMatchesSingleWithDefaultRoutes:ExecutorTest.GemmaE4bBatchedMatchesSingleWithDefaultRoutes"
step tests timeout $(( $(left) - 100 )) build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter="$tests$oracles"
[ $(left) -gt 60 ] && step memcheck timeout $(( $(left) - 40 )) compute-sanitizer --tool memcheck --error-exitcode 1 \
  build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter="$memcheck"
[ $(left) -gt 25 ] && step profile timeout $(( $(left) - 5 )) build/bin/g4run profile build/plans/12b.plan \
  --weights random:seed=1 --batch 1 --prompt 1024 --repeats 10
tar -czf ${OUT:-/tmp}/$name.tgz -C $r .
cat $r/launches-cmp.txt
grep -E "^\[  (PASSED|FAILED)|tests ran" $r/tests.log | head -30
grep -E "ERROR SUMMARY|^\[  (PASSED|FAILED)" $r/memcheck.log 2>/dev/null | head
for f in $r/bench-*.log; do echo "== $f"; grep -E "^ +[0-9]+ +[0-9]+ " $f | cut -c1-60; done
sed -n '/in the captured step/,$p' $r/profile.log 2>/dev/null
cat $r/steps.log
