r"""Loss landscapes for SGD: finite sums of per-example losses and noisy potentials.

Every problem has the same small interface, so that the dynamics in
:mod:`sgdsim.dynamics` never need to know which problem they run on.

Shapes follow numpy's broadcasting convention: a parameter array ``phi`` has
shape ``(..., dim)`` -- one point ``(dim,)``, a set of chains ``(chains, dim)``
or a whole trajectory ``(records, chains, dim)`` -- and

* ``loss(phi)`` has shape ``(...)``: the training loss
  :math:`\mathcal{L}(\Phi) = \frac1n \sum_i \mathcal{L}_i(\Phi)`;
* ``grad(phi)`` has shape ``(..., dim)``: the total (full-batch) gradient
  :math:`g(\Phi) = \nabla \mathcal{L}(\Phi)`;
* ``sample_grad(phi, batch_size, rng)`` has shape ``(..., dim)``: one
  independent minibatch gradient :math:`\hat g` per chain, the batch drawn
  uniformly *with replacement*, so that :math:`E\,\hat g = g` and
  :math:`\operatorname{Cov}\hat g = \Sigma(\Phi)/B`;
  finite sums also accept ``idx=`` (integer indices of shape ``(..., batch_size)``):
  the minibatch to use instead of a random draw (how :func:`sgdsim.sgd` walks through
  a reshuffled epoch);
* ``noise_cov(phi)`` has shape ``(..., dim, dim)``: the single-example gradient
  covariance :math:`\Sigma(\Phi) = \frac1n\sum_i (g_i - g)(g_i - g)^\top`
  (``phi=None`` returns the constant matrix where it does not depend on
  :math:`\Phi`);
* ``hessian(phi)`` has shape ``(..., dim, dim)``;
* finite sums also have ``n``, ``example_losses(phi)`` of shape ``(..., n)`` and
  ``example_grads(phi)`` of shape ``(..., n, dim)``; ``minimizer()`` returns
  :math:`\Phi^*` of shape ``(dim,)`` where it exists.
"""

from __future__ import annotations

import numpy as np

from ._validation import (
    as_finite_array,
    as_generator,
    as_positive_float,
    as_positive_int,
    as_symmetric_psd,
    sym_sqrt,
)

__all__ = [
    "Problem",
    "Quadratic",
    "LinearRegression",
    "LogisticRegression",
    "NoisyPotential",
    "double_well",
    "product_problem",
]


class Problem:
    """Base class: shared validation and the derived quantities every problem has.

    Subclasses set ``dim`` and implement ``loss``, ``grad``, ``sample_grad``,
    ``noise_cov`` and, where they exist, ``hessian`` and ``minimizer``.
    """

    dim: int
    #: ``True`` when the gradient-noise covariance does not depend on the parameters.
    noise_is_constant: bool = False

    # -- helpers for subclasses ------------------------------------------------
    def _phi(self, phi, name: str = "phi") -> np.ndarray:
        arr = np.asarray(phi, dtype=float)
        if arr.ndim == 0 or arr.shape[-1] != self.dim:
            raise ValueError(
                f"{name} must have shape (..., {self.dim}) for this {type(self).__name__}, "
                f"got {arr.shape}"
            )
        return arr

    @staticmethod
    def _batch(batch_size) -> int:
        return as_positive_int(batch_size, "batch_size")

    # -- derived quantities -----------------------------------------------------
    def minimum_loss(self) -> float:
        r"""Return :math:`\mathcal{L}(\Phi^*)`, the loss at ``minimizer()``."""
        return float(self.loss(self.minimizer()))

    def max_stable_lr(self) -> float:
        r"""Return :math:`2/\lambda_{\max}`, the largest stable constant gradient-descent rate.

        :math:`\lambda_{\max}` is the largest eigenvalue of the Hessian at the
        minimizer. Gradient descent on a quadratic diverges above this rate;
        on other losses it is the local limit near :math:`\Phi^*`.
        """
        lam = np.linalg.eigvalsh(self.hessian(self.minimizer()))[-1]
        return float("inf") if lam <= 0 else float(2.0 / lam)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim})"


