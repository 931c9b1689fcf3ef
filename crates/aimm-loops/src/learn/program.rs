//! The operations of an NC program and the one edit the learning loop makes to it: the F and S
//! words of an operation rewritten for new cutting parameters, every other byte kept.
//!
//! An operation is what one tool does between its tool change (`T.. M6`) and the next. Its
//! parameters are read from its words: the S word in force (rev/min) and its main feed, the
//! largest F word it programs (mm/min; the smaller ones are plunges and lead-ins, scaled with
//! it so their ratio to the main feed stays as the CAM system wrote it). Comments in
//! parentheses and after `;` are never read as words. Feeds are read in mm/min: under G20 an F
//! word's inch/min is converted, and written back in inch/min.

use aimm_model::{CutParams, OperationRole};

/// One operation of a program.
#[derive(Clone, Debug, PartialEq)]
pub struct NcOperation {
    /// The tool's T number.
    pub tool: u32,
    /// 1-based line of its tool change.
    pub first_line: usize,
    /// 1-based last line before the next tool change (or the program's end).
    pub last_line: usize,
    /// The S word in force when it first cuts, rev/min.
    pub spindle_rpm: f64,
    /// Its largest F word, mm/min.
    pub main_feed_mm_per_min: f64,
    /// Roughing, or finishing when the comment naming it says FINISH or it cuts under G41/G42.
    pub role: OperationRole,
    /// The last comment before or on its tool-change line (the CAM system's operation name).
    pub label: String,
    /// Where its S and F words are: (line index from 0, byte range of the number).
    words: Vec<WordAt>,
}

#[derive(Clone, Debug, PartialEq)]
struct WordAt {
    line: usize,
    letter: char,
    start: usize,
    end: usize,
    /// S in rev/min; F in mm/min (converted from inch/min under G20).
    value: f64,
    /// mm per program length unit where the word stands: 25.4 under G20, else 1.
    mm_per_unit: f64,
}

/// Why a program cannot be learned on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProgramError {
    /// No tool change followed by a cutting move with a spindle speed and feed.
    #[error("program {program}: no cutting operation (a tool change `T.. M6` followed by G1/G2/G3 moves with an S and an F word); nothing to learn")]
    NoCuttingOperation {
        /// Program name.
        program: String,
    },
    /// A word's number does not parse.
    #[error("program {program} line {line}: `{word}` is not a number")]
    BadNumber {
        /// Program name.
        program: String,
        /// 1-based line.
        line: usize,
        /// The word as written.
        word: String,
    },
    /// An operation cuts with no spindle speed programmed.
    #[error("program {program} line {line}: T{tool} cuts with no S word in force")]
    NoSpindleSpeed {
        /// Program name.
        program: String,
        /// 1-based line of the first cut.
        line: usize,
        /// The tool.
        tool: u32,
    },
    /// New parameters given for an operation the program does not have, or not finite.
    #[error("program {program}: cannot set T{tool} to {params:?}: {why}")]
    BadParams {
        /// Program name.
        program: String,
        /// The tool.
        tool: u32,
        /// The parameters given.
        params: CutParams,
        /// What is wrong.
        why: String,
    },
}

/// The code part of a line: everything outside parentheses and before `;`, as byte ranges.
fn code_spans(line: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    for (i, c) in line.char_indices() {
        match c {
            '(' => {
                if depth == 0 && i > start {
                    spans.push((start, i));
                }
                depth += 1;
            }
            ')' if depth > 0 => {
                depth -= 1;
                start = i + 1;
            }
            ';' if depth == 0 => {
                if i > start {
                    spans.push((start, i));
                }
                return spans;
            }
            _ => {}
        }
    }
    if depth == 0 && line.len() > start {
        spans.push((start, line.len()));
    }
    spans
}

