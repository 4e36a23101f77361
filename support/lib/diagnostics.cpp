#include "g4c/support/diagnostics.h"

#include <ostream>

namespace g4c {

std::string SourceLoc::str() const {
  if (!file) return {};
  if (line <= 0) return *file;
  return *file + ":" + std::to_string(line) + ":" + std::to_string(col);
}

std::string keyed_message(std::string_view key_path, std::string_view what, std::string_view got,
                          std::string_view expected) {
  std::string msg;
  if (!key_path.empty()) {
    msg += key_path;
    msg += ": ";
  }
  msg += what;
  if (got.empty() && expected.empty()) return msg;
  msg += " (";
  if (!got.empty()) {
    msg += "got ";
    msg += got;
  }
  if (!expected.empty()) {
    if (!got.empty()) msg += ", ";
    msg += "expected ";
    msg += expected;
  }
  msg += ")";
  return msg;
}

// A message quotes what the input wrote (a key, a word, a name), which a hostile input makes
// megabytes long: the middle of a long message is left out, keeping its start and its end (where
// the expected value is said).
std::string clipped_message(std::string message) {
  constexpr size_t kMax = DiagnosticEngine::kMaxMessageBytes;
  if (message.size() <= kMax) return message;
  const size_t head = kMax * 2 / 3, tail = kMax / 4;
  return message.substr(0, head) + "[" + std::to_string(message.size() - head - tail) + " bytes not shown]" +
         message.substr(message.size() - tail);
}

void DiagnosticEngine::report(Severity severity, SourceLoc loc, std::string message) {
  if (severity == Severity::error) ++errors_;
  if (diagnostics_.size() >= DiagnosticEngine::kMaxDiagnostics) {
    ++dropped_;
    return;
  }
  diagnostics_.push_back({severity, std::move(loc), clipped_message(std::move(message))});
}

static std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::error: return "error";
    case Severity::warning: return "warning";
    case Severity::note: return "note";
  }
  return "error";
}

std::string format_diagnostic(const Diagnostic& d, std::string_view tool) {
  std::string where = d.loc.has_file() ? d.loc.str() : std::string(tool);
  std::string out = where;
  out += ": ";
  out += severity_name(d.severity);
  out += ": ";
  out += d.message;
  return out;
}

void DiagnosticEngine::print(std::ostream& os, std::string_view tool) const {
  for (const Diagnostic& d : diagnostics_) os << format_diagnostic(d, tool) << "\n";
  if (dropped_ > 0) os << tool << ": note: " << dropped_ << " more diagnostics not shown\n";
}

}  // namespace g4c
