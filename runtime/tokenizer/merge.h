// The merge loop both algorithms share (internal to the tokenizer library): a word starts as one
// symbol per UTF-8 character; the best-ranked pair of neighbours merges, then the pairs the new
// symbol forms are ranked, until no pair has a rank. Ties go to the leftmost pair. O(n log n)
// with a heap of candidate pairs; a candidate whose symbols changed since it was ranked is stale
// and skipped (a symbol only grows by absorbing its right neighbour, so comparing sizes tells).
#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <vector>

namespace g4c::tokenizer {

struct Symbol {
  uint32_t start = 0;  // byte offset in the word
  uint32_t size = 0;   // bytes; 0 once merged into its left neighbour
  int32_t id = -1;     // the symbol's id, -1 when it has none
  int32_t prev = -1, next = -1;
};

struct PairMerge {
  double priority = 0;  // lower merges first
  int32_t result = -1;  // the merged symbol's id
};

// `rank(left, right)` returns the PairMerge of two neighbours, or nothing when they never merge.
template <typename RankPair>
void merge_symbols(std::vector<Symbol>& symbols, const RankPair& rank) {
  struct Candidate {
    double priority;
    int32_t left, right;
    uint32_t left_size, right_size;
    int32_t result;
  };
  const auto later = [](const Candidate& a, const Candidate& b) {
    return a.priority > b.priority || (a.priority == b.priority && a.left > b.left);
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(later)> queue(later);
  const auto consider = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    if (std::optional<PairMerge> m = rank(symbols[left], symbols[right]))
      queue.push({m->priority, left, right, symbols[left].size, symbols[right].size, m->result});
  };
  for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) consider(i - 1, i);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& left = symbols[c.left];
    Symbol& right = symbols[c.right];
    if (left.size != c.left_size || right.size != c.right_size || right.size == 0 || left.next != c.right) continue;
    left.size += right.size;
    left.id = c.result;
    right.size = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = c.left;
    consider(left.prev, c.left);
    consider(c.left, left.next);
  }
}

}  // namespace g4c::tokenizer
