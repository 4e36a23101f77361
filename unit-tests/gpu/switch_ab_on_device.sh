#!/usr/bin/env bash
# One g4run switch's A/B on the device machine (binaries built on the build machine, carried in
# build/bin): first the GPU tests TESTS (a gtest filter) beside executor vs interpreter on the
# default routes and the 12B batched vs single; then the default 12B plan benchmarked at N = 1, 8,
# 16, 32 (context 1024) by one g4run with and without FLAG, twice in alternating order; `g4run tune`
# of the 12B's shapes on mma16 and mma16h at N = 1, 8, 32 with and without FLAG (the per-shape
# table), then with each of G4C_AB_TUNE_FLAGS (flag sets separated by ';', e.g. "--weight-stages 2;
# --weight-stages 4") while time is left; compute-sanitizer memcheck of MEMCHECK (a gtest filter)
# with the time left; G4C_AB_TUNE=0 leaves the tunes out (a switch `g4run tune` does not take, such
# as --early-launch, whose "off" variant is then the one with it). Logs: $OUT/NAME.tgz.
#   G4C_DEADLINE=560 unit-tests/gpu/switch_ab_on_device.sh weight-staging --no-weight-staging \
#     'MatmulTest.*:ExecutorTest.*Group*' 'MatmulTest.Mma16*:MatmulTest.OddShapes'
set -uo pipefail
name=$1 flag=$2 tests=$3 memcheck=$4
. "$(dirname "$0")/on_device_common.sh"
on_device_start $name
build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 -o build/plans/12b.plan
oracles=":*ExecutorVsInterpreter*default*:ExecutorTest.Gemma12bBatchedMatchesSingleWithDefaultRoutes"
step tests timeout $(( $(left) - 200 )) build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter="$tests$oracles"
for round in 1 2; do
  order="on off"; [ $round = 2 ] && order="off on"
  for variant in $order; do
    [ $(left) -gt 200 ] || break
    flags=; [ $variant = off ] && flags=$flag
    step bench-$variant-$round timeout 90 build/bin/g4run bench build/plans/12b.plan --weights random:seed=1 \
      --batch 1,8,16,32 --context 1024 $flags
  done
done
for variant in on off; do
  [ "${G4C_AB_TUNE:-1}" = 1 ] && [ $(left) -gt 110 ] || break
  flags=; [ $variant = off ] && flags=$flag
  step tune-$variant timeout 90 build/bin/g4run tune build/plans/12b.plan --batch 1,8,32 --routes mma16,mma16h \
    --repeats 10 -o $r/tune-$variant.toml $flags
done
IFS=';' read -ra extra <<< "${G4C_AB_TUNE_FLAGS:-}"
for i in "${!extra[@]}"; do
  [ $(left) -gt 80 ] || break
  echo "tune-extra-$i: ${extra[$i]}" >> $r/variants.txt
  step tune-extra-$i timeout 60 build/bin/g4run tune build/plans/12b.plan --batch 1,8,32 --routes mma16,mma16h \
    --repeats 10 -o $r/tune-extra-$i.toml ${extra[$i]}
done
[ $(left) -gt 40 ] && step memcheck timeout $(( $(left) - 15 )) compute-sanitizer --tool memcheck --error-exitcode 1 \
  build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter="$memcheck"
tar -czf ${OUT:-/tmp}/$name.tgz -C $r .
cat $r/steps.log
grep -E "^\[  (PASSED|FAILED)|tests ran" $r/tests.log | head -30
grep -E "ERROR SUMMARY|^\[  (PASSED|FAILED)" $r/memcheck.log 2>/dev/null | head
for f in $r/bench-*.log; do echo "== $f"; grep -E "^ +[0-9]+ +[0-9]+ " $f | cut -c1-60; done
cat $r/variants.txt 2>/dev/null
for f in $r/tune-*.log; do echo "== $f"; grep -E "^(Q|F|type|copy)" $f | head -40; done
