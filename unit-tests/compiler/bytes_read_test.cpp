// The bytes `g4run bench`, `profile` and `tune` print GB/s from, on the 12B plan: each tool's
// entry point (bench: the step's totals; profile: each op's weight and KV bytes; tune: a matmul
// shape on a route) against the bytes each route is documented to read (README, "Benchmark, profile and tune").
#include <gtest/gtest.h>

#include <set>

#include "compile_helpers.h"
#include "g4c/compiler/routing.h"
#include "g4c/kernels/weight_layouts_host.h"
#include "g4c/plan/bytes_read.h"

namespace g4c {
namespace {

using plan::OpKind;
using plan::Route;

// Routes the 12B plan's matmuls by weight class so that every route appears: ws, gemm_n, mma16
// and cublas by override, mmq and cublas (the float weights) by the default rules.
plan::Plan plan_with_every_route() {
  RouteOptions routes;
  for (const char* text : {"attn_q=ws", "attn_k=gemm_n@N>=4", "ffn_down=mma16", "ffn_up=cublas@N>=8", "attn_output=mma16h"}) {
    std::string error;
    std::optional<RouteOverride> o = parse_route_override(text, error);
    EXPECT_TRUE(o) << error;
    if (o) routes.overrides.push_back(*o);
  }
  return testing::compile_shipped("gemma4-12b.toml", {1, 4, 8}, routes);
}

int64_t f32_copy_bytes(const plan::WeightDecl& w) { return w.ne0 * w.ne1 * 4; }

// What an op reads, written out from the route table rather than through bytes_read.cpp.
int64_t documented_weight_bytes(const plan::Plan& plan, const plan::Op& op, int64_t width) {
  if (op.kind == OpKind::attention) {
    const plan::KvCache* c = plan.find_cache(op.cache);
    return c->v_only() ? f32_copy_bytes(*plan.find_weight(c->k_from_v.norm)) : 0;
  }
  if (op.weight.empty()) return 0;
  const plan::WeightDecl& w = *plan.find_weight(op.weight);
  switch (op.kind) {
    case OpKind::embed_gather: return width * row_bytes(w.type, w.ne0);
    case OpKind::matmul:
      switch (*plan::route_at(op, width)) {
        case Route::ws:
        case Route::mmq:
        case Route::gemm_n: return w.bytes();
        case Route::mma16:
        case Route::mma16h: return mma16_bytes(w.type, w.ne1, w.ne0);
        case Route::cublas: return info(w.type).is_float ? w.bytes() : w.ne0 * w.ne1 * 2;
      }
      return -1;
    default: return w.type == QuantType::F32 ? w.bytes() : f32_copy_bytes(w);
  }
}

TEST(BytesRead, BenchProfileAndTuneCountTheSameBytesForEveryOpKindAndRoute) {
  const plan::Plan plan = plan_with_every_route();
  std::set<std::pair<OpKind, int>> seen;  // (kind, route or -1)
  for (int64_t width : plan.header.widths) {
    const std::vector<int32_t> positions(static_cast<size_t>(width), 100);
    int64_t profile_weights = 0, profile_kv = 0, stored = 0;
    for (const plan::Op* op : plan.ops()) {
      SCOPED_TRACE("%" + op->result + " at N=" + std::to_string(width));
      const int64_t profile = plan::weight_bytes_read(plan, *op, width);  // Executor::profile
      EXPECT_EQ(profile, documented_weight_bytes(plan, *op, width));
      const std::optional<Route> route = plan::route_at(*op, width);
      if (op->kind == OpKind::matmul) {
        ASSERT_TRUE(route);
        const plan::WeightDecl& w = *plan.find_weight(op->weight);
        EXPECT_EQ(profile, plan::matmul_weight_bytes_read(*route, w.type, w.ne1, w.ne0));  // g4run tune
      }
      if (profile) seen.emplace(op->kind, route ? static_cast<int>(*route) : -1);
      profile_weights += profile;
      // The floor's share: the weight once as stored, whatever the route reads.
      const plan::WeightDecl* w = op->weight.empty() ? nullptr : plan.find_weight(op->weight);
      const int64_t as_stored = !w ? 0 : op->kind == OpKind::embed_gather ? width * row_bytes(w->type, w->ne0) : w->bytes();
      EXPECT_EQ(plan::stored_weight_bytes(plan, *op, width), as_stored);
      stored += as_stored;
      profile_kv += plan::kv_bytes_read(plan, *op, positions);
    }
    EXPECT_EQ(plan::step_weight_bytes_read(plan, width), profile_weights);  // g4run bench
    EXPECT_EQ(plan::step_stored_weight_bytes(plan, width), stored);           // bench's floor
    EXPECT_EQ(plan::step_kv_bytes_read(plan, positions), profile_kv);
  }
  for (Route r : plan::kAllRoutes) EXPECT_TRUE(seen.count({OpKind::matmul, static_cast<int>(r)})) << name(r);
  for (OpKind k : {OpKind::embed_gather, OpKind::attention, OpKind::rms_norm_rope, OpKind::add_rms_norm})
    EXPECT_TRUE(seen.count({k, -1})) << schema(k).name;
}

TEST(BytesRead, AttentionReadsEachKeyOnceUpToItsWindow) {
  const plan::Plan plan = testing::compile_shipped("gemma4-12b.toml", {1, 4});
  const std::vector<int32_t> positions = {0, 9, 5000};
  int checked = 0;
  for (const plan::Op* op : plan.ops()) {
    if (op->kind != OpKind::attention) {
      EXPECT_EQ(plan::kv_bytes_read(plan, *op, positions), 0);
      continue;
    }
    const plan::KvCache& c = *plan.find_cache(op->cache);
    const int64_t window = op->get_int("window");
    const int64_t keys = 1 + 10 + (window ? window : 5001);
    EXPECT_EQ(plan::kv_bytes_read(plan, *op, positions), keys * c.planes() * c.row_bytes()) << op->result;
    ++checked;
  }
  EXPECT_EQ(checked, plan.header.layers);
}

}  // namespace
}  // namespace g4c
