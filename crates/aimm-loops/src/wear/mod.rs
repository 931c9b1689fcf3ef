//! Tool-wear estimation and tool life, the pure core (no I/O): features per window of cutting time
//! ([`features`]), a physics-prior + data-corrected estimator with calibrated intervals and
//! remaining useful life ([`model`]), and leave-one-run-out evaluation against the sensor-free
//! baseline ([`eval`]). Input is a loaded wear CSV ([`aimm_connect::wear_csv`]).
//!
//! # Model
//! 1. **Windows**: each run is cut into fixed spans of cutting time (10 s by default); a window
//!    gives, per signal, mean, RMS, standard deviation and peak |value|, plus the cutting time and
//!    the cumulative signal energy since the tool was new.
//! 2. **Prior**: VB = v0 + k·tⁿ (k ≥ 0: wear never falls with cutting time), least squares on the
//!    training windows, n from a fixed grid.
//! 3. **Observation**: prior(t) + ridge regression of the prior's residual on standardised window
//!    features.
//! 4. **Filter**: a scalar Kalman filter advances the estimate by the prior's growth between
//!    windows and corrects it with each observation; the estimate is held non-decreasing.
//! 5. **Interval**: ± the conformal quantile (at the nominal coverage, 90 %) of the filtered
//!    errors on held-out training runs.
//!
//! # Hyper-parameters, by rule
//! The window length, the exponent grid and the λ grid are fixed defaults, the same for every data
//! set. λ is chosen by nested leave-one-run-out CV on the training runs only (minimum held-out
//! RMSE of the observation); that CV's held-out errors also set the observation variance and the
//! interval; the process variance is the training runs' spread of per-window wear growth around
//! the prior's. Nothing is random: the same data give the same model and digest.

pub mod eval;
pub mod features;
pub mod model;

pub use eval::{leave_one_run_out, FoldResult};
pub use features::{feature_names, windows, Window, WindowSpec};
pub use model::{
    RemainingLife, WearEstimate, WearModel, WearModelError, WearPrior, WearTrainConfig,
    DEFAULT_WEAR_CRITERION_MM,
};
