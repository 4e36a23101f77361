// Typed, checked access to one table of a TOML document. Every key a reader asks for becomes a
// known key; `finish()` reports the others as unknown, with a did-you-mean among the known ones.
// Errors follow the diagnostics convention: `<key path>: <what> (got X, expected Y)`.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <map>

#include "g4c/support/config.h"

namespace g4c {

// Where each key was written: "attention.sliding.window" → file:line:col.
using KeyLocations = std::map<std::string, SourceLoc, std::less<>>;

class TableReader {
 public:
  // `table` may be null: the table is absent, optional keys read as absent and required keys are
  // reported missing at `where`.
  TableReader(const ConfigNode* table, std::string path, SourceLoc where, KeyLocations& key_locs,
              DiagnosticEngine& diag);

  bool present() const { return table_ != nullptr; }
  const std::string& path() const { return path_; }
  std::string key_path(std::string_view key) const;
  SourceLoc loc() const { return where_; }

  // The raw node (marks the key known). Records its location in the key locations.
  const ConfigNode* node(std::string_view key);
  bool has(std::string_view key);

  std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max, bool required);
  std::optional<double> positive_number(std::string_view key, bool required);
  std::optional<bool> boolean(std::string_view key);
  std::optional<std::string> string(std::string_view key, bool required);
  std::optional<std::string> choice(std::string_view key, std::span<const std::string> choices, bool required);
  // A sub-table (absent → a reader over nothing, which reports required keys as missing).
  TableReader table(std::string_view key, bool required);
  // A reader over one table element of an array of tables, named `path` ("quant.rule[0]").
  TableReader element(const ConfigNode& item, std::string path) const;

  // Reports every key of the table nobody asked for.
  void finish();

  // Errors about a key of this table.
  void error_at(const ConfigNode& n, std::string_view key, std::string_view what, std::string_view got = {},
                std::string_view expected = {});
  void missing(std::string_view key, std::string_view expected);
  void wrong_type(const ConfigNode& n, std::string_view key, std::string_view expected);

 private:
  const ConfigNode* table_;
  std::string path_;
  SourceLoc where_;
  KeyLocations& key_locs_;
  DiagnosticEngine& diag_;
  std::vector<std::string> known_;
  bool report_missing_ = true;  // off under a missing table: one error for the table is enough
};

// Describes a value for a diagnostic: `0`, `"abc"`, `a table`.
std::string describe_value(const ConfigNode& n);

// Checks one element of an array against a range; reports at the element.
std::optional<int64_t> array_integer(TableReader& r, const ConfigNode& item, std::string_view key_path,
                                     int64_t min, int64_t max);

}  // namespace g4c
