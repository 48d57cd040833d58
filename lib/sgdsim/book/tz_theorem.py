r"""The TZ theorem: the converged loss of constant-rate SGD grows like :math:`\eta E_i\|g_i\|^2/4`.

The second-order model at a minimizer :math:`\Phi^*` (:math:`\Delta = \Phi - \Phi^*`) is
:math:`\mathcal L_i = \mathcal L_i(\Phi^*) + g_i^\top\Delta + \tfrac12\Delta^\top H_i\Delta`,
:math:`E_i g_i = 0`, :math:`\bar H = E_i H_i \succ 0`. SGD with batch size :math:`B` (with
replacement) has a stationary law of mean 0 whose second moment :math:`S` solves

.. math::
    S = (I - \eta\bar H)S(I - \eta\bar H)
        + \tfrac{\eta^2}{B}\bigl(E_i[(H_i - \bar H)S(H_i - \bar H)] + E_i[g_i g_i^\top]\bigr);

the excess loss is :math:`\tfrac12\operatorname{tr}(\bar H S)`, of slope :math:`E_i\|g_i\|^2/(4B)`
at :math:`\eta = 0`. Times are summed rates; the measuring functions take the run arguments of
:func:`sgdsim.stationary_samples`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .._validation import (as_finite_array, as_generator, as_positive_float, as_positive_int,
                           as_rate)
from ..dynamics import sgd, stationary_samples
from ..estimators import Estimate, Fit, autocorr_time, chain_mean, weighted_fit
from ..laws import excess_loss as _quadratic_excess
from ..problems import LinearRegression, Quadratic

__all__ = ["SecondOrderModel", "second_order_model", "excess_loss", "Ladder", "stationary_ladder",
           "excess_loss_ladder", "headline_problem", "headline_slope", "cloud_problem",
           "simulate_cloud", "with_curvature", "eigendirections", "direction_variances",
           "direction_law", "ScalingRuns", "scaling_runs"]


def _as_delta(delta, dim) -> np.ndarray:
    arr = np.asarray(delta, dtype=float)
    if arr.ndim == 0 or arr.shape[-1] != dim:
        raise ValueError(f"delta must have shape (..., {dim}), got {arr.shape}")
    return arr


@dataclass(frozen=True, eq=False)
class SecondOrderModel:
    r"""The second-order model at a minimizer and its exact SGD laws: per-example gradients
    ``g`` (n, dim) (mean 0), Hessians ``H`` (n, dim, dim), ``loss_min`` = :math:`\mathcal L^*`."""

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
            raise ValueError("E_i H_i must be positive definite (smallest eigenvalue "
                             f"{lam[0]:.3g}): along a flat direction SGD has no stationary law")
        scale = math.sqrt(max(float(np.mean(np.sum(g**2, axis=1))), 0.0))
        gbar = g.mean(axis=0)
        if np.linalg.norm(gbar) > 1e-8 * scale + 1e-12:
            raise ValueError("E_i g_i must vanish at a minimizer, but "
                             f"|E_i g_i| = {np.linalg.norm(gbar):.3g}")
        loss_min = float(as_finite_array(self.loss_min, "loss_min", ndim=0))
        for name, value in (("g", g), ("H", h), ("loss_min", loss_min), ("_hbar", hbar),
                            ("_sigma", g.T @ g / n),  # E_i g_i g_i^T
                            ("_m1", np.einsum("nij,nj->i", h, g) / n),  # E_i H_i g_i
                            ("_m2", np.einsum("nij,njk->ik", h, h) / n)):  # E_i H_i^2
            object.__setattr__(self, name, value)

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
    def mean_sq_grad(self) -> float:
        r""":math:`E_i\|g_i\|^2`."""
        return float(np.trace(self._sigma))

    def slope(self, batch_size: int = 1) -> float:
        r"""The TZ slope :math:`E_i\|g_i\|^2 / (4B)`."""
        return self.mean_sq_grad / (4.0 * as_positive_int(batch_size, "batch_size"))

    def quadratic_part(self, delta) -> np.ndarray:
        r""":math:`\tfrac12\Delta^\top\bar H\Delta` for ``delta`` of shape (..., dim)."""
        d = _as_delta(delta, self.dim)
        return 0.5 * np.einsum("...i,ij,...j->...", d, self._hbar, d)

    def grad_energy(self, delta, batch_size: int = 1) -> np.ndarray:
        r""":math:`E_b\|\hat g + \hat H\Delta\|^2` for a fresh batch:
        :math:`\|\bar H\Delta\|^2 + \tfrac1B(E_i\|g_i + H_i\Delta\|^2 - \|\bar H\Delta\|^2)`."""
        d = _as_delta(delta, self.dim)
        b = as_positive_int(batch_size, "batch_size")
        single = (self.mean_sq_grad + 2.0 * d @ self._m1
                  + np.einsum("...i,ij,...j->...", d, self._m2, d))
        hd = d @ self._hbar
        mean_sq = np.sum(hd * hd, axis=-1)
        return mean_sq + (single - mean_sq) / b

    def next_second_moment(self, delta, lr, batch_size: int = 1) -> np.ndarray:
        r""":math:`E_b\|\Delta'\|^2 = \|\Delta\|^2 - 2\eta\,\Delta^\top\bar H\Delta
        + \eta^2 E_b\|\hat g+\hat H\Delta\|^2` given :math:`\Delta` (as :math:`E_i g_i = 0`)."""
        d = _as_delta(delta, self.dim)
        eta = as_rate(lr)
        return (np.sum(d * d, axis=-1) - 4.0 * eta * self.quadratic_part(d)
                + eta**2 * self.grad_energy(d, batch_size))

    def _operator(self, lr, batch_size):
        """The map S -> E[(I - eta H_b) S (I - eta H_b)] as a (d*d, d*d) matrix."""
        eta = as_rate(lr)
        b = as_positive_int(batch_size, "batch_size")
        d = self.dim
        a = np.eye(d) - eta * self._hbar
        dev = (self.H - self._hbar).reshape(self.n, d * d)
        k = (dev.T @ dev / self.n).reshape(d, d, d, d).transpose(0, 2, 1, 3).reshape(d * d, d * d)
        return np.kron(a, a) + (eta**2 / b) * k  # vec(A S A) = (A kron A) vec(S), row-major

    def max_stable_lr(self, batch_size: int = 1) -> float:
        r"""Largest mean-square stable :math:`\eta`: :math:`2/\lambda_{\max}(\bar H)` with
        additive noise, lower with per-example Hessians (1-D:
        :math:`2\bar h / (\bar h^2 + \operatorname{Var}(h_i)/B)`)."""
        from scipy.optimize import brentq

        def radius(e):  # of the second-moment map: mean-square stable iff < 1
            return float(np.max(np.abs(np.linalg.eigvals(self._operator(e, batch_size)))))

        hi = 2.0 / np.linalg.eigvalsh(self._hbar)[-1]
        grid = hi * np.linspace(1e-3, 1.0, 400)
        k = int(np.argmax(np.array([radius(e) for e in grid[:-1]] + [np.inf]) >= 1.0))
        if k == len(grid) - 1:
            return float(hi)
        lo = grid[k - 1] if k > 0 else 0.0
        return float(brentq(lambda e: radius(e) - 1.0, lo, grid[k], xtol=1e-12 * hi))

    def stationary_cov(self, lr, batch_size: int = 1) -> np.ndarray:
        """The stationary second moment S: the Lyapunov equation above solved as a linear
        system of size dim²; ``ValueError`` if ``lr`` is not mean-square stable."""
        eta = as_rate(lr)
        b = as_positive_int(batch_size, "batch_size")
        op = self._operator(eta, b)
        rho = float(np.max(np.abs(np.linalg.eigvals(op))))
        if not (eta > 0 and rho < 1.0):
            raise ValueError(
                f"lr={lr!r} has no stationary law with finite variance: the second-moment map "
                f"has spectral radius {rho:.4g} >= 1 (lower the rate; see max_stable_lr)")
        d = self.dim
        rhs = (eta**2 / b) * self._sigma.reshape(-1)
        s = np.linalg.solve(np.eye(d * d) - op, rhs).reshape(d, d)
        return 0.5 * (s + s.T)

    def excess_loss(self, lr, batch_size: int = 1) -> float:
        r"""Exact :math:`\mathcal L(\eta) - \mathcal L^* = \tfrac12\operatorname{tr}(\bar H S)`."""
        return _quadratic_excess(self._hbar, self.stationary_cov(lr, batch_size))


def second_order_model(problem, phi=None) -> SecondOrderModel:
    """The :class:`SecondOrderModel` of a finite sum at its minimizer (or at ``phi``); exact
    for :class:`~sgdsim.Quadratic` and :class:`~sgdsim.LinearRegression`."""
    if not hasattr(problem, "example_hessians"):
        raise TypeError(f"{type(problem).__name__} is not a finite sum: the second-order model "
                        "needs per-example gradients and Hessians (use Quadratic, "
                        "LinearRegression or LogisticRegression)")
    phi = problem.minimizer() if phi is None else as_finite_array(phi, "phi", shape=(problem.dim,))
    return SecondOrderModel(g=problem.example_grads(phi), H=problem.example_hessians(phi),
                            loss_min=float(problem.loss(phi)))


def excess_loss(problem, delta, *, loss_min=None, chunk=2_000_000) -> np.ndarray:
    r""":math:`\mathcal L(\Phi^* + \Delta) - \mathcal L(\Phi^*)` for ``delta`` (..., dim).

    Quadratic losses use :math:`\tfrac12\Delta^\top H\Delta` (no cancellation); other finite
    sums are evaluated in chunks of about ``chunk`` numbers.
    """
    delta = _as_delta(delta, problem.dim)
    if isinstance(problem, (Quadratic, LinearRegression)):
        return 0.5 * np.einsum("...i,ij,...j->...", delta, problem.hessian(), delta)
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
    r"""A stationary average at rates ``lr``: chain ``mean`` and ``stderr`` at each."""

    lr: np.ndarray
    mean: np.ndarray
    stderr: np.ndarray

    def fit(self, powers=(1, 2)) -> Fit:
        r"""Weighted fit :math:`\sum_p c_p \eta^p` (no constant: the excess vanishes at 0)."""
        return weighted_fit(self.lr, self.mean, self.stderr, powers=powers)

    def slope(self, powers=(1, 2)) -> Estimate:
        r"""The fitted slope at :math:`\eta = 0`: the coefficient of :math:`\eta^1`."""
        powers = tuple(int(p) for p in powers)
        if 1 not in powers:
            raise ValueError("powers must include 1 to estimate a slope")
        return self.fit(powers).estimate(powers.index(1))


def _chain_means(problem, lrs, batches, statistics, gen, **run):
    """Per statistic, chain means and standard errors at each (rate, batch size)."""
    out = {name: ([], []) for name in statistics}
    for eta, b in zip(lrs, batches):
        samples = stationary_samples(problem, eta, rng=gen, batch_size=b, **run)
        delta = samples.phi - problem.minimizer()
        for name, f in statistics.items():
            est = chain_mean(f(delta, float(eta)))
            out[name][0].append(est.value)
            out[name][1].append(est.stderr)
    return {name: (np.array(m), np.array(s)) for name, (m, s) in out.items()}


def stationary_ladder(problem, lrs, statistics, *, rng, chains, run_time, burn_in=None,
                      records=None, batch_size=1, phi0=None) -> dict:
    """Stationary averages of ``statistics`` (name -> ``f(delta, lr)``, mapping (records,
    chains, dim) to (records, chains)) at every rate, each with its own independent chains;
    standard errors from the spread of per-chain averages. Returns name -> :class:`Ladder`."""
    lrs = as_finite_array(lrs, "lrs", ndim=1)
    if not statistics or not all(callable(f) for f in statistics.values()):
        raise TypeError("statistics must be a non-empty dict of callables f(delta, lr)")
    b = as_positive_int(batch_size, "batch_size")
    means = _chain_means(problem, lrs, [b] * lrs.size, statistics, as_generator(rng),
                         chains=chains, run_time=run_time, burn_in=burn_in, records=records,
                         phi0=phi0)
    return {name: Ladder(lr=lrs.copy(), mean=m, stderr=s) for name, (m, s) in means.items()}


def excess_loss_ladder(problem, lrs, *, rng, chains, run_time, burn_in=None,
                       records=None, batch_size=1, phi0=None) -> Ladder:
    r""":math:`\mathcal L(\eta) - \mathcal L^*` at every rate (see :func:`stationary_ladder`)."""
    lmin = problem.minimum_loss()
    stats = {"excess": lambda d, eta: excess_loss(problem, d, loss_min=lmin)}
    return stationary_ladder(problem, lrs, stats, rng=rng, chains=chains, run_time=run_time,
                             burn_in=burn_in, records=records,
                             batch_size=batch_size, phi0=phi0)["excess"]


def headline_problem(seed: int = 31230) -> Quadratic:
    r"""The 1-D headline problem: :math:`\mathcal L_i = \tfrac h2 (x - a_i)^2`, :math:`n = 50`,
    :math:`h = 2`, skewed :math:`a_i` (exponential draws); its slope is
    :math:`\tfrac14 h^2\operatorname{Var}(a_i)`."""
    return Quadratic(np.random.default_rng(seed).exponential(1.0, size=50), 2.0)


def headline_slope(*, rng, target_rse=0.005, lr=None, batch_size=1, chains=128,
                   problem=None, max_samples=400_000_000) -> Estimate:
    r"""The stationary variance at one rate, in slope units, to a relative standard error.

    Not a measured derivative: on a 1-D quadratic of curvature :math:`h` the proof's step 3 is
    exact at every stable rate, so

    .. math::
        \frac{E_i g_i^2}{4B} = \frac{h\,(2-\eta h)}{4\eta}\, E\,\Delta^2 ,

    and its stationary average checks the simulator's variance :math:`\eta h v/(B(2-\eta h))`.
    Default :math:`\eta h = 0.1` (``lr``), ``problem`` :func:`headline_problem`. Chains start at
    :math:`\Phi^*` and burn in until the bias :math:`a^{2k}` (:math:`a = 1 - \eta h`) is 1 % of
    ``target_rse``; a pilot run sets the thinning (half the autocorrelation time) and the chain
    length; batches of ``chains`` fresh chains are added until the target is met or more than
    ``max_samples`` steps would be needed (refused up front if the first batch would).
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

    pilot_len = 400 * max(1, int(math.ceil(1.0 / (1.0 - a * a))))
    pilot = run(chains, pilot_len, 1)
    every = max(1, int(max(1.0, autocorr_time(pilot)) // 2))
    est = chain_mean(pilot)
    length = int(math.ceil(pilot_len * (est.stderr / est.value / target) ** 2 * 1.1))
    length = max(every * 50, every * int(math.ceil(length / every)))
    if length * chains > max_samples:
        raise ValueError(
            f"target_rse={target:g} needs about {length * chains:.3g} SGD steps "
            f"(> max_samples={max_samples:g}); ask for less precision or raise max_samples")
    draws = run(chains, length, every).mean(axis=0)  # one time average per chain
    result = chain_mean(draws)
    used = length * chains
    while result.stderr > target * result.value and used + length * chains <= max_samples:
        draws = np.r_[draws, run(chains, length, every).mean(axis=0)]
        used += length * chains
        result = chain_mean(draws)
    return result


@lru_cache(maxsize=1)
def cloud_problem() -> Quadratic:
    """The 2-D scene: 60 examples sharing a tilted Hessian (eigenvalues about 0.39 and 1.71),
    minimizers spread along another direction than the loss's valley."""
    mix = np.array([[0.9, 0.5], [0.0, 0.45]])
    centers = np.random.default_rng(2019).normal(size=(60, 2)) @ mix
    return Quadratic(centers, [[1.5, 0.5], [0.5, 0.6]])


def simulate_cloud(lr, batch_size=1, *, rng, chains=250, records=10):
    """Stationary SGD on :func:`cloud_problem`: burn-in 5 and recording over 2 relaxation
    times of the slow direction. Returns the last states (chains, 2) and the excess loss."""
    p = cloud_problem()
    lam_min = float(np.linalg.eigvalsh(p.H)[0])
    run = stationary_samples(p, lr, rng=rng, chains=chains, run_time=2.0 / lam_min,
                             burn_in=5.0 / lam_min, records=records, batch_size=batch_size)
    return run.final, chain_mean(excess_loss(p, run.phi - p.minimizer()))


def with_curvature(problem, h) -> Quadratic:
    r"""The 1-D quadratic ``problem`` with curvature ``h`` and the same :math:`g_i` at the
    optimum: minimizers moved to :math:`\bar a + (a_i - \bar a)\,h_0/h`, so the same slope."""
    if not (isinstance(problem, Quadratic) and problem.dim == 1):
        raise TypeError("with_curvature needs a 1-D Quadratic problem")
    h = as_positive_float(h, "the curvature h")
    a = problem.centers[:, 0]
    return Quadratic(a.mean() + (a - a.mean()) * float(problem.H[0, 0]) / h, h)


def eigendirections(hessian):
    r"""Eigenvalues :math:`\lambda_k` (ascending) and unit eigenvectors (columns)."""
    return tuple(np.linalg.eigh(np.asarray(hessian, dtype=float)))


def direction_variances(hessian, delta) -> np.ndarray:
    r""":math:`(u_k^\top\Delta)^2` along the eigendirections (ascending curvature)."""
    _, u = eigendirections(hessian)
    return (np.asarray(delta, dtype=float) @ u) ** 2


def direction_law(hessian, noise_cov, lr, batch_size=1):
    r"""Exact stationary variance per eigendirection of SGD with additive noise.

    The Lyapunov equation is diagonal in the eigenbasis, :math:`\Sigma_{kk} = u_k^\top\Sigma u_k`:

    .. math::
        S_{kk} = \frac{\eta\,\Sigma_{kk}}{B\,\lambda_k(2-\eta\lambda_k)}, \qquad
        \tfrac12\lambda_k S_{kk} = \frac{\eta\,\Sigma_{kk}}{4B}\cdot\frac{1}{1-\eta\lambda_k/2}.

    Returns ``variance, excess``: :math:`S_{kk}` and :math:`\tfrac12\lambda_k S_{kk}`.
    """
    eta = as_rate(lr)
    b = as_positive_int(batch_size, "batch_size")
    lam, u = eigendirections(hessian)
    if not np.all((lam > 0) & (eta * lam < 2)):
        raise ValueError(f"lr={lr!r} is not stable for every eigendirection "
                         "(need 0 < lr*lambda < 2)")
    sig = np.einsum("ik,ij,jk->k", u, np.asarray(noise_cov, dtype=float), u)
    var = eta * sig / (b * lam * (2.0 - eta * lam))
    return var, 0.5 * lam * var


@dataclass(frozen=True)
class ScalingRuns:
    r"""Excess losses ``mean`` ± ``stderr`` at rates :math:`k\eta_0`, batch sizes :math:`kB_0`."""

    k: np.ndarray
    mean: np.ndarray
    stderr: np.ndarray

    def estimate(self, j) -> Estimate:
        """The ``j``-th measurement as an :class:`~sgdsim.Estimate`."""
        return Estimate(float(self.mean[j]), float(self.stderr[j]))


def scaling_runs(problem, lr0, ks, *, rng, chains, run_time, batch0=1,
                 burn_in=None) -> ScalingRuns:
    r""":math:`\mathcal L(k\eta_0, kB_0) - \mathcal L^*` for every ``k`` in ``ks``, with
    independent chains each: equal at first order (only :math:`\eta/B` enters), and
    :meth:`SecondOrderModel.excess_loss` says by how much they differ."""
    ks = np.asarray(ks)
    if ks.ndim != 1 or ks.size == 0 or not np.all((ks >= 1) & (ks == np.round(ks))):
        raise ValueError(f"ks must be a non-empty list of positive integers, got {ks!r}")
    ks = ks.astype(int)
    eta0 = as_rate(lr0)
    b0 = as_positive_int(batch0, "batch0")
    lmin = problem.minimum_loss()
    stats = {"excess": lambda d, eta: excess_loss(problem, d, loss_min=lmin)}
    (m, s), = _chain_means(problem, ks * eta0, [int(k) * b0 for k in ks], stats,
                           as_generator(rng), chains=chains, run_time=run_time,
                           burn_in=burn_in).values()
    return ScalingRuns(k=ks, mean=m, stderr=s)
