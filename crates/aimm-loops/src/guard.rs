//! The safety guard every loop's commands pass through on their way to a machine: whatever a
//! decision core asks for, the machine gets a feed override within its configured bounds and
//! rate limit, and a radius wear offset within its size and step limits. Discrete commands
//! (holds, offsets) are kept with their cause for the evidence.

use aimm_model::{Actuator, ActuatorError};
use serde::{Deserialize, Serialize};

/// The machine's safe envelope for loop commands.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SafeBounds {
    /// Lowest feed override the loop may command, %.
    pub min_override_pct: f64,
    /// Highest feed override the loop may command, %.
    pub max_override_pct: f64,
    /// Largest override rise per second, %/s (cuts pass at once).
    pub max_override_rate_pct_per_s: f64,
    /// Largest radius wear offset magnitude, mm.
    pub max_radius_offset_mm: f64,
    /// Largest change of a radius wear offset per command, mm.
    pub max_radius_offset_step_mm: f64,
}

impl Default for SafeBounds {
    fn default() -> Self {
        Self {
            min_override_pct: 30.0,
            max_override_pct: 150.0,
            max_override_rate_pct_per_s: 1000.0,
            max_radius_offset_mm: 0.2,
            max_radius_offset_step_mm: 0.02,
        }
    }
}

/// A discrete command that went to the machine, with why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CommandRecord {
    /// When it was sent, UTC ns.
    pub t_ns: i64,
    /// Which command (`feed_hold`, `radius_wear_offset T<n>`, …).
    pub command: String,
    /// The value sent (1/0 for a hold; mm for an offset).
    pub value: f64,
    /// Why the loop sent it.
    pub cause: String,
}

/// Enforces [`SafeBounds`] on commands to any [`Actuator`].
#[derive(Clone, Debug)]
pub struct Guard {
    bounds: SafeBounds,
    last_override: Option<(i64, f64)>,
    offsets: std::collections::BTreeMap<u32, f64>,
    held: bool,
    discrete: Vec<CommandRecord>,
}

impl Guard {
    /// A guard enforcing `bounds`, with no command sent yet.
    pub fn new(bounds: SafeBounds) -> Self {
        Self {
            bounds,
            last_override: None,
            offsets: Default::default(),
            held: false,
            discrete: Vec::new(),
        }
    }

    /// The bounds it enforces.
    pub fn bounds(&self) -> &SafeBounds {
        &self.bounds
    }

    /// Sends a feed override at `t_ns`: clamped into the bounds, and a rise limited to the rate
    /// since the last one (a cut is the safe direction and passes at once: holding it back
    /// would let the axes run on into an overload; a non-finite request repeats the last
    /// value). Returns what was sent.
    pub fn feed_override(
        &mut self,
        machine: &mut dyn Actuator,
        t_ns: i64,
        requested_pct: f64,
    ) -> Result<f64, ActuatorError> {
        let b = &self.bounds;
        let mut pct = match (requested_pct.is_finite(), self.last_override) {
            (true, _) => requested_pct,
            (false, Some((_, last))) => last,
            (false, None) => 100.0,
        }
        .clamp(b.min_override_pct, b.max_override_pct);
        if let Some((t_last, last)) = self.last_override {
            let dt_s = (t_ns - t_last).max(0) as f64 * 1e-9;
            let step = b.max_override_rate_pct_per_s * dt_s;
            pct = pct.min(last + step);
        }
        machine.set_feed_override(pct)?;
        self.last_override = Some((t_ns, pct));
        Ok(pct)
    }

    /// Notes that `pct` is the override in force at `t_ns` although the loop did not send it (the
    /// operator's knob set it): the rate limit of the next command counts from it.
    pub fn override_in_force(&mut self, t_ns: i64, pct: f64) {
        if pct.is_finite() {
            self.last_override = Some((t_ns, pct));
        }
    }

    /// Holds or releases the feed (not rate-limited: it is the safety stop).
    pub fn feed_hold(
        &mut self,
        machine: &mut dyn Actuator,
        t_ns: i64,
        hold: bool,
        cause: &str,
    ) -> Result<(), ActuatorError> {
        if hold == self.held {
            return Ok(());
        }
        machine.set_feed_hold(hold)?;
        self.held = hold;
        self.discrete.push(CommandRecord {
            t_ns,
            command: if hold { "feed_hold" } else { "feed_resume" }.into(),
            value: f64::from(u8::from(hold)),
            cause: cause.into(),
        });
        Ok(())
    }

