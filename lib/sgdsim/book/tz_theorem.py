r"""The TZ theorem: the converged loss of constant-rate SGD grows like :math:`\eta\,E_i\|g_i\|^2/4`.

Near a minimizer :math:`\Phi^*` write :math:`\Delta = \Phi - \Phi^*` and take the
second-order model of every example's loss,

.. math::
    \mathcal L_i(\Phi^* + \Delta) = \mathcal L_i(\Phi^*) + g_i^\top\Delta
    + \tfrac12 \Delta^\top H_i \Delta, \qquad E_i g_i = 0,\quad \bar H = E_i H_i \succ 0 .

SGD with batch size :math:`B` (examples drawn with replacement) moves the model as
:math:`\Delta' = \Delta - \eta(\hat g + \hat H \Delta)`, with :math:`\hat g, \hat H` the batch
means. Its stationary law :math:`P_\eta` has mean 0 and a second moment :math:`S` that solves the
*generalized* discrete Lyapunov equation

.. math::
    S = (I - \eta\bar H)\,S\,(I - \eta\bar H) + \frac{\eta^2}{B}\Bigl(
        E_i[(H_i - \bar H)\,S\,(H_i - \bar H)] + E_i[g_i g_i^\top]\Bigr),

so that the excess loss is exactly :math:`\mathcal L(\eta) - \mathcal L^* = \tfrac12\operatorname{tr}(\bar H S)`
and its slope at :math:`\eta = 0` is :math:`E_i\|g_i\|^2/(4B)`. When every :math:`H_i = \bar H`
(additive noise) the extra term vanishes and :math:`S` is
:func:`sgdsim.laws.sgd_stationary_cov`.

This module provides the model (:class:`SecondOrderModel`, built from a problem by
:func:`second_order_model`), simulation helpers that measure :math:`\mathcal L(\eta) - \mathcal L^*`
on a ladder of rates with honest standard errors (:func:`stationary_ladder`,
:func:`excess_loss_ladder`, on :func:`sgdsim.stationary_samples`), the chapter's 1-D problem (:func:`headline_problem`) and a one-rate stationary-variance
check in slope units (:func:`headline_slope`, not a measured derivative), the eigendirection
laws behind "why 1/4" (:func:`direction_law`) and the :math:`\eta/B` scaling runs
(:func:`scaling_runs`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .._validation import as_finite_array, as_generator, as_positive_int, as_rate
from ..dynamics import sgd, stationary_samples
from ..estimators import Estimate, Fit, autocorr_time, chain_mean, weighted_fit
from ..laws import excess_loss as _quadratic_excess
from ..problems import LinearRegression, Problem, Quadratic

__all__ = [
    "SecondOrderModel",
    "second_order_model",
    "excess_loss",
    "Ladder",
    "stationary_ladder",
    "excess_loss_ladder",
    "headline_problem",
    "headline_slope",
    "cloud_problem",
    "simulate_cloud",
    "with_curvature",
    "eigendirections",
    "direction_variances",
    "direction_law",
    "ScalingRuns",
    "scaling_runs",
]


# ---------------------------------------------------------------------------
# Per-example Hessians and the second-order model
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SecondOrderModel:
    r"""The second-order model of a finite sum at a minimizer, and its exact SGD laws.

    Attributes
    ----------
    g : numpy.ndarray, shape (n, dim)
        Per-example gradients :math:`g_i` at :math:`\Phi^*` (their mean must vanish).
    H : numpy.ndarray, shape (n, dim, dim)
        Per-example Hessians :math:`H_i` at :math:`\Phi^*`.
    loss_min : float
        :math:`\mathcal L(\Phi^*)`.
    """

    g: np.ndarray
    H: np.ndarray
    loss_min: float = 0.0

    def __post_init__(self):
        g = as_finite_array(self.g, "g", ndim=2)
        n, d = g.shape
        h = as_finite_array(self.H, "H", shape=(n, d, d))
        if not np.allclose(h, np.swapaxes(h, -1, -2), rtol=0,
                           atol=1e-12 * max(1.0, float(np.abs(h).max()))):
            raise ValueError("every H_i must be symmetric")
        hbar = h.mean(axis=0)
        lam = np.linalg.eigvalsh(hbar)
        if lam[0] <= 1e-12 * max(1.0, lam[-1]):
            raise ValueError(
                "E_i H_i must be positive definite (smallest eigenvalue "
                f"{lam[0]:.3g}): along a flat direction SGD has no stationary law"
            )
        scale = math.sqrt(max(float(np.mean(np.sum(g**2, axis=1))), 0.0))
        gbar = g.mean(axis=0)
        if np.linalg.norm(gbar) > 1e-8 * scale + 1e-12:
            raise ValueError(
                f"E_i g_i must vanish at a minimizer, but |E_i g_i| = {np.linalg.norm(gbar):.3g}"
            )
        loss_min = float(as_finite_array(self.loss_min, "loss_min", ndim=0))
        object.__setattr__(self, "g", g)
        object.__setattr__(self, "H", h)
        object.__setattr__(self, "loss_min", loss_min)
        # Moments used by the exact laws.
        object.__setattr__(self, "_hbar", hbar)
        object.__setattr__(self, "_sigma", g.T @ g / n)
        object.__setattr__(self, "_m1", np.einsum("nij,nj->i", h, g) / n)  # E_i H_i g_i
        object.__setattr__(self, "_m2", np.einsum("nij,njk->ik", h, h) / n)  # E_i H_i^2

    # -- basic quantities ------------------------------------------------------
    @property
    def n(self) -> int:
        return self.g.shape[0]

    @property
    def dim(self) -> int:
        return self.g.shape[1]

    @property
    def hessian(self) -> np.ndarray:
        r""":math:`\bar H = E_i H_i`."""
        return self._hbar.copy()

    @property
    def noise_cov(self) -> np.ndarray:
        r""":math:`\Sigma = E_i g_i g_i^\top`, the single-example gradient covariance at :math:`\Phi^*`."""
        return self._sigma.copy()

    @property
    def mean_sq_grad(self) -> float:
        r""":math:`E_i\|g_i\|^2 = \operatorname{tr}\Sigma`."""
        return float(np.trace(self._sigma))

    def slope(self, batch_size: int = 1) -> float:
        r"""The TZ slope :math:`E_i\|g_i\|^2 / (4B)`."""
        return self.mean_sq_grad / (4.0 * as_positive_int(batch_size, "batch_size"))

    def _delta(self, delta) -> np.ndarray:
        arr = np.asarray(delta, dtype=float)
        if arr.ndim == 0 or arr.shape[-1] != self.dim:
            raise ValueError(f"delta must have shape (..., {self.dim}), got {arr.shape}")
        return arr

    # -- functions of samples Delta (shape (..., dim)) -------------------------------
    def quadratic_part(self, delta) -> np.ndarray:
        r""":math:`\tfrac12\Delta^\top\bar H\Delta`, the model's excess loss at :math:`\Phi^*+\Delta`."""
        d = self._delta(delta)
        return 0.5 * np.einsum("...i,ij,...j->...", d, self._hbar, d)

    def model_loss(self, delta) -> np.ndarray:
        r"""The model :math:`E_i[\mathcal L_i + g_i^\top\Delta + \tfrac12\Delta^\top H_i\Delta]`."""
        d = self._delta(delta)
        return self.loss_min + d @ self.g.mean(axis=0) + self.quadratic_part(d)

    def grad_energy(self, delta, batch_size: int = 1) -> np.ndarray:
        r"""Mean squared model gradient of a fresh batch, :math:`E_b\|\hat g + \hat H\Delta\|^2`.

        With :math:`v_i = g_i + H_i\Delta` (mean :math:`\bar H\Delta`) and a batch of
        :math:`B` examples drawn with replacement,
        :math:`E\|\hat v\|^2 = \|\bar H\Delta\|^2 + \tfrac1B(E_i\|v_i\|^2 - \|\bar H\Delta\|^2)`,
        and :math:`E_i\|v_i\|^2 = E_i\|g_i\|^2 + 2\Delta^\top E_i[H_i g_i] + \Delta^\top E_i[H_i^2]\Delta`.
        """
        d = self._delta(delta)
        b = as_positive_int(batch_size, "batch_size")
        single = (self.mean_sq_grad + 2.0 * d @ self._m1
                  + np.einsum("...i,ij,...j->...", d, self._m2, d))
        hd = d @ self._hbar
        mean_sq = np.sum(hd * hd, axis=-1)
        return mean_sq + (single - mean_sq) / b

    def next_second_moment(self, delta, lr, batch_size: int = 1) -> np.ndarray:
        r"""Exact :math:`E_b\|\Delta - \eta(\hat g + \hat H\Delta)\|^2` given :math:`\Delta`.

        Expanding the square, it is :math:`\|\Delta\|^2 - 2\eta\,\Delta^\top\bar H\Delta
        + \eta^2 E_b\|\hat g+\hat H\Delta\|^2` (the cross term with :math:`\hat g`
        vanishes because the batch is drawn independently of :math:`\Delta` and
        :math:`E_i g_i = 0`).
        """
        d = self._delta(delta)
        eta = as_rate(lr)
        return (np.sum(d * d, axis=-1) - 4.0 * eta * self.quadratic_part(d)
                + eta**2 * self.grad_energy(d, batch_size))

    def linear_term(self, delta, *, rng, lr=None) -> np.ndarray:
        r"""Monte Carlo draws of the linear term :math:`g_i^\top\Delta` with one random example per sample.

        With ``lr=None`` the example :math:`i` is *fresh* (independent of :math:`\Delta`),
        so the draws average to :math:`(E_i g_i)^\top E\Delta = 0`. With ``lr`` given, it
        returns :math:`g_i^\top\Delta'` after the step :math:`\Delta' = \Delta - \eta(g_i + H_i\Delta)`
        made *with that same example*, whose mean is :math:`-\eta E_i\|g_i\|^2 - \eta E_i[g_i^\top H_i]E\Delta`:
        the example just used is not independent of the state.
        """
        d = self._delta(delta)
        idx = as_generator(rng).integers(0, self.n, size=d.shape[:-1])
        gi = self.g[idx]
        if lr is None:
            return np.sum(gi * d, axis=-1)
        eta = as_rate(lr)
        step = d - eta * (gi + np.einsum("...ij,...j->...i", self.H[idx], d))
        return np.sum(gi * step, axis=-1)

    # -- exact stationary laws ---------------------------------------------------
    def _operator(self, lr, batch_size):
        """The linear map S -> E[(I - eta H_b) S (I - eta H_b)] as a (d*d, d*d) matrix."""
        eta = as_rate(lr)
        b = as_positive_int(batch_size, "batch_size")
        d = self.dim
        a = np.eye(d) - eta * self._hbar
        # vec(M S M) = (M kron M) vec(S) for symmetric M (row-major vec).
        op = np.kron(a, a)
        dev = (self.H - self._hbar).reshape(self.n, d * d)
        k = (dev.T @ dev / self.n).reshape(d, d, d, d).transpose(0, 2, 1, 3).reshape(d * d, d * d)
        return op + (eta**2 / b) * k

    def mean_square_radius(self, lr, batch_size: int = 1) -> float:
        r"""Spectral radius of the second-moment map; SGD is mean-square stable iff it is < 1."""
        return float(np.max(np.abs(np.linalg.eigvals(self._operator(lr, batch_size)))))

    def max_stable_lr(self, batch_size: int = 1) -> float:
        r"""Largest :math:`\eta` below which the second moment of SGD stays bounded.

        With additive noise it is :math:`2/\lambda_{\max}(\bar H)`; per-example
        Hessians lower it (in 1-D: :math:`2\bar h / (\bar h^2 + \operatorname{Var}(h_i)/B)`).
        """
        from scipy.optimize import brentq

        hi = 2.0 / np.linalg.eigvalsh(self._hbar)[-1]
        grid = hi * np.linspace(1e-3, 1.0, 400)
        rad = np.array([self.mean_square_radius(e, batch_size) for e in grid[:-1]] + [np.inf])
        k = int(np.argmax(rad >= 1.0))
        if k == len(grid) - 1:
            return float(hi)
        lo = grid[k - 1] if k > 0 else 0.0
        return float(brentq(lambda e: self.mean_square_radius(e, batch_size) - 1.0, lo, grid[k],
                            xtol=1e-12 * hi))

    def stationary_cov(self, lr, batch_size: int = 1) -> np.ndarray:
        r"""Exact stationary second moment :math:`S` of SGD on the model (its mean is 0).

        Solves the generalized Lyapunov equation in the module docstring as a
        linear system of size :math:`d^2`.

        Raises
        ------
        ValueError
            If ``lr`` is not mean-square stable (no stationary law with finite variance).
        """
        eta = as_rate(lr)
        b = as_positive_int(batch_size, "batch_size")
        op = self._operator(eta, b)
        rho = float(np.max(np.abs(np.linalg.eigvals(op))))
        if not (eta > 0 and rho < 1.0):
            raise ValueError(
                f"lr={lr!r} has no stationary law with finite variance: the second-moment map "
                f"has spectral radius {rho:.4g} >= 1 (lower the rate; see max_stable_lr)"
            )
        d = self.dim
        rhs = (eta**2 / b) * self._sigma.reshape(-1)
        s = np.linalg.solve(np.eye(d * d) - op, rhs).reshape(d, d)
        return 0.5 * (s + s.T)

    def excess_loss(self, lr, batch_size: int = 1) -> float:
        r"""Exact :math:`\mathcal L(\eta) - \mathcal L^* = \tfrac12\operatorname{tr}(\bar H S)` on the model."""
        return _quadratic_excess(self._hbar, self.stationary_cov(lr, batch_size))

    def mean_grad_energy(self, lr, batch_size: int = 1) -> float:
        r"""Exact :math:`E_{\Delta\sim P_\eta} E_b\|\hat g + \hat H\Delta\|^2` (the proof's step 4).

        It equals :math:`\tfrac1B(E_i\|g_i\|^2 + \operatorname{tr}(E_i[H_i^2]S))
        + (1-\tfrac1B)\operatorname{tr}(\bar H^2 S)` and tends to :math:`E_i\|g_i\|^2/B` as
        :math:`\eta\to0`.
        """
        b = as_positive_int(batch_size, "batch_size")
        s = self.stationary_cov(lr, b)
        return float((self.mean_sq_grad + np.trace(self._m2 @ s)) / b
                     + (1.0 - 1.0 / b) * np.trace(self._hbar @ self._hbar @ s))


