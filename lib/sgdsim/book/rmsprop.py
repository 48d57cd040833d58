r"""The RMSProp chapter's experiments: rate sweeps, the benchmark and its scenes.

Exact laws of preconditioned SGD on quadratics are in :mod:`sgdsim.laws` (``preconditioner=``),
RMSProp's temperature :math:`c(\beta)\,\eta\sigma/(2\sqrt B)` in :mod:`sgdsim.gibbs`.
Rates :math:`\eta'` are those of the preconditioned update
:math:`\Phi \leftarrow \Phi - \eta' P\hat g`; the excess loss is
:math:`\mathcal L - \mathcal L(\Phi^*)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_finite_array, as_generator, as_positive_int, as_rate
from ..dynamics import Trajectory, iterate_map, sgd
from ..estimators import Estimate, chain_mean, virial_matrix
from ..laws import sgd_stationary_cov
from ..preconditioners import ChainRates, Diagonal, RMSProp
from ..problems import NoisyPotential, Problem
from .ledger import ResultsTable  # noqa: F401 (re-exported: the chapter calls it here)

__all__ = ["RULES", "CoinNoise", "mean_field_rmsprop", "PositionNoise", "position_noise_sgd",
           "ResultsTable", "CloudResult", "stationary_cloud", "Sweep", "rate_sweep",
           "MethodResult", "Benchmark", "benchmark"]


@dataclass(frozen=True)
class Sweep:
    """Excess losses of one method at several rates: ``excess`` is (records, rates, chains)."""

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
        """Per rate: mean first recorded step with excess <= ``level`` over the chains that
        reach it (``nan`` if fewer than 2 do), and the fraction of chains that reach it."""
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
    """(Preconditioned) SGD from ``phi0`` with ``chains`` chains at every rate of ``rates``.

    All rates run in one vectorized :func:`sgdsim.sgd` call through :class:`ChainRates`
    (identical to separate runs); other arguments as in :func:`sgdsim.sgd`.
    """
    rates = as_finite_array(rates, "rates", ndim=1)
    chains = as_positive_int(chains, "chains", minimum=2)
    per_chain = np.repeat(rates, chains)
    pre = ChainRates(per_chain, preconditioner)
    phi0 = as_finite_array(phi0, "phi0", shape=(problem.dim,))
    traj = sgd(problem, phi0, 1.0, steps, chains=per_chain.size, rng=rng, batch_size=batch_size,
               record_every=record_every, preconditioner=pre, max_norm=max_norm)
    l_star = float(problem.loss(problem.minimizer()))
    chunk = max(1, int(4e6 // (per_chain.size * getattr(problem, "n", 1))))
    loss = np.concatenate([problem.loss(traj.phi[i:i + chunk])
                           for i in range(0, len(traj), chunk)])
    excess = (loss - l_star).reshape(len(traj), rates.size, chains)
    return Sweep(rates=rates, step=traj.step, excess=excess)


@dataclass(frozen=True)
class MethodResult:
    """One method of a :func:`benchmark`: its tuning sweep, chosen rate and evaluation."""

    tuning: Sweep
    rate: float
    evaluation: Sweep
    final: Estimate  #: mean excess loss over the last ``fraction`` of the evaluation
    steps_to_level: Estimate  #: mean first evaluation step with excess <= level
    reached: float  #: fraction of evaluation chains that reached the level


@dataclass(frozen=True)
class Benchmark:
    """Results of :func:`benchmark`, by method name."""

    level: float
    results: dict

    def __getitem__(self, name) -> MethodResult:
        return self.results[name]

    def grid_margins(self) -> dict:
        """Per method: grid steps from the chosen rate to the nearer end of its tuning grid
        (0: the optimum is not bracketed and the comparison is not valid)."""
        out = {}
        for name, m in self.results.items():
            i = int(np.flatnonzero(m.tuning.rates == m.rate)[0])
            out[name] = min(i, m.tuning.rates.size - 1 - i)
        return out


def benchmark(problem, phi0, methods, *, steps, multipliers, tune_chains, eval_chains, rng,
              batch_size=1, record_every=10, fraction=0.25, level_fraction=0.01) -> Benchmark:
    """Tune each method's constant rate on a grid, then evaluate it with fresh seeds.

    Each method ``name -> (preconditioner or None, reference_rate)`` runs at
    ``reference_rate * multipliers`` with ``tune_chains`` chains (:func:`rate_sweep`); the
    rate with the lowest mean excess loss over the last ``fraction`` of the ``steps`` is run
    again with ``eval_chains`` chains from an independent stream (``rng`` is split in two),
    which gives the final excess loss and the steps to ``level_fraction`` of the initial one.
    """
    tune_rng, eval_rng = as_generator(rng).spawn(2)
    mult = as_finite_array(multipliers, "multipliers", ndim=1)
    phi0 = as_finite_array(phi0, "phi0", shape=(problem.dim,))
    level = level_fraction * float(problem.loss(phi0) - problem.loss(problem.minimizer()))
    run = dict(batch_size=batch_size, record_every=record_every)
    out = {}
    for name, (pre, ref) in methods.items():
        tuning = rate_sweep(problem, phi0, ref * mult, steps, chains=tune_chains, rng=tune_rng,
                            preconditioner=pre, **run)
        rate = float(tuning.rates[tuning.best(fraction)])
        ev = rate_sweep(problem, phi0, [rate], steps, chains=eval_chains, rng=eval_rng,
                        preconditioner=pre, **run)
        (st, reached), = ev.steps_to(level)
        out[name] = MethodResult(tuning=tuning, rate=rate, evaluation=ev,
                                 final=ev.final(fraction)[0], steps_to_level=st, reached=reached)
    return Benchmark(level=level, results=out)


#: The three rules of the chapter.
RULES = ("SGD", "η/σ²", "RMSProp")
#: c(0.9) from ``sgdsim.rmsprop_temperature_factor(0.9)`` (0.9718 ± 0.0003): T = c η σ / 2.
RMSPROP_FACTOR_09 = 0.9718
#: Curvatures (h_x, h_y) of the explorer's loss.
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


def stationary_cloud(sigma_x, sigma_y, lr, rule, *, rng, chains=300, hessian=HESSIAN,
                     max_steps=3000, steps=None, record_every=None) -> CloudResult:
    r"""SGD chains from the minimum of :math:`\tfrac12(h_x x^2 + h_y y^2)` with noise
    standard deviations :math:`\sigma_x, \sigma_y` under ``rule`` (one of :data:`RULES`).

    The run lasts :math:`\lceil 6/\epsilon_{\min}\rceil` steps (at least 200, at most
    ``max_steps``; ``steps`` overrides), :math:`\epsilon_k = \eta' P_k h_k` the per-step
    contraction; about 200 records. The temperatures are the diagonal of
    :func:`sgdsim.estimators.virial_matrix` over the second half of the run; the predicted
    ones :math:`h_k S_{kk}` from the exact law, :math:`c(0.9)\,\eta'\sigma_k/2` for RMSProp.
    """
    sigma = np.array([sigma_x, sigma_y], dtype=float)
    h = np.asarray(hessian, dtype=float)
    if not (np.all(np.isfinite(sigma)) and np.all(sigma > 0)):
        raise ValueError(f"sigma_x and sigma_y must be > 0, got {sigma_x!r}, {sigma_y!r}")
    lr = as_rate(lr)
    if rule == "SGD":
        pre, scales = None, np.ones(2)
    elif rule == "η/σ²":
        pre, scales = Diagonal(1.0 / sigma**2), 1.0 / sigma**2
    elif rule == "RMSProp":
        pre, scales = RMSProp(beta=0.9), 1.0 / sigma
    else:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    pred = (RMSPROP_FACTOR_09 * lr * sigma / 2.0 if rule == "RMSProp" else
            np.diag(sgd_stationary_cov(np.diag(h), np.diag(sigma**2), lr,
                                       preconditioner=scales)) * h)
    eps = lr * scales * h
    if steps is None:
        steps = int(min(max_steps, max(200, np.ceil(6.0 / eps.min()))))
    every = max(1, steps // 200) if record_every is None else record_every
    problem = NoisyPotential(lambda p: 0.5 * (p * p) @ h, lambda p: p * h, sigma**2,
                             minimizer=[0.0, 0.0])
    traj = sgd(problem, [0.0, 0.0], lr, steps, chains=chains, rng=rng, record_every=every,
               preconditioner=pre)
    v = virial_matrix(problem, traj.phi[len(traj) // 2:])
    return CloudResult(rule=rule, lr=lr, sigma=sigma, hessian=h, points=traj.final,
                       temperatures=tuple(v.diagonal), predicted=pred, steps=steps)


class CoinNoise(Problem):
    r""":math:`\mathcal L = \tfrac12 h x^2` seen through :math:`\hat g = hx + \sigma s/\sqrt B`,
    :math:`s = \pm 1` a fair coin: under RMSProp :math:`c(\beta) = 1/\beta` (the squares in
    the mean square do not fluctuate), against :math:`c(0.9) \approx 0.97` for Gaussian noise.
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
        b = as_positive_int(batch_size, "batch_size")
        coin = as_generator(rng).integers(0, 2, size=phi.shape) * 2.0 - 1.0
        return self.h * phi + self.sigma * coin / np.sqrt(b)

    def noise_cov(self, phi=None):
        return np.array([[self.sigma**2]])

    def minimizer(self):
        return np.zeros(1)

    def hessian(self, phi):
        return np.full(self._phi(phi).shape[:-1] + (1, 1), self.h)


