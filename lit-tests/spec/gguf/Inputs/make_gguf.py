#!/usr/bin/env python3
"""Writes a tiny gemma4 GGUF file for the lit tests: a valid model, or one named malformed variant.

usage: make_gguf.py CASE OUT.gguf      (make_gguf.py --list prints the cases)

The valid models mirror models/synthetic/pairing-12b-tiny.toml (the 12B's sliding real-V +
global k_eq_v pairing) and models/synthetic/ple-shared-kv-tiny.toml (E4B's per-layer embeddings
and shared-KV tail), with metadata and tensors laid out as llama.cpp's converter writes them and
zero-filled weights. Standard library only.
"""
import struct
import sys

# GGUF metadata value types.
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
# ggml tensor types: id, elements per block, bytes per block.
GGML = {"F32": (0, 1, 4), "F16": (1, 1, 2), "Q4_0": (2, 32, 18), "Q8_0": (8, 32, 34), "Q3_K": (11, 256, 110),
        "Q4_K": (12, 256, 144), "Q6_K": (14, 256, 210), "BF16": (30, 1, 2)}
SCALAR_FORMAT = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<?",
                 U64: "<Q", I64: "<q", F64: "<d"}


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_value(vtype, value):
    if vtype == STRING:
        return gguf_string(value)
    if vtype == ARRAY:
        etype, items = value
        return struct.pack("<IQ", etype, len(items)) + b"".join(gguf_value(etype, v) for v in items)
    return struct.pack(SCALAR_FORMAT[vtype], value)


def tensor_bytes(ggml_type, dims):
    _, block_elems, block_bytes = GGML[ggml_type]
    n = dims[0] // block_elems * block_bytes
    for d in dims[1:]:
        n *= d
    return n


class Gguf:
    def __init__(self):
        self.metadata = []  # (key, type, value)
        self.tensors = []   # (name, dims, type name or raw id, data)
        self.alignment = 32

    def set(self, key, vtype, value):
        self.metadata = [m for m in self.metadata if m[0] != key] + [(key, vtype, value)]

    def drop(self, key):
        self.metadata = [m for m in self.metadata if m[0] != key]

    def add(self, name, dims, ggml_type, data=None):
        self.tensors.append([name, dims, ggml_type, data if data is not None else bytes(tensor_bytes(ggml_type, dims))])

    def retype(self, name, ggml_type):
        for t in self.tensors:
            if t[0] == name:
                t[2], t[3] = ggml_type, bytes(tensor_bytes(ggml_type, t[1]))

    def remove(self, name):
        self.tensors = [t for t in self.tensors if t[0] != name]

    def to_bytes(self, offsets=None):
        head = struct.pack("<IIQQ", 0x46554747, 3, len(self.tensors), len(self.metadata))
        for key, vtype, value in self.metadata:
            head += gguf_string(key) + struct.pack("<I", vtype) + gguf_value(vtype, value)
        data, placed = b"", []
        for name, dims, ggml_type, blob in self.tensors:
            data += bytes(-len(data) % self.alignment)
            placed.append(len(data))
            data += blob
        for i, (name, dims, ggml_type, blob) in enumerate(self.tensors):
            type_id = GGML[ggml_type][0] if isinstance(ggml_type, str) else ggml_type
            offset = offsets[i] if offsets and i in offsets else placed[i]
            head += gguf_string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
            head += struct.pack("<IQ", type_id, offset)
        head += bytes(-len(head) % self.alignment)
        return head + data


PAIRING = dict(name="synthetic-pairing-12b-tiny", vocab=256, hidden=128, layers=6, context=256, heads=4,
               sliding=[True, True, False, True, True, False], hd_swa=32, kv_swa=2, window=4, hd=64, kv=2 // 2,
               rotated_pairs=8, shared=0, ffn=[256] * 6, ple=0, k_eq_v=True,
               quant=dict(default="Q4_0", token_embd="Q8_0", attn_v=("use_more_bits", "Q8_0"),
                          ffn_down=("use_more_bits", "Q6_K")))
