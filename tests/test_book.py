"""The book's sources: chapters are notebooks, and they take formulas and numbers from the
package instead of retyping them.

What these tests cannot see (a glued value that is wrong, a cell that fails) the strict book
build catches: ``python3 dev.py book`` executes every chapter with errors fatal and turns a
missing glue key into an error.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

jupytext = pytest.importorskip("jupytext")
yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]


def _toc_files() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return [ROOT / f"{name}.md" for name in files]


CHAPTERS = _toc_files()
NOTEBOOKS = [p for p in CHAPTERS if "{code-cell}" in p.read_text()]


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def test_toc_lists_existing_chapters_and_every_chapter_is_listed():
    assert all(p.exists() for p in CHAPTERS), [p for p in CHAPTERS if not p.exists()]
    on_disk = {p for p in (ROOT / "book").glob("*.md")}
    assert on_disk == set(CHAPTERS), on_disk ^ set(CHAPTERS)
    assert not list((ROOT / "book").glob("*.ipynb")), "notebooks are never committed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_chapter_opens_as_a_notebook(path: Path):
    """What ``jupytext --to ipynb book/<chapter>.md`` does, checked: a valid notebook with a
    Python kernel whose code cells are the chapter's ``{code-cell}`` blocks."""
    text = path.read_text()
    nb = jupytext.reads(text, fmt="md:myst")
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.metadata["jupytext"]["text_representation"]["format_name"] == "myst"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) == text.count("```{code-cell}")
    assert code and all(c.source.strip() for c in code)
    nbformat.validate(nbformat.reads(jupytext.writes(nb, fmt="ipynb"), as_version=4))


# --- glue keys ----------------------------------------------------------------------------

_GLUE_USE = re.compile(r"\{glue(?::\w+)?\}`([^`:]+)(?::[^`]*)?`|```\{glue:\w+\}\s+(\S+)")
_GLUE_DEF = re.compile(r"""\bglue\w*\(\s*(f?)(["'])(.+?)\2""")  # glue(), glue_math(), ...


def _glue_uses(text: str) -> set[str]:
    return {a or b for a, b in _GLUE_USE.findall(text)}


def _glue_definitions(nb) -> list[re.Pattern[str]]:
    """Each ``glue("key", ...)`` (or ``glue_math(...)``, ...) of the code cells as a
    pattern; an f-string key's ``{...}`` fields match anything."""
    patterns = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for is_f, _, key in _GLUE_DEF.findall(cell.source):
            if is_f:
                parts = re.split(r"\{[^}]*\}", key)
                patterns.append(re.compile(".+".join(re.escape(p) for p in parts) + "$"))
            else:
                patterns.append(re.compile(re.escape(key) + "$"))
    return patterns


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_every_glue_key_is_glued_by_the_chapter(path: Path):
    text = path.read_text()
    nb = jupytext.reads(text, fmt="md:myst")
    defined = _glue_definitions(nb)
    used = _glue_uses("\n".join(c.source for c in nb.cells if c.cell_type == "markdown"))
    assert used, "a chapter with code glues its numbers"
    missing = sorted(k for k in used if not any(p.match(k) for p in defined))
    assert not missing, f"{path.name}: glue keys used but never glued: {missing}"


def test_glue_patterns_work():
    nb = jupytext.reads(
        "```{code-cell} ipython3\nglue('a-b', 1)\nglue(f\"c-{x}-d\", 2)\n```\n", fmt="md:myst"
    )
    defined = _glue_definitions(nb)
    assert any(p.match("a-b") for p in defined) and any(p.match("c-lecun-d") for p in defined)
    assert not any(p.match("a-bc") for p in defined) and not any(p.match("c-d") for p in defined)
    assert _glue_uses("x {glue:text}`a-b:.2f` y\n```{glue:math} eq-z\n:label: z\n```") == {
        "a-b",
        "eq-z",
    }


# --- no hand-typed core formulas ---------------------------------------------------------

