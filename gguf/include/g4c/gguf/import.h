// `g4c import`: a gemma4 GGUF file → a model declaration (TOML, docs/model-schema.md) that
// `g4c check` accepts and whose derived tensors have exactly the file's shapes and types.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "g4c/gguf/file.h"
#include "g4c/spec/model_spec.h"
#include "g4c/support/diagnostics.h"

namespace g4c::gguf {

// A quantization recipe in the schema's terms: [quant] keys and [[quant.rule]] tables.
struct QuantRecipe {
  struct Rule {
    std::vector<TensorClass> classes;
    bool use_more_bits = false;  // select = "use_more_bits"; otherwise `layers`
    std::vector<int> layers;
    QuantType type = QuantType::F32;
  };

  QuantType default_type = QuantType::F32;
  std::map<TensorClass, QuantType> class_types;  // quant.<class>; norms only when not F32
  std::vector<Rule> rules;

  // The [quant] table and its [[quant.rule]] tables.
  std::string to_toml() const;
};

using TensorTypes = std::map<std::string, QuantType, std::less<>>;

// The smallest recipe that gives every tensor of `spec` its type in `types` (keyed by tensor
// name): `default` is the most common type of the per-layer matrices, a class whose type differs
// throughout gets a class key, llama.cpp's use_more_bits split becomes a `select` rule, and other
// per-layer departures become `layers` rules. Vectors (norms) of mixed types, or quantized ones,
// cannot be declared: reported at `loc` (naming the tensor), and nullopt.
std::optional<QuantRecipe> infer_quant_recipe(const ModelSpec& spec, const TensorTypes& types, const SourceLoc& loc,
                                              DiagnosticEngine& diag);

// The declaration of the gemma4 model in `file`, as TOML text. Problems (a missing or malformed
// key, a tensor that is missing, misshapen or of a type g4c does not support) are reported at the
// file and give nullopt; tensors the model does not use become `# note:` lines.
std::optional<std::string> import_model(const File& file, DiagnosticEngine& diag);

}  // namespace g4c::gguf