PLE = dict(name="synthetic-ple-shared-kv-tiny", vocab=256, hidden=128, layers=8, context=128, heads=4,
           sliding=[True, True, True, False] * 2, hd_swa=32, kv_swa=2, window=4, hd=64, kv=2, rotated_pairs=8,
           shared=4, ffn=[256] * 4 + [512] * 4, ple=16, k_eq_v=False,
           quant=dict(default="Q8_0", token_embd="Q8_0", per_layer_token_embd="Q8_0", per_layer_model_proj="BF16",
                      inp_gate="F32", proj="F32"))
# The same mechanisms at the smallest sizes, as seeds of the GGUF fuzzers (fast to run).
MICRO_PAIRING = dict(name="micro-pairing", vocab=64, hidden=32, layers=3, context=16, heads=2,
                     sliding=[True, True, False], hd_swa=16, kv_swa=1, window=3, hd=32, kv=1, rotated_pairs=4,
                     shared=0, ffn=[64] * 3, ple=0, k_eq_v=True, quant=dict(default="Q8_0", attn_q="Q4_0"))
MICRO_PLE = dict(name="micro-ple-shared-kv", vocab=64, hidden=32, layers=4, context=12, heads=2,
                 sliding=[True, False] * 2, hd_swa=16, kv_swa=2, window=2, hd=16, kv=1, rotated_pairs=8,
                 shared=2, ffn=[32, 32, 64, 64], ple=8, k_eq_v=False,
                 quant=dict(default="Q8_0", per_layer_model_proj="BF16", inp_gate="F32", proj="F32"))


def use_more_bits(i, n):
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def add_metadata(g, m):
    L = m["layers"]
    kv = [m["kv_swa"] if s else m["kv"] for s in m["sliding"]]
    g.set("general.architecture", STRING, "gemma4")
    g.set("general.name", STRING, m["name"])
    g.set("gemma4.context_length", U32, m["context"])
    g.set("gemma4.embedding_length", U32, m["hidden"])
    g.set("gemma4.block_count", U32, L)
    ffn = m["ffn"]
    g.set("gemma4.feed_forward_length", *((U32, ffn[0]) if len(set(ffn)) == 1 else (ARRAY, (I32, ffn))))
    g.set("gemma4.attention.head_count", U32, m["heads"])
    g.set("gemma4.attention.head_count_kv", *((U32, kv[0]) if len(set(kv)) == 1 else (ARRAY, (I32, kv))))
    g.set("gemma4.rope.freq_base", F32, 1e6)
    g.set("gemma4.rope.freq_base_swa", F32, 1e4)
    g.set("gemma4.attention.layer_norm_rms_epsilon", F32, 1e-6)
    g.set("gemma4.attention.key_length", U32, m["hd"])
    g.set("gemma4.attention.value_length", U32, m["hd"])
    g.set("gemma4.attention.key_length_swa", U32, m["hd_swa"])
    g.set("gemma4.attention.value_length_swa", U32, m["hd_swa"])
    g.set("gemma4.final_logit_softcapping", F32, 30.0)
    g.set("gemma4.attention.sliding_window", U32, m["window"])
    g.set("gemma4.attention.sliding_window_pattern", ARRAY, (BOOL, m["sliding"]))
    g.set("gemma4.attention.shared_kv_layers", U32, m["shared"])
    g.set("gemma4.embedding_length_per_layer_input", U32, m["ple"])
    g.set("gemma4.rope.dimension_count", U32, m["hd"])
    g.set("gemma4.rope.dimension_count_swa", U32, m["hd_swa"])
    g.set("general.quantization_version", U32, 2)
    g.set("tokenizer.ggml.model", STRING, "gemma4")
    g.set("tokenizer.ggml.tokens", ARRAY, (STRING, ["<tok%d>" % i for i in range(m["vocab"])]))
    g.set("tokenizer.ggml.scores", ARRAY, (F32, [0.0] * m["vocab"]))
    g.set("tokenizer.ggml.bos_token_id", U32, 2)


