// The only translation unit that includes TOML++ (it is heavy to compile).
#include "g4c/support/config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "g4c/support/text.h"

namespace g4c {

namespace fs = std::filesystem;

const ConfigNode* ConfigNode::find(std::string_view key) const {
  for (const auto& [k, v] : entries)
    if (k == key) return &v;
  return nullptr;
}

ConfigNode* ConfigNode::find(std::string_view key) {
  for (auto& [k, v] : entries)
    if (k == key) return &v;
  return nullptr;
}

void ConfigNode::remove(std::string_view key) {
  std::erase_if(entries, [&](const auto& e) { return e.first == key; });
}

std::string_view kind_name(ConfigNode::Kind k) {
  switch (k) {
    case ConfigNode::Kind::table: return "table";
    case ConfigNode::Kind::array: return "array";
    case ConfigNode::Kind::string: return "string";
    case ConfigNode::Kind::integer: return "integer";
    case ConfigNode::Kind::floating: return "float";
    case ConfigNode::Kind::boolean: return "boolean";
    case ConfigNode::Kind::date_time: return "date/time";
  }
  return "value";
}

namespace {

SourceLoc to_loc(const toml::source_position& pos, const std::shared_ptr<const std::string>& file) {
  return SourceLoc{file, static_cast<int>(pos.line), static_cast<int>(pos.column)};
}

bool before(const SourceLoc& a, const SourceLoc& b) {
  return std::pair(a.line, a.col) < std::pair(b.line, b.col);
}

ConfigNode convert(const toml::node& node, const std::shared_ptr<const std::string>& file) {
  ConfigNode out;
  out.loc = to_loc(node.source().begin, file);
  switch (node.type()) {
    case toml::node_type::table: {
      out.kind = ConfigNode::Kind::table;
      for (const auto& [key, child] : *node.as_table()) {
        ConfigNode c = convert(child, file);
        c.key_loc = to_loc(key.source().begin, file);
        out.entries.emplace_back(std::string(key.str()), std::move(c));
      }
      // TOML++ keeps keys sorted by name; diagnostics read better in the order the user wrote.
      std::stable_sort(out.entries.begin(), out.entries.end(),
                       [](const auto& a, const auto& b) { return before(a.second.key_loc, b.second.key_loc); });
      break;
    }
    case toml::node_type::array:
      out.kind = ConfigNode::Kind::array;
      for (const toml::node& item : *node.as_array()) {
        ConfigNode c = convert(item, file);
        c.key_loc = c.loc;
        out.items.push_back(std::move(c));
      }
      break;
    case toml::node_type::string:
      out.kind = ConfigNode::Kind::string;
      out.string_value = node.as_string()->get();
      break;
    case toml::node_type::integer:
      out.kind = ConfigNode::Kind::integer;
      out.int_value = node.as_integer()->get();
      break;
    case toml::node_type::floating_point:
      out.kind = ConfigNode::Kind::floating;
      out.float_value = node.as_floating_point()->get();
      break;
    case toml::node_type::boolean:
      out.kind = ConfigNode::Kind::boolean;
      out.bool_value = node.as_boolean()->get();
      break;
    default:
      out.kind = ConfigNode::Kind::date_time;
      break;
  }
  return out;
}

// Child wins: tables merge recursively, anything else replaces the parent's value wholesale.
void merge_into(ConfigNode& parent, ConfigNode&& child) {
  for (auto& [key, value] : child.entries) {
    ConfigNode* existing = parent.find(key);
    if (existing && existing->kind == ConfigNode::Kind::table && value.kind == ConfigNode::Kind::table) {
      existing->key_loc = value.key_loc;
      existing->loc = value.loc;
      merge_into(*existing, std::move(value));
    } else if (existing) {
      *existing = std::move(value);
    } else {
      parent.entries.emplace_back(key, std::move(value));
    }
  }
}

class Loader {
 public:
  explicit Loader(DiagnosticEngine& diag) : diag_(diag) {}

  std::optional<ConfigNode> load_text(const std::string& text, const std::string& path) {
    auto file = std::make_shared<const std::string>(path);
    std::optional<ConfigNode> root;
    try {
      toml::table table = toml::parse(text, path);
      root = convert(table, file);
    } catch (const toml::parse_error& e) {
      diag_.error(to_loc(e.source().begin, file), "malformed TOML: " + std::string(e.description()));
      return std::nullopt;
    }
    root->loc = SourceLoc{file, 1, 1};
    return follow_extends(std::move(*root), path);
  }

  std::optional<ConfigNode> load_file(const std::string& path, const SourceLoc& requested_at) {
    std::string why;
    std::optional<std::string> text = read_file(path, why);
    if (!text) {
      std::string what = "cannot read " + quote(path) + ": " + why;
      if (requested_at.has_file())
        diag_.error(requested_at, keyed_message("extends", what));
      else
        diag_.error({}, what);
      return std::nullopt;
    }
    return load_text(*text, path);
  }

 private:
  std::optional<ConfigNode> follow_extends(ConfigNode root, const std::string& path) {
    const ConfigNode* ext = root.find("extends");
    if (!ext) return root;
    if (ext->kind != ConfigNode::Kind::string) {
      diag_.error(ext->loc, keyed_message("extends", "must be a path", std::string(kind_name(ext->kind)),
                                          "a string naming a .toml file"));
      return std::nullopt;
    }
    fs::path parent_path = (fs::path(path).parent_path() / ext->string_value).lexically_normal();
    std::string canonical = fs::weakly_canonical(parent_path).string();
    std::string self = fs::weakly_canonical(path).string();
    chain_.push_back({self, path});
    for (const auto& [seen, shown] : chain_) {
      if (seen != canonical) continue;
      std::string cycle;
      bool in_cycle = false;
      for (const auto& [c, s] : chain_) {
        in_cycle = in_cycle || c == canonical;
        if (in_cycle) cycle += s + " -> ";
      }
      cycle += parent_path.string();
      diag_.error(ext->loc, keyed_message("extends", "cycle: " + cycle));
      return std::nullopt;
    }
    SourceLoc requested_at = ext->loc;
    std::optional<ConfigNode> base = load_file(parent_path.string(), requested_at);
    chain_.pop_back();
    if (!base) return std::nullopt;
    root.remove("extends");
    SourceLoc including_file = root.loc;
    merge_into(*base, std::move(root));
    base->loc = including_file;  // missing top-level keys are the including file's to fix
    return base;
  }

  DiagnosticEngine& diag_;
  std::vector<std::pair<std::string, std::string>> chain_;  // canonical path, path as shown
};

}  // namespace

std::optional<ConfigNode> load_config_file(const std::string& path, DiagnosticEngine& diag) {
  return Loader(diag).load_file(path, {});
}

std::optional<ConfigNode> load_config_text(const std::string& text, const std::string& path,
                                           DiagnosticEngine& diag) {
  return Loader(diag).load_text(text, path);
}

}  // namespace g4c
