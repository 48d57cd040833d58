"""Small real datasets shipped with the package (no download at run time).

* Breast Cancer Wisconsin (Diagnostic): 569 tumours, 30 features, binary label
  (W. N. Street, W. H. Wolberg, O. L. Mangasarian, 1993; UCI Machine Learning
  Repository, CC BY 4.0). Copied from scikit-learn's bundled file.
* Optical Recognition of Handwritten Digits: 1797 8x8 images, 10 classes
  (E. Alpaydin, C. Kaynak, 1998; UCI, CC BY 4.0). Copied from scikit-learn.

See ``data/*.rst`` beside this module for the full descriptions.
"""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np

from ._validation import as_generator

__all__ = ["breast_cancer", "digits", "train_validation_split"]


def _read(name: str) -> np.ndarray:
    ref = resources.files("sgdsim") / "data" / name
    with ref.open("rb") as fh:
        raw = gzip.decompress(fh.read()) if name.endswith(".gz") else fh.read()
    return raw.decode()


def _standardize(x: np.ndarray) -> np.ndarray:
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    return (x - x.mean(axis=0)) / sd


def breast_cancer(standardize: bool = True, intercept: bool = True):
    """Return ``X`` of shape (569, 30 [+1]) and labels ``y`` in {0, 1} (1 = benign).

    With ``standardize`` every feature has mean 0 and variance 1; with
    ``intercept`` a last column of ones is appended.
    """
    lines = _read("breast_cancer.csv").strip().splitlines()[1:]
    data = np.array([[float(v) for v in line.split(",")] for line in lines])
    x, y = data[:, :-1], data[:, -1]
    if standardize:
        x = _standardize(x)
    if intercept:
        x = np.c_[x, np.ones(len(x))]
    return x, y


def digits(standardize: bool = False):
    """Return ``X`` of shape (1797, 64) with pixel values 0..16 (or standardized) and ``y`` in 0..9."""
    data = np.loadtxt(_read("digits.csv.gz").splitlines(), delimiter=",")
    x, y = data[:, :-1], data[:, -1].astype(int)
    return (_standardize(x) if standardize else x), y


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
