"""Tests of sgdsim.book.langevin and of the laws the Langevin chapter uses, against closed forms."""

import numpy as np
import pytest

import sgdsim
from sgdsim.book import langevin as sde
@pytest.fixture
def skewed1d():
    """A 1-D quadratic finite sum with skewed (exponential) per-example minimizers."""
    g = np.random.default_rng(3)
    return sgdsim.Quadratic(3.0 + g.exponential(1.0, size=300), 1.5)


def _flat(var=1.0, dim=1):
    return sgdsim.NoisyPotential(lambda p: 0 * p[..., 0], lambda p: 0 * p, var, dim=dim)


def test_printed_update_converges_to_the_fixed_point_not_the_minimizer(rng):
    h, a, eta = 2.0, 3.0, 0.1
    p = sgdsim.NoisyPotential(lambda x: 0.5 * h * (x[..., 0] - a) ** 2,
                              lambda x: h * (x - a), 0.0, minimizer=[a])
    traj = sde.printed_update(p, [10.0], eta, 60, rng=rng)
    fixed = -eta * h * a / (1 - eta * h)
    assert traj.final[0, 0] == pytest.approx(fixed, abs=1e-12)
    assert traj.time[-1] == pytest.approx(6.0)
    # every state is exactly eta times the gradient at the previous one
    np.testing.assert_allclose(traj.phi[1:, 0, 0], eta * h * (traj.phi[:-1, 0, 0] - a))
    # while SGD (the intended rule) reaches the minimizer
    assert sgdsim.sgd(p, [10.0], eta, 200, rng=rng).final[0, 0] == pytest.approx(a)


def test_printed_update_bad_input(rng):
    with pytest.raises(TypeError, match="rng"):
        sde.printed_update(_flat(), [0.0], 0.1, 5, rng=None)
    with pytest.raises(ValueError, match="negative"):
        sde.printed_update(_flat(), [0.0], -0.1, 5, rng=rng)


def test_block_noise_sums_have_covariance_n_sigma_and_zero_mean(skewed1d, rng):
    s = sde.block_noise_sums(skewed1d, [4.0], 9, 40000, rng=rng)
    assert s.shape == (40000, 1)
    sigma = skewed1d.noise_cov()[0, 0]
    assert abs(s.mean()) < 4 * np.sqrt(9 * sigma / 40000)
    assert s.var() == pytest.approx(9 * sigma, rel=4 * np.sqrt(2 * 3 / 40000) * 2)
    # batches divide the covariance by B
    sb = sde.block_noise_sums(skewed1d, [4.0], 9, 40000, batch_size=4, rng=rng)
    assert sb.var() == pytest.approx(9 * sigma / 4, rel=0.05)
    with pytest.raises(ValueError, match="shape"):
        sde.block_noise_sums(skewed1d, [4.0, 1.0], 9, 10, rng=rng)
    with pytest.raises(ValueError, match=">= 1"):
        sde.block_noise_sums(skewed1d, [4.0], 0, 10, rng=rng)


def test_cumulants_of_known_distributions(rng):
    # exponential: variance 1, skewness 2, excess kurtosis 6
    c = sgdsim.estimators.cumulants(rng.exponential(size=400000), groups=20)
    assert abs(c.variance.value - 1) < 4 * c.variance.stderr
    assert abs(c.skewness.value - 2) < 4 * c.skewness.stderr
    assert abs(c.excess_kurtosis.value - 6) < 4 * c.excess_kurtosis.stderr
    # Gaussian: 0 and 0; uniform: excess kurtosis -6/5
    g = sgdsim.estimators.cumulants(rng.normal(size=200000))
    assert abs(g.skewness.value) < 4 * g.skewness.stderr
    assert abs(g.excess_kurtosis.value) < 4 * g.excess_kurtosis.stderr
    u = sgdsim.estimators.cumulants(rng.uniform(size=200000))
    assert abs(u.excess_kurtosis.value + 1.2) < 4 * u.excess_kurtosis.stderr
    assert u.variance.value == pytest.approx(1 / 12, rel=0.02)


def test_cumulants_bad_input():
    with pytest.raises(ValueError, match="8 draws"):
        sgdsim.estimators.cumulants(np.arange(20.0), groups=5)
    with pytest.raises(ValueError, match="constant"):
        sgdsim.estimators.cumulants(np.ones(100), groups=2)


