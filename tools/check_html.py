#!/usr/bin/env python3
"""Open the built book in a real headless browser and check what a reader sees.

Run after building the book::

    python3 dev.py book
    python3 dev.py check-html            # or: .venv/bin/python tools/check_html.py

``dev.py check-html`` installs the optional ``html`` extra (Playwright for Python) into
``.venv``. The browser is the system's Chromium (Debian: ``apt-get install chromium``; another
binary via ``$CHROMIUM``), driven by Playwright; ``playwright install`` is never needed.

The check serves ``_build/html`` on ``127.0.0.1`` and opens every page in both of the theme's
colour schemes (light and dark), at a viewport of 1280 x 800 pixels. Every request the page
makes to another host is aborted and recorded, so the check runs as if the network were off
and fails if the book depends on it. For every page and theme it saves a full-page screenshot
to ``_build/html-check/<page>-<theme>.png`` and fails on:

1. math: an element MathJax should typeset that holds no output, a TeX error, MathJax not
   starting, or raw TeX (``$...$``, ``\\frac``, ``\\begin``, ...) in the visible text outside
   code;
2. an image that did not load, or a request to the local server that failed (404, ...);
3. a request to any host other than the local server (MathJax and its fonts included);
4. a table wider than the text column (``article.bd-article``) by more than one pixel;
5. a figure image (SVG or PNG from ``_images/``) in a chapter whose legend overlaps plotted
   points, or that lacks the marker ``initmath-figure-check: legend-overlaps=<N>``, which
   ``initmath.practice.plotting`` writes into the figure's metadata (SVG ``<dc:description>``
   or ``<desc>``; PNG ``Description`` text chunk) after counting, from the figure's artists,
   the plotted points the legend covers;
6. the theme not switching (``document.documentElement.dataset.theme``);
7. a JavaScript error on the page;
8. an internal link or ``#anchor`` that does not resolve (this part reads the HTML files
   directly).

It prints a summary per page and exits with status 1 if anything failed.
"""

from __future__ import annotations

import argparse
import fnmatch
import functools
import html.parser
import http.server
import ipaddress
import os
import re
import shutil
import struct
import sys
import threading
import urllib.parse
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "html-check"
THEMES = ("light", "dark")
VIEWPORT = {"width": 1280, "height": 800}
#: Chromium's flags: no sandbox (root in CI), and none of its own traffic to Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Pages whose images are not figures of a chapter (the landing page's flowchart, the
#: generated indices): the legend marker is not required there.
NOT_CHAPTERS = ("index.html", "book/index.html", "genindex.html", "search.html",
                "py-modindex.html", "book/api.html", "book/bibliography.html")  # fmt: skip
REDIRECT = re.compile(r"<meta[^>]+http-equiv=[\"']?refresh", re.I)
MARKER = re.compile(r"initmath-figure-check:\s*legend-overlaps=(\d+)")
#: The overflow a table may have over the text column (sub-pixel rounding).
TABLE_TOLERANCE_PX = 1.0
PAGE_TIMEOUT_MS = 120_000
#: JavaScript errors of third-party code that a book cannot fix, with the reason they are
#: harmless; they are counted and named in the summary instead of failing the page.
KNOWN_JS_ERRORS = {
    "Identifier 'THEBE_JS_URL' has already been declared": (
        "sphinx-thebe 0.3.1 (loaded by Jupyter Book although thebe is off) adds its "
        "configuration script twice to every page; the second copy only redeclares the same "
        "constants"
    ),
}
_ignored_js_errors: dict[str, int] = {}

