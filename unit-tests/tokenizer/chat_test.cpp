// Gemma 4's turns, hand-checked against the template's text (the comparison with the template
// rendered by jinja2 is lit-tests/runtime/text/chat-template.test).
#include "g4c/runtime/tokenizer/chat.h"

#include <gtest/gtest.h>

#include "vocab_files.h"

namespace g4c::tokenizer {
namespace {

TEST(Gemma4Chat, WrapsAUserMessage) {
  const std::vector<ChatMessage> messages = {{"user", "  Hello\n"}};
  EXPECT_EQ(render_gemma4_chat(messages, "<bos>"),
            "<bos><|turn>user\nHello<turn|>\n<|turn>model\n<|channel>thought\n<channel|>");
}

TEST(Gemma4Chat, RendersTheSystemTurnAndEarlierModelTurns) {
  const std::vector<ChatMessage> messages = {
      {"system", "Be brief."}, {"user", "Hi"}, {"assistant", "<|channel>thought\nhmm<channel|>Hello!"}, {"user", "Bye"}};
  EXPECT_EQ(render_gemma4_chat(messages, "<bos>", {.add_generation_prompt = false}),
            "<bos><|turn>system\nBe brief.<turn|>\n<|turn>user\nHi<turn|>\n<|turn>model\nHello!<turn|>\n"
            "<|turn>user\nBye<turn|>\n");
}

TEST(Gemma4Chat, ThinkingOpensASystemTurn) {
  const std::vector<ChatMessage> messages = {{"user", "Hi"}};
  EXPECT_EQ(render_gemma4_chat(messages, "<bos>", {.enable_thinking = true}),
            "<bos><|turn>system\n<|think|><turn|>\n<|turn>user\nHi<turn|>\n<|turn>model\n");
}

TEST(Gemma4Chat, EncodesTurnMarkersAsTheirTokens) {
  const Tokenizer* t = testing::load_vocab("ggml-vocab-gemma-4.gguf");
  if (!t) return;
  EXPECT_EQ(gemma4_chat_unsupported(*t), "");
  const std::vector<ChatMessage> messages = {{"user", "Hello"}};
  const std::vector<int32_t> ids = t->encode(render_gemma4_chat(messages, t->text(*t->bos())), {.add_bos = false});
  ASSERT_GE(ids.size(), 4u);
  EXPECT_EQ(ids[0], *t->bos());
  EXPECT_EQ(ids[1], *t->find("<|turn>"));
  EXPECT_EQ(std::count(ids.begin(), ids.end(), *t->bos()), 1);
}

}  // namespace
}  // namespace g4c::tokenizer
