r"""Per-parameter learning rates: exact laws, temperatures, RMSProp theory, rate sweeps.

The machinery of the RMSProp chapter. SGD with a constant symmetric positive
definite preconditioner :math:`P` (a :class:`~sgdsim.Diagonal` of per-parameter
rate multipliers, or :class:`Dense`) steps

.. math:: \Phi_{k+1} = \Phi_k - \eta\, P\, \hat g_k .

On a quadratic :math:`\mathcal L = \tfrac12 \delta^\top H \delta`,
:math:`\delta = \Phi - \Phi^*`, with additive noise of covariance
:math:`\Sigma/B`, the change of variables :math:`u = P^{-1/2}\delta` turns it into
*plain* SGD with the symmetric Hessian :math:`\tilde H = P^{1/2} H P^{1/2}` and
noise :math:`\tilde\Sigma = P^{1/2}\Sigma P^{1/2}`:

.. math:: u_{k+1} = (I - \eta\tilde H)\,u_k - \eta\,P^{1/2}\xi_k ,

so every exact result for plain SGD (:func:`sgdsim.sgd_stationary_cov`) carries
over (:func:`preconditioned_sgd_stationary_cov`, :func:`expected_excess_loss`).

Temperatures are measured with the *virial* identity: for a Gibbs law
:math:`p \propto e^{-\mathcal L/T}`, integration by parts gives
:math:`E[(\Phi-\Phi^*)_i\, \partial_j\mathcal L] = T\,\delta_{ij}` for any loss,
so the matrix :math:`V_{ij} = E[\delta_i\, g_j]` (:func:`virial_matrix`) is
:math:`T I` exactly when the law is Gibbs, and its diagonal entries are the
per-coordinate temperatures of a product law.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import (
    as_finite_array,
    as_generator,
    as_nonnegative,
    as_positive_int,
    as_symmetric_psd,
)
from .checks import ClaimFailed, format_value
from .estimators import Estimate, chain_mean
from .preconditioners import RMSProp, as_preconditioner

__all__ = [
    "Dense",
    "ChainRates",
    "preconditioned_sgd_stationary_cov",
    "preconditioned_langevin_stationary_cov",
    "expected_excess_loss",
    "MatrixEstimate",
    "virial_matrix",
    "ratio_of_means",
    "rmsprop_temperature_factor",
    "rmsprop_temperature",
    "rmsprop_mean_square",
    "Sweep",
    "rate_sweep",
    "reference_rate",
    "MethodResult",
    "Benchmark",
    "benchmark",
    "Comparison",
    "compare",
    "observe",
]


# --------------------------------------------------------------------------- preconditioners
class Dense:
    r"""A constant full-matrix preconditioner: :math:`d = P\,\hat g`.

    With :math:`P \propto \Sigma^{-1}` (the inverse gradient-noise covariance)
    the Langevin stationary law is Gibbs even when the noise is correlated,
    which no diagonal :math:`P` achieves.

    Parameters
    ----------
    matrix : array_like, shape (dim, dim)
        Symmetric positive definite :math:`P`.
    """

    def __init__(self, matrix):
        self.matrix = as_symmetric_psd(matrix, "matrix", definite=True)

    def init(self, phi):
        if phi.shape[-1] != self.matrix.shape[0]:
            raise ValueError(
                f"Dense preconditioner is {self.matrix.shape[0]}x{self.matrix.shape[0]} "
                f"but the parameters have dim={phi.shape[-1]}"
            )
        return None

    def apply(self, state, g):
        return g @ self.matrix, state  # P is symmetric: (P g)^T = g^T P

    def __repr__(self) -> str:
        return f"Dense(dim={self.matrix.shape[0]})"


class ChainRates:
    r"""Give every chain its own learning-rate multiplier: :math:`d_c = r_c\, d^{\rm inner}_c`.

    Running :func:`sgdsim.sgd` with ``lr=1`` and this preconditioner is the same
    as running one SGD per chain with rate :math:`r_c` (and the inner
    preconditioner, whose state stays per chain), in a single vectorized call:
    this is how :func:`rate_sweep` tries a grid of rates at once.

    Parameters
    ----------
    rates : array_like, shape (chains,)
        Finite, non-negative per-chain rates.
    inner : None, array_like (dim,), or preconditioner
        Applied first (e.g. :class:`sgdsim.RMSProp`).
    """

    def __init__(self, rates, inner=None):
        r = as_finite_array(rates, "rates", ndim=1)
        if np.any(r < 0):
            raise ValueError("rates must be >= 0: a negative rate climbs the loss")
        self.rates = r
        self.inner = as_preconditioner(inner)

    def init(self, phi):
        if phi.shape[0] != self.rates.shape[0]:
            raise ValueError(
                f"ChainRates has {self.rates.shape[0]} rates but there are {phi.shape[0]} chains"
            )
        return None if self.inner is None else self.inner.init(phi)

    def apply(self, state, g):
        if self.inner is not None:
            g, state = self.inner.apply(state, g)
        return g * self.rates[:, None], state

    def __repr__(self) -> str:
        return f"ChainRates({self.rates.shape[0]} chains, inner={self.inner!r})"


# --------------------------------------------------------------------------- exact laws
def _sqrt_p(scales, dim):
    """Symmetric square root of P (1-D scales = diagonal, 2-D = dense), P positive definite."""
    s = np.asarray(scales, dtype=float)
    if s.ndim == 1:
        s = as_finite_array(s, "scales", shape=(dim,))
        if np.any(s <= 0):
            raise ValueError("scales must be > 0 (a zero rate freezes a coordinate: no stationary law)")
        return np.diag(np.sqrt(s))
    p = as_symmetric_psd(s, "scales", dim=dim, definite=True)
    w, v = np.linalg.eigh(p)
    return (v * np.sqrt(w)) @ v.T


def _transformed(hessian, noise_cov, scales):
    h = as_symmetric_psd(np.atleast_2d(hessian), "hessian", definite=True)
    s = as_symmetric_psd(np.atleast_2d(noise_cov), "noise_cov", dim=h.shape[0])
    r = _sqrt_p(scales, h.shape[0])
    sym = lambda m: 0.5 * (m + m.T)  # noqa: E731
    return r, sym(r @ h @ r), sym(r @ s @ r)


def preconditioned_sgd_stationary_cov(hessian, noise_cov, lr, scales, batch_size=1):
    r"""Exact stationary covariance of preconditioned SGD on a quadratic.

    For :math:`\delta_{k+1} = (I - \eta P H)\delta_k - \eta P\xi_k`,
    :math:`\operatorname{Cov}\xi = \Sigma/B`, it solves
    :math:`C = (I-\eta PH)\,C\,(I-\eta PH)^\top + \eta^2 P\Sigma P/B` through
    :math:`C = P^{1/2}\,\tilde C\,P^{1/2}`, where :math:`\tilde C` is the plain-SGD
    law (:func:`sgdsim.sgd_stationary_cov`) for :math:`\tilde H = P^{1/2}HP^{1/2}`
    and :math:`\tilde\Sigma = P^{1/2}\Sigma P^{1/2}`. For diagonal :math:`H`,
    :math:`\Sigma` and :math:`P = \mathrm{diag}(s)` this is
    :math:`C_{kk} = \eta s_k\sigma_k^2 / (B h_k (2 - \eta s_k h_k))`.

    Parameters
    ----------
    hessian, noise_cov : array_like (dim, dim)
        :math:`H` (positive definite) and the single-example :math:`\Sigma`.
    lr : float
        :math:`\eta`; it needs :math:`0 < \eta < 2/\lambda_{\max}(\tilde H)`.
    scales : array_like (dim,) or (dim, dim)
        The diagonal of :math:`P` (all > 0) or a symmetric positive definite :math:`P`.
    batch_size : int
    """
    from .stationary import sgd_stationary_cov

    r, ht, st = _transformed(hessian, noise_cov, scales)
    c = r @ sgd_stationary_cov(ht, st, lr, batch_size) @ r
    return 0.5 * (c + c.T)


def preconditioned_langevin_stationary_cov(hessian, noise_cov, lr, scales, batch_size=1):
    r"""Stationary covariance of the preconditioned Langevin (Ornstein--Uhlenbeck) model.

    Solves :math:`PH\,C + C\,HP = \eta\,P\Sigma P/B`. When
    :math:`P\Sigma = c\,I` (for instance :math:`P = \Sigma^{-1}`) its solution
    is :math:`C = T H^{-1}` with :math:`T = \eta c/(2B)`: the Gibbs law
    :math:`e^{-\mathcal L/T}`, whatever the correlations of :math:`H`.
    """
    from .stationary import langevin_stationary_cov

    r, ht, st = _transformed(hessian, noise_cov, scales)
    c = r @ langevin_stationary_cov(ht, st, lr, batch_size) @ r
    return 0.5 * (c + c.T)


def expected_excess_loss(hessian, noise_cov, lr, delta0, steps, *, scales=None, batch_size=1):
    r"""Exact :math:`E[\mathcal L(\Phi_k)] - \mathcal L^*` of (preconditioned) SGD on a quadratic.

    With :math:`\tilde H = P^{1/2}HP^{1/2} = Q\,\mathrm{diag}(\mu)\,Q^\top`,
    :math:`\lambda_a = 1 - \eta\mu_a`, :math:`m = Q^\top P^{-1/2}\delta_0` and
    :math:`N = \eta^2 Q^\top P^{1/2}\Sigma P^{1/2} Q / B`,

    .. math::
        E[\mathcal L_k] - \mathcal L^* = \tfrac12\sum_a \mu_a\Bigl(\lambda_a^{2k} m_a^2
        + N_{aa}\,\frac{1-\lambda_a^{2k}}{1-\lambda_a^2}\Bigr),

    exact for additive noise independent across steps (``NoisyPotential`` with
    a quadratic, ``Quadratic``), at every rate.

    Parameters
    ----------
    hessian, noise_cov : array_like (dim, dim)
    lr : float >= 0
    delta0 : array_like (dim,)
        :math:`\Phi_0 - \Phi^*`.
    steps : array_like of int
        Step counts :math:`k` at which to evaluate.
    scales : None, array_like (dim,) or (dim, dim)
        The preconditioner (``None``: plain SGD).
    batch_size : int

    Returns
    -------
    numpy.ndarray, shape of ``steps``
    """
    h = as_symmetric_psd(np.atleast_2d(hessian), "hessian")
    dim = h.shape[0]
    s = as_symmetric_psd(np.atleast_2d(noise_cov), "noise_cov", dim=dim)
    eta = float(lr)
    if not (np.isfinite(eta) and eta >= 0):
        raise ValueError(f"lr must be finite and >= 0, got {lr!r}")
    b = as_positive_int(batch_size, "batch_size")
    d0 = as_finite_array(delta0, "delta0", shape=(dim,))
    k = np.asarray(steps)
    if not np.issubdtype(k.dtype, np.integer) or np.any(k < 0):
        raise ValueError("steps must be non-negative integers")
    r = np.eye(dim) if scales is None else _sqrt_p(scales, dim)
    mu, q = np.linalg.eigh(r @ h @ r)
    lam = 1.0 - eta * mu
    m = q.T @ np.linalg.solve(r, d0)
    n = eta**2 * np.einsum("ia,ij,ja->a", q, r @ s @ r, q) / b
    lam2k = lam[None, :] ** (2 * k.reshape(-1, 1))
    denom = 1.0 - lam**2
    with np.errstate(divide="ignore", invalid="ignore"):
        geo = np.where(np.abs(denom) > 1e-15, (1.0 - lam2k) / denom, k.reshape(-1, 1))
    out = 0.5 * (mu * (lam2k * m**2 + n * geo)).sum(axis=1)
    return out.reshape(k.shape)


# --------------------------------------------------------------------------- estimators
@dataclass(frozen=True)
class MatrixEstimate:
    """A matrix of values with their standard errors; ``m[i, j]`` is an :class:`Estimate`."""

    value: np.ndarray
    stderr: np.ndarray

    def __getitem__(self, idx) -> Estimate:
        return Estimate(float(self.value[idx]), float(self.stderr[idx]))

    @property
    def diagonal(self) -> list[Estimate]:
        return [self[i, i] for i in range(self.value.shape[0])]


def virial_matrix(problem, phi, center=None) -> MatrixEstimate:
    r"""Estimate :math:`V_{ij} = E[(\Phi-c)_i\, g_j(\Phi)]` from stationary samples.

    For a Gibbs law :math:`e^{-\mathcal L/T}`, :math:`V = T\,I` exactly, for any
    loss and any centre :math:`c`; for a product law
    :math:`\prod_k e^{-\mathcal L_k(\phi_k)/T_k}` of a separable loss,
    :math:`V = \mathrm{diag}(T_k)`. So the diagonal measures per-coordinate
    temperatures and the off-diagonal entries (and unequal diagonal ones)
    measure how far the law is from Gibbs. On a quadratic, :math:`V = CH`.

    Parameters
    ----------
    problem : Problem
        Provides ``grad`` (and ``minimizer`` when ``center`` is omitted).
    phi : array_like, shape (records, chains, dim)
        Stationary samples (burn-in removed); at least 2 independent chains.
    center : array_like (dim,), optional
        :math:`c` (default: ``problem.minimizer()``).

    Returns
    -------
    MatrixEstimate
        Each entry averaged over time within a chain, with the standard error
        from the spread of the chain averages (:func:`sgdsim.chain_mean`).
    """
    phi = as_finite_array(phi, "phi", ndim=3)
    c = problem.minimizer() if center is None else as_finite_array(
        center, "center", shape=(phi.shape[-1],))
    d = phi - c
    g = problem.grad(phi)
    per_chain = np.einsum("rci,rcj->cij", d, g) / phi.shape[0]
    n = per_chain.shape[0]
    if n < 2:
        raise ValueError("virial_matrix needs at least 2 independent chains for standard errors")
    return MatrixEstimate(per_chain.mean(axis=0), per_chain.std(axis=0, ddof=1) / np.sqrt(n))


def ratio_of_means(numerator, denominator) -> Estimate:
    r"""Estimate :math:`E[a]/E[b]` from paired samples, with a delta-method standard error.

    Each chain's time averages :math:`(\bar a_c, \bar b_c)` are one independent
    draw; :math:`R = \bar a/\bar b` and
    :math:`\mathrm{se}(R) = s(\bar a_c - R\,\bar b_c) / (\sqrt C\,|\bar b|)`.

    Parameters
    ----------
    numerator, denominator : array_like, shape (records, chains) or (chains,)
    """
    a = as_finite_array(numerator, "numerator", ndim=(1, 2))
    b = as_finite_array(denominator, "denominator", shape=a.shape)
    if a.ndim == 2:
        a, b = a.mean(axis=0), b.mean(axis=0)
    if a.size < 2:
        raise ValueError("ratio_of_means needs at least 2 independent chains")
    mb = b.mean()
    if mb == 0:
        raise ValueError("the denominator's mean is 0: the ratio is undefined")
    r = a.mean() / mb
    return Estimate(float(r), float((a - r * b).std(ddof=1) / (np.sqrt(a.size) * abs(mb))))


# --------------------------------------------------------------------------- RMSProp theory
def rmsprop_temperature_factor(beta=0.9, *, rng, chains=4000, steps=None, sampler=None) -> Estimate:
    r"""The constant :math:`c(\beta)` in RMSProp's temperature :math:`T = c(\beta)\,\eta\sigma/2`.

    Near a minimum of a coordinate with curvature :math:`h` and noise
    :math:`\hat g = h\delta + \sigma z`, RMSProp's mean square is
    :math:`v = \sigma^2 w` with :math:`w \leftarrow \beta w + (1-\beta) z^2`.
    When :math:`\delta` moves slowly (:math:`\eta h/\sigma \ll 1-\beta`) it sees

    * a mean restoring rate :math:`(\eta h/\sigma)\,\kappa`,
      :math:`\kappa = E[w^{-1/2}] - (1-\beta)\,E[z^2 w^{-3/2}]` (the derivative of
      the mean step :math:`E[\hat g/\sqrt v]` with respect to the mean gradient; the
      second term is there because :math:`v` contains the current :math:`\hat g^2`);
    * a step-noise variance :math:`\eta^2\,\nu`, :math:`\nu = E[z^2/w]`,

    so :math:`\operatorname{Var}\delta = \eta\sigma\nu/(2h\kappa)` and
    :math:`T = h\operatorname{Var}\delta = c(\beta)\,\eta\sigma/2` with
    :math:`c = \nu/\kappa`. The expectations are over the stationary law of
    :math:`w`, estimated here by Monte Carlo. :math:`c \to 1` as
    :math:`\beta \to 1` (then :math:`v = \sigma^2` exactly).

    Parameters
    ----------
    beta : float in [0, 1)
    rng : numpy.random.Generator or int
    chains : int
        Independent copies of :math:`w`.
    steps : int, optional
        Samples per chain after a burn-in of :math:`40/(1-\beta)` steps
        (default :math:`400/(1-\beta)`, at least 2000).
    sampler : callable, optional
        ``sampler(rng, shape)`` returning unit-variance noise with a law symmetric about 0
        :math:`z` (default standard normal). :math:`c` depends on its law.

    Returns
    -------
    Estimate
        :math:`c(\beta)` with a delta-method standard error over chains.
    """
    RMSProp(beta=beta)  # validates beta
    gen = as_generator(rng)
    chains = as_positive_int(chains, "chains", minimum=2)
    burn = int(np.ceil(40 / (1 - beta)))
    steps = max(2000, int(np.ceil(400 / (1 - beta)))) if steps is None else as_positive_int(
        steps, "steps")
    draw = (lambda shape: gen.standard_normal(shape)) if sampler is None else (
        lambda shape: np.asarray(sampler(gen, shape), dtype=float))
    w = np.ones(chains)
    for _ in range(burn):
        z = draw(chains)
        w = beta * w + (1 - beta) * z * z
    nu = np.zeros(chains)
    a = np.zeros(chains)
    b = np.zeros(chains)
    for _ in range(steps):
        z = draw(chains)
        w = beta * w + (1 - beta) * z * z
        with np.errstate(divide="ignore"):
            iw = 1.0 / w
        if not np.all(np.isfinite(iw)):
            raise ValueError("the sampler returned exact zeros with beta=0: w = 0 has no inverse")
        nu += z * z * iw
        rs = np.sqrt(iw)
        a += rs
        b += z * z * iw * rs
    nu, a, b = nu / steps, a / steps, b / steps
    kap = a - (1 - beta) * b
    c = nu.mean() / kap.mean()
    lin = (nu - c * kap) / kap.mean()
    return Estimate(float(c), float(lin.std(ddof=1) / np.sqrt(chains)))


def rmsprop_temperature(lr, noise_std, batch_size=1, factor=1.0):
    r"""RMSProp's small-rate temperature :math:`T = c\,\eta\,\sigma/(2\sqrt B)`.

    Near the minimum :math:`v \approx \sigma^2/B`, so the effective rate is
    :math:`\eta\sqrt B/\sigma` and :math:`T = (\eta\sqrt B/\sigma)\,(\sigma^2/B)/2`:
    proportional to :math:`\sigma` (not :math:`\sigma^2`) and to :math:`1/\sqrt B`
    (not :math:`1/B`). ``factor`` is :math:`c(\beta)` from
    :func:`rmsprop_temperature_factor` (1 in the :math:`\beta \to 1` limit).
    """
    lr = as_nonnegative(lr, "lr")
    sd = as_nonnegative(noise_std, "noise_std")
    b = as_positive_int(batch_size, "batch_size")
    f = float(getattr(factor, "value", factor))
    return f * lr * sd / (2.0 * np.sqrt(b))


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
    from .dynamics import sgd

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


def reference_rate(hessian, scales=None) -> float:
    r"""The local stability limit :math:`2/\lambda_{\max}(P^{1/2} H P^{1/2})` of preconditioned GD.

    ``scales`` as in :func:`preconditioned_sgd_stationary_cov` (``None``: plain SGD).
    A common yardstick for placing each method's grid of rates.
    """
    h = as_symmetric_psd(np.atleast_2d(hessian), "hessian")
    r = np.eye(h.shape[0]) if scales is None else _sqrt_p(scales, h.shape[0])
    lam = np.linalg.eigvalsh(r @ h @ r)[-1]
    if lam <= 0:
        raise ValueError("the preconditioned Hessian has no positive eigenvalue")
    return float(2.0 / lam)


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
        ``(earlier, later)`` in the order of ``results``, a :class:`Comparison` of the later
        method (``a``) against the earlier one (``b``) with no expectation
        (see :func:`observe`): nothing is asserted. Reporting *all* pairs avoids choosing,
        after the fact, which comparisons to show.
        """
        names = list(self.results)
        out = []
        for label, attr in (("final loss", "final"), ("steps to level", "steps_to_level")):
            for j, later in enumerate(names):
                for earlier in names[:j]:
                    a, b = getattr(self[later], attr), getattr(self[earlier], attr)
                    out.append(_comparison(f"{label}, {later} vs {earlier}", a, b, z, None))
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


