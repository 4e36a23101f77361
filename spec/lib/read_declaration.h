// Internal: TOML tree → declared fields of ModelSpec (see read_declaration.cpp).
#pragma once

#include "g4c/spec/model_spec.h"
#include "g4c/support/config.h"

namespace g4c::detail {

void read_declaration(const ConfigNode& root, ModelSpec& spec, DiagnosticEngine& diag);

}  // namespace g4c::detail
