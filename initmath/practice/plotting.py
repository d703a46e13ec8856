"""The book's figure style and small plotting helpers (matplotlib, imported lazily).

One style for every figure (:func:`style`); legends placed beside or below the data
(:func:`legend`), never over it, and a check that finds plotted points a legend covers
(:func:`legend_overlaps`); integer ticks for layers, epochs and depth (:func:`integer_axis`);
logarithmic axes with plain major labels and unlabelled minor ticks (:func:`log_axis`);
prediction-versus-simulation curves with error bars (:func:`plot_moments`) and per-layer
histograms (:func:`plot_histograms`).

Figures have transparent backgrounds and dark-grey text and lines, so they read on the book's
light theme as they are and on its dark theme through the stylesheet ``book/_static/initmath.css``,
which inverts the lightness of figure images and rotates hues back (a colour keeps its hue, a
dark line becomes a light one).

The figure check
----------------
Under IPython (a Jupyter kernel, as the book build runs), :func:`style` makes every figure
display as SVG (vector graphics, sharp on high-DPI screens), drawn by :func:`svg_figure`. That
function first counts the plotted points that a legend covers (:func:`legend_overlaps`) and
writes the count into the SVG's metadata, as the text of the element
``<metadata><rdf:RDF><cc:Work><dc:description>`` (Dublin Core; matplotlib's ``Description``
metadata key), in exactly this form::

    initmath-figure-check: legend-overlaps=<N>

with ``<N>`` a non-negative decimal integer (:data:`CHECK_MARKER` is the text before ``<N>``;
:func:`read_check_marker` reads it back). The book's HTML check reads the figures in
``_build/html/_images/*.svg`` and fails on any with ``N > 0`` or without the marker (a figure
that did not pass through :func:`style`'s formatter).
"""

from __future__ import annotations

import functools
import io
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..core.checks import choice, nonnegative_real

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure, SubFigure
    from matplotlib.legend import Legend

    from ..engine.simulation import SimulationResult

__all__ = [
    "CHECK_MARKER",
    "COLORS",
    "INK",
    "Overlap",
    "integer_axis",
    "legend",
    "legend_overlaps",
    "log_axis",
    "plot_histograms",
    "plot_moments",
    "read_check_marker",
    "style",
    "svg_figure",
]

#: A colour-blind-safe cycle (Okabe and Ito). The last entry is :data:`INK` rather than pure
#: black, so that it inverts to the same light grey as the text in the dark theme.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#222222")

#: The colour of text, spines, ticks and black lines, a near-black that the dark theme's
#: inversion turns into a light grey.
INK = "#222222"

#: The text that precedes the overlap count in an SVG figure's ``<dc:description>``.
CHECK_MARKER = "initmath-figure-check: legend-overlaps="

_MARKER_RE = re.compile(re.escape(CHECK_MARKER) + r"(\d+)")

#: Spacing, in display pixels, of the points sampled along a drawn line's segments.
_LINE_STEP = 2.0
_MAX_SAMPLES_PER_SEGMENT = 2000


class Overlap(NamedTuple):
    """A plotted point inside a legend's bounding box (display coordinates, pixels)."""

    artist: Artist
    x: float
    y: float


def style() -> None:
    """Apply the book's matplotlib style, and under IPython display figures as checked SVG.

    Sets the rcParams: transparent figure, axes and saved backgrounds; text, spines and ticks
    in :data:`INK`; the :data:`COLORS` cycle; 10-point fonts; a light grid; no top and right
    spines; legends without frames. Under IPython it also replaces the inline backend's PNG
    output of a :class:`~matplotlib.figure.Figure` by :func:`svg_figure` (SVG carrying the
    legend check of the module docstring). Calling it again is harmless.
    """
    import matplotlib as mpl
    from cycler import cycler

    # First, so that the inline backend (imported there) cannot override the rcParams below.
    _register_svg_formatter()
    mpl.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "figure.facecolor": "none",
            "figure.edgecolor": "none",
            "axes.facecolor": "none",
            "savefig.facecolor": "none",
            "savefig.edgecolor": "none",
            "savefig.transparent": True,
            "svg.fonttype": "path",
            "svg.hashsalt": "initmath",
            "font.size": 10,
            "axes.titlesize": 10,
            "axes.labelsize": 10,
            "xtick.labelsize": 9,
            "ytick.labelsize": 9,
            "legend.fontsize": 9,
            "text.color": INK,
            "axes.labelcolor": INK,
            "axes.edgecolor": INK,
            "xtick.color": INK,
            "ytick.color": INK,
            "axes.grid": True,
            "grid.color": "#808080",
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "axes.prop_cycle": cycler(color=list(COLORS)),
        }
    )


