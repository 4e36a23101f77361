// Reading a model declaration: TOML (with `extends`) → ModelSpec, validated and fully derived.
#pragma once

#include <optional>
#include <string>

#include "g4c/spec/model_spec.h"
#include "g4c/support/diagnostics.h"

namespace g4c {

// Reads, validates and derives the model declared in `path`. Returns nullopt when any error was
// reported to `diag`; every error carries file:line:col and the key path.
std::optional<ModelSpec> load_model_spec(const std::string& path, DiagnosticEngine& diag);

// The same from text in memory; `path` names it in diagnostics and anchors relative `extends`.
std::optional<ModelSpec> load_model_spec_from_string(const std::string& text, const std::string& path,
                                                     DiagnosticEngine& diag);

}  // namespace g4c
