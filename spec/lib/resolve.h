// Internal: the stages after reading — cross-key validation, then per-layer and per-tensor
// derivation, then the sizes they add up to, each reporting what it finds inconsistent.
#pragma once

#include "g4c/spec/model_spec.h"
#include "g4c/support/diagnostics.h"

namespace g4c::detail {

void validate_declaration(const ModelSpec& spec, DiagnosticEngine& diag);
void derive_layers(ModelSpec& spec, DiagnosticEngine& diag);   // fills spec.layers
void derive_tensors(ModelSpec& spec, DiagnosticEngine& diag);  // fills spec.tensors
// Weights and a sequence's KV cache that some device could hold (limits.h); runs last.
void validate_sizes(const ModelSpec& spec, DiagnosticEngine& diag);

}  // namespace g4c::detail
