#include "g4c/plan/verifier.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "g4c/plan/bytes_read.h"
#include "g4c/plan/kernels.h"
#include "g4c/plan/printer.h"
#include "g4c/plan/routes.h"
#include "g4c/plan/storage.h"
#include "g4c/support/text.h"
#include "verifier_rules.h"

namespace g4c::plan {

namespace {

using verify::op_id;

ValueType batch(DType t, std::vector<int64_t> dims) {
  dims.insert(dims.begin(), kBatch);
  return ValueType{t, std::move(dims)};
}

class Verifier {
 public:
  Verifier(const Plan& plan, DiagnosticEngine& diag) : plan_(plan), report_(plan, diag), ops_(plan.ops()) {}

  bool run() {
    return check_header() && check_complete() && check_weights() && check_values() && check_caches() &&
           check_cache_storage() && check_cache_order() && check_routes() && check_aliasing() && check_buffers() &&
           check_kernels() && check_outputs();
  }

  // The i32 values a step feeds in, each an index the runtime trusts (token ids index the
  // embedding tables, positions the caches and RoPE, sequences the cache slots): an op that
  // indexes with one must be given the one it expects.
  enum class Role { none, tokens, positions, sequences, sampled };
  static std::string_view role_name(Role r) {
    switch (r) {
      case Role::tokens: return "the tokens input";
      case Role::positions: return "the positions input";
      case Role::sequences: return "the sequences input";
      case Role::sampled: return "a sampled token";
      case Role::none: break;
    }
    return "not a step input";
  }

 private:
  bool fail(const SourceLoc& loc, std::string message) { return report_.fail(loc, std::move(message)); }
  bool fail(const Op& op, const std::string& message) { return report_.fail(op, message); }

  // ---- header and sections ----

  bool check_header() {
    const auto& w = plan_.header.widths;
    bool ok = !w.empty() && w.front() >= 1 && std::adjacent_find(w.begin(), w.end(), std::greater_equal<>()) == w.end();
    if (!ok) return fail(plan_.header.loc, "plan widths must be positive and ascending, without repeats (got " +
                                               format_attr_value(w, {}) + ")");
    if (plan_.header.context < 1) return fail(plan_.header.loc, "plan context must be positive");
    if (plan_.header.prefill_chunk < 1 || plan_.header.prefill_chunk > w.back())
      return fail(plan_.header.loc, "prefill_chunk must be 1.." + std::to_string(w.back()) +
                                        " (a chunk's rows run in one step of the widest width; got " +
                                        std::to_string(plan_.header.prefill_chunk) + ")");
    return true;
  }

  bool check_complete() {
    const char* missing = !plan_.caches ? "kv_caches" : !plan_.buffers ? "buffers" : !plan_.kernels ? "kernels" : nullptr;
    if (missing)
      return fail(plan_.header.loc, std::string("plan has no ") + missing +
                                        " section; verify checks complete plans (g4c compile --emit=plan)");
    return true;
  }

  bool check_weights() {
    std::set<std::string> seen;
    for (const WeightDecl& w : plan_.weights)
      if (!seen.insert(w.name).second) return fail(w.loc, "weight @" + w.name + " declared twice");
    return true;
  }

  // ---- values and types ----

  bool check_values() {
    for (const Op* op : ops_) {
      for (const std::string& v : op->operands)
        if (!types_.count(v)) return fail(*op, "use of undefined value %" + v);
      if (!op->weight.empty() && !plan_.find_weight(op->weight)) return fail(*op, "unknown weight @" + op->weight);
      if (std::string why = type_error(*op); !why.empty()) return fail(*op, why);
      if (std::string why = role_error(*op); !why.empty()) return fail(*op, why);
      if (std::string why = number_error(*op); !why.empty()) return fail(*op, why);
      if (op->result.empty()) continue;
      if (!types_.emplace(op->result, op->type).second) return fail(*op, "value defined twice");
      producers_[op->result] = op;
      roles_[op->result] = result_role(*op);
    }
    return true;
  }

  Role result_role(const Op& op) {
    if (op.kind == OpKind::alias) return roles_[op.operands[0]];
    if (op.kind == OpKind::sample) return Role::sampled;
    if (op.kind != OpKind::input) return Role::none;
    const std::string role = op.get_ident("role");
    return role == "tokens" ? Role::tokens : role == "positions" ? Role::positions : Role::sequences;
  }

