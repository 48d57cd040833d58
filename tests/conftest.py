import numpy as np
import pytest

import sgdsim


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def quad2d():
    """A 2-D ill-conditioned quadratic finite sum with 50 examples."""
    g = np.random.default_rng(7)
    centers = g.normal(size=(50, 2)) * [1.0, 0.5] + [1.0, -2.0]
    return sgdsim.Quadratic(centers, [[2.0, 0.5], [0.5, 1.0]])


def fd_grad(f, x, h=1e-6):
    """Central finite-difference gradient of a scalar function of a 1-D array."""
    x = np.asarray(x, float)
    out = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        out[i] = (f(x + e) - f(x - e)) / (2 * h)
    return out


H2 = np.array([[2.0, 0.5], [0.5, 1.0]])
S2 = np.array([[1.0, 0.3], [0.3, 0.5]])


def quad_potential(H, sig2, minimizer=None):
    """A quadratic NoisyPotential with Hessian H and gradient-noise variance sig2."""
    H = np.asarray(H, float)
    d = H.shape[0]
    return sgdsim.NoisyPotential(lambda p: 0.5 * np.einsum("...i,ij,...j->...", p, H, p),
                                 lambda p: p @ H, sig2, dim=d if np.ndim(sig2) == 0 else None,
                                 minimizer=np.zeros(d) if minimizer is None else minimizer)
