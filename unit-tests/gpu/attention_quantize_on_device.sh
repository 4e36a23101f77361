#!/usr/bin/env bash
# The attention's combine kernel writing the O projection's activations (quantize-in-producer on
# attention), on the device machine (binaries built on the build machine, carried in build/bin and
# build/vocab): the whole GPU suite beside text_on_device.sh, then the 12B benchmarked with it and
# without it, twice in alternating order, then memcheck of the kernel tests and the fused-vs-unfused
# executor test. The two plans come carried in build/plans-ab: 12b-with.plan from this g4c,
# 12b-without.plan from the g4c of the commit before (`g4c compile models/gemma4-12b.toml --batch
# 1,8,16,32 --context 4096`; the same plan but for the attention ops' `quantize` and the O
# matmuls' `activations_from`). Logs: $OUT/attention-quantize.tgz.
#   G4C_DEADLINE=560 unit-tests/gpu/attention_quantize_on_device.sh [FILTER]
# FILTER (a gtest filter) narrows the suite for a short lease; without one the text tests run too.
set -uo pipefail
. "$(dirname "$0")/on_device_common.sh"
on_device_start attention-quantize
filter=${1:-*}
if [ "$filter" = "*" ] && [ -f build/vocab/ggml-vocab-gemma-4.gguf ]; then
  OUT=$r/text G4C_TEXT_STEP_TIMEOUT=120 timeout $(( $(left) - 130 )) unit-tests/gpu/text_on_device.sh > $r/text-run.log 2>&1 &
  text=$!
fi
step suite timeout $(( $(left) - 120 )) build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter="$filter"
[ -n "${text:-}" ] && wait $text
for round in 1 2; do
  order="with without"; [ $round = 2 ] && order="without with"
  for variant in $order; do
    [ $(left) -gt 45 ] && step bench-$variant-$round timeout 60 build/bin/g4run bench build/plans-ab/12b-$variant.plan \
      --weights random:seed=1 --batch 1,8,16,32 --context 1024
  done
done
[ $(left) -gt 30 ] && step memcheck timeout $(( $(left) - 15 )) compute-sanitizer --tool memcheck --error-exitcode 1 \
  build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter='AttentionTest.Gemma12b*:ExecutorTest.QuantizeInProducer*'
tar -czf ${OUT:-/tmp}/attention-quantize.tgz -C $r .
grep -E "^\[  (PASSED|FAILED)|tests ran" $r/suite.log | head -20
grep -vh '^PASS' $r/text/text-summary.txt 2>/dev/null; grep -c '^PASS' $r/text/text-summary.txt 2>/dev/null
grep -E "ERROR SUMMARY|^\[  (PASSED|FAILED)" $r/memcheck.log 2>/dev/null | head
for f in $r/bench-*.log; do echo "== $f"; grep -E "^ +[0-9]+ +[0-9]+ " $f | cut -c1-60; done
cat $r/steps.log