def _register_svg_formatter() -> None:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is installed with the book's extras
        return
    shell = get_ipython()
    if shell is None:
        return
    import matplotlib as mpl
    from matplotlib.figure import Figure

    # The inline backend selects its PNG formatter once, when its module is first imported
    # (lazily, at the first figure); import it now so that it cannot override ours later.
    if mpl.get_backend(auto_select=False) in (
        "inline",
        "module://matplotlib_inline.backend_inline",
    ):
        import matplotlib_inline.backend_inline  # noqa: F401
    formatters = shell.display_formatter.formatters
    for formatter in formatters.values():
        formatter.pop(Figure, None)
    formatters["image/svg+xml"].for_type(Figure, svg_figure)


def svg_figure(fig: Figure) -> str | None:
    """The figure as SVG text, tightly cropped, with the legend check in its metadata.

    The ``<dc:description>`` of the SVG is ``initmath-figure-check: legend-overlaps=<N>`` with
    ``N = len(legend_overlaps(fig))``. Returns ``None`` for a figure without axes (as
    IPython's own formatter does, so that an empty figure displays nothing).
    """
    _check_figure(fig, "fig")
    if not fig.axes:
        return None
    n = len(legend_overlaps(fig))
    buf = io.BytesIO()
    fig.savefig(
        buf,
        format="svg",
        bbox_inches="tight",
        transparent=True,
        metadata={"Description": f"{CHECK_MARKER}{n}", "Date": None},
    )
    return buf.getvalue().decode("utf-8")


def read_check_marker(svg: str) -> int | None:
    """The overlap count ``N`` of an SVG's ``initmath-figure-check`` marker, or ``None``."""
    if not isinstance(svg, str):
        raise TypeError(f"svg must be a string, got {type(svg).__name__}")
    match = _MARKER_RE.search(svg)
    return int(match.group(1)) if match else None


def legend(ax_or_fig: Axes | Figure | SubFigure, *, where: str = "auto", **kw: Any) -> Legend:
    """A legend beside or below the plotted data, never over it.

    Parameters
    ----------
    ax_or_fig : Axes or Figure
        An Axes gets its own legend; a figure gets one legend for the labelled artists of all
        its axes (each label once).
    where : {"auto", "right", "below"}
        ``"right"``: outside the axes (or figure), to the right, aligned with its top.
        ``"below"``: centred under the axes (under its tick labels and x label; call this
        after setting them) or under the figure, in up to 3 (axes) or 4 (figure) columns.
        ``"auto"``: for an Axes, ``"right"`` unless another axes of the figure lies to its
        right at the same height (a panel in a row), then ``"below"``; for a figure,
        ``"below"`` when it is at least twice as wide as high, else ``"right"``.
    **kw
        Passed to :meth:`~matplotlib.axes.Axes.legend` (``handles``, ``labels``, ``title``,
        ``fontsize``, ``ncols``, ...); ``loc`` and ``bbox_to_anchor`` override the placement.

    Returns
    -------
    matplotlib.legend.Legend
    """
    from matplotlib.axes import Axes
    from matplotlib.figure import FigureBase
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    where = choice(where, "where", ("auto", "right", "below"))
    if isinstance(ax_or_fig, Axes):
        ax = ax_or_fig
        if where == "auto":
            where = "below" if _has_right_neighbour(ax) else "right"
        n = len(kw.get("labels", ax.get_legend_handles_labels()[1]))
        if where == "right":
            place: dict[str, Any] = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0)}
        else:
            place = {
                "loc": "upper center",
                "bbox_to_anchor": (0.5, _below_axes(ax)),
                "ncols": max(1, min(n, 3)),
            }
        place["borderaxespad"] = 0.0
        place.update(kw)
        return ax.legend(**place)
    if isinstance(ax_or_fig, FigureBase):
        fig = ax_or_fig
        if "handles" not in kw:
            handles, labels = [], []
            for a in fig.get_axes():
                for handle, lab in zip(*a.get_legend_handles_labels(), strict=True):
                    if lab not in labels:
                        handles.append(handle)
                        labels.append(lab)
            kw = {"handles": handles, "labels": labels, **kw}
        if where == "auto":
            w, h = fig.get_size_inches() if hasattr(fig, "get_size_inches") else (1.0, 1.0)
            where = "below" if w >= 2 * h else "right"
        # Under the constrained layout, matplotlib's "outside" locations make room for the
        # legend; otherwise it is anchored just outside the figure (the SVG is cropped tight).
        constrained = isinstance(
            getattr(fig, "get_layout_engine", lambda: None)(), ConstrainedLayoutEngine
        )
        if where == "right":
            place = (
                {"loc": "outside right upper"}
                if constrained
                else {"loc": "upper left", "bbox_to_anchor": (1.0, 1.0)}
            )
        else:
            place = (
                {"loc": "outside lower center"}
                if constrained
                else {"loc": "upper center", "bbox_to_anchor": (0.5, 0.0)}
            )
            place["ncols"] = max(1, min(len(kw.get("labels", ())), 4))
        place["borderaxespad"] = 0.0
        place.update(kw)
        return fig.legend(**place)
    raise TypeError(f"ax_or_fig must be a matplotlib Axes or Figure, got {ax_or_fig!r}")


