r"""How SGD converges: to gradient flow as the rate shrinks, to a cloud at a fixed rate.

The machinery of the chapter "SGD convergence":

* :func:`sup_distance` -- the largest distance between SGD and the gradient
  flow over a common set of save times (SGD's time is the sum of its rates);
* :func:`block_updates` and :func:`block_update_law` -- the average update in a
  block of steps, and its exact mean and covariance on a quadratic (the
  lecture's "blocks of :math:`\sqrt N` steps" argument);
* :func:`stationary_excess_loss` -- the exact converged excess loss
  :math:`\mathcal L(\eta) - \mathcal L(\Phi^*)` of SGD on a quadratic, and
  :func:`transient_excess_loss`, its exact relaxation towards that level after
  a change of rate;
* :func:`train_with_drops` -- train with a piecewise-constant rate that is divided
  at milestones (the ResNet recipe) and record training and validation loss;
  :meth:`DropRun.plateaus` averages each phase's tail.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_finite_array, as_positive_int, as_symmetric_psd
from .estimators import Estimate, chain_mean
from .schedules import step_drops
from .stationary import sgd_stationary_cov

__all__ = [
    "sup_distance",
    "block_updates",
    "block_update_law",
    "stationary_excess_loss",
    "transient_excess_loss",
    "converged_loss",
    "DropRun",
    "train_with_drops",
]


def _phi_of(traj, name):
    phi = getattr(traj, "phi", None)
    if phi is None:
        raise TypeError(f"{name} must be a Trajectory (from sgd, gradient_flow, ...)")
    return np.asarray(phi, dtype=float)


def sup_distance(traj, reference, *, rtol: float = 1e-9) -> np.ndarray:
    r"""Largest Euclidean distance between two runs over their common save times.

    .. math::
        D_c = \max_j \bigl\|\Phi^{(c)}(t_j) - \Phi_{\mathrm{ref}}(t_j)\bigr\|,

    one value per chain :math:`c` of ``traj``. With ``reference`` the gradient
    flow from the same start, :math:`D_c` is the sup-distance between SGD and the
    flow on the grid :math:`\{t_j\}`; the mean of :math:`D_c` over chains shrinks
    like :math:`\sqrt{\eta}` as the rate :math:`\eta \to 0`.

    Parameters
    ----------
    traj : Trajectory
        Shape ``(records, chains, dim)``, e.g. from :func:`sgdsim.sgd`.
    reference : Trajectory
        Recorded at the same times, with one chain (broadcast) or ``chains`` chains.
    rtol : float
        Relative tolerance on the agreement of the two time grids (SGD's times are
        cumulative sums of rates, so they carry rounding error).

    Returns
    -------
    numpy.ndarray, shape (chains,)
    """
    a = _phi_of(traj, "traj")
    b = _phi_of(reference, "reference")
    ta = as_finite_array(traj.time, "traj.time", ndim=1)
    tb = as_finite_array(reference.time, "reference.time", ndim=1)
    if ta.shape != tb.shape or not np.allclose(ta, tb, rtol=rtol, atol=rtol * max(1.0, ta[-1])):
        raise ValueError(
            "traj and reference must be recorded at the same times; record SGD every m steps "
            "with rate T/(M m) and solve the flow on linspace(0, T, M + 1)"
        )
    if b.shape[1] not in (1, a.shape[1]) or b.shape[2] != a.shape[2]:
        raise ValueError(
            f"reference has shape {b.shape}; it needs 1 or {a.shape[1]} chains of dim {a.shape[2]}"
        )
    return np.linalg.norm(a - b, axis=-1).max(axis=0)


def block_updates(traj) -> np.ndarray:
    r"""The average update per unit time between consecutive save points.

    For save points :math:`j` and :math:`j+1` that enclose the steps of one block,

    .. math::
        u_j = \frac{\Phi(t_j) - \Phi(t_{j+1})}{t_{j+1} - t_j}
            = \frac{\sum_{k \in \text{block}} \eta_k\,\hat g_k}{\sum_{k \in \text{block}} \eta_k},

    the rate-weighted average of the stochastic gradients used in the block
    (with a constant rate, their plain average).

    Parameters
    ----------
    traj : Trajectory
        Record the run with ``record_every`` = the block length.

    Returns
    -------
    numpy.ndarray, shape (records - 1, chains, dim)
    """
    phi = _phi_of(traj, "traj")
    time = as_finite_array(traj.time, "traj.time", ndim=1)
    if phi.shape[0] < 2:
        raise ValueError("block_updates needs at least two save points")
    dt = np.diff(time)
    if np.any(dt <= 0):
        raise ValueError("consecutive save points must be separated by a positive time")
    return (phi[:-1] - phi[1:]) / dt[:, None, None]


def block_update_law(hessian, noise_cov, displacement, dt, block, batch_size=1):
    r"""Exact mean and covariance of the average update of a block of SGD steps on a quadratic.

    On :math:`\mathcal L(\Phi) = \tfrac12 (\Phi-\Phi^*)^\top H (\Phi-\Phi^*) + c` with
    additive gradient noise of covariance :math:`\Sigma/B`, SGD with constant rate
    :math:`\Delta t` is :math:`e_{k+1} = A e_k - \Delta t\,\xi_k`, :math:`A = I - \Delta t\,H`,
    :math:`e_k = \Phi_k - \Phi^*`. The average update over a block of :math:`L` steps
    started at :math:`e_0`, :math:`u = (e_0 - e_L)/(L\,\Delta t)`, has

    .. math::
        E\,u = \frac{(I - A^L)\,e_0}{L\,\Delta t}, \qquad
        \operatorname{Cov} u = \frac{1}{L^2} \sum_{m=0}^{L-1} A^m\,\frac{\Sigma}{B}\,A^m .

    As the block's time :math:`L\Delta t \to 0`, :math:`E\,u \to H e_0 = g(\Phi_0)`
    and :math:`\operatorname{Cov} u \to \Sigma/(BL)`: the average update is the
    gradient plus noise whose variance falls like one over the block length.

    Parameters
    ----------
    hessian, noise_cov : array_like, shape (dim, dim)
        :math:`H` (symmetric) and :math:`\Sigma` (symmetric PSD).
    displacement : array_like, shape (dim,)
        :math:`e_0 = \Phi_0 - \Phi^*` at the block's start.
    dt : float > 0
        The constant rate :math:`\Delta t`.
    block : int >= 1
        :math:`L`.
    batch_size : int >= 1
        :math:`B`.

    Returns
    -------
    mean : numpy.ndarray, shape (dim,)
    cov : numpy.ndarray, shape (dim, dim)
    """
    h = as_symmetric_psd(np.atleast_2d(hessian), "hessian")
    d = h.shape[0]
    s = as_symmetric_psd(np.atleast_2d(noise_cov), "noise_cov", dim=d)
    e0 = as_finite_array(np.atleast_1d(displacement), "displacement", shape=(d,))
    dt = float(as_finite_array(dt, "dt", ndim=0))
    if not dt > 0:
        raise ValueError(f"dt must be > 0, got {dt!r}")
    L = as_positive_int(block, "block")
    b = as_positive_int(batch_size, "batch_size")
    a = np.eye(d) - dt * h
    powers = np.empty((L, d, d))
    powers[0] = np.eye(d)
    for m in range(1, L):  # L matrix products of size dim x dim; L is a block length
        powers[m] = powers[m - 1] @ a
    a_L = powers[-1] @ a
    mean = (np.eye(d) - a_L) @ e0 / (L * dt)
    cov = np.einsum("mij,jk,mlk->il", powers, s / b, powers) / L**2
    return mean, 0.5 * (cov + cov.T)


def stationary_excess_loss(hessian, noise_cov, lr, batch_size=1):
    r"""Exact converged excess loss :math:`\mathcal L(\eta) - \mathcal L(\Phi^*)` of SGD on a quadratic.

    At a constant rate :math:`\eta` SGD on a quadratic with additive noise reaches a
    stationary law with mean :math:`\Phi^*` and covariance :math:`C_\eta`
    (:func:`sgdsim.sgd_stationary_cov`), so

    .. math:: \mathcal L(\eta) - \mathcal L(\Phi^*) = \tfrac12 \operatorname{tr}(H\,C_\eta).

    In 1-D this is :math:`\eta\,\Sigma / (2B\,(2 - \eta h))`.

    Parameters
    ----------
    hessian, noise_cov : array_like, shape (dim, dim) or scalars in 1-D
    lr : float or array_like
        Rates in :math:`(0, 2/\lambda_{\max})`.
    batch_size : int

    Returns
    -------
    float or numpy.ndarray shaped like ``lr``
    """
    h = as_symmetric_psd(np.atleast_2d(hessian), "hessian", definite=True)
    rates = as_finite_array(lr, "lr", ndim=(0, 1))
    out = np.array([0.5 * np.trace(h @ sgd_stationary_cov(h, noise_cov, float(r), batch_size))
                    for r in np.atleast_1d(rates)])
    return float(out[0]) if rates.ndim == 0 else out


def transient_excess_loss(hessian, noise_cov, lr, steps, cov0, displacement=None, batch_size=1):
    r"""Exact mean excess loss of SGD on a quadratic, step by step, from a given start law.

    On :math:`\mathcal L(\Phi) = \tfrac12 (\Phi-\Phi^*)^\top H (\Phi-\Phi^*) + c` with
    additive gradient noise of covariance :math:`\Sigma/B`, SGD at the constant rate
    :math:`\eta` moves the mean :math:`m_k = E\,\Phi_k - \Phi^*` and the covariance
    :math:`C_k` of its iterate by

    .. math::
        m_{k+1} = A\,m_k, \qquad C_{k+1} = A\,C_k\,A + \eta^2\,\Sigma/B, \qquad A = I - \eta H,

    whatever the law of the noise. With :math:`C_\infty` the stationary covariance
    (:func:`sgdsim.sgd_stationary_cov`), :math:`C_k = C_\infty + A^k (C_0 - C_\infty) A^k`, so

    .. math::
        E\,\mathcal L(\Phi_k) - \mathcal L(\Phi^*)
        = \tfrac12 \operatorname{tr}(H C_\infty)
          + \tfrac12 \sum_i h_i\,a_i^{2k}\bigl(D_{ii} + (U^\top m_0)_i^2\bigr),

    with :math:`H = U \operatorname{diag}(h) U^\top`, :math:`a_i = 1 - \eta h_i` and
    :math:`D = U^\top (C_0 - C_\infty) U`. This is how the excess loss relaxes after a
    learning-rate drop, started from the stationary law of the previous rate
    (``cov0 = sgd_stationary_cov(H, Sigma, previous_rate, B)``).

    Parameters
    ----------
    hessian, noise_cov : array_like, shape (dim, dim)
        :math:`H` (symmetric positive definite) and :math:`\Sigma` (symmetric PSD).
    lr : float
        The new constant rate, in :math:`(0, 2/\lambda_{\max})`.
    steps : int >= 0
        Number of SGD steps.
    cov0 : array_like, shape (dim, dim)
        :math:`C_0`, the covariance of the start (symmetric PSD).
    displacement : array_like, shape (dim,), optional
        :math:`m_0 = E\,\Phi_0 - \Phi^*`; default 0.
    batch_size : int >= 1
        :math:`B`.

    Returns
    -------
    numpy.ndarray, shape (steps + 1,)
        The mean excess loss after :math:`k = 0, \ldots,` ``steps`` steps.
    """
    h = as_symmetric_psd(np.atleast_2d(hessian), "hessian", definite=True)
    d = h.shape[0]
    c0 = as_symmetric_psd(np.atleast_2d(cov0), "cov0", dim=d)
    m0 = (np.zeros(d) if displacement is None
          else as_finite_array(np.atleast_1d(displacement), "displacement", shape=(d,)))
    steps = as_positive_int(steps, "steps", minimum=0)
    c_inf = sgd_stationary_cov(h, noise_cov, lr, batch_size)  # validates lr, noise_cov, B
    w, u = np.linalg.eigh(h)
    a2 = (1.0 - float(lr) * w) ** 2
    weight = 0.5 * w * (np.diag(u.T @ (c0 - c_inf) @ u) + (u.T @ m0) ** 2)
    k = np.arange(steps + 1)[:, None]
    return 0.5 * np.trace(h @ c_inf) + (a2[None, :] ** k * weight[None, :]).sum(axis=1)


def converged_loss(problem, lr, *, batch_size=1, chains, rng, t_burn, t_sample, phi0=None,
                   record_dt=0.5) -> Estimate:
    r"""Estimate the converged loss :math:`\mathcal L(\eta) = E_{P_\eta}\,\mathcal L` of SGD at a fixed rate.

    Runs ``chains`` independent SGD chains at the constant rate :math:`\eta` from
    ``phi0`` (default: the minimizer), discards the burn-in (the first ``t_burn``
    units of time :math:`t = k\eta`), records the training loss every
    ``record_dt`` units of time during the next ``t_sample`` and averages. The
    standard error comes from the spread of the per-chain time averages
    (:func:`sgdsim.chain_mean`), valid whatever the autocorrelation.

    Times are in units of the sum of rates, so the same ``t_burn`` relaxes the
    chain equally far at every rate (relaxation takes a time of order
    :math:`1/\lambda_{\min}(H)`, i.e. :math:`1/(\eta\lambda_{\min})` steps).

    Parameters
    ----------
    problem : Problem
    lr : float > 0
        :math:`\eta`.
    batch_size : int
    chains : int >= 2
    rng : numpy.random.Generator or int
    t_burn : float >= 0
    t_sample : float > 0
    phi0 : array_like, optional
        Start; default ``problem.minimizer()``.
    record_dt : float > 0
        Time between recorded losses (at least one step).

    Returns
    -------
    Estimate
        :math:`\mathcal L(\eta)` with its standard error.
    """
    from .dynamics import sgd

    eta = float(as_finite_array(lr, "lr", ndim=0))
    if not eta > 0:
        raise ValueError(f"lr must be > 0 for a stationary law, got {lr!r}")
    t_burn = float(as_finite_array(t_burn, "t_burn", ndim=0))
    t_sample = float(as_finite_array(t_sample, "t_sample", ndim=0))
    record_dt = float(as_finite_array(record_dt, "record_dt", ndim=0))
    if t_burn < 0 or not t_sample > 0 or not record_dt > 0:
        raise ValueError("need t_burn >= 0, t_sample > 0 and record_dt > 0")
    chains = as_positive_int(chains, "chains", minimum=2)
    k_burn = int(round(t_burn / eta))
    every = max(1, int(round(record_dt / eta)))
    k_sample = max(every, int(round(t_sample / eta)))
    start = problem.minimizer() if phi0 is None else phi0
    traj = sgd(problem, start, eta, k_burn + k_sample, batch_size=batch_size, chains=chains,
               rng=rng, record_every=every)
    keep = traj.step > k_burn
    return chain_mean(problem.loss(traj.phi[keep]))


@dataclass(frozen=True)
class DropRun:
    """Training and validation loss of SGD with learning-rate drops.

    Attributes
    ----------
    epoch : numpy.ndarray, shape (records,)
        Passes over the training set at the save points (steps x B / n).
    train_loss, val_loss : numpy.ndarray, shape (records, chains)
    lr : numpy.ndarray, shape (records,)
        The rate used by the step right after each save point (the last one repeats).
    milestones : tuple of float
        The epochs at which the rate was divided.
    epochs : float
        Length of the run in epochs.
    schedule : sgdsim.schedules.step_drops
        The schedule in steps.
    """

    epoch: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    lr: np.ndarray
    milestones: tuple
    epochs: float
    schedule: step_drops

    def _values(self, which):
        if which not in ("train", "val"):
            raise ValueError(f"which must be 'train' or 'val', got {which!r}")
        return self.train_loss if which == "train" else self.val_loss

    def window(self, start: float, stop: float, which: str = "train") -> np.ndarray:
        """Mean loss of each chain over the save points at epochs in ``(start, stop]``.

        Returns
        -------
        numpy.ndarray, shape (chains,)
        """
        values = self._values(which)
        tol = 1e-9 * max(1.0, self.epochs)
        sel = (self.epoch > float(start) + tol) & (self.epoch <= float(stop) + tol)
        if not sel.any():
            raise ValueError(
                f"no save point at epochs in ({start:g}, {stop:g}]; record more often "
                "(records_per_epoch) or widen the window"
            )
        return values[sel].mean(axis=0)

    def plateaus(self, which: str = "train", fraction: float = 0.25) -> np.ndarray:
        r"""Mean loss of each chain over the last ``fraction`` of every phase.

        A phase is a stretch of constant rate: :math:`[0, m_1), [m_1, m_2), \ldots,
        [m_K, \text{epochs}]`. The plateau of phase :math:`p` for chain :math:`c` is
        the mean of the recorded loss at epochs in
        :math:`(e_{p+1} - f\,(e_{p+1}-e_p),\ e_{p+1}]` (see :meth:`window`).

        Returns
        -------
        numpy.ndarray, shape (phases, chains)
        """
        self._values(which)
        f = float(fraction)
        if not 0 < f <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
        edges = (0.0,) + tuple(self.milestones) + (float(self.epochs),)
        return np.array([self.window(hi - f * (hi - lo), hi, which)
                         for lo, hi in zip(edges[:-1], edges[1:])])


def train_with_drops(train, validation, phi0, lr, factor, milestones, epochs, *,
                     batch_size=1, chains=None, rng, records_per_epoch=4) -> DropRun:
    r"""Run SGD whose rate is divided by ``factor`` at each milestone; record both losses.

    The rate is :math:`\eta_k = \eta_0/\text{factor}^{m(k)}` with :math:`m(k)` the
    number of milestones passed (:class:`sgdsim.schedules.step_drops`), the recipe
    of He et al. (2016), who divide by 10. An epoch is :math:`\lfloor n/B \rfloor`
    steps of minibatches of :math:`B` examples drawn with replacement.

    Parameters
    ----------
    train, validation : Problem
        The training problem that SGD minimizes and a problem on held-out data whose
        ``loss`` is recorded (same ``dim``).
    phi0 : array_like, shape (dim,) or (chains, dim)
    lr : float > 0
        :math:`\eta_0`.
    factor : float > 1
        Division at each milestone.
    milestones : sequence of float
        Increasing epochs in ``(0, epochs)``, each a whole number of steps after
        rounding (they are rounded to the nearest step).
    epochs : float > 0
    batch_size, chains, rng
        As in :func:`sgdsim.sgd`.
    records_per_epoch : int
        Save points per epoch.

    Returns
    -------
    DropRun
    """
    from .dynamics import sgd

    if getattr(validation, "dim", None) != train.dim:
        raise ValueError("train and validation problems must have the same dim")
    b = as_positive_int(batch_size, "batch_size")
    n = getattr(train, "n", None)
    if n is None:
        raise TypeError("train must be a finite-sum problem (with n examples) to count epochs")
    epochs = float(as_finite_array(epochs, "epochs", ndim=0))
    if not epochs > 0:
        raise ValueError(f"epochs must be > 0, got {epochs!r}")
    ms = tuple(float(m) for m in np.atleast_1d(as_finite_array(milestones, "milestones",
                                                                 ndim=(0, 1), allow_empty=True)))
    if any(not 0 < m < epochs for m in ms) or list(ms) != sorted(set(ms)):
        raise ValueError(f"milestones must be increasing epochs in (0, {epochs:g}), got {ms}")
    steps_per_epoch = max(1, n // b)
    rpe = as_positive_int(records_per_epoch, "records_per_epoch")
    every = max(1, steps_per_epoch // rpe)
    steps = int(round(epochs * steps_per_epoch))
    schedule = step_drops(lr, factor, tuple(int(round(m * steps_per_epoch)) for m in ms))
    traj = sgd(train, phi0, schedule, steps, batch_size=b, chains=chains, rng=rng,
               record_every=every)
    rates = schedule(np.minimum(traj.step, max(steps - 1, 0)))
    return DropRun(
        epoch=traj.step / steps_per_epoch,
        train_loss=train.loss(traj.phi),
        val_loss=validation.loss(traj.phi),
        lr=rates,
        milestones=tuple(m / steps_per_epoch for m in schedule.milestones),
        epochs=steps / steps_per_epoch,
        schedule=schedule,
    )

