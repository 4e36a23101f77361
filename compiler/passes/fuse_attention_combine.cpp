// attention-combine: flash-decoding attention runs as a partial kernel (a block per split of the
// keys) and a combine kernel that merges the splits. With `combine = last_block` on the attention
// op, the partial kernel's last block of each (row, KV head, head slice) merges them itself: one
// launch per layer fewer (48 on the 12B), the same arithmetic in the same order.
#include "fusion.h"

namespace g4c {

using namespace plan;

namespace {

constexpr std::string_view kPass = "attention-combine";

}  // namespace

void run_fuse_attention_combine(Plan& plan, PassContext& ctx) {
  if (!ctx.fusions.runs(kPass)) return;
  for (Op* op : plan.mutable_ops())
    if (op->kind == OpKind::attention) op->set("combine", Ident{"last_block"});
  fusion::record(plan, kPass);
}

}  // namespace g4c
