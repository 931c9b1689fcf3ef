//! Tool descriptions CAM systems leave in comments, read into [`ToolSpec`]s: Fusion 360/HSM
//! `(T3 D=0.125 CR=0.0625 - ZMIN=-0.54 - BALL END MILL)`, Mastercam
//! `(TOOL - 1 DIA. OFF. - 1 LEN. - 1 DIA. - 10.)`, LinuxCNC tool-table listings
//! `(1  1  -1.1901  0.250  3/4 center drill)`, and free text such as `( 10. END_MILL_SPHER DIA. 10. )`
//! or `(Tool: 1/4 in Carbide End Mill)` whose T number is in the same or a following block, and
//! a bare diameter `(D26)`, `(D=26)`, `(D 6.35mm)`.

use super::expr::Expr;
use super::program::Program;
use aimm_model::{ToolKind, ToolSpec};
use std::collections::BTreeMap;

/// Flutes when a comment does not say.
const DEFAULT_FLUTES: u32 = 4;
/// Gauge length when a comment does not say, mm.
const DEFAULT_LENGTH_MM: f64 = 75.0;
/// How many blocks after a comment to look for the T word it describes.
const T_WORD_LOOKAHEAD: usize = 3;

/// Tools described in `program`'s comments, one per T number (the first description wins), in
/// mm. Bare numbers are in the program's units (its first G20/G21; mm without one).
pub fn tools_from_comments(program: &Program) -> Vec<ToolSpec> {
    let mut tools = BTreeMap::new();
    for (number, _, tool) in described_tools(program) {
        if let Some(number) = number {
            tools.entry(number).or_insert(ToolSpec { number, ..tool });
        }
    }
    tools.into_values().collect()
}

/// The first tool a comment of `program` describes with no T number in it or in the next few
/// blocks (e.g. a bare `(D26)` in a program without T words), and the comment's line. Its
/// `number` is 0: the caller decides which pocket it goes in.
pub fn unnumbered_tool_from_comments(program: &Program) -> Option<(u32, ToolSpec)> {
    described_tools(program)
        .find(|(number, _, _)| number.is_none())
        .map(|(_, line, tool)| (line, tool))
}

/// Every tool description in the comments: (T number if known, comment line, tool numbered 0).
fn described_tools(program: &Program) -> impl Iterator<Item = (Option<u32>, u32, ToolSpec)> + '_ {
    let inch = program_is_inch(program);
    program.comments.iter().filter_map(move |c| {
        let d = describe(&c.text, inch)?;
        let number = d.number.or_else(|| t_word_from(program, c.line));
        let tool = ToolSpec {
            number: 0,
            kind: d.kind,
            diameter_mm: d.diameter_mm,
            flutes: d.flutes,
            length_mm: DEFAULT_LENGTH_MM,
            description: c.text.clone(),
        };
        Some((number, c.line, tool))
    })
}

struct Description {
    number: Option<u32>,
    diameter_mm: f64,
    kind: ToolKind,
    flutes: u32,
}

fn program_is_inch(program: &Program) -> bool {
    program
        .blocks
        .iter()
        .flat_map(|b| &b.words)
        .find_map(|w| match (w.letter, &w.value) {
            ('G', Expr::Num(g)) if *g == 20.0 => Some(true),
            ('G', Expr::Num(g)) if *g == 21.0 => Some(false),
            _ => None,
        })
        .unwrap_or(false)
}

/// The T word of the block on `line` or of one of the next few blocks.
fn t_word_from(program: &Program, line: u32) -> Option<u32> {
    let first = program.blocks.partition_point(|b| b.line < line);
    program.blocks[first..]
        .iter()
        .take(T_WORD_LOOKAHEAD)
        .find_map(|b| match b.word('T')?.value {
            Expr::Num(t) if t >= 0.0 && t.fract() == 0.0 => Some(t as u32),
            _ => None,
        })
}

/// A number at the start of `s`: decimal (`10.`, `.25`) or fraction (`1/4`, `3/4`), and the
/// bytes it takes.
fn number_at(s: &str) -> Option<(f64, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
        i += 1;
    }
    let head = &s[..i];
    if !head.bytes().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let v: f64 = head.parse().ok()?;
    if b.get(i) == Some(&b'/') {
        let rest = &s[i + 1..];
        let j = rest.bytes().take_while(u8::is_ascii_digit).count();
        let den: f64 = rest[..j].parse().ok()?;
        return (den > 0.0).then_some((v / den, i + 1 + j));
    }
    Some((v, i))
}

/// Unit named right after a number: `mm`, `in`, `"`.
fn unit_after(s: &str) -> Option<f64> {
    let t = s.trim_start().to_ascii_lowercase();
    if t.starts_with("mm") {
        Some(1.0)
    } else if t.starts_with('"')
        || t.starts_with("in") && !t[2..].starts_with(|c: char| c.is_ascii_alphabetic())
    {
        Some(25.4)
    } else {
        None
    }
}

