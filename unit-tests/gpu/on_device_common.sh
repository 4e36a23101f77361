# Sourced by the *_on_device.sh scripts that log into one folder under a deadline:
#   on_device_start NAME  → $r (a fresh /tmp/g4c-NAME), left (seconds to G4C_DEADLINE, default
#   560), step NAME CMD... (runs CMD into $r/NAME.log and appends its exit and time to
#   $r/steps.log), the kernel caches in /tmp, and the device's name in $r/device.txt.
on_device_start() {
  r=/tmp/g4c-$1; rm -rf "$r"; mkdir -p "$r" build/plans
  start=$(date +%s); deadline=${G4C_DEADLINE:-560}
  export G4C_SOURCE_DIR=$PWD G4C_TEST_KERNEL_CACHE=/tmp/g4c-kc G4C_KERNEL_CACHE_DIR=/tmp/g4c-kc
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$r/device.txt" 2>&1
}
left() { echo $(( deadline - ($(date +%s) - start) )); }
step() {
  local name=$1; shift
  local s=$(date +%s)
  "$@" > "$r/$name.log" 2>&1
  echo "$name: exit $? after $(( $(date +%s) - s )) s" >> "$r/steps.log"
}
