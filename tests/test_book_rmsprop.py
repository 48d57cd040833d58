"""Tests of sgdsim.book.rmsprop: rate sweeps, the benchmark and the chapter's problems."""

import numpy as np
import pytest

import sgdsim
from sgdsim.book import rmsprop as adaptive
from conftest import H2, S2, quad_potential


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
    methods = {"SGD": (None, sgdsim.laws.stability_limit(np.diag([1.0, 10.0])))}
    b = adaptive.benchmark(prob, [1.0, 1.0], methods, steps=200, multipliers=2.0 ** -np.arange(1, 6),
                           tune_chains=4, eval_chains=6, rng=3, record_every=10)
    m = b["SGD"]
    assert m.rate in m.tuning.rates and m.tuning.excess.shape[1:] == (5, 4)
    assert m.evaluation.excess.shape[1:] == (1, 6)
    assert b.level == pytest.approx(0.01 * 0.5 * (1.0 + 10.0))
    assert m.final.value == pytest.approx(m.evaluation.final()[0].value)
    # the evaluation runs come from a stream independent of the tuning runs
    i = list(m.tuning.rates).index(m.rate)
    assert not np.allclose(m.evaluation.excess[:, 0, :4], m.tuning.excess[:, i, :])


def test_benchmark_grid_margins():
    h = np.array([1.0, 10.0])
    prob = quad_potential(np.diag(h), [1.0, 10.0])
    methods = {"SGD": (None, sgdsim.laws.stability_limit(np.diag(h))),
               "η/σ²": (sgdsim.Diagonal(1 / h), sgdsim.laws.stability_limit(np.diag(h), 1 / h)),
               "RMSProp": (sgdsim.RMSProp(), sgdsim.laws.stability_limit(np.diag(h), 1 / np.sqrt(h)))}
    mult = 2.0 ** -np.arange(1, 6)
    b = adaptive.benchmark(prob, [1.0, 1.0], methods, steps=200, multipliers=mult,
                           tune_chains=4, eval_chains=6, rng=5, record_every=10)
    margins = b.grid_margins()
    for name, m in b.results.items():
        i = list(m.tuning.rates).index(m.rate)
        assert margins[name] == min(i, mult.size - 1 - i)


# ----------------------------------------------------------------------------- beyond the slides
def test_coin_noise_problem():
    coin = adaptive.CoinNoise(h=2.0, sigma=0.5)
    phi = np.full((1000, 1), 0.3)
    g = coin.sample_grad(phi, 4, np.random.default_rng(1))
    np.testing.assert_allclose(np.abs(g - 0.6), 0.25)          # ± σ/√B exactly
    assert 0.4 < (g > 0.6).mean() < 0.6
    assert coin.loss([[1.0]]) == pytest.approx(1.0)
    np.testing.assert_allclose(coin.noise_cov(), [[0.25]])
    np.testing.assert_allclose(coin.hessian(np.zeros((3, 1))), np.full((3, 1, 1), 2.0))


def test_mean_field_rmsprop_is_noiseless_rmsprop():
    # with no noise the mean-field path is RMSProp itself (eps = 0)
    prob = quad_potential(np.diag([1.0]), 0.0)
    x, v = adaptive.mean_field_rmsprop(lambda z: z, 0.0, 3.0, 0.05, 40)
    tr = sgdsim.sgd(prob, [3.0], 0.05, 40, chains=2, rng=0,
                    preconditioner=sgdsim.RMSProp(beta=0.9, eps=0.0))
    np.testing.assert_allclose(tr.phi[:, 0, 0], x, rtol=1e-12)
    assert v[0] == 0 and v[1] == pytest.approx(0.1 * 9.0)


def test_position_noise_densities_and_moments():
    m = adaptive.PositionNoise(h=0.05, sigma0=1.0, ell=2.0)
    xs = np.linspace(-12, 12, 4001)
    dx = xs[1] - xs[0]
    for residual in (False, True):
        p = m.density(xs, 0.1, residual=residual)
        assert p.sum() * dx == pytest.approx(1.0)
        assert (p * xs**2).sum() * dx == pytest.approx(m.second_moment(0.1, residual=residual),
                                                       rel=1e-6)
    # P' is the derivative of P
    x = np.array([-1.3, 0.2, 2.5])
    fd = (m.P(x + 1e-6) - m.P(x - 1e-6)) / 2e-6
    np.testing.assert_allclose(m.dP(x), fd, rtol=1e-6)


def test_position_noise_sgd_steps():
    m = adaptive.PositionNoise()
    for corr in (False, True):
        tr = adaptive.position_noise_sgd(m, 0.1, 1, chains=3, rng=4, correction=corr,
                                         record_every=1)
        gen = np.random.default_rng(4)
        x = gen.standard_normal((3, 1)) * np.sqrt(0.1 / 2 / m.h)  # the Gibbs start
        np.testing.assert_array_equal(tr.phi[0], x)
        z = gen.standard_normal((3, 1))
        s2 = m.noise_var(x)
        step = 0.1 * (m.h * x + np.sqrt(s2) * z) / s2
        if corr:
            step -= 0.5 * 0.1**2 * m.dP(x)
        np.testing.assert_allclose(tr.phi[-1], x - step, rtol=1e-12)
