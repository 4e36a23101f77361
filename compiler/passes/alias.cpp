// alias: storage sharing between values. Views (`alias` for k_eq_v's V, `slice` for per-layer PLE
// inputs) already share their source's bytes; this pass decides which elementwise results may
// overwrite operand 0 in place. It may only when nothing reads those bytes afterwards — through the
// operand itself or through any alias of it. On a k_eq_v layer, K-norm must therefore write
// elsewhere (V still has to be read from the raw K projection), while V's norm, the last reader,
// may reuse the bytes.
#include <algorithm>
#include <map>

#include "g4c/compiler/passes.h"

namespace g4c {

using namespace plan;

void run_alias(Plan& plan, PassContext&) {
  std::vector<Op*> ops = plan.mutable_ops();
  int count = static_cast<int>(ops.size());
  std::map<std::string, int> last_use;  // outputs stay live past the last op
  for (int i = 0; i < count; ++i)
    for (const std::string& v : ops[i]->operands) last_use[v] = ops[i]->kind == OpKind::output ? count : i;

  std::map<std::string, std::string> root_of;  // value → the value owning its bytes
  std::map<std::string, int> root_last;        // last read of any value on that storage so far
  std::map<std::string, int64_t> seq_bytes;
  for (int i = 0; i < count; ++i) {
    Op& op = *ops[i];
    op.erase("in_place");
    if (op.result.empty()) continue;
    auto source = op.operands.empty() ? root_of.end() : root_of.find(op.operands[0]);
    bool has_source = source != root_of.end();
    bool view = op.kind == OpKind::alias || op.kind == OpKind::slice;
    bool reuse = !view && has_source && schema(op.kind).may_run_in_place && root_last[source->second] <= i &&
                 seq_bytes[op.operands[0]] == op.type.seq_bytes();
    if (reuse) op.set("in_place", true);
    std::string root = (view || reuse) && has_source ? source->second : op.result;
    root_of[op.result] = root;
    seq_bytes[op.result] = op.type.seq_bytes();
    auto last = last_use.find(op.result);
    root_last[root] = std::max(root_last[root], last == last_use.end() ? i : last->second);
  }
}

}  // namespace g4c