    /// Writes a radius wear offset, limited in size and in step from the register's last value.
    /// Returns what was written.
    pub fn radius_wear_offset(
        &mut self,
        machine: &mut dyn Actuator,
        t_ns: i64,
        register: u32,
        requested_mm: f64,
        cause: &str,
    ) -> Result<f64, ActuatorError> {
        let b = &self.bounds;
        let last = self.offsets.get(&register).copied().unwrap_or(0.0);
        let wanted = if requested_mm.is_finite() {
            requested_mm
        } else {
            last
        };
        let value = wanted
            .clamp(
                last - b.max_radius_offset_step_mm,
                last + b.max_radius_offset_step_mm,
            )
            .clamp(-b.max_radius_offset_mm, b.max_radius_offset_mm);
        machine.set_radius_wear_offset(register, value)?;
        self.offsets.insert(register, value);
        self.discrete.push(CommandRecord {
            t_ns,
            command: format!("radius_wear_offset D{register}"),
            value,
            cause: cause.into(),
        });
        Ok(value)
    }

    /// A new tool went into `register`'s pocket: its wear offset starts again from zero, and the
    /// step limit counts from there.
    pub fn new_tool(&mut self, register: u32) {
        self.offsets.remove(&register);
    }

    /// Discrete commands sent since the last call.
    pub fn take_discrete(&mut self) -> Vec<CommandRecord> {
        std::mem::take(&mut self.discrete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Records what reaches the machine.
    #[derive(Default)]
    struct Probe {
        overrides: Vec<f64>,
        offsets: Vec<f64>,
    }

    impl Actuator for Probe {
        fn set_feed_override(&mut self, pct: f64) -> Result<(), ActuatorError> {
            self.overrides.push(pct);
            Ok(())
        }
        fn set_feed_hold(&mut self, _hold: bool) -> Result<(), ActuatorError> {
            Ok(())
        }
        fn set_radius_wear_offset(&mut self, _r: u32, mm: f64) -> Result<(), ActuatorError> {
            self.offsets.push(mm);
            Ok(())
        }
    }

    proptest! {
        #[test]
        fn machine_never_sees_a_command_outside_the_envelope(
            requests in proptest::collection::vec((0i64..20_000_000, proptest::num::f64::ANY), 1..200)
        ) {
            let mut guard = Guard::new(SafeBounds::default());
            let mut machine = Probe::default();
            let mut t = 0i64;
            let mut last: Option<(i64, f64)> = None;
            for (dt, pct) in requests {
                t += dt;
                let sent = guard.feed_override(&mut machine, t, pct).unwrap();
                prop_assert!((30.0..=150.0).contains(&sent));
                if let Some((t0, v0)) = last {
                    prop_assert!(sent - v0 <= 1000.0 * (t - t0) as f64 * 1e-9 + 1e-9);
                    // A cut is never held back.
                    let wanted = if pct.is_finite() { pct.clamp(30.0, 150.0) } else { v0 };
                    if wanted <= v0 {
                        prop_assert_eq!(sent, wanted);
                    }
                }
                last = Some((t, sent));
            }
            for (i, mm) in [0.5, -3.0, f64::NAN, 0.015, 0.1].into_iter().enumerate() {
                let v = guard.radius_wear_offset(&mut machine, i as i64, 1, mm, "test").unwrap();
                prop_assert!(v.abs() <= 0.2);
            }
            prop_assert!(machine.offsets.windows(2).all(|w| (w[1] - w[0]).abs() <= 0.02 + 1e-12));
        }
    }

    #[test]
    fn the_rate_limit_counts_from_an_override_set_outside_the_loop() {
        let mut guard = Guard::new(SafeBounds::default());
        let mut machine = Probe::default();
        guard.feed_override(&mut machine, 0, 140.0).unwrap();
        guard.override_in_force(5_000_000, 60.0);
        guard.override_in_force(6_000_000, f64::NAN);
        // 10 ms after the knob's 60 %, at 1000 %/s: 70 %, not the 140 % it last sent.
        let sent = guard
            .feed_override(&mut machine, 15_000_000, 150.0)
            .unwrap();
        assert!((sent - 70.0).abs() < 1e-9, "{sent}");
    }

    #[test]
    fn holds_are_logged_with_their_cause() {
        let mut guard = Guard::new(SafeBounds::default());
        let mut machine = Probe::default();
        guard
            .feed_hold(&mut machine, 5, true, "overload 131 %")
            .unwrap();
        guard.feed_hold(&mut machine, 6, true, "again").unwrap();
        let log = guard.take_discrete();
        assert_eq!(log.len(), 1, "a repeated hold is not a new command");
        assert_eq!(log[0].cause, "overload 131 %");
    }
}
