#!/usr/bin/env python3
"""The code cells of the book's chapters, and whether a reader can run the visible ones alone.

Issue #18, point 3: a chapter copied into a notebook without its hidden cells must run. A code
cell is *visible* unless it is tagged ``remove-cell`` or ``remove-input`` (its code is not in
the page); ``hide-input``, ``hide-cell`` and ``hide-output`` cells are visible (the reader can
unfold them), and so are the code cells of exercise solutions. The checks, on the source only
(nothing is executed):

* every name a visible cell loads is a builtin (or one IPython provides, such as ``display``)
  or is bound by an earlier or the same visible cell: by assignment, ``import``, ``def``,
  ``class``, ``for``/``with ... as``/``except ... as`` targets, the walrus operator, or
  ``global`` in a function; names loaded inside functions, classes and comprehensions count
  when they resolve to the cell's global scope (Python's own symbol tables, :mod:`symtable`,
  decide which do); a name loaded inside a function may also be bound by a later visible cell
  (the function runs later);
* the chapter's first code cell is visible and imports ``initmath`` (the setup cell);
* no visible cell calls ``glue`` (the glue plumbing belongs to ``remove-cell`` cells).

Python's standard library is enough (the tests compare :func:`code_cells` with jupytext's
reading of the same files). As a script it prints every violation, chapter by chapter::

    python3 tools/chapter_cells.py [book/he.md ...]     # default: every book/*.md

and exits with status 1 if there is any.
"""

from __future__ import annotations

import ast
import builtins
import dataclasses
import importlib
import re
import symtable
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"

#: Tags that keep a cell's code out of the page.
HIDDEN_TAGS = frozenset({"remove-cell", "remove-input"})

#: Names a Jupyter kernel (IPython) provides besides Python's builtins.
KERNEL_NAMES = frozenset({"display", "get_ipython", "exit", "quit", "In", "Out", "_", "__", "___"})

#: Module-level names every notebook has.
MODULE_NAMES = frozenset({"__name__", "__doc__", "__builtins__", "__spec__", "__loader__"})

_COMPREHENSIONS = frozenset({"listcomp", "setcomp", "dictcomp", "genexpr"})

_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\{code-cell\}(?P<lang>[^\n]*)$")
_OPTION = re.compile(r"^:(?P<key>[\w-]+):\s*(?P<value>.*)$")


@dataclasses.dataclass(frozen=True)
class Cell:
    """One code cell of a chapter: its position among the chapter's code cells (from 0), the
    line of its opening fence (from 1), its tags and its source."""

    index: int
    line: int
    tags: tuple[str, ...]
    source: str

    @property
    def visible(self) -> bool:
        """Whether the page shows the cell's code (collapsed or not)."""
        return not HIDDEN_TAGS.intersection(self.tags)


@dataclasses.dataclass(frozen=True)
class Violation:
    """A reason a chapter's visible cells do not run alone."""

    chapter: str
    cell: int
    line: int
    kind: str  # "undefined", "setup", "glue" or "syntax"
    name: str
    detail: str

    def __str__(self) -> str:
        where = f"{self.chapter}.md:{self.line}: code cell {self.cell}"
        return f"{where}: {self.kind} {self.name}: {self.detail}"


def _parse_tags(value: str) -> tuple[str, ...]:
    value = value.strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    return tuple(t.strip().strip("'\"") for t in value.split(",") if t.strip())


