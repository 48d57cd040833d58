r"""The dynamics: gradient flow, gradient descent, SGD and Langevin dynamics.

Every function returns a :class:`Trajectory` with parameters shaped ``(records, chains, dim)``.
Shared arguments: ``phi0`` of shape ``(dim,)`` (copied to ``chains`` chains, default 1) or
``(chains, dim)``; ``lr`` a rate :math:`\eta_k \ge 0`, one per step, or a schedule called once
with ``k = arange(steps)``; ``record_every`` (the first and last states are always saved);
``rng`` a seeded Generator or an integer seed. Divergence is never silent: when an iterate is
non-finite or exceeds ``max_norm``, :class:`DivergenceError` says at which step and what to do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validation import (
    as_chains,
    as_finite_array,
    as_generator,
    as_nonnegative,
    as_positive_int,
    as_rate,
    as_rates,
    sym_sqrt,
)
from .preconditioners import as_preconditioner

__all__ = [
    "Trajectory",
    "DivergenceError",
    "gradient_flow",
    "gradient_descent",
    "sgd",
    "langevin",
    "stationary_samples",
    "iterate_map",
    "joint_flow",
]

#: Largest recorded trajectory, in bytes, before a run refuses to start.
MAX_RECORD_BYTES = 500 * 2**20
#: Divergence is tested at every record and at least this often (in steps).
_CHECK_EVERY = 16


class DivergenceError(FloatingPointError):
    """The iterates blew up; ``step`` (updates made when detected) and ``lr`` say where."""

    def __init__(self, message: str, *, step: int | None = None, lr: float | None = None):
        super().__init__(message)
        self.step = step
        self.lr = lr


@dataclass(frozen=True)
class Trajectory:
    r"""Recorded states: ``phi`` (records, chains, dim), ``time`` (the summed rates
    :math:`\sum_{j<k}\eta_j` for SGD and GD, else the ODE/SDE time) and ``step`` (updates made;
    ``-1`` for the adaptive gradient flow)."""

    phi: np.ndarray
    time: np.ndarray
    step: np.ndarray

    @property
    def final(self) -> np.ndarray:
        """The last recorded parameters, shape ``(chains, dim)``."""
        return self.phi[-1]

    def loss(self, problem) -> np.ndarray:
        """The training loss at every record and chain, shape ``(records, chains)``."""
        return problem.loss(self.phi)

    def __len__(self) -> int:
        return self.phi.shape[0]


def _divergence_message(what: str, problem, step: int, rate: float, max_norm: float,
                        knob: str) -> str:
    on_lr = knob == "learning rate"
    msg = (f"{what} diverged at step {step}: the parameters became non-finite or larger than "
           f"max_norm={max_norm:g}" + (f" (learning rate there: {rate:g})." if on_lr else "."))
    try:
        limit = problem.max_stable_lr()
    except Exception:  # no Hessian or minimizer: no hint
        limit = float("inf")
    if np.isfinite(limit):
        msg += (f" Near the minimum, gradient descent is stable only for steps below "
                f"2/lambda_max = {limit:.4g}.")
    return msg + f" Lower the {knob}" + (" (or use a decaying schedule)." if on_lr else ".")


def iterate_map(what, problem, phi, rates, direction, record_every, max_norm,
                knob="learning rate") -> Trajectory:
    r"""Run :math:`\Phi_{k+1} = \Phi_k - r_k\,d(\Phi_k)` over chains and record.

    The one loop behind every iterated map (``rates`` one per step); a divergence raises
    :class:`DivergenceError` naming ``what`` and the ``knob`` to lower.
    """
    steps = rates.shape[0]
    max_norm = float(max_norm)
    if not max_norm > 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm!r}")
    every = as_positive_int(record_every, "record_every")
    rec = np.unique(np.r_[np.arange(0, steps + 1, every), steps])
    size = rec.size * phi.size * 8
    if size > MAX_RECORD_BYTES:
        raise MemoryError(
            f"recording {rec.size} x {phi.shape[0]} chains x {phi.shape[1]} parameters needs "
            f"{size / 2**20:.0f} MiB (limit {MAX_RECORD_BYTES / 2**20:.0f} MiB): "
            "raise record_every or use fewer chains"
        )
    out = np.empty((rec.size,) + phi.shape)
    out[0] = phi
    # A lean loop: Python floats and ints, and one preallocated buffer for rate * direction
    # (the direction itself is never modified: a problem's gradient may return a view).
    rate_list = rates.tolist()
    rec_list = rec.tolist() + [-1]
    step = np.empty_like(phi)
    r = 1
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps):
            np.multiply(direction(phi), rate_list[k], out=step)
            phi -= step
            done = k + 1
            if done == rec_list[r]:
                out[r] = phi
                r += 1
            elif done % _CHECK_EVERY:
                continue
            # one pass: max propagates NaN, and NaN <= max_norm is False
            if not np.max(np.abs(phi)) <= max_norm:
                raise DivergenceError(
                    _divergence_message(what, problem, done, rates[k], max_norm, knob),
                    step=done, lr=float(rates[k]),
                )
    time = np.r_[0.0, np.cumsum(rates)][rec]
    return Trajectory(phi=out, time=time, step=rec)


def gradient_descent(problem, phi0, lr, steps, *, chains=None, record_every=1,
                     max_norm=1e8) -> Trajectory:
    r"""Full-batch gradient descent :math:`\Phi_{k+1} = \Phi_k - \eta_k\, g(\Phi_k)`: Euler's
    method for the gradient flow with time step :math:`\eta_k`."""
    steps = as_positive_int(steps, "steps", minimum=0)
    rates = as_rates(lr, steps)
    phi = as_chains(phi0, problem.dim, chains)
    return iterate_map("Gradient descent", problem, phi, rates, problem.grad, record_every,
                       max_norm)


#: How :func:`sgd` draws its minibatches.
SAMPLINGS = ("replacement", "reshuffle")


def _reshuffled_batches(problem, batch_size, gen):
    """``sample(phi)``: step ``j`` of an epoch (``n // B`` steps) takes positions ``jB..jB+B-1``
    of each chain's fresh permutation (the last ``n mod B`` sit out, as with ``drop_last``)."""
    n = getattr(problem, "n", None)
    if n is None:
        raise ValueError(
            "sampling='reshuffle' needs a finite-sum problem (one with n examples to "
            f"permute); {type(problem).__name__} has none"
        )
    if batch_size > n:
        raise ValueError(f"sampling='reshuffle' needs batch_size <= n = {n}, got {batch_size}")
    per_epoch = n // batch_size
    state = {"order": None, "pos": per_epoch}

    def sample(p):
        if state["pos"] == per_epoch:
            base = np.broadcast_to(np.arange(n), p.shape[:-1] + (n,))
            state["order"] = gen.permuted(base, axis=-1)
            state["pos"] = 0
        j = state["pos"]
        state["pos"] = j + 1
        idx = state["order"][..., j * batch_size:(j + 1) * batch_size]
        return problem.sample_grad(p, batch_size, gen, idx=idx)

    return sample


def sgd(problem, phi0, lr, steps, *, batch_size=1, chains=None, rng, record_every=1,
        preconditioner=None, max_norm=1e8, sampling="replacement") -> Trajectory:
    r"""Stochastic gradient descent, vectorized over independent chains.

    .. math::
        \Phi_{k+1} = \Phi_k - \eta_k\, P_k\, \hat g_k, \qquad
        \hat g_k = \frac1B \sum_{b=1}^{B} g_{i_b}(\Phi_k),

    with :math:`P_k` the preconditioner (identity by default; an array of per-parameter
    scales, or a stateful rule such as :class:`sgdsim.RMSProp`). ``sampling="replacement"``
    (what every law of :mod:`sgdsim.laws` assumes) draws the :math:`i_b` uniformly and
    independently for every chain and step; ``"reshuffle"`` (finite sums) walks through a
    fresh random permutation per chain and epoch of ``n // batch_size`` steps, an epoch
    starting with every call.
    """
    steps = as_positive_int(steps, "steps", minimum=0)
    rates = as_rates(lr, steps)
    phi = as_chains(phi0, problem.dim, chains)
    batch_size = as_positive_int(batch_size, "batch_size")
    gen = as_generator(rng)
    pre = as_preconditioner(preconditioner)
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}")

    if sampling == "replacement":
        def sample(p):
            return problem.sample_grad(p, batch_size, gen)
    else:
        sample = _reshuffled_batches(problem, batch_size, gen)

    if pre is None:
        direction = sample
    else:
        state = [pre.init(phi)]

        def direction(p):
            d, state[0] = pre.apply(state[0], sample(p))
            return d

    return iterate_map("SGD", problem, phi, rates, direction, record_every, max_norm)


