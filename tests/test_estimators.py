import numpy as np
import pytest

import sgdsim
from conftest import H2, quad_potential



def _ar1(a, n, chains, rng):
    x = np.empty((n, chains))
    x[0] = rng.normal(size=chains) / np.sqrt(1 - a * a)
    eps = rng.normal(size=(n, chains))
    for t in range(1, n):
        x[t] = a * x[t - 1] + eps[t]
    return x


def test_autocorr_time_of_ar1(rng):
    a = 0.8
    x = _ar1(a, 20000, 4, rng)
    tau = sgdsim.autocorr_time(x)
    assert tau == pytest.approx((1 + a) / (1 - a), rel=0.1)
    assert sgdsim.autocorr_time(rng.normal(size=5000)) == pytest.approx(1.0, abs=0.15)


def test_chain_mean_stderr_is_calibrated_for_correlated_chains(rng):
    # Repeat the experiment: the z-scores of the estimates must have unit spread.
    a = 0.9
    z = []
    for _ in range(200):
        est = sgdsim.chain_mean(_ar1(a, 100, 20, rng))
        z.append(est.value / est.stderr)
    z = np.array(z)
    # with t(19) errors the spread is ~1.05; a naive iid stderr would give ~3.5
    assert 0.85 < z.std() < 1.3


def test_weighted_fit_recovers_exact_coefficients_and_covariance():
    x = np.linspace(0.1, 1, 10)
    y = 0.25 * x + 0.1 * x**2
    fit = sgdsim.weighted_fit(x, y, np.full(10, 0.01), powers=(1, 2))
    np.testing.assert_allclose(fit.coef, [0.25, 0.1], atol=1e-12)
    a = np.c_[x, x**2] / 0.01
    np.testing.assert_allclose(fit.cov, np.linalg.inv(a.T @ a))
    assert fit.dof == 8 and fit.chi2 < 1e-18
    lo, hi = fit.estimate(0).ci(0.95)
    assert lo < 0.25 < hi


def test_weighted_fit_coverage(rng):
    x = np.linspace(0.1, 1, 8)
    err = 0.05 * np.ones(8)
    hits = 0
    for _ in range(400):
        y = 0.3 * x + err * rng.normal(size=8)
        lo, hi = sgdsim.weighted_fit(x, y, err, powers=(1,)).estimate(0).ci(0.9)
        hits += lo < 0.3 < hi
    assert 0.85 < hits / 400 < 0.95


def test_loglog_slope():
    x = np.array([0.1, 0.05, 0.025, 0.0125])
    fit = sgdsim.loglog_slope(x, 3 * x**2)
    assert fit.coef[1] == pytest.approx(2.0, abs=1e-12)
    assert fit.stderr[1] < 1e-10


def test_estimate_unpacks_and_formats():
    e = sgdsim.Estimate(1.5, 0.25)
    v, s = e
    assert (v, s) == (1.5, 0.25)
    assert f"{e:.2f}" == "1.50 ± 0.25"


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: sgdsim.chain_mean([1.0]), "2 independent chains"),
        (lambda: sgdsim.chain_mean([[np.nan, 1.0]]), "NaN"),
        (lambda: sgdsim.autocorr_time(np.ones(100)), "constant"),
        (lambda: sgdsim.weighted_fit([1, 2], [1, 2], [0, 1]), "yerr"),
        (lambda: sgdsim.weighted_fit([1], [1], [1], powers=(0, 1)), "at least 2"),
        (lambda: sgdsim.loglog_slope([1, 2, -3], [1, 2, 3]), "x > 0"),
        (lambda: sgdsim.Estimate(1, 1).ci(1.5), "level"),
    ],
)
def test_estimators_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "rdiv", "scale"])
def test_estimate_arithmetic_propagates_errors_like_a_simulation(op):
    # independent reference: draw a and b from their error distributions and take the spread
    # of the result (small relative errors, where first-order propagation is accurate)
    a, b = sgdsim.Estimate(2.0, 0.01), sgdsim.Estimate(-3.0, 0.02)
    f = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
         "div": lambda x, y: x / y, "pow": lambda x, y: x ** 1.5, "rdiv": lambda x, y: 1 / x,
         "scale": lambda x, y: -4 * x}[op]
    g = np.random.default_rng(3)
    xs = g.normal(a.value, a.stderr, 400_000)
    ys = g.normal(b.value, b.stderr, 400_000)
    sim = f(xs, ys)
    got = f(a, b)
    assert isinstance(got, sgdsim.Estimate)
    assert got.value == pytest.approx(f(a.value, b.value))
    assert got.stderr == pytest.approx(sim.std(), rel=0.01)


def test_estimate_arithmetic_errors():
    e = sgdsim.Estimate(1.0, 0.1)
    with pytest.raises(ZeroDivisionError):
        e / 0
    with pytest.raises(TypeError):
        e + "x"
    assert (e - e).stderr == pytest.approx(0.1 * np.sqrt(2))  # treated as independent


def test_virial_matrix_of_exact_gibbs_samples_is_t_identity():
    # i.i.d. samples of exp(-L/T) for a correlated quadratic: V = T I (lemma), for any centre.
    T = 0.3
    rng = np.random.default_rng(3)
    prob = quad_potential(H2, 1.0, minimizer=[0.0, 0.0])
    phi = rng.multivariate_normal([0, 0], T * np.linalg.inv(H2), size=(50, 400))
    for center in (None, [0.5, -1.0]):
        v = sgdsim.estimators.virial_matrix(prob, phi, center=center)
        z = (v.value - T * np.eye(2)) / v.stderr
        assert np.all(np.abs(z) < 4), z
    # ... while a non-Gibbs Gaussian (covariance not proportional to H^-1) is rejected
    phi = rng.multivariate_normal([0, 0], T * np.eye(2), size=(50, 400))
    v = sgdsim.estimators.virial_matrix(prob, phi)
    assert abs(v.value[0, 1] - 0.0) / v.stderr[0, 1] > 10


def test_virial_matrix_needs_chains_and_3d_input():
    prob = quad_potential(H2, 1.0)
    with pytest.raises(ValueError, match="2 independent chains"):
        sgdsim.estimators.virial_matrix(prob, np.zeros((5, 1, 2)))
    with pytest.raises(ValueError, match="3 dimension"):
        sgdsim.estimators.virial_matrix(prob, np.zeros((5, 2)))


def test_ratio_of_means():
    b = np.random.default_rng(1).uniform(1, 2, size=(10, 30))
    r = sgdsim.estimators.ratio_of_means(2.5 * b, b)
    assert r.value == pytest.approx(2.5) and r.stderr == pytest.approx(0, abs=1e-12)
    rng = np.random.default_rng(2)
    a, d = rng.normal(3.0, 1.0, size=4000), rng.normal(2.0, 1.0, size=4000)
    r = sgdsim.estimators.ratio_of_means(a, d)
    # delta method for independent a, d: se = R sqrt(1/9 + 1/4) / sqrt(n)
    assert r.stderr == pytest.approx(1.5 * np.sqrt(1 / 9 + 1 / 4) / np.sqrt(4000), rel=0.1)
    assert abs(r.value - 1.5) < 4 * r.stderr
    with pytest.raises(ValueError, match="undefined"):
        sgdsim.estimators.ratio_of_means([1.0, 2.0], [1.0, -1.0])
    with pytest.raises(ValueError, match="2 independent chains"):
        sgdsim.estimators.ratio_of_means([1.0], [1.0])

