// Compiles a shipped declaration through the whole pipeline, for compiler tests.
#pragma once

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "g4c/compiler/lower.h"
#include "g4c/compiler/passes.h"
#include "g4c/plan/printer.h"
#include "g4c/spec/load.h"

namespace g4c::testing {

inline ModelSpec load_shipped(const std::string& model) {
  DiagnosticEngine diag;
  auto spec = load_model_spec(std::string(G4C_SOURCE_DIR) + "/models/" + model, diag);
  EXPECT_TRUE(spec) << model;
  return spec.value_or(ModelSpec{});
}

inline plan::Plan compile_spec(const ModelSpec& spec, std::vector<int64_t> widths = {1, 2, 4, 5, 8, 16, 32},
                               const RouteOptions& routes = {}, int64_t context = 0, int64_t prefill_chunk = 1,
                               const FusionOptions& fusions = FusionOptions::all(),
                               plan::KvStorage kv_storage = plan::KvStorage::v_only,
                               plan::AttentionSplit attention_split = plan::AttentionSplit::automatic) {
  LowerOptions lower;
  lower.widths = std::move(widths);
  lower.context = context;
  lower.prefill_chunk = prefill_chunk;
  plan::Plan plan = lower_model(spec, lower);
  DiagnosticEngine diag;
  PassContext ctx{spec, routes, diag, fusions, kv_storage, attention_split};
  EXPECT_TRUE(run_pipeline(plan, ctx, {}, false, std::cerr)) << spec.name;
  return plan;
}

inline plan::Plan compile_shipped(const std::string& model, std::vector<int64_t> widths = {1, 2, 4, 5, 8, 16, 32},
                                  const RouteOptions& routes = {}, int64_t context = 0, int64_t prefill_chunk = 1,
                                  const FusionOptions& fusions = FusionOptions::all(),
                                  plan::KvStorage kv_storage = plan::KvStorage::v_only,
                                  plan::AttentionSplit attention_split = plan::AttentionSplit::automatic) {
  return compile_spec(load_shipped(model), std::move(widths), routes, context, prefill_chunk, fusions, kv_storage,
                      attention_split);
}

// The plan of a shipped model with every cache keeping K and V (`--kv-storage=separate`).
inline plan::Plan compile_separate(const std::string& model, std::vector<int64_t> widths, int64_t prefill_chunk = 1) {
  return compile_shipped(model, std::move(widths), {}, 0, prefill_chunk, FusionOptions::all(), plan::KvStorage::separate);
}

inline std::string print(const plan::Plan& plan) {
  std::ostringstream os;
  plan::print_plan(plan, os);
  return os.str();
}

inline const std::vector<std::string>& shipped_models() {
  static const std::vector<std::string> models = {
      "gemma4-12b.toml", "gemma4-12b-qat-q4_0.toml", "gemma4-e4b.toml", "gemma4-e2b.toml", "gemma4-31b.toml",
      "synthetic/all-global-keqv.toml", "synthetic/mixed-v-keqv.toml", "synthetic/pairing-12b-tiny.toml",
      "synthetic/ple-shared-kv-tiny.toml", "synthetic/quant-q4_k.toml", "synthetic/quant-q8_0.toml",
      "synthetic/heads-256-q4_k.toml", "synthetic/heads-12b-f16kv.toml"};
  return models;
}

inline const plan::Op* find_op(const plan::Plan& plan, const std::string& result) {
  for (const plan::Op* op : plan.ops())
    if (op->result == result) return op;
  return nullptr;
}

}  // namespace g4c::testing
