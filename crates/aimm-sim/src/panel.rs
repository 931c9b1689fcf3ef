//! The machine's operator panel. As on every CNC control the operator wins over any adaptive
//! loop, and the panel says who has precedence ([`Panel::operator`]):
//!
//! - **Feed-override knob**, 0–200 % in 10 % detents. At 100 % it leaves the loops in charge:
//!   the override in force is whatever a loop last commanded. Turned off 100 % it takes
//!   precedence: the override in force is the knob's, and the simulator refuses a loop's
//!   override. Turning it writes the machine's override register, so when it comes back to
//!   100 % the override in force is 100 %, where a loop resumes from.
//! - **Feed hold**: the program stops where it is (axis motion, and a dwell or tool change in
//!   progress; assumed, controls differ on dwells) until **cycle start**. The operator's hold
//!   and a loop's hold are separate: releasing the loop's never releases the operator's.
//! - **Single block**: the machine stops at the end of each block (source line) until cycle
//!   start; switched on mid-block, the block in progress finishes first. Switching it off lets
//!   the program run on (as if followed by cycle start; assumed, to keep a script short).
//! - **MDI mode**: the program is interrupted, nothing of it runs until the operator returns to
//!   AUTO (what the operator types in MDI is not modelled); the program then continues.
//!
//! A [`PanelScript`] times operator actions in seconds after the run started, so a run is driven
//! by an operator deterministically; its text form is `12.5s:hold,14s:cycle-start`.

use aimm_model::OperatorAction;
use std::collections::VecDeque;
use std::str::FromStr;

/// Detent of the feed-override knob, % (assumed: the 10 % steps of a common rotary switch).
pub const KNOB_STEP_PCT: u8 = 10;
/// Highest position of the feed-override knob, % (assumed, as the control's 0–200 % range).
pub const KNOB_MAX_PCT: u8 = 200;
/// Knob position that leaves the loops in charge, %.
pub const KNOB_NEUTRAL_PCT: u8 = 100;

/// Something the operator does on the panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PanelAction {
    /// Turns the feed-override knob to this position, %.
    OverrideKnob(u8),
    /// Presses feed hold.
    FeedHold,
    /// Presses cycle start: releases a feed hold; under single block, runs the next block.
    CycleStart,
    /// Switches single block on (true) or off (false).
    SingleBlock(bool),
    /// Switches the mode to MDI: the program is interrupted.
    Mdi,
    /// Switches the mode back to AUTO: the program continues.
    Auto,
}

impl std::fmt::Display for PanelAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PanelAction::OverrideKnob(pct) => write!(f, "feed-override knob to {pct} %"),
            PanelAction::FeedHold => f.write_str("feed hold"),
            PanelAction::CycleStart => f.write_str("cycle start"),
            PanelAction::SingleBlock(on) => {
                write!(f, "single block {}", if *on { "on" } else { "off" })
            }
            PanelAction::Mdi => f.write_str("MDI mode"),
            PanelAction::Auto => f.write_str("AUTO mode"),
        }
    }
}

/// The words of a script action: `override=<pct>`, `hold`, `cycle-start` (or `release`),
/// `single-block=on|off`, `mdi`, `auto`.
impl FromStr for PanelAction {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let word = s.trim();
        let action = match word.split_once('=') {
            Some(("override", pct)) => {
                let pct: u8 = pct.trim().parse().map_err(|_| {
                    format!("override `{pct}` is not a knob position in % (0–{KNOB_MAX_PCT})")
                })?;
                PanelAction::OverrideKnob(pct)
            }
            Some(("single-block", "on")) => PanelAction::SingleBlock(true),
            Some(("single-block", "off")) => PanelAction::SingleBlock(false),
            None if word == "hold" => PanelAction::FeedHold,
            None if word == "cycle-start" || word == "release" => PanelAction::CycleStart,
            None if word == "mdi" => PanelAction::Mdi,
            None if word == "auto" => PanelAction::Auto,
            _ => {
                return Err(format!(
                    "unknown action `{word}`: one of override=<pct>, hold, cycle-start (release), \
                     single-block=on|off, mdi, auto"
                ))
            }
        };
        check_knob(action)?;
        Ok(action)
    }
}

/// Refuses a knob position the knob does not have.
fn check_knob(action: PanelAction) -> Result<(), String> {
    match action {
        PanelAction::OverrideKnob(pct) if pct > KNOB_MAX_PCT || pct % KNOB_STEP_PCT != 0 => {
            Err(format!(
                "feed-override knob {pct} %: the knob turns from 0 to {KNOB_MAX_PCT} % in \
                 {KNOB_STEP_PCT} % steps"
            ))
        }
        _ => Ok(()),
    }
}

