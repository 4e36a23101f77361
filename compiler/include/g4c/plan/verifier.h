// Checks a complete plan against the rules that make it safe to execute (docs/plan-format.md
// §Verifier): values defined once before use, shapes that agree with weights and caches, a legal
// route for every matmul at every width, KV caches written before they are read, buffers that do
// not overlap while live, no in-place write over storage an alias still needs, and a kernel
// instance listed for every launch. Reports the first violation and returns false.
#pragma once

#include "g4c/plan/plan.h"
#include "g4c/support/diagnostics.h"

namespace g4c::plan {

bool verify_plan(const Plan& plan, DiagnosticEngine& diag);

}  // namespace g4c::plan
