// Writes a plan's weights as a GGUF file with the gemma4.* metadata llama.cpp expects, derived
// from the plan alone, so seeded random models can be fed to other engines and back to g4run.
#pragma once

#include <span>
#include <string>
#include <utility>

#include "g4c/gguf/value.h"
#include "g4c/plan/plan.h"
#include "g4c/runtime/weights.h"
#include "g4c/support/diagnostics.h"

namespace g4c {

// `extra_metadata` (such as a tokenizer's keys) is written after the model's own.
bool export_gguf(const plan::Plan& plan, const WeightSet& weights, const std::string& path, DiagnosticEngine& diag,
                 std::span<const std::pair<std::string, gguf::Value>> extra_metadata = {});

}  // namespace g4c
