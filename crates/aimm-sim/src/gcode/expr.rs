//! Word values: plain numbers, and the LinuxCNC extensions — parameters (`#100`, `#<name>`) and
//! bracketed expressions (`[#1 + 2*3]`, `sin[30]`, `atan[1]/[2]`) — parsed at read time and
//! evaluated by the interpreter against its parameter memory.

use super::error::Fault;
use super::lexer::Cursor;
use std::collections::HashMap;

/// A LinuxCNC parameter assignment, e.g. `#100 = [#1 + 2]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Assignment {
    /// The parameter written.
    pub target: ParamRef,
    /// The value assigned.
    pub value: Expr,
    /// 1-based column of the `#`.
    pub column: u32,
}

/// The value of a word or of a parameter assignment.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A literal number.
    Num(f64),
    /// `#n` or `#[expr]`: numbered parameter.
    Param(Box<Expr>),
    /// `#<name>`: named parameter (names are case-insensitive; stored lower case).
    Named(String),
    /// Negation.
    Neg(Box<Expr>),
    /// A binary operation.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// A function of one argument (degrees for trigonometry).
    Func(Func, Box<Expr>),
    /// `atan[y]/[x]`, degrees.
    Atan2(Box<Expr>, Box<Expr>),
}

/// Binary operators of expressions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `**`: power.
    Pow,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `mod`: Euclidean remainder, never negative.
    Mod,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `eq`: 1 if equal, else 0.
    Eq,
    /// `ne`: 1 if not equal.
    Ne,
    /// `gt`: 1 if greater.
    Gt,
    /// `ge`: 1 if greater or equal.
    Ge,
    /// `lt`: 1 if less.
    Lt,
    /// `le`: 1 if less or equal.
    Le,
    /// `and`: 1 if both non-zero.
    And,
    /// `or`: 1 if either non-zero.
    Or,
    /// `xor`: 1 if exactly one non-zero.
    Xor,
}

/// Functions of one argument (angles in degrees).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    /// `abs`.
    Abs,
    /// `acos`, degrees.
    Acos,
    /// `asin`, degrees.
    Asin,
    /// `cos` of degrees.
    Cos,
    /// `exp`.
    Exp,
    /// `fix`: round down.
    Fix,
    /// `fup`: round up.
    Fup,
    /// `ln`: natural logarithm.
    Ln,
    /// `round`.
    Round,
    /// `sin` of degrees.
    Sin,
    /// `sqrt`.
    Sqrt,
    /// `tan` of degrees.
    Tan,
}

/// Parameter memory: numbered parameters (unset read as 0, as LinuxCNC does) and named ones.
#[derive(Clone, Debug, Default)]
pub struct Params {
    numbered: HashMap<u32, f64>,
    named: HashMap<String, f64>,
}

impl Params {
    pub fn get(&self, n: u32) -> f64 {
        self.numbered.get(&n).copied().unwrap_or(0.0)
    }

    pub fn set(&mut self, n: u32, v: f64) {
        self.numbered.insert(n, v);
    }

    pub fn set_named(&mut self, name: &str, v: f64) {
        self.named.insert(name.to_string(), v);
    }

    /// Applies `#target = value`.
    pub(crate) fn assign(&mut self, a: &Assignment) -> Result<(), Fault> {
        let fault = |e: ExprError| Fault::at(a.column, e.to_string());
        let v = a.value.eval(self).map_err(fault)?;
        match &a.target {
            ParamRef::Numbered(n) => {
                let n = param_index(n.eval(self).map_err(fault)?).map_err(fault)?;
                self.set(n, v);
            }
            ParamRef::Named(name) => self.set_named(name, v),
        }
        Ok(())
    }
}

