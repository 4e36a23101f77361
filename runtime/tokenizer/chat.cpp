#include "g4c/runtime/tokenizer/chat.h"

#include "g4c/runtime/tokenizer/utf8.h"

namespace g4c::tokenizer {

namespace {

// The template's strip_thinking: of each part before a `<channel|>`, only what precedes its
// `<|channel>` is kept; the rest is kept whole; the result is stripped.
std::string strip_thinking(std::string_view text) {
  constexpr std::string_view open = "<|channel>", close = "<channel|>";
  std::string kept;
  for (size_t at = 0;;) {
    const size_t end = text.find(close, at);
    const std::string_view part = text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
    kept += part.substr(0, part.find(open));
    if (end == std::string_view::npos) break;
    at = end + close.size();
  }
  return std::string(strip_python_whitespace(kept));
}

bool is_system(const ChatMessage& m) { return m.role == "system" || m.role == "developer"; }

}  // namespace

std::string render_gemma4_chat(std::span<const ChatMessage> messages, std::string_view bos_text,
                               const ChatOptions& options) {
  std::string out(bos_text);
  const bool system_first = !messages.empty() && is_system(messages.front());
  if (options.enable_thinking || system_first) {
    out += "<|turn>system\n";
    if (options.enable_thinking) out += "<|think|>";
    if (system_first) out += strip_python_whitespace(messages.front().content);
    out += "<turn|>\n";
  }
  for (size_t i = system_first ? 1 : 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    const bool model = m.role == "assistant" || m.role == "model";
    out += "<|turn>" + (m.role == "assistant" ? std::string("model") : m.role) + "\n";
    out += model ? strip_thinking(m.content) : std::string(strip_python_whitespace(m.content));
    out += "<turn|>\n";
  }
  if (options.add_generation_prompt) {
    out += "<|turn>model\n";
    if (!options.enable_thinking) out += "<|channel>thought\n<channel|>";
  }
  return out;
}

std::string gemma4_chat_unsupported(const Tokenizer& tokenizer) {
  for (std::string_view name : {"<|turn>", "<turn|>"}) {
    auto id = tokenizer.find(name);
    if (!id || tokenizer.type(*id) != TokenType::control)
      return "the tokenizer has no " + std::string(name) + " control token, which Gemma 4's chat turns need";
  }
  if (!tokenizer.bos()) return "the tokenizer has no BOS token (tokenizer.ggml.bos_token_id), which Gemma 4's chat turns start with";
  return {};
}

}  // namespace g4c::tokenizer