/// The words of a line's code as (letter, byte start and end of the number, number text).
fn words(line: &str) -> Vec<(char, usize, usize)> {
    let mut out = Vec::new();
    for (from, to) in code_spans(line) {
        let bytes = line.as_bytes();
        let mut i = from;
        while i < to {
            let c = bytes[i] as char;
            if c.is_ascii_alphabetic() {
                let start = i + 1;
                let mut end = start;
                while end < to && matches!(bytes[end] as char, '0'..='9' | '.' | '-' | '+' | ' ') {
                    end += 1;
                }
                // Trailing blanks belong to the separator, not the number.
                while end > start && bytes[end - 1] == b' ' {
                    end -= 1;
                }
                out.push((c.to_ascii_uppercase(), start, end));
                i = end.max(start);
            } else {
                i += 1;
            }
        }
    }
    out
}

fn comment_of(line: &str) -> Option<String> {
    let open = line.find('(')?;
    let close = line[open..].find(')').map_or(line.len(), |c| open + c);
    Some(line[open + 1..close].trim().to_string())
}

/// The operations of `text` (named `program` in errors), in program order.
pub fn operations(program: &str, text: &str) -> Result<Vec<NcOperation>, ProgramError> {
    let number = |line: usize, s: &str, letter: char| {
        s.replace(' ', "")
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| ProgramError::BadNumber {
                program: program.into(),
                line: line + 1,
                word: format!("{letter}{s}"),
            })
    };
    let mut ops: Vec<NcOperation> = Vec::new();
    let mut current: Option<NcOperation> = None;
    let mut cuts = false;
    let mut label = String::new();
    let mut spindle: Option<f64> = None;
    let mut pending_tool: Option<u32> = None;
    let mut motion = 0u32;
    let mut mm_per_unit = 1.0;
    for (index, line) in text.lines().enumerate() {
        if let Some(c) = comment_of(line) {
            if !c.is_empty() {
                label = c;
            }
        }
        let mut tool_change = false;
        let mut line_words = Vec::new();
        for (letter, start, end) in words(line) {
            let raw = &line[start..end];
            match letter {
                'T' => pending_tool = Some(number(index, raw, letter)? as u32),
                'M' if number(index, raw, letter)? == 6.0 => tool_change = true,
                'G' => {
                    let g = number(index, raw, letter)?;
                    if [0.0, 1.0, 2.0, 3.0].contains(&g) {
                        motion = g as u32;
                    }
                    if g == 20.0 {
                        mm_per_unit = 25.4;
                    } else if g == 21.0 {
                        mm_per_unit = 1.0;
                    }
                    if let Some(op) = current.as_mut() {
                        if g == 41.0 || g == 42.0 {
                            op.role = OperationRole::Finishing;
                        }
                    }
                }
                'S' | 'F' => {
                    let unit = if letter == 'F' { mm_per_unit } else { 1.0 };
                    line_words.push(WordAt {
                        line: index,
                        letter,
                        start,
                        end,
                        value: number(index, raw, letter)? * unit,
                        mm_per_unit: unit,
                    })
                }
                _ => {}
            }
        }
        if tool_change {
            ops.extend(current.take().filter(|_| cuts));
            cuts = false;
            let tool = pending_tool.unwrap_or(0);
            let role = if label.to_ascii_uppercase().contains("FINISH") {
                OperationRole::Finishing
            } else {
                OperationRole::Roughing
            };
            current = Some(NcOperation {
                tool,
                first_line: index + 1,
                last_line: index + 1,
                spindle_rpm: 0.0,
                main_feed_mm_per_min: 0.0,
                role,
                label: label.clone(),
                words: Vec::new(),
            });
        }
        for w in &line_words {
            if w.letter == 'S' {
                spindle = Some(w.value);
            }
        }
        let Some(op) = current.as_mut() else { continue };
        op.last_line = index + 1;
        for w in line_words {
            if w.letter == 'F' {
                op.main_feed_mm_per_min = op.main_feed_mm_per_min.max(w.value);
            }
            op.words.push(w);
        }
        if motion >= 1 && !cuts && op.main_feed_mm_per_min > 0.0 {
            let rpm = spindle
                .filter(|s| *s > 0.0)
                .ok_or(ProgramError::NoSpindleSpeed {
                    program: program.into(),
                    line: index + 1,
                    tool: op.tool,
                })?;
            op.spindle_rpm = rpm;
            cuts = true;
        }
    }
    ops.extend(current.filter(|_| cuts));
    if ops.is_empty() {
        return Err(ProgramError::NoCuttingOperation {
            program: program.into(),
        });
    }
    Ok(ops)
}

