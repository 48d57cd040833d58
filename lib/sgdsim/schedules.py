r"""Learning-rate schedules for :func:`sgdsim.sgd`: immutable callables, called once with the
integer array ``k = 0, ..., steps - 1``, returning one rate per step."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validation import as_rate

__all__ = ["constant", "step_drops", "inverse_time"]


@dataclass(frozen=True)
class constant:
    r""":math:`\eta_k = \eta`."""

    lr: float

    def __post_init__(self):
        object.__setattr__(self, "lr", as_rate(self.lr, "lr"))

    def __call__(self, k):
        return np.full(np.shape(k), self.lr)


@dataclass(frozen=True)
class step_drops:
    r""":math:`\eta_k = \eta_0 / \text{factor}^{m(k)}`, :math:`m(k)` the number of ``milestones``
    (increasing steps) :math:`\le k`; ``lr`` is :math:`\eta_0 > 0`, ``factor > 1``."""

    lr: float
    factor: float
    milestones: tuple = field(default=())

    def __post_init__(self):
        object.__setattr__(self, "lr", as_rate(self.lr, "lr"))
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
        object.__setattr__(self, "lr", as_rate(self.lr, "lr"))
        object.__setattr__(self, "tau", as_rate(self.tau, "tau"))

    def __call__(self, k):
        return self.lr / (1.0 + np.asarray(k, dtype=float) / self.tau)
