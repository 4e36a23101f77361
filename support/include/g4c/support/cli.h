// Command-line parsing for g4c and g4run, in the LLVM style: `--opt=value` or `--opt value`,
// `-o file`, positional arguments, and errors with a did-you-mean.
#pragma once

#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "g4c/support/diagnostics.h"

namespace g4c {

struct OptionSpec {
  std::string name;        // without dashes: "emit", "o"
  bool takes_value = false;
  bool repeatable = false;
  std::string value_name;  // for help text: "stage"
  std::string help;
};

struct ParsedArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> values;  // option name → every value given
  std::map<std::string, int> flags;                        // valueless option → times given
  std::vector<std::pair<std::string, std::string>> in_order;  // (option, value) as given

  bool has(std::string_view name) const;
  std::optional<std::string> value(std::string_view name) const;  // last value given
};

// Parses argv[first..]. On error returns nullopt and sets `error` to a one-line message.
std::optional<ParsedArgs> parse_args(int argc, const char* const* argv, int first,
                                     const std::vector<OptionSpec>& options, std::string& error);

// Runs a tool's `dispatch`; an allocation that fails anyway (sizes are checked before anything is
// allocated from them) is reported as `<tool>: error: out of memory` with exit status 1, never an
// abort.
int run_tool(std::string_view tool, int (*dispatch)(int, char**), int argc, char** argv);

// Two-column option list for --help.
std::string format_options_help(const std::vector<OptionSpec>& options);

// The diagnostics of one command of a tool, printed when the command ends: `return diag.finish(code)`
// prints them (prefixed `tool: ` where they have no file) and gives back its exit code.
class CommandDiagnostics : public DiagnosticEngine {
 public:
  explicit CommandDiagnostics(std::string_view tool) : tool_(tool) {}
  int finish(int code) const {
    print(std::cerr, tool_);
    return code;
  }

 private:
  std::string_view tool_;
};

// A tool's first word when it names no command: none (usage to stderr, `usage_error`) or a request
// for help (usage to stdout, 0). Otherwise nothing: the caller dispatches argv[1].
inline std::optional<int> answer_without_command(int argc, char** argv, void (*print_usage)(std::ostream&),
                                                 int usage_error) {
  if (argc < 2) {
    print_usage(std::cerr);
    return usage_error;
  }
  const std::string_view first = argv[1];
  if (first != "--help" && first != "-h" && first != "help") return std::nullopt;
  print_usage(std::cout);
  return 0;
}

}  // namespace g4c