def langevin(problem, phi0, lr, t_end, dt, *, chains=None, rng, batch_size=1,
             record_every=1, max_norm=1e8) -> Trajectory:
    r"""Euler--Maruyama simulation of the Langevin SDE that models SGD,
    :math:`d\Phi = -g(\Phi)\,dt + \sqrt{\eta\,\Sigma(\Phi)/B}\; dW_t`:

    .. math::
        \Phi_{k+1} = \Phi_k - g(\Phi_k)\,\Delta t
        + \sqrt{\eta\,\Delta t/B}\;\Sigma(\Phi_k)^{1/2}\,\xi_k, \qquad \xi_k \sim \mathcal N(0, I).

    ``lr`` is the modelled SGD rate :math:`\eta` (it sets the noise level); ``dt`` the solver
    step, ``t_end`` a whole number of them. Time is in SGD's units (one SGD step is
    :math:`\Delta t = \eta`); ``time`` is :math:`k\,\Delta t` at the records.
    """
    eta = as_rates(lr, 1)[0]
    t_end, dt = as_rate(t_end, "t_end"), as_rate(dt, "dt")
    steps = int(round(t_end / dt))
    if steps < 1 or abs(steps * dt - t_end) > 1e-9 * t_end:
        raise ValueError(
            f"t_end={t_end:g} is not a whole number of steps dt={dt:g}; choose dt = t_end / N"
        )
    batch_size = as_positive_int(batch_size, "batch_size")
    phi = as_chains(phi0, problem.dim, chains)
    gen = as_generator(rng)
    scale = np.sqrt(eta * dt / batch_size)

    if problem.noise_is_constant:
        factor = sym_sqrt(problem.noise_cov()) * scale
        if problem.dim == 1:  # z @ factor is one product per chain; in place is 5x faster
            f = factor[0, 0]

            def noise(p):
                z = gen.standard_normal(p.shape)
                z *= f
                return z
        else:
            def noise(p):
                return gen.standard_normal(p.shape) @ factor
    else:
        def noise(p):
            z = gen.standard_normal(p.shape)
            return np.einsum("...ij,...j->...i", sym_sqrt(problem.noise_cov(p)), z) * scale

    def direction(p):  # one EM step is p <- p - 1 * (g dt - noise)
        d = problem.grad(p) * dt  # a new array: safe to update in place
        d -= noise(p)
        return d

    traj = iterate_map(f"Langevin (Euler-Maruyama, dt={dt:g}, lr={eta:g})", problem, phi,
                       np.ones(steps), direction, record_every, max_norm, knob="dt")
    return Trajectory(phi=traj.phi, time=traj.step * dt, step=traj.step)