class _FiniteSum(Problem):
    """Shared machinery of finite-sum problems :math:`\\mathcal L = \\frac1n\\sum_i \\mathcal L_i`."""

    n: int

    def _indices(self, phi: np.ndarray, batch_size, rng, idx=None) -> np.ndarray:
        b = self._batch(batch_size)
        if idx is None:
            return as_generator(rng).integers(0, self.n, size=phi.shape[:-1] + (b,))
        idx = np.asarray(idx)
        if idx.shape != phi.shape[:-1] + (b,) or not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(f"idx must be integer example indices of shape "
                             f"{phi.shape[:-1] + (b,)}, got {idx.dtype} {idx.shape}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.n):
            raise ValueError(f"idx must lie in [0, {self.n})")
        return idx

    def loss(self, phi) -> np.ndarray:
        """Training loss: the mean of ``example_losses(phi)`` over examples."""
        return self.example_losses(phi).mean(axis=-1)

    def noise_cov(self, phi=None) -> np.ndarray:
        r"""Single-example gradient covariance :math:`\frac1n\sum_i (g_i-g)(g_i-g)^\top`."""
        if phi is None:
            if not self.noise_is_constant:
                raise ValueError(
                    f"the gradient noise of {type(self).__name__} depends on the parameters; "
                    "pass phi"
                )
            phi = np.zeros(self.dim)
        gi = self.example_grads(phi)
        d = gi - gi.mean(axis=-2, keepdims=True)
        return np.einsum("...ni,...nj->...ij", d, d) / self.n

    def _point(self, phi):
        """One point (default: the minimizer), shape (dim,)."""
        phi = self.minimizer() if phi is None else self._phi(phi)
        if phi.ndim != 1:
            raise ValueError(f"phi must be one point of shape ({self.dim},), got {phi.shape}")
        return phi

    def example_hessians(self, phi=None) -> np.ndarray:
        r"""Per-example Hessians :math:`H_i = \nabla^2\mathcal L_i(\Phi)`, shape ``(n, dim, dim)``.

        At ``phi`` (one point; default the minimizer). The base class uses central
        differences of ``example_grads``, symmetrized; the problems with closed forms
        override it.
        """
        phi = self._point(phi)
        d = self.dim
        step = 1e-5 * max(1.0, float(np.max(np.abs(phi))))
        cols = []
        for k in range(d):
            e = np.zeros(d)
            e[k] = step
            cols.append((self.example_grads(phi + e) - self.example_grads(phi - e)) / (2 * step))
        h = np.stack(cols, axis=-1)  # (n, d, d): d g_i[j] / d phi[k]
        return 0.5 * (h + np.swapaxes(h, -1, -2))

    def mean_sq_example_grad(self, phi=None) -> float:
        r"""Return :math:`E_i \|g_i\|^2` at ``phi`` (default: at the minimizer).

        At the minimizer the mean gradient vanishes, so this is the trace of
        the gradient-noise covariance -- the quantity in the TZ theorem.
        """
        phi = self.minimizer() if phi is None else self._phi(phi)
        return float(np.mean(np.sum(self.example_grads(phi) ** 2, axis=-1)))


class Quadratic(_FiniteSum):
    r"""Finite sum of quadratics with a shared Hessian.

    .. math::
        \mathcal{L}_i(\Phi) = \tfrac12 (\Phi - a_i)^\top H (\Phi - a_i), \qquad
        \mathcal{L}(\Phi) = \frac1n \sum_{i=1}^n \mathcal{L}_i(\Phi).

    Then :math:`g_i = H(\Phi - a_i)`, :math:`g = H(\Phi - \bar a)`, the
    minimizer is :math:`\Phi^* = \bar a` (for positive definite :math:`H`)
    and the gradient noise is additive with constant covariance
    :math:`\Sigma = H C_a H`, :math:`C_a = \frac1n\sum_i (a_i-\bar a)(a_i-\bar a)^\top`.

    Parameters
    ----------
    centers : array_like, shape (n, dim)
        The per-example minimizers :math:`a_i` (a 1-D array means ``dim = 1``).
    hessian : array_like, shape (dim, dim), or float when ``dim = 1``
        Symmetric positive semi-definite :math:`H`.
    """

    noise_is_constant = True

    def __init__(self, centers, hessian):
        c = as_finite_array(centers, "centers", ndim=(1, 2))
        if c.ndim == 1:
            c = c[:, None]
        self.centers = c
        self.n, self.dim = c.shape
        h = np.asarray(hessian, dtype=float)
        if h.ndim == 0:
            h = h.reshape(1, 1)
        self.H = as_symmetric_psd(h, "hessian", dim=self.dim)
        self._abar = c.mean(axis=0)
        d = c - self._abar
        self._loss_at_min = float(0.5 * np.einsum("ni,ij,nj->", d, self.H, d) / self.n)

    def example_losses(self, phi) -> np.ndarray:
        d = self._phi(phi)[..., None, :] - self.centers
        return 0.5 * np.einsum("...ni,ij,...nj->...n", d, self.H, d)

    def loss(self, phi) -> np.ndarray:
        # Closed form of the mean: 1/2 (phi-abar)' H (phi-abar) + L(phi*).
        d = self._phi(phi) - self._abar
        return 0.5 * np.einsum("...i,ij,...j->...", d, self.H, d) + self._loss_at_min

    def grad(self, phi) -> np.ndarray:
        d = self._phi(phi) - self._abar
        if self.dim == 1:  # the same single product as d @ H, without matmul's overhead
            d *= self.H[0, 0]
            return d
        return d @ self.H

    def example_grads(self, phi) -> np.ndarray:
        return (self._phi(phi)[..., None, :] - self.centers) @ self.H

    def sample_grad(self, phi, batch_size, rng, idx=None) -> np.ndarray:
        phi = self._phi(phi)
        idx = self._indices(phi, batch_size, rng, idx)
        # ``take`` makes the same copy as fancy indexing, about 3x faster; the update is
        # done in place on that fresh copy (the same arithmetic, fewer temporaries).
        if idx.shape[-1] > 1:
            a = self.centers.take(idx, axis=0).mean(axis=-2)
        else:
            a = self.centers.take(idx[..., 0], axis=0)
        np.subtract(phi, a, out=a)
        if self.dim == 1:  # (phi - a) @ H is one product per chain; matmul costs 5x more
            a *= self.H[0, 0]
            return a
        return a @ self.H

    def example_hessians(self, phi=None) -> np.ndarray:
        """:math:`H_i = H` for every example."""
        self._point(phi)
        return np.broadcast_to(self.H, (self.n, self.dim, self.dim)).copy()

    def hessian(self, phi=None) -> np.ndarray:
        if phi is None:
            return self.H.copy()
        phi = self._phi(phi)
        return np.broadcast_to(self.H, phi.shape[:-1] + self.H.shape).copy()

    def noise_cov(self, phi=None) -> np.ndarray:
        d = self.centers - self._abar
        sigma = self.H @ (d.T @ d / self.n) @ self.H
        if phi is None:
            return sigma
        phi = self._phi(phi)
        return np.broadcast_to(sigma, phi.shape[:-1] + sigma.shape).copy()

    def minimizer(self) -> np.ndarray:
        if np.linalg.eigvalsh(self.H)[0] <= 1e-12 * max(1.0, np.abs(self.H).max()):
            raise ValueError("the Hessian is singular: the minimizer is not unique")
        return self._abar.copy()

    def __repr__(self) -> str:
        return f"Quadratic(n={self.n}, dim={self.dim})"


class LinearRegression(_FiniteSum):
    r"""Least squares on data: :math:`\mathcal{L}_i(\Phi) = \tfrac12 (x_i^\top\Phi - y_i)^2`.

    The per-example gradient :math:`g_i = x_i (x_i^\top\Phi - y_i)` makes the
    gradient noise *multiplicative*: its covariance depends on :math:`\Phi`,
    and every example has its own Hessian :math:`H_i = x_i x_i^\top`;
    :math:`H = \frac1n X^\top X`.

    Parameters
    ----------
    X : array_like, shape (n, dim)
        Inputs, one row per example.
    y : array_like, shape (n,)
        Targets.
    """

    def __init__(self, X, y):
        X = as_finite_array(X, "X", ndim=2)
        y = as_finite_array(y, "y", ndim=1)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} entries")
        self.X, self.y = X, y
        self.n, self.dim = X.shape

    def _residuals(self, phi):
        return self._phi(phi) @ self.X.T - self.y  # (..., n)

    def example_losses(self, phi) -> np.ndarray:
        return 0.5 * self._residuals(phi) ** 2

    def grad(self, phi) -> np.ndarray:
        return self._residuals(phi) @ self.X / self.n

    def example_grads(self, phi) -> np.ndarray:
        return self._residuals(phi)[..., :, None] * self.X

    def sample_grad(self, phi, batch_size, rng, idx=None) -> np.ndarray:
        phi = self._phi(phi)
        idx = self._indices(phi, batch_size, rng, idx)
        xb = self.X.take(idx, axis=0)  # (..., B, dim); the copy X[idx] makes, 3x faster
        r = np.einsum("...bi,...i->...b", xb, phi)
        r -= self.y.take(idx)
        if idx.shape[-1] == 1:
            # One example: g = x r, computed in place in the fresh copy xb. (The einsum
            # below gives the same values, but adds the products to +0, so an exactly
            # zero component may differ in the sign of zero -- nothing else.)
            g = xb[..., 0, :]
            g *= r
            return g
        g = np.einsum("...bi,...b->...i", xb, r)
        g /= idx.shape[-1]
        return g

    def example_hessians(self, phi=None) -> np.ndarray:
        r""":math:`H_i = x_i x_i^\top` (the same at every point)."""
        self._point(phi)
        return np.einsum("ni,nj->nij", self.X, self.X)

    def hessian(self, phi=None) -> np.ndarray:
        h = self.X.T @ self.X / self.n
        if phi is None:
            return h
        phi = self._phi(phi)
        return np.broadcast_to(h, phi.shape[:-1] + h.shape).copy()

    def minimizer(self) -> np.ndarray:
        if np.linalg.matrix_rank(self.X) < self.dim:
            raise ValueError("X has rank < dim: the least-squares minimizer is not unique")
        return np.linalg.lstsq(self.X, self.y, rcond=None)[0]

    def __repr__(self) -> str:
        return f"LinearRegression(n={self.n}, dim={self.dim})"


