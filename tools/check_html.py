#!/usr/bin/env python3
"""Open the built book in a real headless browser and check what a reader sees.

Run after building the book::

    python3 dev.py book
    python3 dev.py check-html            # or: python3 tools/check_html.py [--screenshots]

Needs Chromium (Debian: ``apt-get install chromium``; another binary via ``$CHROMIUM``) and
``npm`` (it installs MathJax into ``.cache/mathjax``). Python's standard library is enough for
the rest.

The book loads MathJax from a CDN, which a build machine may not reach, so the check serves a
copy of ``_build/html`` on ``127.0.0.1`` with the CDN address replaced by the same MathJax
major version from npm. For every page it then checks, in Chromium after MathJax has
finished:

1. math renders: every element MathJax should typeset contains its output, MathJax reports
   no TeX error, and no raw TeX (``$...$``, ``\\frac``, ``\\begin``, ...) is left in the
   visible text outside code;
2. every image has loaded (its natural width is positive);
3. every internal link resolves: the target file exists and so does the ``#fragment`` in it
   (this part reads the HTML files directly).

The exit status is 1 if any page fails. ``--screenshots`` also saves a PNG of each page into
``_build/html-check/`` for a human look.
"""

from __future__ import annotations

import argparse
import functools
import html.parser
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
MATHJAX_CACHE = ROOT / ".cache" / "mathjax"
SHOTS = ROOT / "_build" / "html-check"
CDN = re.compile(r"https://cdn\.jsdelivr\.net/npm/mathjax@(\d+)/")
RESULT_ID = "initmath-html-check"

# Runs in the page: waits for MathJax, then writes what it found into a <pre> for --dump-dom.
PROBE = """
<script>
window.addEventListener("load", async () => {
  const out = {mathjax: false, error: null};
  try {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      await MathJax.startup.promise;
      out.mathjax = true;
    }
  } catch (e) { out.error = String(e); }
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
      /\\$[^$\\s][^$]{0,60}\\$|\\\\(frac|begin|end|sqrt|mathrm|mathbb|left|right|sum|prod|lfloor)\\b|\\\\\\(|\\\\\\[/g);
  out.rawTex = (raw || []).slice(0, 10);
  const imgs = [...document.images];
  out.images = imgs.length;
  out.brokenImages = imgs.filter(i => !(i.complete && i.naturalWidth > 0))
                         .map(i => i.getAttribute("src"));
  const pre = document.createElement("pre");
  pre.id = "@RESULT_ID@";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
""".replace("@RESULT_ID@", RESULT_ID)


@dataclass
class PageReport:
    page: str
    problems: list[str] = field(default_factory=list)
    math: int = 0
    images: int = 0
    links: int = 0


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


@functools.cache
def _parse(path: Path) -> _Collector:
    c = _Collector()
    c.feed(path.read_text(encoding="utf-8"))
    return c


def _local(url: str) -> bool:
    scheme = urllib.parse.urlsplit(url).scheme
    return scheme == "" and not url.startswith("//")


def check_links(site: Path, page: Path) -> tuple[list[str], int]:
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


# --- browser part -------------------------------------------------------------------------
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


def mathjax(major: str) -> Path:
    """MathJax ``major`` from npm, installed once into .cache/mathjax/<major>."""
    prefix = MATHJAX_CACHE / major
    package = prefix / "node_modules" / "mathjax"
    if not (package / "es5").exists():
        npm = shutil.which("npm")
        if not npm:
            sys.exit("check_html: npm is needed to install MathJax (Debian: apt-get install npm)")
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(prefix),
                f"mathjax@{major}",
            ],
            check=True,
        )
    return package