# Runs in the page after load: waits for MathJax, then reports what it found.
PROBE = """
async () => {
  const out = {mathjax: false, error: null};
  try {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      await MathJax.startup.promise;
      out.mathjax = true;
    }
  } catch (e) { out.error = String(e); }
  // web fonts MathJax asked for while typesetting; after them the page requests nothing more
  if (document.fonts && document.fonts.ready) { await document.fonts.ready; }
  out.theme = document.documentElement.dataset.theme || null;
  const maths = [...document.querySelectorAll(".math")];
  out.math = maths.length;
  out.unrendered = maths.filter(m => !m.querySelector("mjx-container"))
                        .map(m => m.textContent.trim().slice(0, 80));
  out.texErrors = [...document.querySelectorAll("mjx-merror")]
                        .map(e => (e.getAttribute("data-mjx-error") || e.textContent).slice(0, 80));
  const main = (document.querySelector("main") || document.body).cloneNode(true);
  main.querySelectorAll("pre, code, script, style, mjx-container, .highlight, .output")
      .forEach(e => e.remove());
  const raw = main.textContent.match(
      /\\$[^$\\s][^$]{0,60}\\$|\\\\(frac|begin|end|sqrt|mathrm|mathbb|left|right|sum|prod|lfloor|texttt|textit|emph)\\b|\\\\\\(|\\\\\\[/g);
  out.rawTex = (raw || []).slice(0, 10);
  const imgs = [...document.images];
  out.images = imgs.length;
  out.brokenImages = imgs.filter(i => !(i.complete && i.naturalWidth > 0))
                         .map(i => i.getAttribute("src"));
  const article = document.querySelector("article.bd-article");
  // each image with what names it for a reader: its figure's caption, else its section
  out.figures = article ? [...article.querySelectorAll("img")].map(i => {
    const fig = i.closest("figure");
    const cap = fig && fig.querySelector("figcaption");
    const sec = i.closest("section");
    const h = sec && sec.querySelector("h1, h2, h3, h4");
    const name = cap ? cap.textContent : (h ? "in section " + h.textContent : "");
    return [i.src, name.trim().replace(/\\s+/g, " ").replace(/#$/, "").slice(0, 70)];
  }) : [];
  out.column = null;
  out.tables = [];
  if (article) {
    const cs = getComputedStyle(article);
    out.column = article.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    out.tables = [...article.querySelectorAll("table")].map(t => {
      const cap = t.querySelector("caption");
      const th = t.querySelector("th") || t.querySelector("td");
      return {
        caption: cap ? cap.textContent.trim().replace(/\\s+/g, " ").slice(0, 80) : "",
        header: th ? th.textContent.trim().replace(/\\s+/g, " ").slice(0, 40) : "",
        width: Math.max(t.scrollWidth, t.getBoundingClientRect().width),
      };
    });
  }
  return out;
}
"""


@dataclass
class PageReport:
    page: str
    problems: list[str] = field(default_factory=list)
    math: int = 0
    images: int = 0
    links: int = 0
    tables: int = 0
    figures: int = 0


# --- static part: links -------------------------------------------------------------------
class _Collector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.resources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(str(a[key]))
        if tag == "a" and a.get("href"):
            self.links.append(str(a["href"]))
        if tag in ("img", "script") and a.get("src"):
            self.resources.append(str(a["src"]))
        if tag == "link" and a.get("href"):
            self.resources.append(str(a["href"]))
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "refresh":
            target = re.search(r"url=(.+)", a.get("content") or "", re.I)
            if target:
                self.links.append(target.group(1).strip().strip("'\""))


@functools.cache
def _parse(path: Path) -> _Collector:
    c = _Collector()
    c.feed(path.read_text(encoding="utf-8"))
    return c


def _local(url: str) -> bool:
    scheme = urllib.parse.urlsplit(url).scheme
    return scheme == "" and not url.startswith("//")


def check_links(site: Path, page: Path) -> tuple[list[str], int]:
    """Problems with the internal links and resources of ``page``, and how many there are."""
    problems, count = [], 0
    info = _parse(page)
    for url in info.links + info.resources:
        if not _local(url):
            continue
        count += 1
        parts = urllib.parse.urlsplit(url)
        path = urllib.parse.unquote(parts.path)
        if not path:
            target = page
        elif path.startswith("/"):  # relative to the site's root
            target = site / path.lstrip("/")
        else:
            target = page.parent / path
        target = target.resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.exists() or site.resolve() not in target.parents:
            problems.append(f"broken link {url!r}")
            continue
        if parts.fragment and target.suffix == ".html":
            if urllib.parse.unquote(parts.fragment) not in _parse(target).ids:
                problems.append(f"link {url!r}: no id {parts.fragment!r} in {target.name}")
    return problems, count


