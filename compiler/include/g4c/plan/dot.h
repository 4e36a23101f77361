// The step's data flow as a Graphviz graph (`g4c compile --emit=dot`): one node per op, coloured
// by kind and, for matmuls, by route (striped when the route changes with the width); one edge
// per value an op reads, labelled with the value and the storage it lives in, dashed through an
// alias or a slice (views of another value's bytes), red where the reader overwrites it in place;
// KV caches as cylinders between kv_write and attention. Blocks are clusters.
#pragma once

#include <optional>
#include <ostream>
#include <string_view>

#include "g4c/plan/plan.h"

namespace g4c::plan {

// The colours every picture of a plan uses (this graph, `g4run profile --html`): by matmul route
// and by op kind, as "#rrggbb".
std::string_view route_color(Route r);
std::string_view kind_color(OpKind k);

// The whole step, or with `layer` only that layer's ops: the values and caches they read from
// outside it appear as plain nodes. `layer` must be one of the plan's layers.
void print_dot(const Plan& plan, std::ostream& os, std::optional<int> layer = std::nullopt);

}  // namespace g4c::plan
