"""The exact laws on quadratics, each against an independent reference."""

import numpy as np
import pytest

import sgdsim
from sgdsim import laws
from sgdsim.preconditioners import Diagonal

H = np.array([[2.0, 0.6], [0.6, 1.0]])
S = np.array([[1.0, -0.3], [-0.3, 0.5]])
P_DIAG = np.array([0.5, 2.0])
P_DENSE = np.array([[1.0, 0.4], [0.4, 0.8]])


def _p(pre):
    return np.eye(2) if pre is None else (np.diag(pre) if np.ndim(pre) == 1 else pre)


def _iterate_moments(h, s, eta, b, pre, k, m0, c0):
    """Brute force: the moment recursion of preconditioned SGD, step by step."""
    p = _p(pre)
    a = np.eye(len(h)) - eta * p @ h
    q = eta**2 * p @ s @ p / b
    m, c = np.array(m0, float), np.array(c0, float)
    out = []
    for _ in range(k + 1):
        out.append(0.5 * np.trace(h @ c) + 0.5 * m @ h @ m)
        m, c = a @ m, a @ c @ a.T + q
    return np.array(out)


@pytest.mark.parametrize("pre", [None, P_DIAG, P_DENSE])
@pytest.mark.parametrize("b", [1, 4])
def test_sgd_stationary_cov_is_the_fixed_point_of_the_moment_recursion(pre, b):
    eta = 0.3
    c = laws.sgd_stationary_cov(H, S, eta, b, preconditioner=pre)
    p = _p(pre)
    a = np.eye(2) - eta * p @ H
    np.testing.assert_allclose(a @ c @ a.T + eta**2 * p @ S @ p / b, c, rtol=1e-12, atol=1e-15)
    # and the recursion run from 0 converges to it
    x = np.zeros((2, 2))
    for _ in range(3000):
        x = a @ x @ a.T + eta**2 * p @ S @ p / b
    np.testing.assert_allclose(x, c, rtol=1e-10)


def test_preconditioner_objects_and_arrays_agree():
    a = laws.sgd_stationary_cov(H, S, 0.2, preconditioner=P_DIAG)
    b = laws.sgd_stationary_cov(H, S, 0.2, preconditioner=Diagonal(P_DIAG))
    np.testing.assert_array_equal(a, b)


def test_one_dimensional_closed_form():
    h, s, eta, b = 3.0, 2.0, 0.1, 4
    assert laws.sgd_stationary_cov(h, s, eta, b)[0, 0] == pytest.approx(
        eta * s / (b * h * (2 - eta * h)), rel=1e-13)
    assert laws.stationary_excess_loss(h, s, eta, b) == pytest.approx(
        eta * s / (2 * b * (2 - eta * h)), rel=1e-13)
    np.testing.assert_allclose(laws.stationary_excess_loss(h, s, [0.1, 0.2]),
                               [0.1 * s / (2 * (2 - 0.3)), 0.2 * s / (2 * (2 - 0.6))], rtol=1e-13)


@pytest.mark.parametrize("pre", [None, P_DIAG, P_DENSE])
def test_langevin_stationary_cov_solves_its_lyapunov_equation(pre):
    c = laws.langevin_stationary_cov(H, S, 0.2, 2, preconditioner=pre)
    p = _p(pre)
    residual = p @ H @ c + c @ H @ p - 0.2 * p @ S @ p / 2
    assert np.abs(residual).max() < 1e-13


def test_inverse_noise_preconditioner_gives_the_gibbs_law():
    # P = Sigma^{-1}: C = T H^{-1} with T = eta / (2B)
    c = laws.langevin_stationary_cov(H, S, 0.2, 1, preconditioner=np.linalg.inv(S))
    np.testing.assert_allclose(c, 0.1 * np.linalg.inv(H), rtol=1e-12)


def test_excess_loss_matches_gaussian_draws():
    g = np.random.default_rng(2)
    c, m = np.array([[0.3, 0.1], [0.1, 0.2]]), np.array([0.5, -1.0])
    x = g.multivariate_normal(m, c, size=400_000)
    sim = 0.5 * np.einsum("ni,ij,nj->n", x, H, x)
    assert laws.excess_loss(H, c, m) == pytest.approx(sim.mean(), abs=4 * sim.std() / 632)


@pytest.mark.parametrize("pre", [None, P_DIAG, P_DENSE])
def test_expected_excess_loss_is_the_moment_recursion(pre):
    eta, b, k = 0.25, 2, 60
    m0, c0 = np.array([1.0, -2.0]), np.array([[0.4, 0.1], [0.1, 0.3]])
    exact = laws.expected_excess_loss(H, S, eta, np.arange(k + 1), delta0=m0, cov0=c0,
                                      batch_size=b, preconditioner=pre)
    np.testing.assert_allclose(exact, _iterate_moments(H, S, eta, b, pre, k, m0, c0),
                               rtol=1e-11)