class LogisticRegression(_FiniteSum):
    r"""Logistic loss with optional ridge penalty, a non-quadratic finite sum.

    .. math::
        \mathcal{L}_i(\Phi) = \log\bigl(1 + e^{-y_i x_i^\top \Phi}\bigr)
        + \tfrac{\lambda}{2}\|\Phi\|^2, \qquad y_i \in \{-1, +1\}.

    Parameters
    ----------
    X : array_like, shape (n, dim)
        Inputs (include a column of ones for an intercept).
    y : array_like, shape (n,)
        Labels in {0, 1} or {-1, +1}.
    l2 : float, default 0
        Ridge strength :math:`\lambda \ge 0`; with separable data it must be
        positive for a minimizer to exist.
    """

    def __init__(self, X, y, l2: float = 0.0):
        X = as_finite_array(X, "X", ndim=2)
        y = as_finite_array(y, "y", ndim=1)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} entries")
        labels = set(np.unique(y).tolist())
        if labels <= {0.0, 1.0}:
            y = 2.0 * y - 1.0
        elif not labels <= {-1.0, 1.0}:
            raise ValueError(f"labels must be in {{0, 1}} or {{-1, +1}}, got {sorted(labels)}")
        if not (np.isfinite(l2) and l2 >= 0):
            raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
        self.X, self.y, self.l2 = X, y, float(l2)
        self.n, self.dim = X.shape
        self._phi_star = None

    def _margins(self, phi):
        return (self._phi(phi) @ self.X.T) * self.y  # (..., n)

    def example_losses(self, phi) -> np.ndarray:
        phi = self._phi(phi)
        ridge = 0.5 * self.l2 * np.sum(phi**2, axis=-1)[..., None]
        return np.logaddexp(0.0, -self._margins(phi)) + ridge

    def _coef(self, margins):
        # d/dm log(1 + e^{-m}) = -sigmoid(-m), written stably.
        return -0.5 * (1.0 - np.tanh(0.5 * margins))

    def grad(self, phi) -> np.ndarray:
        phi = self._phi(phi)
        s = self._coef(self._margins(phi)) * self.y
        return s @ self.X / self.n + self.l2 * phi

    def example_grads(self, phi) -> np.ndarray:
        phi = self._phi(phi)
        s = self._coef(self._margins(phi)) * self.y
        return s[..., :, None] * self.X + self.l2 * phi[..., None, :]

    def sample_grad(self, phi, batch_size, rng, idx=None) -> np.ndarray:
        phi = self._phi(phi)
        idx = self._indices(phi, batch_size, rng, idx)
        xb, yb = self.X.take(idx, axis=0), self.y.take(idx)
        m = np.einsum("...bi,...i->...b", xb, phi) * yb
        s = self._coef(m) * yb
        g = np.einsum("...bi,...b->...i", xb, s)
        if idx.shape[-1] > 1:
            g /= idx.shape[-1]
        g += self.l2 * phi
        return g

    def example_hessians(self, phi=None) -> np.ndarray:
        r""":math:`H_i = p_i(1-p_i)\,x_i x_i^\top + \lambda I`, with :math:`p_i` the sigmoid of the margin."""
        phi = self._point(phi)
        m = self.y * (self.X @ phi)
        p = 0.5 * (1.0 - np.tanh(0.5 * m))
        w = p * (1.0 - p)
        return np.einsum("n,ni,nj->nij", w, self.X, self.X) + self.l2 * np.eye(self.dim)

    def hessian(self, phi) -> np.ndarray:
        phi = self._phi(phi)
        p = 0.5 * (1.0 - np.tanh(0.5 * self._margins(phi)))
        w = p * (1.0 - p)  # (..., n)
        h = np.einsum("...n,ni,nj->...ij", w, self.X, self.X) / self.n
        return h + self.l2 * np.eye(self.dim)

    def minimizer(self, tol: float = 1e-13, max_iter: int = 100) -> np.ndarray:
        """Newton's method with backtracking, from zero; cached."""
        if self._phi_star is not None:
            return self._phi_star.copy()
        phi = np.zeros(self.dim)
        for _ in range(max_iter):
            g = self.grad(phi)
            if np.linalg.norm(g) <= tol * max(1.0, np.linalg.norm(phi)):
                break
            h = self.hessian(phi)
            try:
                step = np.linalg.solve(h, g)
            except np.linalg.LinAlgError:
                raise ValueError(
                    "the Hessian is singular: no unique minimizer (add l2 > 0)"
                ) from None
            t, f0 = 1.0, self.loss(phi)
            while self.loss(phi - t * step) > f0 - 0.25 * t * g @ step and t > 1e-12:
                t *= 0.5
            phi = phi - t * step
        else:
            raise ValueError(
                "Newton's method did not converge: the data may be separable; add l2 > 0"
            )
        if self.l2 == 0 and np.all(self._margins(phi) > 0):
            # Every example is classified correctly: scaling phi up always lowers the loss.
            raise ValueError("the data are linearly separable: no minimizer exists; add l2 > 0")
        self._phi_star = phi
        return phi.copy()

    def __repr__(self) -> str:
        return f"LogisticRegression(n={self.n}, dim={self.dim}, l2={self.l2:g})"