  std::string expect_role(const Op& op, size_t i, Role want) {
    Role got = roles_[op.operands[i]];
    if (got == want) return {};
    return "operand %" + op.operands[i] + " must be " + std::string(role_name(want)) + " (it is " +
           std::string(role_name(got)) + ")";
  }

  std::string role_error(const Op& op) {
    switch (op.kind) {
      case OpKind::input: {
        const std::string role = op.get_ident("role");
        if (role != "tokens" && role != "positions" && role != "sequences")
          return "input role must be tokens, positions or sequences (got " + role + ")";
        if (!inputs_.insert(role).second) return "a second input with role " + role;
        return {};
      }
      case OpKind::embed_gather:
        return expect_role(op, 0, Role::tokens);
      case OpKind::rope:
      case OpKind::rms_norm_rope:
        return expect_role(op, 1, Role::positions);
      case OpKind::kv_write: {
        const size_t pos = op.operands.size() - 2;  // K is absent where the cache stores V alone
        std::string e = expect_role(op, pos, Role::positions);
        return e.empty() ? expect_role(op, pos + 1, Role::sequences) : e;
      }
      case OpKind::attention: {
        std::string e = expect_role(op, 1, Role::positions);
        return e.empty() ? expect_role(op, 2, Role::sequences) : e;
      }
      case OpKind::output:  // an i32 tokens output (check_outputs reports another type)
        if (op.get_ident("role") == "tokens" && type_of(op.operands[0]) == batch(DType::i32, {}))
          return expect_role(op, 0, Role::sampled);
        return {};
      default:
        return {};
    }
  }

  // Numbers are used as float (f32) by every backend: each must be finite there, and the ones
  // that make an op meaningless when not positive (an epsilon, a RoPE base, a cap) must be.
  std::string number_error(const Op& op) const {
    for (const Attr& a : op.attrs) {
      const double* v = std::get_if<double>(&a.value);
      if (!v) continue;
      if (!(std::fabs(*v) <= std::numeric_limits<float>::max()))
        return a.key + " = " + format_double(*v) + " is not a finite float";
      const bool must_be_positive = a.key == "eps" || a.key == "theta" || a.key == "cap";
      if (must_be_positive && !(*v >= std::numeric_limits<float>::min()))
        return a.key + " = " + format_double(*v) + " must be a positive float (at least " +
               format_double(std::numeric_limits<float>::min()) + ")";
    }
    return {};
  }

  const ValueType& type_of(const std::string& v) const { return types_.at(v); }

  std::string expect_result(const Op& op, const ValueType& want) const {
    if (op.type == want) return {};
    return "result type " + format_type(op.type) + " should be " + format_type(want);
  }

  std::string expect_operand(const Op& op, size_t i, const ValueType& want) const {
    const ValueType& got = type_of(op.operands[i]);
    if (got == want) return {};
    return "operand %" + op.operands[i] + " is " + format_type(got) + ", expected " + format_type(want);
  }

  // Ops that compute on floats read f32 values: an i32 one would be read as float bits.
  std::string float_operands_error(const Op& op) const {
    static constexpr OpKind kFloatOps[] = {OpKind::ple_combine, OpKind::slice,   OpKind::rms_norm,     OpKind::rope,
                                           OpKind::geglu,       OpKind::add,     OpKind::scale_by,     OpKind::softcap,
                                           OpKind::add_rms_norm, OpKind::rms_norm_rope};
    if (std::find(std::begin(kFloatOps), std::end(kFloatOps), op.kind) == std::end(kFloatOps)) return {};
    const size_t floats = schema(op.kind).rotates ? 1 : op.operands.size();
    for (size_t i = 0; i < floats; ++i)
      if (type_of(op.operands[i]).dtype != DType::f32)
        return "operand %" + op.operands[i] + " is " + format_type(type_of(op.operands[i])) + ", but " +
               std::string(schema(op.kind).name) + " computes on f32 values";
    return {};
  }

