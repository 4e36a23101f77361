// quantize-once: matmuls of one value whose routes prepare their activations alike at every width
// (the q8_1 or mma16 quantization, the fp16 conversion for cuBLAS) share one preparation. The first
// keeps its activation kernel and scratch; each later one reads that scratch
// (`activations_from = %first`) and launches one kernel fewer per width, and the scratch stays
// live until the last reader (plan::analyze_storage). On the 12B: Q, K and V (Q and K on the
// global layers) and gate and up — 136 of 1,230 launches per step.
#include <map>
#include <utility>

#include "fusion.h"
#include "g4c/plan/kernels.h"

namespace g4c {

using namespace plan;

namespace {

constexpr std::string_view kPass = "quantize-once";

}  // namespace

void run_quantize_once(Plan& plan, PassContext& ctx) {
  if (!ctx.fusions.runs(kPass)) return;
  for (Block& block : plan.blocks) {
    std::map<std::pair<std::string, std::string>, std::string> first;  // (input, signature) -> producer
    for (Op& op : block.ops) {
      if (op.kind != OpKind::matmul || op.operands.empty() || op.find("activations_from")) continue;
      const std::string signature = activation_signature(plan, op);
      if (signature.empty()) continue;
      auto [producer, inserted] = first.emplace(std::pair{op.operands[0], signature}, op.result);
      if (!inserted) op.set("activations_from", Ident{"%" + producer->second});
    }
  }
  fusion::record(plan, kPass);
}

}  // namespace g4c
