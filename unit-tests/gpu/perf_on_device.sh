#!/usr/bin/env bash
# The performance matrix of docs/perf.md on the device machine, with binaries built on the build
# machine (carried in build/bin): route tuning, then the 12B and E4B benchmarked with the default
# rules, the tuned routes (tuning/h200.toml), and the tuned routes without launch overlap and
# without fusions (the A/B of each), long-context benches, per-op profiles at N = 1 and 8, and the
# tuned-route oracle tests. Everything lands in $OUT/perf.tgz (one file: the device tool brings
# back a limited number).
#
#   unit-tests/gpu/perf_on_device.sh [tune]     # `tune` also rewrites the tuning files into $OUT
set -uo pipefail
export G4C_KERNEL_CACHE_DIR=/tmp/g4c-kc G4C_TEST_KERNEL_CACHE=/tmp/g4c-kc G4C_SOURCE_DIR=$PWD
r=/tmp/g4c-perf; rm -rf $r; mkdir -p $r build/plans
W=1,2,4,8,16,32
log() { echo "$*" | tee -a $r/steps.log; }
compile() { build/bin/g4c compile models/$1.toml --batch ${3:-$W} --context ${4:-4096} ${5:-} -o build/plans/$2.plan || log "compile $2 failed"; }
bench() {  # plan, output name, bench options...
  local plan=$1 name=$2; shift 2; local s=$(date +%s)
  timeout 100 build/bin/g4run bench build/plans/$plan.plan --weights random:seed=1 "$@" > $r/bench-$name.txt 2> $r/bench-$name.err
  log "g4run bench $plan.plan $* -> bench-$name.txt: exit $? after $(( $(date +%s) - s )) s"
}
for m in 12b e4b; do
  compile gemma4-$m $m-default
  compile gemma4-$m $m-tuned $W 4096 "--tuning tuning/h200.toml"
  compile gemma4-$m $m-tuned-unfused $W 4096 "--tuning tuning/h200.toml --fuse=none"
done
compile gemma4-12b 12b-long 1,8 32768 "--tuning tuning/h200.toml"
if [ "${1:-}" = tune ]; then
  timeout 100 build/bin/g4run tune build/plans/12b-default.plan build/plans/e4b-default.plan -o $r/h200.toml > $r/tune.log 2>&1
  timeout 100 build/bin/g4run tune build/plans/12b-default.plan build/plans/e4b-default.plan --routes ws,mmq,gemm_n \
    -o $r/h200-no-copies.toml > $r/tune-no-copies.log 2>&1
fi
for m in 12b e4b; do
  bench $m-default $m-default
  bench $m-tuned $m-tuned
  bench $m-tuned $m-tuned-no-overlap --no-launch-overlap
  bench $m-tuned-unfused $m-tuned-unfused
  for n in 1 8; do
    timeout 60 build/bin/g4run profile build/plans/$m-tuned.plan --weights random:seed=1 --batch $n > $r/profile-$m-n$n.txt 2>&1
  done
done
bench 12b-long 12b-ctx8192 --context 8192 --steps 64
bench 12b-long 12b-ctx32768 --context 32640 --steps 64
timeout 200 build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter='*Tuned*' > $r/gpu-tests-tuned.log 2>&1
log "tuned-route oracle tests: exit $?"
tar -czf ${OUT:-/tmp}/perf.tgz -C $r .