  std::string type_error(const Op& op) const {
    if (std::string e = float_operands_error(op); !e.empty()) return e;
    const ValueType ids = batch(DType::i32, {});
    const WeightDecl* w = op.weight.empty() ? nullptr : plan_.find_weight(op.weight);
    switch (op.kind) {
      case OpKind::input:
        return expect_result(op, ids);
      case OpKind::sample:
        if (auto e = expect_operand(op, 0, batch(DType::f32, {plan_.header.vocab})); !e.empty())
          return e + " (sample picks a token of the vocabulary)";
        return expect_result(op, ids);
      case OpKind::embed_gather:
        if (auto e = expect_operand(op, 0, ids); !e.empty()) return e;
        if (w->ne1 < plan_.header.vocab)
          return "table @" + w->name + " has " + std::to_string(w->ne1) + " rows, but token ids run to the vocabulary's " +
                 std::to_string(plan_.header.vocab);
        return expect_result(op, batch(DType::f32, {w->ne0}));
      case OpKind::ple_combine: {
        int64_t layers = op.get_int("layers"), width = op.get_int("width");
        for (size_t i = 0; i < 2; ++i)
          if (auto e = expect_operand(op, i, batch(DType::f32, {layers * width})); !e.empty()) return e;
        if (w->ne0 * w->ne1 != width) return "@" + w->name + " must hold one weight per PLE column (" + std::to_string(width) + ")";
        return expect_result(op, ValueType{DType::f32, {layers, kBatch, width}});
      }
      case OpKind::slice: {
        const ValueType& src = type_of(op.operands[0]);
        if (src.dims.size() != 3 || src.dims[1] != kBatch) return "slice needs a layer-major [L, N, P] operand";
        if (op.get_int("index") < 0 || op.get_int("index") >= src.dims[0])
          return "slice index " + std::to_string(op.get_int("index")) + " is outside 0.." + std::to_string(src.dims[0] - 1);
        return expect_result(op, batch(DType::f32, {src.dims[2]}));
      }
      case OpKind::alias:
        return expect_result(op, type_of(op.operands[0]));
      case OpKind::matmul:
        return matmul_type_error(op, *w);
      case OpKind::rms_norm: {
        const ValueType& x = type_of(op.operands[0]);
        if (auto e = norm_error(op, x, w); !e.empty()) return e;
        return expect_result(op, x);
      }
      case OpKind::rope: {
        const ValueType& x = type_of(op.operands[0]);
        if (auto e = rope_error(op, x); !e.empty()) return e;
        return expect_result(op, x);
      }
      case OpKind::add_rms_norm: {
        const ValueType& residual = type_of(op.operands[0]);
        if (auto e = expect_operand(op, 1, residual); !e.empty()) return e;
        if (auto e = norm_error(op, residual, w); !e.empty()) return e;
        return expect_result(op, residual);
      }
      case OpKind::rms_norm_rope: {
        const ValueType& x = type_of(op.operands[0]);
        if (auto e = norm_error(op, x, w); !e.empty()) return e;
        if (auto e = rope_error(op, x); !e.empty()) return e;
        if (op.get_int("group") != op.get_int("head_dim"))
          return "group " + std::to_string(op.get_int("group")) + " must equal head_dim " +
                 std::to_string(op.get_int("head_dim")) + " (the fused kernel normalizes and rotates one head at a time)";
        return expect_result(op, x);
      }
      case OpKind::kv_write: {
        const KvWriteOperands io = kv_write_operands(op);
        std::vector<std::string> rows = {io.v};
        if (!io.k.empty()) rows.insert(rows.begin(), io.k);
        return cache_io_error(op, rows) + operands_are_ids(op, rows.size());
      }
      case OpKind::attention: {
        if (op.get_int("q_heads") % op.get_int("kv_heads") != 0)
          return "q_heads " + std::to_string(op.get_int("q_heads")) + " is not a multiple of kv_heads " +
                 std::to_string(op.get_int("kv_heads")) + " (each KV head serves a whole group of query heads)";
        if (op.find("combine") && op.get_ident("combine") != "last_block")
          return "combine = " + op.get_ident("combine") + ": the only in-kernel combine is last_block (attention-combine)";
        if (auto e = attention_split_error(op); !e.empty()) return e;
        int64_t width = op.get_int("q_heads") * op.get_int("head_dim");
        if (auto e = expect_operand(op, 0, batch(DType::f32, {width})); !e.empty()) return e;
        if (auto e = operands_are_ids(op, 1); !e.empty()) return e;
        return expect_result(op, batch(DType::f32, {width}));
      }
      case OpKind::geglu:
      case OpKind::add:
        if (auto e = expect_operand(op, 1, type_of(op.operands[0])); !e.empty()) return e;
        return expect_result(op, type_of(op.operands[0]));
      case OpKind::scale_by:
        if (w->ne0 * w->ne1 != 1) return "scale weight @" + w->name + " must hold one value";
        return expect_result(op, type_of(op.operands[0]));
      case OpKind::softcap:
        if (!(op.get_number("cap") > 0)) return "cap must be positive";
        return expect_result(op, type_of(op.operands[0]));
      case OpKind::output:
        return {};
    }
    return {};
  }

