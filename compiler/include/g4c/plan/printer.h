// Prints a plan in its text form (docs/plan-format.md): deterministic, one op per line, sections
// in fixed order, attributes in schema order, no `{{` or `[[`.
#pragma once

#include <iosfwd>
#include <span>
#include <string>

#include "g4c/plan/plan.h"

namespace g4c::plan {

struct PrintOptions {
  bool weights = true;
  bool caches = true;
  bool buffers = true;
  bool ops = true;
  bool kernels = true;
};

void print_plan(const Plan& plan, std::ostream& os, const PrintOptions& options = {});

// Pieces of the text form, shared with diagnostics and kernel-instance keys.
std::string format_type(const ValueType& type);
// Route lists group consecutive plan widths with the same route and source: `1..4: mmq (rule mmq-quant)`.
std::string format_attr_value(const AttrValue& value, std::span<const int64_t> widths);
std::string format_attrs(const std::vector<Attr>& attrs, std::span<const int64_t> widths);
std::string format_op(const Op& op, std::span<const int64_t> widths);

}  // namespace g4c::plan
