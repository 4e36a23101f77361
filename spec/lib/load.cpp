#include "g4c/spec/load.h"

#include "g4c/support/config.h"

#include "read_declaration.h"
#include "resolve.h"

namespace g4c {

static std::optional<ModelSpec> resolve(const ConfigNode& root, const std::string& path,
                                        std::vector<std::string> files, DiagnosticEngine& diag) {
  int errors_before = diag.error_count();
  auto failed = [&] { return diag.error_count() > errors_before; };
  ModelSpec spec;
  spec.source_path = path;
  spec.source_files = std::move(files);
  // Each stage trusts what the previous ones checked, so a stage runs only on clean input.
  detail::read_declaration(root, spec, diag);
  if (failed()) return std::nullopt;
  detail::validate_declaration(spec, diag);
  if (failed()) return std::nullopt;
  detail::derive_layers(spec, diag);
  if (failed()) return std::nullopt;
  detail::derive_tensors(spec, diag);
  if (failed()) return std::nullopt;
  detail::validate_sizes(spec, diag);
  if (failed()) return std::nullopt;
  return spec;
}

std::optional<ModelSpec> load_model_spec(const std::string& path, DiagnosticEngine& diag) {
  std::vector<std::string> files;
  auto root = load_config_file(path, diag, &files);
  if (!root) return std::nullopt;
  return resolve(*root, path, std::move(files), diag);
}

std::optional<ModelSpec> load_model_spec_from_string(const std::string& text, const std::string& path,
                                                     DiagnosticEngine& diag) {
  auto root = load_config_text(text, path, diag);
  if (!root) return std::nullopt;
  return resolve(*root, path, {}, diag);
}

}  // namespace g4c
