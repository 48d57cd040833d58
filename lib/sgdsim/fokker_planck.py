r"""A 1-D Fokker--Planck solver for the Langevin model of SGD.

The density of :math:`dX = -U'(X)\,dt + \sqrt{2D}\,dW` obeys :math:`\partial_t p = -\partial_x J`,
:math:`J = -U'p - D\,\partial_x p`, with zero flux at the ends; for SGD :math:`D = T`.

Finite volumes: cells with centres :math:`x_i` and widths :math:`w_i` hold masses
:math:`M_i = w_i p_i`; between centres (distance :math:`d_i`) the drift is taken constant and
the flux is that problem's exact steady flux (Scharfetter & Gummel, 1969):

.. math::
    J_{i+1/2} = \frac{D}{d_i}\Bigl[B(-\lambda_i)\,p_i - B(\lambda_i)\,p_{i+1}\Bigr],
    \qquad \lambda_i = -\frac{U_{i+1} - U_i}{D}, \qquad B(z) = \frac{z}{e^z - 1}.

Then :math:`\dot M_i = J_{i-1/2} - J_{i+1/2}` (zero flux at the ends) conserves mass exactly;
:math:`B(-\lambda)/B(\lambda) = e^{\lambda}` makes the discrete Gibbs density
:math:`p_i \propto e^{-U(x_i)/D}` the exact stationary state; and the scheme is a reversible
jump process, whose generator, similar to a symmetric matrix, is diagonalized to solve the
semi-discrete equation exactly in time (spatial error :math:`O(h^2)`).
"""

from __future__ import annotations

import numpy as np

from ._validation import (
    as_finite_array,
    as_increasing_grid,
    as_positive_int,
    as_rate,
)
from .problems import noise_var_1d

__all__ = ["FokkerPlanck1D", "bernoulli"]

#: Largest spread of U/D on the grid; beyond it the Gibbs weights underflow.
_MAX_EXPONENT = 600.0


