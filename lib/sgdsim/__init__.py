"""sgdsim: small, vectorized simulators of SGD, gradient flow and Langevin dynamics.

The shared engine of the course companion to TTIC 31230's lecture "Stochastic Gradient
Descent: Gradient Flow and Langevin Dynamics". Parameters are arrays shaped
``(chains, dim)``; every random function takes ``rng=`` (a seeded
``numpy.random.Generator`` or an integer seed); ``lr`` is the step of every discrete method.

The core has one module per concept: ``problems`` (losses, gradients, noise), ``dynamics``
(gradient flow, GD, SGD, Euler--Maruyama), ``preconditioners``, ``schedules``, ``laws`` (exact
laws on quadratics), ``gibbs``, ``fokker_planck``, ``estimators``, ``claims``, ``plotting`` and
``datasets``. The book layer (:mod:`sgdsim.book`) and the explorers (:mod:`sgdsim.widgets`)
build on it and are imported explicitly; the core never imports them.
"""

from . import datasets, estimators, fokker_planck, gibbs, laws, plotting, schedules
from .claims import ClaimFailed, Claims
from .dynamics import (
    DivergenceError,
    Trajectory,
    gradient_descent,
    gradient_flow,
    langevin,
    sgd,
    stationary_samples,
)
from .estimators import Estimate, autocorr_time, chain_mean, loglog_slope, weighted_fit
from .gibbs import fit_temperature, gibbs_density, sgd_stationary_density, temperature
from .laws import (
    expected_excess_loss,
    langevin_stationary_cov,
    sgd_stationary_cov,
    stationary_excess_loss,
)
from .preconditioners import Dense, Diagonal, RMSProp
from .problems import (
    LinearRegression,
    LogisticRegression,
    NoisyPotential,
    Problem,
    Quadratic,
    double_well,
    product_problem,
)

__version__ = "0.2.0"

__all__ = [
    # problems
    "Problem", "Quadratic", "LinearRegression", "LogisticRegression", "NoisyPotential",
    "double_well", "product_problem",
    # simulation
    "gradient_flow", "gradient_descent", "sgd", "langevin", "stationary_samples",
    "Trajectory", "DivergenceError", "Diagonal", "Dense", "RMSProp",
    # exact laws and Gibbs laws
    "sgd_stationary_cov", "langevin_stationary_cov", "stationary_excess_loss",
    "expected_excess_loss", "temperature", "gibbs_density", "fit_temperature",
    "sgd_stationary_density",
    # estimators and claims
    "Estimate", "chain_mean", "autocorr_time", "weighted_fit", "loglog_slope",
    "Claims", "ClaimFailed",
    # modules
    "laws", "gibbs", "fokker_planck", "estimators", "schedules", "plotting", "datasets",
]
