"""Tests of sgdsim.book.tz_theorem: the second-order model, its SGD laws, the slope estimators."""

import itertools

import numpy as np
import pytest

import sgdsim
from sgdsim.book import tz_theorem as tz

from conftest import fd_grad


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------
@pytest.fixture
def linreg():
    """A small 2-D least-squares problem: multiplicative noise, H_i = x_i x_i'."""
    g = np.random.default_rng(3)
    x = np.c_[g.normal(size=12), np.ones(12) + 0.3 * g.normal(size=12)]
    y = x @ [1.0, -0.5] + 0.4 * g.normal(size=12)
    return sgdsim.LinearRegression(x, y)


@pytest.fixture
def logreg():
    g = np.random.default_rng(4)
    x = np.c_[g.normal(size=(40, 2)), np.ones(40)]
    y = (x[:, 0] + 0.5 * g.normal(size=40) > 0).astype(float)
    return sgdsim.LogisticRegression(x, y, l2=0.01)


def _one_d_model(h, g):
    h = np.asarray(h, float)
    g = np.asarray(g, float)
    return tz.SecondOrderModel(g=g[:, None], H=h[:, None, None])


# ---------------------------------------------------------------------------
# example_hessians and the model
# ---------------------------------------------------------------------------


def test_example_hessians_match_finite_differences(quad2d, linreg, logreg):
    for prob in (quad2d, linreg, logreg):
        phi = prob.minimizer() + 0.1
        h = prob.example_hessians(phi)
        assert h.shape == (prob.n, prob.dim, prob.dim)
        for i in (0, prob.n - 1):
            for j in range(prob.dim):
                row = fd_grad(lambda p: prob.example_grads(p)[i, j], phi)
                np.testing.assert_allclose(h[i, j], row, rtol=1e-6, atol=1e-7)
        # the mean of the H_i is the problem's Hessian
        np.testing.assert_allclose(h.mean(axis=0), np.atleast_2d(prob.hessian(phi)),
                                   rtol=1e-10, atol=1e-12)


def test_example_hessians_bad_input(quad2d):
    assert not hasattr(sgdsim.double_well(), "example_hessians")  # not a finite sum
    with pytest.raises(ValueError, match="one point"):
        quad2d.example_hessians(np.zeros((3, 2)))



def test_second_order_model_is_exact_for_least_squares(linreg):
    m = tz.second_order_model(linreg)
    d = np.random.default_rng(0).normal(size=(7, 2))
    np.testing.assert_allclose(m.loss_min + m.quadratic_part(d),
                               linreg.loss(linreg.minimizer() + d), rtol=1e-12)
    mean_sq = np.mean(np.sum(linreg.example_grads(linreg.minimizer()) ** 2, axis=-1))
    assert m.mean_sq_grad == pytest.approx(mean_sq, rel=1e-12)
    np.testing.assert_allclose(m.g.T @ m.g / m.n, linreg.noise_cov(linreg.minimizer()),
                               atol=1e-14)
    assert m.slope(4) == pytest.approx(m.mean_sq_grad / 16)


def test_model_validation():
    good_h = np.ones((3, 1, 1))
    with pytest.raises(ValueError, match="must vanish"):
        tz.SecondOrderModel(g=np.array([[1.0], [1.0], [1.0]]), H=good_h)
    with pytest.raises(ValueError, match="positive definite"):
        tz.SecondOrderModel(g=np.array([[1.0], [-1.0], [0.0]]), H=np.zeros((3, 1, 1)))
    with pytest.raises(ValueError, match="shape"):
        tz.SecondOrderModel(g=np.array([[1.0], [-1.0]]), H=good_h)
    with pytest.raises(ValueError, match="symmetric"):
        tz.SecondOrderModel(g=np.zeros((2, 2)), H=np.array([[[1.0, 1.0], [0.0, 1.0]]] * 2))
    m = _one_d_model([1.0, 2.0], [1.0, -1.0])
    with pytest.raises(ValueError, match="shape"):
        m.quadratic_part(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="lr must be > 0"):
        m.excess_loss(0.0)
    with pytest.raises(TypeError, match="batch_size"):
        m.excess_loss(0.1, batch_size=1.5)


