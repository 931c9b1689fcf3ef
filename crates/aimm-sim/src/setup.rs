//! Setting a part up from its program: the tool table (tools described in the program's
//! comments, a default tool for every other T number) and the stock block a `(STOCK …)` comment
//! declares.

use crate::gcode::{
    tools_from_comments, unnumbered_tool_from_comments, Expr, Interpreter, Op, Program,
};
use crate::stock::StockSpec;
use crate::tool_table::ToolTable;
use crate::{SimConfig, SimError};
use aimm_model::{ToolKind, ToolSpec};

/// A malformed `(STOCK …)` comment: names the program, line and comment.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// The comment does not read as `(STOCK X<min> Y<min> X<max> Y<max> [Z<top>])`.
    #[error("{program}:{line}: stock comment '({comment})': {reason}; expected (STOCK X<min> Y<min> X<max> Y<max> [Z<top>])")]
    StockComment {
        /// Program name.
        program: String,
        /// 1-based line of the comment.
        line: u32,
        /// The comment's text, without parentheses.
        comment: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Highest T number the default tool fills in for.
const MAX_TOOL_NUMBER: u32 = 99;

/// Sets a part up: returns the tool table for `program` and, unless `config` already has a
/// stock, sets the one the program's `(STOCK …)` comment declares.
pub fn prepare(
    program: &Program,
    default_tool: &ToolSpec,
    config: &mut SimConfig,
) -> Result<ToolTable, SetupError> {
    if config.stock.is_none() {
        config.stock = stock_from_comments(program)?;
    }
    Ok(tool_table_for(program, default_tool))
}

/// The tool table for `program`: what its comments describe, `default_tool` for T1–T99 otherwise.
pub fn tool_table_for(program: &Program, default_tool: &ToolSpec) -> ToolTable {
    let mut table = ToolTable::new(tools_from_comments(program));
    table.fill_missing(default_tool, 1..=MAX_TOOL_NUMBER);
    table
}

/// The tool a program cuts with before its first tool change (see [`tool_at_start`]).
#[derive(Clone, Debug, PartialEq)]
pub struct StartTool {
    /// T number it is loaded as.
    pub number: u32,
    /// 1-based line of the first feed move below the stock top with no tool changed in.
    pub line: u32,
    /// The tool's geometry (as in the tool table).
    pub tool: ToolSpec,
    /// Where the tool comes from: a comment of the program, or the default tool.
    pub source: String,
    /// True when the tool is the caller's default tool, not one the program describes.
    pub is_default: bool,
}

impl StartTool {
    /// The warning a run with this tool carries: the line, the tool and where it comes from.
    pub fn note(&self) -> String {
        let kind = match self.tool.kind {
            ToolKind::FlatEndMill => "flat end mill",
            ToolKind::BallEndMill => "ball end mill",
            ToolKind::Drill => "drill",
        };
        format!(
            "the program cuts with no tool changed in (no T… M6 before this feed move): T{} loaded at the start, a {} mm {}-flute {kind} ({})",
            self.number, self.tool.diameter_mm, self.tool.flutes, self.source
        )
    }
}

/// Finds whether `program` cuts before any tool change: its first feed move below the stock top
/// (the top of `config`'s stock, or `config.stock_top_mm`) ahead of every `M6`. If it does, picks
/// the tool to load at the start and puts it in `tools`: the T number selected by then if any
/// (its table entry: a comment's description or the default tool), else the lowest T number the
/// program does not name, described by a comment without a T number (e.g. `(D26)`) if there is
/// one and by `default_tool` otherwise. `None` when every cut follows a tool change.
pub fn tool_at_start(
    program: &Program,
    tools: &mut ToolTable,
    config: &SimConfig,
    default_tool: &ToolSpec,
) -> Result<Option<StartTool>, SimError> {
    let top = config.stock.map_or(config.stock_top_mm, |s| s.top_mm);
    let mut line = None;
    for op in Interpreter::new(program, tools.clone(), config.interp.clone()) {
        match op? {
            Op::ToolChange { .. } => return Ok(None),
            Op::Move(m) if !m.rapid && m.from[2].min(m.to[2]) < top => {
                line = Some(m.line);
                break;
            }
            _ => {}
        }
    }
    let Some(line) = line else {
        return Ok(None);
    };
    let t_words: Vec<(u32, u32)> = program
        .blocks
        .iter()
        .filter_map(|b| match b.word('T')?.value {
            Expr::Num(t) if t >= 1.0 && t.fract() == 0.0 => Some((b.line, t as u32)),
            _ => None,
        })
        .collect();
    let selected = t_words
        .iter()
        .rev()
        .find(|(l, _)| *l <= line)
        .map(|&(_, t)| t);
    if let Some(number) = selected.filter(|&t| tools.tool(t).is_some()) {
        let tool = tools.tool(number).cloned().expect("checked above");
        let is_default = !tools_from_comments(program)
            .iter()
            .any(|t| t.number == number);
        let source = if is_default {
            "selected by a T word, not described in the program: the default tool".to_string()
        } else {
            format!(
                "selected by a T word, described as '({})'",
                tool.description
            )
        };
        return Ok(Some(StartTool {
            number,
            line,
            tool,
            source,
            is_default,
        }));
    }
    let described: Vec<u32> = tools_from_comments(program)
        .iter()
        .map(|t| t.number)
        .collect();
    let number = (1..=MAX_TOOL_NUMBER)
        .find(|n| !t_words.iter().any(|(_, t)| t == n) && !described.contains(n))
        .unwrap_or(1);
    let (tool, source, is_default) = match unnumbered_tool_from_comments(program) {
        Some((at, tool)) => {
            let source = format!("from the comment '({})' on line {at}", tool.description);
            (tool, source, false)
        }
        None => (default_tool.clone(), "the default tool".to_string(), true),
    };
    let tool = ToolSpec { number, ..tool };
    tools.insert(tool.clone());
    Ok(Some(StartTool {
        number,
        line,
        tool,
        source,
        is_default,
    }))
}

/// The stock declared by a comment `(STOCK X<min> Y<min> X<max> Y<max> [Z<top>])` (values in
/// the program's units as of that comment: mm unless a G20 precedes it), if the program has one.
/// Returns an error naming the line when the comment is malformed.
pub fn stock_from_comments(program: &Program) -> Result<Option<StockSpec>, SetupError> {
    let inch = |line: u32| {
        program
            .blocks
            .iter()
            .filter(|b| b.line < line)
            .flat_map(|b| b.words.iter())
            .filter(|w| w.letter == 'G')
            .filter_map(|w| match w.value {
                Expr::Num(g) => Some(g),
                _ => None,
            })
            .fold(false, |inch, g| {
                if g == 20.0 {
                    true
                } else if g == 21.0 {
                    false
                } else {
                    inch
                }
            })
    };
    for c in &program.comments {
        let text = c.text.trim();
        let Some(rest) = text
            .get(..5)
            .filter(|head| head.eq_ignore_ascii_case("STOCK"))
            .map(|_| &text[5..])
        else {
            continue;
        };
        let scale = if inch(c.line) { 25.4 } else { 1.0 };
        let bad = |why: &str| SetupError::StockComment {
            program: program.name.clone(),
            line: c.line,
            comment: text.to_string(),
            reason: why.to_string(),
        };
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        let mut top = 0.0;
        for word in rest.split_whitespace() {
            let (letter, number) = word.split_at(1);
            let value: f64 = number
                .parse()
                .map_err(|_| bad(&format!("'{word}' is not a letter and a number")))?;
            match letter.to_ascii_uppercase().as_str() {
                "X" => xs.push(value * scale),
                "Y" => ys.push(value * scale),
                "Z" => top = value * scale,
                _ => return Err(bad(&format!("unknown word '{word}'"))),
            }
        }
        if xs.len() != 2 || ys.len() != 2 || xs[0] >= xs[1] || ys[0] >= ys[1] {
            return Err(bad("needs two X and two Y values, minimum first"));
        }
        return Ok(Some(StockSpec {
            x_min_mm: xs[0],
            y_min_mm: ys[0],
            x_max_mm: xs[1],
            y_max_mm: ys[1],
            top_mm: top,
        }));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gcode::parse;

    #[test]
    fn reads_the_stock_comment_in_program_units() {
        let p = parse("t.nc", "G20\n(STOCK X0 Y0 X4 Y2 Z0.1)\nG0 X0\n").unwrap();
        let s = stock_from_comments(&p).unwrap().unwrap();
        assert!((s.x_max_mm - 101.6).abs() < 1e-9 && (s.top_mm - 2.54).abs() < 1e-9);
        let p = parse("t.nc", "(stock X0 Y0 X4)\n").unwrap();
        let err = stock_from_comments(&p).unwrap_err().to_string();
        assert!(err.contains("t.nc:1") && err.contains("two X"), "{err}");
        let p = parse("t.nc", "(T1 D=6. - FLAT END MILL)\nT1 M6\n").unwrap();
        assert_eq!(stock_from_comments(&p).unwrap(), None);
        let t = tool_table_for(&p, &ToolSpec::default_end_mill(0));
        assert_eq!(t.tool(1).unwrap().diameter_mm, 6.0);
        assert_eq!(t.tool(7).unwrap().diameter_mm, 10.0);
    }

    fn start_tool(text: &str) -> (Option<StartTool>, ToolTable) {
        let p = parse("t.nc", text).unwrap();
        let mut config = SimConfig::new(
            aimm_model::MachineSpec::vmc("m"),
            aimm_model::Material::SteelC45,
            1,
        );
        let default = ToolSpec::default_end_mill(0);
        let mut tools = prepare(&p, &default, &mut config).unwrap();
        let start = tool_at_start(&p, &mut tools, &config, &default).unwrap();
        (start, tools)
    }

    #[test]
    fn a_program_that_cuts_without_a_tool_change_gets_a_named_start_tool() {
        // No T word at all: the default tool, as T1, at the first cut's line.
        let (s, _) = start_tool("G21 G90\nG0 X0 Y0 Z5\nG1 Z-1 F100\nG1 X20\n");
        let s = s.unwrap();
        assert_eq!((s.number, s.line, s.is_default), (1, 3, true));
        assert!(
            s.note().contains("T1") && s.note().contains("default tool"),
            "{}",
            s.note()
        );
        // A bare diameter comment names the tool.
        let (s, tools) = start_tool("(D26)\nG21 G90\nG0 X0 Y0 Z5\nG0 X1\nG0 X2\nG1 Z-1 F100\n");
        let s = s.unwrap();
        assert_eq!(
            (s.number, s.tool.diameter_mm, s.is_default),
            (1, 26.0, false)
        );
        assert_eq!(tools.tool(1).unwrap().diameter_mm, 26.0);
        assert!(
            s.note().contains("(D26)") && s.note().contains("26 mm"),
            "{}",
            s.note()
        );
        // A T word without M6 selects the tool it names.
        let (s, _) = start_tool("(T4 D=6. - FLAT END MILL)\nT4\nG0 X0 Y0 Z5\nG1 Z-1 F100\n");
        let s = s.unwrap();
        assert_eq!((s.number, s.tool.diameter_mm, s.line), (4, 6.0, 4));
        // Cuts after M6, or only above the stock top: nothing to load.
        assert_eq!(start_tool("T1 M6\nG0 X0 Y0 Z5\nG1 Z-1 F100\n").0, None);
        assert_eq!(start_tool("G0 X0 Y0 Z5\nG1 Z1 F100\nG1 X10\n").0, None);
    }
}
