#!/usr/bin/env bash
# Text in, text out on the GPU executor, with binaries built on the build machine (carried in
# build/bin) and Gemma 4's vocab file (carried in build/vocab/, where CMake's configure step copies
# it; G4C_VOCAB names another path). Logs go to $OUT; the summary is $OUT/text-summary.txt.
#
#   unit-tests/gpu/text_on_device.sh
#
# 1. a tiny model with Gemma 4's whole vocabulary: `--prompt "Hello" --chat` streams text on the
#    GPU, and the same greedy run on the CPU backend gives the same text;
# 2. several sequences at once: prefixed lines and --jsonl;
# 3. stop conditions: a vocabulary built from a first run's ids so that the model's own output
#    reaches <eos> (needs python3), --ignore-eos, and --stop;
# 4. the full-size 12B plan with random weights: `--prompt ... --chat` for 1 and 8 sequences.
set -uo pipefail
out=${OUT:-/tmp/g4c-text-logs}
mkdir -p "$out"
vocab=${G4C_VOCAB:-build/vocab/ggml-vocab-gemma-4.gguf}
bin=build/bin
summary="$out/text-summary.txt"
: > "$summary"
failures=0

# Runs a command, logging it with its output to $out/<name>.log; records pass/fail in the summary.
step() {
  local name=$1
  shift
  echo "== $*" > "$out/$name.log"
  local start=$(date +%s)
  timeout "${G4C_TEXT_STEP_TIMEOUT:-300}" "$@" >> "$out/$name.log" 2>&1
  local status=$?
  echo "exit status $status after $(( $(date +%s) - start )) s" >> "$out/$name.log"
  if [ "$status" -eq 0 ]; then echo "PASS $name" >> "$summary"; else echo "FAIL $name (exit $status)" >> "$summary"; failures=$((failures + 1)); fi
  return "$status"
}

# Compares two files; records the result.
same() {
  local name=$1
  if cmp -s "$2" "$3"; then echo "PASS $name" >> "$summary"; else echo "FAIL $name: $2 and $3 differ" >> "$summary"; failures=$((failures + 1)); fi
}

{
  echo "# $(date -u) on $(hostname)"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  ls -la "$vocab"
} > "$out/device.txt" 2>&1
if [ ! -f "$vocab" ]; then
  echo "FAIL no vocab file at $vocab (carry build/vocab, or set G4C_VOCAB)" | tee -a "$summary"
  exit 1
fi

tiny="$out/gemma4-vocab-tiny.plan"
step compile-tiny $bin/g4c compile lit-tests/runtime/text/Inputs/gemma4-vocab-tiny.toml --batch 1,2,4,8 -o "$tiny"
run_tiny=($bin/g4run "$tiny" --weights random:seed=1 --vocab "$vocab")

# 1. One chat prompt, streamed, on the GPU and on the CPU backend.
step chat-gpu "${run_tiny[@]}" --backend gpu --prompt "Hello" --chat --steps 24
step chat-cpu "${run_tiny[@]}" --backend cpu --prompt "Hello" --chat --steps 24
grep -v '^== \|^exit status\|^g4run: ' "$out/chat-gpu.log" > "$out/chat-gpu.text"
grep -v '^== \|^exit status\|^g4run: ' "$out/chat-cpu.log" > "$out/chat-cpu.text"
same chat-gpu-equals-cpu "$out/chat-gpu.text" "$out/chat-cpu.text"

# 2. Several sequences: prefixed lines, then JSON lines.
step lines-gpu "${run_tiny[@]}" --prompt "Hello" --prompt "The capital of France is" --prompt-ids 2,9259 --chat --steps 12
step jsonl-gpu "${run_tiny[@]}" --prompt "Hello" --prompt "Bonjour" --prompt "1, 2, 3," --steps 12 --jsonl --max-batch 2

# 3. Stop conditions, on a model with a 256-token vocabulary.
pair="$out/pairing.plan"
step compile-pairing $bin/g4c compile models/synthetic/pairing-12b-tiny.toml --batch 1,2 -o "$pair"
step ids-gpu $bin/g4run "$pair" --backend gpu --weights random:seed=1 --prompt-ids 2,17 --steps 8
if command -v python3 >/dev/null; then
  step make-vocab python3 lit-tests/runtime/text/Inputs/make_vocab.py "$out/stop-vocab.gguf" --end-at "$out/ids-gpu.log" 3 "$out/stop-expected.txt"
  step eos-gpu $bin/g4run "$pair" --backend gpu --weights random:seed=1 --vocab "$out/stop-vocab.gguf" --prompt-ids 2,17 --steps 8
  grep -v '^== \|^exit status\|^g4run: ' "$out/eos-gpu.log" > "$out/eos-gpu.text"
  same eos-text "$out/stop-expected.txt" "$out/eos-gpu.text"
  if grep -q 'ended at "<eos>"' "$out/eos-gpu.log"; then echo "PASS eos-ends" >> "$summary"; else echo "FAIL eos-ends" >> "$summary"; failures=$((failures + 1)); fi
  step ignore-eos-gpu $bin/g4run "$pair" --backend gpu --weights random:seed=1 --vocab "$out/stop-vocab.gguf" --prompt-ids 2,17 --steps 8 --ignore-eos
  step stop-gpu $bin/g4run "$pair" --backend gpu --weights random:seed=1 --vocab "$out/stop-vocab.gguf" --prompt-ids 2,17 --prompt-ids 5 --steps 8 --stop w --jsonl
else
  echo "SKIP stop conditions: no python3 on this machine" >> "$summary"
fi

# 4. The full-size 12B plan, random weights, Gemma 4's tokenizer.
big="$out/gemma4-12b.plan"
step compile-12b $bin/g4c compile models/gemma4-12b.toml --batch 1,2,4,8 --context 4096 -o "$big"
step chat-12b $bin/g4run "$big" --weights random:seed=1 --vocab "$vocab" --prompt "Write a haiku about the sea." --chat --steps 32
step chat-12b-x8 $bin/g4run "$big" --weights random:seed=1 --vocab "$vocab" --chat --steps 32 --jsonl \
  --prompt "One" --prompt "Two" --prompt "Three" --prompt "Four" --prompt "Five" --prompt "Six" --prompt "Seven" --prompt "Eight"

cat "$summary"
echo "$failures failed"
[ "$failures" -eq 0 ]
