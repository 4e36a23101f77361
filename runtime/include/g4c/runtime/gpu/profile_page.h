// `g4run profile --html FILE`: the per-op profile of one width as a self-contained page (no
// script, no external file): the step's ops as a timeline, launched one by one and laid end to
// end, coloured by kind and matmul route as `g4c compile --emit=dot` colours them; each op's GB/s
// (the bytes it reads, OpTiming::bytes_read) against the copy bandwidth measured in the same run;
// and the text table of format_profile — one set of numbers; then the step as it runs: each op
// kind's launches replayed alone as a graph, a bar per kind against the whole captured step, and
// format_step_parts' table. The page is well-formed XHTML, so
// any XML parser reads it.
#pragma once

#include <string>
#include <vector>

#include "g4c/runtime/gpu/executor.h"

namespace g4c::gpu {

struct ProfilePage {
  std::string title;  // "gemma4-12b on NVIDIA H200: 8 sequences (width 8) at position 128"
  std::vector<OpTiming> timings;
  double copy_gbps = 0;  // copy_bandwidth_gbps(); 0 leaves the reference line out
  // Executor::time_step_parts and the whole captured step it is measured against; empty leaves
  // the "in the captured step" section out.
  std::vector<StepPart> parts;
  double step_ms = 0;
};

std::string format_profile_html(const ProfilePage& page);

}  // namespace g4c::gpu
