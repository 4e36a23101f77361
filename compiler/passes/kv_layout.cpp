// kv-layout: every layer that writes K/V gets a cache. Sliding layers keep a ring of `window`
// slots (position p lives in slot p mod slots, and attention never looks further back than the
// window), plus prefill_chunk − 1 so that a chunk's later rows never overwrite what its earlier
// rows attend to; global layers keep `context` slots. Shared-KV layers get none: their attention already names the
// source layer's cache, which records them as readers.
#include <map>

#include "g4c/compiler/passes.h"

namespace g4c {

using namespace plan;

void run_kv_layout(Plan& plan, PassContext& ctx) {
  std::vector<KvCache> caches;
  std::map<std::string, size_t> index;
  for (const Block& b : plan.blocks) {
    for (const Op& op : b.ops) {
      if (op.kind != OpKind::kv_write) continue;
      const LayerSpec& l = ctx.spec.layers.at(b.layer);
      KvCache c;
      c.name = op.cache;
      c.layer = b.layer;
      c.kind = l.window > 0 ? KvKind::ring : KvKind::full;
      c.slots = l.window > 0 ? ring_slots(l.window, plan.header.prefill_chunk, plan.header.context)
                             : plan.header.context;
      c.kv_heads = l.kv_heads;
      c.head_dim = l.head_dim;
      c.dtype = ctx.spec.kv_dtype;
      index[c.name] = caches.size();
      caches.push_back(std::move(c));
    }
  }
  for (const Block& b : plan.blocks)
    for (const Op& op : b.ops)
      if (op.kind == OpKind::attention)
        if (auto it = index.find(op.cache); it != index.end()) caches[it->second].readers.push_back(b.layer);
  plan.caches = std::move(caches);
}

}  // namespace g4c
