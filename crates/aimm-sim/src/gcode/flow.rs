//! LinuxCNC O-word control flow: which block runs next. Handles `sub`/`endsub`/`return`/`call`
//! (arguments in local parameters #1..#30), `while`/`endwhile` and `if`/`elseif`/`else`/`endif`.
//! Matching statements are paired once up front; a statement without its partner is an error
//! when it runs.

use super::error::Fault;
use super::expr::Params;
use super::program::{OStatement, OWord, Program};
use std::collections::HashMap;

/// Local parameters of a subroutine call.
const LOCALS: u32 = 30;
/// Deepest call nesting before the program is taken to recurse without end.
const MAX_DEPTH: usize = 100;
/// Most loop iterations in one program before it is taken to loop forever.
const MAX_ITERATIONS: u64 = 10_000_000;

struct Frame {
    return_to: usize,
    saved: Vec<f64>,
}

pub(crate) struct Flow {
    next: usize,
    len: usize,
    /// `o<n> sub` block index by number.
    subs: HashMap<u32, usize>,
    /// sub → endsub, while ↔ endwhile.
    partner: HashMap<usize, usize>,
    /// if/elseif/else → the following branch statement (elseif, else or endif).
    next_branch: HashMap<usize, usize>,
    /// if/elseif/else → its endif.
    endif: HashMap<usize, usize>,
    stack: Vec<Frame>,
    iterations: u64,
}

impl Flow {
    pub fn new(program: &Program) -> Self {
        let mut f = Flow {
            next: 0,
            len: program.blocks.len(),
            subs: HashMap::new(),
            partner: HashMap::new(),
            next_branch: HashMap::new(),
            endif: HashMap::new(),
            stack: Vec::new(),
            iterations: 0,
        };
        // Open statements: (number, index, branch chain for ifs).
        let mut open: Vec<(u32, usize, Vec<usize>)> = Vec::new();
        for (i, b) in program.blocks.iter().enumerate() {
            let Some(o) = &b.o_word else { continue };
            let top_is =
                |open: &Vec<(u32, usize, Vec<usize>)>| open.last().is_some_and(|t| t.0 == o.number);
            match o.statement {
                OStatement::Sub => {
                    f.subs.insert(o.number, i);
                    open.push((o.number, i, vec![]));
                }
                OStatement::While(_) | OStatement::If(_) => open.push((o.number, i, vec![i])),
                OStatement::EndSub | OStatement::EndWhile if top_is(&open) => {
                    let (_, start, _) = open.pop().expect("checked");
                    f.partner.insert(start, i);
                    f.partner.insert(i, start);
                }
                OStatement::ElseIf(_) | OStatement::Else if top_is(&open) => {
                    open.last_mut().expect("checked").2.push(i);
                }
                OStatement::EndIf if top_is(&open) => {
                    let (_, _, mut chain) = open.pop().expect("checked");
                    chain.push(i);
                    for pair in chain.windows(2) {
                        f.next_branch.insert(pair[0], pair[1]);
                        f.endif.insert(pair[0], i);
                    }
                }
                _ => {}
            }
        }
        f
    }

    /// Index of the next block to run, `None` at the end of the text.
    pub fn next_block(&mut self) -> Option<usize> {
        (self.next < self.len).then(|| {
            self.next += 1;
            self.next - 1
        })
    }

    fn partner_of(&self, i: usize, o: &OWord, what: &str) -> Result<usize, Fault> {
        self.partner
            .get(&i)
            .copied()
            .ok_or_else(|| Fault::at(o.column, format!("o{} {what}", o.number)))
    }

    /// Runs the O-word statement of block `i`.
    pub fn o_word(
        &mut self,
        program: &Program,
        i: usize,
        o: &OWord,
        params: &mut Params,
    ) -> Result<(), Fault> {
        let eval = |e: &super::expr::Expr, p: &Params| {
            e.eval(p).map_err(|m| Fault::at(o.column, m.to_string()))
        };
        match &o.statement {
            // A definition met in the normal flow is skipped.
            OStatement::Sub => self.next = self.partner_of(i, o, "sub has no matching endsub")? + 1,
            OStatement::EndSub | OStatement::Return => {
                let frame = self.stack.pop().ok_or_else(|| {
                    Fault::at(
                        o.column,
                        format!("o{} endsub/return outside a call", o.number),
                    )
                })?;
                for (k, v) in frame.saved.into_iter().enumerate() {
                    params.set(k as u32 + 1, v);
                }
                self.next = frame.return_to;
            }
            OStatement::Call(args) => {
                let &start = self.subs.get(&o.number).ok_or_else(|| {
                    Fault::at(o.column, format!("o{} call: no such sub", o.number))
                })?;
                if !self.partner.contains_key(&start) {
                    return Err(Fault::at(
                        o.column,
                        format!("o{} sub has no matching endsub", o.number),
                    ));
                }
                if self.stack.len() >= MAX_DEPTH {
                    return Err(Fault::at(o.column, "subroutine calls nested too deep"));
                }
                if args.len() > LOCALS as usize {
                    return Err(Fault::at(o.column, "more than 30 call arguments"));
                }
                let values = args
                    .iter()
                    .map(|a| eval(a, params))
                    .collect::<Result<Vec<_>, _>>()?;
                let saved = (1..=LOCALS).map(|k| params.get(k)).collect();
                for k in 1..=LOCALS {
                    params.set(k, values.get(k as usize - 1).copied().unwrap_or(0.0));
                }
                self.stack.push(Frame {
                    return_to: self.next,
                    saved,
                });
                self.next = start + 1;
            }
            OStatement::While(cond) => {
                let end = self.partner_of(i, o, "while has no matching endwhile")?;
                self.iterations += 1;
                if self.iterations > MAX_ITERATIONS {
                    return Err(Fault::at(o.column, "loop does not terminate"));
                }
                if eval(cond, params)? == 0.0 {
                    self.next = end + 1;
                }
            }
            OStatement::EndWhile => self.next = self.partner_of(i, o, "endwhile without while")?,
            OStatement::If(cond) => {
                if eval(cond, params)? == 0.0 {
                    self.take_branch(program, i, o, params)?;
                }
            }
            // Reached by finishing the branch before: skip to after endif.
            OStatement::ElseIf(_) | OStatement::Else => {
                let end = self.endif.get(&i).copied();
                self.next = end
                    .ok_or_else(|| Fault::at(o.column, format!("o{} has no endif", o.number)))?
                    + 1;
            }
            OStatement::EndIf => {}
        }
        Ok(())
    }

    /// After a false `if`/`elseif` at `i`: continue at the first later branch that applies.
    fn take_branch(
        &mut self,
        program: &Program,
        mut i: usize,
        o: &OWord,
        params: &Params,
    ) -> Result<(), Fault> {
        loop {
            let nb = *self
                .next_branch
                .get(&i)
                .ok_or_else(|| Fault::at(o.column, format!("o{} if has no endif", o.number)))?;
            self.next = nb + 1;
            match program.blocks[nb].o_word.as_ref().map(|w| &w.statement) {
                Some(OStatement::ElseIf(c)) => {
                    if c.eval(params)
                        .map_err(|m| Fault::at(o.column, m.to_string()))?
                        != 0.0
                    {
                        return Ok(());
                    }
                    i = nb;
                }
                _ => return Ok(()),
            }
        }
    }
}
