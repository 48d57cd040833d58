import numpy as np
import pytest
from scipy.linalg import expm

import sgdsim


def test_gradient_flow_matches_exact_quadratic_solution(quad2d):
    phi0 = np.array([[3.0, 2.0], [-1.0, 0.0]])
    times = np.linspace(0, 5, 11)
    traj = sgdsim.gradient_flow(quad2d, phi0, times, rtol=1e-12, atol=1e-14)
    star = quad2d.minimizer()
    exact = np.stack([star + (phi0 - star) @ expm(-quad2d.H * t).T for t in times])
    assert traj.phi.shape == (11, 2, 2)
    np.testing.assert_allclose(traj.phi, exact, atol=1e-11)
    np.testing.assert_array_equal(traj.time, times)


def test_gradient_flow_zero_time_and_bad_times(quad2d):
    traj = sgdsim.gradient_flow(quad2d, [1.0, 1.0], [0.0, 0.0])
    np.testing.assert_array_equal(traj.phi[:, 0], [[1.0, 1.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="non-decreasing"):
        sgdsim.gradient_flow(quad2d, [1.0, 1.0], [0.0, 2.0, 1.0])


def test_gradient_descent_is_exact_euler_on_quadratic(quad2d):
    eta, steps = 0.1, 30
    traj = sgdsim.gradient_descent(quad2d, [3.0, 2.0], eta, steps, record_every=10)
    star = quad2d.minimizer()
    a = np.eye(2) - eta * quad2d.H
    for rec, k in enumerate(traj.step):
        expected = star + np.linalg.matrix_power(a, int(k)) @ (np.array([3.0, 2.0]) - star)
        np.testing.assert_allclose(traj.phi[rec, 0], expected, rtol=1e-12)
    np.testing.assert_array_equal(traj.step, [0, 10, 20, 30])
    np.testing.assert_allclose(traj.time, eta * traj.step)


def test_sgd_time_is_cumulative_rate_and_records(quad2d, rng):
    sched = sgdsim.schedules.step_drops(0.1, 10, (5,))
    traj = sgdsim.sgd(quad2d, [0.0, 0.0], sched, 12, chains=3, rng=rng, record_every=4)
    np.testing.assert_array_equal(traj.step, [0, 4, 8, 12])
    np.testing.assert_allclose(traj.time, [0, 0.4, 0.5 + 0.03, 0.5 + 0.07])
    assert traj.phi.shape == (4, 3, 2)
    assert traj.final.shape == (3, 2) and len(traj) == 4
    assert traj.loss(quad2d).shape == (4, 3)


def test_sgd_without_noise_equals_gradient_descent(rng):
    q = sgdsim.Quadratic(np.tile([1.0, 2.0], (5, 1)), [[1.0, 0.2], [0.2, 0.5]])
    a = sgdsim.sgd(q, [0.0, 0.0], 0.3, 20, rng=rng).phi[:, 0]
    b = sgdsim.gradient_descent(q, [0.0, 0.0], 0.3, 20).phi[:, 0]
    np.testing.assert_allclose(a, b, rtol=1e-13)


def test_sgd_is_reproducible_and_uses_the_generator():
    q = sgdsim.Quadratic(np.arange(10.0), 1.0)
    a = sgdsim.sgd(q, [0.0], 0.1, 50, chains=4, rng=np.random.default_rng(5)).phi
    b = sgdsim.sgd(q, [0.0], 0.1, 50, chains=4, rng=5).phi
    c = sgdsim.sgd(q, [0.0], 0.1, 50, chains=4, rng=6).phi
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("batch", [1, 3])
def test_sgd_stationary_variance_matches_exact_law(batch, rng):
    # 1-D quadratic: Var = eta * s2 / (B h (2 - eta h)), exact at every eta.
    centers = np.random.default_rng(0).normal(size=100)
    h, eta = 2.0, 0.2
    q = sgdsim.Quadratic(centers, h)
    s2 = q.noise_cov()[0, 0]
    traj = sgdsim.sgd(q, q.minimizer(), eta, 600, batch_size=batch, chains=4000, rng=rng,
                      record_every=10)
    x = (traj.phi[10:, :, 0] - q.minimizer()[0]) ** 2  # burn-in 100 steps >> 1/(eta h)
    est = sgdsim.chain_mean(x)
    exact = eta * s2 / (batch * h * (2 - eta * h))
    assert abs(est.value - exact) <= 4 * est.stderr
    np.testing.assert_allclose(exact, sgdsim.sgd_stationary_cov(h, s2, eta, batch)[0, 0])


def test_sgd_diagonal_preconditioner_equals_per_parameter_rates(rng):
    q = sgdsim.Quadratic(np.random.default_rng(1).normal(size=(40, 2)), np.diag([1.0, 3.0]))
    scales = np.array([2.0, 0.5])
    a = sgdsim.sgd(q, [1.0, 1.0], 0.1, 30, rng=np.random.default_rng(2), preconditioner=scales)
    b = sgdsim.sgd(q, [1.0, 1.0], 0.1, 30, rng=np.random.default_rng(2),
                   preconditioner=sgdsim.Diagonal(scales))
    np.testing.assert_array_equal(a.phi, b.phi)
    # Noise-free check against explicit per-coordinate GD.
    q0 = sgdsim.Quadratic(np.zeros((3, 2)) + 1.0, np.diag([1.0, 3.0]))
    c = sgdsim.sgd(q0, [0.0, 0.0], 0.1, 5, rng=rng, preconditioner=scales).final[0]
    np.testing.assert_allclose(c, 1 - (1 - 0.1 * scales * [1.0, 3.0]) ** 5, rtol=1e-13)


def test_divergence_is_reported_with_the_stability_limit(quad2d, rng):
    limit = quad2d.max_stable_lr()
    with pytest.raises(sgdsim.DivergenceError, match=f"2/lambda_max = {limit:.4g}"):
        sgdsim.gradient_descent(quad2d, [3.0, 2.0], 1.1 * limit, 2000)
    with pytest.raises(sgdsim.DivergenceError, match="SGD diverged at step"):
        sgdsim.sgd(quad2d, [3.0, 2.0], 1.1 * limit, 2000, rng=rng, record_every=1000)
    # Just below the limit nothing is raised.
    sgdsim.gradient_descent(quad2d, [3.0, 2.0], 0.95 * limit, 2000, record_every=1000)


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(lr=-0.1), ValueError, "negative"),
        (dict(lr=np.nan), ValueError, "NaN"),
        (dict(lr=np.inf), ValueError, "infinite"),
        (dict(lr=np.ones(3)), ValueError, "one rate per step"),
        (dict(lr=lambda k: -k), ValueError, "schedule.*negative"),
        (dict(steps=-1), ValueError, "steps"),
        (dict(steps=2.5), TypeError, "steps"),
        (dict(phi0=np.ones(3)), ValueError, "dim=2"),
        (dict(phi0=np.ones((4, 2)), chains=3), ValueError, "disagrees"),
        (dict(batch_size=0), ValueError, "batch_size"),
        (dict(record_every=0), ValueError, "record_every"),
        (dict(rng=None), TypeError, "rng is required"),
        (dict(rng="seed"), TypeError, "Generator"),
        (dict(preconditioner=[1.0, -1.0]), TypeError, "preconditioner"),
        (dict(max_norm=0), ValueError, "max_norm"),
        (dict(chains=10**6, steps=100), MemoryError, "record_every"),
    ],
)
def test_sgd_bad_input(quad2d, kwargs, err, match):
    args = dict(phi0=[0.0, 0.0], lr=0.1, steps=10, rng=1)
    args.update(kwargs)
    with pytest.raises(err, match=match):
        sgdsim.sgd(quad2d, args.pop("phi0"), args.pop("lr"), args.pop("steps"), **args)