def mean_field_rmsprop(grad, noise_var, x0, lr, steps, *, beta=0.9):
    r"""RMSProp with the noise averaged out, the path it follows while :math:`|g| \gg \sigma`:
    :math:`v \leftarrow \beta v + (1-\beta)(g(x)^2 + \sigma^2)`,
    :math:`x \leftarrow x - \eta'\,g(x)/\sqrt v` from :math:`v_0 = 0`.

    Its error against the mean of RMSProp chains is of relative order
    :math:`(1-\beta)\,\sigma^2/g^2`. Returns ``x, v``, each of shape (steps + 1,).
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
    r""":math:`\mathcal L = \tfrac12 h x^2` with noise variance
    :math:`\sigma^2(x) = \sigma_0^2(1 + x^2/\ell^2)` and the inverse-variance rule
    :math:`P(x) = 1/\sigma^2(x)`.

    The Fokker--Planck flux of the Gibbs density :math:`e^{-\mathcal L/T}`, :math:`T = \eta'/2`,
    keeps the residual :math:`-(\eta'/2)\,p\,\nabla\cdot P`; the stationary density is instead
    :math:`p \propto \sigma^2(x)\,e^{-\mathcal L/T}`.
    """

    h: float = 0.05
    sigma0: float = 1.0
    ell: float = 1.0

    def noise_var(self, x):
        return self.sigma0**2 * (1.0 + (x / self.ell) ** 2)

    def P(self, x):
        return 1.0 / self.noise_var(x)

    def dP(self, x):
        r""":math:`\nabla\cdot P = P'(x)`."""
        return -2.0 * x / self.ell**2 * self.sigma0**2 * self.P(x) ** 2

    def density(self, x, lr, *, residual=True):
        r"""The Langevin-limit stationary density on the uniform grid ``x`` (normalized):
        :math:`\sigma^2(x)\,e^{-\mathcal L/T}`, or the Gibbs density if not ``residual``."""
        x = np.asarray(x, dtype=float)
        logp = -0.5 * self.h * x**2 / (lr / 2.0)
        if residual:
            logp = logp + np.log(self.noise_var(x))
        p = np.exp(logp - logp.max())
        return p / (p.sum() * (x[1] - x[0]))

    def second_moment(self, lr, *, residual=True):
        r""":math:`E[x^2]` of :meth:`density`: :math:`s^2 = T/h` (Gibbs), with the residual
        :math:`s^2 (1 + 3 s^2/\ell^2)/(1 + s^2/\ell^2)`."""
        s2 = (lr / 2.0) / self.h
        if not residual:
            return s2
        r = s2 / self.ell**2
        return s2 * (1.0 + 3.0 * r) / (1.0 + r)


def position_noise_sgd(model: PositionNoise, lr, steps, *, chains, rng, correction=False,
                       record_every=50) -> Trajectory:
    r"""SGD :math:`x \leftarrow x - \eta' P(x)\,\hat g`, :math:`\hat g = hx + \sigma(x) z`, on
    :class:`PositionNoise`.

    ``correction=True`` adds :math:`\tfrac12\eta'^2 P'(x)` (the :math:`\Gamma` term of
    preconditioned SGLD), which makes the Gibbs density stationary in the Langevin limit.
    Chains start from a draw from the Gibbs density.
    """
    gen = as_generator(rng)
    chains = as_positive_int(chains, "chains", minimum=2)
    lr = float(lr)
    phi = gen.standard_normal((chains, 1)) * np.sqrt(lr / 2.0 / model.h)

    def direction(p):
        s2 = model.noise_var(p)
        d = (model.h * p + np.sqrt(s2) * gen.standard_normal(p.shape)) / s2
        if correction:
            d -= 0.5 * lr * model.dP(p)
        return d

    rates = np.full(as_positive_int(steps, "steps"), lr)
    return iterate_map("SGD", None, phi, rates, direction, record_every, 1e8)
