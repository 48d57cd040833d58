"""Tests of sgdsim.book.sgd_convergence against closed forms, and its input validation."""

import numpy as np
import pytest

import sgdsim
from sgdsim.book import sgd_convergence as convergence
from sgdsim.dynamics import Trajectory


def _quad1d(seed=3, n=100, h=2.0):
    g = np.random.default_rng(seed)
    return sgdsim.Quadratic(g.normal(size=n), h)


# -- sup_distance ---------------------------------------------------------------

def test_sup_distance_is_max_over_records_per_chain():
    t = np.array([0.0, 0.5, 1.0])
    ref = Trajectory(phi=np.zeros((3, 1, 2)), time=t, step=np.full(3, -1))
    phi = np.zeros((3, 2, 2))
    phi[1, 0] = [3.0, 4.0]   # chain 0: distance 5 at t = 0.5
    phi[2, 1] = [0.0, -2.0]  # chain 1: distance 2 at t = 1
    traj = Trajectory(phi=phi, time=t + 1e-13, step=np.arange(3))
    np.testing.assert_allclose(convergence.sup_distance(traj, ref), [5.0, 2.0])


def test_sup_distance_of_noiseless_sgd_is_euler_error(quad2d, rng):
    """With every example equal, SGD is gradient descent; its distance to the flow is O(eta)."""
    q = sgdsim.Quadratic(np.tile([1.0, -2.0], (4, 1)), quad2d.H)
    grid = np.linspace(0, 2, 11)
    flow = sgdsim.gradient_flow(q, [3.0, 1.0], grid, rtol=1e-12, atol=1e-14)
    d = []
    for m in (10, 20, 40):
        tr = sgdsim.sgd(q, [3.0, 1.0], 0.2 / m, 10 * m, chains=2, rng=rng, record_every=m)
        d.append(convergence.sup_distance(tr, flow)[0])
    ratios = np.array(d[:-1]) / np.array(d[1:])
    np.testing.assert_allclose(ratios, 2.0, rtol=0.05)  # first order in eta


def test_sup_distance_bad_input(quad2d, rng):
    tr = sgdsim.sgd(quad2d, [0.0, 0.0], 0.1, 10, chains=3, rng=rng, record_every=5)
    other = sgdsim.gradient_flow(quad2d, [0.0, 0.0], [0.0, 0.5, 1.5])
    with pytest.raises(ValueError, match="same times"):
        convergence.sup_distance(tr, other)
    two = sgdsim.sgd(quad2d, [0.0, 0.0], 0.1, 10, chains=2, rng=rng, record_every=5)
    with pytest.raises(ValueError, match="chains"):
        convergence.sup_distance(tr, two)
    with pytest.raises(TypeError, match="Trajectory"):
        convergence.sup_distance(np.zeros((3, 3, 2)), tr)


# -- block updates -------------------------------------------------------------

def test_block_updates_are_average_gradients(quad2d, rng):
    q = sgdsim.Quadratic(np.tile([1.0, -2.0], (3, 1)), quad2d.H)  # no noise: ghat = g
    tr = sgdsim.sgd(q, [3.0, 1.0], 0.01, 20, rng=rng, record_every=10)
    u = convergence.block_updates(tr)
    assert u.shape == (2, 1, 2)
    gd = sgdsim.gradient_descent(q, [3.0, 1.0], 0.01, 20, record_every=1).phi[:, 0]
    expected = q.grad(gd[:10]).mean(axis=0)
    np.testing.assert_allclose(u[0, 0], expected, rtol=1e-10)


def test_block_updates_bad_input():
    one = Trajectory(phi=np.zeros((1, 2, 2)), time=np.zeros(1), step=np.zeros(1))
    with pytest.raises(ValueError, match="two save points"):
        convergence.block_updates(one)
    flat = Trajectory(phi=np.zeros((2, 1, 1)), time=np.zeros(2), step=np.arange(2))
    with pytest.raises(ValueError, match="positive time"):
        convergence.block_updates(flat)


# -- stationary excess loss and its estimator ------------------------------------