  // RMSNorm over groups of x's rows, with a weight of one group when it has one.
  std::string norm_error(const Op& op, const ValueType& x, const WeightDecl* w) const {
    int64_t group = op.get_int("group");
    if (group < 1 || x.last_dim() % group != 0)
      return "group " + std::to_string(group) + " does not divide rows of " + std::to_string(x.last_dim());
    if (w && w->ne0 * w->ne1 != group) return "norm weight @" + w->name + " must hold " + std::to_string(group) + " values";
    return {};
  }

  // RoPE of whole heads of x's rows at the positions of operand 1.
  std::string rope_error(const Op& op, const ValueType& x) const {
    int64_t head_dim = op.get_int("head_dim"), pairs = op.get_int("rotated_pairs");
    if (auto e = expect_operand(op, 1, batch(DType::i32, {})); !e.empty()) return e;
    if (head_dim < 2 || head_dim % 2 || x.last_dim() % head_dim) return "head_dim must be even and divide the rows";
    if (pairs < 0 || 2 * pairs > head_dim) return "rotated_pairs must be within 0..head_dim/2";
    return {};
  }

  std::string operands_are_ids(const Op& op, size_t from) const {
    for (size_t i = from; i < op.operands.size(); ++i)
      if (auto e = expect_operand(op, i, batch(DType::i32, {})); !e.empty()) return e;
    return {};
  }

  std::string matmul_type_error(const Op& op, const WeightDecl& w) const {
    if (op.get_ident("type") != name(w.type) || op.get_int("rows") != w.ne1 || op.get_int("cols") != w.ne0)
      return "attributes (type " + op.get_ident("type") + ", rows " + std::to_string(op.get_int("rows")) + ", cols " +
             std::to_string(op.get_int("cols")) + ") disagree with @" + w.name + " (" + std::string(name(w.type)) +
             ", rows " + std::to_string(w.ne1) + ", cols " + std::to_string(w.ne0) + ")";
    if (auto e = expect_operand(op, 0, batch(DType::f32, {w.ne0})); !e.empty()) return e;
    return expect_result(op, batch(DType::f32, {w.ne1}));
  }

  // `split = mma` (attention-split): only where the tensor-core split serves the op's group and cache.
  std::string attention_split_error(const Op& op) const {
    if (!op.find("split")) return {};
    if (op.get_ident("split") != "mma") return "split = " + op.get_ident("split") + ": the only other split is mma (attention-split)";
    const KvCache* c = plan_.find_cache(op.cache);
    if (!c || tensor_cores_serve(op, *c)) return {};  // check_caches names a missing cache
    return "split = mma: the tensor-core split serves GQA groups dividing 16 over F16 caches of 256- or 512-value "
           "heads (got " + std::to_string(attention_group(op)) + " query heads a KV head over " +
           std::string(name(c->dtype)) + " heads of " + std::to_string(c->head_dim) + ")";
  }

  std::string cache_io_error(const Op& op, const std::vector<std::string>& kv) const {
    const KvCache* c = plan_.find_cache(op.cache);
    if (!c) return {};  // check_caches names the missing cache
    for (size_t i = 0; i < kv.size(); ++i)
      if (auto e = expect_operand(op, i, batch(DType::f32, {int64_t{c->kv_heads} * c->head_dim})); !e.empty())
        return e + " (the rows of %" + c->name + ")";
    return {};
  }

  // ---- KV caches ----

  bool check_caches() {
    std::set<std::string> names;
    for (const KvCache& c : *plan_.caches)
      if (!names.insert(c.name).second) return fail(c.loc, "KV cache %" + c.name + " declared twice");
    for (const Block& b : plan_.blocks)
      for (const Op& op : b.ops) {
        if (op.cache.empty()) continue;
        const KvCache* c = plan_.find_cache(op.cache);
        if (!c) return fail(op, "unknown KV cache %" + op.cache);
        if (op.kind == OpKind::kv_write && c->layer != b.layer)
          return fail(op, "layer " + std::to_string(b.layer) + " writes the cache of layer " + std::to_string(c->layer));
        if (op.kind == OpKind::kv_write && kv_write_operands(op).k.empty() != c->v_only())
          return fail(op, c->v_only() ? "%" + c->name + " stores V alone (v_only): expected kv_write %v, %pos, %seq"
                                      : "%" + c->name + " stores K and V: expected kv_write %k, %v, %pos, %seq");
        if (op.kind == OpKind::attention && !attention_matches_cache(op, *c, b)) return false;
      }
    for (const KvCache& c : *plan_.caches) {
      bool ring_ok = c.kind == KvKind::ring ? c.slots >= 1 : c.slots == plan_.header.context;
      if (!ring_ok)
        return fail(c.loc, "KV cache %" + c.name + ": a full cache holds the plan's context (" +
                               std::to_string(plan_.header.context) + " slots)");
    }
    return true;
  }

