//! Deterministic, seeded machining simulator of a 3-axis vertical mill. It runs real G-code
//! ([`gcode`]), cuts a 2.5D z-map stock ([`stock`]), and from the engagement computes cutting
//! force and power ([`cutting`]), flank-wear growth ([`wear`]) and machine power by state
//! ([`power`]); [`engine::Simulator`] ties them together tick by tick and records noisy sensor
//! samples and events ([`recording`]); a run ends with a [`result::PartResult`]. The operator's
//! [`panel`] (override knob, feed hold, single block, MDI; scriptable) wins over any loop.
//!
//! The simulator is a product feature, not a mock: tests, benchmarks, the demo and the
//! conformance tests of the closed loops drive it. Everything below is in SI-derived units as
//! named; "source" says where a value comes from, "assumed" marks a modelling choice.
//!
//! # Kinematics and machine dynamics
//! - One tick per fast sample (default 500 Hz, 2 ms). Within a tick the tool follows the
//!   interpreted moves (arcs arrive as chords within 0.005 mm) at the path speed the control's
//!   motion planner ([`planner`]) gives: the target is the programmed feed × override, or the
//!   rapid rate, capped by every axis's rate projected on the move's direction and by the
//!   machine's path rates; the speed gets there and back with a jerk-limited ("S-curve")
//!   profile within each axis's acceleration and jerk. Corners slow the tool: each axis's
//!   velocity step at a block boundary stays within its corner step, and over a chain of short
//!   blocks within its acceleration (the centripetal limit √(a·R) on an arc's chords).
//!   Look-ahead over up to 200 blocks (as far as the braking distance needs) lets the tool keep
//!   its speed through short collinear blocks and brake in time for a corner or stop ahead.
//!   The tool stops at rapid↔feed transitions, dwells, tool changes, M0/M1 and program end.
//!   The planner changes only the timing: the blocks run and the path cut are the
//!   interpreter's, and the tool reaches every programmed end point exactly.
//! - Feed override: the control clamps it to 0–200 % (the range of Fanuc and Siemens machine
//!   panels); it scales the target feed, and a change acts from the next tick, followed at the
//!   machine's acceleration and jerk. Rapids are not overridden. Feed hold brakes the same way
//!   to a stop. So a higher override shortens long straight cuts almost in proportion
//!   (150 %: 33 % shorter) and programs of short segments far less (150 % on a 0.5 mm zig-zag
//!   at F1500: not at all, its corners hold it below the feed; on a 5 mm radius circle at
//!   F4000: 7 %).
//! - Ratings of the default machine ([`aimm_model::AxisRatings::vmc`], a small vertical
//!   machining centre; assumed, typical of the class, within the ranges its data sheets give):
//!
//! | axis | rapid m/min | max feed m/min | acceleration m/s² | jerk m/s³ | corner step mm/min |
//! |---|---|---|---|---|---|
//! | X, Y | 30 | 10 | 3 | 50 | 360 |
//! | Z | 24 | 10 | 2 | 30 | 240 |
//!
//!   The corner step is what the axis's acceleration gives in one 2 ms interpolation period
//!   (assumed; Fanuc parameter 1783 sets it on a real control). Path rates: rapid 30 m/min,
//!   cutting feed 10 m/min. Jerk-limited profiles: Y. Altintas, *Manufacturing Automation*,
//!   2nd ed., Cambridge University Press 2012, ch. 6.
//! - Cutter-radius (G41/G42) and tool-length (G43) compensation are applied by the interpreter,
//!   as by a real control, from the tool table's geometry + wear registers.
//!
//! # Stock (z-map)
//! A grid of square columns, cell edge = 1/40 of the smallest tool diameter clamped to
//! 0.05–0.25 mm (at most 4 M cells); finishing allowances thinner than a cell are not resolved. Every half cell of feed travel the tool's lower envelope
//! (flat: its tip plane; ball: a sphere) cuts the columns under its footprint. The section
//! A = ΔV/Δs (mm²) over the last four cuts, and the deepest cut ap (mm), give the engagement;
//! radial engagement ae = A / ap.
//!
//! # Cutting force: Kienzle
//! Specific cutting force kc = kc1.1 · h_m^(−mc) · (1 + g·VB) · k_H in N/mm² (k_H: the stock's
//! hardness factor where the tool cuts, 1 in nominal material; see below), with the mean chip
//! thickness of peripheral milling h_m = 2·fz·(ae/D)/φ_s, φ_s = arccos(1 − 2·ae/D) (rad),
//! fz = vf / (n·z) (mm); for plunging and drilling h_m = fz. Cutting power Pc = kc · MRR with
//! MRR = A · vf (W = 1e-3 · N/mm² · mm³/s); mean tangential force F = Pc / vc,
//! vc = π·D·n (m/min). Source of the form: O. Kienzle, "Die Bestimmung von Kräften und
//! Leistungen an spanenden Werkzeugen und Werkzeugmaschinen", VDI-Z 94 (1952) 299–305; the
//! chip-thickness formula as in Sandvik Coromant's milling formulas (Metal cutting technical
//! guide). h_m is floored at 0.002 mm (assumed: below it ploughing, not the power law, rules).
//!
//! | material | kc1.1 N/mm² | mc | source |
//! |---|---|---|---|
//! | steel C45 (1.0503) | 2220 | 0.14 | Kienzle & Victor values for C45/Ck45 as tabulated in W. König, F. Klocke, *Fertigungsverfahren 1*, Springer |
//! | Al 6061-T6 | 700 | 0.25 | Sandvik Coromant, workpiece-material table, ISO N wrought aluminium, aged (≈ kc1 700 N/mm², mc 0.25) |
//! | Ti-6Al-4V | 1400 | 0.23 | Sandvik Coromant, workpiece-material table, ISO S titanium α+β alloys (≈ kc1 1400 N/mm², mc 0.23) |
//! | stainless 316L (1.4404) | 2150 | 0.20 | VDI 3323 material group 14, austenitic stainless steel, 180 HB, as tabulated in ISCAR's "ISO materials and grades" user guide (kc1 2150 N/mm², mc 0.20); Sandvik Coromant's ISO M austenitic group gives the same magnitude (mc ≈ 0.21) |
//! | grey cast iron GG-25 (EN-GJL-250) | 1160 | 0.26 | Kienzle & Victor value for GG-26, the nearest grade of the same table as C45 (König & Klocke, *Fertigungsverfahren 1*); within VDI 3323 groups 15–16, grey cast iron 180–260 HB, kc1 1150–1350 N/mm², mc 0.20–0.28 (ISCAR user guide) |
//!
//! # Hardness variation in the stock
//! [`aimm_model::StockHardness`] (in [`SimConfig::hardness`], none by default) makes regions of
//! the block cut harder: a casting skin (a layer of given thickness under the block's top face
//! and inside its side faces) and hard spots (boxes, vertical cylinders), each with a factor on
//! kc and one on the wear rate dVB/dt; where regions overlap the larger factor applies. Every
//! cell column the tool cuts contributes its removed height weighted by the factors along it,
//! so the force and wear models see the volume-weighted factors of what the last four cuts
//! removed ([`hardness`]). Typical inputs (assumed, for the caller to choose): a sand-cast grey
//! iron skin of 1–3 mm at 1.3–1.5 × kc (chilled, carbide-rich surface) and 2–3 × wear rate
//! (embedded moulding sand is abrasive); a hard inclusion at 1.5–2 × kc.
//!
//! # Tool wear: Taylor life shaping a three-phase VB curve
//! Extended Taylor equation v · T^n · (h_m/h_ref)^a = C gives the tool life T (min) to the wear
//! criterion VB_c = 0.3 mm (uniform flank wear, ISO 8688-2:1989 end-of-life criterion) at the
//! current cutting speed v (m/min) and chip thickness; h_ref = 0.05 mm, a = 0.3 (assumed,
//! within the 0.2–0.5 feed exponents reported for extended Taylor fits). While cutting,
//! dVB/dt = w_H · VB_c · K / T · s(VB/VB_c) (w_H: the stock's wear-rate factor, 1 in nominal
//! material) with the shape s(x) = 1 + 2·e^(−x/0.05) + 4·x⁴ (fast break-in, steady wear,
//! accelerating wear past the criterion; assumed, after the classic three-zone flank-wear curve) and K = ∫₀¹ dx/s(x), so VB reaches VB_c exactly at the Taylor
//! life at constant conditions. Wear therefore grows monotonically with cutting time and faster
//! at higher speed and chip load. F. W. Taylor, "On the art of cutting metals", Trans. ASME 28
//! (1907); the stress/speed dependence in the spirit of E. Usui et al., "Analytical prediction
//! of cutting tool wear", Wear 100 (1984). The x⁴ term makes dVB/dt grow without bound in
//! finite time, so at VB = 1.0 mm (≈ 3·VB_c; assumed) the edge fails: the tool stops cutting
//! and the run warns, naming the line. Any physical value that is still not finite stops the
//! run with an error naming the line.
//!
//! # Tool-to-tool and batch-to-batch scatter ([`scatter`])
//! Nominally identical tools do not live equally long: a tool's life is a lognormal factor
//! (mean 1, CV 0.3) on the Taylor life, i.e. its C is C · factor^n, set per tool with
//! [`Simulator::set_tool_life_factor`] (the tool wears at 1/factor of the nominal rate). Source:
//! J. G. Wager, M. M. Barash, "Study of the distribution of the life of HSS tools", J. Eng. Ind.
//! 93 (1971), and S. Ramalingam, J. D. Watson, "Tool-life distributions", J. Eng. Ind. 99
//! (1977): lognormal lives, CV 0.2–0.4; 0.3 is the middle. Blanks come in batches (heats) of
//! different strength: [`SimConfig::batch`] multiplies kc by the batch's strength factor s and
//! the wear rate by s² over the whole block (s lognormal, CV 0.05: the 700–850 MPa tensile band
//! of C45+QT in EN 10083-2 read as ± 2 σ; the exponent 2 is assumed, the middle of the
//! HB^-(1.5…2.5) hardness corrections of machinability data; 25 parts a batch, assumed). Both are
//! seeded draws ([`scatter::tool_life_factor`], [`scatter::batch_hardness`]): the same seed gives
//! the same tool and batch. The sensors see the difference only through the cut: a tool that
//! wears faster raises kc (and so load and power) sooner.
//!
//! | material | C m/min | n | basis |
//! |---|---|---|---|
//! | steel C45 | 400 | 0.25 | carbide n = 0.2–0.5 (Kalpakjian & Schmid, *Manufacturing Engineering and Technology*, tool-life chapter); C set so 200 m/min gives 16 min |
//! | Al 6061 | 2500 | 0.35 | C set so 400 m/min gives ≈ 190 min (carbide in aluminium wears slowly) |
//! | Ti-6Al-4V | 110 | 0.20 | C set so 60 m/min gives ≈ 21 min (titanium's short carbide life) |
//! | stainless 316L | 135 | 0.22 | assumed: n at the low end of carbide's range (work hardening, notch wear); C set so 70 m/min, the middle of the 53–76 m/min (175–250 SFM) solid-carbide end-mill range for 300-series stainless (HITCARB 4-flute end-mill speeds and feeds), gives ≈ 20 min |
//! | grey cast iron GG-25 | 300 | 0.25 | assumed: n as for steel; C set so 130 m/min, inside the 61–152 m/min (200–500 SFM) range for carbide end mills in soft cast iron (ITI carbide end-mill speeds and feeds), gives ≈ 28 min (abrasive graphite and SiC shorten carbide life against steel) |
//!
//! Effects of wear: kc rises by g = 1.5 per mm of VB (+45 % at VB = 0.3 mm; assumed, within the
//! 30–100 % end-of-life force rise reported in tool-condition-monitoring studies), and the
//! effective tool radius shrinks by VB · tan α with clearance α = 10° (flank-wear geometry:
//! radial wear ≈ VB·tan α; 0.053 mm at VB = 0.3 mm), so an uncompensated worn tool leaves walls
//! proud by that much; a radius wear offset of the same size in the D register brings them back.
//!
//! # Spindle and machine power
//! Spindle shaft power = no-load 0.12 kW per 1000 rev/min + Pc; electrical = shaft / 0.85
//! (drive and motor efficiency). The spindle motor's torque/power curve: above the base speed
//! of 1500 rev/min (assumed, typical of a VMC's main spindle motor) it delivers its rated power
//! (constant-power range); below it, its rated torque, P_rated / (2π·n_base/60) = 47.7 N·m for
//! the default 7.5 kW spindle, so the available power falls linearly with speed
//! (constant-torque range). Spindle load % = shaft power / available power: below base speed
//! that is the torque as a share of the rated torque, so the overload threshold also guards the
//! torque. Machine power by state: off 0; standby 0.6 kW (control, fans);
//! idle 2.2 kW (drives enabled, hydraulics, lubrication, conveyor); spindle running adds the
//! spindle's electrical power; cutting adds Pc/0.85; flood coolant 0.45 kW; axes up to 0.4 kW
//! at rapid, proportional to speed. Magnitudes after T. Gutowski, J. Dahmus, A. Thiriez,
//! "Electrical energy requirements for manufacturing processes", CIRP LCE 2006 (a large constant
//! base load dominates machining-centre energy) and N. Diaz, E. Redelsheimer, D. Dornfeld,
//! "Energy consumption characterization and reduction strategies for milling machine tool use",
//! CIRP LCE 2011 (spindle no-load power roughly linear in speed).
//!
//! # Sensors and events
//! Spindle load (%), spindle power (kW) and cutting force (N) at the fast rate; speed, feeds,
//! override, positions, machine power, energy and state at the slow rate (default 50 Hz); tool
//! number and radius wear offset on change. Gaussian noise from a ChaCha8 generator seeded by the
//! run's seed, σ: load 0.3 % + 2 % of reading, spindle power 0.02 kW + 2 %, force 5 N + 3 %,
//! speed 0.1 %, actual feed 0.2 %, positions 1 µm, machine power 0.02 kW + 1 % (assumed, typical
//! of drive-internal measurements). Events: program start/end, program and optional stops, tool
//! changes, offset changes, spindle overload above the machine's threshold (default 120 %, with
//! 5 % hysteresis) and its clearing, and warnings for what is read but not modelled.
//!
//! # Steady-state process physics ([`process`])
//! The plant of the process-parameter learning loop: the same Kienzle, Taylor and spindle
//! formulas evaluated once for one operation's steady state, plus regenerative chatter
//! (single-mode stability lobes with process damping), kinematic roughness and deflection wall
//! error, a hidden per-case truth drawn inside documented ranges, an oracle and benchmark cases.
//! Its module documentation gives every formula, value and source. The engine evaluates the
//! same formulas every cutting tick into one [`result::OperationSummary`] per tool and, with
//! [`SimConfig::process_truth`] set, warns of chatter naming the line.
//!
//! # Reference feature
//! The walls cut under G41/G42 (or, without compensation, every side-cutting move). The wall lies
//! at the tool-centre path plus the tool's effective radius; the deviation is the compensation
//! radius the control used (nominal radius without G41/G42) minus the effective radius, weighted
//! by wall length, judged against ±0.02 mm by default.

pub mod cutting;
pub mod engine;
pub mod gcode;
pub mod hardness;
mod loop_machine;
pub mod materials;
pub mod panel;
pub mod planner;
pub mod power;
pub mod process;
pub mod recording;
pub mod result;
pub mod scatter;
pub mod setup;
pub mod stock;
pub mod tool_table;
pub mod wear;

pub use engine::{plan_stock, SimConfig, SimError, Simulator, DEFAULT_START_NS};
pub use panel::{Panel, PanelAction, PanelError, PanelScript};
pub use result::{FeatureResult, OperationSummary, PartResult, ToolWear};
pub use tool_table::ToolTable;