fn describe(text: &str, inch: bool) -> Option<Description> {
    let lower = text.to_ascii_lowercase();
    let unit = if inch { 25.4 } else { 1.0 };
    let (number, diameter_mm) = if let Some(t) = tool_table_row(&lower, unit) {
        t
    } else if let Some(d) = bare_diameter(&lower, unit) {
        (None, d)
    } else {
        let toolish = [
            "mill", "drill", "tool", "cutter", "dia", "ball", "sphe", "freza", "fraise",
        ]
        .iter()
        .any(|k| lower.contains(k))
            || lower.starts_with('t') && lower.contains("d=");
        if !toolish {
            return None;
        }
        (tool_number(&lower), diameter(&lower, unit)?)
    };
    if !(diameter_mm > 0.0 && diameter_mm < 1000.0) {
        return None;
    }
    let kind = if lower.contains("ball") || lower.contains("sphe") {
        ToolKind::BallEndMill
    } else if lower.contains("drill") {
        ToolKind::Drill
    } else {
        ToolKind::FlatEndMill
    };
    Some(Description {
        number,
        diameter_mm,
        kind,
        flutes: flutes(&lower).unwrap_or(DEFAULT_FLUTES),
    })
}

/// A comment that is only a diameter: `d26`, `d=26`, `d 6.35mm`, `d=0.25"`.
fn bare_diameter(lower: &str, unit: f64) -> Option<f64> {
    let rest = lower
        .trim()
        .strip_prefix('d')?
        .trim_start_matches([' ', '=']);
    let (v, n) = number_at(rest)?;
    let tail = rest[n..].trim();
    match tail {
        "" => Some(v * unit),
        "mm" | "in" | "\"" => unit_after(tail).map(|u| v * u),
        _ => None,
    }
}

/// LinuxCNC tool-table listing: tool, pocket, length offset, diameter, description.
fn tool_table_row(lower: &str, unit: f64) -> Option<(Option<u32>, f64)> {
    let f: Vec<&str> = lower.split_whitespace().collect();
    if f.len() < 5 {
        return None;
    }
    let tool: u32 = f[0].parse().ok()?;
    f[1].parse::<u32>().ok()?;
    f[2].parse::<f64>().ok()?;
    let dia: f64 = f[3].parse().ok()?;
    Some((Some(tool), dia * unit))
}

/// `T3` as a separate token, or `TOOL - 1`, `TOOL: 1`, `TOOL #1` (not `Tool: 1/4 in`).
fn tool_number(lower: &str) -> Option<u32> {
    let whole = |s: &str| -> Option<u32> {
        let (v, n) = number_at(s)?;
        let next = s[n..].chars().next();
        (v.fract() == 0.0
            && !s[..n].contains(['.', '/'])
            && !next.is_some_and(|c| c.is_ascii_alphanumeric()))
        .then_some(v as u32)
    };
    for token in lower.split_whitespace() {
        if let Some(n) = token.strip_prefix('t').and_then(whole) {
            return Some(n);
        }
    }
    let at = lower.find("tool")?;
    let rest = lower[at + 4..].trim_start_matches([' ', '-', ':', '#']);
    whole(rest)
}

fn diameter(lower: &str, unit: f64) -> Option<f64> {
    // Fusion: D= as a word of its own.
    for (i, _) in lower.match_indices("d=") {
        if i == 0 || lower.as_bytes()[i - 1] == b' ' {
            if let Some((v, n)) = number_at(&lower[i + 2..]) {
                return Some(v * unit_after(&lower[i + 2 + n..]).unwrap_or(unit));
            }
        }
    }
    // DIA. 10. / DIAMETER: 5 / DIA. - 10. (the last one; Mastercam's "DIA. OFF." is a register).
    let mut found = None;
    for (i, _) in lower.match_indices("dia") {
        let rest = lower[i + 3..].trim_start_matches(|c: char| c.is_ascii_alphabetic());
        let rest = rest.trim_start_matches([' ', '.', '-', ':', '=']);
        if let Some((v, n)) = number_at(rest) {
            found = Some(v * unit_after(&rest[n..]).unwrap_or(unit));
        }
    }
    if found.is_some() {
        return found;
    }
    // A number with its unit: 6mm, 1/4 in, 0.5".
    for (i, c) in lower.char_indices() {
        let starts = c.is_ascii_digit()
            && (i == 0
                || !lower.as_bytes()[i - 1].is_ascii_alphanumeric()
                    && lower.as_bytes()[i - 1] != b'.');
        if starts {
            if let Some((v, n)) = number_at(&lower[i..]) {
                if let Some(u) = unit_after(&lower[i + n..]) {
                    return Some(v * u);
                }
            }
        }
    }
    // D5 as a token.
    lower
        .split_whitespace()
        .find_map(|t| {
            t.strip_prefix('d')
                .and_then(|r| number_at(r).filter(|(_, n)| *n == r.len()))
        })
        .map(|(v, _)| v * unit)
}