@pytest.mark.parametrize("pre", [None, P_DIAG])
def test_transient_law_tends_to_the_stationary_law(pre):
    # two formulas that must agree: the relaxation at large k and the stationary level
    far = laws.expected_excess_loss(H, S, 0.2, 20_000, delta0=[3.0, 1.0], preconditioner=pre)
    assert far == pytest.approx(laws.stationary_excess_loss(H, S, 0.2, preconditioner=pre),
                                rel=1e-10)
    # started at the stationary law, it stays there
    c_inf = laws.sgd_stationary_cov(H, S, 0.2, preconditioner=pre)
    flat = laws.expected_excess_loss(H, S, 0.2, np.arange(5), cov0=c_inf, preconditioner=pre)
    np.testing.assert_allclose(flat, far, rtol=1e-10)


def test_block_update_law_matches_simulation():
    g = np.random.default_rng(4)
    eta, L, b, e0 = 0.05, 16, 1, np.array([1.0, -0.5])
    mean, cov = laws.block_update_law(H, S, e0, eta, L, b)
    n = 100_000
    e = np.tile(e0, (n, 1))
    chol = np.linalg.cholesky(S)
    for _ in range(L):
        e = e - eta * (e @ H + g.standard_normal((n, 2)) @ chol.T)
    u = (e0 - e) / (L * eta)
    np.testing.assert_allclose(u.mean(0), mean, atol=4 * np.sqrt(np.diag(cov) / n).max())
    np.testing.assert_allclose(np.cov(u.T), cov, rtol=0.03)


@pytest.mark.parametrize("call, match", [
    (lambda: laws.sgd_stationary_cov(H, S, 2.0), "2/lambda_max"),
    (lambda: laws.sgd_stationary_cov(H, S, -0.1), "> 0"),
    (lambda: laws.sgd_stationary_cov(H, S, float("nan")), "finite"),
    (lambda: laws.sgd_stationary_cov(H, S, 0.1, preconditioner=[1.0, 0.0]), "scales must be > 0"),
    (lambda: laws.expected_excess_loss(H, S, 0.1, [1.5]), "non-negative integers"),
    (lambda: laws.block_update_law(H, S, [1.0], 0.1, 3), "shape"),
])
def test_bad_input_gets_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_preconditioned_cov_diagonal_closed_form():
    h, sig2, s, eta, b = np.array([1.0, 3.0]), np.array([0.25, 4.0]), np.array([4.0, 0.25]), 0.05, 2
    c = laws.sgd_stationary_cov(np.diag(h), np.diag(sig2), eta, b, preconditioner=s)
    np.testing.assert_allclose(np.diag(c), eta * s * sig2 / (b * h * (2 - eta * s * h)), rtol=1e-12)
    assert abs(c[0, 1]) < 1e-15


def test_block_update_law_matches_closed_form_in_1d():
    h, s, e0, dt, L = 2.0, 3.0, 1.5, 0.01, 50
    mean, cov = laws.block_update_law(h, s, [e0], dt, L, batch_size=2)
    a = 1 - dt * h
    np.testing.assert_allclose(mean, [(1 - a**L) * e0 / (L * dt)], rtol=1e-12)
    expected = (s / 2) * (1 - a ** (2 * L)) / (1 - a**2) / L**2
    np.testing.assert_allclose(cov, [[expected]], rtol=1e-12)
    # the limit: block time -> 0 gives mean -> g = h e0, cov -> Sigma/(B L)
    mean, cov = laws.block_update_law(h, s, [e0], 1e-9, L)
    np.testing.assert_allclose(mean, [h * e0], rtol=1e-6)
    np.testing.assert_allclose(cov, [[s / L]], rtol=1e-6)


def test_expected_excess_loss_matches_simulation(quad2d):
    # SGD started from a Gaussian cloud: the mean excess loss over chains after k steps
    h, sig, eta = quad2d.H, quad2d.noise_cov(), 0.1
    c0 = sgdsim.sgd_stationary_cov(h, sig, 0.8)
    g = np.random.default_rng(11)
    start = g.multivariate_normal(quad2d.minimizer(), c0, size=4000)
    traj = sgdsim.sgd(quad2d, start, eta, 20, chains=4000, rng=g, record_every=5)
    exact = laws.expected_excess_loss(h, sig, eta, np.arange(20 + 1), cov0=c0)[traj.step]
    excess = quad2d.loss(traj.phi) - quad2d.minimum_loss()
    for k, want in enumerate(exact):
        est = sgdsim.chain_mean(excess[k])
        assert abs(est.value - want) <= 5 * est.stderr

