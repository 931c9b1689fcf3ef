//! A parsed G-code program: blocks of words with their source lines, and the comments (which CAM
//! systems use to describe tools).

use super::expr::{Assignment, Expr};

/// A program as read by [`super::parse`].
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// Program name (usually the file name), used in error messages.
    pub name: String,
    /// Blocks with content, in source order.
    pub blocks: Vec<Block>,
    /// Every comment, `( )` or `;`, in order.
    pub comments: Vec<Comment>,
}

/// One line that holds words, parameter assignments or an O-word.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// 1-based source line.
    pub line: u32,
    /// Starts with `/` (skipped when the block-delete switch is on).
    pub deletable: bool,
    /// N sequence number.
    pub number: Option<u32>,
    /// Words in source order, N and O excluded.
    pub words: Vec<Word>,
    /// LinuxCNC `#n=value`, applied after the block's words are evaluated.
    pub assignments: Vec<Assignment>,
    /// LinuxCNC O-word control statement (`o100 sub`, `o100 call [..]`, ...).
    pub o_word: Option<OWord>,
}

/// A letter and its value, e.g. `X-1.5`.
#[derive(Clone, Debug, PartialEq)]
pub struct Word {
    /// Upper case.
    pub letter: char,
    /// The value (a number or an expression).
    pub value: Expr,
    /// 1-based column of the letter.
    pub column: u32,
}

/// A comment and where it stands.
#[derive(Clone, Debug, PartialEq)]
pub struct Comment {
    /// 1-based source line.
    pub line: u32,
    /// Text without the delimiters, trimmed.
    pub text: String,
}

/// A LinuxCNC O-word statement.
#[derive(Clone, Debug, PartialEq)]
pub struct OWord {
    /// The O number (`o100` → 100).
    pub number: u32,
    /// What the O-word does.
    pub statement: OStatement,
    /// 1-based column of the `o`.
    pub column: u32,
}

/// A LinuxCNC O-word control statement.
#[derive(Clone, Debug, PartialEq)]
pub enum OStatement {
    /// `sub`: start of a subroutine definition.
    Sub,
    /// `endsub`: end of a subroutine definition.
    EndSub,
    /// `return`: leave the subroutine.
    Return,
    /// `call [args]`: run a subroutine with arguments.
    Call(Vec<Expr>),
    /// `while [cond]`: loop head.
    While(Expr),
    /// `endwhile`: loop end.
    EndWhile,
    /// `if [cond]`.
    If(Expr),
    /// `elseif [cond]`.
    ElseIf(Expr),
    /// `else`.
    Else,
    /// `endif`.
    EndIf,
}

impl Block {
    /// The word with `letter`, if present (the parser rejects repeats other than G and M).
    pub fn word(&self, letter: char) -> Option<&Word> {
        self.words.iter().find(|w| w.letter == letter)
    }
}
