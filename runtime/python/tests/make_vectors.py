"""Regenerates cbor_vectors.json from the hand-written table below.

The hex strings are written by hand from RFC 8949 (not produced by our
encoder); test_cbor checks our codec against them and the host checks
ciborium against the same file.

Value notation in "json": plain JSON, except {"$bytes": "<hex>"} for a byte
string. "decode_only": true marks encodings our encoder never produces
(indefinite lengths, half/single floats) - decoders must still accept them.
"""
import json
import os

VECTORS = [
    ("00", 0), ("17", 23), ("1818", 24), ("18ff", 255), ("190100", 256),
    ("1a00010000", 65536), ("1b0000000100000000", 4294967296),
    ("1bffffffffffffffff", 2**64 - 1),
    ("c249010000000000000000", 2**64),
    ("20", -1), ("37", -24), ("3818", -25), ("3903e7", -1000),
    ("3bffffffffffffffff", -(2**64)),
    ("c349010000000000000000", -(2**64) - 1),
    ("f4", False), ("f5", True), ("f6", None),
    ("fb3ff8000000000000", 1.5), ("fb8000000000000000", -0.0),
    ("fb7e37e43c8800759c", 1e300), ("fb0000000000000000", 0.0),
    ("60", ""), ("6161", "a"), ("6449455446", "IETF"),
    ("62c3bc", "\u00fc"), ("63e6b0b4", "\u6c34"), ("64f0908591", "\U00010151"),
    ("40", {"$bytes": ""}), ("4401020304", {"$bytes": "01020304"}),
    ("80", []), ("83010203", [1, 2, 3]),
    ("8301820203820405", [1, [2, 3], [4, 5]]),
    ("a0", {}), ("a201020304", None),  # int keys: see "note"
    ("a26161016162820203", {"a": 1, "b": [2, 3]}),
    ("826161a161626163", ["a", {"b": "c"}]),
    ("a3616bf6616cf5616d826178fb4004000000000000",
     {"k": None, "l": True, "m": ["x", 2.5]}),
    # decode-only forms
    ("f93c00", 1.0, True), ("f98000", -0.0, True), ("fa47c35000", 100000.0, True),
    ("5f42010243030405ff", {"$bytes": "0102030405"}, True),
    ("7f657374726561646d696e67ff", "streaming", True),
    ("9f018202039f0405ffff", [1, [2, 3], [4, 5]], True),
    ("bf61610161629f0203ffff", {"a": 1, "b": [2, 3]}, True),
    ("f7", None, True),
]


def main():
    out = []
    for entry in VECTORS:
        hex_, value = entry[0], entry[1]
        item = {"hex": hex_, "json": value}
        if hex_ == "a201020304":
            item["json"] = None
            item["note"] = "map with integer keys {1: 2, 3: 4}; JSON cannot express it"
            item["python"] = "{1: 2, 3: 4}"
        if len(entry) > 2 and entry[2]:
            item["decode_only"] = True
        out.append(item)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cbor_vectors.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