def add_tensors(g, m, dead_shared_kv=True):
    H, L, P, q = m["hidden"], m["layers"], m["ple"], m["quant"]
    first_shared = L - m["shared"]
    counts, ordinal = {}, {}

    def kind_type(cls, layer_ordinal=None, count=None):
        rule = q.get(cls, q["default"])
        if isinstance(rule, tuple):
            return rule[1] if use_more_bits(layer_ordinal, count) else q["default"]
        return rule

    def matrix(name, cls, ne0, ne1, layer=None):
        if layer is None:
            g.add(name, [ne0, ne1], kind_type(cls))
            return
        i = ordinal.setdefault(cls, 0)
        ordinal[cls] = i + 1
        g.add(name, [ne0, ne1], kind_type(cls, i, counts[cls]))

    owners = [i for i in range(L) if i < first_shared]
    real_v = [i for i in owners if m["sliding"][i] or not m["k_eq_v"]]
    for cls in ("attn_q", "attn_output", "ffn_gate", "ffn_up", "ffn_down", "inp_gate", "proj"):
        counts[cls] = L
    counts["attn_k"], counts["attn_v"] = len(owners), len(real_v)

    matrix("token_embd.weight", "token_embd", H, m["vocab"])
    if P:
        matrix("per_layer_token_embd.weight", "per_layer_token_embd", L * P, m["vocab"])
        matrix("per_layer_model_proj.weight", "per_layer_model_proj", H, L * P)
        g.add("per_layer_proj_norm.weight", [P], "F32")
    pairs = m["hd"] // 2
    factors = [1.0] * m["rotated_pairs"] + [1e30] * (pairs - m["rotated_pairs"])
    g.add("rope_freqs.weight", [pairs], "F32", struct.pack("<%df" % pairs, *factors))
    for i in range(L):
        p, hd = "blk.%d." % i, m["hd_swa"] if m["sliding"][i] else m["hd"]
        kv = (m["kv_swa"] if m["sliding"][i] else m["kv"]) * hd
        qw, ffn = m["heads"] * hd, m["ffn"][i]
        g.add(p + "attn_norm.weight", [H], "F32")
        matrix(p + "attn_q.weight", "attn_q", H, qw, i)
        g.add(p + "attn_q_norm.weight", [hd], "F32")
        if i < first_shared:
            matrix(p + "attn_k.weight", "attn_k", H, kv, i)
            g.add(p + "attn_k_norm.weight", [hd], "F32")
            if i in real_v:
                matrix(p + "attn_v.weight", "attn_v", H, kv, i)
        elif dead_shared_kv:  # the E4B file keeps the unused K/V projections of shared layers
            g.add(p + "attn_k.weight", [H, kv], "F16")
            g.add(p + "attn_v.weight", [H, kv], "F16")
        matrix(p + "attn_output.weight", "attn_output", qw, H, i)
        g.add(p + "post_attention_norm.weight", [H], "F32")
        g.add(p + "ffn_norm.weight", [H], "F32")
        matrix(p + "ffn_gate.weight", "ffn_gate", H, ffn, i)
        matrix(p + "ffn_up.weight", "ffn_up", H, ffn, i)
        matrix(p + "ffn_down.weight", "ffn_down", ffn, H, i)
        g.add(p + "post_ffw_norm.weight", [H], "F32")
        if P:
            matrix(p + "inp_gate.weight", "inp_gate", H, P, i)
            matrix(p + "proj.weight", "proj", P, H, i)
            g.add(p + "post_norm.weight", [H], "F32")
        g.add(p + "layer_output_scale.weight", [1], "F32", struct.pack("<f", 1.0))
    g.add("output_norm.weight", [H], "F32")


def model(m, **options):
    g = Gguf()
    add_metadata(g, m)
    add_tensors(g, m, **options)
    return g


