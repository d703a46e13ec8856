r"""Numbers and tables as the book prints them: one format for every computed value.

* :func:`number`: three significant figures (``0.0201``, ``1.41``, ``32.0``), integers as they
  are (``1024``), and :math:`m \times 10^{k}` in math (``$1.69 \times 10^{-5}$``) for values
  below :math:`10^{-3}` or from :math:`10^{5}` in magnitude;
* :func:`estimate`: a value with its standard error, the error to two significant figures
  when its first digit is 1 or 2 and to one otherwise, the value rounded to the same decimal
  place (``0.0201 ± 0.0003``, ``1.000 ± 0.012``); very small or large values share one power
  of ten (``$(1.69 \pm 0.03) \times 10^{-5}$``);
* :func:`markdown_table`: a GitHub-flavoured Markdown table whose headers may be math
  (``$q^L/q^1$``), for ``{glue:md}`` or ``IPython.display.Markdown``.

Nothing is hidden by the format: an infinite or undefined value prints as ``inf``, ``-inf``
or ``nan`` (never as 0 or as a rounded number), an error of exactly 0 as ``± 0``.

>>> number(0.020134), number(1024), number(1.6943e-05)
('0.0201', '1024', '$1.69 \\times 10^{-5}$')
>>> estimate(0.020134, 0.000312), estimate(1.0, 0.0123)
('0.0201 ± 0.0003', '1.000 ± 0.012')
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from ..core.checks import integer

__all__ = ["estimate", "markdown_table", "number"]

#: Magnitudes below this or from ``LARGE`` on are written with a power of ten.
SMALL = 1e-3
LARGE = 1e5
_MINUS = "-"


def _real(value: object, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    try:
        return float(value)
    except OverflowError:  # an int beyond float64
        return math.inf if int(value) > 0 else -math.inf  # type: ignore[call-overload]


def _nonfinite(x: float) -> str:
    if math.isnan(x):
        return "nan"
    return "inf" if x > 0 else f"{_MINUS}inf"


def _exponent(x: float) -> int:
    """The power of ten of |x| (x finite, nonzero), after rounding to three figures."""
    return math.floor(math.log10(abs(float(f"{x:.2e}"))))  # 9.996e-5 rounds to 1.00e-4


def _is_int(value: object) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )


def number(x: object, digits: int = 3) -> str:
    r"""A computed value with ``digits`` significant figures.

    Parameters
    ----------
    x : int or float
        An integer prints as it is (``1024``); a float with ``digits`` significant figures,
        trailing zeros kept (``32.0``), in plain text for :math:`10^{-3} \le |x| < 10^5` and
        as ``$m \times 10^{k}$`` (math) outside that range.
    digits : int
        Significant figures, >= 1.

    Returns
    -------
    str
        ``inf``, ``-inf`` or ``nan`` for those values; ``0`` for zero.

    Raises
    ------
    TypeError
        ``x`` not a real number (a bool included), ``digits`` not an integer.
    ValueError
        ``digits < 1``.

    Examples
    --------
    >>> number(2 ** 0.5), number(32.0), number(-0.5), number(123456.0)
    ('1.41', '32.0', '-0.500', '$1.23 \\times 10^{5}$')
    """
    n = integer(digits, "digits", 1)
    if _is_int(x):
        return str(int(x))  # type: ignore[call-overload]
    v = _real(x, "x")
    if not math.isfinite(v):
        return _nonfinite(v)
    if v == 0.0:
        return "0"
    r = float(f"{v:.{n - 1}e}")  # rounded to n figures first: 99999 -> 1.00e5
    k = math.floor(math.log10(abs(r)))
    if SMALL <= abs(r) < LARGE:
        return f"{r:.{max(n - 1 - k, 0)}f}"
    return f"${r / 10.0**k:.{n - 1}f} \\times 10^{{{k}}}$"


def _error_decimal(se: float) -> int:
    """The decimal place (10^-d) an error is rounded to: two figures if it starts with 1 or 2."""
    k = math.floor(math.log10(se))
    lead = se / 10.0**k
    figures = 2 if lead < 2.95 else 1
    d = figures - 1 - k
    # rounding up may reach the next power of ten (0.0096 -> 0.01): one figure then
    if round(se, d) >= 10.0 ** (k + 1) and figures == 1:
        d -= 1
    return d


def estimate(value: object, se: object) -> str:
    r"""``value ± se`` with the error's precision deciding the value's.

    Parameters
    ----------
    value : float
        The estimate.
    se : float
        Its standard error, >= 0 (or ``inf``/``nan``, printed as such).

    Returns
    -------
    str
        The error to two significant figures when its first digit is 1 or 2, to one
        otherwise; the value rounded to the same decimal place. Where :func:`number` would
        use a power of ten for the value, both share it:
        ``$(1.69 \pm 0.03) \times 10^{-5}$``. A non-finite value is ``inf``, ``-inf`` or
        ``nan`` with no error; a non-finite error prints as ``± inf``/``± nan`` after the
        value in :func:`number`'s format; an error of 0 as ``± 0``.

    Raises
    ------
    TypeError
        Either argument not a real number.
    ValueError
        A negative ``se``.

    Examples
    --------
    >>> estimate(0.5, 0.0), estimate(math.inf, 0.1), estimate(2.0, math.nan)
    ('0.500 ± 0', 'inf', '2.00 ± nan')
    >>> estimate(1.6943e-05, 3.1e-07)
    '$(1.69 \\pm 0.03) \\times 10^{-5}$'
    >>> estimate(31.2345, 1.7)
    '31.2 ± 1.7'
    """
    v = _real(value, "value")
    s = _real(se, "se")
    if s < 0:
        raise ValueError(f"se must be >= 0, got {se!r}")
    if not math.isfinite(v):
        return _nonfinite(v)
    if not math.isfinite(s):
        return f"{number(v)} ± {_nonfinite(s)}"
    if s == 0.0:
        return f"{number(v)} ± 0"
    scaled = v != 0.0 and not SMALL <= abs(float(f"{v:.2e}")) < LARGE
    k = _exponent(v) if scaled else 0
    vv, ss = v / 10.0**k, s / 10.0**k
    d = _error_decimal(ss)
    if d > 0:
        body = f"{vv:.{d}f} ± {ss:.{d}f}"
    else:
        body = f"{round(vv, d):.0f} ± {round(ss, d):.0f}"
    if scaled:
        tex = body.replace("±", "\\pm")
        return f"$({tex}) \\times 10^{{{k}}}$"
    return body


def markdown_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None
) -> str:
    r"""A GitHub-flavoured Markdown table.

    Parameters
    ----------
    headers : sequence of str
        The column headers; math in ``$...$`` is typeset by MyST's ``dollarmath``.
    rows : sequence of sequences of str
        One entry per column each; a ``|`` inside a cell is escaped.
    align : str, optional
        One letter per column, ``"l"``, ``"r"`` or ``"c"``; default: the first column left,
        the others right (numbers).

    Returns
    -------
    str

    Raises
    ------
    TypeError
        A header or cell that is not a string.
    ValueError
        A row or ``align`` of the wrong length, an unknown alignment letter, no columns.

    Examples
    --------
    >>> print(markdown_table(["setting", "$F$"], [["He", number(1.0)]]))
    | setting | $F$ |
    | :-- | --: |
    | He | 1.00 |
    """
    cols = len(headers)
    if cols == 0:
        raise ValueError("headers must name at least one column, got none")
    spec = "l" + "r" * (cols - 1) if align is None else align
    if not isinstance(spec, str) or len(spec) != cols or set(spec) - set("lrc"):
        raise ValueError(f"align must have one of 'l', 'r', 'c' per column ({cols}), got {align!r}")
    rule = {"l": ":--", "r": "--:", "c": ":-:"}

    def cell(x: object, where: str) -> str:
        if not isinstance(x, str):
            raise TypeError(f"{where} must be a string, got {x!r}")
        return x.replace("|", r"\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(cell(h, f"header {j}") for j, h in enumerate(headers)) + " |",
        "| " + " | ".join(rule[a] for a in spec) + " |",
    ]
    for i, row in enumerate(rows):
        if len(row) != cols:
            raise ValueError(f"row {i} has {len(row)} cells, expected {cols}: {list(row)!r}")
        lines.append(
            "| " + " | ".join(cell(x, f"row {i} cell {j}") for j, x in enumerate(row)) + " |"
        )
    return "\n".join(lines)
