#!/usr/bin/env python3
"""Every CUDA kernel (__global__ function) in kernels/*.cuh must call wait_for_prior_grids() as its
first statement: the runtime launches kernels with programmatic dependent launch on sm_90+
(kernels/launch_order.cuh), and a kernel that touched memory before that wait would race the
kernel before it. The one exception is a kernel that opens with a call to a helper of
PREFETCHING_HELPERS, which reads only what is written at load (the mma16 kernels' weights) before
it waits itself: its definition in the files checked must contain the wait. Prints one line per
kernel that does neither, then a summary; exit 1 if any."""
import argparse
import pathlib
import re
import sys


PREFETCHING_HELPERS = ["mma16_launch_block"]


def helper_waits(name, texts):
    """Whether some file defines the helper `name` with a body that calls the wait."""
    for text in texts:
        for match in re.finditer(r"\b" + name + r"\s*\([^;{]*\)\s*\{", text):
            body = text[match.end():]
            end = re.search(r"\n}", body)
            if "wait_for_prior_grids();" in body[:end.start() if end else len(body)]:
                return True
    return False


def kernels_without_wait(text, texts):
    """(line, name) of each __global__ function whose body does not open with the wait (or with a
    prefetching helper that waits)."""
    for match in re.finditer(r"__global__\b", text):
        brace = text.find("{", match.end())
        header = text[match.end():brace]
        name = re.findall(r"(\w+)\s*\(", header)
        body = text[brace + 1:].lstrip()
        if body.startswith("wait_for_prior_grids();"):
            continue
        helper = re.match(r"(\w+)\s*[<(]", body)
        if helper and helper.group(1) in PREFETCHING_HELPERS and helper_waits(helper.group(1), texts):
            continue
        yield text.count("\n", 0, match.start()) + 1, name[-1] if name else "?"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=pathlib.Path)
    args = parser.parse_args()
    kernels = bad = 0
    texts = [path.read_text() for path in args.files]
    for path, text in zip(args.files, texts):
        kernels += len(re.findall(r"__global__\b", text))
        for line, name in kernels_without_wait(text, texts):
            bad += 1
            print(f"{path.name}:{line}: error: kernel {name} does not start with wait_for_prior_grids()")
    print(f"{kernels} kernels, {bad} without the wait")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