def test_quadratic_moments_sgd_em_exact(quad2d):
    phi0 = np.array([3.0, -1.0])
    times = np.array([0.0, 0.4, 2.0])
    # SGD recursion by hand
    h, s, star = quad2d.H, quad2d.noise_cov(), quad2d.minimizer()
    eta = 0.1
    a = np.eye(2) - eta * h
    m, c = phi0 - star, np.zeros((2, 2))
    for _ in range(20):
        m, c = a @ m, a @ c @ a.T + eta**2 * s
    mean, cov = sgdsim.laws.quadratic_moments(quad2d, phi0, times, lr=eta, method="sgd")
    np.testing.assert_allclose(mean[0], phi0)
    np.testing.assert_allclose(mean[2], star + m, atol=1e-12)
    np.testing.assert_allclose(cov[2], c, atol=1e-14)
    # the exact OU law: mean solves dm/dt = -H m, cov -> C_inf
    me, ce = sgdsim.laws.quadratic_moments(quad2d, phi0, [50.0], lr=eta, method="exact")
    np.testing.assert_allclose(me[0], star, atol=1e-12)
    np.testing.assert_allclose(ce[0], sgdsim.langevin_stationary_cov(h, s, eta), atol=1e-14)
    # Euler-Maruyama approaches the exact law as dt -> 0, with O(dt) error
    mx, cx = sgdsim.laws.quadratic_moments(quad2d, phi0, [2.0], lr=eta, method="exact")
    errs = []
    for dt in (0.01, 0.005):
        mm, cc = sgdsim.laws.quadratic_moments(quad2d, phi0, [2.0], lr=eta, method="em", dt=dt)
        errs.append(np.abs(mm - mx).max())
    assert errs[0] / errs[1] == pytest.approx(2.0, rel=0.05)


def test_quadratic_moments_match_sgd_simulation(quad2d, rng):
    phi0 = np.array([3.0, -1.0])
    mean, cov = sgdsim.laws.quadratic_moments(quad2d, phi0, [1.0], lr=0.1, method="sgd")
    traj = sgdsim.sgd(quad2d, phi0, 0.1, 10, chains=20000, rng=rng, record_every=10)
    x = traj.final
    se = np.sqrt(np.diag(cov[0]) / x.shape[0])
    assert np.all(np.abs(x.mean(0) - mean[0]) < 4 * se)
    assert np.cov(x.T)[0, 0] == pytest.approx(cov[0][0, 0], rel=0.05)


def test_quadratic_moments_bad_input(quad2d):
    with pytest.raises(ValueError, match="whole number"):
        sgdsim.laws.quadratic_moments(quad2d, [0, 0], [0.25], lr=0.1)
    with pytest.raises(ValueError, match="dt="):
        sgdsim.laws.quadratic_moments(quad2d, [0, 0], [0.2], lr=0.1, method="em")
    with pytest.raises(ValueError, match="method"):
        sgdsim.laws.quadratic_moments(quad2d, [0, 0], [0.2], lr=0.1, method="rk4")
    lin = sgdsim.LinearRegression(np.eye(3)[:, :2], np.ones(3))
    with pytest.raises(ValueError, match="constant"):
        sgdsim.laws.quadratic_moments(lin, [0, 0], [0.2], lr=0.1)


def test_linear_noise_cov_on_a_quadratic_is_the_exact_ou_law(quad2d):
    phi0 = np.array([3.0, -1.0])
    times = np.array([0.0, 0.5, 3.0])
    path, cov = sgdsim.laws.linear_noise_cov(quad2d, phi0, times, lr=0.05)
    mx, cx = sgdsim.laws.quadratic_moments(quad2d, phi0, times, lr=0.05, method="exact")
    np.testing.assert_allclose(path, mx, atol=1e-8)
    np.testing.assert_allclose(cov, cx, atol=1e-9)
    with pytest.raises(ValueError, match="non-decreasing"):
        sgdsim.laws.linear_noise_cov(quad2d, phi0, [1.0, 0.5], lr=0.05)


def test_fit_temperature_recovers_the_temperature_of_gibbs_samples(rng):
    dw = sgdsim.double_well(tilt=0.3)
    grid = np.linspace(-3, 3, 6001)
    t = 0.4
    p = sgdsim.gibbs_density(dw.loss, grid, t)
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    x = np.interp(rng.random((50, 40)), cdf, grid)  # (records, chains), i.i.d.
    est = sgdsim.gibbs.fit_temperature(dw.loss(x[..., None]), dw.loss, grid)
    assert abs(est.value - t) < 4 * est.stderr
    assert est.stderr < 0.02
    # an Estimate of the mean loss is accepted as is, and exact moments give exact T
    m = np.trapezoid(p * dw.loss(grid[:, None]), grid)
    assert sgdsim.gibbs.fit_temperature(sgdsim.Estimate(m, 1e-6), dw.loss, grid).value == \
        pytest.approx(t, rel=1e-9)