def _has_right_neighbour(ax: Axes) -> bool:
    box = ax.get_position()
    for other in ax.figure.get_axes():
        if other is ax or not other.get_visible() or other.get_label() == "<colorbar>":
            continue
        ob = other.get_position()
        if ob.x0 >= box.x1 - 1e-9 and ob.y0 < box.y1 and ob.y1 > box.y0:
            return True
    return False


def _below_axes(ax: Axes) -> float:
    # The bottom of the axes' tight bounding box (tick labels, x label) in axes coordinates,
    # less a small gap; -0.15 if the figure cannot be laid out here.
    try:
        tight = ax.get_tightbbox()
        if tight is None:
            return -0.15
        y = float(ax.transAxes.inverted().transform((0.0, tight.y0))[1])
        gap = 4.0 / max(ax.bbox.height, 1.0)
        return min(y, 0.0) - gap
    except Exception:  # pragma: no cover - a canvas without a renderer
        return -0.15


def integer_axis(ax: Axes, axis: str = "x") -> None:
    """Integer major ticks on ``axis`` (``"x"``, ``"y"`` or ``"both"``): layers, epochs, depth."""
    from matplotlib.ticker import MaxNLocator

    _check_axes(ax, "ax")
    for a in _axes_of(ax, choice(axis, "axis", ("x", "y", "both"))):
        a.set_major_locator(MaxNLocator(integer=True))


def log_axis(ax: Axes, axis: str = "y", *, base: float = 10.0) -> None:
    r"""A logarithmic ``axis`` (``"x"``, ``"y"`` or ``"both"``) with plain major labels only.

    Over two or more decades the major ticks are the powers of ``base`` (every second or
    further power beyond eight decades), labelled ``0.01``, ``0.1``, ``1``, ``10``, ``100``
    while every tick shown lies in :math:`[10^{-2}, 10^{3}]`, and :math:`10^{k}` otherwise.
    Over a smaller range they are :math:`m \, 10^{k}` with :math:`m \in \{1, 2, 5\}`, or
    :math:`\{1, 2, 3, 5\}`, or :math:`\{1, \dots, 9\}` (the first that gives two ticks in
    view), labelled as plain numbers. Minor ticks have no labels (no ":math:`6\times10^{-1}`").
    Raises ``ValueError`` for a ``base`` not greater than 1.
    """
    from matplotlib.ticker import NullFormatter

    _check_axes(ax, "ax")
    base = nonnegative_real(base, "base")
    if not base > 1.0:
        raise ValueError(f"base must be greater than 1, got {base!r}")
    for a in _axes_of(ax, choice(axis, "axis", ("x", "y", "both"))):
        if a is ax.xaxis:
            ax.set_xscale("log", base=base)
        else:
            ax.set_yscale("log", base=base)
        locator, formatter = _log_ticker_classes()
        a.set_major_locator(locator(base))
        a.set_major_formatter(formatter(base))
        a.set_minor_formatter(NullFormatter())


def _axes_of(ax: Axes, axis: str) -> list[Axis]:
    chosen: list[Axis] = []
    if axis in ("x", "both"):
        chosen.append(ax.xaxis)
    if axis in ("y", "both"):
        chosen.append(ax.yaxis)
    return chosen


