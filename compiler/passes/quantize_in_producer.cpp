// quantize-in-producer: the op that computes a matmul's input also writes its activations, at each
// width in the format the matmul's route there reads (`quantize = [1..8: mma16 (%l0.q), 16..32:
// mma16h (%l0.q)]`: mmq's q8_1, mma16's int8 layout, mma16h's fp16), so the matmul's own
// quantization kernel does not run. The producer
// is an rms_norm over whole rows or a geglu: its kernel has the row's values in hand and quantizes
// them as the routes' quantization kernels do (the same bytes), into its scratch; the matmuls of
// that input read it (`activations_from = %producer`, which replaces quantize-once's
// `activations_from = %first`). The f32 result is still written, for any other reader. On the
// 12B: the attention and FFN norms and the GEGLU — 144 of 978 launches per step.
#include <map>
#include <string>

#include "fusion.h"
#include "g4c/plan/routes.h"

namespace g4c {

using namespace plan;

namespace {

constexpr std::string_view kPass = "quantize-in-producer";

// Whether `producer` may write the activations of `matmul`, which reads its result: at every width
// those it already writes for another matmul, if any.
bool can_produce(const Op& producer, const Op& matmul) {
  return can_quantize_result(producer) && (!producer.find("quantize") || quantizes_for(producer, matmul));
}

}  // namespace

void run_quantize_in_producer(Plan& plan, PassContext& ctx) {
  if (!ctx.fusions.runs(kPass)) return;
  std::map<std::string, Op*> producers;  // by result
  for (Block& block : plan.blocks)
    for (Op& op : block.ops)
      if (!op.result.empty()) producers[op.result] = &op;
  std::map<std::string, std::string> moved;  // preparing matmul -> the producer that prepares instead
  for (Block& block : plan.blocks)
    for (Op& op : block.ops) {
      if (op.kind != OpKind::matmul || op.operands.empty()) continue;
      if (const Attr* from = op.find("activations_from")) {
        auto it = moved.find(std::get<Ident>(from->value).text.substr(1));
        if (it != moved.end()) op.set("activations_from", Ident{"%" + it->second});
        continue;
      }
      const std::optional<std::vector<RouteChoice>> activations = activations_for(op);
      auto producer = producers.find(op.operands[0]);
      if (!activations || producer == producers.end() || !can_produce(*producer->second, op)) continue;
      if (!producer->second->find("quantize")) producer->second->set("quantize", *activations);
      op.set("activations_from", Ident{"%" + producer->first});
      moved[op.result] = producer->first;
    }
  fusion::record(plan, kPass);
}

}  // namespace g4c
