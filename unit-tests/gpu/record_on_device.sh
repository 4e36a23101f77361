#!/usr/bin/env bash
# The step numbers of record on the card at hand (issues 14 and 17 are judged on the H200), with
# binaries built on the build machine (carry build/bin):
#
#   G4C_DEADLINE=560 unit-tests/gpu/record_on_device.sh
#
# First the oracles of the switches benchmarked below (attention on the tensor cores, early launch,
# the weight stages at every count); then `g4run bench` of the 12B and the E4B at N = 1, 8, 16, 32
# (context 1024): the default, with every attention op on the CUDA cores (--attention-split=
# cuda-cores), --stage-memory=sized and --early-launch, in two rounds where the time allows; the
# 12B at 32,640 positions (N = 1, 8) with the default split and on the CUDA cores, over V alone
# and over K and V (--kv-storage=separate: issue 19), and over V alone with 3 and 4 attention
# stages (--attention-stages, whose oracle AttentionMmaTest.EveryStageCount runs first); then
# `g4run tune` of both models' shapes at N = 1, 8, 16, 32 on every route into tune.toml (the
# tuning file of this card) with the time left.
# Logs: $OUT/record.tgz.
set -uo pipefail
. "$(dirname "$0")/on_device_common.sh"
on_device_start record
for model in 12b e4b; do
  build/bin/g4c compile models/gemma4-$model.toml --batch 1,8,16,32 --context 4096 -o build/plans/$model.plan
done
build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 --attention-split=cuda-cores \
  -o build/plans/12b-cores.plan
for storage in v_only separate; do
  for split in auto cuda-cores; do
    build/bin/g4c compile models/gemma4-12b.toml --batch 1,8 --context 32768 --kv-storage=$storage \
      --attention-split=$split -o build/plans/12b-long-$storage-$split.plan
  done
done
step tests-attention timeout 150 build/bin/g4c_gpu_tests --gtest_color=no \
  --gtest_filter='AttentionMmaTest.*:SyntheticModels/ExecutorVsInterpreter.*heads_12b*'
tests_limit=$(( $(left) - 150 )); [ $tests_limit -gt 180 ] && tests_limit=180
step tests timeout $tests_limit build/bin/g4c_gpu_tests --gtest_color=no \
  --gtest_filter='MatmulTest.Mma16RoutesAtEveryWeightStageCount:ExecutorTest.EarlyLaunch*'
bench() {  # NAME PLAN WIDTHS CONTEXT FLAGS...
  local name=$1 plan=$2 widths=$3 context=$4; shift 4
  [ $(left) -gt 60 ] || return
  echo "$name: $*" >> $r/variants.txt
  local limit=$(( $(left) - 20 )); [ $limit -gt 100 ] && limit=100
  step $name timeout $limit build/bin/g4run bench build/plans/$plan.plan --weights random:seed=1 \
    --batch $widths --context $context "$@"
}
bench bench-12b-long-default 12b-long-v_only-auto 1,8 32640
bench bench-12b-long-cores 12b-long-v_only-cuda-cores 1,8 32640
bench bench-12b-long-stages4 12b-long-v_only-auto 1,8 32640 --attention-stages 4
bench bench-12b-long-stages3 12b-long-v_only-auto 1,8 32640 --attention-stages 3
bench bench-12b-default-1 12b 1,8,16,32 1024
bench bench-12b-cores-1 12b-cores 1,8,16,32 1024
bench bench-12b-long-separate 12b-long-separate-auto 1,8 32640
bench bench-12b-long-separate-cores 12b-long-separate-cuda-cores 1,8 32640
bench bench-12b-sizedstages-1 12b 1,8,16,32 1024 --stage-memory=sized
bench bench-12b-early-1 12b 1,8,16,32 1024 --early-launch
bench bench-12b-cores-2 12b-cores 1,8,16,32 1024
bench bench-12b-default-2 12b 1,8,16,32 1024
bench bench-12b-sizedstages-2 12b 1,8,16,32 1024 --stage-memory=sized
bench bench-e4b-default e4b 1,8,16,32 1024
[ $(left) -gt 60 ] && step tune timeout $(( $(left) - 20 )) build/bin/g4run tune build/plans/12b.plan \
  build/plans/e4b.plan --batch 1,8,16,32 --repeats 15 -o $r/tune.toml
tar -czf ${OUT:-/tmp}/record.tgz -C $r .
cp $r/tune.toml ${OUT:-/tmp}/ 2>/dev/null
cat $r/device.txt $r/steps.log
grep -E "^\[  (PASSED|FAILED)|tests ran|relative to double" $r/tests-attention.log | head -40
grep -E "^\[  (PASSED|FAILED)|tests ran" $r/tests.log | head
cat $r/variants.txt
for f in $r/bench-*.log; do echo "== $(basename $f)"; grep -E "copy bandwidth|^ +N |^ +[0-9]+ +[0-9]+ " $f; done
grep -E "^(Q|F|B|type|copy)" $r/tune.log | head -80