def _log_major_ticks(vmin: float, vmax: float, base: float) -> list[float]:
    if not (vmin > 0 and vmax > 0 and math.isfinite(vmin) and math.isfinite(vmax)):
        return []
    lo, hi = sorted((vmin, vmax))
    decades = math.log(hi / lo, base)
    k0, k1 = math.floor(math.log(lo, base)) - 1, math.ceil(math.log(hi, base)) + 1
    candidates: tuple[tuple[float, ...], ...]
    if decades >= 2:
        step = max(1, math.ceil(decades / 8))
        return [base**k for k in range(k0, k1 + 1) if k % step == 0]
    candidates = ((1.0, 2.0, 5.0), (1.0, 2.0, 3.0, 5.0), tuple(float(m) for m in range(1, 10)))
    ticks: list[float] = []
    for subs in candidates:
        ticks = [m * base**k for k in range(k0, k1 + 1) for m in subs if m < base]
        if sum(lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9) for t in ticks) >= 2:
            return ticks
    return ticks


@functools.cache
def _log_ticker_classes() -> tuple[type, type]:
    # Defined on first use, because matplotlib is imported lazily.
    from matplotlib.ticker import Formatter, Locator

    class LogMajorLocator(Locator):
        def __init__(self, base: float) -> None:
            self.base = base

        def __call__(self) -> Sequence[float]:
            if self.axis is None:
                return []
            vmin, vmax = self.axis.get_view_interval()
            return self.tick_values(vmin, vmax)

        def tick_values(self, vmin: float, vmax: float) -> Sequence[float]:
            return _log_major_ticks(vmin, vmax, self.base)

    class LogPlainFormatter(Formatter):
        def __init__(self, base: float) -> None:
            self.base = base
            self.powers = False

        def format_ticks(self, values: Sequence[float]) -> list[str]:
            self.set_locs(list(values))
            axis = self.axis
            lo, hi = sorted(axis.get_view_interval()) if axis is not None else (0.0, math.inf)
            shown = [v for v in values if lo <= v <= hi] or list(values)
            self.powers = any(not 1e-2 <= abs(v) <= 1e3 for v in shown)
            return [self(v, i) for i, v in enumerate(values)]

        def __call__(self, x: float, pos: int | None = None) -> str:
            if x <= 0 or not math.isfinite(x):
                return ""
            k = math.log(x, self.base)
            if self.powers and abs(k - round(k)) < 1e-9:
                b = f"{self.base:g}"
                return rf"$\mathdefault{{{b}^{{{round(k)}}}}}$"
            if self.powers:
                e = math.floor(math.log10(x))
                return rf"$\mathdefault{{{x / 10**e:.3g}\times10^{{{e}}}}}$"
            return f"{x:.6g}"

    return LogMajorLocator, LogPlainFormatter


def legend_overlaps(fig: Figure | SubFigure) -> list[Overlap]:
    """The plotted points that lie inside a legend's bounding box, after drawing ``fig``.

    Points are, in display coordinates: the vertices of every visible
    :class:`~matplotlib.lines.Line2D` that has markers, and points every 2 pixels along its
    drawn segments; the offsets of every :class:`~matplotlib.collections.PathCollection`
    (``scatter``); the vertices of every :class:`~matplotlib.collections.LineCollection`
    (``errorbar``'s bars, ``vlines``, ``hlines``) and points along its segments. A point
    counts only where it is drawn (inside its axes when the artist is clipped). Legends are
    those of every axes and of the figure. Filled areas (``fill_between``, bars) are not
    points and are not checked.

    Returns
    -------
    list of Overlap
        Empty when no legend covers a plotted point.
    """
    from matplotlib.axes import Axes
    from matplotlib.legend import Legend

    _check_figure(fig, "fig")
    root = fig.figure if fig.figure is not None else fig
    root.draw_without_rendering()
    legends = [lg for lg in fig.findobj(Legend) if lg.get_visible()]
    if not legends:
        return []
    boxes = [lg.get_window_extent() for lg in legends]
    out: list[Overlap] = []
    for ax in fig.findobj(Axes):
        if not ax.get_visible():
            continue
        for artist, pts in _plotted_points(ax):
            if artist.get_clip_on():
                ab = ax.bbox
                keep = (
                    (pts[:, 0] >= ab.x0 - 0.5)
                    & (pts[:, 0] <= ab.x1 + 0.5)
                    & (pts[:, 1] >= ab.y0 - 0.5)
                    & (pts[:, 1] <= ab.y1 + 0.5)
                )
                pts = pts[keep]
            for box in boxes:
                hit = (
                    (pts[:, 0] >= box.x0)
                    & (pts[:, 0] <= box.x1)
                    & (pts[:, 1] >= box.y0)
                    & (pts[:, 1] <= box.y1)
                )
                out.extend(Overlap(artist, float(x), float(y)) for x, y in pts[hit])
                pts = pts[~hit]
    return out


