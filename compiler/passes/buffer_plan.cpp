// buffer-plan: one arena layout per sequence. Every activation is N rows of a fixed size, so a
// layout of per-sequence sizes and offsets, multiplied by the width N, is a valid arena for every
// width: buffers disjoint per sequence stay disjoint after scaling. Each storage root (values that
// alias share one) is live from its definition to the last read of any value on it; roots are
// placed largest first at the lowest aligned offset that no root live at the same time occupies
// (greedy by size, as TFLite's arena planner), so dead buffers are reused.
#include <algorithm>

#include "g4c/compiler/passes.h"
#include "g4c/plan/storage.h"

namespace g4c {

using namespace plan;

namespace {

int64_t align_up(int64_t v, int64_t a) { return (v + a - 1) / a * a; }

struct Placed {
  std::string name;
  RootStorage root;
  int64_t offset = 0;
  int64_t bytes = 0;
};

int64_t lowest_free_offset(const std::vector<Placed>& placed, const RootStorage& root, int64_t bytes,
                           int64_t alignment) {
  std::vector<std::pair<int64_t, int64_t>> taken;
  for (const Placed& p : placed)
    if (live_ranges_meet(p.root, root)) taken.push_back({p.offset, p.offset + p.bytes});
  std::sort(taken.begin(), taken.end());
  int64_t offset = 0;
  for (auto [begin, end] : taken) {
    if (offset + bytes <= begin) break;
    offset = std::max(offset, align_up(end, alignment));
  }
  return offset;
}

}  // namespace

void run_buffer_plan(Plan& plan, PassContext&) {
  StorageAnalysis s = analyze_storage(plan);
  BufferPlan out;
  std::vector<Placed> order;
  for (const std::string& name : s.root_order) {
    const RootStorage& r = s.roots.at(name);
    order.push_back({name, r, 0, align_up(r.seq_bytes, out.alignment)});
    out.unshared_seq_bytes += order.back().bytes;
  }
  // Largest first; ties in definition order, so the layout is deterministic.
  std::stable_sort(order.begin(), order.end(), [](const Placed& a, const Placed& b) { return a.bytes > b.bytes; });
  std::vector<Placed> placed;
  for (Placed p : order) {
    p.offset = lowest_free_offset(placed, p.root, p.bytes, out.alignment);
    out.seq_bytes = std::max(out.seq_bytes, p.offset + p.bytes);
    placed.push_back(p);
  }
  // Printed in definition order, which reads like the ops.
  for (const std::string& name : s.root_order)
    for (const Placed& p : placed)
      if (p.name == name) out.buffers.push_back({name, p.offset, p.bytes, {}});
  plan.buffers = std::move(out);
}

}  // namespace g4c