def test_langevin_brownian_motion_variance(rng):
    # g = 0, Sigma = s2: Var Phi(t) = eta * s2 * t exactly for Euler-Maruyama.
    flat = sgdsim.NoisyPotential(lambda p: 0 * p[..., 0], lambda p: 0 * p, 2.0)
    eta, t = 0.05, 4.0
    traj = sgdsim.langevin(flat, [0.0], eta, t, 0.01, chains=20000, rng=rng, record_every=100)
    var = traj.final[:, 0].var(ddof=1)
    exact = eta * 2.0 * t
    se = exact * np.sqrt(2 / (20000 - 1))
    assert abs(var - exact) <= 4 * se
    np.testing.assert_allclose(traj.time, [0, 1, 2, 3, 4])


def test_langevin_ou_stationary_variance_exact_for_em(rng):
    # dx = -h x dt + sqrt(eta s2) dW; EM has Var = eta s2 dt / (1 - (1 - h dt)^2).
    h, s2, eta, dt = 1.5, 0.8, 0.1, 0.05
    p = sgdsim.NoisyPotential(lambda x: 0.5 * h * x[..., 0] ** 2, lambda x: h * x, s2,
                              minimizer=[0.0])
    traj = sgdsim.langevin(p, [0.0], eta, 20.0, dt, chains=2000, rng=rng, record_every=20)
    est = sgdsim.chain_mean(traj.phi[10:, :, 0] ** 2)
    exact = eta * s2 * dt / (1 - (1 - h * dt) ** 2)
    assert abs(est.value - exact) <= 4 * est.stderr
    # and the continuous-time limit eta s2 / (2h) is within O(dt) of it
    assert abs(exact - eta * s2 / (2 * h)) < h * dt * exact


