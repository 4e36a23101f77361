#include "g4c/runtime/gpu/profile_page.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "g4c/plan/dot.h"
#include "g4c/runtime/gpu/bench.h"

namespace g4c::gpu {

namespace {

constexpr double kChartWidth = 1000, kTimelineHeight = 36, kBarHeight = 14, kLabelWidth = 170;

std::string escaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string number(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

// The colour the plan's pictures give the op: its route's for a matmul, its kind's otherwise.
std::string_view color_of(const OpTiming& t) {
  if (auto route = plan::parse_route(t.route)) return plan::route_color(*route);
  if (auto kind = plan::parse_op_kind(t.kind)) return plan::kind_color(*kind);
  return "#ffffff";
}

double gbps_of(const OpTiming& t) { return t.bytes_read > 0 && t.ms > 0 ? t.bytes_read / (t.ms * 1e6) : 0; }

std::string tooltip(const OpTiming& t) {
  std::string text = t.op + " " + t.kind + (t.route.empty() ? "" : " (" + t.route + ")") + ": " + number("%.4f", t.ms) + " ms";
  if (double gbps = gbps_of(t); gbps > 0) text += ", " + number("%.1f", gbps) + " GB/s";
  return "<title>" + escaped(text) + "</title>";
}

// One bar per op, end to end over the summed time.
std::string timeline(const std::vector<OpTiming>& timings, double total_ms) {
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + number("%.0f", kChartWidth) + "\" height=\"" +
                    number("%.0f", kTimelineHeight) + "\">\n";
  double x = 0;
  for (const OpTiming& t : timings) {
    const double w = total_ms > 0 ? kChartWidth * t.ms / total_ms : 0;
    svg += "<rect x=\"" + number("%.3f", x) + "\" y=\"4\" width=\"" + number("%.3f", w) + "\" height=\"" +
           number("%.0f", kTimelineHeight - 8) + "\" fill=\"" + std::string(color_of(t)) + "\" stroke=\"#555\" stroke-width=\"0.2\">" +
           tooltip(t) + "</rect>\n";
    x += w;
  }
  return svg + "</svg>\n";
}

// One bar per op that reads bytes, its GB/s on a scale up to the copy bandwidth (or the fastest op).
std::string bandwidth_chart(const std::vector<OpTiming>& timings, double copy_gbps) {
  std::vector<const OpTiming*> readers;
  double top = copy_gbps;
  for (const OpTiming& t : timings)
    if (gbps_of(t) > 0) readers.push_back(&t), top = std::max(top, gbps_of(t));
  const double height = kBarHeight * static_cast<double>(readers.size()) + 24;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + number("%.0f", kChartWidth + kLabelWidth) +
                    "\" height=\"" + number("%.0f", height) + "\" font-family=\"monospace\" font-size=\"10\">\n";
  for (size_t i = 0; i < readers.size(); ++i) {
    const OpTiming& t = *readers[i];
    const double y = kBarHeight * static_cast<double>(i), w = top > 0 ? kChartWidth * gbps_of(t) / top : 0;
    svg += "<text x=\"0\" y=\"" + number("%.1f", y + kBarHeight - 3) + "\">" + escaped(t.op) + "</text>\n";
    svg += "<rect x=\"" + number("%.0f", kLabelWidth) + "\" y=\"" + number("%.1f", y + 1) + "\" width=\"" +
           number("%.3f", w) + "\" height=\"" + number("%.0f", kBarHeight - 2) + "\" fill=\"" +
           std::string(color_of(t)) + "\">" + tooltip(t) + "</rect>\n";
  }
  if (copy_gbps > 0) {
    const double x = kLabelWidth + kChartWidth * copy_gbps / top;
    svg += "<line x1=\"" + number("%.3f", x) + "\" y1=\"0\" x2=\"" + number("%.3f", x) + "\" y2=\"" +
           number("%.1f", height - 20) + "\" stroke=\"#000\" stroke-dasharray=\"4 2\"/>\n";
    svg += "<text x=\"" + number("%.3f", x) + "\" y=\"" + number("%.1f", height - 6) + "\" text-anchor=\"end\">copy " +
           number("%.0f", copy_gbps) + " GB/s</text>\n";
  }
  return svg + "</svg>\n";
}

// One bar per op kind: its launches replayed alone as a graph, on the whole step's scale.
std::string parts_chart(const std::vector<StepPart>& parts, double step_ms) {
  double top = step_ms;
  for (const StepPart& p : parts) top = std::max(top, p.ms);
  const double height = kBarHeight * static_cast<double>(parts.size());
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + number("%.0f", kChartWidth + kLabelWidth) +
                    "\" height=\"" + number("%.0f", height) + "\" font-family=\"monospace\" font-size=\"10\">\n";
  for (size_t i = 0; i < parts.size(); ++i) {
    const StepPart& p = parts[i];
    const auto kind = plan::parse_op_kind(p.kind);
    const double y = kBarHeight * static_cast<double>(i), w = top > 0 ? kChartWidth * p.ms / top : 0;
    const std::string text = p.kind + ": " + std::to_string(p.launches) + " launches, " + number("%.4f", p.ms) + " ms";
    svg += "<text x=\"0\" y=\"" + number("%.1f", y + kBarHeight - 3) + "\">" + escaped(p.kind) + "</text>\n";
    svg += "<rect x=\"" + number("%.0f", kLabelWidth) + "\" y=\"" + number("%.1f", y + 1) + "\" width=\"" +
           number("%.3f", w) + "\" height=\"" + number("%.0f", kBarHeight - 2) + "\" fill=\"" +
           std::string(kind ? plan::kind_color(*kind) : "#ffffff") + "\"><title>" + escaped(text) + "</title></rect>\n";
  }
  return svg + "</svg>\n";
}

}  // namespace

std::string format_profile_html(const ProfilePage& page) {
  double total = 0;
  for (const OpTiming& t : page.timings) total += t.ms;
  std::string html =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\">\n"
      "<head><meta charset=\"UTF-8\"/><title>" + escaped(page.title) + "</title>\n"
      "<style>body { font-family: sans-serif; margin: 1em; } pre { font-size: 11px; }</style></head>\n<body>\n"
      "<h1>" + escaped(page.title) + "</h1>\n";
  html += "<h2>Timeline: " + std::to_string(page.timings.size()) + " ops launched one by one, " + number("%.4f", total) +
          " ms</h2>\n" + timeline(page.timings, total);
  html += "<h2>Bandwidth of the ops that read weights or KV (GB/s)</h2>\n" + bandwidth_chart(page.timings, page.copy_gbps);
  html += "<h2>Table</h2>\n<pre>" + escaped(format_profile(page.timings)) + "</pre>\n";
  if (!page.parts.empty())
    html += "<h2>In the captured step: each kind's launches replayed alone as a graph, against the step's " +
            number("%.4f", page.step_ms) + " ms</h2>\n" + parts_chart(page.parts, page.step_ms) + "<pre>" +
            escaped(format_step_parts(page.parts, page.step_ms)) + "</pre>\n";
  html += "</body>\n</html>\n";
  return html;
}

}  // namespace g4c::gpu
