// g4run profile --html's page (runtime/gpu/profile_page.h), made from fixed timings: well-formed,
// one timeline bar per op and one bandwidth bar per op that reads bytes, coloured as the plan's
// pictures colour them, op names escaped, and the text table's numbers inside.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "g4c/plan/dot.h"
#include "g4c/runtime/gpu/bench.h"
#include "g4c/runtime/gpu/profile_page.h"

namespace g4c {
namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Every element closed in order (a stack of tag names), nothing left open, no stray '&' or '<'.
bool well_formed(const std::string& xml, std::string& why) {
  std::vector<std::string> open;
  for (size_t i = 0; i < xml.size(); ++i) {
    if (xml[i] == '&') {
      const size_t end = xml.find(';', i);
      const std::string entity = xml.substr(i, end == std::string::npos ? 1 : end - i + 1);
      if (entity != "&amp;" && entity != "&lt;" && entity != "&gt;" && entity != "&quot;") return why = "entity " + entity, false;
      continue;
    }
    if (xml[i] != '<') continue;
    const size_t end = xml.find('>', i);
    if (end == std::string::npos) return why = "unterminated tag", false;
    const std::string tag = xml.substr(i + 1, end - i - 1);
    i = end;
    if (tag.starts_with("?") || tag.starts_with("!")) continue;
    if (tag.ends_with("/")) continue;
    const std::string name = tag.substr(tag.starts_with("/") ? 1 : 0, tag.find_first_of(" /", 1) - (tag.starts_with("/") ? 1 : 0));
    if (!tag.starts_with("/")) {
      open.push_back(name);
    } else if (open.empty() || open.back() != name) {
      return why = "</" + name + "> closes <" + (open.empty() ? "" : open.back()) + ">", false;
    } else {
      open.pop_back();
    }
  }
  if (!open.empty()) return why = "<" + open.back() + "> left open", false;
  return true;
}

std::vector<gpu::OpTiming> timings() {
  return {{"%embed", "embed_gather", "", 0.004, 7680},
          {"%l0.q", "matmul", "mma16", 0.0079, 8847360},
          {"%l0.attn", "attention", "", 0.012, 2 << 20},
          {"%l0.x<&>", "rms_norm", "", 0.002, 0}};
}

TEST(ProfilePage, IsWellFormedWithABarPerOpAndTheTable) {
  const std::string html = gpu::format_profile_html({"12B on a <test> card", timings(), 3015});
  std::string why;
  EXPECT_TRUE(well_formed(html, why)) << why;
  EXPECT_EQ(count(html, "<svg "), 2u);
  EXPECT_EQ(count(html, "<rect "), 4u + 3u);  // a timeline bar each; a bandwidth bar for the 3 readers
  EXPECT_NE(html.find("12B on a &lt;test&gt; card"), std::string::npos);
  EXPECT_NE(html.find("%l0.x&lt;&amp;&gt;"), std::string::npos);
  EXPECT_EQ(html.find("%l0.x<&>"), std::string::npos);
  EXPECT_NE(html.find(std::string(plan::route_color(plan::Route::mma16))), std::string::npos);
  EXPECT_NE(html.find(std::string(plan::kind_color(plan::OpKind::attention))), std::string::npos);
  EXPECT_NE(html.find("copy 3015 GB/s"), std::string::npos);
  // The text table, escaped, is the one g4run profile prints.
  std::string table = gpu::format_profile(timings());
  for (size_t at = table.find("<&>"); at != std::string::npos; at = table.find("<&>")) table.replace(at, 3, "&lt;&amp;&gt;");
  EXPECT_NE(html.find(table), std::string::npos);
  // %l0.q: 8847360 bytes in 0.0079 ms.
  EXPECT_NE(html.find("1119.9 GB/s"), std::string::npos);
}

TEST(ProfilePage, DrawsTheCapturedStepsKindsWhenMeasured) {
  gpu::ProfilePage page{"parts", timings(), 3015};
  EXPECT_EQ(gpu::format_profile_html(page).find("In the captured step"), std::string::npos);
  page.parts = {{"input", 3, 0.0064}, {"matmul", 261, 3.5058}, {"attention", 96, 0.6347}};
  page.step_ms = 5.4457;
  const std::string html = gpu::format_profile_html(page);
  std::string why;
  EXPECT_TRUE(well_formed(html, why)) << why;
  EXPECT_EQ(count(html, "<svg "), 3u);
  EXPECT_EQ(count(html, "<rect "), 4u + 3u + 3u);  // and a bar per kind
  EXPECT_NE(html.find("matmul: 261 launches, 3.5058 ms"), std::string::npos);
  EXPECT_NE(html.find(gpu::format_step_parts(page.parts, page.step_ms)), std::string::npos);
}

TEST(ProfilePage, LeavesTheCopyLineOutWithoutAMeasurement) {
  const std::string html = gpu::format_profile_html({"no copy", timings(), 0});
  EXPECT_EQ(html.find("copy "), std::string::npos);
  EXPECT_EQ(count(html, "<line "), 0u);
}

}  // namespace
}  // namespace g4c
