"""Real labelled data for the training chapter, available offline.

:func:`digits` is the UCI optical-recognition handwritten digits test set (Alpaydin and
Kaynak, 1998) as scikit-learn bundles it: 1,797 images of 8 x 8 pixels with 17 grey levels,
ten classes. The data ship inside scikit-learn's wheel (the ``data`` extra of initmath), so
nothing is downloaded at run time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..core.checks import integer, positive_real

__all__ = ["Dataset", "digits"]


@dataclass(frozen=True)
class Dataset:
    """A train/test split.

    Attributes
    ----------
    x_train, x_test : numpy.ndarray
        float64 inputs, one example per row.
    y_train, y_test : numpy.ndarray
        int64 labels in ``[0, n_classes)``.
    n_classes : int
    name : str
    """

    x_train: npt.NDArray[np.float64]
    y_train: npt.NDArray[np.int64]
    x_test: npt.NDArray[np.float64]
    y_test: npt.NDArray[np.int64]
    n_classes: int
    name: str


def digits(test_fraction: float = 0.25, seed: int = 0, standardize: bool = True) -> Dataset:
    """scikit-learn's handwritten digits, split per class with a fixed seed.

    Parameters
    ----------
    test_fraction : float
        In ``(0, 1)``: the share of each class that goes to the test set (rounded).
    seed : int
        Seed of the split (``numpy.random.default_rng(seed)``, one permutation per class).
    standardize : bool
        Centre and scale each pixel by the training set's mean and standard deviation
        (pixels that are constant in the training set are only centred), so that the
        inputs have second moment about one, as the initialization schemes assume.

    Returns
    -------
    Dataset
        64 inputs, 10 classes.

    Raises
    ------
    ImportError
        Without scikit-learn (``pip install initmath[data]``).
    TypeError, ValueError
        ``test_fraction`` not a number in ``(0, 1)``, ``seed`` not an integer >= 0,
        ``standardize`` not a bool; checked before the data are loaded.
    """
    fraction = positive_real(test_fraction, "test_fraction")
    if not isinstance(standardize, (bool, np.bool_)):
        raise TypeError(f"standardize must be a bool, got {standardize!r}")
    if not fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}")
    rng = np.random.default_rng(integer(seed, "seed", minimum=0))
    from sklearn.datasets import load_digits  # bundled data: no network access

    data = load_digits()
    x = np.asarray(data.data, dtype=np.float64)
    y = np.asarray(data.target, dtype=np.int64)
    test = np.zeros(y.size, dtype=bool)
    for c in range(10):
        members = rng.permutation(np.flatnonzero(y == c))
        test[members[: round(fraction * members.size)]] = True
    x_train, x_test = x[~test], x[test]
    if standardize:
        mean = x_train.mean(axis=0)
        scale = x_train.std(axis=0)
        scale[scale == 0] = 1.0
        x_train, x_test = (x_train - mean) / scale, (x_test - mean) / scale
    return Dataset(x_train, y[~test], x_test, y[test], 10, "digits")
