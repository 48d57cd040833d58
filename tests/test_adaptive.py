"""Tests of sgdsim.adaptive: exact preconditioned laws, estimators, RMSProp theory, sweeps."""

import numpy as np
import pytest

import sgdsim
from sgdsim import adaptive

H2 = np.array([[2.0, 0.5], [0.5, 1.0]])
S2 = np.array([[1.0, 0.3], [0.3, 0.5]])


def quad_potential(H, sig2, minimizer=None):
    H = np.asarray(H, float)
    d = H.shape[0]
    return sgdsim.NoisyPotential(lambda p: 0.5 * np.einsum("...i,ij,...j->...", p, H, p),
                                 lambda p: p @ H, sig2, dim=d if np.ndim(sig2) == 0 else None,
                                 minimizer=np.zeros(d) if minimizer is None else minimizer)


# ----------------------------------------------------------------------------- preconditioners
def test_dense_applies_matrix_and_validates():
    P = np.array([[2.0, 0.5], [0.5, 1.0]])
    pre = adaptive.Dense(P)
    g = np.array([[1.0, -2.0], [0.5, 3.0]])
    assert pre.init(np.zeros((2, 2))) is None
    d, _ = pre.apply(None, g)
    np.testing.assert_allclose(d, (P @ g.T).T)
    with pytest.raises(ValueError, match="symmetric"):
        adaptive.Dense([[1.0, 0.2], [0.0, 1.0]])
    with pytest.raises(ValueError, match="positive definite"):
        adaptive.Dense([[1.0, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="dim=3"):
        pre.init(np.zeros((1, 3)))


def test_chain_rates_equal_separate_deterministic_runs():
    # Without noise, SGD is gradient descent: each chain must follow GD at its own rate.
    prob = quad_potential(H2, 0.0)
    rates = np.array([0.1, 0.3, 0.5])
    tr = sgdsim.sgd(prob, [1.0, -1.0], 1.0, 20, chains=3, rng=0,
                    preconditioner=adaptive.ChainRates(rates))
    for c, r in enumerate(rates):
        gd = sgdsim.gradient_descent(prob, [1.0, -1.0], r, 20)
        np.testing.assert_allclose(tr.phi[:, c], gd.phi[:, 0], rtol=1e-13, atol=1e-15)


def test_chain_rates_keep_inner_state_per_chain():
    pre = adaptive.ChainRates([1.0, 2.0], sgdsim.RMSProp(beta=0.5, eps=0.0))
    v = pre.init(np.zeros((2, 1)))
    d, v = pre.apply(v, np.array([[2.0], [4.0]]))
    # v = 0.5 g^2, d = rate * g / sqrt(0.5 g^2) = rate * sqrt(2) * sign(g)
    np.testing.assert_allclose(v, [[2.0], [8.0]])
    np.testing.assert_allclose(d, [[np.sqrt(2)], [2 * np.sqrt(2)]])


def test_chain_rates_bad_input():
    with pytest.raises(ValueError, match=">= 0"):
        adaptive.ChainRates([0.1, -0.1])
    with pytest.raises(ValueError, match="2 rates but there are 3 chains"):
        adaptive.ChainRates([0.1, 0.2]).init(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="preconditioner"):
        adaptive.ChainRates([0.1], inner="rmsprop")


# ----------------------------------------------------------------------------- exact laws
def test_preconditioned_cov_diagonal_closed_form():
    h, sig2, s, eta, b = np.array([1.0, 3.0]), np.array([0.25, 4.0]), np.array([4.0, 0.25]), 0.05, 2
    c = adaptive.preconditioned_sgd_stationary_cov(np.diag(h), np.diag(sig2), eta, s, batch_size=b)
    np.testing.assert_allclose(np.diag(c), eta * s * sig2 / (b * h * (2 - eta * s * h)), rtol=1e-12)
    assert abs(c[0, 1]) < 1e-15


@pytest.mark.parametrize("scales", [np.array([0.7, 2.0]), np.array([[1.5, 0.4], [0.4, 0.8]])])
def test_preconditioned_cov_solves_the_discrete_lyapunov_equation(scales):
    eta = 0.2
    P = np.diag(scales) if scales.ndim == 1 else scales
    c = adaptive.preconditioned_sgd_stationary_cov(H2, S2, eta, scales)
    A = np.eye(2) - eta * P @ H2
    np.testing.assert_allclose(c, A @ c @ A.T + eta**2 * P @ S2 @ P, atol=1e-13)
    np.testing.assert_allclose(c, c.T, atol=1e-15)


def test_preconditioned_cov_reduces_to_plain_sgd():
    np.testing.assert_allclose(adaptive.preconditioned_sgd_stationary_cov(H2, S2, 0.3, [1.0, 1.0]),
                               sgdsim.sgd_stationary_cov(H2, S2, 0.3), atol=1e-14)


def test_preconditioned_cov_bad_input():
    with pytest.raises(ValueError, match="scales must be > 0"):
        adaptive.preconditioned_sgd_stationary_cov(H2, S2, 0.1, [1.0, 0.0])
    with pytest.raises(ValueError, match="no stationary law"):
        adaptive.preconditioned_sgd_stationary_cov(H2, S2, 10.0, [1.0, 1.0])
    with pytest.raises(ValueError, match="shape"):
        adaptive.preconditioned_sgd_stationary_cov(H2, S2, 0.1, [1.0, 1.0, 1.0])


def test_preconditioned_langevin_is_gibbs_iff_p_inverse_noise():
    eta = 0.01
    # P = Sigma^{-1}: Gibbs law C = (eta/2) H^{-1}, even for correlated H and Sigma.
    c = adaptive.preconditioned_langevin_stationary_cov(H2, S2, eta, np.linalg.inv(S2))
    np.testing.assert_allclose(c, 0.5 * eta * np.linalg.inv(H2), rtol=1e-10)
    # Diagonal P = 1/diag(Sigma) with correlated Sigma: not Gibbs (CH is not a multiple of I) ...
    s = 1 / np.diag(S2)
    c = adaptive.preconditioned_langevin_stationary_cov(H2, S2, eta, s)
    P = np.diag(s)
    np.testing.assert_allclose(P @ H2 @ c + c @ H2 @ P, eta * P @ S2 @ P, atol=1e-15)
    v = c @ H2
    assert abs(v[0, 1]) > 0.05 * eta
    # ... but every diagonal virial entry is still eta s_k Sigma_kk / 2 = eta / 2.
    np.testing.assert_allclose(np.diag(v), eta / 2, rtol=1e-10)


def test_expected_excess_loss_limits_and_recursion():
    eta, d0, s = 0.15, np.array([1.0, -2.0]), np.array([0.8, 1.6])
    k = np.arange(0, 40)
    out = adaptive.expected_excess_loss(H2, S2, eta, d0, k, scales=s, batch_size=2)
    assert out[0] == pytest.approx(0.5 * d0 @ H2 @ d0)
    # brute-force recursion of mean and covariance
    P = np.diag(s)
    A = np.eye(2) - eta * P @ H2
    m, C = d0.copy(), np.zeros((2, 2))
    for j in k:
        assert out[j] == pytest.approx(0.5 * (m @ H2 @ m + np.trace(H2 @ C)), rel=1e-12)
        m, C = A @ m, A @ C @ A.T + eta**2 * P @ S2 @ P / 2
    far = adaptive.expected_excess_loss(H2, S2, eta, d0, [100_000], scales=s, batch_size=2)
    c_inf = adaptive.preconditioned_sgd_stationary_cov(H2, S2, eta, s, batch_size=2)
    assert far[0] == pytest.approx(0.5 * np.trace(H2 @ c_inf), rel=1e-10)


def test_expected_excess_loss_bad_input():
    with pytest.raises(ValueError, match="non-negative integers"):
        adaptive.expected_excess_loss(H2, S2, 0.1, [1.0, 1.0], [0.5])
    with pytest.raises(ValueError, match="lr"):
        adaptive.expected_excess_loss(H2, S2, -0.1, [1.0, 1.0], [1])
    with pytest.raises(ValueError, match="shape"):
        adaptive.expected_excess_loss(H2, S2, 0.1, [1.0], [1])


def test_reference_rate():
    lam = np.linalg.eigvalsh(H2)[-1]
    assert adaptive.reference_rate(H2) == pytest.approx(2 / lam)
    s = np.array([2.0, 0.5])
    q = np.sqrt(s)
    assert adaptive.reference_rate(H2, s) == pytest.approx(
        2 / np.linalg.eigvalsh(q[:, None] * H2 * q[None, :])[-1])


# ----------------------------------------------------------------------------- estimators
def test_virial_matrix_of_exact_gibbs_samples_is_t_identity():
    # i.i.d. samples of exp(-L/T) for a correlated quadratic: V = T I (lemma), for any centre.
    T = 0.3
    rng = np.random.default_rng(3)
    prob = quad_potential(H2, 1.0, minimizer=[0.0, 0.0])
    phi = rng.multivariate_normal([0, 0], T * np.linalg.inv(H2), size=(50, 400))
    for center in (None, [0.5, -1.0]):
        v = adaptive.virial_matrix(prob, phi, center=center)
        z = (v.value - T * np.eye(2)) / v.stderr
        assert np.all(np.abs(z) < 4), z
    # ... while a non-Gibbs Gaussian (covariance not proportional to H^-1) is rejected
    phi = rng.multivariate_normal([0, 0], T * np.eye(2), size=(50, 400))
    v = adaptive.virial_matrix(prob, phi)
    assert abs(v.value[0, 1] - 0.0) / v.stderr[0, 1] > 10


def test_virial_matrix_needs_chains_and_3d_input():
    prob = quad_potential(H2, 1.0)
    with pytest.raises(ValueError, match="2 independent chains"):
        adaptive.virial_matrix(prob, np.zeros((5, 1, 2)))
    with pytest.raises(ValueError, match="3 dimension"):
        adaptive.virial_matrix(prob, np.zeros((5, 2)))


def test_ratio_of_means():
    b = np.random.default_rng(1).uniform(1, 2, size=(10, 30))
    r = adaptive.ratio_of_means(2.5 * b, b)
    assert r.value == pytest.approx(2.5) and r.stderr == pytest.approx(0, abs=1e-12)
    rng = np.random.default_rng(2)
    a, d = rng.normal(3.0, 1.0, size=4000), rng.normal(2.0, 1.0, size=4000)
    r = adaptive.ratio_of_means(a, d)
    # delta method for independent a, d: se = R sqrt(1/9 + 1/4) / sqrt(n)
    assert r.stderr == pytest.approx(1.5 * np.sqrt(1 / 9 + 1 / 4) / np.sqrt(4000), rel=0.1)
    assert abs(r.value - 1.5) < 4 * r.stderr
    with pytest.raises(ValueError, match="undefined"):
        adaptive.ratio_of_means([1.0, 2.0], [1.0, -1.0])
    with pytest.raises(ValueError, match="2 independent chains"):
        adaptive.ratio_of_means([1.0], [1.0])


# ----------------------------------------------------------------------------- RMSProp theory
def test_rmsprop_factor_for_coin_noise_is_one_over_beta():
    # z = +-1: w = 1 exactly, nu = 1, kappa = beta, so c = 1 / beta with no Monte Carlo error.
    for beta in (0.5, 0.9):
        c = adaptive.rmsprop_temperature_factor(
            beta, rng=0, chains=10, steps=50,
            sampler=lambda rng, shape: rng.choice([-1.0, 1.0], size=shape))
        assert c.value == pytest.approx(1 / beta, rel=1e-12)
        assert c.stderr == pytest.approx(0, abs=1e-12)


def test_rmsprop_factor_gaussian_values():
    c = adaptive.rmsprop_temperature_factor(0.9, rng=5, chains=1000)
    from sgdsim.widgets.rmsprop import RMSPROP_FACTOR_09

    assert abs(c.value - RMSPROP_FACTOR_09) < 4 * c.stderr + 5e-5
    assert c.value < 1  # fluctuations of v lower the temperature at beta = 0.9
    near_one = adaptive.rmsprop_temperature_factor(0.999, rng=5, chains=200, steps=2000)
    assert abs(near_one.value - 1) < 0.01
    with pytest.raises(ValueError, match="beta"):
        adaptive.rmsprop_temperature_factor(1.0, rng=0)
    with pytest.raises(TypeError, match="rng"):
        adaptive.rmsprop_temperature_factor(0.9, rng=None)


def test_rmsprop_temperature_formula():
    assert adaptive.rmsprop_temperature(0.02, 2.0) == pytest.approx(0.02)
    assert adaptive.rmsprop_temperature(0.02, 2.0, batch_size=4, factor=0.5) == pytest.approx(0.005)
    assert adaptive.rmsprop_temperature(0.02, 2.0, factor=sgdsim.Estimate(0.9, 0.1)) == \
        pytest.approx(0.018)
    with pytest.raises(ValueError, match="lr"):
        adaptive.rmsprop_temperature(-1.0, 1.0)
    with pytest.raises(ValueError, match="noise_std"):
        adaptive.rmsprop_temperature(1.0, np.nan)


def test_rmsprop_mean_square_is_uncentred():
    # noiseless: v after n steps from 0 is exactly (1 - beta^n) g^2
    prob = quad_potential(np.diag([1.0, 2.0]), 0.0)
    phi = np.array([[1.0, 1.0], [3.0, -1.0]])
    v = adaptive.rmsprop_mean_square(prob, phi, beta=0.8, steps=7, rng=0)
    np.testing.assert_allclose(v, (1 - 0.8**7) * (phi * [1.0, 2.0]) ** 2, rtol=1e-12)
    # noisy: E v = g^2 + sigma^2 / B
    prob = quad_potential(np.diag([1.0, 2.0]), [0.25, 1.0])
    phi = np.repeat([[2.0, 0.0]], 4000, axis=0)
    v = adaptive.rmsprop_mean_square(prob, phi, beta=0.9, rng=1, batch_size=2)
    pred = np.array([4.0 + 0.125, 0.5])
    se = v.std(axis=0, ddof=1) / np.sqrt(len(v))
    assert np.all(np.abs(v.mean(axis=0) - pred) < 4 * se)
    with pytest.raises(ValueError, match="shape"):
        adaptive.rmsprop_mean_square(prob, np.zeros((3, 3)), rng=0)


# ----------------------------------------------------------------------------- sweeps, benchmark
def test_rate_sweep_matches_gradient_descent_without_noise():
    prob = quad_potential(H2, 0.0)
    sw = adaptive.rate_sweep(prob, [1.0, 1.0], [0.1, 0.4], 30, chains=2, rng=0, record_every=5)
    assert sw.excess.shape == (7, 2, 2)
    for i, r in enumerate([0.1, 0.4]):
        gd = sgdsim.gradient_descent(prob, [1.0, 1.0], r, 30, record_every=5)
        np.testing.assert_allclose(sw.excess[:, i, 0], prob.loss(gd.phi[:, 0]), rtol=1e-12)
    assert sw.best() == 1


def test_sweep_final_and_steps_to_level():
    step = np.arange(0, 50, 10)
    ex = np.zeros((5, 2, 3))
    ex[:, 0, :] = np.array([5.0, 4.0, 3.0, 2.0, 1.0])[:, None]
    ex[:, 1, :] = np.array([[5, 5, 5], [5, 0.5, 5], [0.5, 5, 5], [5, 5, 5], [5, 5, 0.5]])
    sw = adaptive.Sweep(rates=np.array([1.0, 2.0]), step=step, excess=ex)
    np.testing.assert_array_equal(sw.final_steps(0.5), [30, 40])
    assert sw.final(0.5)[0].value == pytest.approx(1.5)
    assert sw.best(0.5) == 0
    (e0, f0), (e1, f1) = sw.steps_to(2.5)
    assert f0 == 1.0 and e0.value == pytest.approx(30)
    assert f1 == 1.0 and e1.value == pytest.approx((20 + 10 + 40) / 3)
    (e0, f0), _ = sw.steps_to(0.1)
    assert f0 == 0.0 and np.isnan(e0.value)
    with pytest.raises(ValueError, match="fraction"):
        sw.final(0.0)


def test_benchmark_protocol():
    prob = quad_potential(np.diag([1.0, 10.0]), [1.0, 10.0])
    methods = {"SGD": (None, adaptive.reference_rate(np.diag([1.0, 10.0])))}
    b = adaptive.benchmark(prob, [1.0, 1.0], methods, steps=200, multipliers=2.0 ** -np.arange(1, 6),
                           tune_chains=4, eval_chains=6, rng=3, record_every=10)
    m = b["SGD"]
    assert m.rate in m.tuning.rates and m.tuning.excess.shape[1:] == (5, 4)
    assert m.evaluation.excess.shape[1:] == (1, 6)
    assert b.level == pytest.approx(0.01 * 0.5 * (1.0 + 10.0))
    assert m.final.value == pytest.approx(m.evaluation.final()[0].value)
    assert "SGD" in b.table() and "final excess loss" in b.table()
    # the evaluation runs come from a stream independent of the tuning runs
    i = list(m.tuning.rates).index(m.rate)
    assert not np.allclose(m.evaluation.excess[:, 0, :4], m.tuning.excess[:, i, :])


# ----------------------------------------------------------------------------- compare
def test_compare_verdicts_and_failure(capsys):
    a, b = sgdsim.Estimate(1.0, 0.1), sgdsim.Estimate(2.0, 0.1)
    ledger = []
    adaptive.compare("a vs b", a, b, expect="lower", ledger=ledger)
    assert ledger[0].verdict == "lower" and ledger[0].passed
    assert ledger[0].ratio.value == pytest.approx(0.5)
    adaptive.compare("b vs a", b, a, expect="higher")
    adaptive.compare("close", a, sgdsim.Estimate(1.2, 0.1), expect="unresolved")
    assert "✓" in capsys.readouterr().out
    with pytest.raises(sgdsim.ClaimFailed, match="predicted higher"):
        adaptive.compare("wrong", a, b, expect="higher")
    with pytest.raises(ValueError, match="expect"):
        adaptive.compare("bad", a, b, expect="smaller")
    with pytest.raises(ValueError, match="standard errors are 0"):
        adaptive.compare("exact", sgdsim.Estimate(1, 0), sgdsim.Estimate(2, 0), expect="lower")
    with pytest.raises(ValueError, match="finite"):
        adaptive.compare("nan", sgdsim.Estimate(np.nan, 1), b, expect="lower")


def test_comparison_lines_are_claim_lines_for_the_ledger(capsys):
    from sgdsim.checks import parse_claim_line

    a, b = sgdsim.Estimate(1.0, 0.01), sgdsim.Estimate(2.0, 0.01)
    adaptive.compare("a vs b", a, b, expect="lower")
    line = capsys.readouterr().out.strip()
    parsed = parse_claim_line(line)
    assert parsed is not None and parsed.passed and str(parsed) == line
    assert parsed.predicted == "lower" and parsed.measured.startswith("ratio 0.50")


# ----------------------------------------------------------------------------- observe
def test_observe_reports_without_asserting_and_is_not_a_claim_line(capsys):
    from sgdsim.checks import parse_claim_line

    a, b = sgdsim.Estimate(1.0, 0.1), sgdsim.Estimate(2.0, 0.1)
    ledger = []
    adaptive.observe("a vs b", a, b, ledger=ledger)
    adaptive.observe("b vs a", b, a, ledger=ledger)
    adaptive.observe("close", a, sgdsim.Estimate(1.2, 0.1), ledger=ledger)
    lines = capsys.readouterr().out.splitlines()
    assert [c.verdict for c in ledger] == ["lower", "higher", "unresolved"]
    assert all(c.expected is None and c.passed for c in ledger)
    assert lines[0].startswith("· a vs b: ratio 0.50") and lines[0].endswith("→ lower")
    assert lines[2].endswith("→ not resolved at 4σ")
    # never read as a verified claim by the ledger
    assert all(parse_claim_line(line) is None and not line.startswith(("✓", "✗"))
               for line in lines)
    with pytest.raises(ValueError, match="standard errors are 0"):
        adaptive.observe("exact", sgdsim.Estimate(1, 0), sgdsim.Estimate(2, 0))
    with pytest.raises(ValueError, match="finite"):
        adaptive.observe("nan", sgdsim.Estimate(np.nan, 1), b)


def test_benchmark_orderings_cover_every_pair_and_grid_margins():
    h = np.array([1.0, 10.0])
    prob = quad_potential(np.diag(h), [1.0, 10.0])
    methods = {"SGD": (None, adaptive.reference_rate(np.diag(h))),
               "η/σ²": (sgdsim.Diagonal(1 / h), adaptive.reference_rate(np.diag(h), 1 / h)),
               "RMSProp": (sgdsim.RMSProp(), adaptive.reference_rate(np.diag(h), 1 / np.sqrt(h)))}
    mult = 2.0 ** -np.arange(1, 6)
    b = adaptive.benchmark(prob, [1.0, 1.0], methods, steps=200, multipliers=mult,
                           tune_chains=4, eval_chains=6, rng=5, record_every=10)
    obs = b.orderings()
    assert len(obs) == 6 and all(o.expected is None for o in obs)
    assert obs[0].claim == "final loss, η/σ² vs SGD"
    assert obs[2].claim == "final loss, RMSProp vs η/σ²"
    assert obs[3].claim == "steps to level, η/σ² vs SGD"
    assert obs[0].a == b["η/σ²"].final and obs[0].b == b["SGD"].final
    margins = b.grid_margins()
    for name, m in b.results.items():
        i = list(m.tuning.rates).index(m.rate)
        assert margins[name] == min(i, mult.size - 1 - i)
