// Lowering: a ModelSpec → the graph of one decode step (shared/reference/gemma4.md §8) as plan ops.
// Per layer kind and per the layer's derived facts only; a new TOML variant needs no C++.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "g4c/plan/plan.h"
#include "g4c/spec/model_spec.h"

namespace g4c {

struct LowerOptions {
  std::vector<int64_t> widths = {1, 2, 4, 8, 16, 32};
  int64_t context = 0;  // 0: the model's context
  int64_t prefill_chunk = 1;  // most consecutive positions of one sequence per step
  std::string target = "sm_90";
};

plan::Plan lower_model(const ModelSpec& spec, const LowerOptions& options);

}  // namespace g4c
