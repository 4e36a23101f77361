#!/usr/bin/env bash
# Long-context attention in one device call (issue 19), with binaries built on the build machine
# (carry build/bin):
#
#   G4C_DEADLINE=560 unit-tests/gpu/long_attention_on_device.sh
#
# First the oracles of the attention kernels in two processes side by side: AttentionTest and
# AttentionMmaTest (every shape at 8 to 128 splits, the tensor-core split at every stage count),
# the heads-12b fixture's executor vs interpreter, and ExecutorTest (the 12B and E4B batched vs
# single among them). Then `g4run bench` of the 12B at 32,640 positions, N = 1, 2 and 8, over V
# alone (the default) and over K and V (--kv-storage=separate), with the tensor-core split's 3 and
# 4 stages (--attention-stages) against 2 (the default of each storage and V alone at three stages
# twice, rounds apart); then the 12B and E4B at the
# default prompt (128 tokens) at N = 1, 8, 16, 32. Each bench line gives the attention ops' time
# and the part over whole-context caches (`full ms`: the global layers).
# Logs: $OUT/long-attention.tgz; the summary is printed.
set -uo pipefail
. "$(dirname "$0")/on_device_common.sh"
on_device_start long-attention
tests=(
  "attention:AttentionTest.*:AttentionMmaTest.*:MemoryPlan.*:SyntheticModels/ExecutorVsInterpreter.*heads_12b*"
  "executor:ExecutorTest.*"
)
for t in "${tests[@]}"; do
  (step tests-${t%%:*} timeout 300 build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter="${t#*:}") &
done
for storage in v_only separate; do
  build/bin/g4c compile models/gemma4-12b.toml --batch 1,2,8 --context 32768 --kv-storage=$storage \
    -o build/plans/long-$storage.plan
done
for model in 12b e4b; do
  build/bin/g4c compile models/gemma4-$model.toml --batch 1,8,16,32 --context 4096 -o build/plans/$model.plan
done
wait
bench() {  # NAME PLAN OPTIONS...
  local name=$1 plan=$2; shift 2
  [ $(left) -gt 45 ] || return
  local limit=$(( $(left) - 15 )); [ $limit -gt 90 ] && limit=90
  echo "$name: $*" >> $r/variants.txt
  step bench-$name timeout $limit build/bin/g4run bench build/plans/$plan.plan --weights random:seed=1 "$@"
}
long="--batch 1,2,8 --context 32640 --steps 64"
bench v_only long-v_only $long
bench separate long-separate $long
bench separate-stages3 long-separate $long --attention-stages 3
bench v_only-stages3 long-v_only $long --attention-stages 3
bench v_only-stages4 long-v_only $long --attention-stages 4
bench 12b-prompt 12b --batch 1,8,16,32
bench v_only-2 long-v_only $long
bench separate-2 long-separate $long
bench v_only-stages3-2 long-v_only $long --attention-stages 3
bench e4b-prompt e4b --batch 1,8,16,32
tar -czf ${OUT:-/tmp}/long-attention.tgz -C $r .
cat $r/device.txt $r/steps.log
grep -hE "^\[  (PASSED|FAILED)|tests ran" $r/tests-*.log
cat $r/variants.txt
for f in $r/bench-*.log; do echo "== $(basename $f)"; grep -E "copy bandwidth|memory:|^ +N |^ +[0-9]+ +[0-9]+ " $f; done
