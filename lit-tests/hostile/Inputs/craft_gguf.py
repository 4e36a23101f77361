#!/usr/bin/env python3
"""Reads a GGUF file (as g4run export-gguf writes one) and writes it back with one hostile change.

usage: craft_gguf.py IN.gguf CASE OUT.gguf      (craft_gguf.py --list prints the cases)

The hostile-input suite (lit-tests/hostile/gguf.test) runs g4run and g4c import on each: every
case must end in a clear error, or (for legal files such as alignment-1) in a normal run. The
writer is make_gguf.py's; standard library only.
"""
import math
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "spec", "gguf", "Inputs"))
import make_gguf as mg  # noqa: E402

SCALAR = {mg.U8: "<B", mg.I8: "<b", mg.U16: "<H", mg.I16: "<h", mg.U32: "<I", mg.I32: "<i", mg.F32: "<f",
          mg.BOOL: "<?", mg.U64: "<Q", mg.I64: "<q", mg.F64: "<d"}
TYPE_NAMES = {v[0]: k for k, v in mg.GGML.items()}


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.data, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = self.data[self.pos:self.pos + n].decode()
        self.pos += n
        return s

    def value(self, vtype):
        if vtype == mg.STRING:
            return self.string()
        if vtype == mg.ARRAY:
            etype, n = self.take("<I"), self.take("<Q")
            return (etype, [self.value(etype) for _ in range(n)])
        return self.take(SCALAR[vtype])


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    r = Reader(data)
    _, _, n_tensors, n_meta = r.take("<I"), r.take("<I"), r.take("<Q"), r.take("<Q")
    g = mg.Gguf()
    for _ in range(n_meta):
        key, vtype = r.string(), r.take("<I")
        g.metadata.append((key, vtype, r.value(vtype)))
    infos = []
    for _ in range(n_tensors):
        name, n_dims = r.string(), r.take("<I")
        dims = [r.take("<Q") for _ in range(n_dims)]
        infos.append((name, dims, r.take("<I"), r.take("<Q")))
    alignment = dict((k, v) for k, _, v in g.metadata).get("general.alignment", 32)
    start = r.pos + (-r.pos % alignment)
    for name, dims, type_id, offset in infos:
        size = mg.tensor_bytes(TYPE_NAMES[type_id], dims)
        g.add(name, dims, TYPE_NAMES[type_id], data[start + offset:start + offset + size])
    g.alignment = alignment
    return g


def tensor(g, name):
    return next(t for t in g.tensors if t[0] == name)


def set_f32(g, name, index, value):
    t = tensor(g, name)
    t[3] = t[3][:4 * index] + struct.pack("<f", value) + t[3][4 * index + 4:]


def set_first_block_scale_nan(g, name):
    t = tensor(g, name)  # Q8_0 and Q4_0 blocks start with an fp16 scale
    t[3] = b"\x00\x7e" + t[3][2:]


def align(g, n):
    g.alignment = n if n > 0 else 32
    g.set("general.alignment", mg.U32, n)


def overlap(g):
    data = g.to_bytes()
    placed, offset = [], 0
    for _, _, _, blob in g.tensors:
        offset += -offset % g.alignment
        placed.append(offset)
        offset += len(blob)
    return g.to_bytes(offsets={3: placed[2]})


CASES = {
    "nan-norm": lambda g: set_f32(g, "blk.0.attn_norm.weight", 3, math.nan),
    "inf-norm": lambda g: set_f32(g, "output_norm.weight", 0, math.inf),
    "nan-scale": lambda g: set_f32(g, "blk.1.layer_output_scale.weight", 0, math.nan),
    "nan-matrix": lambda g: set_first_block_scale_nan(g, "blk.0.ffn_up.weight"),
    "extra-tensor": lambda g: g.add("blk.0.bogus.weight", [32], "F32"),
    "extra-layer": lambda g: g.add("blk.7.attn_k.weight", [32, 16], "F32"),
    "missing-tensor": lambda g: g.remove("blk.1.ffn_down.weight"),
    "retyped": lambda g: g.retype("blk.0.ffn_gate.weight", "F16"),
    "reshaped": lambda g: tensor(g, "output_norm.weight").__setitem__(1, [16]) or tensor(g, "output_norm.weight").__setitem__(3, bytes(64)),
    "k-eq-v-attn-v": lambda g: g.add("blk.2.attn_v.weight", [32, 32], "Q8_0"),
    "kv-heads": lambda g: g.set("gemma4.attention.head_count_kv", mg.U32, 2),
    "rope-freqs": lambda g: set_f32(g, "rope_freqs.weight", 0, 2.0),
    "alignment-1": lambda g: align(g, 1),
    "alignment-8": lambda g: align(g, 8),
    "alignment-3": lambda g: align(g, 3),
    "alignment-0": lambda g: align(g, 0),
    "alignment-text": lambda g: g.set("general.alignment", mg.STRING, "32"),
    "empty-name": lambda g: tensor(g, "blk.0.bogus.weight") if False else tensor(g, "output_norm.weight").__setitem__(0, ""),
    "empty-key": lambda g: g.set("", mg.U32, 1),
    "duplicate-name": lambda g: g.add("output_norm.weight", [32], "F32"),
    "too-many-dims": lambda g: g.add("x", [32, 1, 1, 1, 1], "F32"),
    "nested-arrays": lambda g: g.set("x", mg.ARRAY, nested(12)),
    "unknown-type": lambda g: g.add("x", [32], 99, bytes(128)),
}
RAW_CASES = {"overlap": overlap}


def nested(depth):
    v = (mg.U32, [1])
    for _ in range(depth):
        v = (mg.ARRAY, [v])
    return v


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--list":
        print("\n".join(list(CASES) + list(RAW_CASES)))
        return 0
    if len(sys.argv) != 4 or (sys.argv[2] not in CASES and sys.argv[2] not in RAW_CASES):
        sys.stderr.write(__doc__)
        return 2
    g = read(sys.argv[1])
    if sys.argv[2] in RAW_CASES:
        data = RAW_CASES[sys.argv[2]](g)
    else:
        CASES[sys.argv[2]](g)
        data = g.to_bytes()
    with open(sys.argv[3], "wb") as f:
        f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
