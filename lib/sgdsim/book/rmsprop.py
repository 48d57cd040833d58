r"""The RMSProp chapter's machinery: RMSProp's mean square, rate sweeps and the benchmark.

The exact laws of preconditioned SGD on quadratics are in :mod:`sgdsim.laws` (pass
``preconditioner=``), RMSProp's temperature :math:`c(\beta)\,\eta\sigma/(2\sqrt B)` in
:mod:`sgdsim.gibbs`, the virial (temperature) matrix in :mod:`sgdsim.estimators`. This module
holds the chapter's own experiments:

* :func:`rmsprop_mean_square` -- what RMSProp divides by, at frozen parameters;
* :func:`rate_sweep` -- (preconditioned) SGD at several constant rates in one vectorized run;
* :func:`stationary_cloud` -- the chapter's scene: SGD, the inverse-variance rule or RMSProp
  on a two-coordinate quadratic, with measured and predicted temperatures (shared by the
  notebook's explorer and ``make bench``);
* :class:`CoinNoise` -- a 1-D quadratic whose gradient noise is a fair coin (for c = 1/β);
* :func:`mean_field_rmsprop` -- RMSProp's path far from the optimum with the noise averaged out;
* :class:`PositionNoise`, :func:`position_noise_sgd` -- the inverse-variance rule with
  position-dependent noise, where the ∇·P term keeps the stationary law from being Gibbs;
* :func:`benchmark` -- tune each method's rate on a grid, then evaluate it with fresh seeds;
  :meth:`Benchmark.orderings` lists every pairwise ordering, to be shown, not asserted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .._validation import as_finite_array, as_generator, as_positive_int
from ..claims import format_value
from ..dynamics import Trajectory, iterate_map, sgd
from ..estimators import Estimate, chain_mean, virial_matrix
from ..laws import sgd_stationary_cov
from ..preconditioners import ChainRates, Diagonal, RMSProp
from ..problems import NoisyPotential, Problem

__all__ = [
    "RULES",
    "CoinNoise",
    "mean_field_rmsprop",
    "PositionNoise",
    "position_noise_sgd",
    "table_html",
    "CloudResult",
    "stationary_cloud",
    "rmsprop_mean_square",
    "Sweep",
    "rate_sweep",
    "MethodResult",
    "Ordering",
    "Benchmark",
    "benchmark",
]


# --------------------------------------------------------------------------- RMSProp theory


def rmsprop_mean_square(problem, phi, *, beta=0.9, steps=None, rng, batch_size=1) -> np.ndarray:
    r"""RMSProp's running mean square accumulated at *frozen* parameters.

    Feeds ``steps`` independent gradient samples at each fixed point of
    ``phi`` into :class:`sgdsim.RMSProp`'s average (from :math:`v_0 = 0`), so
    :math:`E[v] = (1-\beta^{\rm steps})\,\bigl(g(\Phi)^2 + \operatorname{diag}\Sigma(\Phi)/B\bigr)`:
    the *uncentred* second moment, not the variance.

    Parameters
    ----------
    problem : Problem
    phi : array_like, shape (chains, dim)
        One fixed point per chain.
    beta : float
    steps : int, optional
        Default :math:`\lceil 30/(1-\beta)\rceil` (so :math:`\beta^{\rm steps} < e^{-30}`).
    rng, batch_size
        As in :func:`sgdsim.sgd`.

    Returns
    -------
    numpy.ndarray, shape (chains, dim)
    """
    pre = RMSProp(beta=beta)  # eps only enters the (discarded) step, never v
    phi = as_finite_array(phi, "phi", ndim=2)
    if phi.shape[-1] != problem.dim:
        raise ValueError(f"phi must have shape (chains, {problem.dim}), got {phi.shape}")
    gen = as_generator(rng)
    steps = int(np.ceil(30 / (1 - beta))) if steps is None else as_positive_int(steps, "steps")
    b = as_positive_int(batch_size, "batch_size")
    v = pre.init(phi)
    for _ in range(steps):
        _, v = pre.apply(v, problem.sample_grad(phi, b, gen))
    return v


# --------------------------------------------------------------------------- rate sweeps
@dataclass(frozen=True)
class Sweep:
    """Excess-loss curves of one method at several rates (from :func:`rate_sweep`).

    Attributes
    ----------
    rates : numpy.ndarray, shape (m,)
    step : numpy.ndarray, shape (records,)
    excess : numpy.ndarray, shape (records, m, chains)
        :math:`\\mathcal L(\\Phi) - \\mathcal L^*` per record, rate and chain.
    """

    rates: np.ndarray
    step: np.ndarray
    excess: np.ndarray

    def final_steps(self, fraction: float = 0.25) -> np.ndarray:
        """The recorded steps that :meth:`final` averages: the last ``fraction`` of the records."""
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
        k = max(1, int(round(fraction * (len(self.step) - 1))))
        return self.step[-k:]

    def final(self, fraction: float = 0.25) -> list[Estimate]:
        """Mean excess loss over the last ``fraction`` of the records, per rate, ± over chains."""
        k = self.final_steps(fraction).size
        return [chain_mean(self.excess[-k:, i]) for i in range(self.rates.size)]

    def best(self, fraction: float = 0.25) -> int:
        """Index of the rate with the lowest :meth:`final` loss."""
        return int(np.argmin([e.value for e in self.final(fraction)]))

    def steps_to(self, level: float) -> list[tuple[Estimate, float]]:
        """Per rate: mean first recorded step with excess loss <= ``level``, and the fraction reached.

        The mean is over the chains that reach the level (``nan`` if fewer than 2 do).
        """
        out = []
        for i in range(self.rates.size):
            hit = self.excess[:, i] <= level
            reached = hit.any(axis=0)
            first = self.step[hit.argmax(axis=0)][reached].astype(float)
            est = chain_mean(first) if first.size >= 2 else Estimate(float("nan"), float("nan"))
            out.append((est, float(reached.mean())))
        return out


def rate_sweep(problem, phi0, rates, steps, *, chains, rng, preconditioner=None, batch_size=1,
               record_every=10, max_norm=1e8) -> Sweep:
    r"""Run (preconditioned) SGD at several constant rates at once and record excess losses.

    Every rate gets ``chains`` independent chains; all run in one vectorized
    :func:`sgdsim.sgd` call through :class:`ChainRates` (identical to separate
    runs). A divergence at any rate raises :class:`sgdsim.DivergenceError`.

    Parameters
    ----------
    problem : Problem
        Needs ``minimizer()`` (the excess loss is relative to it).
    phi0 : array_like (dim,)
    rates : array_like (m,)
    steps : int
    chains : int
        Chains per rate.
    rng, preconditioner, batch_size, record_every, max_norm
        As in :func:`sgdsim.sgd`.

    Returns
    -------
    Sweep
    """
    rates = as_finite_array(rates, "rates", ndim=1)
    chains = as_positive_int(chains, "chains", minimum=2)
    per_chain = np.repeat(rates, chains)
    pre = ChainRates(per_chain, preconditioner)
    phi0 = as_finite_array(phi0, "phi0", shape=(problem.dim,))
    traj = sgd(problem, phi0, 1.0, steps, chains=per_chain.size, rng=rng, batch_size=batch_size,
               record_every=record_every, preconditioner=pre, max_norm=max_norm)
    l_star = float(problem.loss(problem.minimizer()))
    n_ex = getattr(problem, "n", 1)
    chunk = max(1, int(4e6 // (per_chain.size * n_ex)))
    loss = np.concatenate([problem.loss(traj.phi[i:i + chunk])
                           for i in range(0, len(traj), chunk)])
    excess = (loss - l_star).reshape(len(traj), rates.size, chains)
    return Sweep(rates=rates, step=traj.step, excess=excess)


@dataclass(frozen=True)
class MethodResult:
    """One method of a :func:`benchmark`: its tuning sweep, chosen rate and fresh-seed evaluation."""

    name: str
    reference: float  #: the method's reference rate (grid = reference x multipliers)
    tuning: Sweep
    rate: float  #: the chosen rate
    evaluation: Sweep
    final: Estimate  #: evaluation: mean excess loss over the last ``fraction`` of the run
    steps_to_level: Estimate  #: evaluation: mean first step with excess <= level
    reached: float  #: fraction of evaluation chains that reached the level


class Ordering(NamedTuple):
    """Two independent estimates to be compared (``a`` against ``b``), with the z to use."""

    claim: str
    a: Estimate
    b: Estimate
    z: float


@dataclass(frozen=True)
class Benchmark:
    """Results of :func:`benchmark`, by method name."""

    level: float
    fraction: float
    results: dict

    def __getitem__(self, name) -> MethodResult:
        return self.results[name]

    def grid_margins(self) -> dict:
        """Per method: grid steps between the chosen rate and the nearer end of its tuning grid.

        0 means the tuning criterion was best at an end of the grid: the optimum is not
        bracketed, and a wider grid might do better -- the comparison is then not valid.
        """
        out = {}
        for name, m in self.results.items():
            i = int(np.flatnonzero(m.tuning.rates == m.rate)[0])
            out[name] = min(i, m.tuning.rates.size - 1 - i)
        return out

    def orderings(self, z: float = 4.0) -> list:
        r"""Every pairwise ordering of the methods, for both metrics, as observations.

        For each metric (final excess loss, steps to the level) and each pair of methods
        ``(earlier, later)`` in the order of ``results``, an :class:`Ordering` of the later
        method (``a``) against the earlier one (``b``), to be shown with
        :meth:`sgdsim.Claims.observe`: nothing is asserted. Reporting *all* pairs avoids choosing,
        after the fact, which comparisons to show.
        """
        names = list(self.results)
        out = []
        for label, attr in (("final loss", "final"), ("steps to level", "steps_to_level")):
            for j, later in enumerate(names):
                for earlier in names[:j]:
                    a, b = getattr(self[later], attr), getattr(self[earlier], attr)
                    out.append(Ordering(f"{label}, {later} vs {earlier}", a, b, z))
        return out

    def table(self) -> str:
        """A rounded plain-text table of the chosen rates and the evaluation metrics."""
        rows = [f"{'method':<10}{'chosen rate':>24}{'final excess loss':>26}"
                f"{'steps to level':>22}{'reached':>9}"]
        for m in self.results.values():
            mult = m.rate / m.reference
            rate = f"{m.rate:.3g} (ref/{1 / mult:.0f})"
            f = format_value(m.final.value, m.final.stderr)
            st = ("never" if not np.isfinite(m.steps_to_level.value)
                  else format_value(m.steps_to_level.value, m.steps_to_level.stderr))
            rows.append(f"{m.name:<10}{rate:>24}{f:>26}{st:>22}{m.reached:>9.0%}")
        return "\n".join(rows)


def benchmark(problem, phi0, methods, *, steps, multipliers, tune_chains, eval_chains, rng,
              batch_size=1, record_every=10, fraction=0.25, level_fraction=0.01) -> Benchmark:
    r"""Tune each method's constant rate on a grid, then evaluate it with fresh seeds.

    The protocol, fixed before any run:

    1. each method ``name -> (preconditioner, reference_rate)`` is run at the rates
       ``reference_rate * multipliers`` with ``tune_chains`` chains each
       (:func:`rate_sweep`);
    2. the chosen rate minimizes the mean excess loss over the last ``fraction``
       of the ``steps`` (:meth:`Sweep.best`);
    3. the chosen rate is run again with ``eval_chains`` chains drawn from an
       independent random stream, and reports the final excess loss and the
       number of steps to reach ``level_fraction`` of the initial excess loss.

    Parameters
    ----------
    problem : Problem
    phi0 : array_like (dim,)
    methods : dict
        ``name -> (preconditioner or None, reference_rate)``.
    steps : int
    multipliers : array_like
        The grid, relative to each method's reference rate.
    tune_chains, eval_chains : int
    rng : numpy.random.Generator or int
        Split into two independent streams (tuning, evaluation).
    batch_size, record_every
        As in :func:`sgdsim.sgd`.
    fraction : float
        The final part of the run averaged for the "final" loss.
    level_fraction : float
        The loss level, as a fraction of the initial excess loss.

    Returns
    -------
    Benchmark
    """
    gen = as_generator(rng)
    tune_rng, eval_rng = gen.spawn(2)
    mult = as_finite_array(multipliers, "multipliers", ndim=1)
    phi0 = as_finite_array(phi0, "phi0", shape=(problem.dim,))
    level = level_fraction * float(problem.loss(phi0) - problem.loss(problem.minimizer()))
    out = {}
    for name, (pre, ref) in methods.items():
        tuning = rate_sweep(problem, phi0, ref * mult, steps, chains=tune_chains, rng=tune_rng,
                            preconditioner=pre, batch_size=batch_size, record_every=record_every)
        rate = float(tuning.rates[tuning.best(fraction)])
        ev = rate_sweep(problem, phi0, [rate], steps, chains=eval_chains, rng=eval_rng,
                        preconditioner=pre, batch_size=batch_size, record_every=record_every)
        (st, reached), = ev.steps_to(level)
        out[name] = MethodResult(name=name, reference=float(ref), tuning=tuning, rate=rate,
                                 evaluation=ev, final=ev.final(fraction)[0], steps_to_level=st,
                                 reached=reached)
    return Benchmark(level=level, fraction=fraction, results=out)


# ----------------------------------------------------------------------------- scenes
#: The three rules of the chapter.
RULES = ("SGD", "η/σ²", "RMSProp")
#: c(0.9) from ``sgdsim.rmsprop_temperature_factor(0.9)`` (0.9718 ± 0.0003): T = c η σ / 2.
RMSPROP_FACTOR_09 = 0.9718


#: Curvatures (h_x, h_y) of the widget's loss.
HESSIAN = (1.0, 3.0)


@dataclass(frozen=True)
class CloudResult:
    """A simulated stationary cloud and its temperatures."""

    rule: str
    lr: float
    sigma: np.ndarray  #: (sigma_x, sigma_y)
    hessian: np.ndarray  #: (h_x, h_y)
    points: np.ndarray  #: final positions, (chains, 2)
    temperatures: tuple  #: measured (T_x, T_y) as Estimates
    predicted: np.ndarray  #: predicted (T_x, T_y)
    steps: int


def _problem(sigma, h):
    return NoisyPotential(lambda p: 0.5 * (p * p) @ h, lambda p: p * h, sigma**2,
                          minimizer=[0.0, 0.0])


def _rule_setup(rule, sigma, h, lr):
    """Preconditioner, per-coordinate contraction eps_k, predicted temperatures."""
    if rule == "SGD":
        pre, scales = None, np.ones(2)
    elif rule == "η/σ²":
        pre, scales = Diagonal(1.0 / sigma**2), 1.0 / sigma**2
    elif rule == "RMSProp":
        pre, scales = RMSProp(beta=0.9), 1.0 / sigma
    else:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if rule == "RMSProp":
        pred = RMSPROP_FACTOR_09 * lr * sigma / 2.0
    else:
        cov = sgd_stationary_cov(np.diag(h), np.diag(sigma**2), lr, preconditioner=scales)
        pred = np.diag(cov) * h
    return pre, lr * scales * h, pred


def stationary_cloud(sigma_x, sigma_y, lr, rule, *, rng, chains=300, hessian=HESSIAN,
                     max_steps=3000, steps=None, record_every=None) -> CloudResult:
    r"""Simulate ``chains`` SGD chains from the minimum under ``rule`` and measure :math:`T_x, T_y`.

    The run lasts :math:`\lceil 6/\epsilon_{\min}\rceil` steps (at most
    ``max_steps``; ``steps`` overrides), :math:`\epsilon_k = \eta_k h_k` the
    per-step contraction of the slowest coordinate; the temperatures are the
    diagonal of :func:`sgdsim.estimators.virial_matrix` over the second half of the run.

    Parameters
    ----------
    sigma_x, sigma_y : float > 0
        Gradient-noise standard deviations.
    lr : float > 0
        :math:`\eta'`.
    rule : {"SGD", "η/σ²", "RMSProp"}
    rng : numpy.random.Generator or int
    chains : int
    hessian : (float, float)
        :math:`(h_x, h_y)`.
    max_steps : int
    steps, record_every : int, optional
        Override the automatic run length and recording interval (about 200 records).
    """
    sigma = np.array([sigma_x, sigma_y], dtype=float)
    h = np.asarray(hessian, dtype=float)
    if not (np.all(np.isfinite(sigma)) and np.all(sigma > 0)):
        raise ValueError(f"sigma_x and sigma_y must be > 0, got {sigma_x!r}, {sigma_y!r}")
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be > 0, got {lr!r}")
    pre, eps, pred = _rule_setup(rule, sigma, h, float(lr))
    if steps is None:
        steps = int(min(max_steps, max(200, np.ceil(6.0 / eps.min()))))
    every = max(1, steps // 200) if record_every is None else record_every
    problem = _problem(sigma, h)
    traj = sgd(problem, [0.0, 0.0], lr, steps, chains=chains, rng=rng, record_every=every,
               preconditioner=pre)
    v = virial_matrix(problem, traj.phi[len(traj) // 2:])
    return CloudResult(rule=rule, lr=float(lr), sigma=sigma, hessian=h, points=traj.final,
                       temperatures=tuple(v.diagonal), predicted=pred, steps=steps)



# ----------------------------------------------------------------------- beyond the slides
class CoinNoise(Problem):
    r""":math:`\mathcal L = \tfrac12 h x^2` seen through :math:`\hat g = hx + \sigma s/\sqrt B`,
    :math:`s = \pm 1` a fair coin: unit-variance noise whose square is exactly 1.

    Under RMSProp this noise has :math:`c(\beta) = 1/\beta` (the squares in the mean square do
    not fluctuate), against :math:`c(0.9) \approx 0.97` for Gaussian noise.
    """

    noise_is_constant = True

    def __init__(self, h=1.0, sigma=1.0):
        self.dim, self.h, self.sigma = 1, float(h), float(sigma)

    def loss(self, phi):
        return 0.5 * self.h * self._phi(phi)[..., 0] ** 2

    def grad(self, phi):
        return self.h * self._phi(phi)

    def sample_grad(self, phi, batch_size, rng):
        phi = self._phi(phi)
        b = self._batch(batch_size)
        coin = as_generator(rng).integers(0, 2, size=phi.shape) * 2.0 - 1.0
        return self.h * phi + self.sigma * coin / np.sqrt(b)

    def noise_cov(self, phi=None):
        return np.array([[self.sigma**2]])

    def minimizer(self):
        return np.zeros(1)

    def hessian(self, phi):
        return np.full(self._phi(phi).shape[:-1] + (1, 1), self.h)


def mean_field_rmsprop(grad, noise_var, x0, lr, steps, *, beta=0.9):
    r"""RMSProp with the noise averaged out: the path it follows while :math:`|g| \gg \sigma`.

    Iterates :math:`v \leftarrow \beta v + (1-\beta)(g(x)^2 + \sigma^2)`,
    :math:`x \leftarrow x - \eta'\,g(x)/\sqrt v` from :math:`v_0 = 0`: the uncentred mean
    square with every :math:`\hat g^2` replaced by its mean :math:`g^2 + \sigma^2`. Its error
    against the mean of real RMSProp chains comes from the fluctuations of :math:`v` and of
    the step, of relative order :math:`(1-\beta)\,\sigma^2/g^2`.

    Returns
    -------
    x, v : numpy.ndarray, shape (steps + 1,) each (``v[0] = 0``).
    """
    steps = as_positive_int(steps, "steps")
    x, v = np.empty(steps + 1), np.zeros(steps + 1)
    x[0] = float(x0)
    for k in range(steps):
        g = float(grad(x[k]))
        v[k + 1] = beta * v[k] + (1 - beta) * (g * g + noise_var)
        x[k + 1] = x[k] - lr * g / np.sqrt(v[k + 1])
    return x, v


@dataclass(frozen=True)
class PositionNoise:
    r"""A 1-D loss :math:`\tfrac12 h x^2` with position-dependent noise variance
    :math:`\sigma^2(x) = \sigma_0^2(1 + x^2/\ell^2)`, and its inverse-variance rule
    :math:`P(x) = 1/\sigma^2(x)`.

    With :math:`P = \Sigma^{-1}` exactly, the Fokker--Planck flux of the Gibbs density
    :math:`e^{-\mathcal L/T}`, :math:`T = \eta'/2`, keeps the residual
    :math:`-(\eta'/2)\,p\,\nabla\cdot P`, and the stationary density is instead
    :math:`p \propto e^{-\mathcal L/T}/P(x) = \sigma^2(x)\,e^{-\mathcal L/T}` (:meth:`density`).
    """

    h: float = 0.05
    sigma0: float = 1.0
    ell: float = 1.0

    def noise_var(self, x):
        return self.sigma0**2 * (1.0 + (x / self.ell) ** 2)

    def P(self, x):
        return 1.0 / self.noise_var(x)

    def dP(self, x):
        """:math:`\\nabla\\cdot P = P'(x)`."""
        return -2.0 * x / self.ell**2 * self.sigma0**2 * self.P(x) ** 2

    def density(self, x, lr, *, residual=True):
        r"""The Langevin-limit stationary density, normalized on the grid ``x`` (uniform).

        ``residual=False``: the Gibbs density :math:`e^{-\mathcal L/T}`, :math:`T = \eta'/2`;
        ``residual=True``: :math:`\sigma^2(x)\,e^{-\mathcal L/T}`, what the ∇·P flux leaves.
        """
        x = np.asarray(x, dtype=float)
        logp = -0.5 * self.h * x**2 / (lr / 2.0)
        if residual:
            logp = logp + np.log(self.noise_var(x))
        p = np.exp(logp - logp.max())
        return p / (p.sum() * (x[1] - x[0]))

    def second_moment(self, lr, *, residual=True):
        r""":math:`E[x^2]` of :meth:`density` in closed form.

        Gibbs: :math:`s^2 = T/h`. With the residual, the weight :math:`1 + x^2/\ell^2` gives
        :math:`E[x^2] = s^2 (1 + 3 s^2/\ell^2)/(1 + s^2/\ell^2)`.
        """
        s2 = (lr / 2.0) / self.h
        if not residual:
            return s2
        r = s2 / self.ell**2
        return s2 * (1.0 + 3.0 * r) / (1.0 + r)


def position_noise_sgd(model: PositionNoise, lr, steps, *, chains, rng, correction=False,
                       record_every=50, x0=None) -> Trajectory:
    r"""SGD with the inverse-variance rule :math:`x \leftarrow x - \eta' P(x)\,\hat g` on
    :class:`PositionNoise`, :math:`\hat g = hx + \sigma(x) z`.

    ``correction=True`` adds the term that cancels the residual flux,
    :math:`x \leftarrow x - \eta' P(x)\hat g + \tfrac12\eta'^2 P'(x)` (the :math:`\Gamma` term of
    preconditioned SGLD), which makes the Gibbs density stationary again in the Langevin limit.
    Chains start from ``x0`` (default: a draw from the Gibbs density).
    """
    gen = as_generator(rng)
    chains = as_positive_int(chains, "chains", minimum=2)
    lr = float(lr)
    if x0 is None:
        phi = gen.standard_normal((chains, 1)) * np.sqrt(lr / 2.0 / model.h)
    else:
        phi = np.full((chains, 1), float(x0))

    def direction(p):
        s2 = model.noise_var(p)
        d = (model.h * p + np.sqrt(s2) * gen.standard_normal(p.shape)) / s2
        if correction:
            d -= 0.5 * lr * model.dP(p)
        return d

    rates = np.full(as_positive_int(steps, "steps"), lr)
    return iterate_map("SGD", None, phi, rates, direction, record_every, 1e8)


def table_html(header, rows) -> "HTMLTable":
    """A small HTML table (with a plain-text fallback) for results shown in a chapter."""
    return HTMLTable(tuple(header), [tuple(r) for r in rows])


@dataclass(frozen=True)
class HTMLTable:
    header: tuple
    rows: list

    def _repr_html_(self) -> str:
        import html as _h
        head = "".join(f"<th>{_h.escape(str(c))}</th>" for c in self.header)
        body = "".join("<tr>" + "".join(f"<td>{_h.escape(str(c))}</td>" for c in r) + "</tr>"
                       for r in self.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        cols = list(zip(self.header, *self.rows))
        w = [max(len(str(c)) for c in col) for col in cols]
        lines = ["  ".join(str(c).ljust(n) for c, n in zip(self.header, w))]
        lines += ["  ".join(str(c).ljust(n) for c, n in zip(r, w)) for r in self.rows]
        return "\n".join(line.rstrip() for line in lines)
