#!/usr/bin/env python3
"""Golden logits for tiny Gemma 4 text models, computed by Hugging Face transformers' own Gemma 4.

Run on a machine with torch and transformers 5.x (the project's GPU machine has both):

    python3 make_golden.py OUTDIR

For each model below it builds a transformers Gemma4ForCausalLM whose configuration matches one of
our synthetic declarations, draws discriminative random weights (seeded), rounds matrices to fp16,
runs a fixed prompt in float64 (use_cache=False), and writes

    OUTDIR/NAME.gguf         the weights under llama.cpp's gemma4 names (F16 matrices, F32 vectors)
                             and the gemma4.* metadata llama.cpp would write
    OUTDIR/NAME.golden.toml  the prompt and the logits at every position

The C++ tests (unit-tests/runtime/golden_test.cpp) load both with our GGUF reader and compare the
reference model and the plan interpreter against these logits.
"""
import math
import struct
import sys

import torch
import transformers
from transformers import Gemma4ForCausalLM, Gemma4TextConfig

PROMPT = [2, 17, 93, 5, 201, 44, 130, 7, 66, 250, 12, 181]  # 12 tokens: past the 4-token window

MODELS = {
    # models/synthetic/pairing-12b-tiny.toml: sliding real-V GQA + global k_eq_v MQA, window 4.
    "pairing-12b-tiny": dict(
        vocab_size=256, hidden_size=128, intermediate_size=256, num_hidden_layers=6,
        num_attention_heads=4, num_key_value_heads=2, head_dim=32, global_head_dim=64,
        num_global_key_value_heads=1, attention_k_eq_v=True, sliding_window=4,
        layer_types=["sliding_attention", "sliding_attention", "full_attention"] * 2,
        max_position_embeddings=256, num_kv_shared_layers=0, hidden_size_per_layer_input=0,
        final_logit_softcapping=30.0, tie_word_embeddings=True, use_double_wide_mlp=False),
    # models/synthetic/ple-shared-kv-tiny.toml: PLE, 4 shared-KV layers with a double-wide FFN.
    "ple-shared-kv-tiny": dict(
        vocab_size=256, hidden_size=128, intermediate_size=256, num_hidden_layers=8,
        num_attention_heads=4, num_key_value_heads=2, head_dim=32, global_head_dim=64,
        attention_k_eq_v=False, sliding_window=4,
        layer_types=["sliding_attention"] * 3 + ["full_attention"] + ["sliding_attention"] * 3 + ["full_attention"],
        max_position_embeddings=128, num_kv_shared_layers=4, hidden_size_per_layer_input=16,
        vocab_size_per_layer_input=256, use_double_wide_mlp=True,
        final_logit_softcapping=30.0, tie_word_embeddings=True),
}

# transformers parameter name (after the layer index is cut out) -> llama.cpp gemma4 tensor name.
LAYER_NAMES = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "self_attn.q_norm.weight": "attn_q_norm.weight",
    "self_attn.k_norm.weight": "attn_k_norm.weight",
    "post_attention_layernorm.weight": "post_attention_norm.weight",
    "pre_feedforward_layernorm.weight": "ffn_norm.weight",
    "post_feedforward_layernorm.weight": "post_ffw_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
    "per_layer_input_gate.weight": "inp_gate.weight",
    "per_layer_projection.weight": "proj.weight",
    "post_per_layer_input_norm.weight": "post_norm.weight",
    "layer_scalar": "layer_output_scale.weight",
}
GLOBAL_NAMES = {
    "embed_tokens.weight": "token_embd.weight",
    "embed_tokens_per_layer.weight": "per_layer_token_embd.weight",
    "per_layer_model_projection.weight": "per_layer_model_proj.weight",
    "per_layer_projection_norm.weight": "per_layer_proj_norm.weight",
    "norm.weight": "output_norm.weight",
}


def gguf_name(hf_name):
    parts = hf_name.split(".")
    if "layers" in parts:
        i = parts.index("layers")
        rest = ".".join(parts[i + 2:])
        if rest in LAYER_NAMES:
            return f"blk.{parts[i + 1]}.{LAYER_NAMES[rest]}"
        return None
    for suffix, name in GLOBAL_NAMES.items():
        if hf_name == suffix or hf_name.endswith("." + suffix):
            return name
    return None


