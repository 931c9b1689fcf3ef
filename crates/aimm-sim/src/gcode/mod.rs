//! G-code reader: text → blocks ([`parse`]) → machine operations ([`Interpreter`]), plus tool
//! descriptions from CAM comments ([`tools_from_comments`]).
//!
//! The dialect is Fanuc-style as CAM post-processors emit it, with the LinuxCNC extensions
//! (parameters, expressions, O-word subroutines and loops) that hand-written programs use.

mod arc;
mod cutter_comp;
mod cycles;
mod error;
mod expr;
mod flow;
mod interp;
#[cfg(test)]
mod interp_tests;
mod lexer;
mod modal;
mod motion;
mod ops;
mod parse;
mod program;
mod segment;
mod tool_comments;
mod words;

pub use arc::Plane;
pub use error::{InterpError, ParseError};
pub use expr::{Assignment, BinOp, Expr, ExprError, Func, ParamRef};
pub use interp::{InterpConfig, Interpreter, Units};
pub use ops::{Move, OffsetKind, Op, SpindleDir, Vec3};
pub use parse::parse;
pub use program::{Block, Comment, OStatement, OWord, Program, Word};
pub use tool_comments::{tools_from_comments, unnumbered_tool_from_comments};
