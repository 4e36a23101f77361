#!/usr/bin/env bash
# The mma16 route on the device machine, with binaries built on the build machine (carried in
# build/bin): its GPU tests against the CPU op and the other routes, `g4run tune` of the 12B's
# shapes on ws, mmq and mma16 at N = 1, 8, 32, then the 12B benchmarked with the default rules and
# with the routes that tune run chose, in the same run. Logs and the tuning file go to $OUT.
#
#   unit-tests/gpu/mma16_on_device.sh [widths, default 1,8,32]
set -uo pipefail
out=${OUT:-/tmp/g4c-mma16-logs}
widths=${1:-1,8,32}
mkdir -p "$out" build/plans
export G4C_SOURCE_DIR=$PWD G4C_TEST_KERNEL_CACHE=/tmp/g4c-kc G4C_KERNEL_CACHE_DIR=/tmp/g4c-kc
step() { local name=$1; shift; local s=$(date +%s); "$@" > "$out/$name.log" 2>&1; echo "$name: exit $? after $(( $(date +%s) - s )) s" | tee -a "$out/steps.log"; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$out/device.txt" 2>&1
step matmul-tests timeout 200 build/bin/g4c_gpu_tests --gtest_color=no \
  --gtest_filter='MatmulTest.EveryRoute*:MatmulTest.OneHot*:MatmulTest.OddShapes:MatmulTest.TwelveBShapes:MatmulTest.RoutesAgree*'
build/bin/g4c compile models/gemma4-12b.toml --batch "$widths" --context 4096 -o build/plans/12b-default.plan
step tune timeout 200 build/bin/g4run tune build/plans/12b-default.plan --batch "$widths" --routes ws,mmq,mma16 \
  -o "$out/h200-mma16.toml"
build/bin/g4c compile models/gemma4-12b.toml --batch "$widths" --context 4096 --tuning "$out/h200-mma16.toml" \
  -o build/plans/12b-mma16.plan
step bench-default timeout 100 build/bin/g4run bench build/plans/12b-default.plan --weights random:seed=1 --batch "$widths"
step bench-mma16 timeout 100 build/bin/g4run bench build/plans/12b-mma16.plan --weights random:seed=1 --batch "$widths"
grep -E "^\[  (PASSED|FAILED)|FAILED|worst|mma16" "$out/matmul-tests.log" | head -40
cat "$out/tune.log" | tail -40
tail -n 8 "$out"/bench-*.log
