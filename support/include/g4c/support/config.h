// A TOML document as a plain tree that remembers where every key and value was written, with
// `extends` chains already merged. Model declarations and tuning files are read through it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "g4c/support/diagnostics.h"

namespace g4c {

struct ConfigNode {
  enum class Kind { table, array, string, integer, floating, boolean, date_time };
  // Declared here, defined where ConfigNode is complete: the node holds vectors of itself, and
  // clang with libstdc++ cannot check an implicit constructor of such a type in place.
  ConfigNode();
  ConfigNode(const ConfigNode&);
  ConfigNode(ConfigNode&&) noexcept;
  ConfigNode& operator=(const ConfigNode&);
  ConfigNode& operator=(ConfigNode&&) noexcept;
  ~ConfigNode();

  Kind kind = Kind::table;
  SourceLoc loc;      // where the value starts (for a table: its header, or its first key)
  SourceLoc key_loc;  // where the key naming it was written
  std::string string_value;
  int64_t int_value = 0;
  double float_value = 0;
  bool bool_value = false;
  std::vector<std::pair<std::string, ConfigNode>> entries;  // table, in source order
  std::vector<ConfigNode> items;                            // array

  const ConfigNode* find(std::string_view key) const;
  ConfigNode* find(std::string_view key);
  void remove(std::string_view key);
};

std::string_view kind_name(ConfigNode::Kind k);

// Limits that keep a hostile declaration from exhausting the stack: files in an `extends` chain
// (the shipped ones use two), and how deeply tables and arrays nest (the schema uses three).
inline constexpr size_t kMaxExtendsDepth = 16;
inline constexpr int kMaxNestingDepth = 32;

// Parses `text` as TOML named `path` and follows `extends` (a path relative to the including
// file). Tables merge key by key, the including file winning; arrays and values replace.
// Returns nullopt after reporting syntax errors, missing files or `extends` cycles.
// `files_read`, when given, receives every file read: `path`, then the files it extends.
std::optional<ConfigNode> load_config_file(const std::string& path, DiagnosticEngine& diag,
                                           std::vector<std::string>* files_read = nullptr);
std::optional<ConfigNode> load_config_text(const std::string& text, const std::string& path,
                                           DiagnosticEngine& diag);

}  // namespace g4c
