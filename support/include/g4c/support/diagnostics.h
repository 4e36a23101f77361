// Diagnostics in the form every LLVM user knows: `file:line:col: error: message`.
//
// Messages about a declaration key follow one shape so users can grep and tests can match:
//   <key path>: <what is wrong> (got X, expected Y)
#pragma once

#include <cstddef>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace g4c {

struct SourceLoc {
  std::shared_ptr<const std::string> file;  // shared: every node of one file points at one string
  int line = 0;                             // 1-based; 0 means "no position within the file"
  int col = 0;

  bool has_file() const { return file != nullptr && !file->empty(); }  // "" names no file
  // `file:line:col`, `file` when there is no position, empty when there is no file.
  std::string str() const;
};

enum class Severity { error, warning, note };

struct Diagnostic {
  Severity severity = Severity::error;
  SourceLoc loc;
  std::string message;
};

// `<key path>: <what> (got X, expected Y)`; the parenthesis is left out when got and expected are
// both empty, and either half is left out when it is empty.
std::string keyed_message(std::string_view key_path, std::string_view what,
                          std::string_view got = {}, std::string_view expected = {});

// Collects diagnostics in emission order; tools print them all at the end so that output order
// never depends on anything but the input. A hostile input cannot flood it: past kMaxDiagnostics
// only the count grows, and a message longer than kMaxMessageBytes keeps its start and end.
class DiagnosticEngine {
 public:
  static constexpr size_t kMaxDiagnostics = 1000;
  static constexpr size_t kMaxMessageBytes = 65536;  // NVRTC logs included
  void report(Severity severity, SourceLoc loc, std::string message);
  void error(SourceLoc loc, std::string message) { report(Severity::error, std::move(loc), std::move(message)); }
  void warning(SourceLoc loc, std::string message) { report(Severity::warning, std::move(loc), std::move(message)); }
  void note(SourceLoc loc, std::string message) { report(Severity::note, std::move(loc), std::move(message)); }

  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  int error_count() const { return errors_; }
  bool has_errors() const { return errors_ > 0; }

  // Prints every diagnostic; `tool` prefixes those that have no file (`g4c: error: …`).
  void print(std::ostream& os, std::string_view tool) const;

 private:
  std::vector<Diagnostic> diagnostics_;
  int errors_ = 0;
  size_t dropped_ = 0;
};

std::string format_diagnostic(const Diagnostic& d, std::string_view tool);

// The message with its middle left out when it is longer than DiagnosticEngine::kMaxMessageBytes
// (for messages printed without the engine, such as usage errors).
std::string clipped_message(std::string message);

}  // namespace g4c