class NoisyPotential(Problem):
    r"""A potential :math:`U` observed through gradients with additive Gaussian noise.

    .. math::
        \mathcal{L}(\Phi) = U(\Phi), \qquad
        \hat g = \nabla U(\Phi) + \varepsilon, \quad
        \varepsilon \sim \mathcal N(0, \Sigma / B).

    This is the cleanest model of SGD noise: the noise does not depend on
    :math:`\Phi`, so the Langevin picture applies exactly in the limit of small rates.

    Parameters
    ----------
    loss, grad : callable
        :math:`U` and :math:`\nabla U`, each taking ``phi`` of shape
        ``(..., dim)`` and returning shape ``(...)`` and ``(..., dim)``.
    noise_cov : float, array_like (dim,), or array_like (dim, dim)
        :math:`\Sigma`: a variance for every coordinate (isotropic, needs
        ``dim``), a diagonal, or a full symmetric PSD matrix.
    dim : int, optional
        Needed only when ``noise_cov`` is a scalar (default 1 then).
    minimizer : array_like (dim,), optional
        :math:`\Phi^*`, if known.
    hessian : callable, optional
        :math:`\nabla^2 U`, taking ``(..., dim)`` and returning ``(..., dim, dim)``.
    """

    noise_is_constant = True

    def __init__(self, loss, grad, noise_cov, *, dim=None, minimizer=None, hessian=None):
        if not (callable(loss) and callable(grad)):
            raise TypeError("loss and grad must be callables of phi with shape (..., dim)")
        cov = np.asarray(noise_cov, dtype=float)
        if cov.ndim == 0:
            d = 1 if dim is None else as_positive_int(dim, "dim")
            cov = float(cov) * np.eye(d)
        elif cov.ndim == 1:
            cov = np.diag(as_finite_array(cov, "noise_cov"))
        cov = as_symmetric_psd(cov, "noise_cov", dim=dim)
        self.dim = cov.shape[0]
        self.Sigma = cov
        self._noise_factor = sym_sqrt(cov)
        self._loss, self._grad, self._hess = loss, grad, hessian
        self._min = None if minimizer is None else as_finite_array(
            minimizer, "minimizer", shape=(self.dim,)
        )

    def loss(self, phi) -> np.ndarray:
        return np.asarray(self._loss(self._phi(phi)), dtype=float)

    def grad(self, phi) -> np.ndarray:
        return np.asarray(self._grad(self._phi(phi)), dtype=float)

    def sample_grad(self, phi, batch_size, rng) -> np.ndarray:
        phi = self._phi(phi)
        b = self._batch(batch_size)
        z = as_generator(rng).standard_normal(phi.shape)
        if self.dim == 1:
            z *= self._noise_factor[0, 0]
        else:
            z = z @ self._noise_factor
        if b > 1:  # dividing by sqrt(1) = 1 is exact: skip the pass
            z /= np.sqrt(b)
        z += self.grad(phi)  # the user's grad may return a view: add into our own array
        return z

    def noise_cov(self, phi=None) -> np.ndarray:
        if phi is None:
            return self.Sigma.copy()
        phi = self._phi(phi)
        return np.broadcast_to(self.Sigma, phi.shape[:-1] + self.Sigma.shape).copy()

    def hessian(self, phi) -> np.ndarray:
        if self._hess is None:
            raise NotImplementedError("this NoisyPotential was built without a hessian")
        return np.asarray(self._hess(self._phi(phi)), dtype=float)

    def minimizer(self) -> np.ndarray:
        if self._min is None:
            raise NotImplementedError("this NoisyPotential was built without a minimizer")
        return self._min.copy()


