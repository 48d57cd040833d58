import numpy as np
import pytest

import sgdsim
from conftest import H2, quad_potential



def test_rmsprop_running_mean_square_matches_hand_computation():
    pre = sgdsim.RMSProp(beta=0.9, eps=1e-8)
    phi = np.zeros((1, 2))
    v = pre.init(phi)
    g1, g2 = np.array([[2.0, -1.0]]), np.array([[1.0, 3.0]])
    d1, v = pre.apply(v, g1)
    np.testing.assert_allclose(v, 0.1 * g1**2)
    np.testing.assert_allclose(d1, g1 / (np.sqrt(0.1 * g1**2) + 1e-8))
    d2, v = pre.apply(v, g2)
    v_expected = 0.9 * 0.1 * g1**2 + 0.1 * g2**2
    np.testing.assert_allclose(v, v_expected)
    np.testing.assert_allclose(d2, g2 / (np.sqrt(v_expected) + 1e-8))


def test_rmsprop_state_is_per_chain_and_reaches_noise_variance(rng):
    # Near the optimum of a noisy flat problem, v -> sigma_k^2 (the uncentred mean square).
    sig2 = np.array([0.25, 4.0])
    p = sgdsim.NoisyPotential(lambda x: 0 * x[..., 0], lambda x: 0 * x, sig2, minimizer=[0, 0])
    pre = sgdsim.RMSProp(beta=0.99)
    phi = np.zeros((3000, 2))
    v = pre.init(phi)
    for _ in range(2000):
        _, v = pre.apply(v, p.sample_grad(phi, 1, rng))
    m = v.mean(axis=0)
    # Var of the EMA of g^2 (chi-square, 2 sigma^4) is 2 sigma^4 (1-b)/(1+b); 3000 chains.
    se = np.sqrt(2 * sig2**2 * 0.01 / 1.99 / 3000)
    assert np.all(np.abs(m - sig2) <= 4 * se)


