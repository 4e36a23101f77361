// g4c_render_chat: prints a conversation rendered in Gemma 4's chat turns, for the test that
// compares the rendering with the GGUF's own chat template run by jinja2
// (check_chat_template.py). Not installed; a test driver.
//
//   g4c_render_chat [--bos TEXT] [--think] [--no-generation-prompt] ROLE CONTENT [ROLE CONTENT]...
#include <iostream>
#include <string_view>
#include <vector>

#include "g4c/runtime/tokenizer/chat.h"

int main(int argc, char** argv) {
  std::string bos = "<bos>";
  g4c::tokenizer::ChatOptions options;
  std::vector<g4c::tokenizer::ChatMessage> messages;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--bos" && i + 1 < argc) {
      bos = argv[++i];
    } else if (arg == "--think") {
      options.enable_thinking = true;
    } else if (arg == "--no-generation-prompt") {
      options.add_generation_prompt = false;
    } else if (i + 1 < argc) {
      messages.push_back({std::string(arg), argv[++i]});
    } else {
      std::cerr << "usage: g4c_render_chat [--bos TEXT] [--think] [--no-generation-prompt] ROLE CONTENT...\n";
      return 2;
    }
  }
  std::cout << g4c::tokenizer::render_gemma4_chat(messages, bos, options);
  return 0;
}