_SPACES = re.compile(r"\s+")


def _normalize(tex: str) -> str:
    """TeX without spaces and with the usual spellings of a fan unified to n_{in}/n_{out}."""
    tex = _SPACES.sub("", tex)
    for old, new in (
        (r"\mathrm{fan\_in}", "n_{in}"),
        (r"\mathrm{fan_{in}}", "n_{in}"),
        (r"\mathrm{fan\_out}", "n_{out}"),
        (r"\mathrm{fan_{out}}", "n_{out}"),
        (r"\text{fan\_in}", "n_{in}"),
        (r"\text{fan\_out}", "n_{out}"),
        (r"n_\mathrm{in}", "n_{in}"),
        (r"n_\mathrm{out}", "n_{out}"),
        (r"n_{\mathrm{in}}", "n_{in}"),
        (r"n_{\mathrm{out}}", "n_{out}"),
        ("\\dfrac", "\\frac"),
        ("\\tfrac", "\\frac"),
    ):
        tex = tex.replace(old, new)
    return tex


def _core_formulas() -> dict[str, list[str]]:
    """Normalized TeX spellings of the core scheme formulas, from the registry itself plus the
    slash forms a person would type."""
    import sympy as sp

    import initmath

    forms: dict[str, list[str]] = {}
    for key in (
        "lecun.variance",
        "xavier.variance",
        "he.variance",
        "he.variance_fan_out",
        "prelu.variance",
        "standard.variance",
        "uniform.bound",
    ):
        forms[key] = [_normalize(sp.latex(initmath.formulas[key].rhs))]
    forms["xavier.variance"] += ["2/(n_{in}+n_{out})", r"\frac{2}{n_{out}+n_{in}}"]
    forms["he.variance"] += ["2/n_{in}", r"\sqrt{2/n_{in}}", r"\sqrt{\frac{2}{n_{in}}}"]
    forms["standard.variance"] += ["1/(3n_{in})"]
    forms["uniform.bound"] += [r"\sqrt{6/(n_{in}+n_{out})}", r"\sqrt{\frac{6}{n_{in}+n_{out}}}"]
    return forms


_DISPLAY_MATH = re.compile(r"```\{math\}(.*?)```|\$\$(.*?)\$\$", re.S)


@pytest.mark.parametrize("path", CHAPTERS, ids=_ids(CHAPTERS))
def test_no_displayed_equation_retypes_a_core_formula(path: Path):
    """Displayed equations about a scheme are glued from the registry (``{glue:math}``), so a
    typed-in ``{math}`` block or ``$$`` must not contain one of its formulas."""
    forms = _core_formulas()
    text = path.read_text()
    blocks = [_normalize(a or b) for a, b in _DISPLAY_MATH.findall(text)]
    found = [
        (key, form)
        for block in blocks
        for key, spellings in forms.items()
        for form in spellings
        if form in block
    ]
    assert not found, f"{path.name}: displayed equations retype {found}; glue them instead"


def test_the_formula_check_can_fail():
    forms = _core_formulas()
    block = _normalize(r"v = \frac{2}{\mathrm{fan\_in}}")
    assert any(form in block for form in forms["he.variance"])
    assert not any(
        form in _normalize(r"q^\ell = \mathbb{E}[(z^\ell_i)^2]")
        for spellings in forms.values()
        for form in spellings
    )


def test_every_formula_names_its_chapter_and_the_chapter_shows_it():
    # one hop from a formula to its chapter: Formula.chapter quotes the name; a formula
    # without a chapter is quoted by none (so the table cannot go stale either way)
    import initmath

    quoting = {
        name: sorted(str(p.relative_to(ROOT)) for p in CHAPTERS if f'"{name}"' in p.read_text())
        for name in initmath.formulas
    }
    for name, f in initmath.formulas.items():
        if f.chapter is None:
            assert quoting[name] == [], (name, quoting[name])
        else:
            assert f.chapter in quoting[name], (name, f.chapter, quoting[name])
