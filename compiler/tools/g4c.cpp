// g4c: the model compiler driver.
//
//   g4c check FILE...                      validate declarations; prints nothing when they are valid
//   g4c compile FILE --emit=spec [-o OUT]  print the normalized, fully derived model description
//
// Exit status: 0 on success, 1 when an input has errors, 2 on a command-line mistake.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "g4c/spec/describe.h"
#include "g4c/spec/load.h"
#include "g4c/support/cli.h"
#include "g4c/support/text.h"

namespace {

constexpr std::string_view kTool = "g4c";
constexpr int kInputError = 1;
constexpr int kUsageError = 2;

const std::vector<std::string> kStages = {"spec"};

const std::vector<g4c::OptionSpec> kCompileOptions = {
    {"emit", true, false, "stage", "stage to print: " + g4c::join(kStages)},
    {"o", true, false, "file", "write the output to <file> instead of standard output"},
    {"help", false, false, "", "show this help"},
};

void print_usage(std::ostream& os) {
  os << "usage: g4c check FILE...\n"
        "       g4c compile FILE --emit=<stage> [-o <file>]\n"
        "\n"
        "Compiles Gemma 4 model declarations (TOML) for batched decode.\n"
        "\n"
        "commands:\n"
        "  check     validate declarations; silent when they are valid\n"
        "  compile   lower a declaration and print the requested stage\n"
        "\n"
        "compile options:\n"
     << g4c::format_options_help(kCompileOptions);
}

int usage_error(const std::string& message) {
  std::cerr << kTool << ": error: " << message << "\n"
            << "run 'g4c --help' for usage\n";
  return kUsageError;
}

int run_check(int argc, char** argv) {
  std::string error;
  auto args = g4c::parse_args(argc, argv, 2, {{"help", false, false, "", "show this help"}}, error);
  if (!args) return usage_error(error);
  if (args->has("help")) {
    print_usage(std::cout);
    return 0;
  }
  if (args->positional.empty()) return usage_error("check: no input files");
  g4c::DiagnosticEngine diag;
  for (const std::string& path : args->positional) g4c::load_model_spec(path, diag);
  diag.print(std::cerr, kTool);
  return diag.has_errors() ? kInputError : 0;
}

bool write_output(const std::string& text, const std::optional<std::string>& path) {
  if (!path || *path == "-") {
    std::cout << text;
    return true;
  }
  std::ofstream out(*path, std::ios::binary);
  out << text;
  out.close();
  if (!out) {
    std::cerr << kTool << ": error: cannot write " << g4c::quote(*path) << "\n";
    return false;
  }
  return true;
}

int run_compile(int argc, char** argv) {
  std::string error;
  auto args = g4c::parse_args(argc, argv, 2, kCompileOptions, error);
  if (!args) return usage_error(error);
  if (args->has("help")) {
    print_usage(std::cout);
    return 0;
  }
  if (args->positional.size() != 1) return usage_error("compile: expected exactly one input file");
  auto stage = args->value("emit");
  if (!stage) return usage_error("compile: --emit: missing (expected one of " + g4c::join(kStages) + ")");
  if (std::find(kStages.begin(), kStages.end(), *stage) == kStages.end())
    return usage_error("--emit: unknown stage " + g4c::quote(*stage) + g4c::did_you_mean(*stage, kStages) +
                       " (expected one of " + g4c::join(kStages) + ")");
  g4c::DiagnosticEngine diag;
  auto spec = g4c::load_model_spec(args->positional[0], diag);
  diag.print(std::cerr, kTool);
  if (!spec) return kInputError;
  std::ostringstream text;
  g4c::describe_model(*spec, text);
  return write_output(text.str(), args->value("o")) ? 0 : kInputError;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(std::cerr);
    return kUsageError;
  }
  std::string_view command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    print_usage(std::cout);
    return 0;
  }
  if (command == "--version") {
    std::cout << "g4c 0.1.0\n";
    return 0;
  }
  if (command == "check") return run_check(argc, argv);
  if (command == "compile") return run_compile(argc, argv);
  static const std::vector<std::string> commands = {"check", "compile"};
  return usage_error("unknown command " + g4c::quote(command) + g4c::did_you_mean(command, commands));
}