# ---------------------------------------------------------------------------
# exact laws
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("batch", [1, 3])
def test_stationary_cov_reduces_to_discrete_lyapunov_for_additive_noise(quad2d, batch):
    m = tz.second_order_model(quad2d)
    for eta in (0.05, 0.5):
        np.testing.assert_allclose(
            m.stationary_cov(eta, batch),
            sgdsim.sgd_stationary_cov(quad2d.H, quad2d.noise_cov(), eta, batch),
            rtol=1e-10, atol=1e-14)
    assert m.max_stable_lr() == pytest.approx(quad2d.max_stable_lr(), rel=1e-9)


def test_one_d_closed_forms_additive_and_multiplicative():
    # additive: Var = eta h v / (B (2 - eta h)) with v = Var(a_i) = sigma^2 / h^2
    a = np.array([0.0, 1.0, 4.0, -2.0])
    h, eta, b = 1.5, 0.3, 2
    m = tz.second_order_model(sgdsim.Quadratic(a, h))
    v = a.var()
    assert m.stationary_cov(eta, b)[0, 0] == pytest.approx(eta * h * v / (b * (2 - eta * h)),
                                                           rel=1e-12)
    # multiplicative: Var = eta s2 / B / (2 hbar - eta (hbar^2 + Var(h)/B))
    hs = np.array([0.5, 1.0, 2.5])
    g = np.array([1.0, -3.0, 2.0])
    m = _one_d_model(hs, g)
    hb, vh, s2 = hs.mean(), hs.var(), np.mean(g**2)
    for b in (1, 3):
        exact = eta * s2 / b / (2 * hb - eta * (hb**2 + vh / b))
        assert m.stationary_cov(eta, b)[0, 0] == pytest.approx(exact, rel=1e-12)
        assert m.max_stable_lr(b) == pytest.approx(2 * hb / (hb**2 + vh / b), rel=1e-9)
    with pytest.raises(ValueError, match="no stationary law"):
        m.stationary_cov(1.01 * m.max_stable_lr())


def test_stationary_cov_solves_the_generalized_lyapunov_equation(linreg):
    m = tz.second_order_model(linreg)
    eta, b = 0.2, 2
    s = m.stationary_cov(eta, b)
    a = np.eye(2) - eta * m.hessian
    dev = m.H - m.hessian
    sigma = m.g.T @ m.g / m.n
    rhs = a @ s @ a + eta**2 / b * (np.einsum("nij,jk,nkl->il", dev, s, dev) / m.n + sigma)
    np.testing.assert_allclose(s, rhs, rtol=1e-10, atol=1e-15)
    assert np.all(np.linalg.eigvalsh(s) > 0)


def test_excess_loss_slope_batch_and_step3_identity(linreg):
    m = tz.second_order_model(linreg)
    m2 = np.einsum("nij,njk->ik", m.H, m.H) / m.n

    def mean_grad_energy(eta, b):  # E over the stationary law of E_b |g_b + H_b Delta|^2
        s = m.stationary_cov(eta, b)
        return ((m.mean_sq_grad + np.trace(m2 @ s)) / b
                + (1 - 1 / b) * np.trace(m.hessian @ m.hessian @ s))

    for b in (1, 4):
        eta = 1e-6
        assert m.excess_loss(eta, b) / eta == pytest.approx(m.slope(b), rel=1e-4)
        # Step 3 is exact: L(eta) - L* = eta/4 * E E_b |g_b + H_b Delta|^2 at every rate
        for eta in (0.01, 0.6 * m.max_stable_lr(b)):
            assert m.excess_loss(eta, b) == pytest.approx(eta / 4 * mean_grad_energy(eta, b),
                                                          rel=1e-10)
        # Step 4: the gradient energy tends to E|g_i|^2 / B
        assert mean_grad_energy(1e-7, b) == pytest.approx(m.mean_sq_grad / b, rel=1e-5)
    # The linear law bends upward with eta
    eta = 0.5 * m.max_stable_lr()
    assert m.excess_loss(eta) > 1.05 * eta * m.slope()
    # Mandt et al. (2017): the OU covariance's trace gives exactly the TZ slope
    c = sgdsim.langevin_stationary_cov(m.hessian, m.g.T @ m.g / m.n, eta, 2)
    assert 0.5 * np.trace(m.hessian @ c) == pytest.approx(eta * m.slope(2), rel=1e-10)