def prepare_copy(site: Path, dest: Path) -> list[Path]:
    """Copy the site, point MathJax at /_mathjax/ and add the probe; return the pages."""
    shutil.copytree(site, dest)
    pages = sorted(p for p in dest.rglob("*.html") if "_static" not in p.parts)
    majors = set()
    for page in pages:
        text = page.read_text(encoding="utf-8")
        majors.update(CDN.findall(text))
        text = CDN.sub("/_mathjax/", text)
        text = text.replace("</body>", PROBE + "</body>", 1)
        page.write_text(text, encoding="utf-8")
    if len(majors) > 1:
        sys.exit(f"check_html: pages load different MathJax versions {sorted(majors)}")
    if majors:
        shutil.copytree(mathjax(majors.pop()), dest / "_mathjax")
    return pages


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # a browser that drops a connection it no longer needs is not an error of the page
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def browser_flags(profile: Path) -> list[str]:
    # without the background-networking flags Chromium keeps trying hosts it cannot reach
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=30000",
    ]


def probe(exe: str, url: str, profile: Path) -> dict[str, object]:
    proc = subprocess.run(
        [exe, *browser_flags(profile), "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=180,
    )
    m = re.search(rf'<pre id="{RESULT_ID}"[^>]*>(.*?)</pre>', proc.stdout, re.S)
    if not m:
        return {
            "error": "the page never finished loading (no probe result; chromium exit "
            f"status {proc.returncode})"
        }
    return json.loads(html.unescape(m.group(1)))


def screenshot(exe: str, url: str, profile: Path, out: Path) -> None:
    subprocess.run(
        [exe, *browser_flags(profile), "--window-size=1280,2400", f"--screenshot={out}", url],
        capture_output=True,
        timeout=180,
        check=False,
    )


def check_page(exe: str, base: str, site: Path, page: Path, profile: Path) -> PageReport:
    rel = page.relative_to(site).as_posix()
    report = PageReport(rel)
    report.problems, report.links = check_links(site, page)
    result = probe(exe, f"{base}/{rel}", profile)
    if result.get("error"):
        report.problems.append(f"MathJax/probe error: {result['error']}")
    report.math = int(result.get("math", 0) or 0)
    report.images = int(result.get("images", 0) or 0)
    if report.math and not result.get("mathjax"):
        report.problems.append("MathJax did not start")
    for text in result.get("unrendered", []) or []:
        report.problems.append(f"math not rendered: {text!r}")
    for text in result.get("texErrors", []) or []:
        report.problems.append(f"TeX error: {text!r}")
    for text in result.get("rawTex", []) or []:
        report.problems.append(f"raw TeX in the text: {text!r}")
    for src in result.get("brokenImages", []) or []:
        report.problems.append(f"image did not load: {src!r}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=SITE, help="the built HTML (_build/html)")
    parser.add_argument(
        "--screenshots",
        action="store_true",
        help=f"save a PNG of each page into {SHOTS.relative_to(ROOT)}",
    )
    args = parser.parse_args(argv)
    if not (args.site / "index.html").exists():
        sys.exit(
            f"check_html: {args.site}/index.html missing: build the book first "
            "(python3 dev.py book)"
        )
    exe = chromium()
    with tempfile.TemporaryDirectory(prefix="initmath-html-") as tmp:
        copy = Path(tmp) / "site"
        pages = prepare_copy(args.site, copy)
        server, base = serve(copy)
        try:
            reports = [check_page(exe, base, copy, p, Path(tmp) / "profile") for p in pages]
            if args.screenshots:
                SHOTS.mkdir(parents=True, exist_ok=True)
                for p in pages:
                    rel = p.relative_to(copy).as_posix()
                    screenshot(
                        exe,
                        f"{base}/{rel}",
                        Path(tmp) / "profile",
                        SHOTS / (rel.replace("/", "_").removesuffix(".html") + ".png"),
                    )
        finally:
            server.shutdown()
    failed = [r for r in reports if r.problems]
    for r in reports:
        status = "FAIL" if r.problems else "ok"
        print(
            f"{status:4s} {r.page:40s} math {r.math:4d}  images {r.images:3d}  links {r.links:4d}"
        )
        for problem in r.problems[:20]:
            print(f"       - {problem}")
    print(
        f"check_html: {len(reports)} pages, {len(failed)} with problems"
        + (f"; screenshots in {SHOTS}" if args.screenshots else "")
    )
    return 1 if failed or not reports else 0


if __name__ == "__main__":
    sys.exit(main())
