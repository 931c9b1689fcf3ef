//! Errors of the G-code reader: [`ParseError`] for text that is not G-code, [`InterpError`] for
//! G-code that a control would refuse to run. Both name the program, line and column.

use std::fmt;

/// Malformed G-code text. Displays as `"{source}:{line}:{column}: {message}"`.
///
/// `Display` and `Error` are written by hand: `thiserror` would treat the field named `source` as
/// the underlying error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Program name as given to [`crate::gcode::parse`].
    pub source: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column of the offending character.
    pub column: u32,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.source, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ParseError {}

/// G-code the interpreter cannot run (impossible geometry, unknown codes, missing words).
/// Displays as `"{source}:{line}:{column}: {message}"`, or without the column when unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterpError {
    /// Program name as given to [`crate::gcode::parse`].
    pub source: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column of the offending word, if one word is to blame.
    pub column: Option<u32>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for InterpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.column {
            Some(c) => write!(f, "{}:{}:{}: {}", self.source, self.line, c, self.message),
            None => write!(f, "{}:{}: {}", self.source, self.line, self.message),
        }
    }
}

impl std::error::Error for InterpError {}

/// An interpreter failure before the program name is attached: column (if known) and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fault {
    pub column: Option<u32>,
    pub message: String,
}

impl Fault {
    pub fn at(column: u32, message: impl Into<String>) -> Self {
        Self {
            column: Some(column),
            message: message.into(),
        }
    }

    pub fn maybe(column: Option<u32>, message: impl Into<String>) -> Self {
        Self {
            column,
            message: message.into(),
        }
    }

    pub fn new(message: impl Into<String>) -> Self {
        Self {
            column: None,
            message: message.into(),
        }
    }
}