def double_well(barrier: float = 1.0, width: float = 1.0, tilt: float = 0.0,
                noise_var: float = 1.0) -> NoisyPotential:
    r"""A 1-D double well with Gaussian gradient noise.

    .. math::
        U(x) = h\,\bigl((x/w)^2 - 1\bigr)^2 + c\,x, \qquad
        \hat g = U'(x) + \varepsilon,\ \varepsilon \sim \mathcal N(0, \sigma^2),

    with barrier height :math:`h`, wells near :math:`x = \pm w` and a tilt
    :math:`c` that makes one well deeper (for :math:`c > 0`, the left one).

    Parameters
    ----------
    barrier, width : float > 0
        :math:`h` and :math:`w`.
    tilt : float
        :math:`c`.
    noise_var : float >= 0
        :math:`\sigma^2`, the variance of one gradient sample.
    """
    as_positive_float(barrier, "barrier")
    as_positive_float(width, "width")
    if not np.isfinite(tilt):
        raise ValueError(f"tilt must be finite, got {tilt!r}")
    if not (np.isfinite(noise_var) and noise_var >= 0):
        raise ValueError(f"noise_var must be a finite number >= 0, got {noise_var!r}")
    h, w, c = float(barrier), float(width), float(tilt)

    def loss(phi):
        x = phi[..., 0]
        return h * ((x / w) ** 2 - 1.0) ** 2 + c * x

    def grad(phi):
        # 4 h x / w^2 ((x/w)^2 - 1) + c, evaluated in the same order with two temporaries.
        x = phi[..., :1]
        u = x / w
        np.square(u, out=u)
        u -= 1.0
        out = x * (4.0 * h)
        out /= w**2
        out *= u
        out += c
        return out

    def hessian(phi):
        x = phi[..., :1, None]
        return h * (12.0 * x**2 / w**4 - 4.0 / w**2)

    # Stationary points solve 4h/w^4 x^3 - 4h/w^2 x + c = 0; keep the lowest real one.
    roots = np.roots([4 * h / w**4, 0.0, -4 * h / w**2, c])
    real = roots[np.abs(roots.imag) < 1e-9].real
    x_star = real[np.argmin(loss(real[:, None]))]
    return NoisyPotential(loss, grad, noise_var, dim=1, minimizer=[x_star], hessian=hessian)


