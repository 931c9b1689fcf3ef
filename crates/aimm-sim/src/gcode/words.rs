//! One block's words evaluated to numbers and sorted by letter, ready for the interpreter.

use super::error::Fault;
use super::expr::Params;
use super::modal::{g_code, GCode};
use super::program::Block;

/// The evaluated words of one block.
pub(crate) struct Words {
    /// G codes with their columns, in source order.
    pub g: Vec<(GCode, u32)>,
    /// M codes with their columns, in source order.
    pub m: Vec<(u32, u32)>,
    /// Other letters: value and column.
    values: [Option<(f64, u32)>; 26],
}

impl Words {
    pub fn evaluate(block: &Block, params: &Params) -> Result<Words, Fault> {
        let mut w = Words {
            g: Vec::new(),
            m: Vec::new(),
            values: [None; 26],
        };
        for word in &block.words {
            let v = word
                .value
                .eval(params)
                .map_err(|e| Fault::at(word.column, e.to_string()))?;
            if !v.is_finite() {
                return Err(Fault::at(
                    word.column,
                    format!("{} value is not finite", word.letter),
                ));
            }
            match word.letter {
                'G' => {
                    let g = g_code(v)
                        .ok_or_else(|| Fault::at(word.column, format!("G{v} is not a G code")))?;
                    w.g.push((g, word.column));
                }
                'M' => {
                    if v < 0.0 || v.fract() != 0.0 {
                        return Err(Fault::at(word.column, format!("M{v} is not an M code")));
                    }
                    w.m.push((v as u32, word.column));
                }
                l => w.values[(l as u8 - b'A') as usize] = Some((v, word.column)),
            }
        }
        Ok(w)
    }

    pub fn get(&self, letter: char) -> Option<f64> {
        self.values[(letter as u8 - b'A') as usize].map(|(v, _)| v)
    }

    pub fn column(&self, letter: char) -> Option<u32> {
        self.values[(letter as u8 - b'A') as usize].map(|(_, c)| c)
    }

    pub fn has(&self, letter: char) -> bool {
        self.get(letter).is_some()
    }

    /// Column of G code `g` if the block has it.
    pub fn g(&self, g: GCode) -> Option<u32> {
        self.g.iter().find(|(c, _)| *c == g).map(|&(_, col)| col)
    }

    pub fn m(&self, m: u32) -> Option<u32> {
        self.m.iter().find(|(c, _)| *c == m).map(|&(_, col)| col)
    }

    /// A non-negative whole number, e.g. for T, D, H, P of G10.
    pub fn index(&self, letter: char) -> Result<Option<u32>, Fault> {
        match self.values[(letter as u8 - b'A') as usize] {
            None => Ok(None),
            Some((v, _)) if v >= 0.0 && (v - v.round()).abs() < 1e-9 && v < 1e9 => {
                Ok(Some(v.round() as u32))
            }
            Some((v, col)) => Err(Fault::at(
                col,
                format!("{letter}{v} must be a whole number ≥ 0"),
            )),
        }
    }

    pub fn any_axis(&self) -> bool {
        self.has('X') || self.has('Y') || self.has('Z')
    }
}