# --------------------------------------------------------------------------- comparisons
@dataclass(frozen=True)
class Comparison:
    """The outcome of :func:`compare`: two independent estimates and the verdict."""

    claim: str
    a: Estimate
    b: Estimate
    z: float
    verdict: str
    #: The verdict stated in advance (:func:`compare`), or ``None`` for an observation
    #: (:func:`observe`), which asserts nothing.
    expected: str | None = None

    @property
    def difference(self) -> Estimate:
        return Estimate(self.a.value - self.b.value, float(np.hypot(self.a.stderr, self.b.stderr)))

    @property
    def ratio(self) -> Estimate:
        r = self.a.value / self.b.value
        return Estimate(r, abs(r) * float(np.hypot(self.a.stderr / self.a.value,
                                                    self.b.stderr / self.b.value)))

    @property
    def passed(self) -> bool:
        """Whether the verdict is the expected one (always ``True`` for an observation)."""
        return self.expected is None or self.verdict == self.expected

    def __str__(self) -> str:
        d, r = self.difference, self.ratio
        if self.expected is None:
            # An observation: deliberately *not* a claim line (no ✓/✗), so the claims
            # ledger does not count it as a verified prediction.
            verdict = self.verdict if self.verdict != "unresolved" else (
                f"not resolved at {self.z:g}σ")
            return (f"· {self.claim}: ratio {format_value(r.value, r.stderr)}, "
                    f"difference {d.value / d.stderr:+.1f}σ → {verdict}")
        mark = "✓" if self.passed else "✗"
        # The uniform claim-line format of :func:`sgdsim.check`, so that the claims
        # ledger reads comparisons too (sgdsim.checks.parse_claim_line).
        return (f"{mark} {self.claim}: measured ratio {format_value(r.value, r.stderr)} | "
                f"predicted {self.expected} | deviation {d.value / d.stderr:+.1f}σ → "
                f"{self.verdict} | pass if the verdict is {self.expected} "
                f"(resolved beyond {self.z:g}σ)")