def product_problem(x_problem, y_problem):
    r"""The 2-D problem :math:`\mathcal L(x, y) = \mathcal L_x(x) + \mathcal L_y(y)` with independent noise.

    Both factors are 1-D problems with constant Gaussian gradient noise (e.g.
    :func:`sgdsim.double_well` or a 1-D :class:`sgdsim.NoisyPotential`) with
    variances :math:`\sigma_x^2, \sigma_y^2`. The result has noise covariance
    :math:`\operatorname{diag}(\sigma_x^2, \sigma_y^2)`, so SGD moves the two
    coordinates independently and its Langevin stationary density factorizes,
    :math:`p(x, y) \propto e^{-\mathcal L_x(x)/T_x}\,e^{-\mathcal L_y(y)/T_y}` with
    :math:`T_x = \eta\sigma_x^2/2`, :math:`T_y = \eta\sigma_y^2/2`.

    Returns
    -------
    NoisyPotential
        ``dim = 2``; its ``minimizer()`` is the pair of the factors' minimizers.
    """
    for name, p in (("x_problem", x_problem), ("y_problem", y_problem)):
        if p.dim != 1 or not getattr(p, "noise_is_constant", False):
            raise ValueError(f"{name} must be a 1-D problem with constant noise")
    sx = float(np.atleast_2d(x_problem.noise_cov())[0, 0])
    sy = float(np.atleast_2d(y_problem.noise_cov())[0, 0])

    def loss(phi):
        return x_problem.loss(phi[..., :1]) + y_problem.loss(phi[..., 1:])

    def grad(phi):
        return np.concatenate([x_problem.grad(phi[..., :1]), y_problem.grad(phi[..., 1:])], -1)

    def hessian(phi):
        h = np.zeros(phi.shape[:-1] + (2, 2))
        h[..., 0, 0] = x_problem.hessian(phi[..., :1])[..., 0, 0]
        h[..., 1, 1] = y_problem.hessian(phi[..., 1:])[..., 0, 0]
        return h

    try:
        star = np.r_[x_problem.minimizer(), y_problem.minimizer()]
    except NotImplementedError:
        star = None
    return NoisyPotential(loss, grad, [sx, sy], minimizer=star, hessian=hessian)

