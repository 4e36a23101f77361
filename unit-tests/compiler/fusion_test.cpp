// The fusion passes (residual-norm, norm-rope) on every shipped model and on lowered plans edited
// to break their patterns: each fuses exactly the pairs whose norm has the consumer as its only
// reader, the fused op keeps the consumer's result name and the norm's input, weight and
// attributes, and the plans that come out verify. `--fuse` selects which run.
#include <gtest/gtest.h>

#include <algorithm>

#include "compile_helpers.h"
#include "g4c/plan/verifier.h"

namespace g4c {
namespace {

using namespace plan;
using testing::compile_shipped;
using testing::find_op;

int count_kind(const Plan& plan, OpKind kind) {
  const std::vector<const Op*> ops = plan.ops();
  return static_cast<int>(std::count_if(ops.begin(), ops.end(), [&](const Op* op) { return op->kind == kind; }));
}

FusionOptions only(std::string pass) { return FusionOptions{{std::move(pass)}}; }

// Lowers a model, lets `edit` change the graph, then runs every pass, and checks the result
// verifies.
template <class Edit>
Plan compile_edited(const std::string& model, Edit edit, const FusionOptions& fusions = FusionOptions::all()) {
  ModelSpec spec = testing::load_shipped(model);
  LowerOptions lower;
  lower.widths = {1, 4};
  Plan plan = lower_model(spec, lower);
  edit(plan);
  DiagnosticEngine diag;
  RouteOptions routes;
  PassContext ctx{spec, routes, diag, fusions};
  EXPECT_TRUE(run_pipeline(plan, ctx, {}, false, std::cerr));
  EXPECT_TRUE(verify_plan(plan, diag)) << (diag.diagnostics().empty() ? "" : diag.diagnostics()[0].message);
  return plan;
}

// `%RESULT = softcap %VALUE`, right after VALUE's definition: a second reader of VALUE.
void add_reader(Plan& plan, const std::string& value, const std::string& result) {
  for (Block& b : plan.blocks)
    for (size_t i = 0; i < b.ops.size(); ++i) {
      if (b.ops[i].result != value) continue;
      Op reader;
      reader.kind = OpKind::softcap;
      reader.result = result;
      reader.operands = {value};
      reader.set("cap", 30.0);
      reader.type = b.ops[i].type;
      b.ops.insert(b.ops.begin() + static_cast<std::ptrdiff_t>(i) + 1, std::move(reader));
      return;
    }
  FAIL() << "no op defines %" << value;
}

Op* find_mutable(Plan& plan, const std::string& result) {
  for (Op* op : plan.mutable_ops())
    if (op->result == result) return op;
  return nullptr;
}

TEST(ResidualNorm, FusesEveryPostNormOfEveryShippedModel) {
  for (const std::string& model : testing::shipped_models()) {
    Plan unfused = compile_shipped(model, {1, 8}, {}, 0, 1, FusionOptions::none());
    Plan fused = compile_shipped(model, {1, 8}, {}, 0, 1, only("residual-norm"));
    const int adds = count_kind(unfused, OpKind::add);
    // Post-attention and post-FFW norms, and the PLE post-norm where the model has PLE.
    EXPECT_EQ(adds, unfused.header.layers * (unfused.find_weight("per_layer_proj_norm.weight") ? 3 : 2)) << model;
    EXPECT_EQ(count_kind(fused, OpKind::add_rms_norm), adds) << model;
    EXPECT_EQ(count_kind(fused, OpKind::add), 0) << model;
    EXPECT_EQ(count_kind(fused, OpKind::rms_norm), count_kind(unfused, OpKind::rms_norm) - adds) << model;
    EXPECT_EQ(fused.ops().size(), unfused.ops().size() - adds) << model;
    EXPECT_EQ(count_kind(fused, OpKind::rope), count_kind(unfused, OpKind::rope)) << model;
    EXPECT_EQ(fused.header.fusions, std::vector<std::string>{"residual-norm"});
  }
}

TEST(ResidualNorm, TheFusedOpReadsTheResidualAndTheNormsInput) {
  Plan plan = compile_shipped("gemma4-e4b.toml", {1, 8});
  struct Expected {
    std::string result, residual, normed_input, weight;
  };
  for (const Expected& e : {Expected{"l3.h_attn", "l2.out", "l3.o", "blk.3.post_attention_norm.weight"},
                            Expected{"l3.h_ffn", "l3.h_attn", "l3.down", "blk.3.post_ffw_norm.weight"},
                            Expected{"l3.h_ple", "l3.h_ffn", "l3.ple_proj", "blk.3.post_norm.weight"}}) {
    const Op* op = find_op(plan, e.result);
    ASSERT_NE(op, nullptr) << e.result;
    EXPECT_EQ(op->kind, OpKind::add_rms_norm) << e.result;
    EXPECT_EQ(op->operands, (std::vector<std::string>{e.residual, e.normed_input})) << e.result;
    EXPECT_EQ(op->weight, e.weight);
    EXPECT_EQ(op->get_int("group"), 2560);
    EXPECT_EQ(op->get_number("eps"), 1e-6);
    EXPECT_TRUE(op->in_place()) << "over the residual, as the add was: " << e.result;
  }
}

TEST(ResidualNorm, ANormReadTwiceStaysUnfused) {
  Plan plan = compile_edited("synthetic/pairing-12b-tiny.toml",
                             [](Plan& p) { add_reader(p, "l0.o_normed", "l0.o_normed_again"); });
  EXPECT_EQ(find_op(plan, "l0.o_normed")->kind, OpKind::rms_norm);
  EXPECT_EQ(find_op(plan, "l0.h_attn")->kind, OpKind::add);
  // The other post-norms still fuse.
  EXPECT_EQ(find_op(plan, "l0.h_ffn")->kind, OpKind::add_rms_norm);
  EXPECT_EQ(find_op(plan, "l1.h_attn")->kind, OpKind::add_rms_norm);
}

TEST(ResidualNorm, ANormOnTheLeftOfTheAddFusesWithTheResidualFirst) {
  Plan plan = compile_edited("synthetic/pairing-12b-tiny.toml", [](Plan& p) {
    Op* add = find_mutable(p, "l1.h_attn");
    std::swap(add->operands[0], add->operands[1]);
  });
  const Op* fused = find_op(plan, "l1.h_attn");
  EXPECT_EQ(fused->kind, OpKind::add_rms_norm);
  EXPECT_EQ(fused->operands, (std::vector<std::string>{"l0.out", "l1.o"}));
}

TEST(NormRope, FusesQAndKOfEveryShippedModel) {
  for (const std::string& model : testing::shipped_models()) {
    Plan unfused = compile_shipped(model, {1, 8}, {}, 0, 1, FusionOptions::none());
    Plan fused = compile_shipped(model, {1, 8}, {}, 0, 1, only("norm-rope"));
    const int ropes = count_kind(unfused, OpKind::rope);
    // Q on every layer, K on the layers whose cache stores K (a v_only cache's attention rebuilds it).
    const auto stores_k = std::count_if(unfused.caches->begin(), unfused.caches->end(),
                                        [](const KvCache& c) { return !c.v_only(); });
    EXPECT_EQ(ropes, unfused.header.layers + static_cast<int>(stores_k)) << model;
    EXPECT_EQ(count_kind(fused, OpKind::rms_norm_rope), ropes) << model;
    EXPECT_EQ(count_kind(fused, OpKind::rope), 0) << model;
    EXPECT_EQ(fused.ops().size(), unfused.ops().size() - ropes) << model;
    EXPECT_EQ(count_kind(fused, OpKind::add), count_kind(unfused, OpKind::add)) << model;
    EXPECT_EQ(fused.header.fusions, std::vector<std::string>{"norm-rope"});
  }
}

TEST(NormRope, TheFusedOpCarriesTheNormAndTheRope) {
  Plan plan = compile_shipped("gemma4-12b.toml", {1, 8});
  const Op* q = find_op(plan, "l5.q_rope");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->kind, OpKind::rms_norm_rope);
  EXPECT_EQ(q->operands, (std::vector<std::string>{"l5.q", "pos"}));
  EXPECT_EQ(q->weight, "blk.5.attn_q_norm.weight");
  EXPECT_EQ(q->get_int("group"), 512);
  EXPECT_EQ(q->get_int("head_dim"), 512);
  EXPECT_EQ(q->get_int("rotated_pairs"), 64);
  EXPECT_EQ(q->get_number("theta"), 1e6);
  EXPECT_TRUE(q->in_place());
  const Op* k = find_op(plan, "l6.k");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->kind, OpKind::rms_norm_rope);
  EXPECT_EQ(k->operands, (std::vector<std::string>{"l6.k_raw", "pos"}));
  EXPECT_EQ(k->get_int("rotated_pairs"), 128);
  EXPECT_EQ(k->get_number("theta"), 1e4);
  EXPECT_EQ(find_op(plan, "l6.q_normed"), nullptr);
  EXPECT_EQ(find_op(plan, "l6.k_normed"), nullptr);
}