def _plotted_points(ax: Axes) -> list[tuple[Artist, np.ndarray]]:
    from matplotlib.collections import LineCollection, PathCollection
    from matplotlib.lines import Line2D

    found: list[tuple[Artist, np.ndarray]] = []
    for artist in ax.get_children():
        if not artist.get_visible():
            continue
        if isinstance(artist, Line2D):
            xy = np.asarray(artist.get_xydata(), dtype=float).reshape(-1, 2)
            if len(xy) == 0:
                continue
            disp = artist.get_transform().transform(xy)
            parts = []
            if artist.get_marker() not in (None, "", " ", "None", "none"):
                parts.append(disp)
            if artist.get_linestyle() not in ("None", "", " ", "none"):
                parts.append(_along(disp))
            if parts:
                found.append((artist, _finite(np.concatenate(parts))))
        elif isinstance(artist, PathCollection):
            offsets = np.asarray(artist.get_offsets(), dtype=float).reshape(-1, 2)
            if len(offsets):
                found.append((artist, _finite(artist.get_offset_transform().transform(offsets))))
        elif isinstance(artist, LineCollection):
            transform = artist.get_transform()
            parts = [
                _along(transform.transform(vertices))
                for vertices in (np.asarray(p.vertices, dtype=float) for p in artist.get_paths())
                if vertices.shape[0]
            ]
            if parts:
                found.append((artist, _finite(np.concatenate(parts))))
    return found


def _finite(pts: np.ndarray) -> np.ndarray:
    return pts[np.all(np.isfinite(pts), axis=1)]


def _along(disp: np.ndarray) -> np.ndarray:
    # The vertices and points every _LINE_STEP pixels along the segments between consecutive
    # finite vertices (a NaN vertex breaks the line, as matplotlib draws it).
    if len(disp) < 2:
        return disp
    p0, p1 = disp[:-1], disp[1:]
    ok = np.all(np.isfinite(p0), axis=1) & np.all(np.isfinite(p1), axis=1)
    p0, p1 = p0[ok], p1[ok]
    if len(p0) == 0:
        return disp
    length = np.hypot(*(p1 - p0).T)
    n = np.clip(np.ceil(length / _LINE_STEP).astype(int), 1, _MAX_SAMPLES_PER_SEGMENT)
    seg = np.repeat(np.arange(len(p0)), n)
    start = np.repeat(np.cumsum(n) - n, n)
    t = (np.arange(n.sum()) - start) / n[seg]
    samples = p0[seg] + t[:, None] * (p1[seg] - p0[seg])
    return np.concatenate([disp, samples])


def _check_figure(fig: object, name: str) -> None:
    from matplotlib.figure import FigureBase

    if not isinstance(fig, FigureBase):
        raise TypeError(f"{name} must be a matplotlib Figure, got {fig!r}")


def plot_moments(
    ax: Axes,
    result: SimulationResult,
    predicted: Sequence[float] | np.ndarray,
    *,
    quantity: str = "q",
    label: str = "",
    color: str | None = None,
    z: float = 2.0,
    logy: bool = True,
) -> None:
    """Simulated per-layer estimates with ``z``-standard-error bars, and the prediction.

    ``result`` is a :class:`~initmath.SimulationResult` or any object with the same per-layer
    arrays (``q``, ``q_se``; ``grad_q``, ``grad_q_se``). ``quantity`` is ``"q"``
    (pre-activation second moment) or ``"grad"`` (gradient second moment). Layers are numbered
    from 1. ``predicted`` has one real value per layer (not NaN), ``z`` is >= 0.

    Raises
    ------
    TypeError, ValueError
        For an invalid argument (named in the message), before anything is drawn.
    """
    _check_axes(ax, "ax")
    quantity = choice(quantity, "quantity", ("q", "grad"))
    _check_estimates(result, ("q", "q_se") if quantity == "q" else ("grad_q", "grad_q_se"))
    if not isinstance(label, str):
        raise TypeError(f"label must be a string, got {label!r}")
    z = nonnegative_real(z, "z")
    _check_bool(logy, "logy")
    est = result.q if quantity == "q" else result.grad_q
    se = result.q_se if quantity == "q" else result.grad_q_se
    if est is None or se is None:
        raise ValueError(f"the simulation did not record {quantity!r}")
    layers = np.arange(1, len(est) + 1)
    pred = _predicted(predicted, len(est))
    line = ax.plot(layers, pred, "-", color=color, lw=1.5, label=f"{label} predicted".strip())[0]
    ax.errorbar(
        layers,
        est,
        yerr=z * se,
        fmt="o",
        ms=3,
        color=line.get_color(),
        capsize=2,
        label=f"{label} simulated (±{z:g} se)".strip(),
    )
    ax.set_xlabel("layer")
    ax.set_ylabel(
        {"q": "second moment of pre-activations", "grad": "second moment of gradients"}[quantity]
    )
    if logy:
        ax.set_yscale("log")


