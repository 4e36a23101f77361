#!/usr/bin/env bash
# The numbers of record on the card at hand (issues 14, 17 and 19 are judged on the H200), with
# binaries built on the build machine (carry build/bin):
#
#   G4C_DEADLINE=560 unit-tests/gpu/record_on_device.sh
#
# 1. The oracles of the defaults, two processes side by side: both attention splits (the tensor-core
#    one at every stage count) against the CPU op and the double reference, the RoPE kernels with
#    and without tables, the caches and RoPE tables as the executor sizes them, the heads-12b
#    fixture's executor vs interpreter, and ExecutorTest (the 12B and E4B batched vs single, V
#    alone vs K and V, every fusion against the plan without it).
# 2. `g4run tune` of the 12B's and E4B's matmul shapes at N = 1, 2, 4, 8, 16, 32 on every route,
#    alone on the GPU, into tune.toml (this card's tuning file; its table is issue 14's per-shape
#    GB/s and % of the copy bandwidth).
# 3. `g4run bench` at the default prompt, N = 1, 8, 16, 32: the 12B and E4B with the default rules,
#    with the routes just tuned, and tuned without fusions (--fuse=none: issue 17's A/B).
# 4. The 12B at 32,640 positions, N = 1 and 8: over V alone (the default) and over K and V
#    (--kv-storage=separate: issue 19), each at the default three attention stages and at two.
# Logs: $OUT/record.tgz; the summary is printed.
set -uo pipefail
. "$(dirname "$0")/on_device_common.sh"
on_device_start record
compile() {  # NAME MODEL WIDTHS CONTEXT FLAGS...
  local name=$1 model=$2 widths=$3 context=$4; shift 4
  build/bin/g4c compile models/gemma4-$model.toml --batch $widths --context $context "$@" -o build/plans/$name.plan ||
    echo "compile $name: failed" >> $r/steps.log
}
tests=(
  "attention:AttentionTest.*:AttentionMmaTest.*:OpsTest.*Rope*:MemoryPlan.*:SyntheticModels/ExecutorVsInterpreter.*heads_12b*"
  "executor:ExecutorTest.*"
)
for t in "${tests[@]}"; do
  (step tests-${t%%:*} timeout 300 build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter="${t#*:}") &
done
for model in 12b e4b; do compile $model $model 1,2,4,8,16,32 4096; done
for storage in v_only separate; do compile long-$storage 12b 1,8 32768 --kv-storage=$storage; done
wait
tune_limit=$(( $(left) - 110 )); [ $tune_limit -gt 200 ] && tune_limit=200
[ $tune_limit -gt 30 ] && step tune timeout $tune_limit build/bin/g4run tune build/plans/12b.plan build/plans/e4b.plan \
  --batch 1,2,4,8,16,32 -o $r/tune.toml
if [ -s $r/tune.toml ]; then
  for model in 12b e4b; do
    compile $model-tuned $model 1,8,16,32 4096 --tuning $r/tune.toml
    compile $model-tuned-unfused $model 1,8,16,32 4096 --tuning $r/tune.toml --fuse=none
  done
fi
bench() {  # NAME PLAN OPTIONS...
  local name=$1 plan=$2; shift 2
  [ -s build/plans/$plan.plan ] && [ $(left) -gt 30 ] || return
  local limit=$(( $(left) - 15 )); [ $limit -gt 60 ] && limit=60
  echo "$name: $plan $*" >> $r/variants.txt
  step bench-$name timeout $limit build/bin/g4run bench build/plans/$plan.plan --weights random:seed=1 "$@"
}
prompt="--batch 1,8,16,32"
long="--batch 1,8 --context 32640 --steps 64"
bench 12b-tuned 12b-tuned $prompt
bench 12b-rules 12b $prompt
bench 12b-tuned-unfused 12b-tuned-unfused $prompt
bench e4b-tuned e4b-tuned $prompt
bench e4b-rules e4b $prompt
bench e4b-tuned-unfused e4b-tuned-unfused $prompt
bench long-v_only long-v_only $long
bench long-separate long-separate $long
bench long-v_only-stages2 long-v_only $long --attention-stages 2
bench long-separate-stages2 long-separate $long --attention-stages 2
bench 12b-tuned-2 12b-tuned $prompt
bench long-v_only-2 long-v_only $long
tar -czf ${OUT:-/tmp}/record.tgz -C $r .
cat $r/device.txt $r/steps.log
grep -hE "^\[  (PASSED|FAILED)|tests ran" $r/tests-*.log
[ -s $r/tune.log ] && grep -E "copy bandwidth|^Q|^F|^B" $r/tune.log | head -5
cat $r/variants.txt
for f in $r/bench-*.log; do
  echo "== $(basename $f)"; grep -E "copy bandwidth| on NVIDIA|memory:|^ +N |^ +[0-9]+ +[0-9]+ " $f
done