def test_langevin_state_dependent_noise_uses_noise_cov(rng):
    p = sgdsim.LinearRegression(np.random.default_rng(0).normal(size=(30, 2)), np.ones(30))
    traj = sgdsim.langevin(p, [0.5, 0.5], 0.1, 0.2, 0.01, chains=5, rng=rng)
    assert traj.phi.shape == (21, 5, 2)


def test_langevin_bad_input(quad2d, rng):
    with pytest.raises(ValueError, match="whole number"):
        sgdsim.langevin(quad2d, [0, 0], 0.1, 1.0, 0.3, rng=rng)
    with pytest.raises(ValueError, match="> 0"):
        sgdsim.langevin(quad2d, [0, 0], 0.1, 1.0, -0.1, rng=rng)
    with pytest.raises(ValueError, match="negative"):
        sgdsim.langevin(quad2d, [0, 0], -0.1, 1.0, 0.1, rng=rng)
    with pytest.raises(sgdsim.DivergenceError, match="Lower the dt"):
        sgdsim.langevin(quad2d, [3, 2], 0.1, 100.0, 1.0, rng=rng)


def test_divergence_error_carries_the_step_and_rate(quad2d):
    lam = np.linalg.eigvalsh(quad2d.hessian()).max()
    with pytest.raises(sgdsim.DivergenceError) as info:
        sgdsim.gradient_descent(quad2d, np.ones((1, 2)), 2.5 / lam, 2000)
    assert isinstance(info.value.step, int) and 0 < info.value.step <= 2000
    assert info.value.lr == pytest.approx(2.5 / lam)


def test_stationary_samples_shapes_and_arguments(quad2d):
    d = sgdsim.stationary_samples(quad2d, 0.1, rng=0, chains=5, run_time=2.0, records=4).phi
    assert d.shape == (4, 5, 2)
    d = sgdsim.stationary_samples(quad2d, 0.1, rng=0, chains=5, run_time=2.0).phi
    assert d.shape[1:] == (5, 2) and 20 <= d.shape[0] <= 2000
    with pytest.raises(ValueError, match="run_time"):
        sgdsim.stationary_samples(quad2d, 0.1, rng=0, chains=5, run_time=0.0)
    with pytest.raises(TypeError, match="rng"):
        sgdsim.stationary_samples(quad2d, 0.1, rng=None, chains=5, run_time=1.0)
    with pytest.raises(ValueError, match="lr"):
        sgdsim.stationary_samples(quad2d, -0.1, rng=0, chains=5, run_time=1.0)



# -- sampling="reshuffle": random reshuffling, one permutation per chain and epoch --------

