#!/usr/bin/env python3
"""The oracles against known bugs: runs a test binary once per injected bug
(kernels/include/g4c/kernels/injected_bugs.h, chosen by G4C_TEST_INJECT_BUG) and once without, and
checks every oracle fails exactly on the bugs that reach what it compares.

An oracle is a group of GoogleTest tests (a filter). A bug is *covered* by an oracle when it
changes one side of the comparison and not the other (a bug in code both sides run, or in code the
oracle's inputs never reach, is not). The table printed (and written as Markdown with --markdown)
gives, per oracle and bug, 'caught' or 'passes', with the largest measure of the oracle's tests as
a multiple of its bound (the bound_ratio property the tests record): the clean run shows the
margin the bound leaves, the bug runs how far past it each bug lands.

Exit status: 0 when every covered bug is caught, no uncovered one is, and the clean run passes;
1 otherwise; 77 when every test skipped (the GPU suite without a device).
"""
import argparse
import fnmatch
import json
import math
import os
import subprocess
import sys

BUGS = ["skip_v_norm", "drop_weight_block", "drop_weight_block_mmq", "window_plus_one", "ring_size_as_window",
        "swap_rope_pairs", "swap_rope_pairs_fused", "ticket_left_set"]
# Bugs in code only the GPU runs: the CPU table leaves them out (no mmq route, no last-block kernels).
GPU_ONLY_BUGS = {"drop_weight_block_mmq", "ticket_left_set"}

