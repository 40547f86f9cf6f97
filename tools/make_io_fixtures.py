#!/usr/bin/env python3
"""Writes tests/data/io/python_written.safetensors with the Python `safetensors` package, so the
C++ reader is tested on a file it did not write itself. Values are exactly representable in every
dtype used (F32, F64, F16, BF16, I64, I32), so the C++ test can compare them exactly.

    pip install -r tools/requirements-golden.txt
    python tools/make_io_fixtures.py
"""
import pathlib

import torch
from safetensors.torch import save_file

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "io"


def main():
    # 2**-20 is a float16 subnormal; inf checks the special-value path of every converter.
    values = torch.tensor([[0.5, -1.25, 3.0, 2.0**-20], [1024.0, -0.0078125, 7.0, float("inf")]])
    tensors = {
        "f32": values.to(torch.float32),
        "f64": values.to(torch.float64),
        "f16": values.to(torch.float16),
        "bf16": values.to(torch.bfloat16),
        "i64": torch.tensor([-3, 0, 5, 1 << 20], dtype=torch.int64),
        "i32": torch.tensor([[7], [-9]], dtype=torch.int32),
        "scalar": torch.tensor(2.5, dtype=torch.float32),
        "empty": torch.zeros((0, 4), dtype=torch.float32),
        "nested.name.weight": torch.arange(6, dtype=torch.float32).reshape(3, 2),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(OUT / "python_written.safetensors"),
              metadata={"format": "pt", "note": "written by tools/make_io_fixtures.py"})
    (OUT / "python_written.safetensors").chmod(0o644)  # safetensors creates it 0600


if __name__ == "__main__":
    main()