  // A v_only cache keeps V alone, and attention rebuilds K = rope(V ⊙ w) from it. That is K only
  // where V is the unweighted norm of the raw K projection (a k_eq_v alias) and the rebuild uses the
  // writing layer's own RoPE (its queries' rope: Q and K of a layer rotate alike) and a K-norm
  // weight of one head.
  bool check_cache_storage() {
    for (const KvCache& c : *plan_.caches)
      if (c.v_only() && !k_norm_fits(c)) return false;
    for (const Block& b : plan_.blocks)
      for (const Op& op : b.ops) {
        const KvCache* c = op.cache.empty() ? nullptr : plan_.find_cache(op.cache);  // check_caches found each
        if (!c || !c->v_only()) continue;
        if (op.kind == OpKind::kv_write && !writes_k_eq_v(op, *c)) return false;
        if (op.kind == OpKind::attention && c->layer == b.layer && !rebuilds_with_own_rope(op, *c)) return false;
      }
    return true;
  }

  bool writes_k_eq_v(const Op& write, const KvCache& c) {
    const std::string& v = kv_write_operands(write).v;
    const Op* norm = producer(v);
    const Op* alias = norm && norm->kind == OpKind::rms_norm ? producer(norm->operands[0]) : nullptr;
    const bool k_eq_v = norm && norm->weight.empty() && norm->get_int("group") == c.head_dim && alias &&
                        alias->kind == OpKind::alias && alias->get_ident("reason") == "k_eq_v";
    if (k_eq_v) return true;
    return fail(write, "%" + c.name + " stores V alone, but %" + v +
                           " is not the unweighted per-head rms_norm of a k_eq_v alias (K cannot be rebuilt from it)");
  }

  bool rebuilds_with_own_rope(const Op& attention, const KvCache& c) {
    const Op* rope = producer(attention.operands[0]);
    const bool ropes = rope && schema(rope->kind).rotates;
    const KFromV& k = c.k_from_v;
    if (ropes && rope->get_int("head_dim") == k.head_dim && rope->get_int("rotated_pairs") == k.rotated_pairs &&
        rope->get_number("theta") == k.theta)
      return true;
    const std::string rebuild = "{head_dim = " + std::to_string(k.head_dim) + ", rotated_pairs = " +
                                std::to_string(k.rotated_pairs) + ", theta = " + format_double(k.theta) + "}";
    if (!ropes)
      return fail(attention, "reads the v_only %" + c.name + ", whose K is rebuilt with RoPE " + rebuild +
                                 ", but its queries come from no rope to compare with");
    return fail(attention, "%" + c.name + " rebuilds K with RoPE " + rebuild + ", but layer " + std::to_string(c.layer) +
                               " rotates its queries with {head_dim = " + std::to_string(rope->get_int("head_dim")) +
                               ", rotated_pairs = " + std::to_string(rope->get_int("rotated_pairs")) +
                               ", theta = " + format_double(rope->get_number("theta")) + "}");
  }

  bool k_norm_fits(const KvCache& c) {
    const KFromV& k = c.k_from_v;
    const WeightDecl* w = plan_.find_weight(k.norm);
    if (!w) return fail(c.loc, "KV cache %" + c.name + " rebuilds K with unknown weight @" + k.norm);
    if (k.head_dim != c.head_dim)
      return fail(c.loc, "KV cache %" + c.name + " rebuilds K in heads of " + std::to_string(k.head_dim) +
                             ", but it holds heads of " + std::to_string(c.head_dim));
    if (2 * k.rotated_pairs > k.head_dim)
      return fail(c.loc, "KV cache %" + c.name + ": rotated_pairs must be within 0..head_dim/2");
    if (w->ne0 * w->ne1 != c.head_dim || w->layout != WeightLayout::gguf)
      return fail(c.loc, "KV cache %" + c.name + " rebuilds K with @" + k.norm + ", which must be " +
                             std::to_string(c.head_dim) + " values in GGUF's layout (one K-norm weight per element of a head)");
    return true;
  }

  const Op* producer(const std::string& value) const {
    auto it = producers_.find(value);
    return it == producers_.end() ? nullptr : it->second;
  }