# --- pure rules (unit-tested without a browser) ---------------------------------------------
def is_local_request(url: str, base: str) -> bool:
    """Whether a request for ``url`` stays on the local server ``base`` (or in the page).

    ``data:``, ``blob:`` and ``about:`` URLs never leave the browser; an ``http(s)`` URL is
    local only on the host and port of ``base``, which must be a loopback address.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    if parts.scheme not in ("http", "https"):
        return False
    server = urllib.parse.urlsplit(base)
    host = parts.hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    return loopback and host == server.hostname and parts.port == server.port


def figure_marker(data: bytes) -> int | None:
    """The legend-overlap count ``N`` of a figure's ``initmath-figure-check`` marker, or None.

    In an SVG the marker is the text of ``<dc:description>`` or ``<desc>``; in a PNG it is in
    a ``tEXt``, ``zTXt`` or ``iTXt`` chunk (Matplotlib's ``metadata={"Description": ...}``).
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        texts = _png_texts(data)
    else:
        svg = data.decode("utf-8", errors="replace")
        texts = re.findall(
            r"<(?:dc:description|desc)\b[^>]*>(.*?)</(?:dc:description|desc)>", svg, re.S
        )
        texts = [re.sub(r"<[^>]+>", " ", t) for t in texts]  # <rdf:Alt><rdf:li>... inside
    for text in texts:
        m = MARKER.search(html.unescape(text))
        if m:
            return int(m.group(1))
    return None


def _png_texts(data: bytes) -> list[str]:
    texts, pos = [], 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"tEXt":
            texts.append(body.partition(b"\0")[2].decode("latin-1"))
        elif kind == b"zTXt":
            texts.append(zlib.decompress(body.partition(b"\0")[2][1:]).decode("latin-1"))
        elif kind == b"iTXt":
            _key, _, rest = body.partition(b"\0")
            compressed, rest = rest[0], rest[2:]
            _lang, _, rest = rest.partition(b"\0")
            _tkey, _, text = rest.partition(b"\0")
            texts.append((zlib.decompress(text) if compressed else text).decode("utf-8"))
        elif kind == b"IEND":
            break
    return texts


def table_problems(tables: Iterable[dict[str, object]], column: float | None) -> list[str]:
    """A problem for each table wider than the text column ``column`` (CSS pixels).

    Each table is a mapping with its ``width`` (its full, scrollable width), ``caption`` and
    ``header`` (its first header cell), which name it in the message.
    """
    if column is None:
        return []
    problems = []
    for i, t in enumerate(tables, start=1):
        width = float(t["width"])  # type: ignore[arg-type]
        if width - column > TABLE_TOLERANCE_PX:
            name = t.get("caption") or f"first header {t.get('header')!r}"
            problems.append(
                f"table {i} ({name}) is {width:.0f} px wide, the text column {column:.0f} px"
            )
    return problems


def figure_problems(
    site: Path, srcs: Iterable[str | tuple[str, str] | list[str]]
) -> tuple[list[str], int]:
    """Problems of the figure images ``srcs`` (URLs of files in ``site``, each alone or with
    a name for the message, such as its caption): a legend over plotted points or no marker;
    and how many figure images there were."""
    problems, count = [], 0
    named = {}
    for item in srcs:
        src, label = (item, "") if isinstance(item, str) else (item[0], item[1])
        named.setdefault(src, label)  # once each, in order
    for src, label in named.items():
        path = urllib.parse.unquote(urllib.parse.urlsplit(src).path)
        if "/_images/" not in path or not path.lower().endswith((".svg", ".png")):
            continue
        count += 1
        file = site / path.lstrip("/")
        name = f"{label!r} ({file.name})" if label else file.name
        if not file.exists():
            continue  # reported as a broken image
        n = figure_marker(file.read_bytes())
        if n is None:
            problems.append(f"figure without the legend-overlap marker: {name}")
        elif n > 0:
            problems.append(f"figure whose legend covers {n} plotted points: {name}")
    return problems, count


# --- browser part ---------------------------------------------------------------------------
def chromium() -> str:
    exe = (
        os.environ.get("CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
        or shutil.which("google-chrome")
    )
    if not exe:
        sys.exit(
            "check_html: no Chromium found (Debian: apt-get install chromium; or set $CHROMIUM)"
        )
    return exe


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # a browser that drops a connection it no longer needs is not an error of the page
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def shot_name(rel: str, theme: str) -> str:
    return rel.replace("/", "_").removesuffix(".html") + f"-{theme}.png"


def check_page_in_theme(
    context: object, base: str, rel: str, shots: Path | None, theme: str
) -> tuple[list[str], dict[str, object]]:
    """Open ``rel`` in a browser context set to ``theme``; its problems and probe result."""
    problems: list[str] = []
    external: list[str] = []
    failed: list[str] = []
    errors: list[str] = []

    def route(r: object) -> None:
        url = r.request.url  # type: ignore[attr-defined]
        if is_local_request(url, base):
            r.continue_()  # type: ignore[attr-defined]
        else:
            external.append(url)
            r.abort("blockedbyclient")  # type: ignore[attr-defined]

    page = context.new_page()  # type: ignore[attr-defined]
    page.route("**/*", route)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "response",
        lambda resp: failed.append(f"{resp.status} {resp.url}") if resp.status >= 400 else None,
    )
    page.on(
        "requestfailed",
        lambda req: (
            failed.append(f"{req.failure} {req.url}") if is_local_request(req.url, base) else None
        ),
    )
    try:
        page.goto(f"{base}/{rel}", wait_until="load", timeout=PAGE_TIMEOUT_MS)
        # The probe waits for MathJax and the web fonts itself. No wait for "networkidle":
        # on the API page (1.4 MB, 1500 formulas) Chromium never reports it once requests
        # are intercepted, though every request has finished (seen in CI, 2026-12-01).
        result: dict[str, object] = page.evaluate(PROBE)
    except Exception as exc:  # a timeout or a crashed page: report it, go on
        problems.append(f"the page did not load: {str(exc).splitlines()[0]}")
        page.close()
        return problems, {}
    if shots is not None:
        try:
            page.screenshot(
                path=str(shots / shot_name(rel, theme)), full_page=True, timeout=PAGE_TIMEOUT_MS
            )
        except Exception as exc:  # the checks above still count
            problems.append(f"no screenshot: {str(exc).splitlines()[0]}")
    page.close()
    if result.get("theme") != theme:
        problems.append(f"theme did not switch (data-theme is {result.get('theme')!r})")
    if result.get("error"):
        problems.append(f"MathJax error: {result['error']}")
    if result.get("math") and not result.get("mathjax"):
        problems.append("MathJax did not start")
    unrendered = list(dict.fromkeys(result.get("unrendered", []) or []))  # type: ignore[call-overload]
    if unrendered:
        sample = ", ".join(repr(t) for t in unrendered[:3])
        problems.append(f"{len(unrendered)} distinct math elements not rendered, e.g. {sample}")
    for text in result.get("texErrors", []) or []:  # type: ignore[attr-defined]
        problems.append(f"TeX error: {text!r}")
    for text in result.get("rawTex", []) or []:  # type: ignore[attr-defined]
        problems.append(f"raw TeX in the text: {text!r}")
    for src in result.get("brokenImages", []) or []:  # type: ignore[attr-defined]
        problems.append(f"image did not load: {src!r}")
    for url in dict.fromkeys(external):
        problems.append(f"request to another host (aborted): {url}")
    for what in dict.fromkeys(failed):
        problems.append(f"local request failed: {what}")
    for text in dict.fromkeys(errors):
        first = text.splitlines()[0]
        if first in KNOWN_JS_ERRORS:
            _ignored_js_errors[first] = _ignored_js_errors.get(first, 0) + 1
        else:
            problems.append(f"JavaScript error: {first[:160]}")
    for text in table_problems(result.get("tables", []), result.get("column")):  # type: ignore[arg-type]
        problems.append(text)
    return problems, result


def check_site(
    site: Path, pages: list[str], shots: Path | None, themes: Iterable[str] = THEMES
) -> list[PageReport]:
    """Check ``pages`` (paths relative to ``site``) in every theme; one report per page."""
    from playwright.sync_api import sync_playwright

    server, base = serve(site)
    reports = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
            contexts = {}
            for theme in themes:
                ctx = browser.new_context(
                    viewport=VIEWPORT,  # type: ignore[arg-type]
                    color_scheme=theme,  # type: ignore[arg-type]
                    service_workers="block",
                )
                # pydata-sphinx-theme reads the reader's choice from localStorage before it
                # paints; "mode" is the key of its older releases.
                ctx.add_init_script(
                    f"localStorage.setItem('theme', '{theme}');"
                    f"localStorage.setItem('mode', '{theme}');"
                )
                contexts[theme] = ctx
            for rel in pages:
                report = PageReport(rel)
                report.problems, report.links = check_links(site, site / rel)
                if REDIRECT.search((site / rel).read_text(encoding="utf-8")):
                    reports.append(report)  # only a redirect (the root index.html): links only
                    _print_report(report)
                    continue
                # the same problem in both themes is reported once, naming both
                found: dict[str, list[str]] = {}
                figures: list[str] = []
                for theme, ctx in contexts.items():
                    problems, result = check_page_in_theme(ctx, base, rel, shots, theme)
                    for p in dict.fromkeys(problems):
                        found.setdefault(p, []).append(theme)
                    if result:
                        report.math = int(result.get("math", 0) or 0)  # type: ignore[call-overload]
                        report.images = int(result.get("images", 0) or 0)  # type: ignore[call-overload]
                        report.tables = len(result.get("tables", []) or [])  # type: ignore[arg-type]
                        figures = list(result.get("figures", []) or [])  # type: ignore[call-overload]
                report.problems += [f"[{', '.join(t)}] {p}" for p, t in found.items()]
                if rel not in NOT_CHAPTERS:
                    more, report.figures = figure_problems(site, figures)
                    report.problems += more
                reports.append(report)
                _print_report(report)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return reports


def _print_report(r: PageReport) -> None:
    status = "FAIL" if r.problems else "ok"
    print(
        f"{status:4s} {r.page:32s} math {r.math:4d}  images {r.images:3d}  figures "
        f"{r.figures:3d}  tables {r.tables:3d}  links {r.links:4d}",
        flush=True,
    )
    for problem in r.problems[:30]:
        print(f"       - {problem}", flush=True)
    if len(r.problems) > 30:
        print(f"       - ... and {len(r.problems) - 30} more", flush=True)


def site_pages(site: Path, patterns: list[str] | None = None) -> list[str]:
    pages = sorted(
        p.relative_to(site).as_posix() for p in site.rglob("*.html") if "_static" not in p.parts
    )
    if patterns:
        pages = [p for p in pages if any(fnmatch.fnmatch(p, pat) for pat in patterns)]
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--site", type=Path, default=SITE, help="the built HTML (_build/html)")
    parser.add_argument(
        "--shots", type=Path, default=None, help="where screenshots go (default: next to the "
        "site, html-check/)",
    )  # fmt: skip
    parser.add_argument("--no-screenshots", action="store_true", help="skip the screenshots")
    parser.add_argument(
        "--pages", nargs="*", help="only pages matching these globs (e.g. 'book/he.html')"
    )
    parser.add_argument("--themes", nargs="*", default=list(THEMES), choices=THEMES)
    args = parser.parse_args(argv)
    site = args.site.resolve()
    if not (site / "index.html").exists():
        sys.exit(
            f"check_html: {site}/index.html missing: build the book first (python3 dev.py book)"
        )
    shots = None
    if not args.no_screenshots:
        shots = args.shots or site.parent / "html-check"
        shutil.rmtree(shots, ignore_errors=True)
        shots.mkdir(parents=True)
    pages = site_pages(site, args.pages)
    reports = check_site(site, pages, shots, args.themes)
    failed = [r for r in reports if r.problems]
    for text, n in _ignored_js_errors.items():
        print(f"check_html: ignored on {n} page views: {text!r} ({KNOWN_JS_ERRORS[text]})")
    print(
        f"check_html: {len(reports)} pages in {len(args.themes)} themes, {len(failed)} with "
        f"problems" + (f"; screenshots in {shots}" if shots else "")
    )
    return 1 if failed or not reports else 0


if __name__ == "__main__":
    sys.exit(main())