def test_fit_temperature_bad_input():
    dw = sgdsim.double_well()
    grid = np.linspace(-2, 2, 101)
    with pytest.raises(ValueError, match="outside the range"):
        sgdsim.gibbs.fit_temperature(sgdsim.Estimate(-5.0, 0.1), dw.loss, grid)
    with pytest.raises(ValueError, match="2 independent chains"):
        sgdsim.gibbs.fit_temperature(np.ones((10, 1)), dw.loss, grid)


def test_sgd_stationary_density_is_the_exact_quadratic_law():
    # SGD on k x^2/2 with Gaussian noise: stationary N(0, eta s2 / (k (2 - eta k)))
    k, s2, eta = 2.0, 4.0, 0.2
    p = sgdsim.NoisyPotential(lambda x: 0.5 * k * x[..., 0] ** 2, lambda x: k * x, s2,
                              minimizer=[0.0])
    grid = np.linspace(-3, 3, 1201)
    dens = sgdsim.gibbs.sgd_stationary_density(p, eta, grid)
    var = eta * s2 / (k * (2 - eta * k))
    exact = np.exp(-(grid**2) / (2 * var)) / np.sqrt(2 * np.pi * var)
    np.testing.assert_allclose(dens, exact, atol=1e-8)
    # and it tends to the Gibbs density at T = eta s2 / 2 (not at eta s2 / 10) as eta -> 0
    dw = sgdsim.double_well(tilt=0.3, noise_var=0.5 / 0.002)
    g = np.linspace(-2.5, 2.5, 1001)
    gibbs = sgdsim.gibbs_density(dw.loss, g, 0.25)
    assert np.max(np.abs(sgdsim.gibbs.sgd_stationary_density(dw, 0.002, g) - gibbs)) < 0.03 * gibbs.max()


def test_sgd_stationary_density_cold_double_well_puts_the_mass_in_the_deep_well():
    # At T = 0.01 the wells are decoupled to round-off (barrier ~ 70 T): the invariant vector
    # is then fixed where the mass is. (An earlier solver, which replaced the balance equation
    # at the grid's right end by the normalization, put all the mass in the shallow well.)
    eta, s2 = 0.0025, 8.0  # T = eta s2 / 2 = 0.01, step noise eta sigma = 0.0071
    dw = sgdsim.double_well(tilt=0.3, noise_var=s2)
    g = np.linspace(-2.0, 2.0, 1601)
    dens = sgdsim.gibbs.sgd_stationary_density(dw, eta, g)
    gibbs = sgdsim.gibbs_density(dw.loss, g, 0.5 * eta * s2)
    assert g[np.argmax(dens)] < 0  # the deep well is on the left
    assert np.max(np.abs(dens - gibbs)) < 0.02 * gibbs.max()  # up to the O(eta) correction
    assert np.trapezoid(dens[g < 0], g[g < 0]) > 0.999


def test_sgd_stationary_density_refuses_a_grid_that_cannot_hold_the_chain():
    # eta L'(x) at the ends of the grid throws the chain far outside it
    dw = sgdsim.double_well(noise_var=1.0)
    with pytest.raises(ValueError, match="outside the grid"):
        sgdsim.gibbs.sgd_stationary_density(dw, 0.2, np.linspace(-3.0, 3.0, 601))


def test_sgd_stationary_density_bad_input(quad2d):
    dw = sgdsim.double_well(noise_var=1.0)
    with pytest.raises(ValueError, match="1-D"):
        sgdsim.gibbs.sgd_stationary_density(quad2d, 0.1, np.linspace(-1, 1, 11))
    with pytest.raises(ValueError, match="resolve"):
        sgdsim.gibbs.sgd_stationary_density(dw, 0.01, np.linspace(-2, 2, 11))
    with pytest.raises(ValueError, match="uniform"):
        sgdsim.gibbs.sgd_stationary_density(dw, 0.5, np.array([0.0, 0.1, 0.3, 0.4]))
    with pytest.raises(ValueError, match="> 0"):
        sgdsim.gibbs.sgd_stationary_density(dw, 0.0, np.linspace(-2, 2, 11))
    with pytest.raises(ValueError, match="zero"):
        sgdsim.gibbs.sgd_stationary_density(sgdsim.double_well(noise_var=0.0), 0.1,
                                   np.linspace(-2, 2, 11))