def minimal(tensors=(("x", [32], "F32"),)):
    """A file with one metadata key and the given tensors, for container errors."""
    g = Gguf()
    g.set("general.architecture", STRING, "gemma4")
    for name, dims, ggml_type in tensors:
        g.add(name, dims, ggml_type)
    return g


def patch(data, offset, fmt, value):
    return data[:offset] + struct.pack(fmt, value) + data[offset + struct.calcsize(fmt):]


def _unknown_ggml_type():
    g = minimal([])
    g.add("blk.0.attn_q.weight", [32], 99, bytes(128))
    return g.to_bytes()


def mixed_v():
    g = model(PAIRING)
    g.add("blk.2.attn_v.weight", [128, 64], "Q4_0")  # global layer 2 projects V; layer 5 stays k_eq_v
    return g.to_bytes()


def string_of_length(length):
    """A 1 KB file whose one metadata string claims `length` bytes."""
    head = struct.pack("<IIQQ", 0x46554747, 3, 0, 1) + gguf_string("general.name") + struct.pack("<IQ", STRING, length)
    return head + bytes(1024 - len(head))


def key_of_length(length):
    """A 1 KB file whose one metadata key claims `length` bytes."""
    head = struct.pack("<IIQQQ", 0x46554747, 3, 0, 1, length)
    return head + bytes(1024 - len(head))


def _with_keys(**keys):
    g = model(PAIRING)
    for key, (vtype, value) in keys.items():
        g.set(key, vtype, value)
    return g.to_bytes()


def past_end():
    data = minimal([("blk.0.attn_q.weight", [128, 16], "F32")]).to_bytes()
    return data[:-1000]


CASES = {
    # valid models
    "pairing-12b": lambda: model(PAIRING).to_bytes(),
    "ple-shared-kv": lambda: model(PLE).to_bytes(),
    "micro-pairing": lambda: model(MICRO_PAIRING).to_bytes(),
    "micro-ple-shared-kv": lambda: model(MICRO_PLE).to_bytes(),
    "pairing-12b-mixed-v": mixed_v,
    # container errors
    "truncated-header": lambda: b"GGUF\x03\x00\x00\x00\x00\x00",
    "bad-magic": lambda: b"FGUF" + minimal().to_bytes()[4:],
    "version-1": lambda: patch(minimal().to_bytes(), 4, "<I", 1),
    "long-string": lambda: string_of_length(1 << 60),
    "string-past-end": lambda: string_of_length(2000),
    "long-key": lambda: key_of_length(1 << 16),
    "long-tensor-name": lambda: minimal([("blk.0.attn_q.weight." + "x" * 45, [32], "F32")]).to_bytes(),
    "tensor-count": lambda: patch(minimal().to_bytes(), 8, "<Q", 1 << 40),
    "tensor-count-past-end": lambda: patch(minimal().to_bytes(), 8, "<Q", 60000),
    "metadata-count": lambda: patch(minimal().to_bytes(), 16, "<Q", (1 << 16) + 1),
    "unknown-value-type": lambda: patch(minimal().to_bytes(), 24 + 8 + len("general.architecture"), "<I", 13),
    "unknown-ggml-type": _unknown_ggml_type,
    "data-past-end": past_end,
    "misaligned": lambda: minimal([("x", [32], "F32")]).to_bytes(offsets={0: 17}),
    "too-many-dims": lambda: minimal([("x", [1, 1, 1, 1, 1], "F32")]).to_bytes(),
    # import errors
    "unsupported-type": lambda: _retyped("blk.1.ffn_down.weight", "Q3_K"),
    "missing-key": lambda: _without_key("gemma4.context_length"),
    "not-gemma4": lambda: _with_key("general.architecture", STRING, "llama"),
    "missing-tensor": lambda: _without_tensor("blk.3.attn_k.weight"),
    # metadata of a model no device could hold, in a file of a few KB
    "huge-weights": lambda: _with_keys(**{"gemma4.embedding_length": (U32, 1 << 24),
                                          "gemma4.feed_forward_length": (U32, 1 << 24)}),
    "huge-kv-cache": lambda: _with_keys(**{"gemma4.context_length": (U32, 1 << 24),
                                           "gemma4.attention.head_count_kv": (U32, 4),
                                           "gemma4.attention.key_length": (U32, 1 << 16),
                                           "gemma4.attention.value_length": (U32, 1 << 16),
                                           "gemma4.rope.dimension_count": (U32, 1 << 16)}),
    "empty-vocab": lambda: _with_embedding_rows(0),
}


