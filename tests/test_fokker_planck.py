"""Tests of the 1-D Fokker--Planck solver: exact discrete stationarity, mass, convergence."""

import numpy as np
import pytest

import sgdsim
from sgdsim.fokker_planck import FokkerPlanck1D, bernoulli


def test_bernoulli_function():
    z = np.array([-800.0, -30.0, -1.0, -1e-9, 0.0, 1e-9, 1.0, 30.0, 800.0])
    b = bernoulli(z)
    assert np.all(np.isfinite(b)) and np.all(b >= 0)
    np.testing.assert_allclose(b[[2, 6]], [-1.0 / np.expm1(-1.0), 1.0 / np.expm1(1.0)], rtol=1e-14)
    assert b[4] == 1.0
    # B(-z) / B(z) = e^z  (the identity that makes Gibbs the exact steady state)
    zz = np.linspace(-40, 40, 81)
    np.testing.assert_allclose(bernoulli(-zz) / bernoulli(zz), np.exp(zz), rtol=1e-12)


@pytest.fixture
def fp():
    return FokkerPlanck1D(sgdsim.double_well(tilt=0.3).loss, np.linspace(-2.4, 2.4, 241), 0.5)


def test_gibbs_is_the_exact_discrete_stationary_state(fp):
    pi = fp.stationary()
    assert np.sum(pi * fp.widths) == pytest.approx(1.0, abs=1e-14)
    np.testing.assert_allclose(fp.generator @ (pi * fp.widths), 0.0, atol=1e-12)
    # it is exp(-U(x_i)/D) at the cell centres
    w = np.exp(-(fp.potential - fp.potential.min()) / fp.diffusion)
    np.testing.assert_allclose(pi, w / np.sum(w * fp.widths), rtol=1e-12)
    # and matches the continuous Gibbs density to O(h^2)
    g = sgdsim.gibbs_density(sgdsim.double_well(tilt=0.3).loss, fp.centers, 0.5)
    np.testing.assert_allclose(pi, g, atol=2e-3 * g.max())


def test_generator_conserves_mass_and_evolution_keeps_it(fp):
    q = fp.generator
    np.testing.assert_allclose(q.sum(axis=0), 0.0, atol=1e-9 * np.abs(q).max())
    assert np.all(q - np.diag(np.diag(q)) >= 0)  # a Markov generator: off-diagonals >= 0
    p0 = fp.point_mass(1.0)
    ps = fp.evolve(p0, np.linspace(0, 30, 13))
    masses = ps @ fp.widths
    np.testing.assert_allclose(masses, 1.0, atol=1e-10)
    assert np.all(ps >= 0)


def test_evolution_converges_to_gibbs_at_the_spectral_gap_rate(fp):
    p0 = fp.point_mass(1.0)
    pi = fp.stationary()
    t = np.array([20.0, 40.0, 400.0])
    err = np.array([np.sum(np.abs(p - pi) * fp.widths) for p in fp.evolve(p0, t)])
    assert err[-1] < 1e-12
    # the slowest mode decays like exp(-t / relaxation_time)
    assert err[0] / err[1] == pytest.approx(np.exp(20.0 / fp.relaxation_time), rel=1e-3)


def test_eigen_and_expm_paths_agree(fp):
    p0 = fp.point_mass(0.5)
    times = np.array([0.0, 0.3, 2.0, 7.0])
    a = fp.evolve(p0, times)
    b = fp._evolve_expm(p0 * fp.widths, times) / fp.widths
    np.testing.assert_allclose(a, b, atol=1e-9 * a.max())
    # far in the tail (tiny Gibbs weight) the expm path is used and stays accurate
    cold = FokkerPlanck1D(lambda x: 2.0 * x[:, 0] ** 2, np.linspace(-3, 3, 121), 0.05)
    p = cold.evolve(cold.point_mass(2.8), [0.0, 0.5, 10.0])
    assert p[1] @ cold.widths == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(p[-1], cold.stationary(), atol=1e-8 * cold.stationary().max())