def test_rmsprop_v0_and_eps():
    pre = sgdsim.RMSProp(beta=0.5, eps=0.0, v0=[1.0, 4.0])
    v = pre.init(np.zeros((2, 2)))
    np.testing.assert_array_equal(v, [[1.0, 4.0], [1.0, 4.0]])


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: sgdsim.RMSProp(beta=1.0), "beta"),
        (lambda: sgdsim.RMSProp(beta=-0.1), "beta"),
        (lambda: sgdsim.RMSProp(eps=-1), "eps"),
        (lambda: sgdsim.RMSProp(eps=np.nan), "eps"),
        (lambda: sgdsim.RMSProp(v0=-1.0), "v0"),
        (lambda: sgdsim.Diagonal([1.0, -2.0]), "scales"),
        (lambda: sgdsim.Diagonal([]), "empty"),
    ],
)
def test_bad_preconditioners(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_diagonal_dimension_mismatch(quad2d, rng):
    with pytest.raises(ValueError, match="3 scales"):
        sgdsim.sgd(quad2d, [0, 0], 0.1, 3, rng=rng, preconditioner=[1.0, 1.0, 1.0])


# --- RMSProp details (chapter 5) -------------------------------------------------------------
def test_rmsprop_running_average_of_a_constant_gradient():
    # v_n = (1 - beta^n) g^2 from v0 = 0, so the step tends to sign(g) (with eps = 0)
    pre = sgdsim.RMSProp(beta=0.8, eps=0.0)
    v = pre.init(np.zeros((1, 2)))
    g = np.array([[3.0, -0.5]])
    for n in range(1, 30):
        d, v = pre.apply(v, g)
        np.testing.assert_allclose(v, (1 - 0.8**n) * g**2, rtol=1e-12)
    np.testing.assert_allclose(d, np.sign(g) / np.sqrt(1 - 0.8**29), rtol=1e-12)


def test_rmsprop_eps_and_beta_zero():
    g = np.array([[2.0, -1.0]])
    d, v = sgdsim.RMSProp(beta=0.0, eps=0.0).apply(np.zeros((1, 2)), g)
    np.testing.assert_allclose(v, g**2)
    np.testing.assert_allclose(d, np.sign(g))  # beta = 0 is sign descent
    d, _ = sgdsim.RMSProp(beta=0.0, eps=1.0).apply(np.zeros((1, 2)), g)
    np.testing.assert_allclose(d, g / (np.abs(g) + 1.0))
    # eps keeps a zero gradient (with v = 0) finite
    d, _ = sgdsim.RMSProp(beta=0.9).apply(np.zeros((1, 1)), np.zeros((1, 1)))
    assert np.all(np.isfinite(d)) and d[0, 0] == 0.0


def test_rmsprop_v0_enters_the_average():
    pre = sgdsim.RMSProp(beta=0.5, eps=0.0, v0=[4.0, 1.0])
    v = pre.init(np.zeros((3, 2)))
    d, v = pre.apply(v, np.array([[2.0, 1.0]] * 3))
    np.testing.assert_allclose(v, [[4.0, 1.0]] * 3)  # 0.5 * v0 + 0.5 * g^2
    np.testing.assert_allclose(d, [[1.0, 1.0]] * 3)
    with pytest.raises(ValueError):
        sgdsim.RMSProp(v0=[1.0, 2.0, 3.0]).init(np.zeros((2, 2)))


@pytest.mark.parametrize("kwargs", [dict(beta=np.inf), dict(beta=0.9, eps=np.inf),
                                    dict(v0=[[1.0]]), dict(v0=np.nan)])
def test_rmsprop_more_bad_input(kwargs):
    with pytest.raises(ValueError):
        sgdsim.RMSProp(**kwargs)


def test_dense_applies_matrix_and_validates():
    P = np.array([[2.0, 0.5], [0.5, 1.0]])
    pre = sgdsim.Dense(P)
    g = np.array([[1.0, -2.0], [0.5, 3.0]])
    assert pre.init(np.zeros((2, 2))) is None
    d, _ = pre.apply(None, g)
    np.testing.assert_allclose(d, (P @ g.T).T)
    with pytest.raises(ValueError, match="symmetric"):
        sgdsim.Dense([[1.0, 0.2], [0.0, 1.0]])
    with pytest.raises(ValueError, match="positive definite"):
        sgdsim.Dense([[1.0, 0.0], [0.0, 0.0]])
    with pytest.raises(ValueError, match="dim=3"):
        pre.init(np.zeros((1, 3)))


def test_chain_rates_equal_separate_deterministic_runs():
    # Without noise, SGD is gradient descent: each chain must follow GD at its own rate.
    prob = quad_potential(H2, 0.0)
    rates = np.array([0.1, 0.3, 0.5])
    tr = sgdsim.sgd(prob, [1.0, -1.0], 1.0, 20, chains=3, rng=0,
                    preconditioner=sgdsim.preconditioners.ChainRates(rates))
    for c, r in enumerate(rates):
        gd = sgdsim.gradient_descent(prob, [1.0, -1.0], r, 20)
        np.testing.assert_allclose(tr.phi[:, c], gd.phi[:, 0], rtol=1e-13, atol=1e-15)


def test_chain_rates_keep_inner_state_per_chain():
    pre = sgdsim.preconditioners.ChainRates([1.0, 2.0], sgdsim.RMSProp(beta=0.5, eps=0.0))
    v = pre.init(np.zeros((2, 1)))
    d, v = pre.apply(v, np.array([[2.0], [4.0]]))
    # v = 0.5 g^2, d = rate * g / sqrt(0.5 g^2) = rate * sqrt(2) * sign(g)
    np.testing.assert_allclose(v, [[2.0], [8.0]])
    np.testing.assert_allclose(d, [[np.sqrt(2)], [2 * np.sqrt(2)]])


def test_chain_rates_bad_input():
    with pytest.raises(ValueError, match=">= 0"):
        sgdsim.preconditioners.ChainRates([0.1, -0.1])
    with pytest.raises(ValueError, match="2 rates but there are 3 chains"):
        sgdsim.preconditioners.ChainRates([0.1, 0.2]).init(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="preconditioner"):
        sgdsim.preconditioners.ChainRates([0.1], inner="rmsprop")



# --- the centred running variance (chapter 5's practitioner's rule) --------------------------
def test_running_variance_matches_its_formula():
    from sgdsim.preconditioners import RunningVariance

    pre = RunningVariance(beta=0.8, eps=0.0, warmup=2)
    gs = np.array([[1.0, -2.0], [3.0, 0.5], [-1.0, 1.5], [2.0, 2.0], [0.5, -1.0]])
    state = pre.init(gs[:1])
    m, v = np.zeros(2), np.zeros(2)
    for t, g in enumerate(gs):
        d, state = pre.apply(state, g[None, :].copy())
        if t < 2:
            np.testing.assert_array_equal(d, 0.0)        # the warm-up only measures
        else:
            c = 1 - 0.8**t
            s2 = v / c - (m / c) ** 2                   # from the previous steps only
            np.testing.assert_allclose(d[0], g / s2, rtol=1e-12)
        m, v = 0.8 * m + 0.2 * g, 0.8 * v + 0.2 * g * g


def test_running_variance_tracks_the_centred_variance_far_from_the_optimum():
    # a constant mean gradient 10 with noise sd 0.5: RMSProp's v would be 100.25, the centred
    # estimate is ~0.25 (times 2β/(1+β) for the exponential weights), so d ≈ g / 0.25
    from sgdsim.preconditioners import RunningVariance

    rng = np.random.default_rng(0)
    pre = RunningVariance(beta=0.99)
    state = pre.init(np.zeros((4000, 1)))
    for _ in range(1500):
        g = 10.0 + 0.5 * rng.standard_normal((4000, 1))
        d, state = pre.apply(state, g)
    s2 = g / d
    expect = 0.25 * 2 * 0.99 / 1.99
    assert abs(np.median(s2) / expect - 1) < 0.05


def test_running_variance_validation_and_repr():
    from sgdsim.preconditioners import RunningVariance

    for kw in ({"beta": 1.0}, {"beta": -0.1}, {"eps": -1.0}, {"warmup": 0}):
        with pytest.raises(ValueError):
            RunningVariance(**kw)
    assert RunningVariance(beta=0.9).warmup == 10
    assert "RunningVariance(beta=0.99" in repr(RunningVariance())
