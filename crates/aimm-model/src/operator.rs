//! Who has precedence on a machine: as on every CNC control, the operator's panel wins over any
//! adaptive loop. A machine that knows its panel state reports the control that has taken over,
//! so a loop can pause instead of fighting the operator.

use serde::{Deserialize, Serialize};

/// The panel control that has precedence over the loops, the strongest first when several are
/// active: MDI, feed hold, single block, the feed-override knob.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperatorAction {
    /// The feed-override knob is turned off 100 %: the override in force is the knob's, %.
    OverrideKnob(u8),
    /// The operator pressed feed hold: axis motion stops until cycle start.
    FeedHold,
    /// Single block is on: the machine stops at the end of each block until cycle start.
    SingleBlock,
    /// The control is in MDI mode: the program is interrupted until the operator returns to
    /// AUTO.
    Mdi,
}

impl std::fmt::Display for OperatorAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OperatorAction::OverrideKnob(pct) => write!(f, "feed-override knob at {pct} %"),
            OperatorAction::FeedHold => f.write_str("operator feed hold"),
            OperatorAction::SingleBlock => f.write_str("single block"),
            OperatorAction::Mdi => f.write_str("MDI mode"),
        }
    }
}

impl OperatorAction {
    /// Whether `other` is the same panel control (the knob at any position is one control).
    pub fn same_control(self, other: OperatorAction) -> bool {
        std::mem::discriminant(&self) == std::mem::discriminant(&other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_knob_at_any_position_is_one_control() {
        let knob = OperatorAction::OverrideKnob(60);
        assert!(knob.same_control(OperatorAction::OverrideKnob(120)));
        assert!(!knob.same_control(OperatorAction::FeedHold));
        assert!(!OperatorAction::Mdi.same_control(OperatorAction::SingleBlock));
        assert_eq!(knob.to_string(), "feed-override knob at 60 %");
    }
}
