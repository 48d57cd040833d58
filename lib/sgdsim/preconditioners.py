r"""Per-parameter learning rates for :func:`sgdsim.sgd`.

A preconditioner turns a gradient sample :math:`\hat g` into an update direction :math:`d`, and
SGD steps :math:`\Phi \leftarrow \Phi - \eta\, d`. It may keep a per-chain state. Any object
with the two methods ``state = pre.init(phi)`` (``phi`` of shape (chains, dim)) and
``direction, state = pre.apply(state, g_hat)`` can be passed as ``preconditioner=``.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_finite_array, as_nonnegative, as_symmetric_psd

__all__ = ["Diagonal", "Dense", "ChainRates", "RMSProp", "RunningVariance", "as_preconditioner"]


def _beta_eps(beta, eps):
    if not (np.isfinite(beta) and 0.0 <= beta < 1.0):
        raise ValueError(f"beta must be in [0, 1), got {beta!r}")
    return float(beta), float(as_nonnegative(eps, "eps"))


def _nonnegative_rates(values, name, what):
    r = as_finite_array(values, name, ndim=1)
    if np.any(r < 0):
        raise ValueError(f"{name} must be >= 0: a negative {what} climbs the loss")
    return r


def _check_dim(what, size, phi):
    if phi.shape[-1] != size:
        raise ValueError(f"{what} but the parameters have dim={phi.shape[-1]}")


class Diagonal:
    r"""Fixed per-parameter rate multipliers ``scales``: :math:`d_k = s_k\,\hat g_k`.

    With ``scales = 1 / sigma**2`` this is the inverse-variance rule
    :math:`\eta_k = \eta'/\sigma_k^2`: every coordinate gets the temperature :math:`\eta'/2`.
    """

    def __init__(self, scales):
        self.scales = _nonnegative_rates(scales, "scales", "per-parameter rate")

    def init(self, phi):
        n = self.scales.shape[0]
        _check_dim(f"Diagonal preconditioner has {n} scales", n, phi)

    def apply(self, state, g):
        return g * self.scales, state

    def __repr__(self) -> str:
        return f"Diagonal({self.scales!r})"


class RMSProp:
    r"""RMSProp (Tieleman & Hinton, 2012): divide by a running root mean square.

    .. math::
        v \leftarrow \beta v + (1-\beta)\,\hat g^2, \qquad d = \hat g / (\sqrt{v} + \epsilon),

    elementwise and per chain, from ``v0`` (default 0, as in PyTorch and Keras). Near a minimum
    :math:`v \approx \sigma_k^2/B`, so the effective rate is :math:`\eta/\sigma_k`, not the
    :math:`\eta/\sigma_k^2` that equalizes temperatures; far from it :math:`v` estimates the
    uncentred :math:`g_k^2 + \sigma_k^2/B`.
    """

    def __init__(self, beta: float = 0.9, eps: float = 1e-8, v0=0.0):
        self.beta, self.eps = _beta_eps(beta, eps)
        v0 = as_finite_array(v0, "v0", ndim=(0, 1))
        if np.any(v0 < 0):
            raise ValueError("v0 is a mean square and must be >= 0")
        self.v0 = v0

    def init(self, phi):
        return np.broadcast_to(self.v0, phi.shape).astype(float)

    def apply(self, v, g):
        v *= self.beta
        v += (1.0 - self.beta) * g * g
        return g / (np.sqrt(v) + self.eps), v

    def __repr__(self) -> str:
        return f"RMSProp(beta={self.beta:g}, eps={self.eps:g})"


class RunningVariance:
    r"""The inverse-variance rule without an oracle: divide by a *centred* running variance.

    .. math::
        m \leftarrow \beta m + (1-\beta)\,\hat g, \quad
        v \leftarrow \beta v + (1-\beta)\,\hat g^2, \quad
        d = \frac{\hat g}{s^2 + \epsilon}, \quad
        s^2 = \frac{v}{1-\beta^t} - \Bigl(\frac{m}{1-\beta^t}\Bigr)^2,

    elementwise and per chain, :math:`m, v` from the previous steps; the first ``warmup`` steps
    (default :math:`\lceil 1/(1-\beta)\rceil`) only fill the averages. :math:`s^2` tracks
    :math:`\sigma_k^2/B`, so the rate approaches :math:`\eta'B/\sigma_k^2`.
    """

    def __init__(self, beta: float = 0.99, eps: float = 1e-8, warmup=None):
        self.beta, self.eps = _beta_eps(beta, eps)
        w = int(np.ceil(round(1.0 / (1.0 - beta), 9))) if warmup is None else int(warmup)
        if w < 1:
            raise ValueError(f"warmup must be >= 1, got {warmup!r}")
        self.warmup = w

    def init(self, phi):
        z = np.zeros(phi.shape, dtype=float)
        return [z, z.copy(), 0]

    def apply(self, state, g):
        m, v, t = state
        if t < self.warmup:
            d = np.zeros_like(g)
        else:
            c = 1.0 - self.beta**t
            d = g / (v / c - (m / c) ** 2 + self.eps)
        m *= self.beta
        m += (1.0 - self.beta) * g
        v *= self.beta
        v += (1.0 - self.beta) * g * g
        state[2] = t + 1
        return d, state

    def __repr__(self) -> str:
        return f"RunningVariance(beta={self.beta:g}, eps={self.eps:g}, warmup={self.warmup})"


def as_preconditioner(pre):
    """``pre`` as a preconditioner object: ``None`` stays ``None``, an array becomes Diagonal."""
    if pre is None or (hasattr(pre, "init") and hasattr(pre, "apply")):
        return pre
    try:
        return Diagonal(pre)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            "preconditioner must be None, an array of per-parameter scales, or an object "
            f"with init(phi) and apply(state, g) methods ({exc})"
        ) from None


class Dense:
    r"""A constant full-matrix preconditioner (symmetric positive definite): :math:`d = P\hat g`.

    With :math:`P \propto \Sigma^{-1}` the Langevin stationary law is Gibbs even when the noise
    is correlated, which no diagonal :math:`P` achieves.
    """

    def __init__(self, matrix):
        self.matrix = as_symmetric_psd(matrix, "matrix", definite=True)

    def init(self, phi):
        n = self.matrix.shape[0]
        _check_dim(f"Dense preconditioner is {n}x{n}", n, phi)

    def apply(self, state, g):
        return g @ self.matrix, state  # P is symmetric: (P g)^T = g^T P

    def __repr__(self) -> str:
        return f"Dense(dim={self.matrix.shape[0]})"


class ChainRates:
    r"""Give every chain its own rate multiplier: :math:`d_c = r_c\, d^{\rm inner}_c`.

    :func:`sgdsim.sgd` with ``lr=1`` and this preconditioner runs one SGD per chain at rate
    :math:`r_c` (after the ``inner`` preconditioner, e.g. RMSProp), in one vectorized call.
    """

    def __init__(self, rates, inner=None):
        self.rates = _nonnegative_rates(rates, "rates", "rate")
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