  bool attention_matches_cache(const Op& op, const KvCache& c, const Block& b) {
    const KvKind expected = b.layer_kind == "sliding" ? KvKind::ring : KvKind::full;
    if (c.kind != expected)
      return fail(op, "a " + b.layer_kind + " layer reads the " + std::string(name(c.kind)) + " cache %" + c.name +
                          " (sliding layers read rings, global layers full caches)");
    if (c.kind == KvKind::ring && op.get_int("window") < 1)
      return fail(op, "attention over the ring %" + c.name + " needs a window of at least 1");
    if (op.get_int("kv_heads") != c.kv_heads || op.get_int("head_dim") != c.head_dim)
      return fail(op, "reads %" + c.name + " as " + std::to_string(op.get_int("kv_heads")) + " heads of " +
                          std::to_string(op.get_int("head_dim")) + ", but it holds " + std::to_string(c.kv_heads) +
                          " heads of " + std::to_string(c.head_dim));
    int64_t window = op.get_int("window");
    const PlanHeader& h = plan_.header;
    if (c.kind == KvKind::ring && ring_slots(window, h.prefill_chunk, h.context) != c.slots)
      return fail(op, "a window of " + std::to_string(window) + " over the ring %" + c.name + " of " +
                          std::to_string(c.slots) + " slots (a ring keeps the window plus prefill_chunk - 1: " +
                          std::to_string(ring_slots(window, h.prefill_chunk, h.context)) + ")");
    if (c.kind == KvKind::full && window != 0)
      return fail(op, "a sliding window over the full cache %" + c.name + " (windowed layers read rings)");
    return true;
  }

  // A step writes the current token's K/V before any layer attends over the cache.
  bool check_cache_order() {
    std::map<std::string, const Op*> written;
    for (const Op* op : ops_) {
      if (op->kind == OpKind::kv_write && !written.emplace(op->cache, op).second)
        return fail(*op, "writes %" + op->cache + " a second time in one step");
      if (op->kind == OpKind::attention && !written.count(op->cache))
        return fail(*op, "reads %" + op->cache + " before the step writes it (the current token would be missing)");
    }
    for (const KvCache& c : *plan_.caches)
      if (!written.count(c.name)) return fail(c.loc, "KV cache %" + c.name + " is never written");
    return check_readers();
  }

  bool check_readers() {
    std::map<std::string, std::vector<int64_t>> readers;
    for (const Block& b : plan_.blocks)
      for (const Op& op : b.ops)
        if (op.kind == OpKind::attention) readers[op.cache].push_back(b.layer);
    for (const KvCache& c : *plan_.caches)
      if (readers[c.name] != c.readers)
        return fail(c.loc, "KV cache %" + c.name + " lists readers " + format_attr_value(c.readers, {}) +
                               ", but the layers that read it are " + format_attr_value(readers[c.name], {}));
    return true;
  }

  // ---- routes ----

  bool check_routes() {
    for (const Op* op : ops_) {
      if (op->kind != OpKind::matmul) continue;
      const std::vector<RouteChoice>* routes = op->routes();
      if (!routes) return fail(*op, "matmul has no routes");
      const WeightDecl& w = *plan_.find_weight(op->weight);
      std::set<int64_t> seen;
      for (const RouteChoice& c : *routes) {
        const auto& widths = plan_.header.widths;
        if (std::find(widths.begin(), widths.end(), c.width) == widths.end())
          return fail(*op, "route for width " + std::to_string(c.width) + ", which the plan does not serve");
        if (!seen.insert(c.width).second) return fail(*op, "two routes for width " + std::to_string(c.width));
        std::string why = route_illegal_reason(c.route, w.type, w.ne1, w.ne0);
        if (!why.empty())
          return fail(*op, "route " + std::string(name(c.route)) + " at width " + std::to_string(c.width) +
                               " is not legal for " + std::string(name(w.type)) + " @" + w.name + ": " + why);
        if (route_layout(c.route) != w.layout)
          return fail(*op, "route " + std::string(name(c.route)) + " at width " + std::to_string(c.width) +
                               " reads its weight in the " + std::string(name(route_layout(c.route))) +
                               " layout, but @" + w.name + " is laid out " + std::string(name(w.layout)));
      }
      for (int64_t width : plan_.header.widths)
        if (!seen.count(width)) return fail(*op, "width " + std::to_string(width) + " has no route");
    }
    return verify::check_fusion_attributes(plan_, ops_, report_) && check_layout_readers();
  }

