//! Signal kinds: what a sample measures, its unit, and its MTConnect DataItem equivalent.

use crate::material::UnknownName;
use serde::{Deserialize, Serialize};

/// A measurable quantity of a machine. The unit is part of the name; [`SignalKind::mtconnect`]
/// gives the MTConnect 2.x DataItem (type, subType, native units, scale) it maps onto.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// Spindle load, % of the spindle's rated power at the current speed.
    SpindleLoadPct,
    /// Spindle electrical input power, kW.
    SpindlePowerKw,
    /// Actual spindle speed, rev/min.
    SpindleSpeedRpm,
    /// Resultant cutting force on the tool, N.
    CuttingForceN,
    /// Programmed path feed rate, mm/min.
    FeedProgrammedMmPerMin,
    /// Actual path feed rate (programmed × override, 0 when stopped), mm/min.
    FeedActualMmPerMin,
    /// Feed-rate override in force on the machine, %.
    FeedOverridePct,
    /// Feed-rate override a closed loop commanded, % (aimm's own; the machine reports what it
    /// applied as [`SignalKind::FeedOverridePct`]).
    FeedOverrideCommandedPct,
    /// Actual tool-tip position in work coordinates, mm.
    PositionXMm,
    /// Actual tool-tip Y position in work coordinates, mm.
    PositionYMm,
    /// Actual tool-tip Z position in work coordinates, mm.
    PositionZMm,
    /// Number of the tool in the spindle.
    ToolNumber,
    /// Radius wear offset of the active tool, mm (negative = tool smaller than nominal).
    ToolRadiusWearOffsetMm,
    /// Machine state as its [`crate::MachineState`] code.
    MachineState,
    /// Electrical input power of the whole machine, kW.
    MachinePowerKw,
    /// Electrical energy used by the machine since the run started, kWh.
    MachineEnergyKwh,
}

/// Whether an MTConnect DataItem is a SAMPLE (continuous) or EVENT (discrete).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum MtConnectCategory {
    /// A continuous value (SAMPLE).
    Sample,
    /// A discrete value (EVENT).
    Event,
}

/// How a [`SignalKind`] appears as an MTConnect DataItem.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MtConnectMapping {
    /// SAMPLE or EVENT.
    pub category: MtConnectCategory,
    /// DataItem `type`, e.g. `LOAD`.
    pub data_item_type: &'static str,
    /// DataItem `subType`, e.g. `ACTUAL`, if any.
    pub sub_type: Option<&'static str>,
    /// MTConnect native units, e.g. `MILLIMETER/SECOND`; `None` for events.
    pub units: Option<&'static str>,
    /// Multiply an aimm value by this to get the MTConnect value (mm/min → mm/s is 1/60).
    pub scale: f64,
    /// Component the DataItem belongs to: `Spindle`, `X`, `Y`, `Z`, `Path`, `Electric`, `Controller`.
    pub component: &'static str,
}

impl SignalKind {
    /// Every signal kind.
    pub const ALL: [SignalKind; 16] = [
        SignalKind::SpindleLoadPct,
        SignalKind::SpindlePowerKw,
        SignalKind::SpindleSpeedRpm,
        SignalKind::CuttingForceN,
        SignalKind::FeedProgrammedMmPerMin,
        SignalKind::FeedActualMmPerMin,
        SignalKind::FeedOverridePct,
        SignalKind::FeedOverrideCommandedPct,
        SignalKind::PositionXMm,
        SignalKind::PositionYMm,
        SignalKind::PositionZMm,
        SignalKind::ToolNumber,
        SignalKind::ToolRadiusWearOffsetMm,
        SignalKind::MachineState,
        SignalKind::MachinePowerKw,
        SignalKind::MachineEnergyKwh,
    ];

