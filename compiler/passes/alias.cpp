// alias: storage sharing between values. Views (`alias` for k_eq_v's V, `slice` for per-layer PLE
// inputs) already share their source's bytes; this pass decides which elementwise results may
// overwrite operand 0 in place. It may only when nothing reads those bytes afterwards — through the
// operand itself or through any alias of it. On a k_eq_v layer, K-norm must therefore write
// elsewhere (V still has to be read from the raw K projection), while V's norm, the last reader,
// may reuse the bytes.
#include <algorithm>
#include <map>

#include "g4c/compiler/passes.h"
#include "g4c/plan/storage.h"

namespace g4c {

using namespace plan;

void run_alias(Plan& plan, PassContext&) {
  std::vector<Op*> ops = plan.mutable_ops();
  for (Op* op : ops) op->erase("in_place");
  // When each value is last read, and which values are views of another's bytes: the storage
  // analysis every reader of liveness uses (plan::analyze_storage), before any in-place choice.
  const StorageAnalysis storage = analyze_storage(plan);
  const auto last_read = [&](const std::string& value) {
    const ValueStorage& v = storage.values.at(value);
    const RootStorage& root = storage.roots.at(v.root);
    return root.live_out && v.root == value ? storage.op_count : v.last_use;  // outputs stay live past the last op
  };

  std::map<std::string, std::string> root_of;  // value → the value owning its bytes, in-place choices included
  std::map<std::string, int> root_last;        // last read of any value on that storage so far
  for (int i = 0; i < static_cast<int>(ops.size()); ++i) {
    Op& op = *ops[i];
    if (op.result.empty()) continue;
    auto source = op.operands.empty() ? root_of.end() : root_of.find(op.operands[0]);
    const bool has_source = source != root_of.end();
    const bool view = op.kind == OpKind::alias || op.kind == OpKind::slice;
    const bool reuse = !view && has_source && schema(op.kind).may_run_in_place && root_last[source->second] <= i &&
                       storage.values.at(op.operands[0]).seq_bytes == op.type.seq_bytes();
    if (reuse) op.set("in_place", true);
    const std::string root = (view || reuse) && has_source ? source->second : op.result;
    root_of[op.result] = root;
    root_last[root] = std::max(root_last[root], std::max(i, last_read(op.result)));
  }
}

}  // namespace g4c