impl NcOperation {
    /// The cutting parameters its words give with a tool of `diameter_mm` and `teeth` edges.
    pub fn params(&self, diameter_mm: f64, teeth: u32) -> CutParams {
        CutParams::from_words(
            self.spindle_rpm,
            self.main_feed_mm_per_min,
            diameter_mm,
            teeth,
        )
    }
}

/// A number as the control reads it: S as whole rev/min, F to 0.1 mm/min, in the program's
/// style of a trailing point for whole numbers.
fn format_word(letter: char, value: f64) -> String {
    if letter == 'S' {
        format!("{}", value.round() as i64)
    } else {
        let tenths = (value * 10.0).round() / 10.0;
        if tenths.fract() == 0.0 {
            format!("{tenths:.0}.")
        } else {
            format!("{tenths:.1}")
        }
    }
}

/// `text` with the operations of the tools in `changes` cutting at the given parameters (tool
/// diameter and teeth given per tool): their S words set to the new spindle speed and every F
/// word scaled by the new main feed over the old. Nothing else changes, byte for byte.
pub fn rewrite(
    program: &str,
    text: &str,
    changes: &[(u32, CutParams, f64, u32)],
) -> Result<String, ProgramError> {
    let ops = operations(program, text)?;
    let mut edits: Vec<(usize, usize, usize, String)> = Vec::new();
    for &(tool, params, diameter_mm, teeth) in changes {
        let bad = |why: &str| ProgramError::BadParams {
            program: program.into(),
            tool,
            params,
            why: why.into(),
        };
        let usable = |v: f64| v.is_finite() && v > 0.0;
        if !(usable(params.fz_mm) && usable(params.vc_m_per_min)) {
            return Err(bad(
                "feed per tooth and cutting speed must be positive, finite numbers",
            ));
        }
        let mut found = false;
        for op in ops.iter().filter(|o| o.tool == tool) {
            found = true;
            let rpm = params.spindle_rpm(diameter_mm);
            let scale = params.feed_mm_per_min(diameter_mm, teeth) / op.main_feed_mm_per_min;
            for w in &op.words {
                let value = if w.letter == 'S' {
                    rpm
                } else {
                    w.value * scale / w.mm_per_unit
                };
                edits.push((w.line, w.start, w.end, format_word(w.letter, value)));
            }
        }
        if !found {
            return Err(bad("the program has no cutting operation with this tool"));
        }
    }
    edits.sort_by_key(|e| (e.0, std::cmp::Reverse(e.1)));
    // Split keeping each line's own terminator, so CRLF files stay CRLF.
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    for (line, start, end, number) in edits {
        lines[line].replace_range(start..end, &number);
    }
    Ok(lines.concat())
}

