//! Electrical power of the machine by state, spindle power and spindle load.

use aimm_model::{MachineSpec, MachineState};

/// Power model parameters, kW unless named otherwise (sources in the crate documentation).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PowerModel {
    /// Control, display and fans with drives disabled.
    pub standby_kw: f64,
    /// Standby plus servo drives enabled, hydraulics, lubrication, chip conveyor.
    pub idle_kw: f64,
    /// Flood-coolant pump.
    pub coolant_kw: f64,
    /// Axis drives moving at rapid traverse (scaled by speed / rapid speed).
    pub axes_at_rapid_kw: f64,
    /// Spindle no-load (friction and windage) power per 1000 rev/min.
    pub spindle_no_load_kw_per_krpm: f64,
    /// Spindle drive and motor efficiency (electrical → mechanical), 0..1.
    pub spindle_efficiency: f64,
    /// Base speed: below it the spindle motor is torque-limited and its available power falls
    /// linearly with speed, rev/min.
    pub spindle_base_rpm: f64,
}

impl Default for PowerModel {
    fn default() -> Self {
        Self {
            standby_kw: 0.6,
            idle_kw: 2.2,
            coolant_kw: 0.45,
            axes_at_rapid_kw: 0.4,
            spindle_no_load_kw_per_krpm: 0.12,
            spindle_efficiency: 0.85,
            spindle_base_rpm: 1500.0,
        }
    }
}

/// Instantaneous power split.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PowerDraw {
    /// Electrical input of the spindle drive, kW.
    pub spindle_kw: f64,
    /// Spindle load, % of the power available at this speed.
    pub spindle_load_pct: f64,
    /// Whole machine, kW.
    pub machine_kw: f64,
}

impl PowerModel {
    /// Power drawn with the machine in `state`, the spindle at `rpm` delivering `cut_w` to the cut,
    /// the axes moving at `axis_speed_fraction` of rapid, coolant `coolant_on`.
    pub fn draw(
        &self,
        spec: &MachineSpec,
        state: MachineState,
        rpm: f64,
        cut_w: f64,
        axis_speed_fraction: f64,
        coolant_on: bool,
    ) -> PowerDraw {
        let base = match state {
            MachineState::Off => return PowerDraw::default(),
            MachineState::Standby => {
                return PowerDraw {
                    machine_kw: self.standby_kw,
                    ..PowerDraw::default()
                }
            }
            _ => self.idle_kw,
        };
        let no_load_kw = self.spindle_no_load_kw_per_krpm * rpm / 1000.0;
        let shaft_kw = no_load_kw + cut_w / 1000.0;
        let spindle_kw = if rpm > 0.0 {
            shaft_kw / self.spindle_efficiency
        } else {
            0.0
        };
        let available_kw =
            spec.spindle_rated_power_kw * (rpm / self.spindle_base_rpm).clamp(0.0, 1.0);
        let spindle_load_pct = if available_kw > 0.0 {
            100.0 * shaft_kw / available_kw
        } else {
            0.0
        };
        let coolant = if coolant_on { self.coolant_kw } else { 0.0 };
        PowerDraw {
            spindle_kw,
            spindle_load_pct,
            machine_kw: base + coolant + spindle_kw + self.axes_at_rapid_kw * axis_speed_fraction,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_order_power_and_low_speed_raises_load() {
        let p = PowerModel::default();
        let spec = MachineSpec::vmc("m");
        let off = p.draw(&spec, MachineState::Off, 0.0, 0.0, 0.0, false);
        let standby = p.draw(&spec, MachineState::Standby, 0.0, 0.0, 0.0, false);
        let idle = p.draw(&spec, MachineState::Idle, 0.0, 0.0, 0.0, false);
        let spinning = p.draw(&spec, MachineState::SpindleRunning, 6000.0, 0.0, 0.0, true);
        let cutting = p.draw(&spec, MachineState::Cutting, 6000.0, 3000.0, 0.05, true);
        assert!(off.machine_kw < standby.machine_kw);
        assert!(standby.machine_kw < idle.machine_kw);
        assert!(idle.machine_kw < spinning.machine_kw);
        assert!(spinning.machine_kw < cutting.machine_kw);
        // The same cut at a speed below base speed is a larger share of the available power.
        let slow = p.draw(&spec, MachineState::Cutting, 750.0, 3000.0, 0.0, false);
        let fast = p.draw(&spec, MachineState::Cutting, 3000.0, 3000.0, 0.0, false);
        // 750 rev/min has half the available power of 3000 rev/min; no-load power differs slightly.
        assert!(slow.spindle_load_pct > 1.7 * fast.spindle_load_pct);
    }
}
