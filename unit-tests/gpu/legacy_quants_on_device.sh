#!/usr/bin/env bash
# Q8_0 and Q4_0 on the mma16 layout's routes, on the device machine (binaries built on the build
# machine). Logs: $OUT/legacy-quants-<step>.tgz.
#
#   G4C_DEADLINE=300 unit-tests/gpu/legacy_quants_on_device.sh tune    (carry build/bin)
#     `g4run tune` of the E4B's (Q8_0) and the QAT 12B's (Q4_0) shapes on mmq, mma16 and mma16h at
#     N = 1, 8, 16, then each model benched with the default rules and with that tuning file.
#   G4C_DEADLINE=400 unit-tests/gpu/legacy_quants_on_device.sh ab      (carry build/bin)
#     the E4B's full-size oracles (batched vs single on the mma16 layout's routes and on the
#     defaults) and the Q8_0 / Q4_0 synthetic models on every route against the interpreter, then
#     both models at N = 1, 8, 16, 32 on the layout's routes against the defaults (mmq), twice;
#     then compute-sanitizer memcheck of the mma16h kernels and producers on the small models.
#   G4C_DEADLINE=150 unit-tests/gpu/legacy_quants_on_device.sh quick   (carry build/bin)
#     one round of that A/B, then the E4B's batched-vs-single oracle on the layout's routes.
set -uo pipefail
. "$(dirname "$0")/on_device_common.sh"
what=${1:-ab}
on_device_start legacy-quants-$what
# The default plans (Q8_0 and Q4_0 on mmq) and the same models with every quantized weight class
# on the mma16 layout (mma16 to N = 8, mma16h from 16).
layout_routes=
for w in attn_q attn_k attn_v attn_output ffn_gate ffn_up ffn_down lm_head; do
  layout_routes="$layout_routes --route $w=mma16@N<16 --route $w=mma16h@N>=16"
done
compile_plans() {
  for m in e4b:gemma4-e4b qat:gemma4-12b-qat-q4_0; do
    build/bin/g4c compile models/${m#*:}.toml --batch 1,8,16,32 --context 4096 -o build/plans/${m%%:*}-mmq.plan
    build/bin/g4c compile models/${m#*:}.toml --batch 1,8,16,32 --context 4096 $layout_routes \
      -o build/plans/${m%%:*}-layout.plan
  done
}
bench() {  # NAME PLAN WIDTHS
  step bench-$1 timeout $(( $(left) - 10 )) build/bin/g4run bench $2 --weights random:seed=1 --batch $3 --context 1024
}
case $what in
  tune)
    for model in e4b 12b-qat-q4_0; do
      build/bin/g4c compile models/gemma4-$model.toml --batch 1,8,16 --context 4096 -o build/plans/$model.plan
      step tune-$model timeout 100 build/bin/g4run tune build/plans/$model.plan --batch 1,8,16 --routes mmq,mma16,mma16h \
        -o $r/tune-$model.toml
      [ -f $r/tune-$model.toml ] && build/bin/g4c compile models/gemma4-$model.toml --batch 1,8,16 --context 4096 \
        --tuning $r/tune-$model.toml -o build/plans/$model-tuned.plan
    done
    for plan in e4b e4b-tuned 12b-qat-q4_0 12b-qat-q4_0-tuned; do
      [ -f build/plans/$plan.plan ] && [ $(left) -gt 25 ] && bench $plan build/plans/$plan.plan 1,8,16
    done
    for f in $r/tune-*.log; do echo "== $f"; grep -E "^Q[0-9]_[0K]|copy bandwidth" $f | head -40; done ;;
  quick)  # ab for a short lease: one bench round first, then the E4B's full-size oracles
    compile_plans
    for plan in e4b-layout e4b-mmq qat-layout qat-mmq; do [ $(left) -gt 25 ] && bench $plan build/plans/$plan.plan 1,8,16,32; done
    [ $(left) -gt 30 ] && step oracle-tests timeout $(( $(left) - 10 )) build/bin/g4c_gpu_tests --gtest_color=no \
      --gtest_filter='ExecutorTest.GemmaE4bBatchedMatchesSingleOnTheMma16Layout'
    grep -hE "^\[  (PASSED|FAILED)|tests ran|^\[ +OK|^\[  FAILED" $r/oracle-tests.log ;;
  ab)
    step oracle-tests timeout 240 build/bin/g4c_gpu_tests --gtest_color=no \
      --gtest_filter='ExecutorTest.GemmaE4b*:*ExecutorVsInterpreter*quant_q8_0*:*ExecutorVsInterpreter*quant_q4_0*'
    compile_plans
    for round in 1 2; do
      for plan in e4b-layout e4b-mmq qat-layout qat-mmq; do [ $(left) -gt 25 ] && bench $plan-$round build/plans/$plan.plan 1,8,16,32; done
    done
    # The mma16h kernels and the producers' fp16 activations under memcheck, on small models.
    [ $(left) -gt 60 ] && step memcheck timeout $(( $(left) - 15 )) compute-sanitizer --tool memcheck --error-exitcode 1 \
      build/bin/g4c_gpu_tests --gtest_color=no \
      --gtest_filter='ExecutorTest.QuantizeInProducer*:*ExecutorVsInterpreter*quant_q4_0_default_layers_mma16h'
    grep -hE "^\[  (PASSED|FAILED)|tests ran|ERROR SUMMARY" $r/oracle-tests.log $r/memcheck.log ;;
esac
tar -czf ${OUT:-/tmp}/legacy-quants-$what.tgz -C $r .
for f in $r/bench-*.log; do echo "== $f"; grep -E "^ +N |^ +[0-9]+ +[0-9]+ |copy bandwidth" $f; done
cat $r/steps.log
