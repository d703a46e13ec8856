"""Code a reader can run (issue #18, point 3): each chapter's visible code cells, alone and in
order, make a working notebook.

The fast tests read the chapters' sources (``tools/chapter_cells.py``, checked here against
jupytext's reading of the same files): every name a visible cell uses is a builtin or bound by
an earlier or the same visible cell, the first code cell is a visible setup cell that imports
initmath, and no visible cell calls ``glue``. The slow test executes each chapter's visible
cells, and nothing else, in a fresh kernel.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "chapter_cells.py"


def _tool():
    spec = importlib.util.spec_from_file_location("chapter_cells", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["chapter_cells"] = module
    spec.loader.exec_module(module)
    return module


cc = _tool()
CHAPTERS = cc.chapters()
IDS = [p.stem for p in CHAPTERS]


def _cells(*sources: str, tags: dict[int, tuple[str, ...]] | None = None) -> list:
    tags = tags or {}
    return [
        cc.Cell(i, 1 + 10 * i, tags.get(i, ()), textwrap.dedent(src).strip("\n"))
        for i, src in enumerate(sources)
    ]


def _problems(*sources: str, **kw) -> list[tuple[int, str, str]]:
    return [(v.cell, v.kind, v.name) for v in cc.check_cells("ch", _cells(*sources, **kw))]


SETUP = "import initmath\nimport numpy as np"


# --- the helper's rules on small cases ---------------------------------------------------------


def test_the_book_has_chapters_to_check() -> None:
    names = set(IDS)
    assert {"introduction", "sampling", "he", "training"} <= names
    assert not {"rerunning", "bibliography"} & names  # plain Markdown pages, not notebooks


def test_a_name_from_a_hidden_cell_is_reported_with_its_cell() -> None:
    found = _problems(
        SETUP,
        "moments_grid = np.ones(3)",
        "print(moments_grid.sum())",
        tags={1: ("remove-cell",)},
    )
    assert found == [(2, "undefined", "moments_grid")]


def test_hide_input_and_hide_cell_cells_are_visible_but_remove_input_is_not() -> None:
    for tag in ("hide-input", "hide-cell", "hide-output", "remove-output"):
        assert _problems(SETUP, "x = 1", "print(x)", tags={1: (tag,)}) == [], tag
    assert _problems(SETUP, "x = 1", "print(x)", tags={1: ("remove-input",)}) == [
        (2, "undefined", "x")
    ]


def test_a_name_bound_later_does_not_count_at_top_level() -> None:
    assert _problems(SETUP, "print(y)", "y = 2") == [(1, "undefined", "y")]
    # ... but the same cell counts as a whole
    assert _problems(SETUP, "y = 2\nprint(y)") == []


@pytest.mark.parametrize(
    "binding",
    [
        "v = 1",
        "v: int = 1",
        "v += 1 if False else 0\nv = 1",
        "a, (b, v) = 1, (2, 3)",
        "import json as v",
        "from math import sqrt as v",
        "import os.path as v",
        "def v(): pass",
        "class v: pass",
        "for v in range(2): pass",
        "with open('/dev/null') as v: pass",
        "try:\n    pass\nexcept ValueError as v:\n    pass\nv = 0",
        "if (v := 3): pass",
        "[w for w in range(3) if (v := w)]",
        "def f():\n    global v\n    v = 1\nf()",
        "match 1:\n    case v: pass",
    ],
)
def test_every_kind_of_binding_defines_the_name(binding: str) -> None:
    assert _problems(SETUP, binding, "print(v)") == [], binding


def test_dotted_imports_bind_their_first_component() -> None:
    assert (
        _problems("import initmath.practice.plotting", "initmath.practice.plotting.style()") == []
    )


def test_names_in_nested_scopes_resolve_to_the_cells_globals() -> None:
    # A comprehension and a class body run where they stand: their globals must exist now.
    assert _problems(SETUP, "print([k * g for k in range(3)])") == [(1, "undefined", "g")]
    assert _problems(SETUP, "class C:\n    z = h") == [(1, "undefined", "h")]
    # Locals, parameters, comprehension variables and closures are not globals.
    assert (
        _problems(
            SETUP,
            """
            def outer(a, *args, b=1, **kw):
                c = a + b
                def inner():
                    return c + len(args) + len(kw)
                return [inner() + i for i in range(c)]
            print(outer(1), (lambda t: t + 1)(2), np.pi)
            """,
        )
        == []
    )
    # A function body runs later: a global it reads may be bound by a later visible cell, but
    # not only by a hidden one.
    assert _problems(SETUP, "def f():\n    return later", "later = 1\nf()") == []
    assert _problems(
        SETUP, "def f():\n    return hidden", "hidden = 1", tags={2: ("remove-cell",)}
    ) == [(1, "undefined", "hidden")]


def test_builtins_and_the_kernels_names_are_known() -> None:
    assert _problems(SETUP, "display(len(range(3)), __name__)\nget_ipython()") == []


def test_magics_are_not_python_but_do_not_hide_names() -> None:
    assert _problems(SETUP, "%matplotlib inline\nx = 1\n!ls", "print(x)") == []
    assert _problems(SETUP, "%%time\nx = sum(range(3))", "print(x)") == []
    assert cc.python_source("%%bash\necho hi") == ""


def test_a_syntax_error_is_a_violation() -> None:
    assert _problems(SETUP, "x = (") == [(1, "syntax", "-")]


def test_the_first_code_cell_is_a_visible_setup_cell_importing_initmath() -> None:
    assert _problems("import numpy as np", "print(np.pi)") == [(0, "setup", "-")]
    assert _problems(SETUP, tags={0: ("remove-cell",)})[0] == (0, "setup", "-")
    assert _problems("from initmath.practice.plotting import style\nstyle()") == []
    assert _problems("from .initmath import x") == [(0, "setup", "-")]


def test_visible_glue_calls_are_reported_hidden_ones_are_not() -> None:
    setup = "import initmath\nfrom myst_nb import glue\nimport myst_nb"
    assert _problems(setup, "glue('a', 1)") == [(1, "glue", "glue")]
    assert _problems(setup, "myst_nb.glue('a', 1)") == [(1, "glue", "glue")]
    assert _problems(setup, "glue('a', 1)", tags={1: ("remove-cell",)}) == []


def test_star_imports_bind_the_modules_public_names() -> None:
    assert _problems("import initmath\nfrom math import *", "print(sqrt(2))") == []


def test_code_cells_reads_both_option_styles(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        textwrap.dedent(
            """\
            ---
            kernelspec:
              display_name: Python 3
              language: python
              name: python3
            ---
            # Title

            ```{code-cell} ipython3
            :tags: [remove-cell, hide-input]

            a = 1
            ```

            ````{code-cell} ipython3
            ---
            tags:
              - hide-input
            ---
            b = '''
            ```
            '''
            ````

            ```{code-cell}
            c = 3
            ```
            """
        )
    )
    cells = cc.code_cells(page)
    assert [(c.index, c.line, c.tags) for c in cells] == [
        (0, 9, ("remove-cell", "hide-input")),
        (1, 15, ("hide-input",)),
        (2, 25, ()),
    ]
    assert [c.source for c in cells] == ["a = 1", "b = '''\n```\n'''", "c = 3"]
    assert cc.is_notebook(page)
    assert [c.visible for c in cells] == [False, True, True]
    jupytext = pytest.importorskip("jupytext")
    theirs = [c for c in jupytext.read(page).cells if c.cell_type == "code"]
    assert [(c.tags, c.source) for c in cells] == [
        (tuple(c.metadata.get("tags", ())), c.source) for c in theirs
    ]


# --- the book's chapters -----------------------------------------------------------------------


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_the_cells_read_are_jupytexts_cells(path: Path) -> None:
    jupytext = pytest.importorskip("jupytext")
    notebook = jupytext.read(path)
    expected = [
        (tuple(c.metadata.get("tags", ())), c.source)
        for c in notebook.cells
        if c.cell_type == "code"
    ]
    assert [(c.tags, c.source) for c in cc.code_cells(path)] == expected


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_visible_cells_are_self_contained(path: Path) -> None:
    violations = cc.check_chapter(path)
    assert not violations, "\n".join(map(str, violations))


# --- running them ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_visible_cells_run_alone_in_a_fresh_kernel(path: Path) -> None:
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    source = jupytext.read(path)
    visible = [
        nbformat.v4.new_code_cell(c.source)
        for c in source.cells
        if c.cell_type == "code" and not cc.HIDDEN_TAGS.intersection(c.metadata.get("tags", ()))
    ]
    assert visible, f"{path.name} has no visible code cell"
    notebook = nbformat.v4.new_notebook(cells=visible, metadata=source.metadata)
    client = nbclient.NotebookClient(
        notebook,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on the first error