/// Why an expression or a parameter number cannot be evaluated.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ExprError {
    /// A parameter number that is not an integer in 0–99 999.
    #[error("parameter number {0} is not a valid parameter")]
    BadParameterNumber(f64),
    /// A named parameter read before it was set.
    #[error("named parameter #<{0}> is not set")]
    UnsetName(String),
    /// A function outside its domain (`function` of `value`).
    #[error("{function} of {value} is undefined")]
    Undefined {
        /// The function's name, e.g. `sqrt`.
        function: &'static str,
        /// Its argument.
        value: f64,
    },
    /// `/` with a zero divisor.
    #[error("division by zero")]
    DivisionByZero,
    /// `mod` with a zero divisor.
    #[error("modulo by zero")]
    ModuloByZero,
}

/// Which parameter an assignment writes.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamRef {
    /// `#n` or `#[expr]`.
    Numbered(Expr),
    /// `#<name>` (lower case).
    Named(String),
}

/// Checks a parameter number: a non-negative integer below 100 000.
pub fn param_index(v: f64) -> Result<u32, ExprError> {
    let r = v.round();
    if (v - r).abs() > 1e-6 || !(0.0..100_000.0).contains(&r) {
        return Err(ExprError::BadParameterNumber(v));
    }
    Ok(r as u32)
}

impl Expr {
    /// The value against parameter memory `p`; fails on unset names, division by zero and
    /// functions outside their domain.
    pub fn eval(&self, p: &Params) -> Result<f64, ExprError> {
        Ok(match self {
            Expr::Num(v) => *v,
            Expr::Param(e) => p.get(param_index(e.eval(p)?)?),
            Expr::Named(name) => *p
                .named
                .get(name)
                .ok_or_else(|| ExprError::UnsetName(name.clone()))?,
            Expr::Neg(e) => -e.eval(p)?,
            Expr::Atan2(y, x) => y.eval(p)?.atan2(x.eval(p)?).to_degrees(),
            Expr::Func(f, e) => f.apply(e.eval(p)?)?,
            Expr::Binary(op, a, b) => op.apply(a.eval(p)?, b.eval(p)?)?,
        })
    }
}

impl Func {
    fn by_name(c: &mut Cursor) -> Option<Func> {
        const NAMES: [(&str, Func); 12] = [
            ("abs", Func::Abs),
            ("acos", Func::Acos),
            ("asin", Func::Asin),
            ("cos", Func::Cos),
            ("exp", Func::Exp),
            ("fix", Func::Fix),
            ("fup", Func::Fup),
            ("ln", Func::Ln),
            ("round", Func::Round),
            ("sin", Func::Sin),
            ("sqrt", Func::Sqrt),
            ("tan", Func::Tan),
        ];
        NAMES
            .iter()
            .find(|(n, _)| c.eat_keyword(n))
            .map(|&(_, f)| f)
    }

    fn apply(self, v: f64) -> Result<f64, ExprError> {
        let domain = |ok: bool, function: &'static str| {
            if ok {
                Ok(())
            } else {
                Err(ExprError::Undefined { function, value: v })
            }
        };
        Ok(match self {
            Func::Abs => v.abs(),
            Func::Acos => {
                domain((-1.0..=1.0).contains(&v), "acos")?;
                v.acos().to_degrees()
            }
            Func::Asin => {
                domain((-1.0..=1.0).contains(&v), "asin")?;
                v.asin().to_degrees()
            }
            Func::Cos => v.to_radians().cos(),
            Func::Exp => v.exp(),
            Func::Fix => v.floor(),
            Func::Fup => v.ceil(),
            Func::Ln => {
                domain(v > 0.0, "ln")?;
                v.ln()
            }
            Func::Round => v.round(),
            Func::Sin => v.to_radians().sin(),
            Func::Sqrt => {
                domain(v >= 0.0, "sqrt")?;
                v.sqrt()
            }
            Func::Tan => v.to_radians().tan(),
        })
    }
}

