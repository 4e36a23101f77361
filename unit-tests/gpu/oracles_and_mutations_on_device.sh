#!/usr/bin/env bash
# One device call for the oracle runs of record: the whole GPU suite and the GPU mutation table
# (unit-tests/gpu/oracles_on_device.sh's steps), side by side — correctness runs, so sharing the
# card changes no result — then, with the time left, `g4run tune` of the 12B's shapes on ws, mmq
# and mma16 at N = 1 and 8 alone on the card (then the E4B's). Text in, text out
# (unit-tests/gpu/text_on_device.sh, when build/vocab was carried) runs beside the suite; the V-only
# cache bench (unit-tests/gpu/kv_storage_on_device.sh --no-tests) comes last if time is left.
# Everything lands in $OUT/oracles.tgz; tails printed.
#
#   G4C_DEADLINE=seconds (default 560) bounds the whole script.
set -uo pipefail
r=/tmp/g4c-oracles; rm -rf $r; mkdir -p $r build/plans
start=$(date +%s); deadline=${G4C_DEADLINE:-560}
left() { echo $(( deadline - ($(date +%s) - start) )); }
export G4C_SOURCE_DIR=$PWD G4C_TEST_KERNEL_CACHE=/tmp/g4c-kc G4C_KERNEL_CACHE_DIR=/tmp/g4c-kc
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > $r/device.txt 2>&1
OUT=$r/suite G4C_GPU_TEST_TIMEOUT=$(( $(left) - 150 )) unit-tests/gpu/oracles_on_device.sh suite > $r/suite-run.log 2>&1 &
suite=$!
text=
if [ -f build/vocab/ggml-vocab-gemma-4.gguf ]; then
  OUT=$r/text G4C_TEXT_STEP_TIMEOUT=120 timeout $(( $(left) - 150 )) unit-tests/gpu/text_on_device.sh > $r/text-run.log 2>&1 &
  text=$!
fi
OUT=$r/mutations G4C_MUTATION_TIMEOUT=$(( $(left) - 150 )) unit-tests/gpu/oracles_on_device.sh mutations > $r/mutations-run.log 2>&1
wait $suite $text
for model in 12b e4b; do
  [ $(left) -gt 70 ] || break
  [ $model = e4b ] && [ $(left) -lt 200 ] && break  # the V-only bench comes first
  build/bin/g4c compile models/gemma4-$model.toml --batch 1,8 --context 4096 -o build/plans/$model.plan
  timeout $(( $(left) - 15 )) build/bin/g4run tune build/plans/$model.plan --batch 1,8 --routes ws,mmq,mma16 \
    -o $r/tune-$model.toml > $r/tune-$model.log 2>&1
  echo "tune $model: exit $? with $(left) s left" >> $r/steps.log
done
if [ $(left) -gt 120 ]; then
  OUT=$r/kv timeout $(( $(left) - 10 )) unit-tests/gpu/kv_storage_on_device.sh --no-tests > $r/kv-run.log 2>&1
  echo "kv-storage bench: exit $? with $(left) s left" >> $r/steps.log
fi
tar -czf ${OUT:-/tmp}/oracles.tgz -C $r .
grep -E "^\[  FAILED|tests ran|PASSED" $r/suite/gpu-tests.log | head -30
cat $r/suite/steps.log $r/mutations/steps.log $r/steps.log 2>/dev/null
tail -n 22 $r/mutations/mutation-gpu.log
tail -n 30 $r/tune-12b.log 2>/dev/null; tail -n 16 $r/tune-e4b.log 2>/dev/null
cat $r/text/text-summary.txt $r/kv/summary.txt 2>/dev/null