def _comparison(claim, a, b, z, expect) -> Comparison:
    for name, e in (("a", a), ("b", b)):
        if not (np.isfinite(e.value) and np.isfinite(e.stderr) and e.stderr >= 0):
            raise ValueError(f"compare({claim!r}): {name} must be a finite Estimate")
    if not (np.isfinite(z) and z > 0):
        raise ValueError(f"z must be > 0, got {z!r}")
    se = float(np.hypot(a.stderr, b.stderr))
    if se == 0:
        raise ValueError(f"compare({claim!r}): both standard errors are 0")
    d = a.value - b.value
    verdict = "lower" if d < -z * se else "higher" if d > z * se else "unresolved"
    return Comparison(claim=claim, a=Estimate(float(a.value), float(a.stderr)),
                      b=Estimate(float(b.value), float(b.stderr)), z=float(z),
                      verdict=verdict, expected=expect)


def compare(claim, a, b, *, expect, z=4.0, ledger=None) -> None:
    r"""State an empirical ordering of two independent estimates, and raise if the data disagree.

    The verdict is ``"lower"`` when :math:`a - b < -z\,\mathrm{se}`, ``"higher"``
    when :math:`a - b > z\,\mathrm{se}`, else ``"unresolved"``
    (:math:`\mathrm{se} = \sqrt{\mathrm{se}_a^2 + \mathrm{se}_b^2}`). Prints one line
    (with the ratio :math:`a/b`) and raises :class:`sgdsim.ClaimFailed` when the
    verdict is not ``expect`` -- the counterpart of :func:`sgdsim.check` for
    measurements without a theoretical prediction.

    Use it only for an ordering that was *predicted before the data were seen* (by an
    argument stated in the text); an ordering read off the results is an observation:
    report it with :func:`observe`. ``expect="unresolved"`` is a statement about the
    sample size, not about the methods (more chains resolve any real difference), so
    it is rarely a claim worth asserting.

    Parameters
    ----------
    claim : str
    a, b : Estimate
    expect : {"lower", "higher", "unresolved"}
    z : float
    ledger : list, optional
        The :class:`Comparison` is appended to it.
    """
    if expect not in ("lower", "higher", "unresolved"):
        raise ValueError(f"expect must be 'lower', 'higher' or 'unresolved', got {expect!r}")
    result = _comparison(claim, a, b, z, expect)
    print(result)
    if ledger is not None:
        ledger.append(result)
    if not result.passed:
        raise ClaimFailed(str(result))


def observe(claim, a, b, *, z=4.0, ledger=None) -> None:
    r"""Report how two independent estimates are ordered, asserting nothing.

    The verdict is computed as in :func:`compare` (``"lower"``, ``"higher"`` or
    ``"unresolved"`` at :math:`z` standard errors of the difference) and printed on one
    line that starts with ``·`` -- not a claim line, so the claims ledger does not count
    it. For empirical results that no theory predicts (which tuned optimizer is better
    on a given problem): they are measurements to report, not predictions to check.

    Parameters
    ----------
    claim : str
        What is compared (``a`` against ``b``).
    a, b : Estimate
    z : float
    ledger : list, optional
        The :class:`Comparison` (with ``expected=None``) is appended to it.
    """
    result = _comparison(claim, a, b, z, None)
    print(result)
    if ledger is not None:
        ledger.append(result)