def draw_weights(model, seed):
    """Weights large enough that logits discriminate (the default std 0.02 gives near-uniform ones)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:  # norm weights: multiplied as is (no 1 + w in Gemma 4)
                p.copy_(1.0 + 0.3 * (torch.rand(p.shape, generator=g, dtype=torch.float64) - 0.5))
            else:
                std = 3.0 / math.sqrt(p.shape[1]) if "embed" in name else 1.0 / math.sqrt(p.shape[1])
                w = torch.randn(p.shape, generator=g, dtype=torch.float64) * std
                p.copy_(w.to(torch.float16).to(torch.float64))  # stored as F16: make HF use the same values
        for name, b in model.named_buffers():
            if name.endswith("layer_scalar"):
                b.copy_(0.4 + 0.5 * torch.rand(b.shape, generator=g, dtype=torch.float64))


# ---- a minimal GGUF v3 writer (stdlib only) ----
GGUF_TYPES = {"u32": 4, "i32": 5, "f32": 6, "bool": 7, "string": 8, "array": 9}


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_value(kind, value):
    if kind == "u32":
        return struct.pack("<I", value)
    if kind == "i32":
        return struct.pack("<i", value)
    if kind == "f32":
        return struct.pack("<f", value)
    if kind == "bool":
        return struct.pack("<?", value)
    if kind == "string":
        return gguf_string(value)
    raise ValueError(kind)


def write_gguf(path, metadata, tensors, alignment=32):
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata)))
    for key, kind, value in metadata:
        out += gguf_string(key)
        if kind.startswith("array:"):
            elem = kind.split(":")[1]
            out += struct.pack("<II", GGUF_TYPES["array"], GGUF_TYPES[elem]) + struct.pack("<Q", len(value))
            for v in value:
                out += gguf_value(elem, v)
        else:
            out += struct.pack("<I", GGUF_TYPES[kind]) + gguf_value(kind, value)
    offset = 0
    blobs = []
    for name, array, ggml_type in tensors:  # array: torch tensor [out, in] (ggml ne0 = in)
        dims = list(reversed(array.shape))
        out += gguf_string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", ggml_type, offset)
        data = array.contiguous().numpy().tobytes()
        blobs.append(data)
        offset += (len(data) + alignment - 1) // alignment * alignment
    out += b"\0" * ((-len(out)) % alignment)
    for data in blobs:
        out += data + b"\0" * ((-len(data)) % alignment)
    with open(path, "wb") as f:
        f.write(out)


def metadata_for(cfg, layer_types, name):
    sliding = [t == "sliding_attention" for t in layer_types]
    global_kv = cfg.get("num_global_key_value_heads", cfg["num_key_value_heads"]) if cfg["attention_k_eq_v"] \
        else cfg["num_key_value_heads"]
    kv_heads = [cfg["num_key_value_heads"] if s else global_kv for s in sliding]
    return [
        ("general.architecture", "string", "gemma4"),
        ("general.name", "string", name),
        ("general.alignment", "u32", 32),
        ("gemma4.context_length", "u32", cfg["max_position_embeddings"]),
        ("gemma4.embedding_length", "u32", cfg["hidden_size"]),
        ("gemma4.block_count", "u32", cfg["num_hidden_layers"]),
        ("gemma4.feed_forward_length", "u32", cfg["intermediate_size"]),
        ("gemma4.attention.head_count", "u32", cfg["num_attention_heads"]),
        ("gemma4.attention.head_count_kv", "array:i32", kv_heads),
        ("gemma4.attention.key_length", "u32", cfg["global_head_dim"]),
        ("gemma4.attention.value_length", "u32", cfg["global_head_dim"]),
        ("gemma4.attention.key_length_swa", "u32", cfg["head_dim"]),
        ("gemma4.attention.value_length_swa", "u32", cfg["head_dim"]),
        ("gemma4.attention.sliding_window", "u32", cfg["sliding_window"]),
        ("gemma4.attention.sliding_window_pattern", "array:bool", sliding),
        ("gemma4.attention.shared_kv_layers", "u32", cfg["num_kv_shared_layers"]),
        ("gemma4.attention.layer_norm_rms_epsilon", "f32", 1e-6),
        ("gemma4.rope.freq_base", "f32", 1e6),
        ("gemma4.rope.freq_base_swa", "f32", 1e4),
        ("gemma4.rope.dimension_count", "u32", cfg["global_head_dim"]),
        ("gemma4.rope.dimension_count_swa", "u32", cfg["head_dim"]),
        ("gemma4.embedding_length_per_layer_input", "u32", cfg["hidden_size_per_layer_input"]),
        ("gemma4.final_logit_softcapping", "f32", cfg["final_logit_softcapping"]),
        ("gemma4.vocab_size", "u32", cfg["vocab_size"]),
    ]


def write_golden_toml(path, name, logits):
    with open(path, "w") as f:
        f.write(f"# Golden logits of synthetic-{name}, computed by transformers {transformers.__version__} "
                f"(torch {torch.__version__}) in float64 with make_golden.py. Do not edit.\n")
        f.write("[golden]\n")
        f.write(f'model = "{name}"\n')
        f.write(f"prompt = {PROMPT}\n")
        for pos, row in enumerate(logits):
            f.write(f"\n[[position]]\nindex = {pos}\nlogits = [")
            f.write(", ".join(repr(float(v)) for v in row))
            f.write("]\n")


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "."
    for seed, (name, cfg) in enumerate(MODELS.items(), start=7):
        config = Gemma4TextConfig(**cfg, pad_token_id=0, bos_token_id=2, eos_token_id=1)
        model = Gemma4ForCausalLM(config).to(torch.float64).eval()
        draw_weights(model, seed)
        print(f"{name}: rope_parameters={config.rope_parameters}", flush=True)
        tensors = []
        seen = set()
        for hf_name, p in list(model.named_parameters()) + list(model.named_buffers()):
            target = gguf_name(hf_name)
            if target is None:
                if hf_name.endswith("embed_scale"):
                    print(f"{name}: {hf_name} = {p.flatten().tolist()}", flush=True)
                    continue
                if hf_name.startswith("lm_head") or "inv_freq" in hf_name or "rotary" in hf_name:
                    continue
                raise SystemExit(f"{name}: no gguf name for transformers parameter {hf_name}")
            if target in seen:
                continue
            seen.add(target)
            value = p.detach().to(torch.float64)
            if target.endswith("layer_output_scale.weight"):
                value = value.reshape(1)
            if value.dim() == 2:
                tensors.append((target, value.to(torch.float16), 1))   # F16
            else:
                tensors.append((target, value.to(torch.float32), 0))   # F32
        with torch.no_grad():
            ids = torch.tensor([PROMPT])
            logits = model(input_ids=ids, use_cache=False).logits[0].to(torch.float64)
        print(f"{name}: {len(tensors)} tensors; argmax per position {logits.argmax(-1).tolist()}", flush=True)
        write_gguf(f"{outdir}/{name}.gguf", metadata_for(cfg, cfg["layer_types"], name), tensors)
        write_golden_toml(f"{outdir}/{name}.golden.toml", name, logits.tolist())


if __name__ == "__main__":
    main()