def second_order_model(problem, phi=None) -> SecondOrderModel:
    r"""The :class:`SecondOrderModel` of a finite-sum problem at its minimizer (or at ``phi``).

    For :class:`~sgdsim.Quadratic` and :class:`~sgdsim.LinearRegression` the model *is* the
    loss, so every law of the model is exact for SGD on the problem; for other losses it
    is the local (small-:math:`\eta`) description.
    """
    if not hasattr(problem, "example_hessians"):
        raise TypeError(f"{type(problem).__name__} is not a finite sum: the second-order model "
                        "needs per-example gradients and Hessians (use Quadratic, "
                        "LinearRegression or LogisticRegression)")
    phi = problem.minimizer() if phi is None else as_finite_array(phi, "phi", shape=(problem.dim,))
    return SecondOrderModel(g=problem.example_grads(phi), H=problem.example_hessians(phi),
                            loss_min=float(problem.loss(phi)))


# ---------------------------------------------------------------------------
# Simulation: the excess-loss ladder
# ---------------------------------------------------------------------------


def excess_loss(problem, delta, *, loss_min=None, chunk=2_000_000) -> np.ndarray:
    r""":math:`\mathcal L(\Phi^* + \Delta) - \mathcal L(\Phi^*)` for samples ``delta`` of shape ``(..., dim)``.

    Quadratic losses use the exact quadratic form :math:`\tfrac12\Delta^\top H\Delta`
    (no cancellation error); other finite sums are evaluated on all examples, in
    chunks of about ``chunk`` numbers so that memory stays bounded.
    """
    delta = np.asarray(delta, dtype=float)
    if delta.ndim == 0 or delta.shape[-1] != problem.dim:
        raise ValueError(f"delta must have shape (..., {problem.dim}), got {delta.shape}")
    if isinstance(problem, (Quadratic, LinearRegression)):
        h = problem.hessian()
        return 0.5 * np.einsum("...i,ij,...j->...", delta, h, delta)
    phi_star = problem.minimizer()
    lmin = problem.minimum_loss() if loss_min is None else float(loss_min)
    flat = delta.reshape(-1, problem.dim)
    per = max(1, int(chunk // max(1, getattr(problem, "n", 1))))
    out = np.empty(flat.shape[0])
    for s in range(0, flat.shape[0], per):
        out[s:s + per] = problem.loss(phi_star + flat[s:s + per]) - lmin
    return out.reshape(delta.shape[:-1])


@dataclass(frozen=True)
class Ladder:
    r"""A stationary average measured on a ladder of rates, with standard errors."""

    lr: np.ndarray  #: the rates :math:`\eta_j`
    mean: np.ndarray  #: chain means of the statistic at each rate
    stderr: np.ndarray  #: their standard errors (spread over independent chains)
    batch_size: int = 1

    def fit(self, powers=(1, 2)) -> Fit:
        r"""Weighted fit :math:`\sum_p c_p \eta^p`; the default has no constant term
        because the excess loss vanishes at :math:`\eta = 0`."""
        return weighted_fit(self.lr, self.mean, self.stderr, powers=powers)

    def slope(self, powers=(1, 2)) -> Estimate:
        r"""The fitted slope at :math:`\eta = 0`: the coefficient of :math:`\eta^1`."""
        powers = tuple(int(p) for p in powers)
        if 1 not in powers:
            raise ValueError("powers must include 1 to estimate a slope")
        return self.fit(powers).estimate(powers.index(1))


def stationary_ladder(problem, lrs, statistics, *, rng, chains, run_time, burn_in=None,
                      records=None, batch_size=1, phi0=None) -> dict:
    r"""Stationary averages of several statistics at every rate of ``lrs``.

    Every rate gets its own independent chains (so the points of a ladder are
    independent, as :func:`sgdsim.weighted_fit` assumes); each chain's time average
    after burn-in is one draw and the standard error is the spread of the draws
    (:func:`sgdsim.chain_mean`). The run arguments are those of
    :func:`sgdsim.stationary_samples`.

    Parameters
    ----------
    statistics : dict of str -> callable
        ``f(delta, lr)`` maps samples of shape ``(records, chains, dim)`` to values of
        shape ``(records, chains)``.

    Returns
    -------
    dict of str -> Ladder
    """
    lrs = as_finite_array(lrs, "lrs", ndim=1)
    if not statistics or not all(callable(f) for f in statistics.values()):
        raise TypeError("statistics must be a non-empty dict of callables f(delta, lr)")
    gen = as_generator(rng)
    b = as_positive_int(batch_size, "batch_size")
    out = {name: ([], []) for name in statistics}
    for eta in lrs:
        run = stationary_samples(problem, eta, rng=gen, chains=chains, run_time=run_time,
                                 burn_in=burn_in, records=records, batch_size=b, phi0=phi0)
        delta = run.phi - problem.minimizer()
        for name, f in statistics.items():
            est = chain_mean(f(delta, float(eta)))
            out[name][0].append(est.value)
            out[name][1].append(est.stderr)
    return {name: Ladder(lr=lrs.copy(), mean=np.array(m), stderr=np.array(s), batch_size=b)
            for name, (m, s) in out.items()}


def excess_loss_ladder(problem, lrs, *, rng, chains, run_time, burn_in=None,
                       records=None, batch_size=1, phi0=None) -> Ladder:
    r"""Measure :math:`\mathcal L(\eta) - \mathcal L^*` at every rate of ``lrs`` (see :func:`stationary_ladder`)."""
    lmin = problem.minimum_loss()
    stats = {"excess": lambda d, eta: excess_loss(problem, d, loss_min=lmin)}
    return stationary_ladder(problem, lrs, stats, rng=rng, chains=chains, run_time=run_time,
                             burn_in=burn_in, records=records,
                             batch_size=batch_size, phi0=phi0)["excess"]


# ---------------------------------------------------------------------------
# The chapter's headline: the slope on a 1-D quadratic, precisely
# ---------------------------------------------------------------------------
HEADLINE_SEED = 31230


def headline_problem() -> Quadratic:
    r"""The chapter's 1-D headline problem.

    :math:`n = 50` examples :math:`\mathcal L_i(x) = \tfrac h2 (x - a_i)^2` with curvature
    :math:`h = 2` and skewed example minimizers :math:`a_i` (exponential draws, seed 31230), so
    that nothing is Gaussian. Its TZ slope is :math:`\tfrac14 E_i g_i^2 = \tfrac14 h^2\operatorname{Var}(a_i)`.
    """
    a = np.random.default_rng(HEADLINE_SEED).exponential(1.0, size=50)
    return Quadratic(a, 2.0)


def headline_slope(*, rng, target_rse=0.005, lr=None, batch_size=1, chains=128,
                   problem=None, max_samples=400_000_000) -> Estimate:
    r"""A stationary-variance check at one rate, expressed in slope units (to a target precision).

    **What it is, and what it is not.** No derivative is measured here: the function measures
    the stationary second moment :math:`E\Delta^2` at a single rate and converts it into a
    "slope" with the proof's step 3 and the exact 1-D law. An error in the theorem's constant
    would therefore not show; what would show is a simulator whose stationary variance departs
    from :math:`\eta h v/(B(2-\eta h))`. The chapter's headline slope is measured honestly,
    from :math:`\mathcal L(\eta)` on a ladder of rates (:func:`excess_loss_ladder`,
    :meth:`Ladder.slope`).

    **Estimator.** For a 1-D quadratic with curvature :math:`h`, the proof's step 3 is an
    *exact* identity at every stable rate:
    :math:`\mathcal L(\eta) - \mathcal L^* = \tfrac\eta4 E\,(\hat g + h\Delta)^2
    = \tfrac\eta4\bigl(E_i g_i^2/B + h^2 E\Delta^2\bigr)`. Hence

    .. math::
        s \;=\; \frac{E_i g_i^2}{4B} \;=\; \frac{\mathcal L(\eta)-\mathcal L^*}{\eta} - \frac{h^2}{4}E\Delta^2
          \;=\; \frac{h\,(2-\eta h)}{4\eta}\, E\,\Delta^2 ,

    so the stationary average of :math:`f(\Delta) = h(2-\eta h)\Delta^2/(4\eta)` is an
    unbiased estimate of the slope at a *finite* rate: the :math:`O(\eta)` bend of
    :math:`(\mathcal L(\eta)-\mathcal L^*)/\eta` is removed exactly instead of by
    extrapolating to :math:`\eta\to0`, where chains decorrelate ever more slowly.
    The default :math:`\eta h = 0.1` is small enough to be "the small-rate regime"
    (uncorrected, the ratio would be 5 % high) and large enough that
    :math:`\Delta^2` decorrelates in :math:`\tau = (1+a^2)/(1-a^2) \approx 10` steps,
    :math:`a = 1-\eta h`.

    **Error bar.** Independent chains start at :math:`\Phi^*`; a burn-in of
    :math:`\lceil \ln(10^{-2}\,\text{target})/(2\ln a)\rceil` steps makes the start's bias
    :math:`a^{2k}` a hundredth of the target. A pilot run measures the integrated
    autocorrelation time of :math:`\Delta^2` (:func:`sgdsim.autocorr_time`), which sets the
    thinning (about :math:`\tau/2` steps between records: memory stays small and little
    information is lost), and the spread of per-chain averages, which sets the chain
    length needed for the target. The main run uses fresh chains; each chain's time
    average is one independent draw and the standard error is their spread
    (:func:`sgdsim.chain_mean`). If it misses the target, more chains of the same length
    are added.

    Parameters
    ----------
    rng : numpy.random.Generator or int
    target_rse : float in (0, 0.5)
        Wanted relative standard error (0.005 = 0.5 %).
    lr : float, optional
        Rate :math:`\eta`; default :math:`0.1/h`. Any :math:`0 < \eta h < 2` is unbiased.
    batch_size : int
    chains : int >= 16
        Independent chains per batch of the main run.
    problem : Quadratic, optional
        A 1-D :class:`~sgdsim.Quadratic`; default :func:`headline_problem`.
    max_samples : int
        Refuse targets that would need more simulated steps than this in total.

    Returns
    -------
    Estimate
        The slope and its standard error, ``stderr <= target_rse * value`` (up to the
        scatter of the error estimate itself).
    """
    gen = as_generator(rng)
    target = float(target_rse)
    if not (math.isfinite(target) and 0 < target < 0.5):
        raise ValueError(f"target_rse must be in (0, 0.5), got {target_rse!r}")
    q = headline_problem() if problem is None else problem
    if not (isinstance(q, Quadratic) and q.dim == 1):
        raise TypeError("headline_slope needs a 1-D Quadratic problem")
    b = as_positive_int(batch_size, "batch_size")
    chains = as_positive_int(chains, "chains", minimum=16)
    h = float(q.H[0, 0])
    if h <= 0:
        raise ValueError("the problem's curvature h must be > 0")
    eta = 0.1 / h if lr is None else as_rate(lr)
    if not 0 < eta * h < 2:
        raise ValueError(f"lr={eta:g} is unstable: need 0 < lr * h < 2 (h = {h:g})")
    a = 1.0 - eta * h
    weight = h * (2.0 - eta * h) / (4.0 * eta)
    phi_star = q.minimizer()
    burn = 0 if a == 0 else int(math.ceil(math.log(1e-2 * target) / (2.0 * math.log(abs(a)))))

    def run(n_chains, length, every):
        start = sgd(q, phi_star, eta, max(burn, 1), batch_size=b, chains=n_chains, rng=gen,
                    record_every=max(burn, 1)).final
        traj = sgd(q, start, eta, length, batch_size=b, rng=gen, record_every=every)
        return weight * (traj.phi[1:, :, 0] - phi_star[0]) ** 2  # (records, chains)

    # Pilot: autocorrelation time (thinning) and per-chain spread (chain length).
    pilot_len = 400 * max(1, int(math.ceil(1.0 / (1.0 - a * a))))
    pilot = run(chains, pilot_len, 1)
    tau = max(1.0, autocorr_time(pilot))
    every = max(1, int(tau // 2))
    est = chain_mean(pilot)
    rse_pilot = est.stderr / est.value
    length = int(math.ceil(pilot_len * (rse_pilot / target) ** 2 * 1.1))
    length = max(every * 50, every * int(math.ceil(length / every)))
    if length * chains > max_samples:
        raise ValueError(
            f"target_rse={target:g} needs about {length * chains:.3g} SGD steps "
            f"(> max_samples={max_samples:g}); ask for less precision or raise max_samples"
        )
    draws = run(chains, length, every).mean(axis=0)  # one time average per chain
    result = chain_mean(draws)
    used = length * chains
    while result.stderr > target * result.value:
        if used + length * chains > max_samples:
            break
        draws = np.r_[draws, run(chains, length, every).mean(axis=0)]
        used += length * chains
        result = chain_mean(draws)
    return result


# ---------------------------------------------------------------------------
# The chapter's scene: a 2-D cloud (shared by the notebook, its explorer and make bench)
# ---------------------------------------------------------------------------
@lru_cache(maxsize=1)
def cloud_problem() -> Quadratic:
    r"""A 2-D quadratic finite sum: :math:`n = 60` examples sharing a tilted Hessian.

    :math:`H` has eigenvalues of about 0.39 and 1.71 (stability limit
    :math:`2/\lambda_{\max} \approx 1.17`); the example minimizers are spread along a
    different direction than the loss's valley, so the cloud is *not* shaped like the
    contours.
    """
    g = np.random.default_rng(2019)
    centers = g.normal(size=(60, 2)) @ np.array([[0.9, 0.5], [0.0, 0.45]])
    return Quadratic(centers, [[1.5, 0.5], [0.5, 0.6]])


def simulate_cloud(lr, batch_size=1, *, rng, chains=250, records=10):
    r"""Stationary SGD samples on :func:`cloud_problem` and the measured excess loss.

    Chains start at :math:`\Phi^*` and burn in for 5 relaxation times of the slow
    direction (the variance deficit is then :math:`e^{-10}`), then record ``records``
    states over 2 more relaxation times.

    Returns
    -------
    cloud : numpy.ndarray, shape (chains, 2)
        The last recorded state of every chain, as :math:`\Phi` (not :math:`\Delta`).
    excess : Estimate
        :math:`\mathcal L(\eta) - \mathcal L^*`, chain means over all records.
    """
    p = cloud_problem()
    lam_min = float(np.linalg.eigvalsh(p.H)[0])
    run = stationary_samples(p, lr, rng=rng, chains=chains, run_time=2.0 / lam_min,
                             burn_in=5.0 / lam_min, records=records, batch_size=batch_size)
    excess = chain_mean(excess_loss(p, run.phi - p.minimizer()))
    return run.final, excess



# ---------------------------------------------------------------------------
# Why 1/4: the curvature cancels, direction by direction
# ---------------------------------------------------------------------------
def with_curvature(problem, h) -> Quadratic:
    r"""The 1-D quadratic ``problem`` with its curvature changed to ``h`` and the *same* gradient noise.

    The example minimizers are moved to :math:`\bar a + (a_i - \bar a)\,h_0/h`, so that the
    per-example gradients at the optimum, :math:`g_i = h(\bar a - a_i)`, are unchanged: only the
    curvature differs. Its TZ slope is therefore the same for every ``h``.
    """
    if not (isinstance(problem, Quadratic) and problem.dim == 1):
        raise TypeError("with_curvature needs a 1-D Quadratic problem")
    h = float(h)
    if not (math.isfinite(h) and h > 0):
        raise ValueError(f"the curvature h must be finite and > 0, got {h!r}")
    a = problem.centers[:, 0]
    h0 = float(problem.H[0, 0])
    return Quadratic(a.mean() + (a - a.mean()) * h0 / h, h)


def eigendirections(hessian):
    r"""Eigenvalues :math:`\lambda_k` (ascending) and unit eigenvectors (columns) of :math:`\bar H`."""
    lam, u = np.linalg.eigh(np.asarray(hessian, dtype=float))
    return lam, u


def direction_variances(hessian, delta) -> np.ndarray:
    r"""Squared coordinates :math:`(u_k^\top\Delta)^2` along the eigendirections of ``hessian``.

    ``delta`` has shape ``(..., dim)``; the result has the same shape, one column per
    eigendirection (ascending curvature). Half of :math:`\lambda_k` times column ``k`` is the
    excess loss held by direction ``k``; the columns add up to :math:`\|\Delta\|^2`.
    """
    _, u = eigendirections(hessian)
    return (np.asarray(delta, dtype=float) @ u) ** 2


def direction_law(hessian, noise_cov, lr, batch_size=1):
    r"""Exact stationary variance along each eigendirection of SGD with additive noise.

    With :math:`\bar H = U\Lambda U^\top` and :math:`\Sigma_{kk} = u_k^\top\Sigma u_k`, the diagonal
    of the discrete Lyapunov equation :math:`S = (I-\eta\bar H)S(I-\eta\bar H) + \eta^2\Sigma/B` in
    the eigenbasis is one equation per direction,
    :math:`S_{kk} = (1-\eta\lambda_k)^2 S_{kk} + \eta^2\Sigma_{kk}/B`, so

    .. math::
        S_{kk} = \frac{\eta\,\Sigma_{kk}}{B\,\lambda_k(2-\eta\lambda_k)}, \qquad
        \tfrac12\lambda_k S_{kk} = \frac{\eta\,\Sigma_{kk}}{4B}\cdot\frac{1}{1-\eta\lambda_k/2}.

    The curvature cancels from the loss held by each direction at first order: it is
    :math:`T_k/2` with the direction's temperature :math:`T_k = \eta\Sigma_{kk}/(2B)`.

    Returns
    -------
    variance, excess : numpy.ndarray, shape (dim,)
        :math:`S_{kk}` and :math:`\tfrac12\lambda_k S_{kk}` (ascending curvature).
    """
    eta = as_rate(lr)
    b = as_positive_int(batch_size, "batch_size")
    lam, u = eigendirections(hessian)
    if not np.all((lam > 0) & (eta * lam < 2)):
        raise ValueError(f"lr={lr!r} is not stable for every eigendirection (need 0 < lr*lambda < 2)")
    sig = np.einsum("ik,ij,jk->k", u, np.asarray(noise_cov, dtype=float), u)
    var = eta * sig / (b * lam * (2.0 - eta * lam))
    return var, 0.5 * lam * var


# ---------------------------------------------------------------------------
# One step beyond the lecture: eta / B
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ScalingRuns:
    r"""Excess losses measured at rates :math:`k\eta_0` with batch sizes :math:`kB_0`."""

    k: np.ndarray  #: the scale factors
    lr: np.ndarray  #: :math:`k\eta_0`
    batch_size: np.ndarray  #: :math:`kB_0`
    mean: np.ndarray  #: measured :math:`\mathcal L - \mathcal L^*` (chain means)
    stderr: np.ndarray  #: their standard errors (independent chains at every k)

    def estimate(self, j) -> Estimate:
        """The ``j``-th measurement as an :class:`~sgdsim.Estimate`."""
        return Estimate(float(self.mean[j]), float(self.stderr[j]))


def scaling_runs(problem, lr0, ks, *, rng, chains, run_time, batch0=1, burn_in=None) -> ScalingRuns:
    r"""Measure :math:`\mathcal L(k\eta_0, kB_0) - \mathcal L^*` for every ``k`` in ``ks``.

    At first order the excess loss depends on :math:`\eta` and :math:`B` only through
    :math:`\eta/B`, so all these runs would give the same value; the exact law
    (:meth:`SecondOrderModel.excess_loss`) says by how much they differ. Every ``k`` gets its
    own independent chains; run arguments as in :func:`sgdsim.stationary_samples` (time in
    summed rates, so each run covers the same number of relaxation times and costs about the
    same: :math:`k` times fewer steps of :math:`k` times larger batches).
    """
    ks = np.asarray(ks)
    if ks.ndim != 1 or ks.size == 0 or not np.all((ks >= 1) & (ks == np.round(ks))):
        raise ValueError(f"ks must be a non-empty list of positive integers, got {ks!r}")
    ks = ks.astype(int)
    eta0 = as_rate(lr0)
    b0 = as_positive_int(batch0, "batch0")
    gen = as_generator(rng)
    lmin = problem.minimum_loss()
    means, errs = [], []
    for k in ks:
        run = stationary_samples(problem, k * eta0, rng=gen, chains=chains, run_time=run_time,
                                 burn_in=burn_in, batch_size=int(k) * b0)
        est = chain_mean(excess_loss(problem, run.phi - problem.minimizer(), loss_min=lmin))
        means.append(est.value)
        errs.append(est.stderr)
    return ScalingRuns(k=ks, lr=ks * eta0, batch_size=ks * b0, mean=np.array(means),
                       stderr=np.array(errs))
