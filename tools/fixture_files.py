"""Shared by the fixture scripts in tools/: reproducible safetensors files.

safetensors keeps the metadata in a Rust HashMap whose order changes from run to run;
canonicalize_header rewrites the header with sorted keys (same length, same offsets) so that
reruns of a fixture script produce the same bytes and sha256.
"""
import json


def canonicalize_header(path):
    raw = bytearray(path.read_bytes())
    n = int.from_bytes(raw[:8], "little")
    text = json.dumps(json.loads(raw[8:8 + n]), sort_keys=True, separators=(",", ":"))
    assert len(text) <= n, "canonical header longer than the original"
    raw[8:8 + n] = (text + " " * (n - len(text))).encode("ascii")
    path.write_bytes(bytes(raw))
