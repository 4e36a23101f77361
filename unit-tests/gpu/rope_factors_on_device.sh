#!/usr/bin/env bash
# Same-run A/B of two changes, with binaries built on the build machine (carry build/bin, and
# build/old holding the g4run of the commit before them):
#
#   G4C_DEADLINE=300 unit-tests/gpu/rope_factors_on_device.sh
#
# build/old/g4run is 31c095c's: `git worktree add /tmp/old 31c095c && cd /tmp/old && cmake --preset
# default && cmake --build --preset default --target g4run && mkdir -p OLDPWD/build/old && cp
# build/bin/g4run OLDPWD/build/old/` (its kernels are embedded: it JIT-compiles its own sources).
#
# 1. RoPE angles as the product of a coarse and a fine factor (kernels/include/g4c/kernels/
#    rope_angles.h): the tensor-core attention over V alone copies two coarse angle rows a 16-key
#    tile instead of a 512-byte row a key. The 12B at 32,640 positions, N = 1 and 8, over V alone,
#    with build/old/g4run (a row a key) and build/bin/g4run, each at two and three attention stages,
#    in the order old, new, new, old.
# 2. Routes tuned on this card with siblings kept on one route (compiler/passes/routes.cpp,
#    cohere_siblings), against the default rules: the 12B and E4B at the default prompt, N = 1, 8,
#    16, 32, in the order rules, tuned, tuned, rules. The tuning file is $TUNING (default
#    tuning/h100.toml).
# Logs: $OUT/rope-factors.tgz; the summary is printed.
set -uo pipefail
. "$(dirname "$0")/on_device_common.sh"
on_device_start rope-factors
tuning=${TUNING:-tuning/h100.toml}
build/bin/g4c compile models/gemma4-12b.toml --batch 1,8 --context 32768 -o build/plans/long.plan
for model in 12b e4b; do
  build/bin/g4c compile models/gemma4-$model.toml --batch 1,8,16,32 --context 4096 -o build/plans/$model.plan
  build/bin/g4c compile models/gemma4-$model.toml --batch 1,8,16,32 --context 4096 --tuning $tuning \
    -o build/plans/$model-tuned.plan
done
bench() {  # NAME G4RUN PLAN OPTIONS...
  local name=$1 g4run=$2 plan=$3; shift 3
  [ $(left) -gt 25 ] || return
  local limit=$(( $(left) - 10 )); [ $limit -gt 60 ] && limit=60
  echo "$name: $g4run $plan $*" >> $r/variants.txt
  step bench-$name timeout $limit $g4run bench build/plans/$plan.plan --weights random:seed=1 "$@"
}
long="--batch 1,8 --context 32640 --steps 64"
for round in 1 2; do
  order="old new"; [ $round = 2 ] && order="new old"
  for side in $order; do
    g4run=build/bin/g4run; [ $side = old ] && g4run=build/old/g4run
    for stages in 3 2; do bench long-$side-stages$stages-$round $g4run long $long --attention-stages $stages; done
  done
done
for round in 1 2; do
  order="rules tuned"; [ $round = 2 ] && order="tuned rules"
  for side in $order; do
    for model in 12b e4b; do
      plan=$model; [ $side = tuned ] && plan=$model-tuned
      bench $model-$side-$round build/bin/g4run $plan --batch 1,8,16,32
    done
  done
done
tar -czf ${OUT:-/tmp}/rope-factors.tgz -C $r .
cat $r/device.txt $r/steps.log $r/variants.txt
for f in $r/bench-*.log; do
  echo "== $(basename $f)"; grep -E "copy bandwidth|^ +[0-9]+ +[0-9]+ " $f
done