  // A repacked weight is read only by the matmuls whose route reads its layout (checked above) and
  // by the ops that read that layout too (an embedding gather of an mma16 table).
  bool check_layout_readers() {
    for (const Op* op : ops_) {
      if (op->weight.empty() || op->kind == OpKind::matmul) continue;
      const WeightDecl& w = *plan_.find_weight(op->weight);
      if (!reads_layout(op->kind, w.type, w.layout))
        return fail(*op, std::string(schema(op->kind).name) + " reads @" + w.name + " in GGUF's layout, but it is laid out " +
                             std::string(name(w.layout)));
    }
    return true;
  }

  // ---- buffers ----

  std::string op_at(int index) const {
    return index < static_cast<int>(ops_.size()) ? op_id(*ops_[index]) : "the end of the step";
  }

  bool check_buffers() {
    const BufferPlan& b = *plan_.buffers;
    if (b.alignment < 16 || (b.alignment & (b.alignment - 1)) != 0)
      return fail(b.loc, "buffer alignment " + std::to_string(b.alignment) +
                             " must be a power of two of at least 16 (the kernels load 16 bytes at a time)");
    std::map<std::string, const Buffer*> by_root;
    for (const Buffer& buf : b.buffers) {
      auto root = storage_.roots.find(buf.value);
      if (root == storage_.roots.end())
        return fail(buf.loc, "buffer %" + buf.value + " holds no value (only storage roots have buffers)");
      if (!by_root.emplace(buf.value, &buf).second) return fail(buf.loc, "value %" + buf.value + " has two buffers");
      if (buf.seq_bytes < root->second.seq_bytes)
        return fail(buf.loc, "buffer %" + buf.value + " has " + std::to_string(buf.seq_bytes) +
                                 " bytes per sequence, but the value needs " + std::to_string(root->second.seq_bytes));
      if (buf.seq_offset < 0 || buf.seq_offset % b.alignment != 0)
        return fail(buf.loc, "buffer %" + buf.value + " offset " + std::to_string(buf.seq_offset) +
                                 " is not a multiple of the alignment (" + std::to_string(b.alignment) + ")");
      if (buf.seq_offset + buf.seq_bytes > b.seq_bytes)
        return fail(buf.loc, "buffer %" + buf.value + " ends at " + std::to_string(buf.seq_offset + buf.seq_bytes) +
                                 ", past the arena's " + std::to_string(b.seq_bytes) + " bytes per sequence");
    }
    for (const std::string& root : storage_.root_order)
      if (!by_root.count(root)) return fail(plan_.buffers->loc, "storage of %" + root + " has no buffer");
    return check_overlaps(by_root);
  }

  // Roots in definition order; those still live are kept by offset. Live buffers never overlap,
  // so a new one need only be compared with its neighbours there: O(n log n) in the plan's size.
  bool check_overlaps(const std::map<std::string, const Buffer*>& by_root) {
    std::map<int64_t, const std::string*> live;  // non-empty buffers of live roots, by offset
    std::multimap<int, const std::string*> ends;  // the same roots by the last op that needs them
    for (const std::string& name : storage_.root_order) {
      const RootStorage& root = storage_.roots.at(name);
      while (!ends.empty() && ends.begin()->first < root.def) {
        live.erase(by_root.at(*ends.begin()->second)->seq_offset);
        ends.erase(ends.begin());
      }
      const Buffer& y = *by_root.at(name);
      if (y.seq_bytes == 0) continue;
      auto next = live.lower_bound(y.seq_offset);
      const std::string* other = nullptr;
      if (next != live.end() && next->first < y.seq_offset + y.seq_bytes) other = next->second;
      if (!other && next != live.begin()) {
        auto prev = std::prev(next);
        const Buffer& x = *by_root.at(*prev->second);
        if (x.seq_offset + x.seq_bytes > y.seq_offset) other = prev->second;
      }
      if (other) {
        const RootStorage& a = storage_.roots.at(*other);
        return fail(y.loc, "buffers %" + by_root.at(*other)->value + " and %" + y.value +
                               " overlap in memory while both are live (at " + op_at(std::max(a.def, root.def)) + ")");
      }
      live.emplace(y.seq_offset, &name);
      ends.emplace(root.last, &name);
    }
    return true;
  }

  // ---- aliasing ----