def bernoulli(z):
    r"""The Bernoulli function :math:`B(z) = z/(e^z - 1)`, :math:`B(0) = 1`, computed stably."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    small = np.abs(z) < 1e-6
    out[small] = 1.0 - z[small] / 2.0 + z[small] ** 2 / 12.0
    zs = z[~small]
    # for large positive z, z / expm1(z) = z e^{-z} / (1 - e^{-z})
    pos = zs > 0
    res = np.empty_like(zs)
    res[pos] = zs[pos] * np.exp(-zs[pos]) / -np.expm1(-zs[pos])
    res[~pos] = zs[~pos] / np.expm1(zs[~pos])
    out[~small] = res
    return out


class FokkerPlanck1D:
    r"""Finite-volume Fokker--Planck solver on an interval with zero-flux ends.

    ``potential`` :math:`U` is a callable of ``x`` (m, 1) returning (m,), or its values at the
    cell centres; ``edges`` (m + 1,) are increasing; ``diffusion`` is :math:`D > 0`. Densities
    ``p`` are arrays of shape (m,) on the cells.
    """

    def __init__(self, potential, edges, diffusion):
        edges = as_increasing_grid(edges, "edges", min_size=4, unit="entries (3 cells)")
        d = as_rate(diffusion, "diffusion")
        self.edges = edges
        self.centers = 0.5 * (edges[1:] + edges[:-1])
        self.widths = np.diff(edges)
        self.diffusion = d
        u = potential(self.centers[:, None]) if callable(potential) else potential
        self.potential = as_finite_array(u, "potential values", shape=(self.centers.size,))
        if np.ptp(self.potential) / d > _MAX_EXPONENT:
            raise ValueError(
                f"the potential varies by {np.ptp(self.potential) / d:.3g} temperatures on this "
                f"grid (limit {_MAX_EXPONENT:g}): the Gibbs weights underflow; shrink the domain"
            )
        self._build()

    @classmethod
    def for_sgd(cls, problem, lr, edges, *, batch_size=1):
        r"""The Langevin model of SGD on a 1-D problem with constant noise,
        :math:`D = \eta\sigma^2/(2B)`."""
        from .gibbs import temperature

        sigma2 = noise_var_1d(problem, "for_sgd")
        return cls(problem.loss, edges, float(temperature(lr, sigma2, batch_size)))

    def _build(self):
        d, u, w = self.diffusion, self.potential, self.widths
        dist = np.diff(self.centers)
        lam = -(u[1:] - u[:-1]) / d
        # rates of the jump process on cell masses: i -> i+1 and i+1 -> i
        self._up = d * bernoulli(-lam) / (dist * w[:-1])
        self._down = d * bernoulli(lam) / (dist * w[1:])
        # Gibbs masses pi_i ~ w_i exp(-U_i/D): exact null vector of the generator
        logpi = np.log(w) - (u - u.min()) / d
        pi = np.exp(logpi - logpi.max())
        self._pi = pi / pi.sum()
        # symmetrized generator S = Pi^{-1/2} Q Pi^{1/2} (tridiagonal)
        from scipy.linalg import eigh_tridiagonal

        diag = -(np.r_[self._up, 0.0] + np.r_[0.0, self._down])
        off = np.sqrt(self._up * self._down)
        evals, evecs = eigh_tridiagonal(diag, off)
        self._sqrt_pi = np.sqrt(self._pi)
        # The top mode is known exactly: eigenvalue 0, eigenvector sqrt(pi). Setting it
        # exactly keeps the evolved mass constant to round-off, not to eps * ||Q|| * t.
        evals = np.minimum(evals, 0.0)
        evals[-1] = 0.0
        evecs[:, -1] = self._sqrt_pi
        self._evals = evals
        self._evecs = evecs

    @property
    def generator(self) -> np.ndarray:
        r"""The matrix :math:`Q` of :math:`\dot M = Q M` on the cell masses; columns sum to 0."""
        m = self.centers.size
        q = np.zeros((m, m))
        i = np.arange(m - 1)
        q[i + 1, i] += self._up
        q[i, i] -= self._up
        q[i, i + 1] += self._down
        q[i + 1, i + 1] -= self._down
        return q

    @property
    def relaxation_time(self) -> float:
        r"""Slowest relaxation time :math:`1/|\lambda_2|` (e.g. the barrier-hopping time)."""
        return float(1.0 / -self._evals[-2])

    def _masses(self, p) -> np.ndarray:
        p = as_finite_array(p, "p", shape=(self.centers.size,))
        if np.any(p < 0):
            raise ValueError("a density must be >= 0 everywhere")
        return p * self.widths

    def stationary(self) -> np.ndarray:
        r"""The discrete Gibbs density :math:`p_i = e^{-U(x_i)/D}/Z`."""
        return self._pi / self.widths

    def point_mass(self, x0) -> np.ndarray:
        """The density with all its mass in the cell that contains ``x0``."""
        x0 = float(x0)
        if not self.edges[0] <= x0 < self.edges[-1]:
            raise ValueError(f"x0={x0:g} is outside the domain "
                             f"[{self.edges[0]:g}, {self.edges[-1]:g})")
        i = int(np.searchsorted(self.edges, x0, side="right") - 1)
        p = np.zeros(self.centers.size)
        p[i] = 1.0 / self.widths[i]
        return p

    def evolve(self, p0, times) -> np.ndarray:
        r"""The densities (k, m) at ``times`` (k,) from ``p0``: :math:`\dot M = QM` solved exactly.

        Where well conditioned (the initial mass sits where the Gibbs weight is not tiny),
        :math:`M(t) = \Pi^{1/2} V e^{\Lambda t} V^\top \Pi^{-1/2} M(0)` from the symmetrized
        generator; otherwise :math:`M(t) = e^{Qt} M(0)`. The mass of ``p0`` is kept; negative
        round-off is clipped to 0.
        """
        mass0 = self._masses(p0)
        times = as_finite_array(times, "times", ndim=1)
        if np.any(times < 0):
            raise ValueError("times must be >= 0")
        support = mass0 > 0
        amplification = np.sqrt(self._pi.max() / self._pi[support].min()) if support.any() else 1.0
        if amplification < 1e6:
            y0 = np.where(support, mass0 / np.where(support, self._sqrt_pi, 1.0), 0.0)
            coef = self._evecs.T @ y0
            decay = np.exp(np.outer(times, self._evals))  # (k, m)
            masses = (decay * coef) @ self._evecs.T * self._sqrt_pi
        else:
            masses = self._evolve_expm(mass0, times)
        masses[masses < 0] = 0.0
        return masses / self.widths

    def _evolve_expm(self, mass0, times):
        from scipy.linalg import expm

        q = self.generator
        order = np.argsort(times, kind="stable")
        out = np.empty((times.size, mass0.size))
        cache = {}
        m, t_now = mass0.copy(), 0.0
        for i in order:
            step = float(times[i] - t_now)
            if step > 0:
                key = round(step, 12)
                if key not in cache:
                    cache[key] = expm(q * step)
                m = cache[key] @ m
                t_now = float(times[i])
            out[i] = m
        return out

    def chi_square(self, samples, p, cells_per_bin: int, min_expected: float = 5.0):
        r"""Pearson's :math:`\chi^2` of a sample's histogram against the density ``p``.

        Bins are groups of ``cells_per_bin`` cells; bins expecting fewer than ``min_expected``
        draws are pooled (with the draws outside the domain). For i.i.d. draws from ``p``,
        :math:`\chi^2` has mean ``dof`` and standard deviation :math:`\sqrt{2\,\mathrm{dof}}`.
        Returns ``(chi2, dof)``.
        """
        x = as_finite_array(samples, "samples", ndim=1)
        c, m = as_positive_int(cells_per_bin, "cells_per_bin"), self.centers.size
        if m % c:
            raise ValueError(f"{m} cells cannot be grouped into bins of {c}")
        probs = (np.asarray(p, dtype=float) * self.widths).reshape(m // c, c).sum(axis=-1)
        probs = probs / probs.sum()
        counts = np.histogram(x, bins=self.edges[::cells_per_bin])[0]
        outside = x.size - counts.sum()
        expected = x.size * probs
        big = expected >= min_expected
        obs = np.r_[counts[big], counts[~big].sum() + outside]
        exp = np.r_[expected[big], expected[~big].sum()]
        if exp[-1] < min_expected:  # the pooled bin is too small: fold it into the smallest
            j = int(np.argmin(exp[:-1]))
            obs[j] += obs[-1]
            exp[j] += exp[-1]
            obs, exp = obs[:-1], exp[:-1]
        if exp.size < 2:
            raise ValueError("too few populated bins for a chi-square test")
        return float(np.sum((obs - exp) ** 2 / exp)), int(exp.size - 1)
