#!/usr/bin/env python3
"""Every CUDA kernel (__global__ function) in kernels/*.cuh must call wait_for_prior_grids() as its
first statement: the runtime launches kernels with programmatic dependent launch on sm_90+
(kernels/launch_order.cuh), and a kernel that touched memory before that wait would race the
kernel before it. Prints one line per kernel that does not, then a summary; exit 1 if any."""
import argparse
import pathlib
import re
import sys


def kernels_without_wait(text):
    """(line, name) of each __global__ function whose body does not open with the wait."""
    for match in re.finditer(r"__global__\b", text):
        brace = text.find("{", match.end())
        header = text[match.end():brace]
        name = re.findall(r"(\w+)\s*\(", header)
        body = text[brace + 1:].lstrip()
        if not body.startswith("wait_for_prior_grids();"):
            yield text.count("\n", 0, match.start()) + 1, name[-1] if name else "?"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=pathlib.Path)
    args = parser.parse_args()
    kernels = bad = 0
    for path in args.files:
        text = path.read_text()
        kernels += len(re.findall(r"__global__\b", text))
        for line, name in kernels_without_wait(text):
            bad += 1
            print(f"{path.name}:{line}: error: kernel {name} does not start with wait_for_prior_grids()")
    print(f"{kernels} kernels, {bad} without the wait")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
