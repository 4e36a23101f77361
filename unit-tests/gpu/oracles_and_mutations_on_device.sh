#!/usr/bin/env bash
# The oracle runs of record and the first numbers of a change, in device calls of at most 10
# minutes, with binaries built on the build machine (carry build/bin, and build/vocab for text):
#
#   G4C_DEADLINE=560 unit-tests/gpu/oracles_and_mutations_on_device.sh suite      # call 1
#   G4C_DEADLINE=560 unit-tests/gpu/oracles_and_mutations_on_device.sh mutations  # call 2
#   G4C_DEADLINE=560 unit-tests/gpu/oracles_and_mutations_on_device.sh perf       # call 3
#
# suite: the whole GPU suite beside text_on_device.sh (when build/vocab was carried); the suite's
#   JSON report is the clean run of record.
# mutations: the GPU mutation table in three parts side by side (each with its own clean run), then
#   one table from all their reports (mutation_table.py --reports). Never more than three test
#   processes share the card: on an 80 GB H100 four 12B processes ran out of memory (2026-12-06).
# perf: alone on the card — the 12B at N = 1 and 8, context 1024: the default plan against
#   --route-policy=no-mma16 (mmq), the plan without group-matmuls and the one without quantize-once
#   either (--fuse=residual-norm,norm-rope); then `g4run tune` of the 12B's shapes on mmq and mma16 at
#   N = 1, 8, 16, 32 with the time left.
# Everything lands in $OUT/<step>.tgz; tails printed. G4C_DEADLINE bounds the whole script.
set -uo pipefail
step=${1:-suite}
r=/tmp/g4c-$step; rm -rf $r; mkdir -p $r build/plans
start=$(date +%s); deadline=${G4C_DEADLINE:-560}
left() { echo $(( deadline - ($(date +%s) - start) )); }
export G4C_SOURCE_DIR=$PWD G4C_TEST_KERNEL_CACHE=/tmp/g4c-kc G4C_KERNEL_CACHE_DIR=/tmp/g4c-kc
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > $r/device.txt 2>&1

case $step in
  suite)
    text=
    if [ -f build/vocab/ggml-vocab-gemma-4.gguf ]; then
      OUT=$r/text G4C_TEXT_STEP_TIMEOUT=120 timeout $(( $(left) - 20 )) unit-tests/gpu/text_on_device.sh > $r/text-run.log 2>&1 &
      text=$!
    fi
    timeout $(( $(left) - 20 )) build/bin/g4c_gpu_tests --gtest_color=no --gtest_output=json:$r/gpu-tests.json \
      > $r/gpu-tests.log 2>&1
    echo "suite: exit $? after $(( $(date +%s) - start )) s" >> $r/steps.log
    [ -n "$text" ] && wait $text
    grep -E "^\[  FAILED|tests ran|PASSED" $r/gpu-tests.log | head -30
    cat $r/text/text-summary.txt 2>/dev/null | grep -v '^PASS' ;;
  mutations)
    # Thirds: each runs its own clean pass and the expensive 12B oracles of the bugs they cover
    # (drop_weight_block_mmq: batching; window_plus_one, ring_size_as_window: past the ring), so
    # those three are apart (two halves ran past 530 s, 2026-12-07).
    parts=("skip_v_norm,drop_weight_block,drop_weight_block_mmq"
            "window_plus_one,swap_rope_pairs,ticket_left_set"
            "ring_size_as_window,swap_rope_pairs_fused")
    for i in 0 1 2; do
      timeout $(( $(left) - 30 )) python3 unit-tests/mutation/mutation_table.py --suite gpu --binary build/bin/g4c_gpu_tests \
        --work-dir $r/half$i --bugs ${parts[$i]} > $r/half$i.log 2>&1 &
    done
    wait
    mkdir -p $r/reports
    cp $r/half0/*.json $r/reports/ 2>/dev/null
    for f in $r/half1/*.json $r/half2/*.json; do [ "$(basename $f)" = none.json ] || cp $f $r/reports/; done
    python3 unit-tests/mutation/mutation_table.py --suite gpu --binary /bin/false --work-dir $r/merged \
      --reports $r/reports --markdown $r/mutation-gpu.md > $r/mutation-gpu.log 2>&1
    echo "mutation table: exit $? after $(( $(date +%s) - start )) s" >> $r/steps.log
    cat $r/mutation-gpu.log ;;
  perf)
    for variant in default no-mma16 no-groups no-quantize-once; do
      flags=
      [ $variant = no-mma16 ] && flags=--route-policy=no-mma16
      [ $variant = no-groups ] && flags=--fuse=residual-norm,norm-rope,quantize-once
      [ $variant = no-quantize-once ] && flags=--fuse=residual-norm,norm-rope
      build/bin/g4c compile models/gemma4-12b.toml --batch 1,8 --context 4096 $flags -o build/plans/12b-$variant.plan
      build/bin/g4c compile models/gemma4-12b.toml --batch 1,8 --context 4096 $flags --emit=kernels | tail -1 \
        > $r/launches-$variant.txt
      timeout 120 build/bin/g4run bench build/plans/12b-$variant.plan --weights random:seed=1 --batch 1,8 --context 1024 \
        > $r/bench-$variant.txt 2>&1
      echo "bench $variant: exit $? after $(( $(date +%s) - start )) s" >> $r/steps.log
    done
    build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 -o build/plans/12b-tune.plan
    timeout $(( $(left) - 15 )) build/bin/g4run tune build/plans/12b-tune.plan --batch 1,8,16,32 --routes mmq,mma16 \
      -o $r/tune-12b.toml > $r/tune-12b.log 2>&1
    echo "tune: exit $? after $(( $(date +%s) - start )) s" >> $r/steps.log
    for variant in default no-mma16 no-groups no-quantize-once; do
      echo "== $variant: $(cat $r/launches-$variant.txt)"
      grep -E "^ +N |^ +[0-9]+ +[0-9]+ |copy bandwidth" $r/bench-$variant.txt
    done
    tail -n 50 $r/tune-12b.log ;;
  *)
    echo "usage: $0 suite|mutations|perf" >&2
    exit 2 ;;
esac
cat $r/steps.log
tar -czf ${OUT:-/tmp}/$step.tgz -C $r .