    /// Position in [`SignalKind::ALL`] (its declaration order), for per-signal arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Stable snake_case name used in the store, CSV headers and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            SignalKind::SpindleLoadPct => "spindle_load_pct",
            SignalKind::SpindlePowerKw => "spindle_power_kw",
            SignalKind::SpindleSpeedRpm => "spindle_speed_rpm",
            SignalKind::CuttingForceN => "cutting_force_n",
            SignalKind::FeedProgrammedMmPerMin => "feed_programmed_mm_per_min",
            SignalKind::FeedActualMmPerMin => "feed_actual_mm_per_min",
            SignalKind::FeedOverridePct => "feed_override_pct",
            SignalKind::FeedOverrideCommandedPct => "feed_override_commanded_pct",
            SignalKind::PositionXMm => "position_x_mm",
            SignalKind::PositionYMm => "position_y_mm",
            SignalKind::PositionZMm => "position_z_mm",
            SignalKind::ToolNumber => "tool_number",
            SignalKind::ToolRadiusWearOffsetMm => "tool_radius_wear_offset_mm",
            SignalKind::MachineState => "machine_state",
            SignalKind::MachinePowerKw => "machine_power_kw",
            SignalKind::MachineEnergyKwh => "machine_energy_kwh",
        }
    }

    /// Parses a name given by [`SignalKind::name`].
    pub fn from_name(name: &str) -> Result<Self, UnknownName> {
        Self::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| UnknownName::new("signal", name, Self::ALL.map(|s| s.name())))
    }

    /// Unit symbol of the values.
    pub fn unit(self) -> &'static str {
        match self {
            SignalKind::SpindleLoadPct
            | SignalKind::FeedOverridePct
            | SignalKind::FeedOverrideCommandedPct => "%",
            SignalKind::SpindlePowerKw | SignalKind::MachinePowerKw => "kW",
            SignalKind::SpindleSpeedRpm => "rev/min",
            SignalKind::CuttingForceN => "N",
            SignalKind::FeedProgrammedMmPerMin | SignalKind::FeedActualMmPerMin => "mm/min",
            SignalKind::PositionXMm
            | SignalKind::PositionYMm
            | SignalKind::PositionZMm
            | SignalKind::ToolRadiusWearOffsetMm => "mm",
            SignalKind::ToolNumber | SignalKind::MachineState => "",
            SignalKind::MachineEnergyKwh => "kWh",
        }
    }

    /// The MTConnect 2.x DataItem this signal is published as, or `None` for aimm's own
    /// [`SignalKind::MachineState`] and [`SignalKind::FeedOverrideCommandedPct`], which have no
    /// MTConnect equivalent.
    pub fn mtconnect(self) -> Option<MtConnectMapping> {
        use MtConnectCategory::{Event, Sample};
        let m = |category, data_item_type, sub_type, units, scale, component| {
            Some(MtConnectMapping {
                category,
                data_item_type,
                sub_type,
                units,
                scale,
                component,
            })
        };
        match self {
            SignalKind::SpindleLoadPct => m(Sample, "LOAD", None, Some("PERCENT"), 1.0, "Spindle"),
            SignalKind::SpindlePowerKw => m(Sample, "WATTAGE", None, Some("WATT"), 1e3, "Spindle"),
            SignalKind::SpindleSpeedRpm => m(
                Sample,
                "ROTARY_VELOCITY",
                Some("ACTUAL"),
                Some("REVOLUTION/MINUTE"),
                1.0,
                "Spindle",
            ),
            SignalKind::CuttingForceN => {
                m(Sample, "LINEAR_FORCE", None, Some("NEWTON"), 1.0, "Spindle")
            }
            SignalKind::FeedProgrammedMmPerMin => m(
                Sample,
                "PATH_FEEDRATE",
                Some("PROGRAMMED"),
                Some("MILLIMETER/SECOND"),
                1.0 / 60.0,
                "Path",
            ),
            SignalKind::FeedActualMmPerMin => m(
                Sample,
                "PATH_FEEDRATE",
                Some("ACTUAL"),
                Some("MILLIMETER/SECOND"),
                1.0 / 60.0,
                "Path",
            ),
            // An EVENT in MTConnect 2.x (a setting, not a measurement).
            SignalKind::FeedOverridePct => m(
                Event,
                "PATH_FEEDRATE_OVERRIDE",
                Some("PROGRAMMED"),
                Some("PERCENT"),
                1.0,
                "Path",
            ),
            SignalKind::PositionXMm => m(
                Sample,
                "POSITION",
                Some("ACTUAL"),
                Some("MILLIMETER"),
                1.0,
                "X",
            ),
            SignalKind::PositionYMm => m(
                Sample,
                "POSITION",
                Some("ACTUAL"),
                Some("MILLIMETER"),
                1.0,
                "Y",
            ),
            SignalKind::PositionZMm => m(
                Sample,
                "POSITION",
                Some("ACTUAL"),
                Some("MILLIMETER"),
                1.0,
                "Z",
            ),
            SignalKind::ToolNumber => m(Event, "TOOL_NUMBER", None, None, 1.0, "Path"),
            SignalKind::ToolRadiusWearOffsetMm => {
                m(Event, "TOOL_OFFSET", Some("RADIAL"), None, 1.0, "Path")
            }
            SignalKind::MachineState | SignalKind::FeedOverrideCommandedPct => None,
            SignalKind::MachinePowerKw => m(Sample, "WATTAGE", None, Some("WATT"), 1e3, "Electric"),
            SignalKind::MachineEnergyKwh => m(
                Sample,
                "ELECTRICAL_ENERGY",
                None,
                Some("WATT_SECOND"),
                3.6e6,
                "Electric",
            ),
        }
    }
}

impl std::fmt::Display for SignalKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for SignalKind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut names: Vec<_> = SignalKind::ALL.iter().map(|s| s.name()).collect();
        for s in SignalKind::ALL {
            assert_eq!(SignalKind::from_name(s.name()).unwrap(), s);
        }
        for (i, s) in SignalKind::ALL.iter().enumerate() {
            assert_eq!(s.index(), i);
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), SignalKind::ALL.len());
        let err = SignalKind::from_name("spindle_lod")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("spindle_lod") && err.contains("spindle_load_pct"),
            "{err}"
        );
    }

    #[test]
    fn feed_maps_to_mtconnect_mm_per_second() {
        let m = SignalKind::FeedActualMmPerMin.mtconnect().unwrap();
        assert_eq!(m.data_item_type, "PATH_FEEDRATE");
        assert_eq!(m.units, Some("MILLIMETER/SECOND"));
        assert!((600.0 * m.scale - 10.0).abs() < 1e-12);
    }
}