# -- transient excess loss (relaxation after a change of rate) -------------------


def test_converged_loss_matches_exact_law_1d():
    q = _quad1d()
    eta, b = 0.2, 2
    est = convergence.converged_loss(q, eta, batch_size=b, chains=400, rng=5, burn_in=5.0, run_time=40.0, records=round((40.0) / 0.5))
    exact = q.minimum_loss() + sgdsim.laws.stationary_excess_loss(q.H, q.noise_cov(), eta, b)
    assert abs(est.value - exact) < 5 * est.stderr
    assert est.stderr < 0.05 * (exact - q.minimum_loss())


@pytest.mark.parametrize(
    "kwargs",
    [dict(lr=0.0), dict(t_burn=-1.0), dict(t_sample=0.0), dict(record_dt=0.0), dict(chains=1),
     dict(rng=None)],
)
def test_converged_loss_bad_input(kwargs):
    args = dict(lr=0.1, chains=4, rng=1, t_burn=1.0, t_sample=1.0)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError)):
        convergence.converged_loss(_quad1d(), **args)


# -- learning-rate drops ------------------------------------------------------------

@pytest.fixture
def logistic_pair():
    g = np.random.default_rng(2)
    x = np.c_[g.normal(size=(120, 2)), np.ones(120)]
    y = (x[:, 0] + 0.5 * g.normal(size=120) > 0).astype(float)
    return (sgdsim.LogisticRegression(x[:80], y[:80], l2=0.01),
            sgdsim.LogisticRegression(x[80:], y[80:]))


def test_train_with_drops_schedule_and_records(logistic_pair):
    train, val = logistic_pair
    run = convergence.train_with_drops(train, val, np.zeros(3), 0.5, 10, (2, 4), 6,
                                       batch_size=4, chains=3, rng=0, records_per_epoch=4)
    assert run.milestones == (2.0, 4.0) and run.epochs == 6.0
    assert run.train_loss.shape == run.val_loss.shape == (len(run.epoch), 3)
    np.testing.assert_allclose(run.epoch[[0, -1]], [0.0, 6.0])
    # the rate recorded at epoch e is the one the next step uses
    np.testing.assert_allclose(run.lr[run.epoch < 2], 0.5)
    np.testing.assert_allclose(run.lr[(run.epoch >= 2) & (run.epoch < 4)], 0.05)
    np.testing.assert_allclose(run.lr[run.epoch >= 4], 0.005)
    np.testing.assert_allclose(run.train_loss[0], train.loss(np.zeros(3)))
    np.testing.assert_allclose(run.val_loss[0], val.loss(np.zeros(3)))


def test_drop_run_plateaus_average_each_phase_tail(logistic_pair):
    train, val = logistic_pair
    run = convergence.train_with_drops(train, val, np.zeros(3), 0.5, 2, (2,), 4,
                                       batch_size=4, chains=2, rng=0, records_per_epoch=4)
    p = run.plateaus("train", fraction=0.5)
    assert p.shape == (2, 2)
    first = (run.epoch > 1.0 + 1e-9) & (run.epoch <= 2.0 + 1e-9)
    np.testing.assert_allclose(p[0], run.train_loss[first].mean(axis=0))
    np.testing.assert_allclose(run.plateaus("val")[1],
                               run.val_loss[run.epoch > 3.5 + 1e-9].mean(axis=0))
    with pytest.raises(ValueError, match="which"):
        run.plateaus("test")
    with pytest.raises(ValueError, match="fraction"):
        run.plateaus(fraction=0.0)
    sparse = convergence.DropRun(epoch=np.array([0.0, 0.5, 1.5, 4.0]),
                                 train_loss=np.ones((4, 2)), val_loss=np.ones((4, 2)),
                                 lr=np.ones(4), milestones=(2.0,), epochs=4.0)
    with pytest.raises(ValueError, match="save point"):
        sparse.plateaus(fraction=0.25)
    np.testing.assert_allclose(run.window(1.0, 2.0), p[0])
    with pytest.raises(ValueError, match="save point"):
        run.window(1.01, 1.02)
    with pytest.raises(ValueError, match="which"):
        run.window(0, 1, which="test")