/// Whether `new` differs from `old` only in the numbers of F and S words (same lines, same
/// words, same comments).
pub fn differs_only_in_feeds_and_speeds(old: &str, new: &str) -> bool {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    old_lines.len() == new_lines.len()
        && old_lines.iter().zip(&new_lines).all(|(a, b)| {
            let strip = |l: &str| {
                let mut kept = String::new();
                let mut last = 0;
                for (letter, start, end) in words(l) {
                    if letter == 'S' || letter == 'F' {
                        kept.push_str(&l[last..start]);
                        last = end;
                    }
                }
                kept.push_str(&l[last..]);
                kept
            };
            strip(a) == strip(b)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROGRAM: &str = "%\nO1 (TEST)\n(T1 D=10 4FL)\n(ROUGH POCKET)\nN10 T1 M6\nN15 S5700 M3\n\
        N20 G0 X0 Y0 Z2.\nN25 G1 Z-5. F300.\nN30 X50. F1100.\n(FINISH WALLS)\nN35 T2 M6\n\
        N40 S8000 M3 (S IN A COMMENT F999)\nN45 G1 G41 D2 X10. F640.5\nN50 Y20.\nN55 M30\n%\n";

    #[test]
    fn operations_read_tool_speed_main_feed_and_role() {
        let ops = operations("t", PROGRAM).unwrap();
        assert_eq!(ops.len(), 2);
        assert_eq!(
            (ops[0].tool, ops[0].spindle_rpm, ops[0].main_feed_mm_per_min),
            (1, 5700.0, 1100.0)
        );
        assert_eq!(ops[0].role, OperationRole::Roughing);
        assert_eq!(ops[0].label, "ROUGH POCKET");
        assert_eq!(
            (ops[1].tool, ops[1].spindle_rpm, ops[1].main_feed_mm_per_min),
            (2, 8000.0, 640.5)
        );
        assert_eq!(ops[1].role, OperationRole::Finishing);
    }

    #[test]
    fn rewrite_changes_only_f_and_s_words_and_scales_plunges_with_the_main_feed() {
        let p = CutParams::from_words(6000.0, 1500.0, 10.0, 4);
        let out = rewrite("t", PROGRAM, &[(1, p, 10.0, 4)]).unwrap();
        assert!(out.contains("N15 S6000 M3\n"), "{out}");
        assert!(out.contains("N30 X50. F1500.\n"), "{out}");
        // 300 × 1500/1100 = 409.09 → 409.1
        assert!(out.contains("N25 G1 Z-5. F409.1\n"), "{out}");
        assert!(out.contains("(S IN A COMMENT F999)"));
        assert!(out.contains("F640.5"));
        assert!(differs_only_in_feeds_and_speeds(PROGRAM, &out));
        assert!(!differs_only_in_feeds_and_speeds(
            PROGRAM,
            &out.replace("X50.", "X51.")
        ));
        let back = operations("t", &out).unwrap();
        assert_eq!(back[0].spindle_rpm, 6000.0);
        assert_eq!(back[0].main_feed_mm_per_min, 1500.0);
    }

    #[test]
    fn inch_programs_are_read_and_written_in_their_own_unit() {
        let inch = "N5 G20\nN10 T1 M6\nN15 S5000 M3\nN20 G1 X1. F40.\nN25 M30\n";
        let ops = operations("i", inch).unwrap();
        assert!((ops[0].main_feed_mm_per_min - 1016.0).abs() < 1e-9);
        let p = CutParams::from_words(5000.0, 2032.0, 10.0, 4);
        let out = rewrite("i", inch, &[(1, p, 10.0, 4)]).unwrap();
        assert!(out.contains("N20 G1 X1. F80.\n"), "{out}");
    }

    #[test]
    fn crlf_lines_stay_crlf() {
        let crlf = PROGRAM.replace('\n', "\r\n");
        let p = CutParams::from_words(6000.0, 1500.0, 10.0, 4);
        let out = rewrite("t", &crlf, &[(1, p, 10.0, 4)]).unwrap();
        assert!(out.contains("N15 S6000 M3\r\n"));
        assert_eq!(out.matches("\r\n").count(), crlf.matches("\r\n").count());
    }

    #[test]
    fn refusals_name_the_program_and_what_is_wrong() {
        let none = "%\nN10 G0 X0 Y0\nN20 M30\n%\n";
        let e = operations("air", none).unwrap_err();
        assert!(e.to_string().contains("air: no cutting operation"), "{e}");
        let no_s = "N10 T1 M6\nN20 G1 X10 F100\n";
        assert!(matches!(
            operations("p", no_s),
            Err(ProgramError::NoSpindleSpeed { line: 2, .. })
        ));
        let bad = "N10 T1 M6\nN20 S1.2.0\n";
        assert!(operations("p", bad)
            .unwrap_err()
            .to_string()
            .contains("line 2"));
        let p = CutParams {
            fz_mm: f64::NAN,
            vc_m_per_min: 100.0,
        };
        assert!(rewrite("t", PROGRAM, &[(1, p, 10.0, 4)]).is_err());
        let p = CutParams {
            fz_mm: 0.05,
            vc_m_per_min: 100.0,
        };
        assert!(rewrite("t", PROGRAM, &[(9, p, 10.0, 4)])
            .unwrap_err()
            .to_string()
            .contains("T9"));
    }
}
