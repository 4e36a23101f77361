#!/usr/bin/env bash
# Attention at long context on the device machine: the 12B compiled for 32,768 positions and
# benchmarked at 32,640 positions of context, N = 1, 2 and 8, with the launcher's split counts and
# with --attention-splits 32 (the count before the launcher chose more), in alternating order while
# time is left; then the same with K and V stored (--kv-storage=separate) if time is still left.
# Each bench prints the KV bytes attention reads per step and its step time. Binaries built on the
# build machine (carried in build/bin). Logs: $OUT/long-context.tgz.
#   G4C_DEADLINE=200 unit-tests/gpu/long_context_on_device.sh
set -uo pipefail
. "$(dirname "$0")/on_device_common.sh"
on_device_start long-context
for storage in v_only separate; do
  build/bin/g4c compile models/gemma4-12b.toml --batch 1,2,8 --context 32768 --kv-storage=$storage \
    -o build/plans/12b-long-$storage.plan
done
bench() {  # NAME PLAN [OPTIONS]
  local name=$1 plan=$2; shift 2
  [ $(left) -gt 45 ] && step bench-$name timeout $(( $(left) - 5 )) build/bin/g4run bench $plan --weights random:seed=1 \
    --batch 1,2,8 --context 32640 --steps 32 "$@"
}
bench chosen-1 build/plans/12b-long-v_only.plan
bench splits32-1 build/plans/12b-long-v_only.plan --attention-splits 32
bench splits32-2 build/plans/12b-long-v_only.plan --attention-splits 32
bench chosen-2 build/plans/12b-long-v_only.plan
bench separate-chosen build/plans/12b-long-separate.plan
bench separate-splits32 build/plans/12b-long-separate.plan --attention-splits 32
tar -czf ${OUT:-/tmp}/long-context.tgz -C $r .
for f in $r/bench-*.log; do echo "== $(basename $f)"; grep -E "^ +[0-9]+ +[0-9]+ " $f | cut -c1-100; done
cat $r/steps.log
