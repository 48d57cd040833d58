r"""Learning-rate schedules: callables ``k -> eta_k`` for :func:`sgdsim.sgd`.

Each schedule is a small, immutable object called once with the integer array
``k = 0, 1, ..., steps - 1`` and returning one rate per step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validation import as_positive_float

__all__ = ["constant", "step_drops", "inverse_time"]


def _positive(value, name):
    return as_positive_float(value, name)


@dataclass(frozen=True)
class constant:
    r""":math:`\eta_k = \eta`."""

    lr: float

    def __post_init__(self):
        object.__setattr__(self, "lr", _positive(self.lr, "lr"))

    def __call__(self, k):
        return np.full(np.shape(k), self.lr)


@dataclass(frozen=True)
class step_drops:
    r"""Piecewise-constant rate divided by ``factor`` at each milestone.

    :math:`\eta_k = \eta_0 / \text{factor}^{m(k)}`, :math:`m(k)` the number of
    milestones :math:`\le k`. He et al. (2016) train ResNets with
    :math:`\eta_0 = 0.1` and ``factor = 10``.

    Parameters
    ----------
    lr : float > 0
        :math:`\eta_0`.
    factor : float > 1
        Division at each drop.
    milestones : sequence of int
        Increasing step indices at which the rate drops.
    """

    lr: float
    factor: float
    milestones: tuple = field(default=())

    def __post_init__(self):
        object.__setattr__(self, "lr", _positive(self.lr, "lr"))
        if not (np.isfinite(self.factor) and self.factor > 1):
            raise ValueError(f"factor must be > 1 (a drop), got {self.factor!r}")
        m = tuple(int(x) for x in self.milestones)
        if any(x < 0 for x in m) or list(m) != sorted(set(m)):
            raise ValueError(f"milestones must be increasing non-negative steps, got {m}")
        object.__setattr__(self, "milestones", m)

    def __call__(self, k):
        drops = np.searchsorted(np.asarray(self.milestones), np.asarray(k), side="right")
        return self.lr / float(self.factor) ** drops


@dataclass(frozen=True)
class inverse_time:
    r""":math:`\eta_k = \eta_0 / (1 + k/\tau)`: rates that sum to infinity but shrink to zero."""

    lr: float
    tau: float

    def __post_init__(self):
        object.__setattr__(self, "lr", _positive(self.lr, "lr"))
        object.__setattr__(self, "tau", _positive(self.tau, "tau"))

    def __call__(self, k):
        return self.lr / (1.0 + np.asarray(k, dtype=float) / self.tau)
