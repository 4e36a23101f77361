// Gemma 4's chat turns: plain-text messages rendered exactly as the chat template Gemma 4's GGUF
// files carry renders them (tokenizer.chat_template, a Jinja template; checked against the
// template itself by lit-tests/runtime/text/chat-template.test):
//
//   <bos><|turn>system\n{system}<turn|>\n<|turn>user\n{user}<turn|>\n<|turn>model\n<|channel>thought\n<channel|>
//
// A first message with role system (or developer) becomes the system turn; every message's text is
// stripped of surrounding whitespace (Python's notion of it); an assistant message is a `model`
// turn whose thinking (`<|channel>...<channel|>`) is dropped; the generation prompt opens a model
// turn and, unless thinking is on, closes its thought channel empty. With thinking on, a system
// turn always starts with `<|think|>`.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "g4c/runtime/tokenizer/tokenizer.h"

namespace g4c::tokenizer {

struct ChatMessage {
  std::string role;  // system, developer, user, assistant (or model), ...
  std::string content;
};

struct ChatOptions {
  bool add_generation_prompt = true;
  bool enable_thinking = false;
};

// The conversation as Gemma 4's template renders it, starting with `bos_text` (the BOS token's
// text: the rendering is meant to be encoded with special tokens parsed and no BOS added).
std::string render_gemma4_chat(std::span<const ChatMessage> messages, std::string_view bos_text,
                               const ChatOptions& options = {});

// Why `tokenizer` cannot encode Gemma 4's turns (it lacks <bos>, <|turn> or <turn|> as control
// tokens), or empty.
std::string gemma4_chat_unsupported(const Tokenizer& tokenizer);

}  // namespace g4c::tokenizer
