"""Chapter 2 (SGD convergence): SGD against the gradient flow, and learning-rate drops."""

from __future__ import annotations

import numpy as np

from ..book import sgd_convergence as convergence
from ..dynamics import gradient_flow, sgd
from ..laws import excess_loss, sgd_stationary_cov
from ..plotting import PALETTE, ellipse, loss_contours, unicode_log_ticks
from ..problems import Quadratic
from ..schedules import step_drops
from . import LiveFigure, explorer, lazily, live

__all__ = ["SgdFlowFigure", "draw_sgd_vs_flow", "sgd_explorer", "plot_drop_run", "DropsFigure",
           "drops_explorer"]

_PATH_STYLES = (dict(color=PALETTE["blue"], ls="-"), dict(color=PALETTE["vermillion"], ls="--"),
                dict(color=PALETTE["green"], ls=":"), dict(color=PALETTE["purple"], ls="-."))
_ELLIPSE = dict(color=PALETTE["orange"], lw=2.0, ls="--")
_CLOUD = dict(s=5, color="0.45", alpha=0.6, lw=0)
_MEAN = dict(color=PALETTE["skyblue"], lw=2.5)


class SgdFlowFigure(LiveFigure):
    r"""SGD (rate :math:`\eta`, batch :math:`B`) from ``phi0`` against the gradient flow on a
    2-D ``problem``, up to time :math:`t = \sum_k \eta_k` = ``t_end``.

    Top: loss contours, the flow, 3 SGD paths and the final positions of all ``chains`` (the
    stationary cloud; for a :class:`~sgdsim.Quadratic` its exact 2-sigma ellipse). Bottom: the
    excess loss of the flow, the paths, the mean over chains and the exact converged level.
    """

    figsize = (6.4, 8.6)

    def setup(self, problem, phi0, *, t_end=16.0, chains=200, xlim=(-3.0, 4.0),
              ylim=(-3.5, 3.5), n_grid=80):
        if problem.dim != 2:
            raise ValueError(f"draw_sgd_vs_flow needs a 2-D problem, got dim={problem.dim}")
        self.problem, self.phi0, self.t_end = problem, phi0, float(t_end)
        self.chains, self.paths = chains, min(3, chains)
        ax, bx = self.fig.subplots(2, 1, gridspec_kw=dict(height_ratios=(1.25, 1)))
        self.fig.subplots_adjust(left=0.15, right=0.97, bottom=0.085, top=0.96, hspace=0.3)
        l_star, star = problem.minimum_loss(), problem.minimizer()
        loss_contours(ax, problem, xlim, ylim, levels=np.linspace(0, 12, 13) + l_star, n=n_grid)
        flow = gradient_flow(problem, phi0, np.linspace(0, t_end, 401), rtol=1e-8, atol=1e-10)
        ax.scatter([], [], **_CLOUD, label=f"{chains} chains at t = {t_end:.0f}")
        ax.plot([], [], lw=1.0, **_PATH_STYLES[0], label="SGD paths")
        ax.plot(*flow.phi[:, 0].T, color="k", lw=2.2, label="gradient flow")
        if isinstance(problem, Quadratic):
            ax.plot([], [], **_ELLIPSE, label="exact stationary 2σ ellipse")
        ax.plot(*star, marker="*", ms=13, color=PALETTE["orange"], mec="k", ls="none",
                label=r"minimum $\Phi^*$")
        ax.set(xlim=xlim, ylim=ylim, xlabel=r"$\Phi_1$", ylabel=r"$\Phi_2$")
        ax.set_aspect("equal")
        ax.legend(loc="lower left", fontsize=8.5)
        flow_excess = flow.loss(problem)[:, 0] - l_star
        bx.plot([], [], **_MEAN, label="SGD, mean over chains")
        bx.plot(flow.time[flow_excess > 0], flow_excess[flow_excess > 0], color="k", lw=2.2,
                label="gradient flow")
        if isinstance(problem, Quadratic):
            bx.plot([], [], color=PALETTE["orange"], ls="--", lw=2,
                    label=r"exact $\mathcal{L}(\eta)-\mathcal{L}(\Phi^*)$")
        bx.set_yscale("log")
        unicode_log_ticks(bx.yaxis)
        # One scale for every rate: the converged levels move, the axis does not.
        bx.set(xlim=(0, t_end), ylim=(1e-5, 3 * flow_excess[0]), title="excess loss",
               xlabel=r"time $t = \sum_k \eta_k$",
               ylabel=r"$\mathcal{L}(\Phi) - \mathcal{L}(\Phi^*)$")
        bx.legend(loc="upper right", fontsize=9)
        self.axes, self.redrawn = (ax, bx), [ax.title]

    def draw(self, lr, batch_size=1, rng=0):
        (ax, bx), problem, lr = self.axes, self.problem, float(lr)
        steps = max(1, int(round(self.t_end / lr)))
        traj = sgd(problem, self.phi0, lr, steps, batch_size=batch_size, chains=self.chains,
                   rng=rng, record_every=max(1, steps // 400))
        ax.set_title(f"η = {lr:.3g}, B = {batch_size}")
        drawn = [ax.scatter(*traj.final.T, **_CLOUD)]
        excess = traj.loss(problem) - problem.minimum_loss()
        for j in range(self.paths):
            st = _PATH_STYLES[j % len(_PATH_STYLES)]
            drawn += ax.plot(*traj.phi[:, j].T, lw=1.0, alpha=0.9, **st)
            drawn += bx.plot(traj.time, excess[:, j], lw=0.8, alpha=0.6, **st)
        drawn += bx.plot(traj.time, excess.mean(axis=1), **_MEAN)
        if isinstance(problem, Quadratic) and lr < problem.max_stable_lr():
            cov = sgd_stationary_cov(problem.H, problem.noise_cov(), lr, batch_size)
            drawn += ax.plot(*ellipse(cov, problem.minimizer()).T, **_ELLIPSE)
            drawn.append(bx.axhline(excess_loss(problem.H, cov), color=PALETTE["orange"],
                                    ls="--", lw=2))
        return drawn


def draw_sgd_vs_flow(problem, phi0, lr, batch_size=1, *, rng, **setup):
    """The static figure of :class:`SgdFlowFigure` (``setup``: its keywords) at ``lr, B``."""
    return SgdFlowFigure(problem=problem, phi0=phi0, **setup).update(
        lr=lr, batch_size=batch_size, rng=rng).fig


#: The SGD-vs-flow explorer's starting controls (its seed is passed apart).
SGD_DEFAULTS = {"lr": 0.1, "batch_size": 1}


def sgd_explorer(problem, phi0, *, rng=0, **setup):
    """Sliders for the rate and batch size of :class:`SgdFlowFigure` (seed ``rng`` each time)."""
    limit = problem.max_stable_lr() if isinstance(problem, Quadratic) else 1.0
    lr_max = float(np.round(0.9 * min(limit, 10.0), 2))
    return explorer(
        lambda dpi: live(SgdFlowFigure, dpi, problem=problem, phi0=phi0, **setup),
        dict(SGD_DEFAULTS, rng=rng),
        {"lr": ("rate η", "FloatLogSlider", dict(base=10, min=np.log10(0.05), step=0.05,
                max=np.log10(lr_max), readout_format=".3f"),
                np.geomspace(0.05, lr_max, 7).round(3).tolist()),
         "batch_size": ("batch size B", "SelectionSlider", {"options": [1, 2, 4, 8, 16, 32]},
                        None)},
        title="SGD paths against the gradient flow, and the excess loss over time",
        uid="sgd-flow-explorer", player_dpi=100)


def plot_drop_run(ax, run, *, color, label) -> list:
    """Draw a ``DropRun``'s mean training (thin) and validation (thick) loss and its
    milestones (dotted); the artists."""
    drawn = ax.plot(run.epoch, run.train_loss.mean(axis=1), color=color, lw=1.0,
                    label=f"{label}: training")
    drawn += ax.plot(run.epoch, run.val_loss.mean(axis=1), color=color, lw=3.0, alpha=0.85,
                     label=f"{label}: validation")
    drawn += [ax.axvline(m, color="0.5", ls=":", lw=1.2) for m in run.milestones]
    ax.set(xlabel="epoch (passes over the training set)", ylabel="logistic loss")
    return drawn


class DropsFigure(LiveFigure):
    """SGD with a rate divided by ``factor`` at epochs ``first`` and ``second`` (He et al.,
    2016): mean training (thin) and validation (thick) loss over ``chains`` runs; the rate."""

    figsize = (7.5, 5.2)

    def setup(self, train, validation, phi0=None, *, epochs=30, batch_size=8, chains=4):
        self.problems, self.epochs, self.batch_size = (train, validation), int(epochs), batch_size
        phi0 = np.zeros(train.dim) if phi0 is None else np.asarray(phi0, dtype=float)
        self.phi0 = np.repeat(phi0[None], chains, axis=0)
        self._epochs = []  # the last run, epoch by epoch: (key, rng state, phi, losses)
        ax, bx = self.fig.subplots(2, 1, sharex=True, gridspec_kw=dict(height_ratios=(3, 1)))
        self.fig.subplots_adjust(left=0.12, right=0.97, bottom=0.11, top=0.93, hspace=0.08)
        ax.set(ylim=(0.1, 0.35), xlim=(0, epochs))
        bx.set(yscale="log", ylim=(1e-4, 10), xlabel="epoch (passes over the training set)",
               ylabel="rate η")
        unicode_log_ticks(bx.yaxis)
        ax.set_title(f"SGD, B = {batch_size}: rate divided at the dotted milestones")
        self.axes = (ax, bx)

    def run(self, lr, factor, milestones, rng):
        """:func:`~sgdsim.book.sgd_convergence.train_with_drops` (the same numbers and DropRun),
        run epoch by epoch and resumed after the epochs whose rates and seed are those of the
        last run: moving a milestone or the factor simulates only what follows."""
        train, validation = self.problems
        per_epoch = max(1, train.n // self.batch_size)
        every = max(1, per_epoch // 4)
        schedule = step_drops(lr, factor, tuple(round(m * per_epoch) for m in milestones))
        rates = schedule(np.arange(self.epochs * per_epoch)).reshape(self.epochs, per_epoch)
        keys = [(rng, r.tobytes()) for r in rates]
        k = 0
        while k < len(self._epochs) and self._epochs[k][0] == keys[k]:
            k += 1
        del self._epochs[k:]
        gen, phi = np.random.default_rng(rng), self.phi0
        if k:
            gen.bit_generator.state, phi = self._epochs[-1][1:3]
        for e in range(k, self.epochs):
            traj = sgd(train, phi, rates[e], per_epoch, batch_size=self.batch_size, rng=gen,
                       record_every=every)
            phi = traj.phi[-1]
            self._epochs.append((keys[e], gen.bit_generator.state, phi,
                                 [p.loss(traj.phi[1:]) for p in self.problems]))
        train_loss, val_loss = (np.concatenate([p.loss(self.phi0)[None]]
                                               + [e[3][i] for e in self._epochs])
                                for i, p in enumerate(self.problems))
        step = every * np.arange(len(train_loss))
        return convergence.DropRun(
            epoch=step / per_epoch, train_loss=train_loss, val_loss=val_loss,
            lr=schedule(np.minimum(step, rates.size - 1)), epochs=float(self.epochs),
            milestones=tuple(m / per_epoch for m in schedule.milestones))

    def draw(self, lr=2.0, factor=10.0, first=10, second=20, rng=0):
        ax, bx = self.axes
        # Equal milestones mean one drop; milestones outside (0, epochs) are ignored.
        run = self.run(lr, factor, sorted(m for m in {float(first), float(second)}
                                          if 0 < m < self.epochs), rng)
        drawn = plot_drop_run(ax, run, color=PALETTE["blue"], label="SGD")
        ax.set_xlabel("")
        if ax.get_legend() is None:
            ax.legend(loc="upper right")
        return drawn + bx.step(run.epoch, run.lr, where="post", color=PALETTE["vermillion"])


def drops_explorer(train, validation, phi0, *, rng=0, epochs=30, **setup):
    """Sliders for :class:`DropsFigure`: initial rate, drop factor and the two milestones."""
    return explorer(
        lambda dpi: live(DropsFigure, dpi, train=train, validation=validation, phi0=phi0,
                         epochs=epochs, **setup),
        {"lr": 2.0, "factor": 10, "first": 10, "second": 20, "rng": rng},
        {"lr": ("initial rate η₀", "FloatLogSlider", dict(base=10, min=-1, max=np.log10(4.0),
                step=0.05, readout_format=".2f"), [0.5, 1.0, 2.0, 4.0]),
         "factor": ("divide by", "SelectionSlider", {"options": [1.5, 2, 3, 5, 10, 20]}, None),
         "first": ("1st drop (epoch)", "IntSlider", dict(min=1, max=epochs - 1), [5, 10, 15]),
         "second": ("2nd drop (epoch)", "IntSlider", dict(min=1, max=epochs - 1), [15, 20, 25])},
        title="Training and validation loss with learning-rate drops", uid="drops-explorer")


#: The explorers, registered for ``make bench`` and the unit tests (see ``sgdsim.widgets``).
EXPLORERS = {
    "sgd_vs_flow": (
        lazily(lambda: live(SgdFlowFigure, problem=convergence.quadratic_problem(),
                            phi0=np.array(convergence.QUADRATIC_START), chains=150)),
        dict(SGD_DEFAULTS, rng=0),
        [{"lr": float(lr), "batch_size": b}
         for lr, b in zip(np.geomspace(0.05, 0.5, 20), [1, 2, 4, 8, 16, 32] * 4)],
    ),
    "drops": (
        lazily(lambda: live(DropsFigure, **dict(zip(("train", "validation"),
                                                      convergence.drops_problems())))),
        {"lr": 2.0, "factor": 10.0, "first": 10, "second": 20, "rng": 0},
        [{"factor": float(f), "first": int(a), "second": int(b)} for f, a, b in zip(
            np.linspace(2, 20, 20), np.repeat([5, 10], 10), np.tile([15, 20], 10))],
    ),
}