def test_train_with_drops_constant_rate_has_one_phase(logistic_pair):
    train, val = logistic_pair
    run = convergence.train_with_drops(train, val, np.zeros(3), 0.5, 10, (), 2,
                                       batch_size=4, chains=2, rng=0)
    assert run.milestones == ()
    np.testing.assert_allclose(run.lr, 0.5)
    assert run.plateaus().shape == (1, 2)


def test_drops_lower_the_training_plateau(logistic_pair):
    train, val = logistic_pair
    run = convergence.train_with_drops(train, val, np.zeros(3), 1.0, 10, (10, 20), 30,
                                       batch_size=1, chains=20, rng=4)
    p = run.plateaus()
    d = sgdsim.chain_mean(p[0] - p[1])
    assert d.value > 4 * d.stderr


@pytest.mark.parametrize(
    "kwargs, err",
    [
        (dict(milestones=(4, 2)), ValueError),
        (dict(milestones=(0,)), ValueError),
        (dict(milestones=(7,)), ValueError),
        (dict(factor=1.0), ValueError),
        (dict(lr=-0.1), ValueError),
        (dict(epochs=0), ValueError),
        (dict(batch_size=0), ValueError),
        (dict(rng=None), TypeError),
    ],
)
def test_train_with_drops_bad_input(logistic_pair, kwargs, err):
    train, val = logistic_pair
    args = dict(lr=0.5, factor=10, milestones=(2, 4), epochs=6, batch_size=4, chains=2, rng=0)
    args.update(kwargs)
    with pytest.raises(err):
        convergence.train_with_drops(train, val, np.zeros(3), **args)


def test_train_with_drops_needs_matching_finite_sum(logistic_pair):
    train, _ = logistic_pair
    other = sgdsim.LogisticRegression(np.ones((5, 2)), np.array([0, 1, 0, 1, 1.0]))
    with pytest.raises(ValueError, match="same dim"):
        convergence.train_with_drops(train, other, np.zeros(3), 0.5, 10, (2,), 4, rng=0)
    noisy = sgdsim.double_well()
    with pytest.raises(TypeError, match="finite-sum"):
        convergence.train_with_drops(noisy, noisy, [0.0], 0.1, 10, (2,), 4, rng=0)


def test_step_drops_with_non_integer_factor_and_no_milestones():
    s = sgdsim.schedules.step_drops(1.0, 2.5, ())
    np.testing.assert_allclose(s(np.arange(4)), 1.0)
    s = sgdsim.schedules.step_drops(1.0, 2.5, (0, 2))
    np.testing.assert_allclose(s(np.arange(4)), [0.4, 0.4, 0.16, 0.16])


# -- display and pooling helpers of the chapter ------------------------------------

def test_pooled_ratio_is_the_inverse_variance_mean_of_ratios():
    from sgdsim.estimators import Estimate
    meas = [Estimate(2.2, 0.1), Estimate(3.9, 0.4)]
    pred = [2.0, 4.0]
    r = convergence.pooled_ratio(meas, pred)
    w = np.array([1 / 0.05**2, 1 / 0.1**2])
    np.testing.assert_allclose(r.value, (w @ [1.1, 0.975]) / w.sum())
    np.testing.assert_allclose(r.stderr, 1 / np.sqrt(w.sum()))
    assert convergence.worst_point(meas, pred) == 0   # 2 s.e. off vs 0.25


def test_loglog_slopes_of_a_power_law():
    from sgdsim.estimators import Estimate
    x = np.array([1.0, 2.0, 4.0, 8.0])
    est = [Estimate(3 * v**2, 0.01 * 3 * v**2) for v in x]
    np.testing.assert_allclose(convergence.loglog_fit_slope(x, est).coef[1], 2.0)
    np.testing.assert_allclose(convergence.exact_loglog_slope(x, 3 * x**2, est), 2.0)
