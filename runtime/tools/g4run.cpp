// g4run: runs decode plans.
//
//   g4run [run] PLAN --weights SRC (--prompt-ids IDS | --prompt TEXT | --prompt-file F)... [--steps N]
//               [--vocab F.gguf] [--chat] [--stop S] [--jsonl] [--dump-logits F] [--backend gpu|cpu]
//   g4run bench PLAN --weights SRC [--batch 1,8,32] [--prompt P | --context C] [--steps S] [--json]
//   g4run profile PLAN --weights SRC [--batch N] [--prompt P] [--repeats R] [--html FILE]
//   g4run export-gguf PLAN --weights SRC -o FILE [--vocab F.gguf]
//   g4run jit PLAN [--arch sm_90] [--kernel-cache-dir DIR | --no-kernel-cache]
//   g4run tune PLAN... [-o FILE] [--batch 1,8,32] [--routes ws,mmq,...] [--repeats R] [--check-rows N]
//   g4run plan-launches PLAN [--batch 1,8] [--sm-count 132] [--max-shared BYTES]
//
// SRC is `random:seed=N` or a GGUF file. Each prompt is one sequence; all sequences decode
// together, one batched step per token. Text prompts are encoded by the tokenizer of the weights
// GGUF (or --vocab's), and the generated text is streamed back. Plans run on the GPU executor when a CUDA device is present,
// else on the CPU backend (the plan interpreter); g4run says which.
//
// Exit status: 0 on success, 1 when an input has errors, 2 on a command-line mistake.
#include <iostream>
#include <string_view>

#include "g4c/support/cli.h"
#include "g4run_common.h"

namespace {

int dispatch(int argc, char** argv) {
  using namespace g4run;
  if (const std::optional<int> done = g4c::answer_without_command(argc, argv, print_usage, kUsageError)) return *done;
  std::string_view command = argv[1];
  if (command == "run") return run(argc, argv, 2);
  if (command == "bench") return bench(argc, argv);
  if (command == "profile") return profile(argc, argv);
  if (command == "export-gguf") return export_gguf(argc, argv);
  if (command == "jit") return jit(argc, argv);
  if (command == "tune") return tune(argc, argv);
  if (command == "plan-launches") return plan_launches(argc, argv);
  // `run` is the default subcommand: `g4run PLAN ...` is `g4run run PLAN ...`.
  return run(argc, argv, 1);
}

}  // namespace

int main(int argc, char** argv) { return g4c::run_tool(g4run::kTool, dispatch, argc, argv); }
