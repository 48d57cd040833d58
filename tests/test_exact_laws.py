"""Gaps closed with independent references: each test fails on a realistic bug that no other
assertion caught (a loose ODE tolerance, a sign slip in a Taylor branch, a wrong batch scaling,
a wrong degrees-of-freedom count, a wrong ddof)."""

import numpy as np
import pytest
from scipy.linalg import expm

import sgdsim
from sgdsim import estimators, fokker_planck, gibbs


def test_gradient_flow_default_tolerances_match_the_matrix_exponential(quad2d):
    # the defaults (no rtol/atol given) are what the chapters use: they must be tight
    phi0 = np.array([[3.0, -1.0]])
    times = np.array([0.0, 0.5, 2.0, 6.0])
    traj = sgdsim.gradient_flow(quad2d, phi0, times)
    star, H = quad2d.minimizer(), quad2d.hessian()
    for k, t in enumerate(times):
        exact = star + expm(-H * t) @ (phi0[0] - star)
        np.testing.assert_allclose(traj.phi[k, 0], exact, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("z", [1e-9, -1e-9, 3e-8, -3e-8, 9.9e-7, -9.9e-7, 1e-5, -2.0, 40.0])
def test_bernoulli_matches_z_over_expm1_including_the_taylor_branch(z):
    # independent reference: z / expm1(z) is accurate for small |z| (expm1 keeps the digits)
    assert fokker_planck.bernoulli(np.array([z]))[0] == pytest.approx(z / np.expm1(z), rel=1e-13)


def _quadratic_1d(h, sigma2):
    return sgdsim.NoisyPotential(lambda x: 0.5 * h * x[..., 0] ** 2, lambda x: h * x,
                                 [[sigma2]], minimizer=[0.0], hessian=[[h]])


@pytest.mark.parametrize("batch_size", [1, 4])
def test_sgd_stationary_density_is_the_ar1_gaussian_at_every_batch_size(batch_size):
    # SGD on h x^2/2 with N(0, s2/B) gradient noise is AR(1): x' = (1 - eta h) x - eta eps,
    # stationary N(0, eta s2 / (B h (2 - eta h)))
    h, s2, eta = 2.0, 1.5, 0.2
    var = eta * s2 / (batch_size * h * (2 - eta * h))
    grid = np.linspace(-8 * np.sqrt(var), 8 * np.sqrt(var), 1601)
    p = gibbs.sgd_stationary_density(_quadratic_1d(h, s2), eta, grid, batch_size=batch_size)
    exact = np.exp(-grid ** 2 / (2 * var)) / np.sqrt(2 * np.pi * var)
    np.testing.assert_allclose(p, exact, atol=1e-4 * exact.max())


@pytest.mark.parametrize("batch_size", [1, 4])
def test_sgd_stationary_temperature_is_h_times_the_ar1_variance(batch_size):
    # Gibbs at T has E[L] = T/2 on a 1-D quadratic; SGD has E[L] = h Var / 2, so T = h Var
    h, s2, eta = 2.0, 1.5, 0.2
    var = eta * s2 / (batch_size * h * (2 - eta * h))
    t = gibbs.sgd_stationary_temperature(_quadratic_1d(h, s2), eta, -8 * np.sqrt(var),
                                       8 * np.sqrt(var), batch_size=batch_size)
    assert t == pytest.approx(h * var, rel=1e-4)


def test_loglog_slope_standard_error_is_right_on_noisy_data():
    # independent reference: the spread of fitted slopes over many noisy replicas
    g = np.random.default_rng(11)
    x = np.geomspace(0.01, 1.0, 10)
    fits = [estimators.loglog_slope(x, 3.0 * x ** 0.5 * np.exp(0.05 * g.standard_normal(10)))
            for _ in range(3000)]
    slopes = np.array([f.coef[1] for f in fits])
    se = np.array([f.stderr[1] for f in fits])
    assert slopes.mean() == pytest.approx(0.5, abs=4 * slopes.std() / np.sqrt(slopes.size))
    # E[se^2] equals the true variance of the slope (the residual variance is unbiased)
    assert np.sqrt(np.mean(se ** 2)) == pytest.approx(slopes.std(), rel=0.04)
    assert all(f.dof == 8 for f in fits[:3])


def test_chi_square_has_mean_dof_for_draws_from_the_density():
    # draws i.i.d. from the density itself: E[chi2] = dof (a wrong dof shifts it by >= 1)
    edges = np.linspace(-4.0, 4.0, 161)
    fp = fokker_planck.FokkerPlanck1D(lambda x: 0.5 * x[..., 0] ** 2, edges, 1.0)
    p = np.exp(-0.5 * fp.centers ** 2)
    p /= np.sum(p * fp.widths)
    g = np.random.default_rng(5)
    cdf = np.r_[0.0, np.cumsum(p * fp.widths)]
    vals = []
    for _ in range(1500):
        u = g.uniform(0, cdf[-1], 2000)
        x = np.interp(u, cdf, edges)   # exact inverse-CDF draws from the piecewise-constant p
        c2, dof = fp.chi_square(x, p, cells_per_bin=8)
        vals.append((c2, dof))
    c2 = np.array([v[0] for v in vals])
    dof = vals[0][1]
    assert all(v[1] == dof for v in vals) and dof >= 10
    assert c2.mean() == pytest.approx(dof, abs=4 * np.sqrt(2 * dof / c2.size))


def test_chain_mean_uses_the_unbiased_spread_of_chain_averages():
    # by hand: chain averages 1, 2, 3, 6 -> mean 3, s^2 = (4 + 1 + 0 + 9)/3, se = s/2
    samples = np.array([[0.0, 2.0, 3.0, 5.0], [2.0, 2.0, 3.0, 7.0]])  # (records, chains)
    e = sgdsim.chain_mean(samples)
    assert e.value == 3.0 and e.stderr == pytest.approx(np.sqrt(14 / 3) / 2, rel=1e-14)
    f = estimators.weighted_fit([1.0, 2.0, 3.0, 4.0], [1.0, 2.1, 2.9, 4.2], [0.1] * 4)
    assert f.dof == 2
