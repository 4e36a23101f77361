// The rules for the fusion passes' attributes (verifier_rules.h): what quantize-once,
// quantize-in-producer, group-matmuls, norm-chains and attention-inputs leave in a plan must
// describe launches the runtime can skip without changing a result.
#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "g4c/plan/kernels.h"
#include "g4c/plan/routes.h"
#include "g4c/plan/storage.h"
#include "verifier_rules.h"

namespace g4c::plan::verify {

namespace {

class FusionRules {
 public:
  FusionRules(const Plan& plan, const std::vector<const Op*>& ops, Reporter& report)
      : plan_(plan), ops_(ops), report_(report) {}

  bool run() {
    return check_shared_activations() && check_launch_groups() && check_geglu_epilogues() && check_norm_chains() &&
           check_attention_inputs();
  }

 private:
  bool fail(const Op& op, const std::string& message) { return report_.fail(op, message); }

  // quantize-once: `activations_from = %p` reads the activations p prepared in its scratch, so p is
  // an earlier matmul of the same input that prepares them itself, alike at every width; a plan
  // that records the fusion prepares no input twice alike. quantize-in-producer: or p computed the
  // input and wrote its activations (`quantize`) in the format this op reads at each width; no
  // matmul prepares such an input again, and some matmul reads what p wrote.
  bool check_shared_activations() {
    const auto& fusions = plan_.header.fusions;
    const bool fused = std::find(fusions.begin(), fusions.end(), "quantize-once") != fusions.end();
    std::map<std::pair<std::string, std::string>, const Op*> preparers;  // (input, signature)
    std::map<std::string, const Op*> earlier;                            // matmuls by result
    std::map<std::string, const Op*> quantizers;  // ops writing their result's activations, by result
    std::set<std::string> read;                   // quantizers some matmul reads
    for (const Op* op : ops_) {
      if (op->kind != OpKind::matmul) {
        if (op->find("quantize")) {
          if (!check_quantizer(*op)) return false;
          quantizers[op->result] = op;
        }
        continue;
      }
      const std::string signature = activation_signature(plan_, *op);
      const Attr* from = op->find("activations_from");
      if (!from) {
        auto q = quantizers.find(op->operands.at(0));
        if (q != quantizers.end() && quantizes_for(*q->second, *op))
          return fail(*op, "prepares the activations of %" + q->first + ", which %" + q->first +
                               " already quantizes: read them with activations_from = %" + q->first);
      } else if (auto q = quantizers.find(std::get<Ident>(from->value).text.substr(1)); q != quantizers.end()) {
        if (q->first != op->operands.at(0))
          return fail(*op, "activations_from %" + q->first + ", which quantizes %" + q->first + ", not %" +
                               op->operands.at(0));
        if (!check_quantized_input(*op, *q->second)) return false;
        read.insert(q->first);
        earlier[op->result] = op;
        continue;
      }
      if (from) {
        const std::string producer = std::get<Ident>(from->value).text;
        auto p = earlier.find(producer.substr(1));
        if (p == earlier.end())
          return fail(*op, "activations_from " + producer + " is not an earlier matmul or an op writing quantized activations");
        if (p->second->find("activations_from"))
          return fail(*op, "activations_from " + producer + ", which reads another matmul's activations itself: name " +
                               std::get<Ident>(p->second->find("activations_from")->value).text);
        if (p->second->operands.at(0) != op->operands.at(0))
          return fail(*op, "activations_from " + producer + ", which multiplies %" + p->second->operands.at(0) +
                               ", not %" + op->operands.at(0));
        if (signature.empty() || activation_signature(plan_, *p->second) != signature)
          return fail(*op, "activations_from " + producer +
                               ", whose routes prepare activations unlike this op's at some width");
      } else if (fused && !signature.empty()) {
        auto [first, inserted] = preparers.emplace(std::pair{op->operands.at(0), signature}, op);
        if (!inserted)
          return fail(*op, "prepares the activations of %" + op->operands.at(0) + " again, as %" + first->second->result +
                               " did (the plan records quantize-once): read them with activations_from = %" +
                               first->second->result);
      }
      earlier[op->result] = op;
    }
    for (const auto& [result, op] : quantizers)
      if (!read.count(result))
        return fail(*op, "quantizes %" + result + " for the matmuls that read it, but none reads those activations " +
                             "(activations_from = %" + result + ")");
    return true;
  }

  // quantize-in-producer: `quantize = [W: R (%m), ...]` names, at every width of the plan, a route
  // whose activations a producer writes (mmq, mma16, mma16h), and stands on an op that can write
  // them (plan::can_quantize_result).
  bool check_quantizer(const Op& op) {
    const auto& list = std::get<std::vector<RouteChoice>>(op.find("quantize")->value);
    for (int64_t width : plan_.header.widths) {
      const auto c = std::find_if(list.begin(), list.end(), [&](const RouteChoice& r) { return r.width == width; });
      if (c == list.end()) return fail(op, "quantize names no route at width " + std::to_string(width));
      if (!activation_format(c->route))
        return fail(op, "quantize names " + std::string(name(c->route)) + " at width " + std::to_string(width) +
                            ", whose activations no producer writes (mmq, mma16 or mma16h)");
    }
    if (!can_quantize_result(op))
      return fail(op, "quantize on " + std::string(schema(op.kind).name) + " of " + std::to_string(op.type.seq_elements()) +
                          "-value rows: only an rms_norm over whole rows, a geglu, or an attention with heads of a multiple of " +
                          "256 values and a combine kernel, of rows a multiple of 256 values, writes int8 activations");
    return true;
  }

