#!/usr/bin/env bash
# Attention split counts on the device machine (binaries built on the build machine, carried in
# build/bin), in alternating order while time is left:
#  - long context: the 12B compiled for 32,768 positions, benchmarked at 32,640 positions, N = 1, 2
#    and 8, with the launcher's split counts and with --attention-splits 32 (the count before the
#    launcher chose more);
#  - wide batches: the 12B at N = 32 and 1,024 positions with 8, 16 and 32 splits (fewer, longer
#    splits where 32 rows already give thousands of blocks);
#  - the long-context pair again with K and V stored (--kv-storage=separate), if time is left.
# Each bench prints the KV bytes attention reads per step and the step time.
# Logs: $OUT/attention-split-counts.tgz.
#   G4C_DEADLINE=200 unit-tests/gpu/attention_split_counts_on_device.sh
set -uo pipefail
. "$(dirname "$0")/on_device_common.sh"
on_device_start attention-split-counts
for storage in v_only separate; do
  build/bin/g4c compile models/gemma4-12b.toml --batch 1,2,8 --context 32768 --kv-storage=$storage \
    -o build/plans/12b-long-$storage.plan
done
build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 -o build/plans/12b.plan
bench() {  # NAME PLAN [OPTIONS]
  local name=$1 plan=$2; shift 2
  [ $(left) -gt 40 ] && step bench-$name timeout $(( $(left) - 5 )) build/bin/g4run bench $plan --weights random:seed=1 \
    --steps 32 "$@"
}
long="--batch 1,2,8 --context 32640" wide="--batch 32 --context 1024"
bench long-chosen build/plans/12b-long-v_only.plan $long
bench long-splits32 build/plans/12b-long-v_only.plan $long --attention-splits 32
bench wide-splits32 build/plans/12b.plan $wide --attention-splits 32
bench wide-splits16 build/plans/12b.plan $wide --attention-splits 16
bench wide-splits8 build/plans/12b.plan $wide --attention-splits 8
bench long-splits32-2 build/plans/12b-long-v_only.plan $long --attention-splits 32
bench long-chosen-2 build/plans/12b-long-v_only.plan $long
bench wide-splits8-2 build/plans/12b.plan $wide --attention-splits 8
bench wide-splits32-2 build/plans/12b.plan $wide --attention-splits 32
bench separate-chosen build/plans/12b-long-separate.plan $long
bench separate-splits32 build/plans/12b-long-separate.plan $long --attention-splits 32
tar -czf ${OUT:-/tmp}/attention-split-counts.tgz -C $r .
for f in $r/bench-*.log; do echo "== $(basename $f)"; grep -E "^ +[0-9]+ +[0-9]+ " $f | cut -c1-110; done
cat $r/steps.log
