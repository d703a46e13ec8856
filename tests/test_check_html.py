"""``tools/check_html.py``: its pure-Python rules on small inputs, and the browser check on a
tiny fake site (only where Chromium and Playwright exist).

The whole check runs on the built book as ``python3 dev.py check-html``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import zlib
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[1] / "tools" / "check_html.py"


def _tool():
    spec = importlib.util.spec_from_file_location("check_html", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_html"] = module
    spec.loader.exec_module(module)
    return module


tool = _tool()


def test_links_and_anchors(tmp_path: Path):
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


def test_redirect_target_is_a_link(tmp_path: Path):
    (tmp_path / "index.html").write_text(
        '<meta http-equiv="Refresh" content="0; url=book/i.html" />'
    )
    problems, count = tool.check_links(tmp_path, tmp_path / "index.html")
    assert count == 1 and problems == ["broken link 'book/i.html'"]
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "i.html").write_text("<p>landing</p>")
    tool._parse.cache_clear()
    assert tool.check_links(tmp_path, tmp_path / "index.html") == ([], 1)


SVG = """<?xml version="1.0" encoding="utf-8" standalone="no"?>
<svg xmlns:xlink="http://www.w3.org/1999/xlink" width="460pt" height="345pt"
     xmlns="http://www.w3.org/2000/svg" version="1.1">
 <metadata>
  <rdf:RDF xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:cc="http://creativecommons.org/ns#"
           xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
   <cc:Work>
    <dc:type rdf:resource="http://purl.org/dc/dcmitype/StillImage"/>
    {description}
    <dc:creator><cc:Agent><dc:title>Matplotlib v3.11.2, https://matplotlib.org/</dc:title>
    </cc:Agent></dc:creator>
   </cc:Work>
  </rdf:RDF>
 </metadata>
 <g id="figure_1"><path d="M 0 0 L 10 10"/></g>