TEST(NormRope, ANormReadTwiceStaysUnfused) {
  Plan plan = compile_edited("synthetic/mixed-v-keqv.toml",
                             [](Plan& p) { add_reader(p, "l1.k_normed", "l1.k_normed_again"); });
  EXPECT_EQ(find_op(plan, "l1.k_normed")->kind, OpKind::rms_norm);
  EXPECT_EQ(find_op(plan, "l1.k")->kind, OpKind::rope);
  EXPECT_EQ(find_op(plan, "l1.q_rope")->kind, OpKind::rms_norm_rope);
}

// The kernel normalizes and rotates a head at a time: a norm over other groups stays a norm.
TEST(NormRope, ANormOverOtherGroupsThanHeadsStaysUnfused) {
  Plan plan = compile_edited("synthetic/mixed-v-keqv.toml", [](Plan& p) {
    Op* norm = find_mutable(p, "l0.q_normed");
    norm->set("group", norm->get_int("group") / 2);
    norm->weight.clear();  // a weighted norm's weight holds one group
  });
  EXPECT_EQ(find_op(plan, "l0.q_normed")->kind, OpKind::rms_norm);
  EXPECT_EQ(find_op(plan, "l0.q_rope")->kind, OpKind::rope);
  EXPECT_EQ(find_op(plan, "l1.q_rope")->kind, OpKind::rms_norm_rope);
}