def joint_flow(problem, phi, times, *, rtol, atol, method="DOP853", extra=None,
               where="gradient_flow"):
    r"""The gradient flow :math:`\dot\Phi = -g(\Phi)` from ``phi`` (..., dim), solved in one
    adaptive run with :math:`\dot Y = F(t, \Phi, g(\Phi), Y)`, :math:`Y(0) = 0`, if
    ``extra = (shape, F)`` (e.g. a variational or a covariance equation along the flow).

    ``times`` are the non-decreasing save times :math:`\ge 0`; ``method``, ``rtol``, ``atol``
    go to :func:`scipy.integrate.solve_ivp`. Returns ``(Phi, Y)`` with a leading axis over
    ``times`` (``Y`` is ``None`` without ``extra``).
    """
    from scipy.integrate import solve_ivp

    times = as_finite_array(times, "times", ndim=1)
    if times[0] < 0 or np.any(np.diff(times) < 0):
        raise ValueError("times must be >= 0 and non-decreasing")
    shape, f = ((0,), None) if extra is None else extra
    n = phi.size
    y0 = np.concatenate([phi.ravel(), np.zeros(shape).ravel()])
    if times[-1] == 0:
        y = np.repeat(y0[None], times.size, axis=0)
    else:
        def rhs(t, y):
            p = y[:n].reshape(phi.shape)
            g = problem.grad(p)
            if f is None:
                return -g.ravel()
            return np.concatenate([-g.ravel(), f(t, p, g, y[n:].reshape(shape)).ravel()])

        sol = solve_ivp(rhs, (0.0, float(times[-1])), y0, method=method, t_eval=times,
                        rtol=rtol, atol=atol)
        if not sol.success:
            raise RuntimeError(f"{where}: the ODE solver failed: {sol.message}")
        y = sol.y.T
    flow = y[:, :n].reshape((times.size,) + phi.shape)
    return flow, None if f is None else y[:, n:].reshape((times.size,) + tuple(shape))


