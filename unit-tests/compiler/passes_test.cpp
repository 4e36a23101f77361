// Properties of the passes over every shipped model: storage sharing never overwrites live data,
// buffers of values live together never overlap, every width of every matmul has a legal route,
// and shared-KV layers read their source's cache.
#include <gtest/gtest.h>

#include "compile_helpers.h"
#include "g4c/plan/routes.h"
#include "g4c/plan/storage.h"

namespace g4c {
namespace {

using namespace plan;
using testing::compile_shipped;
using testing::find_op;

// Unfused, K's rms_norm reads the raw K projection; fused (the default), K's rms_norm_rope does.
TEST(AliasPass, KeqvLayersKeepTheRawKProjectionUntilVIsNormed) {
  for (bool fused : {false, true}) {
    Plan plan = compile_shipped("gemma4-12b.toml", {1, 8}, {}, 0, 1, fused ? FusionOptions::all() : FusionOptions::none());
    const std::string k_norm = fused ? "k" : "k_normed";
    for (int layer : {5, 11, 47}) {
      std::string p = "l" + std::to_string(layer) + ".";
      const Op* v_raw = find_op(plan, p + "v_raw");
      ASSERT_NE(v_raw, nullptr);
      EXPECT_EQ(v_raw->kind, OpKind::alias);
      EXPECT_EQ(v_raw->operands[0], p + "k_raw");
      const Op* k = find_op(plan, p + k_norm);
      ASSERT_NE(k, nullptr);
      EXPECT_EQ(k->kind, fused ? OpKind::rms_norm_rope : OpKind::rms_norm);
      EXPECT_EQ(k->operands[0], p + "k_raw");
      EXPECT_FALSE(k->in_place()) << layer;
      EXPECT_TRUE(find_op(plan, p + "v")->in_place()) << layer;
    }
    // A real-V layer may norm K in place.
    EXPECT_TRUE(find_op(plan, "l0." + k_norm)->in_place());
  }
}

TEST(BufferPlan, ValuesLiveTogetherNeverShareBytes) {
  for (const std::string& model : testing::shipped_models()) {
    Plan plan = compile_shipped(model, {1, 8});
    StorageAnalysis s = analyze_storage(plan);
    std::map<std::string, const Buffer*> buffers;
    for (const Buffer& b : plan.buffers->buffers) buffers[b.value] = &b;
    ASSERT_EQ(buffers.size(), s.roots.size()) << model;
    for (auto a = s.roots.begin(); a != s.roots.end(); ++a)
      for (auto b = std::next(a); b != s.roots.end(); ++b) {
        if (!live_ranges_meet(a->second, b->second)) continue;
        const Buffer& x = *buffers.at(a->first);
        const Buffer& y = *buffers.at(b->first);
        EXPECT_TRUE(x.seq_offset + x.seq_bytes <= y.seq_offset || y.seq_offset + y.seq_bytes <= x.seq_offset)
            << model << ": " << a->first << " and " << b->first;
      }
    EXPECT_LE(plan.buffers->seq_bytes, plan.buffers->unshared_seq_bytes) << model;
    // Layers reuse each other's buffers, so deep models need a fraction of the unshared bytes.
    if (plan.header.layers >= 6) {
      EXPECT_LT(plan.buffers->seq_bytes, plan.buffers->unshared_seq_bytes / 4) << model;
    }
  }
}

TEST(Storage, ViewsAndInPlaceResultsShareTheirSourceBytes) {
  Plan plan = compile_shipped("synthetic/ple-shared-kv-tiny.toml", {1});
  StorageAnalysis s = analyze_storage(plan);
  const ValueStorage& slice = s.values.at("l3.ple_in");
  EXPECT_EQ(slice.root, "ple.inputs");
  EXPECT_EQ(slice.seq_offset, 3 * 16 * 4);  // layer-major: layer 3's [N, 16] block
  // The PLE inputs stay live until the last layer has read its slice.
  EXPECT_GE(s.roots.at("ple.inputs").last, s.values.at("l7.ple_in").def);
  // Outputs stay live past the last op.
  EXPECT_EQ(s.roots.at(s.values.at("next").root).last, s.op_count);
}

TEST(Routes, EveryMatmulHasALegalRouteAtEveryWidth) {
  for (const std::string& model : testing::shipped_models()) {
    Plan plan = compile_shipped(model);
    for (const Op* op : plan.ops()) {
      if (op->kind != OpKind::matmul) continue;
      const WeightDecl* w = plan.find_weight(op->weight);
      ASSERT_EQ(op->routes()->size(), plan.header.widths.size()) << op->result;
      for (const RouteChoice& c : *op->routes())
        EXPECT_TRUE(route_legal(c.route, w->type, w->ne1, w->ne0)) << model << " " << op->result;
    }
  }
}

TEST(KvLayout, SharedLayersReadTheirSourceCache) {
  Plan plan = compile_shipped("gemma4-e2b.toml", {1});
  ASSERT_EQ(plan.caches->size(), 15u);
  for (int layer = 15; layer < 35; ++layer) {
    const Op* attn = find_op(plan, "l" + std::to_string(layer) + ".attn");
    EXPECT_EQ(attn->cache, layer % 5 == 4 ? "kv.l14" : "kv.l13") << layer;
  }
  EXPECT_EQ(plan.find_cache("kv.l14")->kind, KvKind::full);
  EXPECT_EQ(plan.find_cache("kv.l13")->slots, 512);
}

TEST(KernelInstances, CountsEveryLaunchOnce) {
  Plan plan = compile_shipped("synthetic/pairing-12b-tiny.toml", {1, 8});
  int64_t launches = 0;
  for (const KernelInstance& k : *plan.kernels) launches += k.uses;
  // Two widths; attention launches a partial and a combine kernel; every F32 matmul runs cuBLAS's
  // SGEMM (rule float-cublas), no kernel of the plan's.
  int64_t expected = 0;
  for (const Op* op : plan.ops()) {
    bool launches_nothing = op->kind == OpKind::input || op->kind == OpKind::alias || op->kind == OpKind::slice ||
                            op->kind == OpKind::output || op->kind == OpKind::matmul;
    expected += launches_nothing ? 0 : op->kind == OpKind::attention ? 4 : 2;
  }
  EXPECT_EQ(launches, expected);
}

}  // namespace
}  // namespace g4c