  // A matmul reading a producer's activations reads, at every width, the format written there.
  bool check_quantized_input(const Op& op, const Op& producer) {
    for (const RouteChoice& c : *op.routes()) {
      const std::optional<ActivationFormat> made = quantized_result(producer, c.width);
      if (made && activation_format(c.route) != made)
        return fail(op, "activations_from %" + producer.result + ", which quantizes as " + std::string(name(*made)) +
                            " at width " + std::to_string(c.width) + ", but route " + std::string(name(c.route)) +
                            " there does not read " + std::string(name(*made)) + " activations");
    }
    return true;
  }

  // group-matmuls: `launched_with = %p` is computed by p's launch, so p is an earlier matmul that
  // launches itself and prepared this op's activations, with the same column count and
  // group-capable route at every width and p's weight type but for the last member, computing at
  // most kMaxLaunchGroup matmuls.
  bool check_launch_groups() {
    std::map<std::string, const Op*> earlier;  // matmuls by result
    std::map<std::string, std::vector<const Op*>> members;  // by leader
    for (const Op* op : ops_) {
      if (op->kind != OpKind::matmul) continue;
      if (const Attr* with = op->find("launched_with")) {
        const std::string leader = std::get<Ident>(with->value).text;
        auto p = earlier.find(leader.substr(1));
        if (p == earlier.end()) return fail(*op, "launched_with " + leader + " is not an earlier matmul");
        const Op& l = *p->second;
        if (const Attr* further = l.find("launched_with"))
          return fail(*op, "launched_with " + leader + ", which is launched with " +
                               std::get<Ident>(further->value).text + " itself: name that one");
        const Attr* from = op->find("activations_from");
        if (!from || std::get<Ident>(from->value).text != activations_source(l))
          return fail(*op, "launched_with " + leader + ", whose prepared activations it does not read: add activations_from = " +
                               activations_source(l));
        std::vector<const Op*>& group = members[leader];
        if (const std::string conflict = launch_group_conflict(plan_, l, *op, group); !conflict.empty())
          return fail(*op, "launched_with " + leader + conflict);
        group.push_back(op);
        if (static_cast<int>(group.size()) + 1 > kMaxLaunchGroup)
          return fail(*op, "launched_with " + leader + ", whose launch already computes " + std::to_string(kMaxLaunchGroup) +
                               " matmuls (at most " + std::to_string(kMaxLaunchGroup) + ")");
      }
      earlier[op->result] = op;
    }
    return true;
  }

  // geglu-epilogue: `launched_with = %p` on an op other than a matmul, naming an earlier matmul, is
  // a geglu that p's launch computes (geglu_epilogue_conflict says when it can).
  bool check_geglu_epilogues() {
    std::map<std::string, const Op*> matmuls;  // by result
    for (const Op* op : ops_) {
      if (op->kind == OpKind::matmul) {
        matmuls[op->result] = op;
        continue;
      }
      const Attr* with = op->find("launched_with");
      if (!with) continue;
      const std::string leader = std::get<Ident>(with->value).text;
      auto p = matmuls.find(leader.substr(1));
      if (p == matmuls.end()) continue;  // norm-chains' or attention-inputs' rules
      if (const Attr* further = p->second->find("launched_with"))
        return fail(*op, "launched_with " + leader + ", which is launched with " + std::get<Ident>(further->value).text +
                             " itself: name that one");
      if (const std::string conflict = geglu_epilogue_conflict(plan_, *p->second, *op); !conflict.empty())
        return fail(*op, "launched_with " + leader + conflict);
    }
    return true;
  }

