#!/usr/bin/env bash
# The mma16h route on the device machine (binaries built on the build machine): its matmul tests
# against the CPU op (MatmulTest runs every legal route), the synthetic models with every layer
# matmul on mma16h against the interpreter, launch groups and quantize-in-producer on it; then
# `g4run tune` of the 12B's shapes on mma16 and mma16h at N = 1, 8, 16, 32, and the 12B benched at
# those widths with the default rules, with that tuning file and with every layer matmul on
# mma16h, in the same run. Logs: $OUT/mma16h.tgz.
#
#   G4C_DEADLINE=560 unit-tests/gpu/mma16h_on_device.sh      (carry build/bin)
set -uo pipefail
. "$(dirname "$0")/on_device_common.sh"
on_device_start mma16h
layers="--route=attn_q=mma16h --route=attn_k=mma16h --route=attn_v=mma16h --route=attn_output=mma16h"
layers="$layers --route=ffn_gate=mma16h --route=ffn_up=mma16h --route=ffn_down=mma16h"
step executor-tests timeout 200 build/bin/g4c_gpu_tests --gtest_color=no \
  --gtest_filter='ExecutorVsInterpreter.*mma16h*:ExecutorTest.LaunchGroups*:ExecutorTest.QuantizeInProducer*' &
step matmul-tests timeout 200 build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter='MatmulTest.*'
wait
build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 -o build/plans/12b.plan
build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 $layers -o build/plans/12b-mma16h.plan
step tune timeout 150 build/bin/g4run tune build/plans/12b.plan --batch 1,8,16,32 --routes mma16,mma16h -o $r/tune.toml
[ -f $r/tune.toml ] && build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 \
  --tuning $r/tune.toml -o build/plans/12b-tuned.plan
for plan in 12b 12b-tuned 12b-mma16h 12b; do
  [ -f build/plans/$plan.plan ] && [ $(left) -gt 50 ] || continue
  step bench-$plan-$(left) timeout $(( $(left) - 10 )) build/bin/g4run bench build/plans/$plan.plan --weights random:seed=1 \
    --batch 1,8,16,32 --context 1024
done
tar -czf ${OUT:-/tmp}/mma16h.tgz -C $r .
grep -hE "^\[  (PASSED|FAILED)|tests ran" $r/*-tests.log | head -30
grep -E "^Q[0-9]_K|copy bandwidth" $r/tune.log | head -60
for f in $r/bench-*.log; do echo "== $f"; grep -E "^ +N |^ +[0-9]+ +[0-9]+ |copy bandwidth" $f; done
cat $r/steps.log
