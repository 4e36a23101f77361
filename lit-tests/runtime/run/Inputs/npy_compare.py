"""Compares sequence A of one logits dump with sequence B of another, bit for bit (stdlib only)."""
import struct
import sys


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", path
    (hlen,) = struct.unpack("<H", data[8:10])
    header = data[10:10 + hlen].decode()
    shape = tuple(int(x) for x in header.split("(")[1].split(")")[0].split(",") if x.strip())
    return shape, data[10 + hlen:]


def rows(shape, payload, seq):
    _, positions, vocab = shape
    out = []
    for p in range(positions):
        start = ((seq * positions) + p) * vocab * 4
        row = payload[start:start + vocab * 4]
        if struct.unpack("<f", row[:4])[0] != struct.unpack("<f", row[:4])[0]:  # NaN: not reached
            break
        out.append(row)
    return out


(sa, pa), (sb, pb) = load(sys.argv[1]), load(sys.argv[3])
a, b = rows(sa, pa, int(sys.argv[2])), rows(sb, pb, int(sys.argv[4]))
if a != b:
    print(f"different: {len(a)} vs {len(b)} positions")
    sys.exit(1)
print(f"identical: {len(a)} positions x {sa[2]} logits")
