#!/usr/bin/env bash
# Hardware counters of the 12B step's kernels on the device machine (Nsight Compute; works on the
# Firecracker machines, not on gVisor: device/KINDS.md): `g4run bench` of the default plan at
# context 1024 under ncu, for each "WIDTH:KERNEL-REGEX:COUNT[:SKIP]" argument COUNT launches of the
# kernels whose names match, after SKIP of them (a layer's kernels come in step order, so COUNT = 6
# attention partials are five sliding layers and the first global one). The first attention
# launches of a bench read almost nothing (0.2% of DRAM peak in 3.3 us on 2026-12-07: steps before
# the timed ones, not at the context's position): skip a few steps' worth there (48 partials a 12B
# step: SKIP = 480). Clocks are left alone
# (--clock-control none, device/METHOD.md). Logs: $OUT/ncu.tgz, one NAME.log per argument.
#   G4C_DEADLINE=300 unit-tests/gpu/ncu_on_device.sh 1:matmul_mma16:5 32:attention_partial:6:480
set -uo pipefail
. "$(dirname "$0")/on_device_common.sh"
on_device_start ncu
ncu=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu /usr/local/cuda/bin/ncu 2>/dev/null | head -1)
build/bin/g4c compile models/gemma4-12b.toml --batch 1,8,16,32 --context 4096 -o build/plans/12b.plan
sections="--section SpeedOfLight --section MemoryWorkloadAnalysis --section Occupancy --section LaunchStats"
sections+=" --section WarpStateStats --section SchedulerStats --section ComputeWorkloadAnalysis"
for what in "$@"; do
  IFS=: read -r width kernel count skip <<< "$what"
  [ $(left) -gt 40 ] || break
  step "n$width-$kernel" timeout $(( $(left) - 20 )) "$ncu" --clock-control none -k "regex:$kernel" -c "$count" \
    -s "${skip:-0}" $sections \
    build/bin/g4run bench build/plans/12b.plan --weights random:seed=1 --batch "$width" --context 1024 --steps 32
done
tar -czf ${OUT:-/tmp}/ncu.tgz -C $r .
cat $r/steps.log
for f in $r/n*.log; do
  echo "== $f"
  grep -E "^  [a-z_]+.*\(|Duration|DRAM Throughput|Memory Throughput|Achieved Occupancy|Registers Per|Warp Cycles Per Issued|Stall|Issue Slots Busy|Theoretical Occupancy|Grid Size|Block Limit" "$f" | head -80
done
