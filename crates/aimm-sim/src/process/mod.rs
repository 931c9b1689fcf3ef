//! Fast steady-state physics of one milling operation at given cutting parameters: what a part
//! run would measure ([`outcome::true_measurement`]), how noisily ([`outcome::measure`]), when it
//! chatters ([`stability`]), the hidden per-case truth behind it ([`truth`]), the best parameters
//! with the truth known ([`mod@oracle`]) and the benchmark operations ([`cases`]). It is the plant of
//! the process-parameter learning loop (issue 16): a learner changes the feed per tooth f_z and
//! the cutting speed v_c of an operation ([`aimm_model::CutParams`]), never its depth or width of
//! cut, and sees only [`aimm_model::PartMeasurement`]s. Everything is pure and deterministic;
//! seeds name every random draw (ChaCha8).
//!
//! The formulas are the tick engine's ([`crate::engine`]): the same Kienzle force
//! ([`crate::cutting::kienzle`]), Taylor life ([`crate::wear::WearModel::tool_life_min`]) and
//! spindle power model ([`crate::power::PowerModel`]), evaluated once for the steady state
//! instead of tick by tick. Units as named; "assumed" marks a modelling choice.
//!
//! # Kinematics
//! n = 1000·v_c/(π·D) rev/min; v_f = f_z·z·n mm/min; cycle time = fixed time + 60·L/v_f s for
//! a toolpath of L mm in the material.
//!
//! # Cutting power, torque and the spindle's limits
//! Kienzle as in [`crate::cutting`]: h_m = 2·f_z·(a_e/D)/φ_s, φ_s = arccos(1 − 2·a_e/D),
//! kc = kc1.1·h_m^(−mc) N/mm² (h_m ≥ 0.002 mm), P_c = kc·a_p·a_e·v_f (W = 1e-3·N/mm²·mm³/s).
//! Spindle shaft power = 0.12 kW per 1000 rev/min (no-load) + P_c; torque = shaft power / ω,
//! ω = 2π·n/60. Limits of the machine ([`cases::spindle_limits`]): its rated power (7.5 kW on
//! the default VMC) and rated torque P_rated/(2π·n_base/60) = 47.7 N·m (base speed 1500 rev/min):
//! below the base speed [`outcome::available_power_kw`] falls with the speed, which the torque
//! limit guards.
//!
//! # Regenerative chatter ([`stability`])
//! Single-mode tool tip, equal in X and Y: G(iω) = 1/(k·(1 − r² + 2iζr)), r = ω/ω_n (mm/N,
//! k in N/mm). Zeroth-order (average directional factor) solution of Y. Altintas, E. Budak,
//! "Analytical prediction of stability lobes in milling", CIRP Annals 44/1 (1995) 357–362, as in
//! Y. Altintas, *Manufacturing Automation*, 2nd ed., Cambridge University Press 2012, ch. 3.4:
//! down milling, φ_st = π − φ_s, φ_ex = π; directional factors
//! α_xx = ½[cos 2φ − 2K_rφ + K_r sin 2φ], α_xy = ½[−sin 2φ − 2φ + K_r cos 2φ],
//! α_yx = ½[−sin 2φ + 2φ + K_r cos 2φ], α_yy = ½[−cos 2φ − 2K_rφ − K_r sin 2φ] over
//! [φ_st, φ_ex]; with equal X/Y dynamics the eigenvalues of the oriented FRF are λ_α·G(iω)
//! (λ_α: eigenvalues of the matrix α), Λ = −1/(λ_α·G), and
//! a_lim = −(2π/(z·K_t))·Λ_R·(1 + κ²), κ = Λ_I/Λ_R, at spindle period
//! T = (ε + 2πk)/ω_c, ε = π − 2·atan κ, k = 0, 1, 2, … lobes. The tangential coefficient is
//! Kienzle's at the mean chip thickness, K_t = kc1.1·h_m^(−mc), so a higher feed is slightly more
//! stable (mc > 0). At a given speed the limit is the lowest lobe passing it: a 2 × 161-point
//! grid of chatter frequencies at r ∈ 1 ± 0.5·(i/160)² is scanned for the crossings of
//! ω_c·T − ε through multiples of 2π, interpolated (tens of µs a call).
//! Stability ratio = a_p / a_lim (≥ 1: chatter). Between the lobes are stable pockets; the
//! lobes' minima lie on the envelope min over ω of a_lim(ω) ([`stability::absolute_limit_ap_mm`]):
//! below it every speed is stable. Tlusty's oriented-FRF treatment gives the same magnitude
//! (J. Tlusty, *Manufacturing Processes and Equipment*, Prentice Hall 2000, ch. 9).
//!
//! Process damping (the flank rubbing the wavy surface) stabilises low speeds: the effective
//! damping ratio is ζ·(1 + λ_pd/λ), λ = v_c/f_n the surface wavelength (mm), λ_pd a per-case
//! coefficient (assumed form: the damping force ∝ a_p·ẏ/v_c of Y. Altintas, M. Eynian,
//! H. Onozuka, "Identification of dynamic cutting force coefficients and chatter stability with
//! process damping", CIRP Annals 57/1 (2008) 371–374, lumped into one wavelength; its value is
//! assumed, below).
//!
//! # Surface roughness, wall error, tool life
//! - Ra = F_Ra · 1000·f_z²/(32·r_ε) µm, the kinematic roughness of the feed marks of a corner
//!   radius r_ε (mm; ≥ 0.1 mm, [`outcome::MIN_EDGE_RADIUS_MM`], the chamfer of a "sharp" corner,
//!   assumed), times a factor F_Ra ≥ 1 for built-up edge, runout and edge hone (e.g. Sandvik
//!   Coromant, *Metal cutting technical guide*, surface-finish formulas; M. C. Shaw, *Metal
//!   Cutting Principles*, Oxford 2005, on measured vs. ideal roughness).
//! - Wall error = K_r·F_t,max / k_static (mm) with F_t,max = kc(h_max)·a_p·h_max, h_max =
//!   f_z·sin φ_s below half immersion, f_z above: the radial force of the whole flute length at
//!   the largest chip, against the static stiffness of tool, holder and spindle (conservative:
//!   no helix spreading).
//! - Tool life used per part = cutting time (min) / T, T from the extended Taylor equation
//!   v_c·T^n·(h_m/0.05 mm)^a = C of [`crate::wear`] with the truth's C, n and a; the constraint is
//!   tool life used < 1/(min parts per tool).
//!
//! # Cost
//! Per part (see [`aimm_model::PartMeasurement::cost`]): machine rate · cycle time + tool price ·
//! tool life used. Benchmarks: 90 per hour, 60 per 10 mm solid-carbide end mill, at least 40
//! parts per tool (assumed: typical job-shop rate and premium-tool list price).
//!
//! # Measurement noise ([`outcome::measure`])
//! Gaussian, σ: cycle time 0.1 % (control clock); spindle power and torque 1 % (drive-internal);
//! Ra and wall error 1 % (profilometer, probe); stability ratio 0.02 + 2 % (estimated from the
//! vibration signal by operational damping identification); tool life used 5 % (wear read on
//! the tool). The truth of a case does not vary from part to part. All assumed.
//!
//! # The hidden truth and its ranges ([`truth`])
//! A learner knows the ranges, never the draw; [`truth::ProcessTruth::draw`] draws every
//! coefficient uniformly and independently. [`truth::TruthRanges::of`] for a solid-carbide end
//! mill of diameter D in a shrink-fit holder (d = D/10 mm):
//!
//! | coefficient | range | basis |
//! |---|---|---|
//! | kc1.1 | nominal ± 15 % | nominal from [`crate::materials`]; ± 15 % spans the spread between Kienzle tables and heats (König & Klocke vs. Sandvik values for the same grade; the ± 2σ band of the batch model in [`crate::scatter`] is ± 10 %) |
//! | mc | nominal ± 10 % | as kc1.1 (assumed) |
//! | Taylor C | nominal ± 25 % | tool-to-tool and coating differences (the lognormal life CV 0.3 of [`crate::scatter`] is ± 7 % in C at n = 0.25; tool brands differ more; assumed) |
//! | Taylor n | nominal ± 10 % | assumed |
//! | Taylor a | 0.2–0.4 | within the 0.2–0.5 of extended-Taylor fits; nominal 0.3 as [`crate::wear`] |
//! | K_r | steel, Ti 0.35–0.55; Al 0.25–0.45 | assumed, around the ratios of Altintas' mechanistic coefficients (e.g. Al 7050: K_r ≈ 0.3; steels higher) |
//! | f_n | 1.5–3.5 kHz / d | tap tests of 10 mm carbide end mills in shrink-fit holders (Altintas, *Manufacturing Automation*, ch. 3 examples; T. L. Schmitz, K. S. Smith, *Machining Dynamics*, Springer 2009); f ∝ 1/D at a stick-out ∝ D (assumed) |
//! | ζ | 0.03–0.045 | tool-tip modes 0.02–0.05 (same sources); the narrower band of one tool and holder type (assumed) |
//! | modal stiffness | 22–32 N/µm · d | a 10 mm carbide cantilever of 30 mm stick-out is ≈ 13–25 N/µm (3EI/L³, E = 600 GPa, fluted core ≈ 0.8 D), stiffened by a short shrink-fit (assumed) |
//! | static stiffness | 12–25 N/µm · d | tool, holder and spindle in series: below the tool's modal stiffness (assumed) |
//! | roughness factor | steel, Ti 1.0–1.4; Al 1.1–1.6 | assumed (Al: built-up edge) |
//! | λ_pd | Al 0.3–0.6 mm; steel 0.6–1.2 mm; Ti 0.8–1.6 mm | assumed: process damping matters at surface wavelengths around and below 1 mm, more in harder, low-speed materials (Altintas, Eynian & Onozuka 2008; Budak & Tunc, CIRP Annals 58 (2009)) |
//!
//! # Benchmark cases ([`cases::benchmark_cases`])
//! A 10 mm solid-carbide end mill (4 flutes, 3 in aluminium), corner radius 0.5 mm, on the
//! default VMC (7.5 kW, 47.7 N·m, 10 000 rev/min: v_c ≤ 314 m/min), fixed time 20 s:
//!
//! | case | a_p mm | a_e mm | L mm | Ra µm | wall mm | start f_z mm, v_c m/min | box f_z; v_c |
//! |---|---|---|---|---|---|---|---|
//! | C45 roughing | 2.8 | 2.0 | 900 | – | – | 0.04, 70 | 0.01–0.2; 40–314 |
//! | C45 finishing | 3.5 | 0.3 | 1000 | 0.8 | 0.015 | 0.03, 150 | 0.01–0.15; 40–314 |
//! | Al 6061 roughing | 8 | 1.5 | 2000 | – | – | 0.10, 120 | 0.01–0.3; 60–314 |
//! | Al 6061 finishing | 8 | 0.2 | 1500 | 1.6 | 0.02 | 0.05, 250 | 0.02–0.25; 60–314 |
//! | Ti-6Al-4V roughing | 10 | 1.5 | 450 | – | – | 0.04, 30 | 0.01–0.15; 20–150 |
//! | Ti-6Al-4V finishing | 7 | 0.2 | 800 | 0.8 | 0.015 | 0.03, 45 | 0.01–0.12; 20–150 |
//!
//! The start points are what a cautious CAM programmer would take for an untested tool and
//! holder: feeds at the low end of the handbook ranges for a 10 mm end mill (Sandvik Coromant
//! CoroMill Plura recommendations: P steel v_c ≈ 150–250 m/min, f_z ≈ 0.03–0.06 mm at
//! a_e ≈ 0.2 D; N aluminium v_c 300–1000 m/min, f_z ≈ 0.05–0.12 mm; S titanium v_c ≈ 40–80 m/min,
//! f_z ≈ 0.03–0.06 mm) and, for roughing, speeds below them, where process damping keeps the
//! cut stable with any tool in the ranges. They satisfy every constraint for every truth of the
//! ranges (tested over 200 draws); the depths are chosen so (the worst draw's stability ratio
//! at the start is 0.7–0.9). The boxes reach from below the start to the tool maker's upper
//! feeds and the spindle's top speed, so they hold chatter (low feed at unstable speeds),
//! roughness, tolerance and tool-life violations.
//!
//! # The tick engine sees the same physics
//! [`crate::SimConfig::process_truth`] makes the engine cut with the truth's Kienzle and Taylor
//! constants; every cutting tick it evaluates the stability ratio of the z-map engagement
//! (a_p the deepest cut, a_e = section / a_p ≤ D, the actual f_z and speed; K_t raised by wear
//! and hardness as kc is), the wall error and the tool life used with the formulas above, and
//! warns once per block when the ratio reaches 1 ("line N: T1 chatters: …"). Each tool's
//! [`crate::result::OperationSummary`] in [`crate::PartResult::operations`] holds the peaks
//! (power, torque and ratio from the engagement and cutting power averaged over the last
//! [`crate::engine::SUMMARY_SMOOTHING_MM`] of path, which removes the z-map's cell
//! quantization), Ra from the largest f_z of the cut, and converts to a
//! [`aimm_model::PartMeasurement`] (cycle time = the tool's first to last moving tick). The
//! model's lobes are computed only when the speed (0.2 %) or a_e (1 %) changes. The simulator
//! has no vibration signal kind, so the ratio is not recorded as a sample.
//!
//! Found with the truth known ([`oracle()`], seeds 0–19): the oracle costs 55–75 % less
//! than the start in every case. Finishing is bounded by roughness and wall tolerance. Roughing
//! is bounded by the box's highest feed and by the Taylor trade-off of machine time against
//! tool cost (the economic cutting speed), not by chatter or the spindle: with Kienzle's size
//! effect a thicker chip lowers K_t and so raises a_lim, and a 10 mm tool at depths that are
//! stable for every truth draws under 2 kW of the 7.5 kW spindle.

pub mod cases;
pub mod oracle;
pub mod outcome;
pub mod stability;
pub mod truth;

pub use cases::{benchmark_cases, spindle_limits, ProcessCase};
pub use oracle::{near_limits, oracle};
pub use outcome::{available_power_kw, measure, rated_torque_nm, true_measurement};
pub use stability::{stability_limit_ap_mm, stability_ratio};
pub use truth::{ProcessTruth, TruthRanges};

#[cfg(test)]
mod tests;
