#include "g4c/plan/bytes_read.h"

#include <algorithm>

#include "g4c/kernels/weight_layouts_host.h"

namespace g4c::plan {

namespace {

// The bytes of a weight's f32 copy, or of the weight itself when it is F32.
int64_t as_floats_bytes(const WeightDecl& w) { return w.type == QuantType::F32 ? w.bytes() : w.ne0 * w.ne1 * 4; }

}  // namespace

std::optional<Route> route_at(const Op& op, int64_t width) {
  const std::vector<RouteChoice>* routes = op.routes();
  if (!routes) return std::nullopt;
  for (const RouteChoice& c : *routes)
    if (c.width == width) return c.route;
  return std::nullopt;
}

int64_t matmul_weight_bytes_read(Route route, QuantType type, int64_t rows, int64_t cols) {
  if (route == Route::cublas && !info(type).is_float) return rows * cols * 2;
  if (route_layout(route) == WeightLayout::mma16) return mma16_bytes(type, rows, cols);
  return row_bytes(type, cols) * rows;
}

int64_t weight_bytes_read(const Plan& plan, const Op& op, int64_t width) {
  if (op.kind == OpKind::attention) {
    const KvCache* c = plan.find_cache(op.cache);
    const WeightDecl* norm = c && c->v_only() ? plan.find_weight(c->k_from_v.norm) : nullptr;
    return norm ? as_floats_bytes(*norm) : 0;
  }
  const WeightDecl* w = op.weight.empty() ? nullptr : plan.find_weight(op.weight);
  if (!w) return 0;
  if (op.kind == OpKind::embed_gather) return width * row_bytes(w->type, w->ne0);
  if (schema(op.kind).weight_as_floats) return as_floats_bytes(*w);
  if (op.kind != OpKind::matmul) return w->bytes();
  const std::optional<Route> route = route_at(op, width);
  return route ? matmul_weight_bytes_read(*route, w->type, w->ne1, w->ne0) : 0;
}

int64_t stored_weight_bytes(const Plan& plan, const Op& op, int64_t width) {
  const WeightDecl* w = op.weight.empty() ? nullptr : plan.find_weight(op.weight);
  if (!w) return 0;
  return op.kind == OpKind::embed_gather ? width * row_bytes(w->type, w->ne0) : w->bytes();
}

int64_t kv_bytes_read(const Plan& plan, const Op& op, std::span<const int32_t> positions) {
  const KvCache* c = op.kind == OpKind::attention ? plan.find_cache(op.cache) : nullptr;
  if (!c) return 0;
  const int64_t window = op.get_int("window");
  int64_t keys = 0;
  for (int32_t pos : positions) keys += window > 0 ? std::min<int64_t>(pos + 1, window) : pos + 1;
  return keys * c->position_bytes();
}

int64_t step_weight_bytes_read(const Plan& plan, int64_t width) {
  int64_t bytes = 0;
  for (const Op* op : plan.ops()) bytes += weight_bytes_read(plan, *op, width);
  return bytes;
}

int64_t step_stored_weight_bytes(const Plan& plan, int64_t width) {
  int64_t bytes = 0;
  for (const Op* op : plan.ops()) bytes += stored_weight_bytes(plan, *op, width);
  return bytes;
}

int64_t step_kv_bytes_read(const Plan& plan, std::span<const int32_t> positions) {
  int64_t bytes = 0;
  for (const Op* op : plan.ops()) bytes += kv_bytes_read(plan, *op, positions);
  return bytes;
}

}  // namespace g4c::plan
