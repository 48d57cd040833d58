"""The reshuffling machinery of the chapter "SGD convergence" against independent references."""

import itertools
import math

import numpy as np
import pytest

import sgdsim
from sgdsim.book import sgd_convergence as convergence


def _brute_force(c, h, eta, b):
    """Excess loss of reshuffled SGD on a 1-D quadratic by enumerating every permutation.

    The epoch map is linear, e -> a^m e + eta * w(pi); the stationary epoch-start variance is
    E w^2 / (1 - a^{2m}) and each position j adds its own exactly enumerated noise variance.
    """
    n = len(c)
    m = n // b
    a = 1.0 - eta * h
    xi = h * (np.asarray(c) - np.mean(c))          # e_{k+1} = a e_k + eta * mean(xi over batch)
    perms = list(itertools.permutations(range(n)))
    noise = np.zeros((len(perms), m + 1))          # noise part of e_j for each permutation
    for p, perm in enumerate(perms):
        w = 0.0
        for j in range(m):
            w = a * w + eta * xi[list(perm[j * b:(j + 1) * b])].mean()
            noise[p, j + 1] = w
    var_j = (noise**2).mean(axis=0)
    v0 = var_j[m] / (1 - a ** (2 * m))
    per_pos = [a ** (2 * j) * v0 + var_j[j] for j in range(m)]
    return 0.5 * h * np.mean(per_pos)


@pytest.mark.parametrize("b", [1, 2])
@pytest.mark.parametrize("eta", [0.05, 0.4])
def test_reshuffle_law_equals_enumeration(eta, b):
    c = [0.3, -1.1, 2.0, 0.5, -0.2]   # n = 5: with b = 2 one example is left out per epoch
    h = 1.7
    q = sgdsim.Quadratic(np.array(c), h)
    got = convergence.reshuffle_excess_loss(q.H, q.noise_cov(), q.n, eta, b)
    assert got == pytest.approx(_brute_force(c, h, eta, b), rel=1e-10)


def test_reshuffle_law_limits():
    q = convergence.reshuffle_problem()
    H, S, n = q.H, q.noise_cov(), q.n
    assert convergence.reshuffle_excess_loss(H, S, n, 0.1, batch_size=n) == pytest.approx(0, abs=1e-15)
    eta = 1e-4  # eta m h = 0.01: the second-order law eta^2 m tr(H S) / (12 B) * n / (n - 1)
    small = eta**2 * n * np.trace(H @ S) / 12 * n / (n - 1)
    assert convergence.reshuffle_excess_loss(H, S, n, eta) == pytest.approx(small, rel=0.02)
    # many relaxation times per epoch: reshuffling looks like sampling with replacement
    q2 = sgdsim.Quadratic(np.random.default_rng(0).normal(size=400), 1.0)
    r = convergence.reshuffle_excess_loss(q2.H, q2.noise_cov(), q2.n, 0.2)
    w = sgdsim.stationary_excess_loss(q2.H, q2.noise_cov(), 0.2)
    assert r == pytest.approx(w, rel=0.03)  # and it is first order, not second
    with pytest.raises(ValueError, match="stable"):
        convergence.reshuffle_excess_loss(H, S, n, 1.5)


def test_reshuffle_law_multidim_is_the_sum_over_independent_coordinates():
    """With a diagonal H and centres whose coordinates share one permutation, check 2-D vs enumeration."""
    c = np.array([[0.3, 1.0], [-1.1, 0.0], [2.0, -0.5], [0.5, 0.2]])
    H = np.diag([1.3, 0.4])
    q = sgdsim.Quadratic(c, H)
    eta = 0.3
    n, m = 4, 4
    a = 1 - eta * np.diag(H)
    xi = (c - c.mean(axis=0)) * np.diag(H)
    second = np.zeros((m + 1, 2, 2))
    perms = list(itertools.permutations(range(n)))
    for perm in perms:
        w = np.zeros(2)
        for j in range(m):
            w = a * w + eta * xi[perm[j]]
            second[j + 1] += np.outer(w, w) / len(perms)
    A = np.diag(a)
    from scipy.linalg import solve_discrete_lyapunov
    V = solve_discrete_lyapunov(np.linalg.matrix_power(A, m), second[m])
    per = [0.5 * np.trace(H @ (np.linalg.matrix_power(A, j) @ V @ np.linalg.matrix_power(A, j)
                               + second[j])) for j in range(m)]
    got = convergence.reshuffle_excess_loss(H, q.noise_cov(), n, eta)
    assert got == pytest.approx(np.mean(per), rel=1e-10)


def test_epoch_averaged_excess_matches_both_exact_laws():
    q = sgdsim.Quadratic(np.random.default_rng(4).exponential(size=20), 2.0)
    H, S = q.H, q.noise_cov()
    for sampling, law in (("reshuffle", convergence.reshuffle_excess_loss(H, S, q.n, 0.02)),
                          ("replacement", sgdsim.stationary_excess_loss(H, S, 0.02))):
        est = convergence.epoch_averaged_excess(q, 0.02, sampling=sampling, chains=400, rng=1,
                                                burn_in=3.0, run_time=6.0)
        assert abs(est.value - law) < 4.5 * est.stderr


def test_coprime_stride_covers_every_position():
    for m in (12, 56, 65, 200):
        r = convergence._coprime_stride(m, 10)
        assert r >= 10 and math.gcd(r, m) == 1
        assert len({(k * r) % m for k in range(m)}) == m
