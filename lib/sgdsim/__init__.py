"""sgdsim: small, vectorized simulators of SGD, gradient flow and Langevin dynamics.

The shared engine of the course companion to TTIC 31230's lecture "Stochastic
Gradient Descent: Gradient Flow and Langevin Dynamics". Parameters are arrays
shaped ``(chains, dim)``; every random function takes ``rng=`` (a seeded
``numpy.random.Generator`` or an integer seed).

Core modules: ``problems``, ``dynamics``, ``schedules``, ``preconditioners``,
``stationary``, ``estimators``, ``checks``, ``plotting``, ``datasets``, ``widgets``.
Chapter machinery: ``euler`` (ch. 1), ``convergence`` (ch. 2), ``tz`` (ch. 3),
``sde`` and ``fokker_planck`` (ch. 4), ``adaptive`` (ch. 5); ``ledger`` reads the
book's checked claims.
"""

from . import datasets, estimators, plotting, schedules, stationary
from .checks import Claim, check, evaluate, refute
from .claims import ClaimFailed, Claims
from .dynamics import (
    DivergenceError,
    Trajectory,
    gradient_descent,
    gradient_flow,
    langevin,
    sgd,
)
from .estimators import Estimate, autocorr_time, batch_means, chain_mean, loglog_slope, weighted_fit
from .preconditioners import Diagonal, RMSProp
from .problems import (
    LinearRegression,
    LogisticRegression,
    NoisyPotential,
    Problem,
    Quadratic,
    double_well,
)
from .stationary import gibbs_density, langevin_stationary_cov, sgd_stationary_cov, temperature

# Chapter 1 (gradient flow): gradient descent as Euler's method.
from . import euler
from .euler import compare_with_flow, euler_error_function, euler_global_errors

# Chapter 2 (SGD convergence): distance to the flow, block updates, L(eta), learning-rate drops.
from . import convergence
from .checks import OneSidedClaim, check_positive
from .convergence import (
    DropRun,
    block_update_law,
    block_updates,
    converged_loss,
    stationary_excess_loss,
    sup_distance,
    transient_excess_loss,
    train_with_drops,
)

# Chapter 3 (the TZ theorem): the second-order model, its exact SGD laws, the slope estimators.
from . import tz
from .tz import SecondOrderModel, example_hessians, headline_slope, second_order_model

# Chapter 4 (Langevin dynamics): SDE tools and the Fokker-Planck solver.
from . import fokker_planck, sde
from .fokker_planck import FokkerPlanck1D
from .sde import (
    block_noise_sums,
    compare_ensembles,
    cumulants,
    fit_temperature,
    gibbs_mean_loss,
    linear_noise_cov,
    printed_update,
    product_problem,
    quadratic_moments,
    sgd_stationary_density,
    sgd_stationary_temperature,
)

# Chapter 5 (RMSProp): per-parameter rates, exact preconditioned laws, temperatures.
from . import adaptive
from .adaptive import (
    ChainRates,
    Dense,
    compare,
    expected_excess_loss,
    observe,
    preconditioned_langevin_stationary_cov,
    preconditioned_sgd_stationary_cov,
    rate_sweep,
    ratio_of_means,
    rmsprop_mean_square,
    rmsprop_temperature,
    rmsprop_temperature_factor,
    virial_matrix,
)

__version__ = "0.1.0"

__all__ = [
    # checks
    "Claims", "ClaimFailed", "check", "evaluate", "refute", "Claim",
    # problems and dynamics
    "Problem", "Quadratic", "LinearRegression", "LogisticRegression", "NoisyPotential",
    "double_well",
    "gradient_flow", "gradient_descent", "sgd", "langevin", "Trajectory", "DivergenceError",
    "Diagonal", "RMSProp",
    # estimators and stationary laws
    "Estimate", "chain_mean", "batch_means", "autocorr_time", "weighted_fit", "loglog_slope",
    "temperature", "gibbs_density", "sgd_stationary_cov", "langevin_stationary_cov",
    # modules
    "datasets", "estimators", "plotting", "schedules", "stationary",
    # chapter 1
    "euler", "compare_with_flow", "euler_global_errors", "euler_error_function",
    # chapter 2
    "convergence", "check_positive", "OneSidedClaim", "sup_distance", "block_updates",
    "block_update_law", "stationary_excess_loss", "converged_loss", "train_with_drops", "DropRun",
    "transient_excess_loss",
    # chapter 3
    "tz", "SecondOrderModel", "example_hessians", "second_order_model", "headline_slope",
    # chapter 4
    "fokker_planck", "sde", "FokkerPlanck1D", "block_noise_sums", "compare_ensembles", "cumulants",
    "fit_temperature", "gibbs_mean_loss", "linear_noise_cov", "printed_update",
    "product_problem", "quadratic_moments", "sgd_stationary_density",
    "sgd_stationary_temperature",
    # chapter 5
    "adaptive", "Dense", "ChainRates", "preconditioned_sgd_stationary_cov",
    "preconditioned_langevin_stationary_cov", "expected_excess_loss", "virial_matrix",
    "ratio_of_means", "rmsprop_temperature_factor", "rmsprop_temperature",
    "rmsprop_mean_square", "rate_sweep", "compare", "observe",
]
