//! G-code reader: text → blocks ([`parse`]) → machine operations ([`Interpreter`]).

mod ops;

pub use ops::{Move, OffsetKind, Op, SpindleDir, Vec3};