def code_cells(path: str | Path) -> list[Cell]:
    """The ``{code-cell}`` blocks of a MyST Markdown notebook, in order.

    Options are read from ``:key: value`` lines or from a ``---``-delimited YAML block at the
    top of the cell (only ``tags`` matters here, as a flow list ``[a, b]`` or a block list).
    """
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    cells: list[Cell] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, start = m.group("fence"), i + 1
        j = i + 1
        while j < len(lines) and lines[j].rstrip() != fence:
            j += 1
        body = lines[i + 1 : j]
        tags: tuple[str, ...] = ()
        k = 0
        if body and body[0].strip() == "---":
            end = next((n for n in range(1, len(body)) if body[n].strip() == "---"), None)
            if end is not None:
                yaml_lines = body[1:end]
                for n, text in enumerate(yaml_lines):
                    key, _, value = text.partition(":")
                    if key.strip() == "tags":
                        if value.strip():
                            tags = _parse_tags(value)
                        else:  # a block list
                            tags = tuple(
                                t.strip()[1:].strip().strip("'\"")
                                for t in yaml_lines[n + 1 :]
                                if t.strip().startswith("-")
                            )
                k = end + 1
        else:
            while k < len(body) and (opt := _OPTION.match(body[k])):
                if opt.group("key") == "tags":
                    tags = _parse_tags(opt.group("value"))
                k += 1
            if k > 0 and k < len(body) and not body[k].strip():
                k += 1  # the blank line after the options
        cells.append(Cell(len(cells), start, tags, "\n".join(body[k:])))
        i = j + 1
    return cells


def is_notebook(path: str | Path) -> bool:
    """Whether a Markdown file is a MyST notebook: its front matter declares a ``kernelspec``."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].strip() != "---":
        return False
    for text in lines[1:]:
        if text.strip() == "---":
            return False
        if text.startswith("kernelspec:"):
            return True
    return False


def chapters(book: Path = BOOK) -> list[Path]:
    """The book's notebooks (``book/*.md`` with a ``kernelspec``, sorted by name)."""
    return [p for p in sorted(book.glob("*.md")) if is_notebook(p)]


def python_source(source: str) -> str:
    """The cell's source as Python: IPython magics and shell escapes become ``pass``.

    A cell magic other than ``%%time``/``%%timeit``/``%%capture`` makes the whole cell
    non-Python (``""``).
    """
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(None, 1)[0] if lines[0].strip() != "%%" else ""
        if magic not in ("time", "timeit", "capture"):
            return ""
        lines = lines[1:]
    out = []
    for text in lines:
        stripped = text.lstrip()
        if stripped.startswith(("%", "!")):
            out.append(text[: len(text) - len(stripped)] + "pass")
        else:
            out.append(text)
    return "\n".join(out)


@dataclasses.dataclass
class Names:
    """What a cell binds at module level and which global names it loads."""

    bound: set[str] = dataclasses.field(default_factory=set)
    loaded: set[str] = dataclasses.field(default_factory=set)  # at the cell's top level
    deferred: set[str] = dataclasses.field(default_factory=set)  # inside def bodies
    star_modules: list[str] = dataclasses.field(default_factory=list)


def cell_names(source: str) -> Names:
    """The module-level names a cell binds and the global names it loads (:mod:`symtable`).

    Raises ``SyntaxError`` for a cell that is not Python.
    """
    names = Names()
    table = symtable.symtable(source, "<cell>", "exec")
    for sym in table.get_symbols():
        name = sym.get_name()
        if sym.is_imported() or sym.is_assigned() or sym.is_namespace():
            names.bound.add(name)
        if sym.is_referenced():
            names.loaded.add(name)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            names.star_modules.append("." * node.level + (node.module or ""))
    _nested(table, names, in_function=False)
    return names


def _nested(table: symtable.SymbolTable, names: Names, *, in_function: bool) -> None:
    for child in table.get_children():
        # A function's body runs when it is called; a class body and a comprehension run where
        # they stand (unless they are inside a function).
        kind = str(child.get_type()).lower()  # "function"; an enum from Python 3.13 on
        comprehension = child.get_name() in _COMPREHENSIONS
        deferred = in_function or (kind.endswith("function") and not comprehension)
        for sym in child.get_symbols():
            name = sym.get_name()
            if sym.is_declared_global() and sym.is_assigned():
                names.bound.add(name)
            if sym.is_global() and sym.is_referenced():
                (names.deferred if deferred else names.loaded).add(name)
        _nested(child, names, in_function=deferred)