# suite -> [(oracle, gtest filter, bound, bugs it covers[, "expensive"])]. An expensive oracle (a
# full-size model) runs only on the clean code and the bugs it covers; its other cells read "not
# run", since both of its sides run the bug there.
ORACLES = {
    "cpu": [
        ("interpreter vs float64 reference", "SyntheticModels/InterpreterVsReference.*", "1e-4 of max abs logit",
         {"skip_v_norm", "drop_weight_block", "window_plus_one", "ring_size_as_window", "swap_rope_pairs",
          "swap_rope_pairs_fused"}),
        # The golden models store F16 matrices (no quantized dot product) and have rings of exactly
        # `window` slots (no ring larger than its window).
        ("interpreter vs transformers goldens", "Transformers/GoldenLogits.*", "1e-3 absolute, argmax",
         {"skip_v_norm", "window_plus_one", "swap_rope_pairs", "swap_rope_pairs_fused"}),
        ("F16 caches vs float64 reference", "Interpreter.HalfPrecisionCachesMatchTheReference",
         "5e-3 of max abs logit, argmax",
         {"skip_v_norm", "window_plus_one", "swap_rope_pairs", "swap_rope_pairs_fused"}),
        # Both plans run the same ops but the fused norm + RoPE.
        ("fused vs unfused plans", "SyntheticModels/FusedPlan.*", "bit-exact", {"swap_rope_pairs_fused"}),
        # Chunks write several positions of a ring before reading it: reading more keys than the
        # window then meets slots a later position of the same chunk overwrote.
        ("chunked prefill vs token by token", "Generate.ChunkedPrefillEqualsTokenByToken", "bit-exact",
         {"window_plus_one", "ring_size_as_window"}),
        # Row independence: no injected bug couples rows.
        ("batched vs single sequences", "Interpreter.BatchedEqualsSingleSequenceRunsExactly:"
         "Interpreter.PaddingRowsChangeNothing:Generate.ContinuousBatchingGivesEachSequenceWhatItGetsAlone",
         "bit-exact", set()),
    ],
    "gpu": [
        ("rms_norm kernel vs CPU op", "OpsTest.RmsNormMatchesCpuInPlaceAndOut", "1e-5 relative", {"skip_v_norm"}),
        # The fused kernel against the CPU's norm, then rope.
        ("rope kernels vs CPU ops", "OpsTest.RopeMatchesTheDoubleAngleCpuOp:OpsTest.RmsNormRopeMatchesTheCpuNormThenRope",
         "exact; 1e-5 relative", {"swap_rope_pairs", "swap_rope_pairs_fused"}),
        # Each shape also runs the one-launch form twice on the same counters, which must be left zeroed.
        ("attention kernels vs float64", "AttentionTest.RingsWiderThanTheirWindow:AttentionTest.TinyFixtureShapes:"
         "AttentionTest.Gemma12bSlidingGqaRingAroundTheWrap", "1e-4 relative",
         {"window_plus_one", "ring_size_as_window", "ticket_left_set"}),
        # V-only caches: the kernel rebuilds keys with the RoPE pairs the bug swaps, over a ring; the
        # CPU op it is held to runs on the host, where no bug is compiled in.
        ("V-only attention vs float64", "AttentionTest.VOnlyRingsAndPairCounts", "1e-4 relative",
         {"window_plus_one", "ring_size_as_window", "swap_rope_pairs", "ticket_left_set"}),
        # One-hot activations read every weight of every route back: a dropped one reads as 0.
        ("matmul routes vs CPU op", "MatmulTest.OneHotActivationsReadBackEveryWeight", "exact / fp16 / q8_1 of max abs W",
         {"drop_weight_block", "drop_weight_block_mmq"}),
        # The bug in every route drops the same weights everywhere.
        ("matmul routes vs each other", "MatmulTest.RoutesAgreeWithEachOther", "1e-2 of max abs ref; 6% of RMS with mmq",
         {"drop_weight_block_mmq"}),
        ("executor vs interpreter", "SyntheticModels/ExecutorVsInterpreter.LogitsAgreeAtEveryPosition/pairing_12b_tiny_default:"
         "SyntheticModels/ExecutorVsInterpreter.LogitsAgreeAtEveryPosition/quant_q4_k_default_mmq:"
         "SyntheticModels/ExecutorVsInterpreter.LogitsAgreeAtEveryPosition/quant_q4_0_default_layers_mma16:"
         "ExecutorTest.SyntheticVsInterpreterWithLargerRings",
         "per route: 1e-4 / 1e-2 / 0.25 of max abs logit",
         {"skip_v_norm", "drop_weight_block", "drop_weight_block_mmq", "window_plus_one", "ring_size_as_window",
          "swap_rope_pairs", "swap_rope_pairs_fused"}),
        ("fused vs unfused plans", "SyntheticModels/FusedVsUnfused.LogitsAgreeAtEveryPosition/pairing_12b_tiny",
         "1e-4 of max abs logit", {"swap_rope_pairs_fused"}),
        # The opt-in last-block fusions against the plan without each, over 30 steps of one
        # executor: a counter left set keeps every later launch from computing its GEGLU or merge.
        ("last-block fusions vs their own launches", "ExecutorTest.GegluEpilogueMatchesItsOwnLaunch:"
         "ExecutorTest.AttentionCombinedInOneLaunchMatchesTwo", "bit-exact", {"ticket_left_set"}),
        # Both sides run every op but the matmul routes: only a route's own bug is visible.
        ("12B batched (mmq) vs single (ws)", "ExecutorTest.Gemma12bBatchedMatchesSingleOnMmq",
         "0.25 of max abs logit, ranking", {"drop_weight_block_mmq"}, "expensive"),
        ("12B past the ring, two ring layouts", "ExecutorTest.Gemma12bPastTheRingAgreesAcrossRingLayouts",
         "bit-exact", {"window_plus_one", "ring_size_as_window"}, "expensive"),
    ],
}


def matches(name, gtest_filter):
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in gtest_filter.split(":"))


def run(binary, bug, gtest_filter, out_path, timeout):
    env = dict(os.environ)
    env["G4C_TEST_INJECT_BUG"] = "" if bug == "none" else bug
    if os.path.exists(out_path):
        os.remove(out_path)
    cmd = [binary, "--gtest_filter=" + gtest_filter, "--gtest_output=json:" + out_path, "--gtest_brief=1"]
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    if not os.path.exists(out_path):
        # A crash is a failure of every test it took down; the oracles still name which ran.
        return None, proc.stdout
    with open(out_path) as f:
        return json.load(f), proc.stdout


def outcomes(report):
    """name -> (status, bound ratio or None), status one of passed / failed / skipped."""
    result = {}
    for suite in report.get("testsuites", []):
        for test in suite.get("testsuite", []):
            name = suite["name"] + "." + test["name"]
            if test.get("result") == "SKIPPED" or test.get("status") == "NOTRUN":
                status = "skipped"
            else:
                status = "failed" if test.get("failures") else "passed"
            ratio = test.get("bound_ratio")
            result[name] = (status, float(ratio) if ratio is not None else None)
    return result