def _with_embedding_rows(rows):
    g = model(PAIRING)
    g.remove("token_embd.weight")
    g.add("token_embd.weight", [PAIRING["hidden"], rows], "Q8_0")
    return g.to_bytes()


def _retyped(name, ggml_type):
    g = model(PAIRING)
    g.retype(name, ggml_type)
    return g.to_bytes()


def _without_key(key):
    g = model(PAIRING)
    g.drop(key)
    return g.to_bytes()


def _with_key(key, vtype, value):
    g = model(PAIRING)
    g.set(key, vtype, value)
    return g.to_bytes()


def _without_tensor(name):
    g = model(PAIRING)
    g.remove(name)
    return g.to_bytes()



def _without_vocab():
    g = model(PAIRING)
    g.drop("gemma4.vocab_size")
    g.remove("token_embd.weight")
    return g.to_bytes()


def _rope_factors(factors):
    g = model(PAIRING)
    g.remove("rope_freqs.weight")
    g.add("rope_freqs.weight", [len(factors)], "F32", struct.pack("<%df" % len(factors), *factors))
    return g.to_bytes()


def metadata_values(count):
    """A file whose one metadata array holds `count` u8 values (count bytes of data)."""
    entry = gguf_string("tokenizer.ggml.token_type") + struct.pack("<IIQ", ARRAY, U8, count)
    start = struct.pack("<IIQQ", 0x46554747, 3, 0, 1)
    return start + entry + bytes(count)


# More import errors: metadata values of the wrong type or range, and tensors the metadata reads.
CASES.update({
    "no-vocab": _without_vocab,
    "block-count-range": lambda: _with_key("gemma4.block_count", U32, 2000),
    "head-count-differs": lambda: _with_key("gemma4.attention.head_count", ARRAY, (I32, [4, 4, 2, 4, 4, 4])),
    "no-kv-heads": lambda: _with_key("gemma4.attention.head_count_kv", U32, 0),
    "value-length": lambda: _with_key("gemma4.attention.value_length_swa", U32, 16),
    "freq-base-zero": lambda: _with_key("gemma4.rope.freq_base_swa", F32, 0.0),
    "rms-eps-zero": lambda: _with_key("gemma4.attention.layer_norm_rms_epsilon", F32, 0.0),
    "softcap-negative": lambda: _with_key("gemma4.final_logit_softcapping", F32, -1.0),
    "freq-base-text": lambda: _with_key("gemma4.rope.freq_base", STRING, "1e6"),
    "pattern-not-bools": lambda: _with_key("gemma4.attention.sliding_window_pattern", U32, 1),
    "rope-freqs-quantized": lambda: _retyped("rope_freqs.weight", "Q8_0"),
    "rope-freqs-none-rotate": lambda: _rope_factors([1e30] * 32),
    "norm-quantized": lambda: _retyped("blk.0.attn_norm.weight", "Q8_0"),
    "metadata-values": lambda: metadata_values((1 << 22) + 1),
})


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--list":
        print("\n".join(CASES))
        return 0
    if len(sys.argv) != 3 or sys.argv[1] not in CASES:
        sys.stderr.write(__doc__ + "\ncases: " + ", ".join(CASES) + "\n")
        return 2
    with open(sys.argv[2], "wb") as f:
        f.write(CASES[sys.argv[1]]())
    return 0


if __name__ == "__main__":
    sys.exit(main())
