#!/usr/bin/env bash
# mma16 row groups and the one-wave K split on the device machine (binaries built on the build
# machine): the matmul tests against the CPU op, then `g4run tune` of the 12B's shapes on mma16
# at N = 1, 8, 16, 32 for each g4run given (the default build, and builds with another
# -DG4C_MMA16_MAX_CAPACITY), then the 12B benchmarked at those widths with the default rules and
# with --route-policy=no-mma16, in the same run. Logs: $OUT/row-groups.tgz.
#
#   G4C_DEADLINE=560 unit-tests/gpu/mma16_row_groups_on_device.sh [NAME=G4RUN]...
#   (carry build/bin and the variants' folders)
set -uo pipefail
. "$(dirname "$0")/on_device_common.sh"
on_device_start row-groups
step matmul-tests timeout 150 build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter='MatmulTest.*:TuneTest.*'
build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 -o build/plans/12b-widths.plan
build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 --route-policy=no-mma16 \
  -o build/plans/12b-widths-no-mma16.plan
for variant in default=build/bin/g4run "$@"; do
  name=${variant%%=*} binary=${variant#*=}
  [ $(left) -gt 60 ] || break
  G4C_KERNEL_CACHE_DIR=/tmp/g4c-kc-$name step tune-$name timeout 90 $binary tune build/plans/12b-widths.plan \
    --batch 1,8,16,32 --routes mma16 -o $r/tune-$name.toml
done
for plan in 12b-widths 12b-widths-no-mma16; do
  [ $(left) -gt 40 ] || break
  step bench-$plan timeout $(( $(left) - 10 )) build/bin/g4run bench build/plans/$plan.plan --weights random:seed=1 \
    --batch 1,8,16,32 --context 1024
done
tar -czf ${OUT:-/tmp}/row-groups.tgz -C $r .
grep -E "^\[  (PASSED|FAILED)|tests ran" $r/matmul-tests.log | head -20
for f in $r/tune-*.log; do echo "== $f"; grep -E "^Q[0-9]_K|copy bandwidth" $f; done
for f in $r/bench-*.log; do echo "== $f"; grep -E "^ +N |^ +[0-9]+ +[0-9]+ |copy bandwidth" $f; done
cat $r/steps.log
