r"""The Langevin chapter's machinery: from SGD steps to a stochastic differential equation.

SGD with a constant rate :math:`\eta` and batch size :math:`B` is modelled by the Langevin SDE

.. math::
    d\Phi = -g(\Phi)\,dt + \sqrt{\eta\,\Sigma(\Phi)/B}\;dW_t .

The laws the chapter checks it against live in the core (:mod:`sgdsim.laws` for exact
moments on quadratics, :mod:`sgdsim.gibbs` for Gibbs densities, temperature fits and SGD's
exact finite-rate law, :mod:`sgdsim.estimators` for cumulants); this module holds the two
experiments that are the chapter's own:

* :func:`printed_update` -- the slide's literal (mis-printed) update
  :math:`\Phi \leftarrow \eta\hat g`, to show that it is not a descent method;
* :func:`block_noise_sums` -- the sum of :math:`N` gradient fluctuations, whose approach to
  a Gaussian (the central limit theorem) is the step from SGD to the SDE;
* :func:`separable_factors` -- the chapter's two-coordinate problem (its scene), shared by the
  notebook and its explorer.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_chains, as_finite_array, as_generator, as_positive_int, as_rate
from ..dynamics import Trajectory, iterate_map
from ..problems import NoisyPotential, double_well, product_problem

__all__ = ["printed_update", "block_noise_sums", "separable_factors"]

#: The chapter's two-coordinate problem: the double well's tilt and the quadratic's curvature.
TILT, KY = 0.3, 2.0


# ----------------------------------------------------------------------------- update rule
def printed_update(problem, phi0, lr, steps, *, chains=None, rng, batch_size=1,
                   record_every=1, max_norm=1e8) -> Trajectory:
    r"""Iterate the update *as printed on the slides*, :math:`\Phi_{k+1} = \eta\,\hat g(\Phi_k)`.

    The slides lost the "minus-equals": the intended update is SGD,
    :math:`\Phi_{k+1} = \Phi_k - \eta\,\hat g(\Phi_k)` (:func:`sgdsim.sgd`). The
    printed map replaces the parameters by a scaled gradient. On a quadratic
    :math:`\mathcal L = \tfrac12 h(\Phi - a)^2` without noise it converges (for
    :math:`\eta h < 1`) to the fixed point :math:`\Phi = -\eta h a/(1 - \eta h)`,
    not to the minimizer :math:`a`. This function exists only to show that.

    Parameters
    ----------
    problem, phi0, lr, steps, chains, rng, batch_size, record_every, max_norm
        As in :func:`sgdsim.sgd` (``lr`` a constant rate :math:`\eta \ge 0`).

    Returns
    -------
    Trajectory
        ``time`` is :math:`\eta k`, as for SGD.
    """
    steps = as_positive_int(steps, "steps", minimum=0)
    eta = as_rate(lr, positive=False)
    phi = as_chains(phi0, problem.dim, chains)
    batch_size = as_positive_int(batch_size, "batch_size")
    gen = as_generator(rng)

    def direction(p):  # p <- p - 1 * (p - eta g_hat)  ==  eta g_hat
        return p - eta * problem.sample_grad(p, batch_size, gen)

    traj = iterate_map("The printed update", problem, phi, np.ones(steps), direction,
                    record_every, max_norm)
    return Trajectory(phi=traj.phi, time=eta * traj.step, step=traj.step)


# ------------------------------------------------------------------------ the CLT step
def block_noise_sums(problem, phi, n_steps, samples, *, batch_size=1, rng) -> np.ndarray:
    r"""Sums of :math:`N` independent gradient fluctuations at a fixed point.

    .. math::
        S_N = \sum_{j=1}^{N} \bigl(g(\Phi) - \hat g_j(\Phi)\bigr),

    the random part of :math:`N` SGD steps (divided by :math:`\eta`) when the
    parameters barely move. :math:`E S_N = 0` and
    :math:`\operatorname{Cov} S_N = N\Sigma(\Phi)/B`; by the central limit
    theorem :math:`S_N/\sqrt N` tends to :math:`\mathcal N(0, \Sigma/B)`:
    its skewness falls like :math:`N^{-1/2}` and its excess kurtosis like :math:`N^{-1}`.

    Parameters
    ----------
    problem : Problem
    phi : array_like, shape (dim,)
        The point :math:`\Phi` where gradients are sampled.
    n_steps : int
        :math:`N \ge 1`.
    samples : int
        Number of independent sums.
    batch_size : int
        :math:`B`.
    rng : numpy.random.Generator or int

    Returns
    -------
    numpy.ndarray, shape (samples, dim)
    """
    phi = as_finite_array(phi, "phi", shape=(problem.dim,))
    n = as_positive_int(n_steps, "n_steps")
    m = as_positive_int(samples, "samples")
    b = as_positive_int(batch_size, "batch_size")
    gen = as_generator(rng)
    points = np.broadcast_to(phi, (m, problem.dim))
    g = problem.grad(phi)
    total = np.zeros((m, problem.dim))
    for _ in range(n):
        total += problem.sample_grad(points, b, gen)
    return n * g - total


# ----------------------------------------------------------------------------- scenes
def separable_factors(sigma_x, sigma_y, *, tilt=TILT, k_y=KY):
    r"""The 1-D factors of the chapter's 2-D problem and the 2-D problem itself.

    :math:`\mathcal L_x(x) = (x^2 - 1)^2 + c\,x` (:func:`sgdsim.double_well`,
    tilt :math:`c`) with noise variance :math:`\sigma_x^2`, and
    :math:`\mathcal L_y(y) = \tfrac12 k_y y^2` with noise variance :math:`\sigma_y^2`.

    Returns
    -------
    (x_problem, y_problem, problem) : the two 1-D problems and their product (2-D)
    """
    px = double_well(tilt=tilt, noise_var=float(sigma_x) ** 2)
    py = NoisyPotential(lambda p: 0.5 * k_y * p[..., 0] ** 2, lambda p: k_y * p,
                        float(sigma_y) ** 2, dim=1, minimizer=[0.0],
                        hessian=lambda p: np.full(p.shape[:-1] + (1, 1), k_y))
    return px, py, product_problem(px, py)

