#!/usr/bin/env bash
# Attention's minimum keys per split, and the 12B's tied LM head on mma16, on the device machine
# (binaries built on the build machine): the gather tests, then the 12B default plan benchmarked at
# N = 1 and 8 and contexts 256, 1024 and 4096 with each g4run given (the default build and builds
# with another -DG4C_ATTENTION_MIN_KEYS_PER_SPLIT), then the default plan against
# --fuse=residual-norm,norm-rope,quantize-once at N = 1, 8, 16, 32 (context 1024) and a profile at
# N = 1. Logs: $OUT/attention-splits.tgz.
#   G4C_DEADLINE=300 unit-tests/gpu/attention_splits_on_device.sh [NAME=G4RUN]...
set -uo pipefail
. "$(dirname "$0")/on_device_common.sh"
on_device_start attention-splits
step tests timeout 60 build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter='OpsTest.EmbedGather*'
build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 -o build/plans/12b.plan
build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 --fuse=residual-norm,norm-rope,quantize-once \
  -o build/plans/12b-no-groups.plan
for variant in default=build/bin/g4run "$@"; do
  name=${variant%%=*} binary=${variant#*=}
  for context in 256 1024 4096; do
    [ $(left) -gt 30 ] || break
    G4C_KERNEL_CACHE_DIR=/tmp/g4c-kc-$name step bench-$name-$context timeout 60 $binary bench build/plans/12b.plan \
      --weights random:seed=1 --batch 1,8 --context $context
  done
done
[ $(left) -gt 40 ] && step bench-widths timeout 60 build/bin/g4run bench build/plans/12b.plan --weights random:seed=1 \
  --batch 1,8,16,32 --context 1024
[ $(left) -gt 40 ] && step bench-widths-no-groups timeout 60 build/bin/g4run bench build/plans/12b-no-groups.plan \
  --weights random:seed=1 --batch 1,8,16,32 --context 1024
[ $(left) -gt 30 ] && step profile-n1 timeout $(( $(left) - 10 )) build/bin/g4run profile build/plans/12b.plan \
  --weights random:seed=1 --batch 1 --prompt 1024 --repeats 5
tar -czf ${OUT:-/tmp}/attention-splits.tgz -C $r .
grep -E "^\[  (PASSED|FAILED)|tests ran" $r/tests.log | head
for f in $r/bench-*.log; do echo "== $(basename $f)"; grep -E "^ +[0-9]+ +[0-9]+ " $f; done
cat $r/steps.log
