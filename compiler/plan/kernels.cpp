#include "g4c/plan/kernels.h"

namespace g4c::plan {

namespace {

KernelInstance instance(std::string family, std::vector<Attr> constants = {}) {
  return KernelInstance{std::move(family), std::move(constants), 0, {}};
}

Ident type_of(const Plan& plan, const Op& op) {
  const WeightDecl* w = plan.find_weight(op.weight);
  return Ident{w ? std::string(name(w->type)) : "unknown"};
}

std::optional<KernelInstance> matmul_kernel(const Plan& plan, const Op& op, int64_t width) {
  const std::vector<RouteChoice>* routes = op.routes();
  if (!routes) return std::nullopt;
  for (const RouteChoice& c : *routes) {
    if (c.width != width) continue;
    std::string family = "matmul." + std::string(name(c.route));
    // cuBLAS runs the GEMM; what NVRTC builds is the dequantize-to-fp16 kernel, width-independent.
    if (c.route == Route::cublas) return instance(family, {{"type", type_of(plan, op)}});
    return instance(family, {{"type", type_of(plan, op)}, {"n", width}});
  }
  return std::nullopt;
}

std::optional<KernelInstance> cache_kernel(const Plan& plan, const Op& op, std::string family) {
  const KvCache* c = plan.find_cache(op.cache);
  if (!c) return std::nullopt;
  std::vector<Attr> k = {{"kind", Ident{std::string(name(c->kind))}},
                         {"head_dim", int64_t{c->head_dim}},
                         {"kv_heads", int64_t{c->kv_heads}},
                         {"dtype", Ident{std::string(name(c->dtype))}}};
  if (op.kind == OpKind::attention) {
    k.insert(k.begin() + 2, Attr{"q_heads", op.get_int("q_heads")});
    k.push_back({"window", op.get_int("window")});
  }
  return instance(std::move(family), std::move(k));
}

}  // namespace

std::optional<KernelInstance> kernel_for(const Plan& plan, const Op& op, int64_t width) {
  switch (op.kind) {
    case OpKind::input:
    case OpKind::alias:
    case OpKind::slice:
    case OpKind::output:
      return std::nullopt;
    case OpKind::matmul:
      return matmul_kernel(plan, op, width);
    case OpKind::embed_gather:
      return instance("embed_gather", {{"type", type_of(plan, op)}});
    case OpKind::ple_combine:
      return instance("ple_combine", {{"width", op.get_int("width")}});
    case OpKind::rms_norm:
      return instance("rms_norm", {{"group", op.get_int("group")}, {"weighted", !op.weight.empty()}});
    case OpKind::rope:
      return instance("rope", {{"head_dim", op.get_int("head_dim")}, {"rotated_pairs", op.get_int("rotated_pairs")}});
    case OpKind::kv_write:
      return cache_kernel(plan, op, "kv_write");
    case OpKind::attention:
      return cache_kernel(plan, op, "attention");
    case OpKind::geglu:
      return instance("geglu");
    case OpKind::add:
      return instance("add");
    case OpKind::scale_by:
      return instance("scale_by");
    case OpKind::softcap:
      return instance("softcap");
    case OpKind::sample:
      return instance("sample");
  }
  return std::nullopt;
}

}  // namespace g4c::plan
