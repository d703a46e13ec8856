"""The book's figure style (issue #18 point 7): legends outside the data and the check that finds
a legend over plotted points, integer and logarithmic axes, transparent SVG with the check's
marker in its metadata."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from initmath.practice import plotting  # noqa: E402

X = np.linspace(0.0, 1.0, 41)


@pytest.fixture(autouse=True)
def _styled() -> Iterator[None]:
    with mpl.rc_context():
        plotting.style()
        yield
    plt.close("all")


def _lines_everywhere(ax: matplotlib.axes.Axes, n: int = 4) -> None:
    # Lines whose vertices fill the whole axes: horizontal lines at several heights and two
    # diagonals, so that no region inside the axes is free of plotted points.
    for k in range(n):
        ax.plot(X, np.full_like(X, k / (n - 1)), label=f"level {k}")
    ax.plot(X, X, label="rising")
    ax.plot(X, 1 - X, label="falling")
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.05, 1.05)


def _svg_tree(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode())


# --- the legend check ---------------------------------------------------------------------------


def test_a_legend_put_over_the_data_is_found() -> None:
    fig, ax = plt.subplots(figsize=(5, 3.5))
    _lines_everywhere(ax)
    ax.legend(loc="center")
    hits = plotting.legend_overlaps(fig)
    assert len(hits) > 0
    # Every reported point lies in the legend's box, and is a point of one of the lines.
    box = ax.get_legend().get_window_extent()
    assert all(box.x0 <= h.x <= box.x1 and box.y0 <= h.y <= box.y1 for h in hits)
    assert {h.artist for h in hits} <= set(ax.lines)


def test_a_line_crossing_the_legend_between_vertices_is_found() -> None:
    # Two vertices only, far outside the legend: the segment between them crosses it.
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot([0, 1], [0, 1], label="diagonal")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="center")
    assert len(plotting.legend_overlaps(fig)) > 0


def test_scatter_points_and_error_bars_under_a_legend_are_found() -> None:
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.scatter([0.5], [0.5], label="one point")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="center")
    hits = plotting.legend_overlaps(fig)
    assert [type(h.artist).__name__ for h in hits] == ["PathCollection"]

    fig, ax = plt.subplots(figsize=(5, 3.5))
    container = ax.errorbar([0.1, 0.9], [0.5, 0.5], yerr=[0.45, 0.45], fmt="none", label="bars")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="center left", borderaxespad=0.0)
    hits = plotting.legend_overlaps(fig)
    assert hits and {h.artist for h in hits} <= set(container.lines[2])


def test_points_outside_the_view_do_not_count() -> None:
    # The data are far off to the left of the view: clipped, not drawn, not covered.
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(X - 5, X, "o-", label="off view")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="center")
    assert plotting.legend_overlaps(fig) == []


@pytest.mark.parametrize("where", ["auto", "right", "below"])
def test_legend_placement_covers_no_point_of_lines_filling_the_axes(where: str) -> None:
    fig, ax = plt.subplots(figsize=(5, 3.5))
    _lines_everywhere(ax)
    ax.set_xlabel("layer")
    leg = plotting.legend(ax, where=where)
    assert ax.get_legend() is leg
    assert len(leg.get_texts()) == 6
    assert plotting.legend_overlaps(fig) == []
    # Outside the axes: its box does not meet the axes' box.
    assert not leg.get_window_extent().overlaps(ax.bbox)


def test_panels_in_a_row_get_their_legends_below() -> None:
    fig, axes = plt.subplots(1, 2, figsize=(8, 3))
    for ax in axes:
        _lines_everywhere(ax)
    legends = [plotting.legend(ax) for ax in axes]
    assert plotting.legend_overlaps(fig) == []
    left_box, right_box = (lg.get_window_extent() for lg in legends)
    # The left panel's legend is below it, not over the right panel.
    assert left_box.y1 <= axes[0].bbox.y0
    assert not left_box.overlaps(axes[1].bbox)
    assert not right_box.overlaps(axes[0].bbox)


@pytest.mark.parametrize("layout", [None, "constrained"])
@pytest.mark.parametrize(("size", "below"), [((9, 3), True), ((5, 4), False)])
def test_a_figure_legend_collects_each_label_once_outside_all_axes(
    size: tuple[float, float], below: bool, layout: str | None
) -> None:
    fig, axes = plt.subplots(1, 2, figsize=size, layout=layout)
    for ax in axes:
        _lines_everywhere(ax)
    leg = plotting.legend(fig)
    assert [t.get_text() for t in leg.get_texts()] == [
        "level 0",
        "level 1",
        "level 2",
        "level 3",
        "rising",
        "falling",
    ]
    assert plotting.legend_overlaps(fig) == []
    box = leg.get_window_extent()
    assert all(not box.overlaps(ax.bbox) for ax in axes)
    assert bool(box.y1 <= min(ax.bbox.y0 for ax in axes)) == below


def test_legend_rejects_what_is_not_axes_or_figure() -> None:
    with pytest.raises(TypeError, match="ax_or_fig"):
        plotting.legend("axes")  # type: ignore[arg-type]
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="where"):
        plotting.legend(ax, where="inside")


# --- axes --------------------------------------------------------------------------------------


def test_integer_axis_has_only_integer_ticks() -> None:
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot([1, 2, 3], [0.1, 0.2, 0.15])  # default ticks would be at 1.0, 1.25, 1.5, ...
    ax.set_xlim(0.8, 3.2)
    fig.canvas.draw()
    assert any(t != round(t) for t in ax.get_xticks())  # the default ticks are fractional
    plotting.integer_axis(ax)
    fig.canvas.draw()
    ticks = ax.get_xticks()
    assert len(ticks) >= 2
    assert all(t == round(t) for t in ticks)
    with pytest.raises(ValueError, match="axis"):
        plotting.integer_axis(ax, axis="z")


@pytest.mark.parametrize(
    ("low", "high"), [(0.3, 0.9), (0.45, 2.2), (0.02, 3.0), (1e-5, 90.0), (1e-12, 1e6)]
)
def test_log_axis_labels_major_ticks_plainly_and_minor_ticks_not_at_all(
    low: float, high: float
) -> None:
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot([1, 2, 3], [low, np.sqrt(low * high), high])
    plotting.log_axis(ax)
    fig.canvas.draw()
    assert ax.get_yscale() == "log"
    lo, hi = ax.get_ylim()
    shown = [
        (tick, label.get_text())
        for tick, label in zip(ax.get_yticks(), ax.get_yticklabels(), strict=True)
        if lo <= tick <= hi
    ]
    assert len(shown) >= 2
    for tick, text in shown:
        if re.fullmatch(r"[0-9.]+", text):
            assert float(text) == pytest.approx(tick, rel=1e-6)
        else:  # a power of ten, never a mantissa times a power
            k = re.fullmatch(r"\$\\mathdefault\{10\^\{(-?\d+)\}\}\$", text)
            assert k is not None, text
            assert 10.0 ** int(k.group(1)) == pytest.approx(tick, rel=1e-9)
    assert all(label.get_text() == "" for label in ax.yaxis.get_minorticklabels())
    if np.log10(high / low) < 10:  # matplotlib draws no minor ticks over more decades
        assert len(ax.yaxis.get_minorticklocs()) > 0


def test_log_axis_rejects_bad_arguments() -> None:
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="base"):
        plotting.log_axis(ax, base=1.0)
    with pytest.raises(TypeError, match="ax"):
        plotting.log_axis("ax")  # type: ignore[arg-type]


# --- SVG through IPython's formatter -----------------------------------------------------------


@pytest.fixture
def shell() -> Iterator[object]:
    from IPython.core.interactiveshell import InteractiveShell

    if InteractiveShell.initialized():  # pragma: no cover - a test run inside IPython
        pytest.skip("an IPython shell is already running")
    sh = InteractiveShell.instance()
    try:
        yield sh
    finally:
        for formatter in sh.display_formatter.formatters.values():
            formatter.pop(Figure, None)
        InteractiveShell.clear_instance()


@pytest.mark.parametrize("over_data", [False, True])
def test_figures_display_as_svg_carrying_the_check_marker(shell: object, over_data: bool) -> None:
    plotting.style()  # now under IPython: registers the formatter
    fig, ax = plt.subplots(figsize=(5, 3.5))
    _lines_everywhere(ax)
    if over_data:
        ax.legend(loc="center")
    else:
        plotting.legend(ax)
    data, _ = shell.display_formatter.format(fig)  # type: ignore[attr-defined]
    assert "image/png" not in data
    svg = data["image/svg+xml"]
    n = len(plotting.legend_overlaps(fig))
    assert (n > 0) is over_data
    # The marker is the text of <dc:description> in the SVG's RDF metadata.
    ns = {
        "svg": "http://www.w3.org/2000/svg",
        "dc": "http://purl.org/dc/elements/1.1/",
    }
    desc = _svg_tree(svg).findall(".//svg:metadata//dc:description", ns)
    assert [d.text for d in desc] == [f"initmath-figure-check: legend-overlaps={n}"]
    assert plotting.read_check_marker(svg) == n


def test_an_empty_figure_displays_nothing(shell: object) -> None:
    plotting.style()
    data, _ = shell.display_formatter.format(plt.figure())  # type: ignore[attr-defined]
    assert "image/svg+xml" not in data and "image/png" not in data


def test_read_check_marker_of_an_svg_without_one() -> None:
    assert plotting.read_check_marker("<svg></svg>") is None
    with pytest.raises(TypeError, match="svg"):
        plotting.read_check_marker(b"<svg/>")  # type: ignore[arg-type]


def _opaque_fills(svg: str) -> list[str]:
    # The fill colours of every filled shape, except the plotted lines' and the text's.
    fills = re.findall(r'style="[^"]*fill:\s*(#[0-9a-fA-F]{6}|white|[a-z]+)', svg)
    return [f for f in fills if f.lower() not in ("none",)]


def test_the_svg_has_a_transparent_background() -> None:
    fig, ax = plt.subplots(figsize=(5, 3.5))
    _lines_everywhere(ax)
    plotting.legend(ax)
    svg = plotting.svg_figure(fig)
    assert svg is not None
    root = _svg_tree(svg)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    # The figure's and the axes' background patches are the first path of their groups.
    figure_patch = root.find(".//svg:g[@id='figure_1']/svg:g[@id='patch_1']/svg:path", ns)
    axes_patch = root.find(".//svg:g[@id='axes_1']/svg:g[@id='patch_2']/svg:path", ns)
    for patch in (figure_patch, axes_patch):
        assert patch is not None
        assert "fill: none" in patch.get("style", "")
    # And no shape anywhere is filled white (an opaque background card).
    assert not any(f.lower() in ("#ffffff", "white") for f in _opaque_fills(svg))
    # Text and lines are dark ink, not black, so the dark theme's inversion lightens them.
    assert plotting.INK in svg


def test_style_sets_transparent_backgrounds_and_the_colour_cycle() -> None:
    rc = mpl.rcParams
    assert rc["savefig.transparent"] is True
    for key in ("figure.facecolor", "axes.facecolor", "savefig.facecolor"):
        assert mpl.colors.to_rgba(rc[key])[3] == 0.0, key
    assert [c["color"] for c in rc["axes.prop_cycle"]] == list(plotting.COLORS)


def test_plot_histograms_puts_its_legend_outside() -> None:
    import initmath

    result = initmath.simulate([20, 20, 20, 20], "tanh", n_networks=50, record=("histograms",))
    fig = plotting.plot_histograms(result, "act")
    assert len(fig.axes[0].get_legend().get_texts()) == 3
    assert plotting.legend_overlaps(fig) == []
