"""A small real data set shipped with the package (no download at run time).

Breast Cancer Wisconsin (Diagnostic): 569 tumours, 30 features, binary label (W. N. Street,
W. H. Wolberg, O. L. Mangasarian, 1993; UCI Machine Learning Repository, CC BY 4.0), copied
from scikit-learn's bundled file; ``data/breast_cancer.rst`` describes it.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from ._validation import as_generator

__all__ = ["breast_cancer", "train_validation_split"]


def breast_cancer(standardize: bool = True, intercept: bool = True):
    """Return ``X`` of shape (569, 30 [+1]) and labels ``y`` in {0, 1} (1 = benign).

    With ``standardize`` every feature has mean 0 and variance 1; with
    ``intercept`` a last column of ones is appended.
    """
    text = (resources.files("sgdsim") / "data" / "breast_cancer.csv").read_text(encoding="utf-8")
    lines = text.strip().splitlines()[1:]
    data = np.array([[float(v) for v in line.split(",")] for line in lines])
    x, y = data[:, :-1], data[:, -1]
    if standardize:
        sd = x.std(axis=0)
        sd[sd == 0] = 1.0
        x = (x - x.mean(axis=0)) / sd
    if intercept:
        x = np.c_[x, np.ones(len(x))]
    return x, y


def train_validation_split(x, y, validation_fraction: float, *, rng):
    """Shuffle with ``rng`` and split into (x_train, y_train, x_val, y_val)."""
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction!r}")
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y) or len(x) < 2:
        raise ValueError("x and y must have the same length, at least 2")
    perm = as_generator(rng).permutation(len(x))
    n_val = max(1, int(round(validation_fraction * len(x))))
    val, train = perm[:n_val], perm[n_val:]
    return x[train], y[train], x[val], y[val]
