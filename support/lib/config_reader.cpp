#include "g4c/support/config_reader.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "g4c/support/text.h"

namespace g4c {

std::string describe_value(const ConfigNode& n) {
  switch (n.kind) {
    case ConfigNode::Kind::string: return quote(n.string_value);
    case ConfigNode::Kind::integer: return std::to_string(n.int_value);
    case ConfigNode::Kind::floating: return float_text(format_double(n.float_value));
    case ConfigNode::Kind::boolean: return n.bool_value ? "true" : "false";
    case ConfigNode::Kind::table: return "a table";
    case ConfigNode::Kind::array: return "an array";
    case ConfigNode::Kind::date_time: return "a date/time";
  }
  return "a value";
}

TableReader::TableReader(const ConfigNode* table, std::string path, SourceLoc where, KeyLocations& key_locs,
                         DiagnosticEngine& diag)
    : table_(table), path_(std::move(path)), where_(std::move(where)), key_locs_(key_locs), diag_(diag) {
  if (table_) key_locs_[path_] = table_->loc;
}

std::string TableReader::key_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const ConfigNode* TableReader::node(std::string_view key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
  if (!table_) return nullptr;
  const ConfigNode* n = table_->find(key);
  if (n) key_locs_[key_path(key)] = n->loc;
  return n;
}

bool TableReader::has(std::string_view key) { return node(key) != nullptr; }

void TableReader::error_at(const ConfigNode& n, std::string_view key, std::string_view what,
                           std::string_view got, std::string_view expected) {
  diag_.error(n.loc, keyed_message(key_path(key), what, got, expected));
}

void TableReader::missing(std::string_view key, std::string_view expected) {
  if (!report_missing_) return;
  std::string where = path_.empty() ? "the model" : "[" + path_ + "]";
  diag_.error(where_, keyed_message(key_path(key), "missing; " + where + " must set it", {}, expected));
}

void TableReader::wrong_type(const ConfigNode& n, std::string_view key, std::string_view expected) {
  error_at(n, key, "wrong type", describe_value(n), expected);
}

std::optional<int64_t> TableReader::integer(std::string_view key, int64_t min, int64_t max, bool required) {
  const ConfigNode* n = node(key);
  std::string range = std::to_string(min) + ".." + std::to_string(max);
  if (!n) {
    if (required) missing(key, "an integer in " + range);
    return std::nullopt;
  }
  if (n->kind != ConfigNode::Kind::integer) {
    wrong_type(*n, key, "an integer in " + range);
    return std::nullopt;
  }
  if (n->int_value < min || n->int_value > max) {
    std::string what = n->int_value < min && min == 1 ? "must be positive" : "out of range";
    error_at(*n, key, what, std::to_string(n->int_value), range);
    return std::nullopt;
  }
  return n->int_value;
}

std::optional<double> TableReader::positive_number(std::string_view key, bool required) {
  const ConfigNode* n = node(key);
  if (!n) {
    if (required) missing(key, "a number > 0");
    return std::nullopt;
  }
  double v;
  if (n->kind == ConfigNode::Kind::floating)
    v = n->float_value;
  else if (n->kind == ConfigNode::Kind::integer)
    v = static_cast<double>(n->int_value);
  else {
    wrong_type(*n, key, "a number > 0");
    return std::nullopt;
  }
  if (!(v > 0)) {  // NaN too
    error_at(*n, key, "must be positive", describe_value(*n), "a number > 0");
    return std::nullopt;
  }
  // Every backend computes in float: a value float cannot hold would be infinite or 0 there.
  constexpr double kMin = std::numeric_limits<float>::min(), kMax = std::numeric_limits<float>::max();
  if (v < kMin || v > kMax) {
    error_at(*n, key, "out of range for float", describe_value(*n),
             format_double(kMin) + " .. " + format_double(kMax));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> TableReader::boolean(std::string_view key) {
  const ConfigNode* n = node(key);
  if (!n) return std::nullopt;
  if (n->kind != ConfigNode::Kind::boolean) {
    wrong_type(*n, key, "true or false");
    return std::nullopt;
  }
  return n->bool_value;
}

std::optional<std::string> TableReader::string(std::string_view key, bool required) {
  const ConfigNode* n = node(key);
  if (!n) {
    if (required) missing(key, "a string");
    return std::nullopt;
  }
  if (n->kind != ConfigNode::Kind::string) {
    wrong_type(*n, key, "a string");
    return std::nullopt;
  }
  return n->string_value;
}

std::optional<std::string> TableReader::choice(std::string_view key, std::span<const std::string> choices,
                                               bool required) {
  std::string expected = "one of " + join(choices);
  const ConfigNode* n = node(key);
  if (!n) {
    if (required) missing(key, expected);
    return std::nullopt;
  }
  if (n->kind != ConfigNode::Kind::string) {
    wrong_type(*n, key, expected);
    return std::nullopt;
  }
  if (std::find(choices.begin(), choices.end(), n->string_value) == choices.end()) {
    error_at(*n, key, "unknown value" + did_you_mean(n->string_value, choices), describe_value(*n), expected);
    return std::nullopt;
  }
  return n->string_value;
}

TableReader TableReader::table(std::string_view key, bool required) {
  const ConfigNode* n = node(key);
  std::string sub = key_path(key);
  if (!n) {
    TableReader absent(nullptr, sub, where_, key_locs_, diag_);
    if (required && report_missing_) diag_.error(where_, keyed_message(sub, "missing table; add a [" + sub + "] section"));
    absent.report_missing_ = !required && report_missing_;
    return absent;
  }
  if (n->kind != ConfigNode::Kind::table) {
    wrong_type(*n, key, "a table");
    return TableReader(nullptr, sub, n->loc, key_locs_, diag_);
  }
  return TableReader(n, sub, n->loc, key_locs_, diag_);
}

TableReader TableReader::element(const ConfigNode& item, std::string path) const {
  return TableReader(&item, std::move(path), item.loc, key_locs_, diag_);
}

void TableReader::finish() {
  if (!table_) return;
  for (const auto& [key, value] : table_->entries) {
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    diag_.error(value.key_loc, keyed_message(key_path(key), "unknown key" + did_you_mean(key, known_)));
  }
}

std::optional<int64_t> array_integer(TableReader& r, const ConfigNode& item, std::string_view key_path,
                                     int64_t min, int64_t max) {
  std::string range = std::to_string(min) + ".." + std::to_string(max);
  if (item.kind != ConfigNode::Kind::integer) {
    r.error_at(item, key_path, "wrong type", describe_value(item), "an integer in " + range);
    return std::nullopt;
  }
  if (item.int_value < min || item.int_value > max) {
    r.error_at(item, key_path, "out of range", std::to_string(item.int_value), range);
    return std::nullopt;
  }
  return item.int_value;
}

}  // namespace g4c
