"""The static half of ``tools/check_html.py`` (links and anchors) on a small fake site.

The browser half needs Chromium and npm and runs as ``python3 dev.py check-html``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

TOOL = Path(__file__).resolve().parents[1] / "tools" / "check_html.py"


def _tool():
    spec = importlib.util.spec_from_file_location("check_html", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_html"] = module
    spec.loader.exec_module(module)
    return module


def test_links_and_anchors(tmp_path: Path):
    tool = _tool()
    (tmp_path / "book").mkdir()
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "x.css").write_text("")
    (tmp_path / "book" / "b.html").write_text('<h1 id="top">B</h1><span id="eq-1"></span>')
    page = tmp_path / "book" / "a.html"
    page.write_text(
        '<link href="../_static/x.css"><a href="b.html#eq-1">ok</a><a href="#here">self</a>'
        '<p id="here"></p><a href="https://example.org/x">external</a>'
        '<a href="b.html#nope">bad anchor</a><a href="missing.html">bad file</a>'
        '<img src="../_images/gone.png"><a href="/book/b.html#top">root</a>'
        '<a href="../../outside.html">outside</a>'
    )
    problems, count = tool.check_links(tmp_path, page)
    assert count == 8  # the external link is not counted
    assert len(problems) == 4, problems
    joined = "\n".join(problems)
    for expected in ("no id 'nope'", "missing.html", "gone.png", "outside.html"):
        assert expected in joined
    assert "eq-1" not in joined and "#here" not in joined and "/book/b.html#top" not in joined
