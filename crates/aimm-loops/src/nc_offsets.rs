//! Wear compensation written into the NC program itself: a block of tool-offset settings that
//! aimm manages at the start of the program, so the next part runs with the offsets and the
//! program version on the machine records exactly what was compensated. Re-editing replaces
//! aimm's block; every other line stays byte for byte as it was.

use aimm_model::{Actuator, ActuatorError};
use std::collections::BTreeMap;

/// First and last line of the block aimm manages.
pub const BLOCK_BEGIN: &str = "(AIMM WEAR OFFSETS BEGIN)";
/// Last line of the block aimm manages.
pub const BLOCK_END: &str = "(AIMM WEAR OFFSETS END)";

/// How the control takes a radius wear offset.
#[derive(Clone, Debug, PartialEq)]
pub enum OffsetDialect {
    /// Fanuc memory type C: `G10 L13 P<register> R<wear>` writes the radius wear register.
    FanucL13,
    /// LinuxCNC has no separate wear register: `G10 L1 P<tool> R<radius>` sets the tool
    /// table radius to the nominal radius plus the wear offset.
    LinuxCncL1 {
        /// Nominal radius per tool, mm.
        nominal_radius_mm: BTreeMap<u32, f64>,
    },
}

/// Why a program could not be edited.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NcEditError {
    /// An offset value is NaN or infinite.
    #[error("offset for register {register} is {value} mm: not a finite number")]
    NotFinite {
        /// The offset register.
        register: u32,
        /// The value given, mm.
        value: f64,
    },
    /// LinuxCNC's `G10 L1` sets the whole radius, so the tool's nominal radius must be known.
    #[error("LinuxCNC offsets need the nominal radius of tool {tool}")]
    NoNominalRadius {
        /// The tool without one.
        tool: u32,
    },
    /// The program holds the block's first line but not its last.
    #[error("line {line}: '{BLOCK_BEGIN}' without a matching '{BLOCK_END}'")]
    UnclosedBlock {
        /// 1-based line of the block's first line.
        line: usize,
    },
}

/// `program` with aimm's offset block set to `offsets` (register → radius wear, mm): inserted
/// after the tape mark and program number if there was none, replacing the old one otherwise.
/// Line endings follow the program's (CRLF stays CRLF).
pub fn with_radius_wear_offsets(
    program: &str,
    offsets: &BTreeMap<u32, f64>,
    dialect: &OffsetDialect,
) -> Result<String, NcEditError> {
    let eol = if program.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut block = vec![BLOCK_BEGIN.to_string()];
    for (&register, &value) in offsets {
        if !value.is_finite() {
            return Err(NcEditError::NotFinite { register, value });
        }
        block.push(match dialect {
            OffsetDialect::FanucL13 => format!("G90 G10 L13 P{register} R{value:.4}"),
            OffsetDialect::LinuxCncL1 { nominal_radius_mm } => {
                let nominal = nominal_radius_mm
                    .get(&register)
                    .ok_or(NcEditError::NoNominalRadius { tool: register })?;
                format!("G90 G10 L1 P{register} R{:.4}", nominal + value)
            }
        });
    }
    block.push(BLOCK_END.to_string());

    let lines: Vec<&str> = program.split_inclusive('\n').collect();
    let trimmed = |l: &str| l.trim_end_matches(['\r', '\n']).trim().to_string();
    let begin = lines.iter().position(|l| trimmed(l) == BLOCK_BEGIN);
    let (before, after) = match begin {
        Some(b) => {
            let end = lines[b..]
                .iter()
                .position(|l| trimmed(l) == BLOCK_END)
                .ok_or(NcEditError::UnclosedBlock { line: b + 1 })?;
            (&lines[..b], &lines[b + end + 1..])
        }
        None => {
            // After the leading tape mark, program number and header comments.
            let at = lines
                .iter()
                .position(|l| {
                    let t = trimmed(l);
                    !(t.is_empty()
                        || t == "%"
                        || t.starts_with('O')
                        || t.starts_with('o')
                        || t.starts_with('('))
                })
                .unwrap_or(lines.len());
            (&lines[..at], &lines[at..])
        }
    };
    let mut out = String::with_capacity(program.len() + 64 * block.len());
    for l in before {
        out.push_str(l);
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push_str(eol);
    }
    for l in &block {
        out.push_str(l);
        out.push_str(eol);
    }
    for l in after {
        out.push_str(l);
    }
    Ok(out)
}

