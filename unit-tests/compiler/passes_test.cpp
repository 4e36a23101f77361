// Properties of the passes over every shipped model: storage sharing never overwrites live data,
// buffers of values live together never overlap, every width of every matmul has a legal route,
// and shared-KV layers read their source's cache.
#include <gtest/gtest.h>

#include "compile_helpers.h"
#include "kv_limit_declaration.h"
#include "g4c/plan/kernels.h"
#include "g4c/plan/routes.h"
#include "g4c/plan/storage.h"
#include "g4c/spec/limits.h"

namespace g4c {
namespace {

using namespace plan;
using testing::compile_shipped;
using testing::find_op;

// With K and V stored apart: unfused, K's rms_norm reads the raw K projection; fused (the
// default), K's rms_norm_rope does.
TEST(AliasPass, KeqvLayersKeepTheRawKProjectionUntilVIsNormed) {
  for (bool fused : {false, true}) {
    Plan plan = compile_shipped("gemma4-12b.toml", {1, 8}, {}, 0, 1, fused ? FusionOptions::all() : FusionOptions::none(),
                                KvStorage::separate);
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

// The default storage: a k_eq_v layer's cache keeps V alone and names what rebuilds K; the ops
// that computed K go (fused or not), and V's norm, the raw projection's last reader, runs in place.
TEST(KvStorage, KeqvCachesKeepVAloneAndTheKOpsGo) {
  for (bool fused : {false, true}) {
    Plan plan = compile_shipped("gemma4-12b.toml", {1, 8}, {}, 0, 1, fused ? FusionOptions::all() : FusionOptions::none());
    EXPECT_EQ(plan.header.kv_storage, KvStorage::v_only);
    for (const KvCache& c : *plan.caches) {
      const std::string p = "l" + std::to_string(c.layer) + ".";
      const Op* write = nullptr;
      for (const Op* op : plan.ops())
        if (op->kind == OpKind::kv_write && op->cache == c.name) write = op;
      ASSERT_NE(write, nullptr) << c.name;
      if (c.layer % 6 != 5) {  // sliding, real V
        EXPECT_FALSE(c.v_only()) << c.name;
        EXPECT_EQ(write->operands.size(), 4u) << c.name;
        continue;
      }
      ASSERT_TRUE(c.v_only()) << c.name;
      EXPECT_EQ(c.k_from_v, (KFromV{"blk." + std::to_string(c.layer) + ".attn_k_norm.weight", 512, 64, 1e6})) << c.name;
      EXPECT_EQ(write->operands, (std::vector<std::string>{p + "v", "pos", "seq"})) << c.name;
      EXPECT_EQ(find_op(plan, p + "k"), nullptr) << c.name;
      EXPECT_EQ(find_op(plan, p + "k_normed"), nullptr) << c.name;
      EXPECT_TRUE(find_op(plan, p + "v")->in_place()) << c.name;
    }
  }
}

// Real-V layers keep K and V whatever the storage asked; --kv-storage=separate keeps every cache so.
TEST(KvStorage, OnlyKeqvCachesKeepVAloneAndSeparateKeepsNone) {
  Plan mixed = compile_shipped("synthetic/mixed-v-keqv.toml", {1});
  std::vector<bool> v_only;
  for (const KvCache& c : *mixed.caches) v_only.push_back(c.v_only());
  EXPECT_EQ(v_only, (std::vector<bool>{true, false, true}));
  Plan separate = testing::compile_separate("synthetic/mixed-v-keqv.toml", {1});
  EXPECT_EQ(separate.header.kv_storage, KvStorage::separate);
  for (const KvCache& c : *separate.caches) EXPECT_FALSE(c.v_only()) << c.name;
  for (const Op* op : separate.ops())
    if (op->kind == OpKind::kv_write) EXPECT_EQ(op->operands.size(), 4u);
}

// What --emit=spec prints: the 12B's eight global caches store 512 F16 values per position instead
// of 1024, so at its 262,144 positions each sequence's KV shrinks by their K: 8 x 262144 x 1024 B.
TEST(KvStorage, CacheBytesFollowTheStorage) {
  const KvFootprint v_only = kv_footprint(compile_shipped("gemma4-12b.toml", {1}));
  const KvFootprint separate = kv_footprint(testing::compile_separate("gemma4-12b.toml", {1}));
  EXPECT_EQ(separate.bytes_per_token_total, 40 * 8192 + 8 * 2048);
  EXPECT_EQ(v_only.bytes_per_token_total, 40 * 8192 + 8 * 1024);
  EXPECT_EQ(separate.bytes_per_token[5], 2048);
  EXPECT_EQ(v_only.bytes_per_token[5], 1024);
  EXPECT_EQ(v_only.bytes_per_token[4], 8192);
  EXPECT_EQ(separate.bytes_per_sequence, int64_t{40} * 8192 * 1024 + int64_t{8} * 2048 * 262144);
  EXPECT_EQ(separate.bytes_per_sequence - v_only.bytes_per_sequence, int64_t{8} * 1024 * 262144);
}

// The declaration check's bound on one sequence's KV (spec/lib/validate_declaration.cpp: K and V
// of every cache) is what the plan of a model without k_eq_v layers takes: a model at the limit.
TEST(KvStorage, AModelAtTheKvLimitTakesExactlyIt) {
  DiagnosticEngine diag;
  auto spec = load_model_spec_from_string(testing::kKvAtTheLimit, "kv-limit.toml", diag);
  ASSERT_TRUE(spec);
  EXPECT_EQ(kv_footprint(testing::compile_spec(*spec, {1})).bytes_per_sequence, kMaxKvBytesPerSequence);
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

// quantize-once and quantize-in-producer: a matmul reading prepared activations has no scratch of
// its own, and the producer's scratch stays live through it (so no result between them takes its bytes).
TEST(Storage, SharedActivationsKeepTheProducersScratchLive) {
  Plan plan = compile_shipped("gemma4-12b.toml", {1, 8});
  StorageAnalysis s = analyze_storage(plan);
  int shared = 0;
  for (const Op* op : plan.ops()) {
    const Attr* from = op->find("activations_from");
    if (!from) continue;
    ++shared;
    EXPECT_EQ(op_scratch_seq_bytes(*op), 0) << op->result;
    EXPECT_FALSE(s.roots.count(scratch_name(*op))) << op->result;
    const RootStorage& scratch = s.roots.at(activations_scratch_name(*from));
    EXPECT_GE(scratch.last, s.values.at(op->result).def) << op->result;
  }
  // Every matmul of the 12B reads activations prepared elsewhere: quantize-in-producer moves Q's,
  // gate's, down's and the LM head's into the norm or GEGLU before them, whose scratch K, V and up
  // read too, and O's into the attention's combine (Q, K, V, O, gate, up, down on the sliding
  // layers, no V on the global ones).
  EXPECT_EQ(shared, 40 * 7 + 8 * 6 + 1);
  // The attention's scratch holds O's activations first, then the split partials.
  const Op* attention = find_op(plan, "l0.attn");
  EXPECT_EQ(attention_partials_seq_offset(*attention), quantized_result_seq_bytes(*attention));
  EXPECT_GT(attention_partials_seq_offset(*attention), 0);
  EXPECT_EQ(op_scratch_seq_bytes(*attention),
            attention_partials_seq_offset(*attention) + 16 * kAttentionMaxSplits * (256 + 2) * 4);
}

// group-matmuls, geglu-epilogue, norm-chains and attention-inputs: an op launched with another is written when that one runs, so
// its storage (and its scratch) is live from the leader's position (no value between them may take
// its bytes), and it launches nothing of its own at any width.
TEST(Storage, LaunchGroupMembersAreLiveFromTheirLeader) {
  FusionOptions fusions = FusionOptions::all();
  fusions.enabled.push_back("geglu-epilogue");  // opt-in: its geglu is a member too
  Plan plan = compile_shipped("gemma4-12b.toml", {1, 8}, {}, 0, 1, fusions);
  StorageAnalysis s = analyze_storage(plan);
  int grouped = 0, epilogues = 0, chained = 0, attention_inputs = 0;
  for (const Op* op : plan.ops()) {
    const Attr* with = op->find("launched_with");
    if (!with) continue;
    const std::string leader_name = std::get<Ident>(with->value).text.substr(1);
    const OpKind leader_kind = find_op(plan, leader_name)->kind;
    ++(op->kind == OpKind::matmul                 ? grouped
       : leader_kind == OpKind::matmul          ? epilogues
       : leader_kind == OpKind::rms_norm_rope   ? attention_inputs
                                                : chained);
    for (int64_t width : plan.header.widths)
      for (const KernelInstance& k : kernels_for(plan, *op, width)) EXPECT_TRUE(runs_at_load(k.family)) << k.key();
    if (op->result.empty()) continue;  // a kv_write
    const ValueStorage& leader = s.values.at(leader_name);
    EXPECT_EQ(s.values.at(op->result).def, leader.def) << op->result;
    if (s.roots.count(op->result)) EXPECT_EQ(s.roots.at(op->result).def, leader.def) << op->result;
    if (s.roots.count(scratch_name(*op))) EXPECT_EQ(s.roots.at(scratch_name(*op)).def, leader.def) << op->result;
  }
  // K with Q on every layer, and V on the 40 sliding layers (the 20 Q6_K ones by
  // group-mixed-types), up with gate: 48 + 40 + 48.
  EXPECT_EQ(grouped, 48 + 40 + 48);
  // Every layer's geglu with its gate/up launch.
  EXPECT_EQ(epilogues, 48);
  // The FFN norm with the post-attention norm, the scale and the next attention norm with the
  // post-FFN norm (but the final norm, in place): 48 + 48 + 47.
  EXPECT_EQ(chained, 48 + 48 + 47);
  // attention-inputs: K's norm (the 40 sliding layers; the global ones keep V alone), V's norm and
  // the KV write with Q's norm.
  EXPECT_EQ(attention_inputs, 40 + 48 + 48);
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
    // A norm-chains follower is computed by its post-norm's launch.
    bool launches_nothing = op->kind == OpKind::input || op->kind == OpKind::alias || op->kind == OpKind::slice ||
                            op->kind == OpKind::output || op->kind == OpKind::matmul || op->find("launched_with");
    expected += launches_nothing ? 0 : op->kind == OpKind::attention ? 4 : 2;
  }
  EXPECT_EQ(launches, expected);
}

}  // namespace
}  // namespace g4c
