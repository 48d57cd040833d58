r"""How SGD converges: to gradient flow as the rate shrinks, to a cloud at a fixed rate.

Time is the sum of the rates used; trajectories are :class:`sgdsim.Trajectory` objects with
``phi`` of shape (records, chains, dim). Exact laws of the chapter are in :mod:`sgdsim.laws`
(:func:`~sgdsim.laws.block_update_law`, :func:`~sgdsim.laws.stationary_excess_loss`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import as_finite_array, as_generator, as_positive_int, as_rate
from ..datasets import breast_cancer, train_validation_split
from ..dynamics import sgd, stationary_samples
from ..estimators import Estimate, chain_mean, weighted_fit
from ..problems import LogisticRegression, Quadratic
from ..schedules import step_drops
from .ledger import ResultsTable  # noqa: F401 (re-exported: the chapter calls it here)
from .tz_theorem import headline_problem

__all__ = ["sup_distance", "block_updates", "converged_loss", "DropRun", "train_with_drops",
           "quadratic_problem", "drops_problems", "QUADRATIC_START", "epoch_averaged_excess",
           "reshuffle_excess_loss", "reshuffle_problem", "ResultsTable", "pooled_ratio",
           "worst_point", "loglog_fit_slope", "exact_loglog_slope"]


def _run_of(traj, name):
    """The states and times of a Trajectory, checked."""
    phi = getattr(traj, "phi", None)
    if phi is None:
        raise TypeError(f"{name} must be a Trajectory (from sgd, gradient_flow, ...)")
    return np.asarray(phi, dtype=float), as_finite_array(traj.time, f"{name}.time", ndim=1)


def sup_distance(traj, reference, *, rtol: float = 1e-9) -> np.ndarray:
    r""":math:`D_c = \max_j \|\Phi^{(c)}(t_j) - \Phi_{\mathrm{ref}}(t_j)\|` for every chain
    :math:`c` of ``traj``, shape (chains,).

    ``reference`` (one chain, or as many) must be recorded at the same times, up to ``rtol``
    (SGD's times are cumulative sums of rates). Against the flow, :math:`E D_c` shrinks like
    :math:`\sqrt\eta`.
    """
    a, ta = _run_of(traj, "traj")
    b, tb = _run_of(reference, "reference")
    if ta.shape != tb.shape or not np.allclose(ta, tb, rtol=rtol, atol=rtol * max(1.0, ta[-1])):
        raise ValueError(
            "traj and reference must be recorded at the same times; record SGD every m steps "
            "with rate T/(M m) and solve the flow on linspace(0, T, M + 1)")
    if b.shape[1] not in (1, a.shape[1]) or b.shape[2] != a.shape[2]:
        raise ValueError(f"reference has shape {b.shape}; it needs 1 or {a.shape[1]} chains "
                         f"of dim {a.shape[2]}")
    return np.linalg.norm(a - b, axis=-1).max(axis=0)


def block_updates(traj) -> np.ndarray:
    r"""The average update per unit time between consecutive records (one block each),

    .. math::
        u_j = \frac{\Phi(t_j) - \Phi(t_{j+1})}{t_{j+1} - t_j}
            = \frac{\sum_{k \in \text{block}} \eta_k\,\hat g_k}{\sum_{k \in \text{block}} \eta_k},

    shape (records - 1, chains, dim).
    """
    phi, time = _run_of(traj, "traj")
    if phi.shape[0] < 2:
        raise ValueError("block_updates needs at least two save points")
    dt = np.diff(time)
    if np.any(dt <= 0):
        raise ValueError("consecutive save points must be separated by a positive time")
    return (phi[:-1] - phi[1:]) / dt[:, None, None]


def converged_loss(problem, lr, *, chains, rng, burn_in, run_time, records=None, batch_size=1,
                   phi0=None) -> Estimate:
    r"""The converged loss :math:`\mathcal L(\eta) = E_{P_\eta}\mathcal L` at a fixed rate: the
    loss averaged over :func:`sgdsim.stationary_samples` (same arguments), ± over chains."""
    chains = as_positive_int(chains, "chains", minimum=2)
    run = stationary_samples(problem, lr, chains=chains, rng=rng, run_time=run_time,
                             burn_in=burn_in, records=records, batch_size=batch_size, phi0=phi0)
    return chain_mean(problem.loss(run.phi))


@dataclass(frozen=True)
class DropRun:
    """Training and validation loss (records, chains) of SGD with learning-rate drops.

    ``epoch`` is steps x B / n at the records, ``lr`` the rate of the step after each record,
    ``milestones`` the epochs of the drops, ``epochs`` the run's length.
    """

    epoch: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    lr: np.ndarray
    milestones: tuple
    epochs: float

    def _values(self, which):
        if which not in ("train", "val"):
            raise ValueError(f"which must be 'train' or 'val', got {which!r}")
        return self.train_loss if which == "train" else self.val_loss

    def window(self, start: float, stop: float, which: str = "train") -> np.ndarray:
        """Mean loss of each chain over the records at epochs in ``(start, stop]``."""
        values = self._values(which)
        tol = 1e-9 * max(1.0, self.epochs)
        sel = (self.epoch > float(start) + tol) & (self.epoch <= float(stop) + tol)
        if not sel.any():
            raise ValueError(f"no save point at epochs in ({start:g}, {stop:g}]; record more "
                             "often (records_per_epoch) or widen the window")
        return values[sel].mean(axis=0)

    def plateaus(self, which: str = "train", fraction: float = 0.25) -> np.ndarray:
        """Mean loss of each chain over the last ``fraction`` of every phase of constant rate
        (:meth:`window`), shape (phases, chains)."""
        self._values(which)
        f = float(fraction)
        if not 0 < f <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
        edges = (0.0,) + tuple(self.milestones) + (float(self.epochs),)
        return np.array([self.window(hi - f * (hi - lo), hi, which)
                         for lo, hi in zip(edges[:-1], edges[1:])])


def train_with_drops(train, validation, phi0, lr, factor, milestones, epochs, *,
                     batch_size=1, chains=None, rng, records_per_epoch=4) -> DropRun:
    r"""SGD on ``train`` whose rate :math:`\eta_0` = ``lr`` is divided by ``factor`` at each
    milestone (epochs, rounded to whole steps), recording the loss of ``train`` and of
    ``validation``. An epoch is :math:`\lfloor n/B \rfloor` steps; other arguments as in
    :func:`sgdsim.sgd`.
    """
    if getattr(validation, "dim", None) != train.dim:
        raise ValueError("train and validation problems must have the same dim")
    b = as_positive_int(batch_size, "batch_size")
    n = getattr(train, "n", None)
    if n is None:
        raise TypeError("train must be a finite-sum problem (with n examples) to count epochs")
    epochs = as_rate(epochs, "epochs")
    ms = tuple(float(m) for m in np.atleast_1d(as_finite_array(milestones, "milestones",
                                                                 ndim=(0, 1), allow_empty=True)))
    if any(not 0 < m < epochs for m in ms) or list(ms) != sorted(set(ms)):
        raise ValueError(f"milestones must be increasing epochs in (0, {epochs:g}), got {ms}")
    steps_per_epoch = max(1, n // b)
    every = max(1, steps_per_epoch // as_positive_int(records_per_epoch, "records_per_epoch"))
    steps = int(round(epochs * steps_per_epoch))
    schedule = step_drops(lr, factor, tuple(int(round(m * steps_per_epoch)) for m in ms))
    traj = sgd(train, phi0, schedule, steps, batch_size=b, chains=chains, rng=rng,
               record_every=every)
    return DropRun(epoch=traj.step / steps_per_epoch, train_loss=train.loss(traj.phi),
                   val_loss=validation.loss(traj.phi),
                   lr=schedule(np.minimum(traj.step, max(steps - 1, 0))),
                   milestones=tuple(m / steps_per_epoch for m in schedule.milestones),
                   epochs=steps / steps_per_epoch)


#: Where the chapter starts SGD and the flow on its quadratic.
QUADRATIC_START = (-2.0, 2.5)


def quadratic_problem(seed: int = 31230) -> Quadratic:
    """The chapter's 2-D quadratic: 200 examples, one tilted Hessian (eigenvalues ~0.3, 1.7)."""
    centers = np.random.default_rng(seed).normal(size=(200, 2)) * [1.0, 0.6] + [1.0, -0.5]
    return Quadratic(centers, [[1.5, 0.5], [0.5, 0.5]])


def drops_problems(seed: int = 7) -> tuple[LogisticRegression, LogisticRegression]:
    """The breast-cancer data split 80/20 with ``seed``: (training loss with ridge 0.03,
    validation loss without)."""
    x, y = breast_cancer()
    xt, yt, xv, yv = train_validation_split(x, y, 0.2, rng=np.random.default_rng(seed))
    return LogisticRegression(xt, yt, l2=0.03), LogisticRegression(xv, yv)


#: The reshuffling section's 1-D quadratic: the TZ chapter's headline problem (slope 0.894).
reshuffle_problem = headline_problem


def _coprime_stride(m: int, target: int) -> int:
    """The smallest stride >= ``target`` that shares no factor with ``m``."""
    r = max(1, int(target))
    while math.gcd(r, m) != 1:
        r += 1
    return r


def epoch_averaged_excess(problem, lr, *, sampling, chains, rng, burn_in, run_time,
                          batch_size=1, phi0=None, records=200) -> Estimate:
    r"""Mean excess loss of SGD at a fixed rate, averaged evenly over the positions in an epoch.

    With ``sampling="reshuffle"`` the law of :math:`\Phi_k` is periodic over an epoch of
    :math:`m = \lfloor n/B\rfloor` steps, so records are spaced by a stride coprime to
    :math:`m` and cover every position equally often (about ``records`` per chain over about
    ``run_time``, after ``burn_in`` rounded up to whole epochs; start ``phi0``, default
    :math:`\Phi^*`). ``sampling="replacement"`` samples the stationary law the same way.
    """
    eta = float(lr)
    b = as_positive_int(batch_size, "batch_size")
    chains = as_positive_int(chains, "chains", minimum=2)
    m = problem.n // b
    gen = as_generator(rng)
    star = problem.minimizer()
    start = star if phi0 is None else np.asarray(phi0, dtype=float)
    burn_epochs = int(math.ceil(float(burn_in) / (eta * m)))
    phi = np.broadcast_to(start, (chains, problem.dim)).copy()
    if burn_epochs:
        phi = sgd(problem, phi, eta, burn_epochs * m, batch_size=b, rng=gen,
                  record_every=burn_epochs * m, sampling=sampling).final
    total = max(1, int(math.ceil(float(run_time) / eta)))
    epochs = max(1, int(round(int(records) / m)))  # each position recorded `epochs` times
    stride = _coprime_stride(m, max(1, int(round(total / (m * epochs)))))
    run = sgd(problem, phi, eta, stride * m * epochs, batch_size=b, rng=gen,
              record_every=stride, sampling=sampling)
    phi = run.phi[1:]
    loss = problem.loss(phi.reshape(-1, phi.shape[-1])).reshape(phi.shape[:-1])
    return chain_mean(loss - problem.loss(star))


def reshuffle_excess_loss(hessian, noise_cov, n, lr, batch_size=1) -> float:
    r"""Exact epoch-averaged excess loss of SGD with random reshuffling on a quadratic.

    For :math:`\mathcal L_i = \tfrac12(\Phi - a_i)^\top H(\Phi - a_i)` the batch noises
    :math:`\bar\xi_j` of one epoch are negatively correlated,
    :math:`E\,\bar\xi_j\bar\xi_l^\top = -\Sigma/(n-1) + \delta_{jl}\,n\Sigma/(B(n-1))`. With
    :math:`A = I - \eta H` the state :math:`j` steps into an epoch has noise covariance

    .. math::
        \eta^2 Q_j, \qquad Q_j = \frac{n}{B(n-1)}\sum_{l<j}A^l\Sigma A^l
        - \frac{1}{n-1}\,S_j\,\Sigma\,S_j, \quad S_j = \sum_{l<j} A^l ,

    the epoch-start covariance solves :math:`V = A^m V A^m + \eta^2 Q_m`, and the result is
    :math:`\frac1m\sum_{j<m}\tfrac12\operatorname{tr}\bigl(H(A^jVA^j + \eta^2Q_j)\bigr)`,
    :math:`\approx \eta^2 m\operatorname{tr}(H\Sigma)/(12B)` for
    :math:`\eta m\lambda_{\max} \ll 1`. ``noise_cov`` is
    :math:`\Sigma = \frac1n\sum_i \xi_i\xi_i^\top`, :math:`\xi_i = H(a_i - \bar a)`.
    """
    h = np.atleast_2d(np.asarray(hessian, dtype=float))
    s = np.atleast_2d(np.asarray(noise_cov, dtype=float))
    n = as_positive_int(n, "n", minimum=2)
    b = as_positive_int(batch_size, "batch_size")
    if b > n:
        raise ValueError(f"batch_size must be <= n = {n}")
    eta = float(lr)
    m = n // b
    lam, u = np.linalg.eigh(h)
    a = 1.0 - eta * lam
    if np.any(np.abs(a) >= 1):
        raise ValueError(f"lr = {eta:g} is not stable for this Hessian")
    st = u.T @ s @ u  # Sigma in the eigenbasis of H
    j = np.arange(m + 1)[:, None]
    apow = a[None, :] ** j  # (m+1, dim): a^j
    pair = np.outer(a, a)
    # sum_{l<j} (a_p a_q)^l and sum_{l<j} a_p^l, for j = 0..m
    with np.errstate(divide="ignore", invalid="ignore"):
        geo2 = np.where(np.abs(1 - pair) > 1e-14,
                        (1 - pair[None] ** j[:, :, None]) / (1 - pair[None]), j[:, :, None])
    s1 = np.cumsum(np.r_[np.zeros((1, a.size)), apow[:-1]], axis=0)
    q = ((n / (b * (n - 1))) * geo2 * st[None]
         - (1.0 / (n - 1)) * s1[:, :, None] * st[None] * s1[:, None, :])
    am = a ** m
    v = eta**2 * q[m] / (1.0 - np.outer(am, am))  # V = A^m V A^m + eta^2 Q_m, diagonal basis
    diag = (apow[:m] ** 2) * np.diag(v)[None, :] + eta**2 * np.diagonal(q[:m], axis1=1, axis2=2)
    return float(0.5 * np.mean(diag @ lam))


def pooled_ratio(measured, predicted) -> Estimate:
    r"""Inverse-variance weighted mean of the ratios :math:`m_k/p_k` of independent estimates
    (a common relative bias shows with the pooled error; check the :func:`worst_point` too)."""
    r = np.array([m.value / p for m, p in zip(measured, predicted)])
    se = np.array([m.stderr / abs(p) for m, p in zip(measured, predicted)])
    w = 1.0 / se**2
    return Estimate(float(np.sum(w * r) / np.sum(w)), float(1.0 / np.sqrt(np.sum(w))))


def worst_point(measured, predicted) -> int:
    """Index of the measurement farthest from its prediction, in standard errors."""
    return int(np.argmax([abs(m.value - p) / m.stderr for m, p in zip(measured, predicted)]))


def loglog_fit_slope(x, estimates):
    """Weighted least-squares fit of ``log value`` against ``log x`` (delta-method errors);
    its ``estimate(1)`` is the slope."""
    v = np.array([e.value for e in estimates])
    s = np.array([e.stderr for e in estimates])
    return weighted_fit(np.log(np.asarray(x, dtype=float)), np.log(v), s / v)


def exact_loglog_slope(x, values, like) -> float:
    """The slope :func:`loglog_fit_slope` fits to exact ``values`` with the weights of the
    estimates ``like``: the prediction for a fitted slope over a finite range."""
    rel = np.array([e.stderr / e.value for e in like])
    return float(weighted_fit(np.log(np.asarray(x, dtype=float)), np.log(np.asarray(values)),
                              rel).coef[1])
