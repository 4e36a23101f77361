// Which values share storage, and when each piece of storage is live. The buffer-plan pass lays
// out buffers from this, the verifier checks a plan's layout against it, and the runtime reads
// value addresses through it.
//
// Storage is shared three ways: `alias` (the same bytes, e.g. V on k_eq_v layers), `slice` (a
// window of a layer-major value), and ops marked `in_place`, whose result overwrites operand 0.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "g4c/plan/plan.h"

namespace g4c::plan {

struct ValueStorage {
  std::string root;        // the value (or scratch buffer) that owns the bytes
  int64_t seq_offset = 0;  // bytes per sequence from the root's start
  int64_t seq_bytes = 0;
  int def = 0;             // index of the defining op (Plan::ops order)
  int last_use = -1;       // index of the last op reading it; -1 when never read
};

struct RootStorage {
  int64_t seq_bytes = 0;
  int def = 0;
  int last = 0;         // last op at which any value sharing this storage is read
  bool scratch = false; // an op's scratch, live at its op (and the matmuls reading its activations)
  bool live_out = false;
};

struct StorageAnalysis {
  std::map<std::string, ValueStorage> values;
  std::map<std::string, RootStorage> roots;
  std::vector<std::string> root_order;  // by definition
  int op_count = 0;
};

// Scratch bytes per sequence an op needs beside its result, live only while it runs: a matmul's
// route scratch (the most any of its routes needs), attention's split partials.
int64_t op_scratch_seq_bytes(const Op& op);
inline std::string scratch_name(const Op& op) { return op.result + ".scratch"; }
// The scratch a matmul's `activations_from = %producer` names: the producer's.
inline std::string activations_scratch_name(const Attr& activations_from) {
  return std::get<Ident>(activations_from.value).text.substr(1) + ".scratch";
}

// Where an attention op's split partials start in its scratch, per sequence: after the activations
// its combine kernel writes for the O projection (quantize-in-producer), which a matmul reading
// them (`activations_from`) finds at the scratch's start. Per sequence, so a width-W arena's
// partials start W times further.
int64_t attention_partials_seq_offset(const Op& attention);

// Walks the ops in order. Values used before definition are ignored here (the verifier reports
// them). Output values stay live past the last op.
StorageAnalysis analyze_storage(const Plan& plan);

inline bool live_ranges_meet(const RootStorage& a, const RootStorage& b) {
  return a.def <= b.last && b.def <= a.last;
}

}  // namespace g4c::plan