def test_ornstein_uhlenbeck_moments():
    # U = k x^2 / 2: mean decays like e^{-kt}; variance -> D/k (grid error O(h^2))
    k, d = 2.0, 0.3
    fp = FokkerPlanck1D(lambda x: 0.5 * k * x[:, 0] ** 2, np.linspace(-3, 3, 601), d)
    p = fp.evolve(fp.point_mass(1.0 + 1e-9), [0.5, 20.0])
    x0 = fp.centers[np.argmax(fp.point_mass(1.0 + 1e-9))]
    m = p * fp.widths  # cell masses, each summing to 1
    assert m[0] @ fp.centers == pytest.approx(x0 * np.exp(-k * 0.5), abs=5e-4)
    var = m[1] @ fp.centers**2 - (m[1] @ fp.centers) ** 2
    assert var == pytest.approx(d / k, rel=2e-3)


def test_for_sgd_uses_the_temperature():
    dw = sgdsim.double_well(noise_var=200.0)
    fp = FokkerPlanck1D.for_sgd(dw, 0.005, np.linspace(-2, 2, 41))
    assert fp.diffusion == pytest.approx(0.5)
    fp4 = FokkerPlanck1D.for_sgd(dw, 0.005, np.linspace(-2, 2, 41), batch_size=4)
    assert fp4.diffusion == pytest.approx(0.125)


def test_chi_square_bins_must_divide_the_cells(fp):
    with pytest.raises(ValueError, match="cannot be grouped"):
        fp.chi_square(np.zeros(10), fp.stationary(), 7)


def test_bad_input(fp):
    u = sgdsim.double_well().loss
    with pytest.raises(ValueError, match="increasing"):
        FokkerPlanck1D(u, [0.0, 1.0, 0.5, 2.0], 1.0)
    with pytest.raises(ValueError, match="diffusion"):
        FokkerPlanck1D(u, np.linspace(-1, 1, 11), 0.0)
    with pytest.raises(ValueError, match="finite"):
        FokkerPlanck1D(u, np.linspace(-1, 1, 11), np.nan)
    with pytest.raises(ValueError, match="underflow"):
        FokkerPlanck1D(u, np.linspace(-10, 10, 101), 0.01)
    with pytest.raises(ValueError, match="shape"):
        FokkerPlanck1D(np.zeros(5), np.linspace(-1, 1, 11), 1.0)
    with pytest.raises(ValueError, match=">= 0"):
        fp.evolve(-fp.stationary(), [1.0])
    with pytest.raises(ValueError, match="shape"):
        fp.evolve(np.ones(3), [1.0])
    with pytest.raises(ValueError, match="times"):
        fp.evolve(fp.stationary(), [-1.0])
    with pytest.raises(ValueError, match="outside"):
        fp.point_mass(5.0)
    with pytest.raises(ValueError, match="1-D"):
        FokkerPlanck1D.for_sgd(sgdsim.Quadratic(np.zeros((3, 2)), np.eye(2)), 0.1,
                               np.linspace(-1, 1, 11))


def test_chi_square_of_exact_draws_and_of_wrong_draws(fp, rng):
    pi = fp.stationary()
    cdf = np.r_[0.0, np.cumsum(pi * fp.widths)]
    chis = []
    for _ in range(50):
        x = np.interp(rng.random(3000), cdf, fp.edges)
        chi2, dof = fp.chi_square(x, pi, 10)
        chis.append(chi2 / dof)
    assert np.mean(chis) == pytest.approx(1.0, abs=0.1)
    wrong = np.interp(rng.random(3000), cdf, fp.edges) * 1.1
    chi2, dof = fp.chi_square(wrong, pi, 10)
    assert chi2 > dof + 6 * np.sqrt(2 * dof)
