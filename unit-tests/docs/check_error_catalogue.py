#!/usr/bin/env python3
"""Checks that docs/errors.md lists every error message the lit tests expect g4c and g4run to print.

For every lit test (lit-tests/**) with a RUN line `not g4c ...` or `not g4run ...`, the FileCheck
lines of the prefixes those RUN lines use (CHECK by default, --check-prefix=X otherwise) are read;
each positive check line (not -NOT) containing `error: ` gives one expected message, the text after
`error: `. FileCheck's own patterns in it ({{regex}}, [[VAR]], [[@LINE]]) are unknown text.

The catalogue's messages are the `code spans` in the first column of its tables headed `message`,
where `<name>` stands for a variable part. A tested message is covered when some catalogue message
can print it: the two are compared as patterns in which placeholders (catalogue) and FileCheck
patterns (test) match any text, within limits that keep a generic row such as
`<key>: unknown key` from covering every message (see covers()). A check may stop before the end
of the message (FileCheck matches part of a line). Every tested message no row covers is listed,
and the script exits with status 1; it also fails on a row with fewer than two literal words.

usage: check_error_catalogue.py [--root DIR] [--catalogue FILE] [--list]
  --root DIR        the repository (default: two levels above this script)
  --catalogue FILE  the catalogue to check (default: ROOT/docs/errors.md)
  --list            print every tested message with the test that checks it, and the row covering it
"""
import argparse
import functools
import os
import re
import sys

WILD = "\0"  # stands for any text, on either side of a comparison

RUN_RE = re.compile(r"^\s*(?:#|//|;)?\s*RUN:\s?(.*)$")
NOT_TOOL_RE = re.compile(r"(?:^|[|;&]\s*|\s)not\s+g4(?:c|run)\b")
PREFIX_RE = re.compile(r"--check-prefix(?:es)?[= ](\S+)")
FILECHECK_RE = re.compile(r"\bFileCheck\b")
FILECHECK_PATTERN_RE = re.compile(r"\{\{.*?\}\}|\[\[.*?\]\]")


def lit_tests(root):
    base = os.path.join(root, "lit-tests")
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d != "Inputs")
        for name in sorted(filenames):
            if os.path.splitext(name)[1] in (".test", ".toml", ".plan"):
                yield os.path.join(dirpath, name)


def run_lines(lines):
    """RUN lines, with `\\` continuations joined."""
    out, pending = [], ""
    for line in lines:
        m = RUN_RE.match(line)
        if not m:
            continue
        text = m.group(1).rstrip()
        if text.endswith("\\"):
            pending += text[:-1] + " "
            continue
        out.append(pending + text)
        pending = ""
    if pending:
        out.append(pending)
    return out


def failing_prefixes(runs):
    """Check prefixes whose FileCheck reads the output of `not g4c` / `not g4run`."""
    prefixes = set()
    for run in runs:
        if not NOT_TOOL_RE.search(run) or not FILECHECK_RE.search(run):
            continue
        found = []
        for m in PREFIX_RE.finditer(run):
            found += [p for p in m.group(1).split(",") if p]
        prefixes.update(found or ["CHECK"])
    return prefixes


def tested_messages(root):
    """(test path relative to root, line number, message pattern) for every checked error."""
    out = []
    for path in lit_tests(root):
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
        prefixes = failing_prefixes(run_lines(lines))
        if not prefixes:
            continue
        alternatives = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
        check_re = re.compile(r"(?:^|[\s#/;])(" + alternatives + r")(-NEXT|-SAME|-DAG|-LABEL|-EMPTY)?:\s?(.*)$")
        for number, line in enumerate(lines, 1):
            m = check_re.search(line)
            if not m:
                continue
            body = m.group(3)
            at = body.find("error: ")
            if at < 0:
                continue
            message = body[at + len("error: "):].strip()
            if not FILECHECK_PATTERN_RE.sub("", message).strip():
                continue  # e.g. `nope.gguf: error:`: nothing but the severity is checked
            out.append((os.path.relpath(path, root), number, message))
    return out


def test_pattern(message):
    """The checked text with FileCheck patterns as WILD."""
    return FILECHECK_PATTERN_RE.sub(WILD, message)


CODE_SPAN_RE = re.compile(r"(`+)(.+?)\1")
PLACEHOLDER_RE = re.compile(r"<[A-Za-z0-9_ .|/-]+>")


