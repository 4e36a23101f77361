#!/usr/bin/env bash
# Where the captured step's time goes (binaries built on the build machine, carried in build/bin):
# the step-parts test, then `g4run profile` of the 12B default plan at N = 1, 8 and 32 and of the
# E4B at N = 1 (context 1024), whose second table replays each op kind's launches alone as a graph.
# Logs: $OUT/step-parts.tgz.   G4C_DEADLINE=560 unit-tests/gpu/step_parts_on_device.sh
set -uo pipefail
. "$(dirname "$0")/on_device_common.sh"
on_device_start step-parts
step tests timeout 120 build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter='ExecutorTest.StepParts*'
build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,32 --context 4096 -o build/plans/12b.plan
build/bin/g4c compile models/gemma4-e4b.toml --batch 1,8 --context 4096 -o build/plans/e4b.plan
for run in 12b:1 12b:8 12b:32 e4b:1; do
  model=${run%:*} n=${run#*:}
  [ $(left) -gt 60 ] || break
  step profile-$model-n$n timeout $(( $(left) - 10 )) build/bin/g4run profile build/plans/$model.plan \
    --weights random:seed=1 --batch $n --prompt 1024 --repeats 10
done
tar -czf ${OUT:-/tmp}/step-parts.tgz -C $r .
grep -E "^\[  (PASSED|FAILED)" $r/tests.log
for f in $r/profile-*.log; do echo "== $f"; sed -n '/in the captured step/,$p' $f; done
cat $r/steps.log