def test_moment_functions_match_brute_force_enumeration(linreg):
    m = tz.second_order_model(linreg)
    d = np.array([[0.3, -0.2], [0.0, 0.1]])
    eta = 0.15
    v = m.g[None, :, :] + np.einsum("nij,sj->sni", m.H, d)  # (samples, n, dim)
    np.testing.assert_allclose(m.grad_energy(d), np.mean(np.sum(v**2, -1), 1), rtol=1e-12)
    # B = 2 with replacement: all n^2 ordered pairs are equally likely
    pairs = np.array(list(itertools.product(range(m.n), repeat=2)))
    vb = v[:, pairs, :].mean(axis=2)  # (samples, n^2, dim)
    np.testing.assert_allclose(m.grad_energy(d, 2), np.mean(np.sum(vb**2, -1), 1), rtol=1e-12)
    nxt = d[:, None, :] - eta * vb
    np.testing.assert_allclose(m.next_second_moment(d, eta, 2),
                               np.mean(np.sum(nxt**2, -1), 1), rtol=1e-12)


# ---------------------------------------------------------------------------
# simulation helpers
# ---------------------------------------------------------------------------
def test_excess_loss_function(quad2d, logreg):
    d = np.random.default_rng(1).normal(size=(3, 4, 2)) * 0.1
    np.testing.assert_allclose(tz.excess_loss(quad2d, d),
                               quad2d.loss(quad2d.minimizer() + d) - quad2d.minimum_loss(),
                               rtol=1e-9, atol=1e-15)
    d3 = np.random.default_rng(2).normal(size=(5, 3, 3)) * 0.1
    direct = logreg.loss(logreg.minimizer() + d3) - logreg.minimum_loss()
    np.testing.assert_allclose(tz.excess_loss(logreg, d3, chunk=50), direct, rtol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        tz.excess_loss(quad2d, np.zeros((4, 3)))


def test_ladder_means_match_exact_law_with_calibrated_errors():
    """Stationary averages against the exact law, and their standard errors against repeats."""
    q = sgdsim.Quadratic(np.random.default_rng(5).normal(size=30), 1.0)
    m = tz.second_order_model(q)
    lrs = np.array([0.1, 0.4])
    exact = np.array([m.excess_loss(e) for e in lrs])
    z = []
    for seed in range(12):
        lad = tz.excess_loss_ladder(q, lrs, rng=seed, chains=40, run_time=40)
        z.append((lad.mean - exact) / lad.stderr)
    z = np.array(z).ravel()
    # 24 z-scores: unit spread if the errors are right; a naive per-record
    # standard error would be several times too small (spread >> 1).
    assert abs(z.mean()) < 1.2
    assert 0.6 < z.std() < 1.5


def test_ladder_slope_fit_and_ci_coverage():
    """The fitted slope at 0 is unbiased for the exact law and its CI covers at the nominal rate."""
    m = tz.second_order_model(tz.headline_problem())
    lrs = np.array([0.005, 0.01, 0.02, 0.03, 0.04, 0.05])
    exact = np.array([m.excess_loss(e) for e in lrs])
    noiseless = tz.Ladder(lr=lrs, mean=exact, stderr=0.003 * exact)
    # model error of the quadratic fit on the exact 1/(1 - eta h / 2) law: tiny
    assert noiseless.slope().value == pytest.approx(m.slope(), rel=1e-3)
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(300):
        noisy = exact * (1 + 0.003 * rng.normal(size=lrs.size))
        lo, hi = tz.Ladder(lr=lrs, mean=noisy, stderr=0.003 * exact).slope().ci(0.9)
        hits += lo < m.slope() < hi
    assert 0.84 < hits / 300 < 0.96
    with pytest.raises(ValueError, match="include 1"):
        noiseless.slope(powers=(0, 2))


def test_stationary_ladder_bad_statistics(quad2d):
    with pytest.raises(TypeError, match="statistics"):
        tz.stationary_ladder(quad2d, [0.1], {}, rng=0, chains=4, run_time=1.0)
    with pytest.raises(TypeError, match="statistics"):
        tz.stationary_ladder(quad2d, [0.1], {"x": 3}, rng=0, chains=4, run_time=1.0)


# ---------------------------------------------------------------------------
# the headline estimator
# ---------------------------------------------------------------------------
def test_headline_problem():
    q = tz.headline_problem()
    assert q.dim == 1 and q.n == 50 and q.H[0, 0] == 2.0
    m = tz.second_order_model(q)
    assert m.slope() == pytest.approx(q.centers.var() * 4 / 4, rel=1e-12)


def test_headline_slope_stderr_is_calibrated():
    """Repeat with independent seeds: the spread of the estimates matches the reported stderr."""
    truth = tz.second_order_model(tz.headline_problem()).slope()
    ests = [tz.headline_slope(rng=seed, target_rse=0.03, chains=32) for seed in range(24)]
    z = np.array([(e.value - truth) / e.stderr for e in ests])
    assert abs(z.mean()) < 1.2  # unbiased: 4.5 / sqrt(24) ~ 0.9 would already be rare
    assert 0.6 < z.std() < 1.5  # calibrated
    assert all(e.stderr <= 0.03 * 1.2 * e.value for e in ests)  # reaches the target


def test_headline_slope_batch_size_and_other_problem():
    q = sgdsim.Quadratic(np.random.default_rng(8).normal(size=20), 0.5)
    truth = tz.second_order_model(q).slope(4)
    est = tz.headline_slope(rng=1, target_rse=0.01, batch_size=4, problem=q, lr=0.4)
    assert abs(est.value - truth) < 4.5 * est.stderr
    assert est.stderr < 0.012 * est.value


def test_headline_slope_bad_input(quad2d):
    with pytest.raises(TypeError, match="rng"):
        tz.headline_slope(rng=None)
    for bad in (0.0, 0.7, float("nan")):
        with pytest.raises(ValueError, match="target_rse"):
            tz.headline_slope(rng=0, target_rse=bad)
    with pytest.raises(ValueError, match="unstable"):
        tz.headline_slope(rng=0, lr=1.0)  # h = 2: lr * h = 2
    with pytest.raises(TypeError, match="1-D Quadratic"):
        tz.headline_slope(rng=0, problem=quad2d)
    with pytest.raises(ValueError, match="chains"):
        tz.headline_slope(rng=0, chains=4)
    with pytest.raises(ValueError, match="max_samples"):
        tz.headline_slope(rng=0, target_rse=0.001, max_samples=10_000)


# ---------------------------------------------------------------------------
# the widget's drawing functions
# ---------------------------------------------------------------------------
def test_tz_widget_draws_and_builds():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sgdsim.widgets import tz_theorem as w

    cloud, est = w.simulate_cloud(0.2, 2, rng=0, chains=50)
    assert cloud.shape == (50, 2) and est.value > 0 and est.stderr > 0
    fig = w.draw_tz(0.3, 4, rng=1)
    assert len(fig.axes) == 2
    plt.close(fig)
    pytest.importorskip("ipywidgets")
    ex = w.tz_explorer(rng=0)
    assert {c.description for c in ex.children[:2]} == {"learning rate η", "batch size B"}
    plt.close("all")
