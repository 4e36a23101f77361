#!/usr/bin/env bash
# The mma16h route on the device machine (binaries built on the build machine).
#
#   G4C_DEADLINE=560 unit-tests/gpu/mma16h_on_device.sh tune    (carry build/bin)
#     its matmul tests against the CPU op (MatmulTest runs every legal route), the synthetic models
#     with every layer matmul on mma16h against the interpreter, launch groups and
#     quantize-in-producer on it; `g4run tune` of the 12B's shapes on mma16 and mma16h at N = 1, 8,
#     16, 32; the 12B benched at those widths with the default rules, that tuning file and every
#     layer matmul on mma16h, in the same run.
#   G4C_DEADLINE=560 unit-tests/gpu/mma16h_on_device.sh ab      (carry build/bin, build/vocab)
#     the whole GPU suite beside text_on_device.sh (mma16h is a default rule from N = 16), then the
#     12B at N = 1, 8, 16, 32 with the default rules against --route-policy=no-mma16h, twice,
#     alternating.
# Logs: $OUT/mma16h-<step>.tgz.
set -uo pipefail
. "$(dirname "$0")/on_device_common.sh"
what=${1:-ab}
on_device_start mma16h-$what
bench() {  # NAME PLAN: the 12B at the four widths, context 1024
  step bench-$1 timeout $(( $(left) - 10 )) build/bin/g4run bench $2 --weights random:seed=1 --batch 1,8,16,32 --context 1024
}
case $what in
  tune)
    layers="--route=attn_q=mma16h --route=attn_k=mma16h --route=attn_v=mma16h --route=attn_output=mma16h"
    layers="$layers --route=ffn_gate=mma16h --route=ffn_up=mma16h --route=ffn_down=mma16h"
    step executor-tests timeout 200 build/bin/g4c_gpu_tests --gtest_color=no \
      --gtest_filter='*ExecutorVsInterpreter*mma16h*:ExecutorTest.LaunchGroups*:ExecutorTest.QuantizeInProducer*' &
    step matmul-tests timeout 200 build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter='MatmulTest.*'
    wait
    build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 -o build/plans/12b.plan
    build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 $layers -o build/plans/12b-mma16h.plan
    step tune timeout 150 build/bin/g4run tune build/plans/12b.plan --batch 1,8,16,32 --routes mma16,mma16h -o $r/tune.toml
    [ -f $r/tune.toml ] && build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 \
      --tuning $r/tune.toml -o build/plans/12b-tuned.plan
    for plan in 12b 12b-tuned 12b-mma16h; do
      [ -f build/plans/$plan.plan ] && [ $(left) -gt 50 ] && bench $plan build/plans/$plan.plan
    done
    grep -E "^Q[0-9]_K|copy bandwidth" $r/tune.log | head -60 ;;
  ab)
    text=
    if [ -f build/vocab/ggml-vocab-gemma-4.gguf ]; then
      OUT=$r/text G4C_TEXT_STEP_TIMEOUT=120 timeout 400 unit-tests/gpu/text_on_device.sh > $r/text-run.log 2>&1 &
      text=$!
    fi
    step suite-tests timeout 420 build/bin/g4c_gpu_tests --gtest_color=no --gtest_output=json:$r/gpu-tests.json
    [ -n "$text" ] && wait $text
    build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 -o build/plans/12b.plan
    build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 --route-policy=no-mma16h \
      -o build/plans/12b-no-mma16h.plan
    for round in 1 2; do
      for plan in 12b 12b-no-mma16h; do [ $(left) -gt 30 ] && bench $plan-$round build/plans/$plan.plan; done
    done
    grep -E "^\[  FAILED" $r/suite-tests.log | head -20
    grep -E "tests ran|PASSED" $r/suite-tests.log
    cat $r/text/text-summary.txt 2>/dev/null | grep -v '^PASS' ;;
esac
tar -czf ${OUT:-/tmp}/mma16h-$what.tgz -C $r .
grep -hE "^\[  (PASSED|FAILED)|tests ran" $r/*-tests.log | head -30
for f in $r/bench-*.log; do echo "== $f"; grep -E "^ +N |^ +[0-9]+ +[0-9]+ |copy bandwidth" $f; done
cat $r/steps.log
