//! The benchmark part: examples/bracket_c45.nc (roughing, finishing under cutter compensation, a
//! stepped pocket and a drilling cycle) in steel C45 on a VMC, simulated at 500 Hz. It measures
//! nothing itself; [`sim`](crate::sim), [`store`](crate::store), [`connect`](crate::connect) and
//! [`mqtt`](crate::mqtt) take their samples from it, so their figures are on the same data.

use crate::BenchError;
use aimm_model::{MachineSpec, Material, SignalSeries, ToolSpec};
use aimm_sim::gcode::{parse, Program};
use aimm_sim::setup::prepare;
use aimm_sim::{SimConfig, Simulator, ToolTable};

/// The realistic program the simulator benchmark runs: roughing, finishing under cutter
/// compensation, a stepped pocket and a drilling cycle in steel.
const BENCH_PROGRAM: &str = include_str!("../../../examples/bracket_c45.nc");

/// The benchmark part: examples/bracket_c45.nc in steel C45 on a VMC, ready to simulate.
pub struct BenchPart {
    pub(crate) program: Program,
    pub(crate) tools: ToolTable,
    pub(crate) config: SimConfig,
}

/// What simulating some benchmark parts recorded.
pub struct SimulatedParts {
    /// Every sample, in seal-sized windows (10 s at 500 Hz) per signal.
    pub series: Vec<SignalSeries>,
    /// Simulated seconds, all parts together.
    pub simulated_s: f64,
    /// Samples recorded, all parts together.
    pub samples: u64,
}

impl BenchPart {
    /// Parses the program and sets the part up (tools, stock).
    pub fn new() -> Result<Self, BenchError> {
        let program = parse("examples/bracket_c45.nc", BENCH_PROGRAM)?;
        let mut config = SimConfig::new(MachineSpec::vmc("bench"), Material::SteelC45, 1);
        let tools = prepare(&program, &ToolSpec::default_end_mill(0), &mut config)
            .map_err(BenchError::Setup)?;
        Ok(Self {
            program,
            tools,
            config,
        })
    }

    /// Simulates `parts` parts (seeds 0, 1, ...) at 500 Hz, keeping every sample.
    pub fn simulate(&self, parts: u32) -> Result<SimulatedParts, BenchError> {
        let mut out = SimulatedParts {
            series: Vec::new(),
            simulated_s: 0.0,
            samples: 0,
        };
        for part in 0..parts {
            let mut c = self.config.clone();
            c.seed = u64::from(part);
            let mut sim = Simulator::new(&self.program, self.tools.clone(), c)?;
            let mut steps = 0u64;
            while sim.step()? {
                steps += 1;
                if steps.is_multiple_of(5000) {
                    out.series.extend(sim.recording().drain().0);
                }
            }
            out.series.extend(sim.recording().drain().0);
            out.simulated_s += sim.elapsed_s();
            out.samples += sim.result().samples;
        }
        Ok(out)
    }
}