TEST(Fusions, NoneLeavesTheLoweredOps) {
  ModelSpec spec = testing::load_shipped("gemma4-e4b.toml");
  LowerOptions lower;
  lower.widths = {1, 8};
  Plan lowered = lower_model(spec, lower);
  Plan plan = testing::compile_spec(spec, {1, 8}, {}, 0, 1, FusionOptions::none());
  EXPECT_TRUE(plan.header.fusions.empty());
  ASSERT_EQ(plan.ops().size(), lowered.ops().size());
  for (size_t i = 0; i < lowered.ops().size(); ++i) {
    EXPECT_EQ(plan.ops()[i]->kind, lowered.ops()[i]->kind) << i;
    EXPECT_EQ(plan.ops()[i]->result, lowered.ops()[i]->result) << i;
  }
}

TEST(Fusions, AllRunsEveryFusionInPipelineOrder) {
  EXPECT_EQ(FusionOptions::all().enabled,
            (std::vector<std::string>{"residual-norm", "norm-rope", "quantize-once", "group-matmuls", "group-mixed-types", "quantize-in-producer",
                                      "norm-chains", "attention-inputs"}));
  // attention-combine and geglu-epilogue measured slower (docs/perf.md): named in --fuse only.
  EXPECT_EQ(FusionOptions::known().enabled,
            (std::vector<std::string>{"residual-norm", "norm-rope", "attention-combine", "quantize-once", "group-matmuls", "group-mixed-types",
                                      "quantize-in-producer", "geglu-epilogue", "norm-chains", "attention-inputs"}));
  for (const std::string& name : FusionOptions::all().enabled) {
    auto pass = std::find_if(pass_pipeline().begin(), pass_pipeline().end(),
                             [&](const PassInfo& p) { return p.name == name; });
    ASSERT_NE(pass, pass_pipeline().end()) << name;
    EXPECT_TRUE(pass->fusion) << name;
  }
  Plan plan = compile_shipped("synthetic/ple-shared-kv-tiny.toml", {1, 8});
  EXPECT_EQ(plan.header.fusions, FusionOptions::all().enabled);
  EXPECT_EQ(count_kind(plan, OpKind::add) + count_kind(plan, OpKind::rope), 0);
}

}  // namespace
}  // namespace g4c