def plot_histograms(
    result: SimulationResult,
    kind: str = "act",
    *,
    layers: Sequence[int] | None = None,
    ax: Axes | None = None,
    density: bool = True,
) -> Figure | SubFigure:
    """Per-layer histograms (``kind`` ``"pre"``, ``"act"`` or ``"grad"``) as outlined curves.

    They are drawn in the manner of Glorot and Bengio (2010), Figures 6 and 7. ``layers`` are
    1-based.
    """
    import matplotlib.pyplot as plt

    _check_result(result)
    kind = choice(kind, "kind", ("pre", "act", "grad"))
    if ax is not None:
        _check_axes(ax, "ax")
    _check_bool(density, "density")
    hist = result.histograms
    if hist is None or result.hist_edges is None:
        raise ValueError("the simulation did not record histograms")
    counts = hist[kind]
    edges = result.hist_edges[kind]
    centers = (edges[:-1] + edges[1:]) / 2
    width = edges[1] - edges[0]
    fig: Figure | SubFigure
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.2))
    else:
        fig = ax.figure  # a SubFigure when ``ax`` is in one
    chosen = _layers(layers, counts.shape[0])
    for layer in chosen:
        c = counts[layer - 1].astype(float)
        y = c / (c.sum() * width) if density and c.sum() > 0 else c
        ax.plot(centers, y, lw=1.2, label=f"layer {layer}")
    ax.set_ylabel("density" if density else "count")
    legend(ax, fontsize=8)
    return fig


def _check_estimates(result: object, attrs: tuple[str, str]) -> None:
    # Anything with per-layer estimates and standard errors as attributes: a
    # SimulationResult, or a chapter's own record of one (e.g. a fitted curve).
    for attr in attrs:
        value = getattr(result, attr, None)
        if isinstance(value, (str, bytes)) or value is None or np.ndim(value) != 1:
            raise TypeError(
                f"result must have per-layer arrays {attrs[0]!r} and {attrs[1]!r} (e.g. an "
                f"initmath.SimulationResult), got {result!r}"
            )


def _check_result(result: object) -> None:
    from ..engine.simulation import SimulationResult

    if not isinstance(result, SimulationResult):
        raise TypeError(f"result must be an initmath.SimulationResult, got {result!r}")


def _check_axes(ax: object, name: str) -> None:
    if not (hasattr(ax, "plot") and hasattr(ax, "errorbar") and hasattr(ax, "figure")):
        raise TypeError(f"{name} must be a matplotlib Axes, got {ax!r}")


def _check_bool(value: object, name: str) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}")


def _predicted(predicted: object, n_layers: int) -> np.ndarray:
    if isinstance(predicted, (str, bytes)) or predicted is None:
        raise TypeError(f"predicted must be a sequence of numbers, got {predicted!r}")
    try:
        arr = np.asarray(predicted, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"predicted must be a sequence of numbers, got {predicted!r}") from None
    if arr.shape != (n_layers,):
        raise ValueError(
            f"predicted must have one value per layer ({n_layers}), got shape {arr.shape}"
        )
    if np.any(np.isnan(arr)):
        raise ValueError(f"predicted must not contain NaN, got {predicted!r}")
    return arr


def _layers(layers: object, n_layers: int) -> list[int]:
    if layers is None:
        return list(range(1, n_layers + 1))
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise TypeError(f"layers must be a sequence of 1-based layer numbers, got {layers!r}")
    out = []
    for layer in layers:
        if isinstance(layer, (bool, np.bool_)) or not isinstance(layer, (int, np.integer)):
            raise TypeError(f"layers must contain integers, got {layers!r}")
        if not 1 <= layer <= n_layers:
            raise ValueError(f"layers must be in 1..{n_layers}, got {layers!r}")
        out.append(int(layer))
    return out