  // An in-place op overwrites operand 0's bytes; no other value on that storage may be read later.
  bool check_aliasing() {
    storage_ = analyze_storage(plan_);
    std::map<std::string, std::vector<std::pair<const std::string*, const ValueStorage*>>> by_root;
    for (const auto& [name, v] : storage_.values) by_root[v.root].emplace_back(&name, &v);
    for (int i = 0; i < static_cast<int>(ops_.size()); ++i) {
      const Op& op = *ops_[i];
      if (!op.in_place()) continue;
      const ValueStorage& target = storage_.values.at(op.operands[0]);
      if (target.seq_bytes != op.type.seq_bytes())
        return fail(op, "in-place result of " + std::to_string(op.type.seq_bytes()) + " bytes per sequence over %" +
                            op.operands[0] + " of " + std::to_string(target.seq_bytes));
      for (const auto& [name_ptr, v_ptr] : by_root[target.root]) {
        const std::string& name = *name_ptr;
        const ValueStorage& v = *v_ptr;
        // The op's own result (live from its chain's leader when launched with one) is what it writes.
        if (name == op.result || v.def >= i || v.last_use <= i) continue;
        bool overlaps = v.seq_offset < target.seq_offset + target.seq_bytes && target.seq_offset < v.seq_offset + v.seq_bytes;
        if (!overlaps) continue;
        std::string what = name == op.operands[0] ? "%" + name + ", which is read again"
                                                  : "%" + op.operands[0] + " while its alias %" + name + " is still live";
        return fail(op, "writes in place over " + what + " (read by " + op_at(v.last_use) + ")");
      }
    }
    return true;
  }

  // ---- kernels ----

  bool check_kernels() {
    for (const KernelInstance& k : *plan_.kernels) listed_.insert(k.key());
    std::map<std::string, int64_t> launches;
    for (const Op* op : ops_)
      for (int64_t width : plan_.header.widths)
        for (const KernelInstance& k : kernels_for(plan_, *op, width)) {
          if (!listed(k.key())) return fail(*op, "at width " + std::to_string(width) + " launches kernel '" + k.key() +
                                                     "', which the kernels section does not list");
          ++launches[k.key()];
        }
    for (const KernelInstance& k : *plan_.kernels) {
      auto it = launches.find(k.key());
      if (it == launches.end()) return fail(k.loc, "kernel '" + k.key() + "' is listed but nothing launches it");
      if (it->second != k.uses)
        return fail(k.loc, "kernel '" + k.key() + "' says uses " + std::to_string(k.uses) + ", but it is launched " +
                               std::to_string(it->second) + " times");
    }
    return true;
  }

  bool listed(const std::string& key) const { return listed_.count(key) > 0; }

  // ---- outputs ----

  bool check_outputs() {
    std::map<std::string, int> roles;
    for (const Op* op : ops_)
      if (op->kind == OpKind::output) {
        std::string role = op->get_ident("role");
        if (role != "logits" && role != "tokens") return fail(*op, "output role must be logits or tokens");
        const ValueType& t = type_of(op->operands[0]);
        if (role == "tokens" && !(t == batch(DType::i32, {})))
          return fail(*op, "the tokens output must be i32[N] (got " + format_type(t) + ")");
        if (role == "logits" && !(t == batch(DType::f32, {plan_.header.vocab})))
          return fail(*op, "the logits output must be f32[N, " + std::to_string(plan_.header.vocab) + "] (got " +
                               format_type(t) + ")");
        if (++roles[role] > 1) return fail(*op, "a second output with role " + role);
      }
    for (const char* role : {"logits", "tokens"})
      if (!roles.count(role)) return fail(plan_.header.loc, std::string("plan has no output with role ") + role);
    return true;
  }

  const Plan& plan_;
  verify::Reporter report_;
  std::vector<const Op*> ops_;
  std::map<std::string, ValueType> types_;
  std::map<std::string, const Op*> producers_;
  std::map<std::string, Role> roles_;
  std::set<std::string> inputs_;
  std::set<std::string> listed_;  // keys of the kernels section
  StorageAnalysis storage_;
};

}  // namespace

bool verify_plan(const Plan& plan, DiagnosticEngine& diag) { return Verifier(plan, diag).run(); }

namespace verify {

std::string op_id(const Op& op) {
  if (!op.result.empty()) return "%" + op.result;
  std::string id(schema(op.kind).name);
  if (!op.cache.empty()) return id + " -> %" + op.cache;
  return op.operands.empty() ? id : id + " %" + op.operands[0];
}

bool Reporter::fail(const SourceLoc& loc, std::string message) {
  diag_.error(loc.has_file() ? loc : plan_.header.loc, std::move(message));
  return false;
}

bool Reporter::fail(const Op& op, const std::string& message) { return fail(op.loc, op_id(op) + ": " + message); }

}  // namespace verify

}  // namespace g4c::plan