def test_product_problem_factorizes(rng):
    px = sgdsim.double_well(tilt=0.2, noise_var=4.0)
    py = sgdsim.NoisyPotential(lambda p: p[..., 0] ** 2, lambda p: 2 * p, 1.0, minimizer=[0.0],
                               hessian=lambda p: np.full(p.shape[:-1] + (1, 1), 2.0))
    prob = sgdsim.product_problem(px, py)
    pts = rng.normal(size=(5, 2))
    np.testing.assert_allclose(prob.loss(pts), px.loss(pts[:, :1]) + py.loss(pts[:, 1:]))
    np.testing.assert_allclose(prob.grad(pts), np.c_[px.grad(pts[:, :1]), py.grad(pts[:, 1:])])
    np.testing.assert_allclose(prob.noise_cov(), np.diag([4.0, 1.0]))
    h = prob.hessian(pts)
    assert h.shape == (5, 2, 2) and np.all(h[:, 0, 1] == 0) and np.allclose(h[:, 1, 1], 2.0)
    np.testing.assert_allclose(prob.minimizer(), [px.minimizer()[0], 0.0])
    with pytest.raises(ValueError, match="1-D"):
        sgdsim.product_problem(prob, py)


def test_sgd_stationary_temperature_quadratic_closed_form_and_limit():
    # quadratic: k Var = eta s2 / (2 - eta k) exactly; it tends to eta s2 / 2
    k, s2 = 2.0, 25.0
    p = sgdsim.NoisyPotential(lambda x: 0.5 * k * x[..., 0] ** 2, lambda x: k * x, s2,
                              minimizer=[0.0])
    for eta in (0.05, 0.01):
        t = sgdsim.gibbs.sgd_stationary_temperature(p, eta, -4.0, 4.0)
        assert t == pytest.approx(eta * s2 / (2 - eta * k), rel=1e-6)
    with pytest.raises(ValueError, match="lo < hi"):
        sgdsim.gibbs.sgd_stationary_temperature(p, 0.01, 1.0, -1.0)
    with pytest.raises(ValueError, match="points"):
        sgdsim.gibbs.sgd_stationary_temperature(p, 1e-6, -4.0, 4.0)


def test_compare_ensembles_is_calibrated(rng):
    z_mean, z_ratio = [], []
    for _ in range(200):
        a = rng.exponential(size=(400, 2))
        b = rng.exponential(size=(300, 2))
        gap = sgdsim.estimators.compare_ensembles(a, b)
        z_mean.append(gap.mean_diff[0].value / gap.mean_diff[0].stderr)
        z_ratio.append((gap.spread_ratio.value - 1) / gap.spread_ratio.stderr)
    assert np.std(z_mean) == pytest.approx(1.0, abs=0.15)
    assert np.std(z_ratio) == pytest.approx(1.0, abs=0.2)
    assert abs(np.mean(z_mean)) < 0.3
    gap = sgdsim.estimators.compare_ensembles(rng.normal(size=(5000, 1)) * 2, rng.normal(size=(5000, 1)))
    assert abs(gap.spread_ratio.value - 4) < 4 * gap.spread_ratio.stderr
    with pytest.raises(ValueError, match="same dim"):
        sgdsim.estimators.compare_ensembles(np.zeros((5, 2)), np.zeros((5, 3)))


# ---------------------------------------------------------------- moved from the chapter
# Checks that hold by construction (the simulator against its own arithmetic) live here,
# not among the chapter's claims.

def test_block_noise_sums_skewness_falls_like_one_over_root_n(skewed1d, rng):
    u = (skewed1d.grad(skewed1d.minimizer()) - skewed1d.example_grads(skewed1d.minimizer()))[:, 0]
    gamma1 = np.mean(u**3) / np.mean(u**2) ** 1.5
    for n in (1, 16):
        s = sde.block_noise_sums(skewed1d, skewed1d.minimizer(), n, 40000, rng=rng)[:, 0]
        c = sgdsim.estimators.cumulants(s, groups=20)
        assert abs(c.skewness.value - gamma1 / np.sqrt(n)) < 4 * c.skewness.stderr


