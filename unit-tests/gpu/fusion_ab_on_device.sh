#!/usr/bin/env bash
# One default fusion A/B on the device machine (binaries built on the build machine, carried in
# build/bin): the 12B benchmarked at N = 1, 8, 16, 32 with the default fusions and without FUSION,
# twice in alternating order (the same run, the card alone); then the GPU tests that run the
# default fusions' kernels (TESTS, a gtest filter, beside executor vs interpreter on the default
# and mma16 routes and the 12B and E4B batched vs single), compute-sanitizer memcheck of MEMCHECK
# (a gtest filter), and a profile of the default plan at N = 1 (the in-graph split per op kind).
# G4C_AB_ORACLES=0 leaves the oracles out of the tests step (after a whole-suite call);
# G4C_AB_BENCH_UNTIL=S stops starting benches once S seconds are left (default 360), for a short
# lease;
# G4C_AB_BASE_PLAN=PLAN adds a third variant, `base` (a plan an earlier g4c compiled, for a change
# that has no switch of its own), to the rounds; G4C_AB_BASE_FUSE=LIST makes `base` the 12B
# compiled with --fuse=LIST (a second fusion's A/B in the same rounds).
# Logs: $OUT/FUSION.tgz.
#   G4C_DEADLINE=560 unit-tests/gpu/fusion_ab_on_device.sh quantize-in-producer \
#     'OpsTest.*:ExecutorTest.QuantizeInProducer*' 'OpsTest.NormAndGeglu*:ExecutorTest.QuantizeInProducer*'
set -uo pipefail
fusion=$1 tests=$2 memcheck=$3
. "$(dirname "$0")/on_device_common.sh"
on_device_start $fusion
without=$(build/bin/g4c compile models/synthetic/pairing-12b-tiny.toml --batch 1 | sed -n 's/.*fusions = \[\([^]]*\)\].*/\1/p' \
  | tr -d ' ' | tr ',' '\n' | grep -vx "$fusion" | paste -sd,)
build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 -o build/plans/12b-with.plan
build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 --fuse=$without -o build/plans/12b-without.plan
echo "without $fusion: --fuse=$without" > $r/variants.txt
variants="with without"
if [ -n "${G4C_AB_BASE_PLAN:-}" ]; then
  cp "$G4C_AB_BASE_PLAN" build/plans/12b-base.plan && variants="with without base"
  echo "base: $G4C_AB_BASE_PLAN" >> $r/variants.txt
elif [ -n "${G4C_AB_BASE_FUSE:-}" ]; then
  build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 --fuse=$G4C_AB_BASE_FUSE \
    -o build/plans/12b-base.plan && variants="with without base"
  echo "base: --fuse=$G4C_AB_BASE_FUSE" >> $r/variants.txt
fi
for round in 1 2; do
  order=$variants; [ $round = 2 ] && order=$(echo $variants | tr ' ' '\n' | tac | paste -sd' ')
  for variant in $order; do
    [ $(left) -gt ${G4C_AB_BENCH_UNTIL:-360} ] || break
    step bench-$variant-$round timeout 90 build/bin/g4run bench build/plans/12b-$variant.plan --weights random:seed=1 \
      --batch 1,8,16,32 --context 1024
  done
done
oracles=":*ExecutorVsInterpreter*mma16*:*ExecutorVsInterpreter*default*:ExecutorTest.Gemma12bBatchedMatchesSingleWithDefaultRoutes:ExecutorTest.GemmaE4bBatchedMatchesSingleWithDefaultRoutes"
[ "${G4C_AB_ORACLES:-1}" = 0 ] && oracles=  # the whole suite ran them in this lease
step tests timeout $(( $(left) - 130 )) build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter="$tests$oracles"
[ $(left) -gt 60 ] && step memcheck timeout $(( $(left) - 45 )) compute-sanitizer --tool memcheck --error-exitcode 1 \
  build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter="$memcheck"
[ $(left) -gt 25 ] && step profile timeout $(( $(left) - 5 )) build/bin/g4run profile build/plans/12b-with.plan \
  --weights random:seed=1 --batch 1 --prompt 1024 --repeats 10
tar -czf ${OUT:-/tmp}/$fusion.tgz -C $r .
cat $r/variants.txt
grep -E "^\[  (PASSED|FAILED)|tests ran" $r/tests.log | head -30
grep -E "ERROR SUMMARY|^\[  (PASSED|FAILED)" $r/memcheck.log 2>/dev/null | head
for f in $r/bench-*.log; do echo "== $f"; grep -E "^ +[0-9]+ +[0-9]+ " $f | cut -c1-60; done
sed -n '/in the captured step/,$p' $r/profile.log 2>/dev/null
cat $r/steps.log
