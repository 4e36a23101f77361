// attention-split: where each attention op's partial kernel runs. The CUDA-core split gives a
// block at most 8 query heads of a GQA group (op_args.h's attention_heads_per_block), so the 12B's
// global layers — 16 query heads over one KV head of 512 values — read every key twice and do their
// dot products in FP32, which bounds them; the tensor-core split (kernels/attention_mma.cuh) takes
// the whole group a block on mma.m16n8k16. With `split = mma` on the op its kernel instance is that
// split:
//
//   %l5.attn = attention %l5.q_rope, %pos, %seq {q_heads = 16, kv_heads = 1, head_dim = 512, ...}
//     -> {..., split = mma}
//
// `g4c compile --attention-split`: auto (the default) chooses groups of kAutoMinGroup or more heads
// — on an H100 the 12B's step at 32k context and N = 8 went from 12.1 to 7.1 ms with them there,
// and at 1,024 positions every width gained 1-5%, while the sliding 2:1 groups ran 3.4% slower at
// N = 1 on the tensor cores (docs/perf.md); tensor-cores every group the split serves (an A/B
// switch); cuda-cores none.
#include "g4c/compiler/passes.h"
#include "g4c/plan/kernels.h"

namespace g4c {

using namespace plan;

namespace {

constexpr int64_t kAutoMinGroup = 8;

bool wants_tensor_cores(AttentionSplit policy, const Op& attention) {
  switch (policy) {
    case AttentionSplit::automatic:
      return attention_group(attention) >= kAutoMinGroup;
    case AttentionSplit::tensor_cores:
      return true;
    case AttentionSplit::cuda_cores:
      return false;
  }
  return false;
}

}  // namespace

void run_attention_split(Plan& plan, PassContext& ctx) {
  plan.header.attention_split = ctx.attention_split;
  for (Op* op : plan.mutable_ops()) {
    if (op->kind != OpKind::attention) continue;
    const KvCache* cache = plan.find_cache(op->cache);
    if (cache && tensor_cores_serve(*op, *cache) && wants_tensor_cores(ctx.attention_split, *op))
      op->set("split", Ident{"mma"});
    else
      op->erase("split");
  }
}

}  // namespace g4c