def test_reshuffle_visits_every_example_once_per_epoch():
    """With H = 1 and rate 1, SGD jumps onto its batch's mean centre: the path reveals the batches.

    Centres 2^i make every batch mean identify its examples: the centres used in an epoch
    sum to sum_i 2^i exactly when every example is used exactly once (binary representation).
    """
    n, b = 12, 3
    q = sgdsim.Quadratic(2.0 ** np.arange(n), 1.0)
    tr = sgdsim.sgd(q, [0.0], 1.0, 5 * (n // b), batch_size=b, chains=7, rng=3,
                    sampling="reshuffle")
    used = b * tr.phi[1:, :, 0].reshape(5, n // b, 7)        # (epoch, step, chain): batch sums
    np.testing.assert_array_equal(used.sum(axis=1), 2.0**n - 1)
    # consecutive epochs (and chains) use different orders
    assert len({tuple(used[e, :, c]) for e in range(5) for c in range(7)}) > 30


def test_reshuffle_orders_are_uniform_permutations():
    """The position of example 0 in a chain's first epoch is uniform over the n positions."""
    n, chains = 8, 4000
    q = sgdsim.Quadratic(np.arange(n, dtype=float), 1.0)
    tr = sgdsim.sgd(q, [0.5], 1.0, n, chains=chains, rng=11, sampling="reshuffle")
    pos = np.argmax(tr.phi[1:, :, 0] == 0.0, axis=0)
    counts = np.bincount(pos, minlength=n)
    expected = chains / n
    chi2 = np.sum((counts - expected) ** 2 / expected)
    assert chi2 < 30.0  # 7 degrees of freedom: P(chi2 > 30) ~ 1e-4


def test_reshuffle_drops_the_remainder_and_restarts_each_call():
    n, b = 10, 4   # two batches per epoch; 2 examples left out of each epoch
    q = sgdsim.Quadratic(2.0 ** np.arange(n), 1.0)
    tr = sgdsim.sgd(q, [0.0], 1.0, 2, batch_size=b, chains=50, rng=5, sampling="reshuffle")
    sums = (b * tr.phi[1:, :, 0]).astype(np.int64)
    assert np.all((sums[0] & sums[1]) == 0)                 # no example twice in an epoch
    assert np.all(np.array([bin(int(s)).count("1") for s in sums.ravel()]) == b)


def test_reshuffle_matches_an_independent_loop():
    """The exact law of one reshuffled epoch: a plain per-chain loop over rng.permutation."""
    n = 6
    c = np.array([0.3, -1.2, 2.0, 0.7, -0.4, 1.1])
    q = sgdsim.Quadratic(c, 1.5)
    eta, chains = 0.2, 20000
    lib = sgdsim.sgd(q, [1.0], eta, n, chains=chains, rng=21, sampling="reshuffle").final[:, 0]
    gen = np.random.default_rng(99)
    ref = np.empty(chains)
    for k in range(chains):                                   # different stream, same law
        x = 1.0
        for i in gen.permutation(n):
            x -= eta * 1.5 * (x - c[i])
        ref[k] = x
    for f in (lambda x: x, lambda x: x**2):
        a, r = f(lib), f(ref)
        se = np.hypot(a.std() / np.sqrt(chains), r.std() / np.sqrt(chains))
        assert abs(a.mean() - r.mean()) < 4.5 * se


def test_sampling_default_is_replacement_and_unchanged(quad2d):
    a = sgdsim.sgd(quad2d, [1.0, 2.0], 0.05, 40, chains=3, rng=8)
    b = sgdsim.sgd(quad2d, [1.0, 2.0], 0.05, 40, chains=3, rng=8, sampling="replacement")
    np.testing.assert_array_equal(a.phi, b.phi)
    # and the same draws as the per-step sample_grad calls it always made
    gen = np.random.default_rng(8)
    phi = np.tile([1.0, 2.0], (3, 1))
    for _ in range(40):
        phi = phi - 0.05 * quad2d.sample_grad(phi, 1, gen)
    np.testing.assert_array_equal(a.final, phi)


def test_sampling_bad_input(quad2d, rng):
    with pytest.raises(ValueError, match="sampling"):
        sgdsim.sgd(quad2d, [0, 0], 0.1, 5, rng=rng, sampling="without")
    p = sgdsim.double_well()
    with pytest.raises(ValueError, match="finite-sum"):
        sgdsim.sgd(p, [0.0], 0.1, 5, rng=rng, sampling="reshuffle")
    with pytest.raises(ValueError, match="batch_size"):
        sgdsim.sgd(quad2d, [0, 0], 0.1, 5, batch_size=51, rng=rng, sampling="reshuffle")