/// `2FL`, `2 FLUTE`, `FLUTES=2`.
fn flutes(lower: &str) -> Option<u32> {
    if let Some(i) = lower.find("flutes") {
        let rest = lower[i + 6..].trim_start_matches([' ', '=', ':']);
        if let Some((v, _)) = number_at(rest) {
            return Some(v as u32);
        }
    }
    for (i, _) in lower.match_indices("fl") {
        let digits = lower[..i].trim_end();
        let start = digits.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        if start < digits.len() {
            return digits[start..].parse().ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gcode::parse;

    fn tools(text: &str) -> Vec<ToolSpec> {
        tools_from_comments(&parse("t", text).unwrap())
    }

    #[test]
    fn fusion_header_in_inches() {
        let t = tools(
            "%\nO1001\n(T3 D=0.125 CR=0.0625 - ZMIN=-0.54 - BALL END MILL)\nN10 G90\nN15 G20\n",
        );
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].number, 3);
        assert!((t[0].diameter_mm - 3.175).abs() < 1e-9);
        assert_eq!(t[0].kind, ToolKind::BallEndMill);
        assert_eq!(t[0].flutes, 4);
        assert_eq!(t[0].length_mm, 75.0);
        let t = tools("(T1  D=10. CR=0. TAPER=0DEG - ZMIN=-5. - FLAT END MILL)\nG21\n");
        assert_eq!(
            (t[0].number, t[0].diameter_mm, t[0].kind),
            (1, 10.0, ToolKind::FlatEndMill)
        );
    }

    #[test]
    fn mastercam_and_free_text() {
        let t = tools("(TOOL - 1 DIA. OFF. - 1 LEN. - 1 DIA. - 10.)\nG21\n");
        assert_eq!((t[0].number, t[0].diameter_mm), (1, 10.0));
        let t = tools("G21\nT2M6S1527F244.3( 10. END_MILL_SPHER DIA. 10. )\n");
        assert_eq!(
            (t[0].number, t[0].diameter_mm, t[0].kind),
            (2, 10.0, ToolKind::BallEndMill)
        );
        let t = tools("(T1 2FL 6mm endmill)\nG20\n");
        assert_eq!((t[0].number, t[0].diameter_mm, t[0].flutes), (1, 6.0, 2));
        let t = tools("G21\n(Tool: 1/4 in Carbide End Mill)\nT4 M6\n");
        assert_eq!(t[0].number, 4);
        assert!((t[0].diameter_mm - 6.35).abs() < 1e-9);
        let t = tools("G20\n(2  2  -0.2875  0.209  #4 tap drill)\n");
        assert_eq!(t[0].kind, ToolKind::Drill);
        assert!((t[0].diameter_mm - 0.209 * 25.4).abs() < 1e-9);
        let t = tools("G21\n(DRILL 8 FLUTES=2 DIA 8)\nT7\n");
        assert_eq!(
            (t[0].number, t[0].kind, t[0].flutes),
            (7, ToolKind::Drill, 2)
        );
    }

    #[test]
    fn bare_diameter_comments() {
        let t = tools("G21\n(D26)\nT2 M6\n");
        assert_eq!((t[0].number, t[0].diameter_mm), (2, 26.0));
        let t = tools("G20\n(D=0.25)\nT1\n");
        assert!((t[0].diameter_mm - 6.35).abs() < 1e-9);
        let t = tools("G20\n(d 6mm)\nT3\n");
        assert_eq!((t[0].number, t[0].diameter_mm), (3, 6.0));
        // Without a T word anywhere near it, the tool has no number.
        let p = parse("t", "G21\n(D=26)\nG0 X0\nG0 X1\nG0 X2\nG1 Z-1 F100\n").unwrap();
        assert!(tools_from_comments(&p).is_empty());
        let (line, tool) = unnumbered_tool_from_comments(&p).unwrap();
        assert_eq!(
            (line, tool.diameter_mm, tool.kind),
            (2, 26.0, ToolKind::FlatEndMill)
        );
        // Not a diameter: other words after the number.
        assert!(tools("(D26 X)\nT1\n").is_empty());
        assert!(tools("(DONE)\nT1\n").is_empty());
    }

    #[test]
    fn unknown_comments_give_nothing() {
        assert!(
            tools("(begin preamble)\n(machine units: in/min)\nT1 M6\n(UGT0201 094)\nT2 M6\n")
                .is_empty()
        );
        // A tool without a T number anywhere near.
        assert!(tools("(10mm end mill)\nG0 X0\nG0 X1\nG0 X2\nG0 X3\nT1 M6\n").is_empty());
    }
}
