"""pyproject.toml, environment.yml and the pinned constraints describe one environment."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_REQ = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(\[[^\]]*\])?\s*(.*?)\s*$")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _parse(req: str) -> tuple[str, frozenset[str]]:
    m = _REQ.match(req)
    assert m, req
    specs = frozenset(s.replace(" ", "") for s in m.group(3).split(",") if s.strip())
    return _normalize(m.group(1)), specs


def _pyproject_requirements() -> dict[str, frozenset[str]]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra in meta["optional-dependencies"].values():
        reqs += extra
    return dict(_parse(r) for r in reqs)


def _environment_yml_requirements() -> dict[str, frozenset[str]]:
    # environment.yml is a flat list; a tiny reader avoids a YAML dependency in the tests.
    deps: dict[str, frozenset[str]] = {}
    section = None
    for raw in (ROOT / "environment.yml").read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not raw.startswith(" "):
            section = line.split(":", 1)[0]
        elif section == "dependencies":
            name, specs = _parse(line.strip().removeprefix("- "))
            deps[name] = specs
    return deps


def test_environment_yml_matches_pyproject():
    py = _pyproject_requirements()
    conda = _environment_yml_requirements()
    python_spec = conda.pop("python")
    assert python_spec == frozenset({">=3.11"}), python_spec
    conda.pop("pip", None)
    assert conda == py


def test_constraints_satisfy_pyproject():
    from packaging.requirements import Requirement

    pins = {}
    for line in (ROOT / "requirements" / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[_normalize(name)] = version
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = meta["dependencies"] + [
        r for extra in meta["optional-dependencies"].values() for r in extra
    ]
    for text in reqs:
        req = Requirement(text)
        name = _normalize(req.name)
        assert name in pins, f"{name} is not pinned in requirements/constraints.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (name, pins[name])


def test_jupyter_book_stays_below_2():
    # Jupyter Book 2 ignores _config.yml and _toc.yml.
    specs = _pyproject_requirements()["jupyter-book"]
    assert "<2" in specs


@pytest.mark.parametrize(
    "path",
    [
        "initmath/py.typed",
        "README.md",
        ".ci/run",
        "_config.yml",
        "_toc.yml",
        "environment.yml",
        "book/references.bib",
    ],
)
def test_project_files_exist(path):
    assert (ROOT / path).is_file()


def test_dev_py_installs_every_extra():
    """The README's commands install all optional dependencies the book and tests use."""
    m = re.search(r'^EXTRAS = "([^"]+)"', (ROOT / "dev.py").read_text(), re.M)
    assert m, "dev.py defines EXTRAS"
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert set(m.group(1).split(",")) == set(meta["optional-dependencies"])
