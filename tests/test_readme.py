"""Every fenced Python example in the README runs as written (in order, as in one session)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import initmath

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def _blocks() -> list[str]:
    return _BLOCK.findall(README.read_text())


def test_readme_has_python_examples():
    assert len(_blocks()) >= 4


@pytest.mark.slow  # ~30 s: 2000 simulated networks, verify, 20 epochs of a 31-layer net
def test_readme_examples_run_as_written():
    # (conftest's autouse fixture removes the activation the README registers afterwards)
    # The README is the project's own text, not user input: run it like a doctest would.
    namespace: dict[str, object] = {"__name__": "readme"}
    for i, block in enumerate(_blocks()):
        code = compile(block, f"README.md block {i + 1}", "exec")
        exec(code, namespace)
    assert "cube" in initmath.activation_names()
