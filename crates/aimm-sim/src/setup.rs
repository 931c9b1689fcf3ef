//! Setting a part up from its program: the tool table (tools described in the program's
//! comments, a default tool for every other T number) and the stock block a `(STOCK …)` comment
//! declares.

use crate::gcode::{tools_from_comments, Expr, Program};
use crate::stock::StockSpec;
use crate::tool_table::ToolTable;
use crate::SimConfig;
use aimm_model::ToolSpec;

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
}
