#include "g4c/support/cli.h"

#include <algorithm>
#include <iostream>
#include <new>

#include "g4c/support/text.h"

namespace g4c {

bool ParsedArgs::has(std::string_view name) const {
  std::string key(name);
  return values.count(key) || flags.count(key);
}

std::optional<std::string> ParsedArgs::value(std::string_view name) const {
  auto it = values.find(std::string(name));
  if (it == values.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

static const OptionSpec* find_option(const std::vector<OptionSpec>& options, std::string_view name) {
  for (const OptionSpec& o : options)
    if (o.name == name) return &o;
  return nullptr;
}

static std::string spelled(const OptionSpec& o) { return (o.name.size() == 1 ? "-" : "--") + o.name; }

std::optional<ParsedArgs> parse_args(int argc, const char* const* argv, int first,
                                     const std::vector<OptionSpec>& options, std::string& error) {
  ParsedArgs out;
  bool only_positional = false;
  for (int i = first; i < argc; ++i) {
    std::string_view arg = argv[i];
    // A lone "-" names standard input; "--" ends the options.
    if (only_positional || arg == "-" || arg.empty() || arg[0] != '-') {
      out.positional.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    std::string_view body = arg.substr(arg.starts_with("--") ? 2 : 1);
    std::optional<std::string> inline_value;
    if (size_t eq = body.find('='); eq != std::string_view::npos) {
      inline_value = std::string(body.substr(eq + 1));
      body = body.substr(0, eq);
    }
    const OptionSpec* spec = find_option(options, body);
    if (!spec) {
      std::vector<std::string> names;
      for (const OptionSpec& o : options) names.push_back(spelled(o));
      error = "unknown option '" + std::string(arg.substr(0, arg.find('='))) + "'" +
              did_you_mean(arg.substr(0, arg.find('=')), names);
      return std::nullopt;
    }
    if (!spec->takes_value) {
      if (inline_value) {
        error = "option '" + spelled(*spec) + "' takes no value";
        return std::nullopt;
      }
      ++out.flags[spec->name];
      continue;
    }
    std::string value;
    if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      error = "option '" + spelled(*spec) + "' needs a value (" + spec->value_name + ")";
      return std::nullopt;
    }
    auto& slot = out.values[spec->name];
    if (!slot.empty() && !spec->repeatable) {
      error = "option '" + spelled(*spec) + "' given more than once";
      return std::nullopt;
    }
    out.in_order.emplace_back(spec->name, value);
    slot.push_back(std::move(value));
  }
  return out;
}

int run_tool(std::string_view tool, int (*dispatch)(int, char**), int argc, char** argv) {
  try {
    return dispatch(argc, argv);
  } catch (const std::bad_alloc&) {
    std::cerr << tool << ": error: out of memory\n";
    return 1;
  }
}

std::string format_options_help(const std::vector<OptionSpec>& options) {
  std::vector<std::string> lefts;
  size_t width = 0;
  for (const OptionSpec& o : options) {
    std::string left = spelled(o);
    if (o.takes_value) left += (o.name.size() == 1 ? " " : "=") + std::string("<") + o.value_name + ">";
    width = std::max(width, left.size());
    lefts.push_back(std::move(left));
  }
  std::string out;
  for (size_t i = 0; i < options.size(); ++i) {
    out += "  " + lefts[i] + std::string(width - lefts[i].size() + 2, ' ') + options[i].help + "\n";
  }
  return out;
}

}  // namespace g4c
