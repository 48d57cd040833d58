import numpy as np
import pytest

from sgdsim import datasets


def test_breast_cancer():
    x, y = datasets.breast_cancer()
    assert x.shape == (569, 31) and y.shape == (569,)
    assert set(np.unique(y)) == {0.0, 1.0} and y.sum() == 357  # 357 benign
    np.testing.assert_allclose(x[:, :-1].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(x[:, :-1].std(axis=0), 1, atol=1e-12)
    raw, _ = datasets.breast_cancer(standardize=False, intercept=False)
    assert raw[0, 0] == 17.99


def test_split(rng):
    x, y = np.arange(10)[:, None], np.arange(10)
    xt, yt, xv, yv = datasets.train_validation_split(x, y, 0.3, rng=rng)
    assert len(xv) == 3 and len(xt) == 7
    assert sorted(np.r_[yt, yv].tolist()) == list(range(10))
    with pytest.raises(ValueError):
        datasets.train_validation_split(x, y, 1.5, rng=rng)
    with pytest.raises(TypeError, match="rng"):
        datasets.train_validation_split(x, y, 0.3, rng=None)
