#!/usr/bin/env bash
# V-only caches on the device machine (issue 19, plan kv-storage): the GPU oracles of the change,
# then the 12B at 32,640 positions of context, N = 1 and 8, with its eight global k_eq_v caches
# keeping V alone (the default) and K and V (--kv-storage=separate), with binaries built on the
# build machine (carried in build/bin). Each bench prints the executor's memory check (KV bytes per
# sequence, how many sequences fit in the device's free memory) and per N the KV bytes the
# attention ops read per step, the step time and the attention time. Each storage is benchmarked
# with the global layers' attention on the CUDA cores (--attention-split=cuda-cores) and on the
# tensor cores (the default, which rebuilds only the rotated pairs' values of a V-only key), then
# the default pair again, then the tensor-core split with three and four shared-memory stages
# (--attention-stages) against two.
#
#   unit-tests/gpu/kv_storage_on_device.sh [--no-tests]   (G4C_GPU_FILTER: other tests than the oracles')
#
# Writes $OUT/summary.txt and the logs as $OUT/kv-storage-logs.tar.gz.
set -uo pipefail
out=${OUT:-/tmp/g4c-kv-storage-logs}
logs=$(mktemp -d)
cache=/tmp/g4c-kernel-cache
mkdir -p "$out" build/plans
status=0

if [ "${1:-}" != "--no-tests" ]; then
  # The attention kernel and kv_write on V-only caches against the CPU op, the executor against the
  # interpreter on the k_eq_v synthetic models (V alone, K and V, chunked prefill), V-only against
  # K-and-V caches, and the 12B's batched decode against single-sequence decode (V-only globals).
  filter='AttentionTest.*:AttentionMmaTest.*:ExecutorTest.KeqvModels*:ExecutorTest.VOnly*:MemoryPlan.*'
  filter+=':SyntheticModels/ExecutorVsInterpreter.*keqv*:SyntheticModels/ExecutorVsInterpreter.*pairing*'
  filter+=':SyntheticModels/FusedVsUnfused.*:ExecutorTest.Gemma12bBatchedMatchesSingleWithDefaultRoutes'
  filter+=':ExecutorTest.Gemma12bBatchingIsExactAtOneWidth'
  timeout 300 build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter="$filter" > "$logs/gpu-tests.log" 2>&1 || status=1
fi

for storage in v_only separate; do
  for split in auto cuda-cores; do
    build/bin/g4c compile models/gemma4-12b.toml --batch 1,8 --context 32768 \
      --kv-storage=$storage --attention-split=$split -o build/plans/12b-long-$storage-$split.plan || exit 1
  done
  build/bin/g4c compile models/gemma4-12b.toml --context 32768 --kv-storage=$storage --emit=spec \
    > "$logs/spec-$storage.txt" || exit 1
done
runs=()
bench() {  # NAME PLAN [OPTIONS]
  local name=$1 plan=$2; shift 2
  local command="build/bin/g4run bench build/plans/12b-long-$plan.plan --weights random:seed=1 --batch 1,8"
  command+=" --context 32640 --steps 64 --kernel-cache-dir $cache $*"
  { echo "== $command"; timeout 120 $command; } > "$logs/bench-$name.txt" 2>&1 || status=1
  runs+=("$name")
}
bench v_only-cuda-cores v_only-cuda-cores
bench separate-cuda-cores separate-cuda-cores
bench v_only v_only-auto
bench separate separate-auto
bench separate-2 separate-auto
bench v_only-2 v_only-auto
bench v_only-stages3 v_only-auto --attention-stages 3
bench v_only-stages4 v_only-auto --attention-stages 4
bench separate-stages3 separate-auto --attention-stages 3
bench v_only-stages4-2 v_only-auto --attention-stages 4
bench v_only-3 v_only-auto

{
  echo "== GPU tests"
  grep -E "^\[  (PASSED|FAILED|SKIPPED) |tests ran" "$logs/gpu-tests.log" 2>/dev/null || echo "(not run)"
  for storage in v_only separate; do echo "== spec, caches $storage"; grep -E "^totals" "$logs/spec-$storage.txt"; done
  for name in "${runs[@]}"; do
    echo "== 12B, $name: plan of 32,768 positions, steps timed after 32,640"
    grep -E "^== |memory:|^ +N |^ +[0-9]+ +[0-9]+ " "$logs/bench-$name.txt"
  done
} > "$out/summary.txt"
tar -czf "$out/kv-storage-logs.tar.gz" -C "$logs" .
cat "$out/summary.txt"
exit $status