/// The NC program as an [`Actuator`]: radius wear offsets a loop writes (through the
/// [`crate::guard::Guard`], like any command) land in the program's offset block for the next
/// part. A program cannot take live feed commands, so those are refused.
#[derive(Clone, Debug, Default)]
pub struct ProgramOffsets {
    /// Radius wear offset per register, mm.
    pub offsets: BTreeMap<u32, f64>,
}

impl ProgramOffsets {
    /// `program` carrying the offsets written so far.
    pub fn apply(&self, program: &str, dialect: &OffsetDialect) -> Result<String, NcEditError> {
        with_radius_wear_offsets(program, &self.offsets, dialect)
    }

    fn refuse(command: &str) -> ActuatorError {
        ActuatorError {
            machine: "NC program".into(),
            command: command.into(),
            reason: "an NC program edit takes offsets only; live feed commands go to the machine"
                .into(),
        }
    }
}

impl Actuator for ProgramOffsets {
    fn set_feed_override(&mut self, _pct: f64) -> Result<(), ActuatorError> {
        Err(Self::refuse("feed override"))
    }

    fn set_feed_hold(&mut self, _hold: bool) -> Result<(), ActuatorError> {
        Err(Self::refuse("feed hold"))
    }

    fn set_radius_wear_offset(
        &mut self,
        register: u32,
        value_mm: f64,
    ) -> Result<(), ActuatorError> {
        self.offsets.insert(register, value_mm);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROGRAM: &str = "%\nO1001 (PART)\n(T1 D=10. - FLAT END MILL)\nG21 G90\nT1 M6\nM30\n%\n";

    fn offsets(v: f64) -> BTreeMap<u32, f64> {
        [(1, v)].into_iter().collect()
    }

    #[test]
    fn inserts_after_the_header_then_replaces_in_place() {
        let first =
            with_radius_wear_offsets(PROGRAM, &offsets(-0.02), &OffsetDialect::FanucL13).unwrap();
        assert_eq!(
            first,
            "%\nO1001 (PART)\n(T1 D=10. - FLAT END MILL)\n(AIMM WEAR OFFSETS BEGIN)\nG90 G10 L13 P1 R-0.0200\n(AIMM WEAR OFFSETS END)\nG21 G90\nT1 M6\nM30\n%\n"
        );
        let second =
            with_radius_wear_offsets(&first, &offsets(-0.035), &OffsetDialect::FanucL13).unwrap();
        assert_eq!(second.matches(BLOCK_BEGIN).count(), 1);
        assert!(second.contains("R-0.0350") && !second.contains("R-0.0200"));
        // Everything but aimm's block is untouched.
        let strip = |s: &str| {
            s.lines()
                .filter(|l| !l.contains("AIMM") && !l.contains("G10"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(strip(&second), strip(PROGRAM));
    }

    #[test]
    fn keeps_crlf_and_speaks_linuxcnc() {
        let crlf = PROGRAM.replace('\n', "\r\n");
        let nominal = [(1, 5.0)].into_iter().collect();
        let out = with_radius_wear_offsets(
            &crlf,
            &offsets(-0.04),
            &OffsetDialect::LinuxCncL1 {
                nominal_radius_mm: nominal,
            },
        )
        .unwrap();
        assert!(out.contains("G90 G10 L1 P1 R4.9600\r\n"), "{out}");
        assert!(!out.replace("\r\n", "").contains('\n'));
    }

    #[test]
    fn refuses_what_it_cannot_write() {
        let bad = with_radius_wear_offsets(PROGRAM, &offsets(f64::NAN), &OffsetDialect::FanucL13);
        assert!(matches!(
            bad,
            Err(NcEditError::NotFinite { register: 1, .. })
        ));
        let open = format!("{BLOCK_BEGIN}\nG10 L13 P1 R0\n");
        let err =
            with_radius_wear_offsets(&open, &offsets(0.0), &OffsetDialect::FanucL13).unwrap_err();
        assert_eq!(err, NcEditError::UnclosedBlock { line: 1 });
        let linux = OffsetDialect::LinuxCncL1 {
            nominal_radius_mm: BTreeMap::new(),
        };
        assert_eq!(
            with_radius_wear_offsets(PROGRAM, &offsets(0.0), &linux).unwrap_err(),
            NcEditError::NoNominalRadius { tool: 1 }
        );
    }
}