def cell(tests):
    """(status, ratio) of an oracle over its tests' outcomes."""
    ran = [t for t in tests if t[0] != "skipped"]
    if not tests:
        return "missing", None
    if not ran:
        return "skipped", None
    ratios = [r for _, r in ran if r is not None]
    status = "caught" if any(s == "failed" for s, _ in ran) else "passes"
    return status, (max(ratios) if ratios else None)


def fmt_ratio(r):
    if r is None:
        return ""
    if math.isinf(r):
        return " (inf)"
    return " (%.3g×)" % r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", choices=sorted(ORACLES), required=True)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--bugs", default=",".join(BUGS),
                    help="comma-separated subset of the bugs (the CPU suite leaves out GPU_ONLY_BUGS)")
    ap.add_argument("--markdown", help="also write the table here")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per run")
    ap.add_argument("--clean-report", help="a --gtest_output=json report of the clean code covering every oracle's "
                    "tests, used instead of running them again")
    ap.add_argument("--reports", help="a directory of earlier runs' reports (none.json for the clean code, <bug>.json), "
                    "each used instead of running that bug again: one table from runs split over several device calls")
    args = ap.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    oracles = ORACLES[args.suite]
    bugs = [b for b in args.bugs.split(",") if b and (args.suite == "gpu" or b not in GPU_ONLY_BUGS)]
    unknown = [b for b in bugs if b not in BUGS]
    if unknown:
        sys.exit("mutation_table.py: unknown bugs: " + ", ".join(unknown))

    table = {}  # (oracle, bug) -> (status, ratio)
    all_skipped = True
    for bug in ["none"] + bugs:
        relevant = [o for o in oracles if bug == "none" or len(o) < 5 or bug in o[3]]
        gtest_filter = ":".join(o[1] for o in relevant)
        earlier = os.path.join(args.reports, bug + ".json") if args.reports else None
        if bug == "none" and args.clean_report:
            earlier = args.clean_report
        if earlier and os.path.exists(earlier):
            with open(earlier) as f:
                report, output = json.load(f), ""
        else:
            report, output = run(args.binary, bug, gtest_filter, os.path.join(args.work_dir, bug + ".json"),
                                 args.timeout)
        if report is None:
            print(output[-4000:])
            print("mutation_table.py: the %s run left no report (crashed?)" % bug)
            for o in relevant:
                table[(o[0], bug)] = ("caught" if bug != "none" else "crashed", math.inf)
            all_skipped = False
            continue
        tests = outcomes(report)
        if bug == "none" and tests and all(status == "skipped" for status, _ in tests.values()):
            print("mutation_table.py: every test skipped (no device?)")
            return 77
        for o in relevant:
            status, ratio = cell([v for k, v in tests.items() if matches(k, o[1])])
            table[(o[0], bug)] = (status, ratio)
            all_skipped &= status == "skipped"
        print("ran %s: %d tests" % (bug, len(tests)), flush=True)

    if all_skipped:
        print("mutation_table.py: every test skipped (no device?)")
        return 77

    problems = []
    header = ["oracle", "bound", "clean"] + bugs + ["smallest caught"]
    rows = []
    for name, _, bound, covered, *_ in oracles:
        clean_status, clean_ratio = table[(name, "none")]
        if clean_status != "passes":
            problems.append("%s: %s without any bug" % (name, clean_status))
        row = [name, bound, ("passes" if clean_status == "passes" else clean_status.upper()) + fmt_ratio(clean_ratio)]
        for bug in bugs:
            if (name, bug) not in table:
                row.append("not run — not covered")
                continue
            status, ratio = table[(name, bug)]
            expected = "caught" if bug in covered else "passes"
            if status in ("skipped", "missing"):
                problems.append("%s, %s: %s" % (name, bug, status))
                text = status.upper()
            elif status != expected:
                problems.append("%s, %s: %s, expected %s" % (name, bug, status, expected))
                text = ("MISSED" if expected == "caught" else "UNEXPECTEDLY CAUGHT") + fmt_ratio(ratio)
            else:
                text = status + fmt_ratio(ratio) + ("" if bug in covered else " — not covered")
            row.append(text)
        caught = [table[(name, b)][1] for b in bugs
                  if (name, b) in table and table[(name, b)][0] == "caught" and table[(name, b)][1] is not None]
        row.append(fmt_ratio(min(caught)).strip(" ()") if caught else "")
        rows.append(row)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    markdown = "\n".join(lines) + "\n"
    print(markdown)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown)
    for p in problems:
        print("mutation_table.py: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