  // norm-chains: `launched_with = %p` on a scale_by or rms_norm names an earlier add_rms_norm over
  // whole rows that launches itself; the chain's ops follow it directly, each reading the row the
  // one before it wrote — at most a scale_by in place, whose unscaled row nothing else reads, then
  // a weighted rms_norm over the same rows.
  bool check_norm_chains() {
    std::map<std::string, int> reads;  // operand slots reading each value
    for (const Op* op : ops_)
      for (const std::string& v : op->operands) ++reads[v];
    std::map<std::string, const Op*> earlier;  // by result
    const Op* leader = nullptr;                // of the chain being read
    std::string row;                           // what the chain's next op must read
    for (const Op* op : ops_) {
      const Attr* with = op->kind == OpKind::matmul ? nullptr : op->find("launched_with");
      if (with) {
        const std::string name = std::get<Ident>(with->value).text;
        auto p = earlier.find(name.substr(1));
        if (p != earlier.end() && (p->second->kind == OpKind::rms_norm_rope ||  // attention-inputs' rules
                                   p->second->kind == OpKind::matmul)) {        // geglu-epilogue's
          leader = nullptr;
          if (!op->result.empty()) earlier[op->result] = op;
          continue;
        }
        if (p == earlier.end() || p->second->kind != OpKind::add_rms_norm)
          return fail(*op, "launched_with " + name + " is not an earlier matmul, add_rms_norm or rms_norm_rope");
        const Op& l = *p->second;
        if (op->kind != OpKind::scale_by && op->kind != OpKind::rms_norm)
          return fail(*op, "launched_with " + name + ", an add_rms_norm: only a scale_by and an rms_norm continue " +
                               "its row (norm-chains)");
        if (l.get_int("group") != l.type.seq_elements())
          return fail(*op, "launched_with " + name + ", whose norm groups are not whole rows");
        if (leader != &l || op->operands.at(0) != row)
          return fail(*op, "launched_with " + name + ", but does not follow its chain directly (each op of a chain " +
                               "reads the row the one before it wrote, with nothing between)");
        if (op->kind == OpKind::scale_by) {
          if (row != l.result || !op->in_place())
            return fail(*op, "launched_with " + name + ": a chain's scale_by comes first, in place over its row");
          if (reads[l.result] != 1)
            return fail(*op, "launched_with " + name + ", whose unscaled row is read elsewhere too: a chain keeps " +
                                 "only the scaled one");
        } else if (op->weight.empty() || op->get_int("group") != l.get_int("group") || op->in_place()) {
          return fail(*op, "launched_with " + name + ": a chain's rms_norm is weighted, over " + name + "'s rows of " +
                               std::to_string(l.get_int("group")) + ", into storage of its own (not in place)");
        }
        row = op->result;
        if (op->kind == OpKind::rms_norm) leader = nullptr;  // nothing follows the norm
      } else if (op->kind == OpKind::add_rms_norm) {
        leader = op;
        row = op->result;
      } else {
        leader = nullptr;
      }
      if (!op->result.empty()) earlier[op->result] = op;
    }
    return true;
  }

  // attention-inputs: `launched_with = %q` on an rms_norm_rope, rms_norm or kv_write names an
  // earlier rms_norm_rope that launches itself; its members follow it directly — a K
  // rms_norm_rope, a V rms_norm, then the kv_write, which ends them — and
  // attention_inputs_conflict finds nothing that keeps them from one launch.
  bool check_attention_inputs() {
    std::map<std::string, const Op*> earlier;  // by result
    std::optional<AttentionInputs> open;       // an rms_norm_rope and the members read so far
    std::optional<StorageAnalysis> storage;
    for (const Op* op : ops_) {
      const Attr* with = op->kind == OpKind::matmul ? nullptr : op->find("launched_with");
      const std::string name = with ? std::get<Ident>(with->value).text : "";
      auto p = with ? earlier.find(name.substr(1)) : earlier.end();
      if (p == earlier.end() || p->second->kind != OpKind::rms_norm_rope) {  // not a member
        if (open && !unfinished(*open)) return false;
        open.reset();
        if (op->kind == OpKind::rms_norm_rope && !with) open = AttentionInputs{op};
        if (!op->result.empty()) earlier[op->result] = op;
        continue;
      }
      const Op& q = *p->second;
      if (const Attr* further = q.find("launched_with"))
        return fail(*op, "launched_with " + name + ", which is launched with " + std::get<Ident>(further->value).text +
                             " itself: name that one");
      if (!open || open->q != &q)
        return fail(*op, "launched_with " + name + ", but does not follow it directly (the ops a Q norm launches " +
                             "come right after it)");
      const Op** slot = op->kind == OpKind::rms_norm_rope ? &open->k
                        : op->kind == OpKind::rms_norm    ? &open->v
                        : op->kind == OpKind::kv_write    ? &open->write
                                                          : nullptr;
      if (!slot || *slot || (op->kind == OpKind::rms_norm_rope && open->v))
        return fail(*op, "launched_with " + name + ", an rms_norm_rope: a K rms_norm_rope, a V rms_norm and then " +
                             "the kv_write join its launch, each once (attention-inputs)");
      *slot = op;
      if (op->kind == OpKind::kv_write) {
        if (!storage) storage = analyze_storage(plan_);
        if (const std::string conflict = attention_inputs_conflict(plan_, *open, *storage); !conflict.empty())
          return fail(*op, "launched_with " + name + conflict);
        open.reset();
      }
      if (!op->result.empty()) earlier[op->result] = op;
    }
    return !open || unfinished(*open);
  }

  // False (reported) when the Q norm launches ops with it but no kv_write ends them.
  bool unfinished(const AttentionInputs& in) {
    if (!in.k && !in.v) return true;
    return fail(*in.q, "launches " + op_id(in.v ? *in.v : *in.k) +
                           " with it but no kv_write after: attention-inputs ends with the layer's KV write");
  }

  const Plan& plan_;
  const std::vector<const Op*>& ops_;
  Reporter& report_;
};

}  // namespace

bool check_fusion_attributes(const Plan& plan, const std::vector<const Op*>& ops, Reporter& report) {
  return FusionRules(plan, ops, report).run();
}

}  // namespace g4c::plan::verify