impl BinOp {
    /// Binding strength: higher binds tighter (LinuxCNC's three arithmetic levels, then
    /// comparisons, then logic).
    fn precedence(self) -> u8 {
        match self {
            BinOp::Pow => 5,
            BinOp::Mul | BinOp::Div | BinOp::Mod => 4,
            BinOp::Add | BinOp::Sub => 3,
            BinOp::Eq | BinOp::Ne | BinOp::Gt | BinOp::Ge | BinOp::Lt | BinOp::Le => 2,
            BinOp::And | BinOp::Or | BinOp::Xor => 1,
        }
    }

    fn apply(self, a: f64, b: f64) -> Result<f64, ExprError> {
        let truth = |x: bool| if x { 1.0 } else { 0.0 };
        Ok(match self {
            BinOp::Pow => a.powf(b),
            BinOp::Mul => a * b,
            BinOp::Div if b == 0.0 => return Err(ExprError::DivisionByZero),
            BinOp::Div => a / b,
            BinOp::Mod if b == 0.0 => return Err(ExprError::ModuloByZero),
            BinOp::Mod => a.rem_euclid(b),
            BinOp::Add => a + b,
            BinOp::Sub => a - b,
            BinOp::Eq => truth(a == b),
            BinOp::Ne => truth(a != b),
            BinOp::Gt => truth(a > b),
            BinOp::Ge => truth(a >= b),
            BinOp::Lt => truth(a < b),
            BinOp::Le => truth(a <= b),
            BinOp::And => truth(a != 0.0 && b != 0.0),
            BinOp::Or => truth(a != 0.0 || b != 0.0),
            BinOp::Xor => truth((a != 0.0) != (b != 0.0)),
        })
    }

    fn scan(c: &mut Cursor) -> Option<BinOp> {
        let op = match (c.peek()?, c.peek_at(1)) {
            (b'*', Some(b'*')) => {
                c.bump();
                BinOp::Pow
            }
            (b'*', _) => BinOp::Mul,
            (b'/', _) => BinOp::Div,
            (b'+', _) => BinOp::Add,
            (b'-', _) => BinOp::Sub,
            _ => {
                const WORDS: [(&str, BinOp); 10] = [
                    ("mod", BinOp::Mod),
                    ("eq", BinOp::Eq),
                    ("ne", BinOp::Ne),
                    ("gt", BinOp::Gt),
                    ("ge", BinOp::Ge),
                    ("lt", BinOp::Lt),
                    ("le", BinOp::Le),
                    ("and", BinOp::And),
                    ("or", BinOp::Or),
                    ("xor", BinOp::Xor),
                ];
                return WORDS
                    .iter()
                    .find(|(w, _)| c.eat_keyword(w))
                    .map(|&(_, o)| o);
            }
        };
        c.bump();
        Some(op)
    }
}

/// A parse failure: byte offset of the offending character and message.
pub(crate) type ScanError = (usize, String);

/// Reads a word value: a number, a parameter reference, `[expr]`, or a unary function.
pub(crate) fn value(c: &mut Cursor) -> Result<Expr, ScanError> {
    c.skip_spaces();
    match c.peek() {
        Some(b'[') => bracketed(c),
        Some(b'#') => param(c),
        Some(b'-') if !c.at_number() => {
            c.bump();
            Ok(Expr::Neg(Box::new(value(c)?)))
        }
        Some(b'+') if !c.at_number() => {
            c.bump();
            value(c)
        }
        Some(b) if b.is_ascii_alphabetic() => {
            let at = c.pos;
            if c.eat_keyword("atan") {
                let y = bracketed(c)?;
                c.skip_spaces();
                if c.peek() != Some(b'/') {
                    return Err((c.pos, "atan needs the form atan[y]/[x]".into()));
                }
                c.bump();
                c.skip_spaces();
                let x = bracketed(c)?;
                return Ok(Expr::Atan2(Box::new(y), Box::new(x)));
            }
            match Func::by_name(c) {
                Some(f) => {
                    c.skip_spaces();
                    Ok(Expr::Func(f, Box::new(bracketed(c)?)))
                }
                None => Err((at, "unknown function or operator".into())),
            }
        }
        _ => c.number().map(Expr::Num),
    }
}