</svg>
"""


def test_marker_in_svg():
    def svg(description: str) -> bytes:
        return SVG.format(description=description).encode()

    assert tool.figure_marker(svg("")) is None
    text = "<dc:description>initmath-figure-check: legend-overlaps=3</dc:description>"
    assert tool.figure_marker(svg(text)) == 3
    # Matplotlib writes a description as an rdf:Alt list; other text may come first
    alt = (
        "<dc:description><rdf:Alt><rdf:li xml:lang='x-default'>He and Xavier at depth 30. "
        "initmath-figure-check: legend-overlaps=0</rdf:li></rdf:Alt></dc:description>"
    )
    assert tool.figure_marker(svg(alt)) == 0
    desc = "<desc>initmath-figure-check:\n legend-overlaps=12</desc>"
    assert tool.figure_marker(svg(desc)) == 12
    # the marker's text elsewhere (a label, a title) does not count
    label = "<dc:title>initmath-figure-check: legend-overlaps=0</dc:title>"
    assert tool.figure_marker(svg(label)) is None


def test_marker_in_png_from_matplotlib_and_pillow(tmp_path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image, PngImagePlugin

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [0, 1])
    path = tmp_path / "a.png"
    fig.savefig(path, metadata={"Description": "initmath-figure-check: legend-overlaps=2"})
    fig.savefig(tmp_path / "plain.png")
    plt.close(fig)
    assert tool.figure_marker(path.read_bytes()) == 2
    assert tool.figure_marker((tmp_path / "plain.png").read_bytes()) is None
    # compressed text chunks: zTXt and compressed iTXt
    for kind in ("ztxt", "itxt"):
        info = PngImagePlugin.PngInfo()
        if kind == "ztxt":
            info.add_text("Description", "initmath-figure-check: legend-overlaps=5", zip=True)
        else:
            info.add_itxt("Description", "initmath-figure-check: legend-overlaps=5", zip=True)
        out = tmp_path / f"{kind}.png"
        Image.new("RGB", (2, 2)).save(out, pnginfo=info)
        data = out.read_bytes()
        assert (b"zTXt" if kind == "ztxt" else b"iTXt") in data
        assert b"legend-overlaps" not in data  # really compressed
        assert zlib.decompress is not None and tool.figure_marker(data) == 5


def test_figure_problems(tmp_path: Path):
    images = tmp_path / "_images"
    images.mkdir()
    marker = "<dc:description>initmath-figure-check: legend-overlaps={}</dc:description>"
    (images / "good.svg").write_text(SVG.format(description=marker.format(0)))
    (images / "over.svg").write_text(SVG.format(description=marker.format(4)))
    (images / "bare.svg").write_text(SVG.format(description=""))
    base = "http://127.0.0.1:8000"
    srcs = [
        f"{base}/_images/good.svg",
        f"{base}/_images/over.svg",
        (f"{base}/_images/bare.svg", "Fig. 2.1 The band"),  # named by its caption
        f"{base}/_images/good.svg",  # the same image twice is one figure
        f"{base}/_static/logo.png",  # not a figure of the chapter
        f"{base}/_images/missing.svg",  # reported as a broken image, not here
    ]
    problems, count = tool.figure_problems(tmp_path, srcs)
    assert count == 4
    assert problems == [
        "figure whose legend covers 4 plotted points: over.svg",
        "figure without the legend-overlap marker: 'Fig. 2.1 The band' (bare.svg)",
    ]


def test_local_request_filter():
    base = "http://127.0.0.1:8123"
    local = tool.is_local_request
    assert local("http://127.0.0.1:8123/book/he.html", base)
    assert local("http://127.0.0.1:8123/_static/mathjax/output/chtml/fonts/x.woff", base)
    assert local("data:image/png;base64,AAAA", base)
    assert local("blob:http://127.0.0.1:8123/1234", base)
    assert local("about:blank", base)
    assert not local("https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js", base)
    assert not local("https://fonts.googleapis.com/css?family=Lato", base)
    assert not local("http://127.0.0.1:9999/other-server", base)  # another port
    assert not local("http://127.0.0.1.example.org:8123/x", base)  # a host named like it
    assert not local("http://10.0.0.1:8123/x", base)
    assert not local("ws://127.0.0.1:8123/socket", base)  # only http(s) to the server
    assert not local("//example.org/x", base)


def test_table_width_rule():
    tables = [
        {"caption": "Forward ratios", "header": "scheme", "width": 700.0},
        {"caption": "", "header": "activation", "width": 701.0},  # within the tolerance
        {"caption": "", "header": "q^L", "width": 701.5},
        {"caption": "Backward ratios", "header": "scheme", "width": 980.0},
    ]
    problems = tool.table_problems(tables, 700.0)
    assert problems == [
        "table 3 (first header 'q^L') is 702 px wide, the text column 700 px",
        "table 4 (Backward ratios) is 980 px wide, the text column 700 px",
    ]
    assert tool.table_problems(tables, None) == []  # a page without the article column
    assert tool.table_problems(tables, 1000.0) == []


def _chromium() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium")


PAGE = """<!DOCTYPE html>
<html><head>
<script>document.documentElement.dataset.theme = localStorage.getItem("theme");</script>
<script src="https://example.org/tracker.js"></script>
<style>article.bd-article {{ width: 600px; padding: 0 20px; }}</style>
</head><body><main><article class="bd-article">
<h1 id="top">A page</h1>
<p>Text <a href="#top">up</a>.</p>
<table><caption>Too wide</caption><tr><th>h</th>
<td><div style="width: {wide}px">wide cell</div></td></tr></table>
<table><caption>Fits</caption><tr><th>h</th><td>narrow</td></tr></table>
<img src="_images/fig.svg">
</article></main></body></html>
"""


@pytest.mark.skipif(_chromium() is None, reason="needs Chromium")
def test_browser_check_on_a_fake_site(tmp_path: Path):
    pytest.importorskip("playwright.sync_api", reason="needs Playwright (the html extra)")
    (tmp_path / "_images").mkdir()
    marker = "<dc:description>initmath-figure-check: legend-overlaps=0</dc:description>"
    (tmp_path / "_images" / "fig.svg").write_text(SVG.format(description=marker))
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "page.html").write_text(
        PAGE.format(wide=900).replace("_images", "../_images")
    )
    (tmp_path / "book" / "fine.html").write_text(
        PAGE.format(wide=100)
        .replace("_images", "../_images")
        .replace('<script src="https://example.org/tracker.js"></script>', "")
    )
    shots = tmp_path / "shots"
    shots.mkdir()
    reports = tool.check_site(tmp_path, ["book/page.html", "book/fine.html"], shots)
    bad, fine = reports
    assert fine.problems == [], fine.problems
    assert len(bad.problems) == 2, bad.problems
    table, request = sorted(bad.problems, key=lambda p: "request" in p)
    assert table.startswith("[light, dark] table 1 (Too wide) is ")
    assert "the text column 600 px" in table
    assert (
        request == "[light, dark] request to another host (aborted): https://example.org/tracker.js"
    )
    assert (bad.tables, bad.figures, bad.images) == (2, 1, 1)
    names = sorted(p.name for p in shots.iterdir())
    assert names == [f"book_{p}-{t}.png" for p in ("fine", "page") for t in ("dark", "light")]


def test_marker_of_the_book_figures():
    """The check reads the count that initmath.practice.plotting writes, legend clear or not."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from initmath.practice import plotting

    fig, ax = plt.subplots()
    ax.plot(range(10), range(10), label="clear")
    plotting.legend(ax)
    clear = plotting.svg_figure(fig)
    fig2, ax2 = plt.subplots()
    ax2.plot(range(10), [5] * 10, label="over the line")
    ax2.legend(loc="center")
    covered = plotting.svg_figure(fig2)
    plt.close(fig)
    plt.close(fig2)
    assert clear is not None and covered is not None
    assert tool.figure_marker(clear.encode()) == 0 == len(plotting.legend_overlaps(fig))
    n = len(plotting.legend_overlaps(fig2))
    assert n > 0 and tool.figure_marker(covered.encode()) == n
