// What the verifier's rule files share (verifier.cpp: types, caches, routes, buffers, kernels;
// verify_fusions.cpp: the fusion passes' attributes): an op's name in messages, and reporting the
// first failure. Private to compiler/plan.
#pragma once

#include <string>
#include <vector>

#include "g4c/plan/plan.h"
#include "g4c/support/diagnostics.h"

namespace g4c::plan::verify {

// "%l5.q", or the kind and what it writes or reads for an op without a result.
std::string op_id(const Op& op);

// Reports a rule's failure (at the op's line, else the plan header's) and returns false, so a rule
// reads `return fail(op, "...")`.
class Reporter {
 public:
  Reporter(const Plan& plan, DiagnosticEngine& diag) : plan_(plan), diag_(diag) {}
  bool fail(const SourceLoc& loc, std::string message);
  bool fail(const Op& op, const std::string& message);

 private:
  const Plan& plan_;
  DiagnosticEngine& diag_;
};

// quantize-once, quantize-in-producer, group-matmuls, norm-chains and attention-inputs: the attributes they leave
// (activations_from, quantize, launched_with) say what the runtime may skip; each must hold.
bool check_fusion_attributes(const Plan& plan, const std::vector<const Op*>& ops, Reporter& report);

}  // namespace g4c::plan::verify