/// `#n`, `#[expr]`, `#<name>` or `##n`, with the cursor on the `#`.
pub(crate) fn param(c: &mut Cursor) -> Result<Expr, ScanError> {
    c.bump();
    c.skip_spaces();
    if c.peek() == Some(b'<') {
        return named(c).map(Expr::Named);
    }
    Ok(Expr::Param(Box::new(value(c)?)))
}

/// `<name>` with the cursor on `<`; returns the name, lower case, spaces removed.
pub(crate) fn named(c: &mut Cursor) -> Result<String, ScanError> {
    let open = c.pos;
    let rest = c.rest();
    let Some(end) = rest.find('>') else {
        return Err((open, "unclosed parameter name <...".into()));
    };
    let name: String = rest[1..end]
        .chars()
        .filter(|ch| !ch.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    if name.is_empty() {
        return Err((open, "empty parameter name".into()));
    }
    c.pos += end + 1;
    Ok(name)
}

/// `[expr]`, with the cursor on `[` (after optional spaces).
fn bracketed(c: &mut Cursor) -> Result<Expr, ScanError> {
    c.skip_spaces();
    if c.peek() != Some(b'[') {
        return Err((c.pos, "expected '['".into()));
    }
    let open = c.pos;
    c.bump();
    let e = binary(c, 0)?;
    c.skip_spaces();
    if c.peek() != Some(b']') {
        let at = if c.at_end() { open } else { c.pos };
        return Err((
            at,
            "unclosed '[' or unexpected character in expression".into(),
        ));
    }
    c.bump();
    Ok(e)
}

/// Precedence climbing over binary operators, all left-associative.
fn binary(c: &mut Cursor, min: u8) -> Result<Expr, ScanError> {
    let mut lhs = value(c)?;
    loop {
        c.skip_spaces();
        let save = c.pos;
        let Some(op) = BinOp::scan(c) else { break };
        if op.precedence() < min {
            c.pos = save;
            break;
        }
        let rhs = binary(c, op.precedence() + 1)?;
        lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
    }
    Ok(lhs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(text: &str, p: &Params) -> f64 {
        let mut c = Cursor::new(text);
        let e = value(&mut c).unwrap();
        assert!(c.at_end(), "{text}: trailing {}", c.rest());
        e.eval(p).unwrap()
    }

    #[test]
    fn precedence_and_functions() {
        let mut p = Params::default();
        p.set(1, 4.0);
        p.set_named("feed", 250.0);
        assert_eq!(eval("[#1+2*3]", &p), 10.0);
        assert_eq!(eval("[10 - 4 - 3]", &p), 3.0);
        assert_eq!(eval("[2**3*2]", &p), 16.0);
        assert!((eval("sin[30]", &p) - 0.5).abs() < 1e-12);
        assert_eq!(eval("sqrt[[#1]*4]", &p), 4.0);
        assert!((eval("atan[1]/[1]", &p) - 45.0).abs() < 1e-12);
        assert_eq!(
            eval("[fix[2.7] + fup[2.1] + round[2.5] + abs[-1]]", &p),
            9.0
        );
        assert_eq!(eval("#<Feed>", &p), 250.0);
        assert_eq!(eval("[#1 GT 3]", &p), 1.0);
        assert_eq!(eval("-#1", &p), -4.0);
        assert_eq!(eval("#[#1 - 3]", &p), 4.0);
    }

    #[test]
    fn errors_point_at_the_problem() {
        let mut c = Cursor::new("[1 + 2");
        assert_eq!(value(&mut c).unwrap_err().0, 0);
        let mut c = Cursor::new("[1 $ 2]");
        assert_eq!(value(&mut c).unwrap_err().0, 3);
        let mut c = Cursor::new("[1/0]");
        assert!(value(&mut c).unwrap().eval(&Params::default()).is_err());
    }
}
