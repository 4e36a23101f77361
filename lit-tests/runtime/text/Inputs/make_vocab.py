"""Writes a small vocab-only GGUF file (stdlib only), for g4run tests that need a tokenizer the
size of a synthetic model's vocabulary, or a broken one.

    make_vocab.py OUT.gguf [--tokens N] [--model NAME] [--end-at IDS_FILE K EXPECTED] [--no-bos]
                  [--drop KEY] [--retype KEY] [--truncate KEY] [--set KEY=N] [--token-type ID=N]

Tokens are `w<id>` (normal), with <bos> and <eos> control tokens; no merges are needed, as every
generated id is decoded, not encoded. --end-at reads the first `sequence 0: ...` line of IDS_FILE
(g4run's id output) and makes EOS the id at the first position from the K-th on whose id did not
come earlier; EXPECTED gets the text a run of the same plan, weights and prompt streams before
that EOS ends it, whatever the ids are. --model sets tokenizer.ggml.model; --no-bos makes
add_bos_token false. To break the file: --drop leaves a key out; --retype writes it as the u32 7
(a string or array key) or the string "7" (a number or boolean); --truncate drops an array's
last element; --set gives an integer key another value; --token-type one token another type.
"""
import argparse
import struct

STRING, ARRAY, U32, BOOL, I32 = 8, 9, 4, 7, 5


def gguf_string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def entry(key, kind, payload):
    return gguf_string(key) + struct.pack("<I", kind) + payload


def string_array(items):
    return struct.pack("<IQ", STRING, len(items)) + b"".join(gguf_string(s) for s in items)


def int_array(items):
    return struct.pack("<IQ", I32, len(items)) + b"".join(struct.pack("<i", i) for i in items)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--tokens", type=int, default=256)
    p.add_argument("--model", default="gemma4")
    p.add_argument("--end-at", nargs=3, metavar=("IDS_FILE", "K", "EXPECTED"))
    p.add_argument("--no-bos", action="store_true")
    p.add_argument("--drop", action="append", default=[])
    p.add_argument("--retype", action="append", default=[])
    p.add_argument("--truncate", action="append", default=[])
    p.add_argument("--set", action="append", default=[])
    p.add_argument("--token-type", action="append", default=[])
    args = p.parse_args()

    generated = []
    if args.end_at:
        for line in open(args.end_at[0]):
            if line.startswith("sequence 0:"):
                generated = [int(t) for t in line.split(":", 1)[1].split()]
                break
    eos = 1
    if args.end_at:
        k = int(args.end_at[1])
        end = next(p for p in range(k - 1, len(generated)) if generated[p] not in generated[:p])
        eos = generated[end]
        with open(args.end_at[2], "w") as f:
            f.write("".join(f"w{i}" for i in generated[:end]) + "\n")
    bos = next((i for i in range(args.tokens) if i != eos and i not in generated), 0)

    tokens = [f"w{i}" for i in range(args.tokens)]
    types = [1] * args.tokens
    if args.tokens:
        tokens[eos], types[eos] = "<eos>", 3
        tokens[bos], types[bos] = "<bos>", 3
    for change in args.token_type:
        token, value = map(int, change.split("="))
        types[token] = value
    ids = {"tokenizer.ggml.bos_token_id": bos, "tokenizer.ggml.eos_token_id": eos}
    for change in args.set:
        key, value = change.split("=")
        ids[key] = int(value)
    arrays = {"tokenizer.ggml.tokens": (string_array, tokens), "tokenizer.ggml.token_type": (int_array, types),
              "tokenizer.ggml.merges": (string_array, [])}
    kv = [entry("general.architecture", STRING, gguf_string("gemma4"))]
    values = [("tokenizer.ggml.model", STRING, gguf_string(args.model))]
    for key, (pack, items) in arrays.items():
        values.append((key, ARRAY, pack(items[:-1] if key in args.truncate else items)))
    for key, value in ids.items():
        values.append((key, U32, struct.pack("<I", value)))
    values.append(("tokenizer.ggml.add_bos_token", BOOL, struct.pack("<?", not args.no_bos)))
    for key, kind, payload in values:
        if key in args.drop:
            continue
        if key in args.retype:  # a number where text is due, text where a number is
            kind, payload = (U32, struct.pack("<I", 7)) if kind in (STRING, ARRAY) else (STRING, gguf_string("7"))
        kv.append(entry(key, kind, payload))
    with open(args.out, "wb") as f:
        f.write(b"GGUF" + struct.pack("<IQQ", 3, 0, len(kv)) + b"".join(kv))


if __name__ == "__main__":
    main()