/// A panel action the panel cannot do, or a script that cannot be read.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PanelError {
    /// The action is not one the panel has (e.g. a knob position between detents).
    #[error("{0}")]
    Action(String),
    /// An entry of an operator script cannot be read.
    #[error("operator script entry {index} `{entry}`: {reason}")]
    Script {
        /// 1-based position of the entry.
        index: usize,
        /// The entry as written.
        entry: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Operator actions at times after the run started, in time order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PanelScript {
    actions: Vec<(f64, PanelAction)>,
}

impl PanelScript {
    /// A script of `(at_s, action)` entries; refuses a time that is not finite, negative or
    /// earlier than the entry before it, and a knob position the knob does not have.
    pub fn new(actions: Vec<(f64, PanelAction)>) -> Result<Self, PanelError> {
        let mut last = 0.0;
        for (i, &(at_s, action)) in actions.iter().enumerate() {
            let refuse = |reason: String| PanelError::Script {
                index: i + 1,
                entry: format!("{at_s}s:{action}"),
                reason,
            };
            if !(at_s.is_finite() && at_s >= last) {
                return Err(refuse(format!(
                    "time {at_s} s must be finite and no earlier than {last} s (the entry before)"
                )));
            }
            check_knob(action).map_err(refuse)?;
            last = at_s;
        }
        Ok(Self { actions })
    }

    /// The entries, in time order.
    pub fn actions(&self) -> &[(f64, PanelAction)] {
        &self.actions
    }
}

/// The text form: comma-separated `<seconds>s:<action>` entries, e.g.
/// `12.5s:hold,14s:cycle-start,20s:override=60,25s:override=100`.
impl FromStr for PanelScript {
    type Err = PanelError;

    fn from_str(text: &str) -> Result<Self, PanelError> {
        let actions =
            text.split(',')
                .enumerate()
                .map(|(i, entry)| {
                    let refuse = |reason: String| PanelError::Script {
                        index: i + 1,
                        entry: entry.trim().into(),
                        reason,
                    };
                    let (at, action) = entry
                        .split_once(':')
                        .ok_or_else(|| refuse("expected <seconds>s:<action>".into()))?;
                    let at = at.trim();
                    let at_s: f64 =
                        at.strip_suffix('s').unwrap_or(at).parse().map_err(|_| {
                            refuse(format!("time `{at}` is not a number of seconds"))
                        })?;
                    Ok((at_s, action.parse().map_err(refuse)?))
                })
                .collect::<Result<Vec<_>, PanelError>>()?;
        Self::new(actions)
    }
}

/// The panel's state and the script still to come.
#[derive(Clone, Debug)]
pub struct Panel {
    knob_pct: u8,
    feed_hold: bool,
    single_block: bool,
    /// Under single block, the block (source line) allowed to run: the one in progress when
    /// single block went on, or after a cycle start (`None`) whichever block comes next.
    block_allowed: Option<u32>,
    mdi: bool,
    script: VecDeque<(f64, PanelAction)>,
}

impl Default for Panel {
    fn default() -> Self {
        Self {
            knob_pct: KNOB_NEUTRAL_PCT,
            feed_hold: false,
            single_block: false,
            block_allowed: None,
            mdi: false,
            script: VecDeque::new(),
        }
    }
}

impl Panel {
    /// The control that has precedence over the loops now, the strongest first (MDI, feed
    /// hold, single block, the knob off 100 %); `None` while the loops are in charge.
    pub fn operator(&self) -> Option<OperatorAction> {
        if self.mdi {
            Some(OperatorAction::Mdi)
        } else if self.feed_hold {
            Some(OperatorAction::FeedHold)
        } else if self.single_block {
            Some(OperatorAction::SingleBlock)
        } else if self.knob_pct != KNOB_NEUTRAL_PCT {
            Some(OperatorAction::OverrideKnob(self.knob_pct))
        } else {
            None
        }
    }

    /// Position of the feed-override knob, %.
    pub fn knob_pct(&self) -> u8 {
        self.knob_pct
    }

    /// Whether the program is stopped where it is (feed hold or MDI).
    pub fn stops_program(&self) -> bool {
        self.feed_hold || self.mdi
    }

    /// Applies `action` while the machine is in block `line`.
    pub(crate) fn apply(&mut self, action: PanelAction, line: u32) -> Result<(), PanelError> {
        check_knob(action).map_err(PanelError::Action)?;
        match action {
            PanelAction::OverrideKnob(pct) => self.knob_pct = pct,
            PanelAction::FeedHold => self.feed_hold = true,
            PanelAction::CycleStart => {
                self.feed_hold = false;
                self.block_allowed = None;
            }
            PanelAction::SingleBlock(on) => {
                self.single_block = on;
                self.block_allowed = Some(line);
            }
            PanelAction::Mdi => self.mdi = true,
            PanelAction::Auto => self.mdi = false,
        }
        Ok(())
    }

    /// Whether a block at `line` may start: under single block only the allowed block runs.
    pub(crate) fn admits(&mut self, line: u32) -> bool {
        if !self.single_block {
            return true;
        }
        match self.block_allowed {
            Some(allowed) => allowed == line,
            None => {
                self.block_allowed = Some(line);
                true
            }
        }
    }

    /// Replaces the script still to come.
    pub(crate) fn set_script(&mut self, script: PanelScript) {
        self.script = script.actions.into();
    }

    /// The next scripted action due at `elapsed_s` after the run started, if any.
    pub(crate) fn due(&mut self, elapsed_s: f64) -> Option<PanelAction> {
        if self
            .script
            .front()
            .is_some_and(|&(at_s, _)| at_s <= elapsed_s)
        {
            self.script.pop_front().map(|(_, action)| action)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strongest_control_has_precedence() {
        let mut p = Panel::default();
        assert_eq!(p.operator(), None);
        p.apply(PanelAction::OverrideKnob(60), 1).unwrap();
        assert_eq!(p.operator(), Some(OperatorAction::OverrideKnob(60)));
        p.apply(PanelAction::SingleBlock(true), 1).unwrap();
        assert_eq!(p.operator(), Some(OperatorAction::SingleBlock));
        p.apply(PanelAction::FeedHold, 1).unwrap();
        assert_eq!(p.operator(), Some(OperatorAction::FeedHold));
        p.apply(PanelAction::Mdi, 1).unwrap();
        assert_eq!(p.operator(), Some(OperatorAction::Mdi));
        assert!(p.stops_program());
        for a in [
            PanelAction::Auto,
            PanelAction::CycleStart,
            PanelAction::SingleBlock(false),
            PanelAction::OverrideKnob(KNOB_NEUTRAL_PCT),
        ] {
            p.apply(a, 1).unwrap();
        }
        assert_eq!(p.operator(), None);
        assert!(!p.stops_program());
    }

    #[test]
    fn single_block_finishes_the_block_then_runs_one_per_cycle_start() {
        let mut p = Panel::default();
        assert!(p.admits(3));
        p.apply(PanelAction::SingleBlock(true), 3).unwrap();
        assert!(p.admits(3), "the block in progress finishes");
        assert!(!p.admits(4), "stops before the next");
        assert!(!p.admits(4));
        p.apply(PanelAction::CycleStart, 3).unwrap();
        assert!(p.admits(4));
        assert!(p.admits(4), "every op of the block runs");
        assert!(!p.admits(5));
        p.apply(PanelAction::SingleBlock(false), 4).unwrap();
        assert!(p.admits(5));
    }

    #[test]
    fn the_knob_has_detents_only() {
        let mut p = Panel::default();
        for bad in [65, 210, 255] {
            let err = p.apply(PanelAction::OverrideKnob(bad), 0).unwrap_err();
            assert!(err.to_string().contains(&format!("{bad} %")), "{err}");
        }
        assert_eq!(p.knob_pct(), KNOB_NEUTRAL_PCT);
        for good in [0, 10, 200] {
            p.apply(PanelAction::OverrideKnob(good), 0).unwrap();
            assert_eq!(p.knob_pct(), good);
        }
    }

    #[test]
    fn a_script_reads_its_text_form_and_plays_in_time_order() {
        let script: PanelScript =
            "12.5s:hold, 14s:release, 20:override=60, 25s:single-block=on, 26s:mdi, 27s:auto"
                .parse()
                .unwrap();
        assert_eq!(
            script.actions(),
            &[
                (12.5, PanelAction::FeedHold),
                (14.0, PanelAction::CycleStart),
                (20.0, PanelAction::OverrideKnob(60)),
                (25.0, PanelAction::SingleBlock(true)),
                (26.0, PanelAction::Mdi),
                (27.0, PanelAction::Auto),
            ]
        );
        let mut p = Panel::default();
        p.set_script(script);
        assert_eq!(p.due(12.4), None);
        assert_eq!(p.due(14.0), Some(PanelAction::FeedHold));
        assert_eq!(p.due(14.0), Some(PanelAction::CycleStart));
        assert_eq!(p.due(14.0), None);
    }

    #[test]
    fn a_bad_script_entry_is_named() {
        for (text, index, says) in [
            ("1s:hold,2s:jump", 2, "unknown action `jump`"),
            ("1s:hold,x:release", 2, "time `x`"),
            ("1s:override=65", 1, "10 % steps"),
            ("1s:override=300", 1, "not a knob position"),
            ("3s:hold,2s:release", 2, "no earlier than 3 s"),
            ("-1s:hold", 1, "finite"),
            ("hold", 1, "expected <seconds>s:<action>"),
        ] {
            match text.parse::<PanelScript>() {
                Err(PanelError::Script {
                    index: i, reason, ..
                }) => {
                    assert_eq!(i, index, "{text}");
                    assert!(reason.contains(says), "{text}: {reason}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
