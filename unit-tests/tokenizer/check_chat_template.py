#!/usr/bin/env python3
"""Renders conversations with the chat template a GGUF file carries (tokenizer.chat_template, run
by jinja2 as Hugging Face transformers runs it) and with g4c's Gemma 4 renderer
(g4c_render_chat), and compares the two byte for byte.

usage: check_chat_template.py VOCAB.gguf RENDER_CHAT_BINARY
Prints one line per conversation and `N conversations, M differ`; exits 1 when any differ.
"""
import struct
import subprocess
import sys

import jinja2
import jinja2.ext
import jinja2.sandbox

SCALAR = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


def read_metadata(path, wanted):
    """The GGUF metadata values whose keys are in `wanted` (arrays of strings as lists)."""
    data = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        value = struct.unpack_from("<" + fmt, data, pos)[0]
        pos += struct.calcsize("<" + fmt)
        return value

    def string():
        nonlocal pos
        n = take("Q")
        s = data[pos:pos + n].decode("utf-8")
        pos += n
        return s

    def value(kind):
        if kind == 8:
            return string()
        if kind == 9:
            elem, count = take("I"), take("Q")
            return [value(elem) for _ in range(count)]
        return take(SCALAR[kind])

    def skip(kind):
        nonlocal pos
        if kind == 8:
            n = take("Q")
            pos += n
        elif kind == 9:
            elem, count = take("I"), take("Q")
            if elem in SCALAR:
                size = struct.calcsize("<" + SCALAR[elem]) * count
                pos += size
            else:
                for _ in range(count):
                    skip(elem)
        else:
            pos += struct.calcsize("<" + SCALAR[kind])

    if data[:4] != b"GGUF":
        sys.exit(f"{path}: not a GGUF file")
    pos = 8
    _, n_kv = take("Q"), take("Q")
    found = {}
    for _ in range(n_kv):
        key, kind = string(), take("I")
        if key in wanted:
            found[key] = value(kind)
        else:
            skip(kind)
    return found


# Plain-text conversations: (messages, add_generation_prompt, enable_thinking or None when unset).
CONVERSATIONS = [
    ([("user", "Hello")], True, None),
    ([("system", "You are terse."), ("user", "Name a prime.")], True, None),
    ([("user", "  padded \n\t"), ("assistant", "Sure."), ("user", "Again?")], True, None),
    ([("system", "\u00a0Be kind.\u3000"), ("user", "Hi\u2028"), ("assistant", " Hello!\n"), ("user", "Bye")], False, None),
    ([("user", "Think first."), ("assistant", "<|channel>thought\nplanning<channel|>Done."), ("user", "And?")], True, None),
    ([("user", "Solve 2+2.")], True, True),
    ([("system", "Reason well."), ("user", "Why?")], True, True),
    ([("user", "No thinking.")], True, False),
    ([("developer", "Dev rules."), ("user", "ok"), ("model", "fine")], True, None),
    ([("user", "multi\nline\n\ntext with <b>tags</b> and {{ braces }}"), ("assistant", "a<channel|>b<|channel>c")], True, None),
    ([("user", "first"), ("system", "a later system message"), ("user", "second")], True, None),
    ([("user", "")], True, None),
]


def render_jinja(template, bos, messages, add_generation_prompt, enable_thinking):
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                                       extensions=[jinja2.ext.loopcontrols])
    context = {"messages": [{"role": r, "content": c} for r, c in messages], "bos_token": bos,
               "add_generation_prompt": add_generation_prompt}
    if enable_thinking is not None:
        context["enable_thinking"] = enable_thinking
    return env.from_string(template).render(**context)


def render_g4c(binary, bos, messages, add_generation_prompt, enable_thinking):
    args = [binary, "--bos", bos]
    if enable_thinking:
        args.append("--think")
    if not add_generation_prompt:
        args.append("--no-generation-prompt")
    for role, content in messages:
        args += [role, content]
    return subprocess.run(args, check=True, capture_output=True).stdout.decode("utf-8")


def main():
    vocab, binary = sys.argv[1:3]
    meta = read_metadata(vocab, {"tokenizer.chat_template", "tokenizer.ggml.tokens", "tokenizer.ggml.bos_token_id"})
    template = meta["tokenizer.chat_template"]
    bos = meta["tokenizer.ggml.tokens"][meta["tokenizer.ggml.bos_token_id"]]
    differ = 0
    for i, (messages, generation_prompt, thinking) in enumerate(CONVERSATIONS):
        expected = render_jinja(template, bos, messages, generation_prompt, thinking)
        got = render_g4c(binary, bos, messages, generation_prompt, thinking)
        same = expected == got
        differ += not same
        print(f"conversation {i}: {'same' if same else 'DIFFERENT'}")
        if not same:
            print(f"  template: {expected!r}\n  g4c:      {got!r}")
    print(f"{len(CONVERSATIONS)} conversations, {differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