def catalogue_messages(path):
    """(line number, message as written, pattern) for every code span in the first column of a
    table whose first column is headed `message`."""
    out = []
    in_catalogue_table = False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.startswith("|"):
                in_catalogue_table = False
                continue
            cells = re.split(r"(?<!\\)\|", line)
            if len(cells) < 3 or re.match(r"^[\s:-]*$", cells[1]):
                continue  # the |---|---| line
            if not in_catalogue_table and cells[1].strip().lower() == "message":
                in_catalogue_table = True  # the header row
                continue
            if not in_catalogue_table:
                continue
            first = cells[1].replace("\\|", "|")
            for m in CODE_SPAN_RE.finditer(first):
                text = m.group(2).strip()
                out.append((number, text, PLACEHOLDER_RE.sub(WILD, text)))
    return out


def words(text):
    """Words of three or more letters in the literal parts of a pattern."""
    return re.findall(r"[A-Za-z]{3,}", text.replace(WILD, " "))


COMPLETE = 1 << 20  # the score of a match that reaches the end of both patterns
MIN_LETTERS = 6     # a test that stops before the row's end must have matched this many letters


def covers(row, test):
    """Whether the catalogue pattern `row` prints a line that the check `test` accepts.

    Both are literal text with WILD parts that stand for any text: placeholders in the row,
    FileCheck patterns in the test. FileCheck accepts a line that merely starts with the checked
    text, so the test may stop before the row does. Three rules keep generic rows such as
    `<key>: unknown key` from covering every message:
      - a test pattern may stand for the row's punctuation or digits, never for its words;
      - a test that stops early must have matched at least MIN_LETTERS letters of the row's
        literal text,
      - and its placeholders must each have taken one word of the test (a name or a number), not
        several: else a placeholder could take the test's text and leave the row's for after it.
    """
    a = re.sub(WILD + "+", WILD, row)
    b = re.sub(WILD + "+", WILD, test)
    row_words, test_words = words(a), set(words(b))
    if row_words and row_words[0] not in test_words:
        return False  # the row's first word must be checked by the test

    @functools.lru_cache(maxsize=None)
    def best(i, j, spaced):
        """The best score of matching a[i:] against b[j:]: the letters of the row's literal text
        that the test's literal text matches; None when they cannot match. `spaced`: a row
        placeholder has taken a space of the test."""
        if j == len(b):
            if all(c == WILD for c in a[i:]):
                return COMPLETE
            return None if spaced else 0  # the test stopped early
        options = []
        if i < len(a) and a[i] == WILD:
            options.append(best(i + 1, j, spaced))             # the placeholder ends
            options.append(best(i, j + 1, spaced or b[j] == " "))  # it takes b[j]
        if b[j] == WILD:
            options.append(best(i, j + 1, spaced))             # the test's pattern ends
            if i < len(a) and a[i] != WILD and not a[i].isalpha():
                options.append(best(i + 1, j, spaced))         # it takes a[i]
        if i < len(a) and a[i] != WILD and b[j] != WILD and a[i] == b[j]:
            rest = best(i + 1, j + 1, spaced)
            options.append(None if rest is None else rest + a[i].isalpha())
        options = [o for o in options if o is not None]
        return max(options) if options else None

    sys.setrecursionlimit(max(10000, 4 * (len(a) + len(b) + 10)))
    score = best(0, 0, False)
    return score is not None and score >= MIN_LETTERS


def literal_words(pattern):
    return re.findall(r"[A-Za-z]{2,}", pattern.replace(WILD, " "))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.path.normpath(os.path.join(here, "..", "..")))
    parser.add_argument("--catalogue")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    catalogue_path = args.catalogue or os.path.join(args.root, "docs", "errors.md")

    rows = catalogue_messages(catalogue_path)
    # A row must say something: at least two literal words, so that `<message>` covers nothing.
    vague = [(n, text) for n, text, pattern in rows if len(literal_words(pattern)) < 2]
    for n, text in vague:
        print(f"{catalogue_path}:{n}: catalogue message has fewer than two literal words: `{text}`")

    tests = tested_messages(args.root)
    missing = []
    for path, number, message in tests:
        pattern = test_pattern(message)
        covering = [(n, text) for n, text, row in rows if covers(row, pattern)]
        if args.list:
            where = f"{catalogue_path}:{covering[0][0]}" if covering else "MISSING"
            print(f"{path}:{number}: {message}\n    -> {where}")
        if not covering:
            missing.append((path, number, message))

    for path, number, message in missing:
        print(f"{path}:{number}: error: message not in {os.path.relpath(catalogue_path, args.root)}: {message}")
    print(f"{len(tests)} tested error messages, {len(rows)} catalogue messages, {len(missing)} missing")
    return 1 if missing or vague or not tests else 0


if __name__ == "__main__":
    sys.exit(main())