def _star_names(module: str) -> set[str]:
    try:
        mod = importlib.import_module(module)
    except Exception:  # noqa: BLE001 - an unimportable module binds nothing we can know
        return set()
    return set(getattr(mod, "__all__", [n for n in dir(mod) if not n.startswith("_")]))


def _calls_glue(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if (isinstance(f, ast.Name) and f.id == "glue") or (
                isinstance(f, ast.Attribute) and f.attr == "glue"
            ):
                return True
    return False


def _imports_initmath(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.Import) and any(
            a.name == "initmath" or a.name.startswith("initmath.") for a in node.names
        ):
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module is not None
            and (node.module == "initmath" or node.module.startswith("initmath."))
        ):
            return True
    return False


def check_cells(chapter: str, cells: Sequence[Cell]) -> list[Violation]:
    """The violations of the visible cells of one chapter (``chapter`` names it in reports)."""
    known = set(dir(builtins)) | KERNEL_NAMES | MODULE_NAMES
    visible = [c for c in cells if c.visible]
    out: list[Violation] = []
    if cells:
        first = cells[0]
        if not first.visible:
            out.append(
                Violation(
                    chapter,
                    first.index,
                    first.line,
                    "setup",
                    "-",
                    f"the first code cell is hidden (tags {list(first.tags)})",
                )
            )
        else:
            try:
                tree = ast.parse(python_source(first.source))
            except SyntaxError:
                tree = ast.Module(body=[], type_ignores=[])
            if not _imports_initmath(tree):
                out.append(
                    Violation(
                        chapter,
                        first.index,
                        first.line,
                        "setup",
                        "-",
                        "the first code cell does not import initmath",
                    )
                )
    parsed: list[tuple[Cell, Names, ast.Module]] = []
    for cell in visible:
        src = python_source(cell.source)
        try:
            tree = ast.parse(src)
            names = cell_names(src)
        except SyntaxError as exc:
            out.append(Violation(chapter, cell.index, cell.line, "syntax", "-", str(exc)))
            continue
        parsed.append((cell, names, tree))
    all_bound = set().union(*(n.bound for _, n, _ in parsed)) if parsed else set()
    for _, names, _ in parsed:
        for module in names.star_modules:
            all_bound |= _star_names(module)
    for cell, names, tree in parsed:
        for module in names.star_modules:
            known |= _star_names(module)
        known |= names.bound
        for name in sorted(names.loaded - known):
            out.append(
                Violation(
                    chapter,
                    cell.index,
                    cell.line,
                    "undefined",
                    name,
                    "not bound by this or an earlier visible cell",
                )
            )
        for name in sorted(names.deferred - known - all_bound):
            out.append(
                Violation(
                    chapter,
                    cell.index,
                    cell.line,
                    "undefined",
                    name,
                    "used in a function but bound by no visible cell",
                )
            )
        if _calls_glue(tree):
            out.append(
                Violation(
                    chapter,
                    cell.index,
                    cell.line,
                    "glue",
                    "glue",
                    "a visible cell calls glue() (move it to a remove-cell cell)",
                )
            )
    return out


def check_chapter(path: str | Path) -> list[Violation]:
    """The violations of one chapter file."""
    path = Path(path)
    return check_cells(path.stem, code_cells(path))


def visible_sources(path: str | Path) -> list[str]:
    """The sources of the chapter's visible code cells, in order."""
    return [c.source for c in code_cells(path) if c.visible]


def main(argv: Iterable[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    paths = [Path(a) for a in args] or chapters()
    total = 0
    for path in paths:
        found = check_chapter(path)
        total += len(found)
        print(f"{path.stem}: {len(found)} violation(s)")
        for v in found:
            print(f"  {v}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