def test_euler_maruyama_of_pure_noise_is_brownian_motion(rng):
    eta, t_end = 0.1, 2.0
    bm = sgdsim.langevin(_flat(), [0.0], eta, t_end, 0.01, chains=20000, rng=rng)
    v = bm.final[:, 0].var(ddof=1)
    assert abs(v - eta * t_end) < 4 * eta * t_end * np.sqrt(2 / 19999)


def test_reshuffled_block_sums_vanish_over_an_epoch_and_follow_finite_population(skewed1d, rng):
    n = skewed1d.n
    full = sde.reshuffled_block_sums(skewed1d, [4.0], n, 50, rng=rng)
    np.testing.assert_allclose(full, 0.0, atol=1e-9)        # one epoch: the noise sums to 0
    half = sde.reshuffled_block_sums(skewed1d, [4.0], n // 2, 20000, rng=rng)[:, 0]
    sigma = skewed1d.noise_cov()[0, 0]
    pred = (n // 2) * sigma * (n - n // 2) / (n - 1)
    assert half.var() == pytest.approx(pred, rel=4 * np.sqrt(2 / 20000) * 1.5)
    with pytest.raises(ValueError, match="exceeds"):
        sde.reshuffled_block_sums(skewed1d, [4.0], n + 1, 5, rng=rng)


def test_ar1_stationary_skewness_matches_the_cumulant_series():
    gamma1, u = 2.0, 0.3
    r = 1 - u
    k2 = u**2 * sum(r ** (2 * j) for j in range(2000))
    k3 = u**3 * sum(r ** (3 * j) for j in range(2000)) * gamma1
    assert sde.ar1_stationary_skewness(gamma1, u) == pytest.approx(k3 / k2**1.5, rel=1e-12)
    small = 1e-6
    assert sde.ar1_stationary_skewness(gamma1, small) == pytest.approx(
        2**1.5 / 3 * gamma1 * np.sqrt(small), rel=1e-5)
    with pytest.raises(ValueError, match="stationary"):
        sde.ar1_stationary_skewness(gamma1, 2.0)


def _gibbs_draws(loss, grid, t, size, gen):
    p = sgdsim.gibbs_density(loss, grid, t)
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    return np.interp(gen.random(size), cdf, grid)


def test_occupation_temperature_inverts_the_well_fraction():
    well = sgdsim.double_well(tilt=0.3, noise_var=1.0)
    grid = np.linspace(-2.6, 2.6, 1301)
    p = sgdsim.gibbs_density(well.loss, grid, 0.7)
    frac = np.trapezoid(p * (grid < 0.075), grid) / np.trapezoid(p, grid)
    assert sde.occupation_temperature(well.loss, grid, 0.075, frac) == pytest.approx(0.7, rel=1e-8)


def test_three_temperatures_agree_on_gibbs_draws(rng):
    well = sgdsim.double_well(tilt=0.3, noise_var=1.0)
    grid = np.linspace(-2.6, 2.6, 1301)
    x = _gibbs_draws(well.loss, grid, 0.5, (4, 2000), rng)       # i.i.d.: 4 records, 2000 chains
    temps = sde.grouped_temperatures(well, x, grid, split=0.075, groups=20)
    for name, v in temps.items():
        assert abs(v.mean() - 0.5) < 4 * v.std(ddof=1) / np.sqrt(v.size), name


def test_gibbs_chi_square_accepts_gibbs_draws_and_rejects_a_wrong_temperature(rng):
    well = sgdsim.double_well(tilt=0.3, noise_var=1.0)
    grid, edges = np.linspace(-2.6, 2.6, 2601), np.linspace(-2, 2, 41)
    x = _gibbs_draws(well.loss, grid, 0.5, 20000, rng)
    chi2, dof, probs = sde.gibbs_chi_square(x, well.loss, 0.5, edges)
    assert probs.sum() == pytest.approx(1.0)
    assert abs(chi2 - dof) < 4 * np.sqrt(2 * dof)
    chi2_wrong, dof_w, _ = sde.gibbs_chi_square(x, well.loss, 0.6, edges)
    assert chi2_wrong - dof_w > 10 * np.sqrt(2 * dof_w)
    # more draws resolve a smaller temperature error
    d1 = sde.chi_square_resolution(well.loss, 0.5, edges, 4000)
    d2 = sde.chi_square_resolution(well.loss, 0.5, edges, 16000)
    assert 0 < d2 < d1 < 1
