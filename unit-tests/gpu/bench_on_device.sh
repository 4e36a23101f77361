#!/usr/bin/env bash
# Benchmarks and profiles the full-size 12B and E4B on the device machine with binaries built on the
# build machine (carried in build/bin). Plans are compiled here, output goes to $OUT.
#
#   unit-tests/gpu/bench_on_device.sh [widths, default 1,2,4,8,16,32] [profile widths, default 1,8]
set -uo pipefail
out=${OUT:-/tmp/g4c-bench-logs}
widths=${1:-1,2,4,8,16,32}
profile_widths=${2:-1,8}
mkdir -p "$out" build/plans
cache=/tmp/g4c-kernel-cache
for model in gemma4-12b gemma4-e4b; do
  plan=build/plans/$model.plan
  build/bin/g4c compile models/$model.toml --batch "$widths" --context 4096 -o "$plan" || exit 1
  command="build/bin/g4run bench $plan --weights random:seed=1 --batch $widths --kernel-cache-dir $cache"
  { echo "== $command"; $command; } > "$out/bench-$model.txt" 2>&1
  for n in ${profile_widths//,/ }; do
    command="build/bin/g4run profile $plan --weights random:seed=1 --batch $n --kernel-cache-dir $cache"
    { echo "== $command"; $command; } > "$out/profile-$model-n$n.txt" 2>&1
  done
done
tail -n 12 "$out"/bench-*.txt
