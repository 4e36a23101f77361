"""Edits one value of a GGUF file in place, to build files that disagree with a plan (stdlib only).

    patch_gguf.py FILE metadata-int KEY INDEX VALUE   # element INDEX of an integer (array) key
    patch_gguf.py FILE tensor-f32 NAME INDEX VALUE    # element INDEX of an F32 tensor
"""
import struct
import sys

SCALAR = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        size = struct.calcsize("<" + fmt)
        value = struct.unpack_from("<" + fmt, self.data, self.pos)[0]
        self.pos += size
        return value

    def string(self):
        n = self.take("Q")
        s = self.data[self.pos:self.pos + n].decode()
        self.pos += n
        return s

    def skip_value(self, kind):
        if kind == 8:
            self.string()
        elif kind == 9:
            elem, count = self.take("I"), self.take("Q")
            for _ in range(count):
                self.skip_value(elem)
        else:
            self.take(SCALAR[kind])


def main():
    path, what, name, index, value = sys.argv[1:6]
    data = bytearray(open(path, "rb").read())
    r = Reader(data)
    assert r.take("I") == 0x46554747
    r.take("I")
    n_tensors, n_kv = r.take("Q"), r.take("Q")
    alignment = 32
    for _ in range(n_kv):
        key = r.string()
        kind = r.take("I")
        if what == "metadata-int" and key == name:
            if kind == 9:
                elem, count = r.take("I"), r.take("Q")
                struct.pack_into("<" + SCALAR[elem], data, r.pos + int(index) * struct.calcsize(SCALAR[elem]), int(value))
            else:
                struct.pack_into("<" + SCALAR[kind], data, r.pos, int(value))
            open(path, "wb").write(data)
            return
        if key == "general.alignment":
            alignment = struct.unpack_from("<I", data, r.pos)[0]
        r.skip_value(kind)
    tensors = {}
    for _ in range(n_tensors):
        tname = r.string()
        dims = [r.take("Q") for _ in range(r.take("I"))]
        r.take("I")
        tensors[tname] = r.take("Q")
    data_start = (r.pos + alignment - 1) // alignment * alignment
    if what == "tensor-f32" and name in tensors:
        struct.pack_into("<f", data, data_start + tensors[name] + 4 * int(index), float(value))
        open(path, "wb").write(data)
        return
    sys.exit(f"patch_gguf.py: no {what} {name} in {path}")


main()