def gradient_flow(problem, phi0, times, *, chains=None, rtol=1e-10, atol=1e-12,
                  method="DOP853") -> Trajectory:
    r"""Solve the gradient-flow ODE :math:`\dot\Phi(t) = -g(\Phi(t))`, :math:`\Phi(0) = \Phi_0`.

    All chains at once by :func:`joint_flow` (``method``: Dormand--Prince 8(5,3) by default,
    ``"Radau"`` for stiff problems) with tolerances ``rtol``, ``atol``; ``times`` are the
    non-decreasing save times :math:`\ge 0`; ``step`` is ``-1``.
    """
    times = as_finite_array(times, "times", ndim=1)
    phi = as_chains(phi0, problem.dim, chains)
    out, _ = joint_flow(problem, phi, times, rtol=rtol, atol=atol, method=method)
    if not np.all(np.isfinite(out)):
        raise DivergenceError("gradient_flow produced non-finite values")
    return Trajectory(phi=out, time=times, step=np.full(times.size, -1))


def stationary_samples(problem, lr, *, chains, rng, run_time, burn_in=None, records=None,
                       batch_size=1, phi0=None, preconditioner=None) -> Trajectory:
    r"""Samples of SGD's stationary law at a constant rate: burn in, then record.

    Runs ``chains`` chains at rate :math:`\eta` from ``phi0`` (default :math:`\Phi^*`), drops
    ``burn_in`` units of time (default :math:`8/\lambda_{\min}(H)`: the slowest mode's
    variance deficit is then below :math:`e^{-16}`), then records ``records`` equally spaced
    states over ``run_time`` (default :math:`\lceil 2\,t_{\rm run}\lambda_{\max}\rceil`,
    clipped to [20, 2000]). Time is summed rates (:math:`t = \eta k`). Returns the recorded
    stretch only, ``time`` and ``step`` counted from the end of the burn-in; average it with
    :func:`sgdsim.chain_mean`.
    """
    eta = as_rate(lr)
    need_h = burn_in is None or records is None
    phi_star = problem.minimizer() if (phi0 is None or need_h) else None
    lam = np.linalg.eigvalsh(np.atleast_2d(problem.hessian(phi_star))) if need_h else None
    if burn_in is None:
        if lam[0] <= 0:
            raise ValueError("the Hessian at the minimizer is not positive definite: give "
                             "burn_in= explicitly")
        burn_in = 8.0 / float(lam[0])
    run_time = as_rate(run_time, "run_time")
    burn_in = float(as_nonnegative(burn_in, "burn_in"))
    records = (int(min(2000, max(20, math.ceil(2.0 * run_time * float(lam[-1])))))
               if records is None else as_positive_int(records, "records"))
    burn = int(math.ceil(burn_in / eta))
    every = max(1, int(math.ceil(run_time / eta / records)))
    start = phi_star if phi0 is None else as_finite_array(phi0, "phi0", ndim=(1, 2))
    gen = as_generator(rng)
    n_chains = None if start.ndim == 2 else chains
    if preconditioner is not None:
        # one run, so that a stateful preconditioner carries its state from the burn-in into
        # the record; the burn-in is a whole number of records
        burn = every * math.ceil(burn / every)
        traj = sgd(problem, start, eta, burn + every * records, batch_size=batch_size,
                   chains=n_chains, rng=gen, record_every=every, preconditioner=preconditioner)
        keep = traj.step > burn
        return Trajectory(phi=traj.phi[keep], time=traj.time[keep] - traj.time[keep][0]
                          + eta * every, step=traj.step[keep] - burn)
    if burn > 0:  # burn in without recording
        start = sgd(problem, start, eta, burn, batch_size=batch_size, chains=n_chains, rng=gen,
                    record_every=burn).final
        n_chains = None
    traj = sgd(problem, start, eta, every * records, batch_size=batch_size, chains=n_chains,
               rng=gen, record_every=every)
    return Trajectory(phi=traj.phi[1:], time=traj.time[1:], step=traj.step[1:])
