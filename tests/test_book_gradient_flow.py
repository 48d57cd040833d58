"""Gradient descent as Euler's method: errors against closed forms."""

import numpy as np
import pytest
from scipy.linalg import expm

import sgdsim
from sgdsim.book import gradient_flow as euler
@pytest.fixture
def quad1d():
    # L = lam/2 (x - 1)^2 (+ const), lam = 2
    return sgdsim.Quadratic(np.array([0.0, 2.0]), 2.0)


def exact_sup_error_1d(lam, x0, t_end, n):
    """max_k |(1 - h lam)^k x0 - exp(-lam k h) x0| for the 1-D quadratic."""
    h = t_end / n
    k = np.arange(n + 1)
    return np.abs(((1 - h * lam) ** k - np.exp(-lam * k * h)) * x0).max()


def test_compare_with_flow_matches_closed_forms(quad2d):
    eta, steps = 0.05, 40
    phi0 = np.array([3.0, 2.0])
    cmp = euler.compare_with_flow(quad2d, phi0, eta, steps, record_every=10)
    star = quad2d.minimizer()
    np.testing.assert_array_equal(cmp.gd.step, [0, 10, 20, 30, 40])
    np.testing.assert_allclose(cmp.flow.time, cmp.gd.time)
    dev = []
    for rec, k in enumerate(cmp.gd.step):
        gd = star + np.linalg.matrix_power(np.eye(2) - eta * quad2d.H, int(k)) @ (phi0 - star)
        flow = star + expm(-quad2d.H * eta * k) @ (phi0 - star)
        np.testing.assert_allclose(cmp.gd.phi[rec, 0], gd, rtol=1e-12)
        np.testing.assert_allclose(cmp.flow.phi[rec, 0], flow, atol=1e-10)
        dev.append(np.linalg.norm(gd - flow))
    assert dev[0] == 0.0
    assert cmp.sup_deviation == pytest.approx(max(dev), abs=1e-9)


def test_compare_with_flow_uses_sum_of_rates_as_time(quad1d):
    sched = sgdsim.schedules.step_drops(0.2, 4.0, (5,))
    cmp = euler.compare_with_flow(quad1d, [3.0], sched, 10)
    rates = sched(np.arange(10))
    np.testing.assert_allclose(cmp.gd.time, np.r_[0.0, np.cumsum(rates)])
    # 1-D flow: x(t) = 1 + 2 exp(-2 t)
    np.testing.assert_allclose(cmp.flow.phi[:, 0, 0], 1 + 2 * np.exp(-2 * cmp.gd.time), atol=1e-10)
    gd = 1 + 2 * np.r_[1.0, np.cumprod(1 - 2 * rates)]
    np.testing.assert_allclose(cmp.gd.phi[:, 0, 0], gd, rtol=1e-13)


def test_compare_with_flow_many_chains_takes_worst_chain(quad1d):
    cmp = euler.compare_with_flow(quad1d, [[3.0], [1.5]], 0.3, 5)
    per_chain = np.abs(cmp.gd.phi - cmp.flow.phi)[..., 0]
    assert cmp.sup_deviation == pytest.approx(per_chain.max())
    assert per_chain[-1, 0] > per_chain[-1, 1]  # the farther start has the larger error


def test_compare_with_flow_reports_divergence(quad1d):
    with pytest.raises(sgdsim.DivergenceError, match="2/lambda_max = 1"):
        euler.compare_with_flow(quad1d, [3.0], 1.2, 500)


def test_euler_global_errors_equal_exact_1d_errors(quad1d):
    ns = [10, 20, 40, 80]
    errs = euler.euler_global_errors(quad1d, [3.0], 2.0, ns)
    exact = [exact_sup_error_1d(2.0, 2.0, 2.0, n) for n in ns]
    np.testing.assert_allclose(errs, exact, rtol=1e-8)
    fit = sgdsim.loglog_slope(2.0 / np.array(ns), errs)
    assert abs(fit.coef[1] - 1) < 0.1  # first order (lam * dt_max = 0.4)


def test_euler_global_errors_bad_input(quad1d):
    with pytest.raises(ValueError, match="t_end must be > 0"):
        euler.euler_global_errors(quad1d, [3.0], 0.0, [10])
    with pytest.raises(TypeError, match="integers"):
        euler.euler_global_errors(quad1d, [3.0], 1.0, [10.5, 20])
    with pytest.raises(TypeError, match="non-empty"):
        euler.euler_global_errors(quad1d, [3.0], 1.0, [])
    with pytest.raises(ValueError, match="n_steps must be >= 1"):
        euler.euler_global_errors(quad1d, [3.0], 1.0, [0, 10])
    with pytest.raises(ValueError, match="NaN or infinite"):
        euler.euler_global_errors(quad1d, [3.0], np.inf, [10])


def test_euler_error_function_1d_closed_form(quad1d):
    t = np.linspace(0, 3, 31)
    E = euler.euler_error_function(quad1d, [3.0], t)
    assert E.shape == (31, 1, 1)
    # E(t) = -1/2 lam^2 t exp(-lam t) x0 with lam = 2, x0 = 3 - 1
    np.testing.assert_allclose(E[:, 0, 0], -0.5 * 4 * t * np.exp(-2 * t) * 2, atol=1e-10)


def test_euler_error_function_quadratic_eigenbasis(quad2d):
    phi0 = np.array([[3.0, 2.0], [-1.0, 0.5]])
    t = np.linspace(0, 4, 9)
    E = euler.euler_error_function(quad2d, phi0, t)
    lam, V = np.linalg.eigh(quad2d.H)
    c = (phi0 - quad2d.minimizer()) @ V  # (chains, dim) eigen-components
    expected = np.einsum("tcd,jd->tcj",
                         -0.5 * lam**2 * t[:, None, None] * np.exp(-lam * t[:, None, None]) * c, V)
    np.testing.assert_allclose(E, expected, atol=1e-9)


def test_euler_error_function_predicts_logistic_gd_error():
    g = np.random.default_rng(3)
    X = g.normal(size=(60, 2))
    y = (X @ [1.0, -2.0] + g.normal(size=60) > 0).astype(float)
    prob = sgdsim.LogisticRegression(X, y, l2=0.1)
    phi0, t_end = np.array([2.0, 2.0]), 5.0
    E = euler.euler_error_function(prob, phi0, [t_end])[0, 0]
    errs = []
    for n in (200, 400):
        cmp = euler.compare_with_flow(prob, phi0, t_end / n, n)
        errs.append((cmp.gd.phi[-1, 0] - cmp.flow.phi[-1, 0]) / (t_end / n))
    # Richardson: 2 e(h)/h - e(2h)/(2h) = E + O(h^2)
    np.testing.assert_allclose(2 * errs[1] - errs[0], E, rtol=1e-4)
    assert not np.allclose(errs[1], 2 * E, rtol=0.1)  # a wrong constant would be caught


def test_euler_error_function_bad_input(quad1d):
    with pytest.raises(ValueError, match="non-decreasing"):
        euler.euler_error_function(quad1d, [3.0], [0.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="coordinate"):
        euler.euler_error_function(quad1d, [3.0, 1.0], [0.0, 1.0])
    no_hessian = sgdsim.NoisyPotential(lambda p: 0.5 * p[..., 0] ** 2, lambda p: p, 1.0)
    with pytest.raises(ValueError, match="Hessian"):
        euler.euler_error_function(no_hessian, [1.0], [0.0, 1.0])
    np.testing.assert_array_equal(euler.euler_error_function(quad1d, [3.0], [0.0, 0.0]), 0.0)


