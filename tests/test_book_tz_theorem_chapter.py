"""Tests of the chapter-3 scenes added for issue 17: curvature families, eigendirection laws,
the eta/B scaling runs, and the identities the chapter no longer states as claims."""

import numpy as np
import pytest

import sgdsim
from sgdsim.book import tz_theorem as tz


# ---------------------------------------------------------------------------
# Why 1/4: curvature families and eigendirections
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("h", [0.25, 1.0, 16.0])
def test_with_curvature_keeps_the_gradient_noise(h):
    q = tz.headline_problem()
    qh = tz.with_curvature(q, h)
    assert qh.H[0, 0] == h and qh.n == q.n
    np.testing.assert_allclose(qh.example_grads(qh.minimizer()), q.example_grads(q.minimizer()),
                               rtol=1e-12, atol=1e-12)
    m = tz.second_order_model(qh)
    assert m.slope() == pytest.approx(tz.second_order_model(q).slope(), rel=1e-12)
    # the 1-D law of the chapter's "Why 1/4": Var = eta sigma^2 / (h (2 - eta h))
    eta, s2 = 0.01, m.mean_sq_grad
    assert m.stationary_cov(eta)[0, 0] == pytest.approx(eta * s2 / (h * (2 - eta * h)), rel=1e-10)


def test_with_curvature_bad_input(quad2d):
    with pytest.raises(TypeError, match="1-D Quadratic"):
        tz.with_curvature(quad2d, 1.0)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="curvature"):
            tz.with_curvature(tz.headline_problem(), bad)


@pytest.mark.parametrize("batch", [1, 4])
def test_direction_law_is_the_diagonal_of_the_lyapunov_solution(quad2d, batch):
    eta = 0.3
    lam, u = tz.eigendirections(quad2d.H)
    s = sgdsim.sgd_stationary_cov(quad2d.H, quad2d.noise_cov(), eta, batch)
    var, exc = tz.direction_law(quad2d.H, quad2d.noise_cov(), eta, batch)
    np.testing.assert_allclose(var, np.diag(u.T @ s @ u), rtol=1e-10)
    # the directions' losses add up to the whole excess loss
    assert exc.sum() == pytest.approx(tz.second_order_model(quad2d).excess_loss(eta, batch),
                                      rel=1e-10)
    # the curvature cancels at first order: each direction holds eta Sigma_kk / (4B)
    tiny = 1e-7
    _, exc0 = tz.direction_law(quad2d.H, quad2d.noise_cov(), tiny, batch)
    sig = np.diag(u.T @ quad2d.noise_cov() @ u)
    np.testing.assert_allclose(exc0 / tiny, sig / (4 * batch), rtol=1e-6)


def test_direction_law_rejects_unstable_rates(quad2d):
    lam, _ = tz.eigendirections(quad2d.H)
    with pytest.raises(ValueError, match="not stable"):
        tz.direction_law(quad2d.H, quad2d.noise_cov(), 2.0 / lam[-1])


def test_direction_variances_add_up_to_the_squared_norm(quad2d):
    d = np.random.default_rng(0).normal(size=(5, 3, 2))
    sq = tz.direction_variances(quad2d.H, d)
    assert sq.shape == d.shape
    np.testing.assert_allclose(sq.sum(axis=-1), np.sum(d**2, axis=-1), rtol=1e-12)
    lam, _ = tz.eigendirections(quad2d.H)
    np.testing.assert_allclose(0.5 * sq @ lam, tz.excess_loss(quad2d, d), rtol=1e-12)


# ---------------------------------------------------------------------------
# One step beyond: the eta/B scaling runs
# ---------------------------------------------------------------------------
def test_scaling_runs_match_the_exact_law(quad2d):
    m = tz.second_order_model(quad2d)
    runs = tz.scaling_runs(quad2d, 0.05, [1, 4], rng=3, chains=200, run_time=10)
    np.testing.assert_array_equal(runs.k, [1, 4])
    for j, (eta, b) in enumerate([(0.05, 1), (0.2, 4)]):
        est = runs.estimate(j)
        assert abs(est.value - m.excess_loss(eta, int(b))) < 4.5 * est.stderr


def test_scaling_runs_bad_input(quad2d):
    for bad in ([], [0, 1], [1.5], [[1, 2]]):
        with pytest.raises(ValueError, match="ks"):
            tz.scaling_runs(quad2d, 0.05, bad, rng=0, chains=10, run_time=1)


def test_first_order_depends_on_eta_over_b_only(linreg_data):
    m = tz.second_order_model(linreg_data)
    tiny = 1e-7
    for k in (2, 8):
        assert (m.excess_loss(k * tiny, batch_size=k)
                == pytest.approx(m.excess_loss(tiny), rel=1e-5))


# ---------------------------------------------------------------------------
# Identities the chapter used to state as claims (they hold by construction)
# ---------------------------------------------------------------------------
@pytest.fixture
def linreg_data():
    g = np.random.default_rng(11)
    x = np.c_[g.normal(size=(40, 2)), np.ones(40)]
    return sgdsim.LinearRegression(x, x @ [0.5, -1.0, 0.2] + 0.3 * g.normal(size=40))


def test_interpolation_has_no_gradient_noise_and_no_excess_loss(linreg_data):
    clean = sgdsim.LinearRegression(linreg_data.X, linreg_data.X @ linreg_data.minimizer())
    m = tz.second_order_model(clean)
    scale = tz.second_order_model(linreg_data).mean_sq_grad
    assert m.mean_sq_grad <= 1e-24 * max(scale, 1.0)
    assert m.excess_loss(0.1) <= 1e-24 * max(scale, 1.0)


def test_one_d_lyapunov_closed_form_and_ou_trace():
    # formerly claims: the 1-D solver against the closed form, and the trace of the OU equation
    q = tz.headline_problem()
    m = tz.second_order_model(q)
    h, s2, v = q.H[0, 0], m.mean_sq_grad, q.centers.var()
    for eta, b in [(0.05, 1), (0.5, 4)]:
        lyap = sgdsim.sgd_stationary_cov(h, s2, eta, b)[0, 0]
        assert lyap == pytest.approx(eta * h * v / (b * (2 - eta * h)), rel=1e-10)
        c = sgdsim.langevin_stationary_cov(m.hessian, m.g.T @ m.g / m.n, eta, b)
        assert 0.5 * np.trace(m.hessian @ c) == pytest.approx(eta * m.slope(b), rel=1e-10)
