#include "g4c/plan/kernels.h"

#include <algorithm>

#include "g4c/kernels/op_args.h"
#include "g4c/plan/bytes_read.h"
#include "g4c/plan/routes.h"

namespace g4c::plan {

namespace {

Ident type_of(const Plan& plan, const Op& op) {
  const WeightDecl* w = plan.find_weight(op.weight);
  return Ident{w ? std::string(name(w->type)) : "unknown"};
}

KernelInstance with_quantize(const Op& op, int64_t width, KernelInstance k);

std::vector<KernelInstance> matmul_kernels(const Plan& plan, const Op& op, int64_t width) {
  const std::optional<Route> route = route_at(op, width);
  const WeightDecl* w = plan.find_weight(op.weight);
  if (!route || !w) return {};
  std::vector<KernelInstance> k = matmul_route_kernels(*route, w->type, width);
  const Op* geglu = geglu_epilogue_of(plan, op);
  const std::vector<const Op*> members = launch_group_matmuls(plan, op);
  const Op* other_type = !members.empty() && members.back()->get_ident("type") != op.get_ident("type")
                             ? members.back()  // group-mixed-types: the kernel's LastBlock
                             : nullptr;
  for (KernelInstance& i : k) {
    if (kernel_role(i.family) != KernelRole::main) continue;
    if (geglu) {  // geglu-epilogue: the main kernel computes it too
      i.constants.push_back({"epilogue", Ident{"geglu"}});
      i = with_quantize(*geglu, width, std::move(i));
    }
    if (other_type) i.constants.push_back({"last_type", Ident{other_type->get_ident("type")}});
  }
  if (op.find("launched_with"))  // the leader's launch computes it (group-matmuls): only load-time work is its own
    std::erase_if(k, [](const KernelInstance& i) { return !runs_at_load(i.family); });
  else if (op.find("activations_from"))  // another matmul prepared them (quantize-once)
    if (const std::optional<KernelInstance> a = activation_kernel(*route, w->type))
      std::erase_if(k, [&](const KernelInstance& i) { return i.key() == a->key(); });
  return k;
}

// quantize-in-producer: the op's kernel also writes the activations of its result, in the format
// of this width.
KernelInstance with_quantize(const Op& op, int64_t width, KernelInstance k) {
  if (const std::optional<ActivationFormat> f = quantized_result(op, width))
    k.constants.push_back({"quantize", Ident{std::string(name(*f))}});
  return k;
}

// What every kernel writing or reading a cache is specialized on.
std::vector<Attr> cache_constants(const KvCache& c) {
  return {{"kind", Ident{std::string(name(c.kind))}},
          {"head_dim", int64_t{c.head_dim}},
          {"kv_heads", int64_t{c.kv_heads}},
          {"dtype", Ident{std::string(name(c.dtype))}}};
}

// A v_only cache: kv_write stores V alone; attention rebuilds K, rotating its first pairs.
const Attr kVOnly{"storage", Ident{std::string(name(KvStorage::v_only))}};

std::vector<KernelInstance> cache_kernels(const Plan& plan, const Op& op, int64_t width) {
  const KvCache* c = plan.find_cache(op.cache);
  if (!c) return {};
  std::vector<Attr> k = cache_constants(*c);
  if (op.kind == OpKind::kv_write) {
    if (c->v_only()) k.push_back(kVOnly);
    return {kernel_instance("kv_write", std::move(k))};
  }
  k.insert(k.begin() + 2, Attr{"q_heads", op.get_int("q_heads")});
  k.push_back({"window", op.get_int("window")});
  if (c->v_only()) {
    k.push_back(kVOnly);
    k.push_back({"rotated_pairs", c->k_from_v.rotated_pairs});
  }
  if (op.find("split")) k.push_back({"split", Ident{op.get_ident("split")}});  // attention-split
  if (op.find("combine")) {  // attention-combine: the partial kernel's last block merges the splits
    k.push_back({"combine", Ident{"last_block"}});
    return {kernel_instance("attention.partial", std::move(k))};
  }
  // quantize-in-producer: the combine kernel also writes the O projection's activations.
  return {kernel_instance("attention.partial", std::move(k)),
          with_quantize(op, width, kernel_instance("attention.combine", {{"head_dim", int64_t{c->head_dim}},
                                                                         {"q_heads", op.get_int("q_heads")}}))};
}


// attention-inputs: the cache's constants, the RoPE's rotated pairs, and whether K is stored.
KernelInstance attention_inputs_kernel(const Plan& plan, const AttentionInputs& in) {
  const KvCache* c = plan.find_cache(in.write->cache);
  if (!c) return kernel_instance("attention_inputs");
  std::vector<Attr> k = cache_constants(*c);
  k.push_back({"rotated_pairs", in.q->get_int("rotated_pairs")});
  if (c->v_only()) k.push_back(kVOnly);
  return kernel_instance("attention_inputs", std::move(k));
}

}  // namespace

// norm-chains: what an add_rms_norm's launch computes after it — the layer scale, the next norm
// (and that norm's activations).
KernelInstance with_chain(const Plan& plan, const Op& op, int64_t width, KernelInstance k) {
  for (const Op* member : launch_group_members(plan, op)) {
    if (member->kind == OpKind::scale_by) k.constants.push_back({"scale", true});
    if (member->kind != OpKind::rms_norm) continue;
    k.constants.push_back({"then_norm", true});
    k = with_quantize(*member, width, std::move(k));
  }
  return k;
}

int64_t attention_group(const Op& attention) {
  const int64_t kv_heads = attention.get_int("kv_heads");
  return kv_heads > 0 ? attention.get_int("q_heads") / kv_heads : 0;
}

bool tensor_cores_serve(const Op& attention, const KvCache& cache) {
  const int64_t group = attention_group(attention);
  return group <= kAttentionMmaHeads &&
         attention_mma_serves(static_cast<int>(group), static_cast<int>(cache.head_dim), cache.dtype == QuantType::F16);
}

std::vector<KernelInstance> kernels_for(const Plan& plan, const Op& op, int64_t width) {
  if (op.kind != OpKind::matmul && op.find("launched_with")) return {};  // its chain's leader computes it
  switch (op.kind) {
    case OpKind::input:
    case OpKind::alias:
    case OpKind::slice:
    case OpKind::output:
      return {};
    case OpKind::matmul:
      return matmul_kernels(plan, op, width);
    case OpKind::embed_gather: {
      const WeightDecl* w = plan.find_weight(op.weight);
      if (w && w->layout == WeightLayout::mma16)  // a tied embedding repacked for its LM head
        return {kernel_instance("embed_gather", {{"type", type_of(plan, op)}, {"layout", Ident{"mma16"}}})};
      return {kernel_instance("embed_gather", {{"type", type_of(plan, op)}})};
    }
    case OpKind::ple_combine:
      return {kernel_instance("ple_combine", {{"width", op.get_int("width")}})};
    case OpKind::rms_norm:
      return {with_quantize(op, width,
                            kernel_instance("rms_norm", {{"group", op.get_int("group")}, {"weighted", !op.weight.empty()}}))};
    case OpKind::rope:
      return {kernel_instance("rope", {{"head_dim", op.get_int("head_dim")}, {"rotated_pairs", op.get_int("rotated_pairs")}})};
    case OpKind::kv_write:
    case OpKind::attention:
      return cache_kernels(plan, op, width);
    case OpKind::geglu:
      return {with_quantize(op, width, kernel_instance("geglu"))};
    case OpKind::add:
      return {kernel_instance("add")};
    case OpKind::scale_by:
      return {kernel_instance("scale_by")};
    case OpKind::softcap:
      return {kernel_instance("softcap")};
    case OpKind::add_rms_norm:
      return {with_chain(plan, op, width,
                         kernel_instance("add_rms_norm", {{"group", op.get_int("group")}, {"weighted", !op.weight.empty()}}))};
    case OpKind::rms_norm_rope:
      if (const std::optional<AttentionInputs> in = attention_inputs_of(plan, op)) return {attention_inputs_kernel(plan, *in)};
      return {kernel_instance("rms_norm_rope", {{"head_dim", op.get_int("head_dim")},
                                                {"rotated_pairs", op.get_int("rotated_pairs")},
                                                {"weighted", !op.weight.empty()}})};
    case OpKind::sample:
      return {kernel_instance("sample")};
  }
  return {};
}

std::optional<KernelInstance> activation_kernel(Route route, QuantType type) {
  if (const std::optional<ActivationFormat> format = activation_format(route))
    return kernel_instance("quantize_" + std::string(name(*format)));
  if (route != Route::cublas || type == QuantType::F32) return std::nullopt;  // f32 as it is
  return kernel_instance("convert_activations", {{"to", Ident{type == QuantType::BF16 ? "BF16" : "F16"}}});
}

std::string activations_source(const Op& matmul) {
  const Attr* from = matmul.find("activations_from");
  return from ? std::get<Ident>(from->value).text : "%" + matmul.result;
}

std::string activation_signature(const Plan& plan, const Op& op) {
  const WeightDecl* w = plan.find_weight(op.weight);
  if (op.kind != OpKind::matmul || !w || !op.routes()) return {};
  std::string signature;
  bool any = false;
  for (const RouteChoice& c : *op.routes()) {
    const std::optional<KernelInstance> k = activation_kernel(c.route, w->type);
    signature += (k ? k->key() : "-") + ";";
    any |= k.has_value();
  }
  return any ? signature : std::string();
}

std::vector<KernelInstance> matmul_route_kernels(Route route, QuantType type, int64_t width) {
  const Ident type_name{std::string(name(type))};
  switch (route) {
    case Route::ws:
      return {kernel_instance("matmul.ws", {{"type", type_name}, {"n", width}})};
    case Route::gemm_n:
      return {kernel_instance("matmul.gemm_n", {{"type", type_name}, {"n", width}})};
    case Route::mmq:
      return {*activation_kernel(route, type), kernel_instance("matmul.mmq", {{"type", type_name}, {"n", width}})};
    case Route::mma16:
    case Route::mma16h:
      // The weight is repacked into the mma16 layout once at load; each step quantizes (mma16h:
      // rounds to fp16) the activations, then multiplies.
      return {kernel_instance("repack_mma16", {{"type", type_name}}), *activation_kernel(route, type),
              kernel_instance("matmul." + std::string(name(route)), {{"type", type_name}, {"n", width}})};
    case Route::cublas: {
      // cuBLAS runs the GEMM. F32 weights multiply f32 activations as they are; F16/BF16 ones
      // need activations of their type; quantized ones are dequantized to fp16 once at load.
      if (type == QuantType::F32) return {};
      std::vector<KernelInstance> k;
      if (!info(type).is_float) k.push_back(kernel_instance("dequantize_f16", {{"type", type_name}}));
      k.push_back(*activation_kernel(route, type));
      return k;
    }
  }
  return {};
}

std::string launch_group_conflict(const Plan& plan, const Op& leader, const Op& member,
                                  std::span<const Op* const> earlier_members) {
  // One prepared input (activations_from, which the verifier holds to the leader's) means one
  // column count.
  for (const Op* other : earlier_members)
    if (other->get_ident("type") != leader.get_ident("type"))
      return ", whose launch computes the " + other->get_ident("type") + " %" + other->result +
             " last: a launch group's one weight type other than its leader's is its last member's";
  for (int64_t width : plan.header.widths) {
    const std::optional<Route> mine = route_at(member, width), theirs = route_at(leader, width);
    if (!mine || !theirs) continue;  // a missing route is the routes' error
    if (*mine != *theirs)
      return ", whose route at width " + std::to_string(width) + " is " + std::string(name(*theirs)) + ", not " +
             std::string(name(*mine)) + ": a launch group runs one route at every width";
    if (!route_launches_groups(*mine))
      return " on " + std::string(name(*mine)) + " at width " + std::to_string(width) +
             ", which launches one weight at a time (launch groups: mma16)";
  }
  return {};
}

std::optional<AttentionInputs> attention_inputs_of(const Plan& plan, const Op& q) {
  if (q.kind != OpKind::rms_norm_rope || q.find("launched_with")) return std::nullopt;
  AttentionInputs in{&q};
  for (const Op* member : launch_group_members(plan, q))
    (member->kind == OpKind::rms_norm_rope ? in.k : member->kind == OpKind::rms_norm ? in.v : in.write) = member;
  if (!in.write) return std::nullopt;
  return in;
}

namespace {

std::string value_ref(const std::string& value) { return "%" + value; }

// The op among `in`'s that writes storage another of them reads, as "%writer ... %reader", or "".
std::string storage_clash(const AttentionInputs& in, const StorageAnalysis& s) {
  const Op* ops[] = {in.q, in.k, in.v};
  auto root = [&](const std::string& v) {
    auto it = s.values.find(v);
    return it == s.values.end() ? v : it->second.root;
  };
  for (const Op* writer : ops)
    for (const Op* reader : ops)
      if (writer && reader && writer != reader && root(writer->result) == root(reader->operands.at(0)))
        return ", but " + value_ref(writer->result) + " writes the storage " + value_ref(reader->result) +
               " reads (one launch runs their heads at once)";
  return {};
}

}  // namespace

std::string attention_inputs_conflict(const Plan& plan, const AttentionInputs& in, const StorageAnalysis& storage) {
  const Op& q = *in.q;
  const int64_t head_dim = q.get_int("head_dim");
  const std::string heads = std::to_string(head_dim);
  const KvCache* cache = plan.find_cache(in.write->cache);
  if (!cache) return {};  // an undeclared cache is the cache rules' error
  const KvWriteOperands io = kv_write_operands(*in.write);
  if (cache->head_dim != head_dim)
    return ", whose heads of " + heads + " are not %" + in.write->cache + "'s of " + std::to_string(cache->head_dim);
  if (!in.v || io.v != in.v->result)
    return ": the launch's kv_write stores " + value_ref(io.v) + ", not its V norm's result";
  if (in.v->get_int("group") != head_dim || in.v->find("quantize"))
    return ": its V norm " + value_ref(in.v->result) + " is not over heads of " + heads + " (or quantizes)";
  if (in.k ? io.k != in.k->result : !io.k.empty())
    return ": the launch's kv_write stores K " + (io.k.empty() ? std::string("none") : value_ref(io.k)) +
           ", not its K norm's result";
  if (in.k && (in.k->get_int("head_dim") != head_dim || in.k->get_int("rotated_pairs") != q.get_int("rotated_pairs") ||
               in.k->get_number("theta") != q.get_number("theta")))
    return ": its K norm " + value_ref(in.k->result) + " rotates other heads, pairs or theta than Q's";
  return storage_clash(in, storage);
}

std::vector<const Op*> launch_group_matmuls(const Plan& plan, const Op& leader) {
  std::vector<const Op*> matmuls = launch_group_members(plan, leader);
  std::erase_if(matmuls, [](const Op* m) { return m->kind != OpKind::matmul; });
  return matmuls;
}

const Op* geglu_epilogue_of(const Plan& plan, const Op& matmul) {
  if (matmul.kind != OpKind::matmul) return nullptr;
  for (const Op* member : launch_group_members(plan, matmul))
    if (member->kind == OpKind::geglu) return member;
  return nullptr;
}

std::string geglu_epilogue_conflict(const Plan& plan, const Op& leader, const Op& geglu) {
  if (geglu.kind != OpKind::geglu)
    return ", a matmul: only the geglu of its launch's two matmuls joins it (geglu-epilogue)";
  std::vector<const Op*> matmuls = launch_group_matmuls(plan, leader);
  matmuls.insert(matmuls.begin(), &leader);
  const auto computes = [&](const std::string& value) {
    return std::any_of(matmuls.begin(), matmuls.end(), [&](const Op* m) { return m->result == value; });
  };
  if (matmuls.size() != 2 || geglu.operands.size() != 2 || geglu.operands[0] == geglu.operands[1] ||
      !computes(geglu.operands[0]) || !computes(geglu.operands[1]))
    return ", whose launch does not compute exactly this geglu's gate and up (its two matmuls)";
  const int64_t rows = leader.get_int("rows");
  if (rows % kGegluEpilogueRows != 0 || matmuls[1]->get_int("rows") != rows)
    return ", whose matmuls' rows are not one multiple of " + std::to_string(kGegluEpilogueRows) +
           " (a geglu epilogue computes segments of " + std::to_string(kGegluEpilogueRows) + " rows)";
  const std::vector<const Op*> ops = plan.ops();
  const auto at = [&](const Op* op) { return std::find(ops.begin(), ops.end(), op) - ops.begin(); };
  if (at(&geglu) != at(matmuls[1]) + 1) return ", but does not follow its matmuls directly";
  return {};
}

std::vector<const Op*> launch_group_members(const Plan& plan, const Op& leader) {
  std::vector<const Op*> members;
  for (const Op* op : plan.ops())
    if (const Attr* with = op->find("launched_with"); with && std::get<Ident>(with->value).text == "%" + leader.result)
      members.push_back(op);
  return members;
}

KernelRole kernel_role(std::string_view family) {
  if (family == "repack_mma16" || family == "dequantize_f16") return KernelRole::weight_at_load;
  if (family.starts_with("quantize_") || family == "convert_activations") return KernelRole::activations;
  return family == "attention.combine" ? KernelRole::combine : KernelRole::main;
}

int64_t launches_per_step(const Plan& plan, const Op& op, int64_t width) {
  int64_t launches = 0;
  for (const KernelInstance& k : kernels_for(plan, op, width)) launches += runs_at_load(k.family) ? 0 : 1;
  if (op.kind == OpKind::matmul && route_at(op, width) == Route::cublas) ++launches;
  return launches;
}

int64_t launches_per_step(const Plan& plan, int64_t width) {
  int64_t launches = 0;
  for (const Block& b : plan.blocks)
    for (const Op& op : b.ops) launches += launches_per_step(plan, op, width);
  return launches;
}

KernelInstance kernel_instance(std::string family, std::vector<Attr> constants) {
  return KernelInstance{std::move(family), std::move(constants), 0, {}};
}

}  // namespace g4c::plan
