"""Sphinx extension for the API appendix: resolve the package's short cross-references.

Docstrings name functions the way users call them, ``:func:`initmath.std``` (a re-export) or
``:class:`Activation``` (from another module of the package), while autodoc documents each
object once, under the module that defines it (``initmath.weights.schemes.std``). When
Sphinx finds no
target for a Python reference, this handler looks for the one documented ``initmath`` object
whose full name ends with the reference's name, and links to it. An ambiguous or unknown name
stays unresolved, so the strict build (``-n -W``) still reports it.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.nodes import make_refnode


def _resolve(
    app: Sphinx, env: BuildEnvironment, node: nodes.Element, contnode: nodes.Element
) -> nodes.Element | None:
    if node.get("refdomain") != "py":
        return None
    name = str(node.get("reftarget", "")).lstrip("~.")
    if not name:
        return None
    suffix = name.removeprefix("initmath.")
    objects = env.get_domain("py").objects
    matches = [
        full
        for full in objects
        if full.startswith("initmath.")
        and (full == name or full.endswith("." + suffix))
        and not objects[full].aliased  # a re-export's entry points at the documented one
    ]
    if len(matches) > 1 and name.startswith("initmath.") and "." not in suffix:
        # initmath.X is a re-export of a module-level X: prefer initmath.<...>.<module>.X
        # over attributes and methods of the same name (Network.std, Formula.verify)
        def module_level(full: str) -> bool:
            parent = objects.get(full.rsplit(".", 1)[0])
            return parent is not None and parent.objtype == "module"

        top = [m for m in matches if module_level(m)]
        matches = top or matches
    module = node.get("py:module")
    if len(matches) > 1 and module:  # prefer the module the docstring belongs to
        local = [m for m in matches if m.startswith(module + ".")]
        matches = local or matches
    if len(matches) != 1:
        return None
    entry = objects[matches[0]]
    return make_refnode(
        app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, matches[0]
    )


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("missing-reference", _resolve)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
