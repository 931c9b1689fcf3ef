//! Makespan minimisation for the (flexible) job shop: a seeded, deterministic tabu search on the
//! disjunctive graph.
//!
//! # Method
//! - **Representation**: per operation the chosen machine option, per machine the order of its
//!   operations. The schedule is the semi-active one these imply: every operation starts at its
//!   *head* (longest path from the source in the disjunctive graph).
//! - **Evaluation**, O(n) per applied move: the changed machines' links are rebuilt, then one
//!   Kahn topological pass over the graph (job arcs and machine orders, each operation with at
//!   most two predecessors and two successors) gives the heads and a cycle check, and a backward
//!   pass the *tails* (longest path from an operation's end to the sink). Recomputing only what
//!   lies downstream (heads) and upstream (tails) of the changed arcs was tried and was slower on
//!   ta41 (30×20): a move on a critical block reaches about half the graph each way, and the
//!   restricted passes cost more per operation than these two linear sweeps.
//! - **Start**: a Giffler–Thompson active schedule with the most-work-remaining rule (for FJSP the
//!   machine that ends the operation first).
//! - **Neighbourhood** ("N7", Zhang et al. 2007, extending Nowicki & Smutnicki's N5 and Balas &
//!   Vazacopoulos's N6): one critical path is split into *blocks*, runs of operations adjacent on
//!   one machine. In each block an inner operation moves to the block's start or end, the first
//!   operation behind any other, the last before any other; only moves that change the block's
//!   first operation (not in the first block) or its last (not in the last block) are kept, as
//!   no other can shorten the path. A move is kept only when the heads and tails prove it
//!   acyclic (Balas & Vazacopoulos 1998); for an adjacent swap on the path that always holds.
//!   For FJSP also every critical operation moved to another eligible machine, at the best
//!   position among those the heads prove acyclic (the window of Mastrolilli & Gambardella 2000).
//! - **Move choice**: each move is scored by the longest path through the operations it moves,
//!   from the current heads and tails (O(1) for a swap, O(block) for a shift, O(positions) for a
//!   reassignment: the estimates of Taillard 1994 and TSAB); the best admissible move is applied,
//!   then the graph is evaluated exactly (and a move that would after all close a cycle, only
//!   possible with zero processing times, is undone). Tabu: restoring an order of two
//!   operations that a move reversed, or returning an operation to the machine it left, for a
//!   tenure drawn from [L, 1.4–1.5 L], L = 10 + jobs / machines (Zhang et al. 2007); a shift is
//!   tabu when every order it restores is. Aspiration: a tabu move is allowed when its estimate
//!   beats the best makespan found. When every move is tabu, a random one is taken.
//!   The tabu list is an n × n table of iteration stamps, so memory grows as the square of the
//!   operation count (32 MB at 2000 operations, Taillard's largest).
//! - **Diversification**: after 3000 iterations without a new best, the search restarts from
//!   the best solution perturbed by a few random swaps of adjacent critical operations (and
//!   reassignments).
//! - **Stop**: the iteration budget, an optional wall-clock deadline, or a lower bound reached.
//!
//! All randomness comes from one ChaCha8 stream seeded by [`TabuParams::seed`], and ties are
//! broken through it in a fixed order, so the same seed and the same iteration budget (with no
//! deadline) give the same schedule on any machine.

use std::time::Instant;

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::instance::{Instance, Time};
use super::timetable::{Schedule, ScheduledOp};

/// "No operation" in the predecessor and successor arrays.
const NONE: usize = usize::MAX;

/// Iterations without a new best before the search restarts from the best, perturbed.
const STALL_ITERATIONS: u64 = 3000;

/// How long and how the search runs.
#[derive(Debug, Clone)]
pub struct TabuParams {
    /// Seed of the search's only random stream.
    pub seed: u64,
    /// Iterations (applied moves) at most. With no deadline, the same seed and budget give the
    /// same schedule.
    pub iterations: u64,
    /// Wall-clock stop, for benchmarks (makes the result depend on the machine's speed).
    pub deadline: Option<Instant>,
}

/// What the search found.
#[derive(Debug, Clone)]
pub struct Solution {
    /// The best schedule found.
    pub schedule: Schedule,
    /// Its makespan.
    pub makespan: Time,
    /// Makespan of the greedy start.
    pub initial_makespan: Time,
    /// Iterations run (fewer than the budget when the deadline or the lower bound stopped it).
    pub iterations: u64,
    /// The simple lower bound the search stops at (job lengths, machine loads).
    pub lower_bound: Time,
}

/// The instance flattened: operation `i` of the search is the `i`-th in job order.
struct Shop {
    machines: usize,
    /// (job, operation within the job) of each operation.
    id: Vec<(usize, usize)>,
    job_pred: Vec<usize>,
    job_succ: Vec<usize>,
    /// Options of operation `i` are `opt_begin[i]..opt_begin[i + 1]` in `opt_machine`/`opt_dur`.
    opt_begin: Vec<usize>,
    opt_machine: Vec<usize>,
    opt_dur: Vec<Time>,
    /// Shortest remaining work of the job from operation `i` on (for the greedy rule).
    rest: Vec<Time>,
    /// Each job's first operation (where every longest path starts) and last (where it ends).
    first_ops: Vec<usize>,
    last_ops: Vec<usize>,
    lower_bound: Time,
    /// Tenure range [min, max].
    tenure: (u64, u64),
}

impl Shop {
    fn new(instance: &Instance) -> Self {
        let n = instance.operation_count();
        let mut shop = Shop {
            machines: instance.machines,
            id: Vec::with_capacity(n),
            job_pred: Vec::with_capacity(n),
            job_succ: Vec::with_capacity(n),
            opt_begin: vec![0],
            opt_machine: Vec::new(),
            opt_dur: Vec::new(),
            rest: vec![0; n],
            first_ops: Vec::new(),
            last_ops: Vec::new(),
            lower_bound: 0,
            tenure: (0, 0),
        };
        let mut fixed_load = vec![0; instance.machines];
        let mut total_min = 0;
        for (j, job) in instance.jobs.iter().enumerate() {
            let first = shop.id.len();
            for (o, op) in job.operations.iter().enumerate() {
                let i = shop.id.len();
                shop.id.push((j, o));
                shop.job_pred.push(if o == 0 { NONE } else { i - 1 });
                shop.job_succ.push(if o + 1 == job.operations.len() {
                    NONE
                } else {
                    i + 1
                });
                for opt in &op.options {
                    shop.opt_machine.push(opt.machine);
                    shop.opt_dur.push(opt.duration);
                }
                shop.opt_begin.push(shop.opt_machine.len());
                if let [only] = op.options.as_slice() {
                    fixed_load[only.machine] += only.duration;
                }
            }
            if shop.id.len() > first {
                shop.first_ops.push(first);
                shop.last_ops.push(shop.id.len() - 1);
            }
            let mut rest = 0;
            for i in (first..shop.id.len()).rev() {
                rest += shop.min_dur(i);
                shop.rest[i] = rest;
            }
            total_min += rest;
            shop.lower_bound = shop.lower_bound.max(rest);
        }
        let machines = instance.machines.max(1) as Time;
        shop.lower_bound = shop
            .lower_bound
            .max((total_min + machines - 1) / machines)
            .max(fixed_load.into_iter().max().unwrap_or(0));
        let jobs = instance.jobs.len() as u64;
        let lmin = 10 + jobs / instance.machines.max(1) as u64;
        let lmax = if jobs <= 2 * instance.machines as u64 {
            lmin * 14 / 10
        } else {
            lmin * 15 / 10
        };
        shop.tenure = (lmin, lmax);
        shop
    }

    fn n(&self) -> usize {
        self.id.len()
    }

    fn options(&self, i: usize) -> std::ops::Range<usize> {
        self.opt_begin[i]..self.opt_begin[i + 1]
    }

    fn min_dur(&self, i: usize) -> Time {
        self.options(i).map(|o| self.opt_dur[o]).min().unwrap_or(0)
    }
}

/// A solution: the chosen option per operation and the order on each machine.
#[derive(Clone)]
struct Plan {
    opt: Vec<usize>,
    seq: Vec<Vec<usize>>,
}

/// What a plan implies, recomputed by [`Graph::evaluate`].
struct Graph {
    machine: Vec<usize>,
    p: Vec<Time>,
    mpred: Vec<usize>,
    msucc: Vec<usize>,
    pos: Vec<usize>,
    head: Vec<Time>,
    tail: Vec<Time>,
    makespan: Time,
    indeg: Vec<u8>,
    order: Vec<usize>,
}

impl Graph {
    fn new(n: usize) -> Self {
        Graph {
            machine: vec![0; n],
            p: vec![0; n],
            mpred: vec![NONE; n],
            msucc: vec![NONE; n],
            pos: vec![0; n],
            head: vec![0; n],
            tail: vec![0; n],
            makespan: 0,
            indeg: vec![0; n],
            order: Vec::with_capacity(n),
        }
    }

    /// Heads, tails and makespan of `plan`; false if its graph has a cycle (then the rest of
    /// the graph is stale).
    fn evaluate(&mut self, shop: &Shop, plan: &Plan) -> bool {
        for m in 0..plan.seq.len() {
            self.link(shop, plan, m);
        }
        self.longest_paths(shop)
    }

    /// The same after `plan` changed only on `machines` (their orders and their operations'
    /// options): only their links are rebuilt.
    fn reevaluate(&mut self, shop: &Shop, plan: &Plan, machines: &[usize]) -> bool {
        for &m in machines {
            self.link(shop, plan, m);
        }
        self.longest_paths(shop)
    }

    /// Machine, position, processing time and machine neighbours of machine `m`'s operations.
    fn link(&mut self, shop: &Shop, plan: &Plan, m: usize) {
        let seq = &plan.seq[m];
        for (k, &i) in seq.iter().enumerate() {
            self.machine[i] = m;
            self.pos[i] = k;
            self.p[i] = shop.opt_dur[plan.opt[i]];
            self.mpred[i] = if k == 0 { NONE } else { seq[k - 1] };
            self.msucc[i] = seq.get(k + 1).copied().unwrap_or(NONE);
        }
    }

    /// Heads in a topological order (Kahn), tails in the reverse order, makespan; false on a
    /// cycle.
    fn longest_paths(&mut self, shop: &Shop) -> bool {
        self.order.clear();
        for i in 0..shop.n() {
            self.indeg[i] = u8::from(shop.job_pred[i] != NONE) + u8::from(self.mpred[i] != NONE);
            if self.indeg[i] == 0 {
                self.order.push(i);
            }
        }
        let mut next = 0;
        while next < self.order.len() {
            let i = self.order[next];
            next += 1;
            self.head[i] = self.end(shop.job_pred[i]).max(self.end(self.mpred[i]));
            for s in [shop.job_succ[i], self.msucc[i]] {
                if s != NONE {
                    self.indeg[s] -= 1;
                    if self.indeg[s] == 0 {
                        self.order.push(s);
                    }
                }
            }
        }
        if self.order.len() < shop.n() {
            return false;
        }
        for k in (0..self.order.len()).rev() {
            let i = self.order[k];
            self.tail[i] = self
                .to_sink(shop.job_succ[i])
                .max(self.to_sink(self.msucc[i]));
        }
        // Every longest path ends at a job's last operation.
        self.makespan = shop
            .last_ops
            .iter()
            .map(|&i| self.end(i))
            .max()
            .unwrap_or(0);
        true
    }

    /// End of `i` (0 for none): the release it gives its successors.
    fn end(&self, i: usize) -> Time {
        if i == NONE {
            0
        } else {
            self.head[i] + self.p[i]
        }
    }

    /// Longest path from the start of `i` to the sink (0 for none): the tail it gives its
    /// predecessors.
    fn to_sink(&self, i: usize) -> Time {
        if i == NONE {
            0
        } else {
            self.p[i] + self.tail[i]
        }
    }

    /// One critical path, as (operation, reached from the previous one by a machine arc). Ties
    /// between a job and a machine successor are broken by `rng`.
    fn critical_path(&self, shop: &Shop, rng: &mut ChaCha8Rng) -> Vec<(usize, bool)> {
        let critical = |i: usize| self.head[i] + self.p[i] + self.tail[i] == self.makespan;
        // Every longest path can start at a source, the first operation of a job.
        let sources = &shop.first_ops;
        if sources.is_empty() {
            return Vec::new();
        }
        let offset = pick(rng, sources.len());
        let Some(mut i) = (0..sources.len())
            .map(|k| sources[(k + offset) % sources.len()])
            .find(|&i| self.head[i] == 0 && critical(i))
        else {
            return Vec::new();
        };
        let mut path = vec![(i, false)];
        loop {
            // A successor on a longest path from `i` is critical too.
            let on_path = |s: usize| s != NONE && self.p[s] + self.tail[s] == self.tail[i];
            let (js, ms) = (shop.job_succ[i], self.msucc[i]);
            let next = match (on_path(js), on_path(ms)) {
                (true, true) if rng.next_u32() & 1 == 0 => (js, false),
                (_, true) => (ms, true),
                (true, false) => (js, false),
                (false, false) => return path,
            };
            path.push(next);
            i = next.0;
        }
    }
}

/// A change to a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Move {
    /// Move the operation at position `from` of `machine`'s order to position `to`, those in
    /// between shifting by one (a swap when they are adjacent).
    Shift {
        machine: usize,
        from: usize,
        to: usize,
    },
    /// Move `op` to option `to` (another machine), inserted before position `at` there.
    Reassign { op: usize, to: usize, at: usize },
}

/// How to undo an applied move.
enum Undo {
    Shift {
        machine: usize,
        from: usize,
        to: usize,
    },
    Reassign {
        op: usize,
        from: usize,
        from_pos: usize,
        to_machine: usize,
        at: usize,
    },
}

/// The search state.
struct Search<'a> {
    shop: &'a Shop,
    plan: Plan,
    graph: Graph,
    rng: ChaCha8Rng,
    iteration: u64,
    /// `tabu_arc[u * n + v]`: until which iteration `u` may not be put right before `v` again.
    tabu_arc: Vec<u64>,
    /// `tabu_opt[o]`: until which iteration an operation may not move to option `o`.
    tabu_opt: Vec<u64>,
    moves: Vec<(Move, Time)>,
    /// Scratch: a block's order after a shift, and its heads.
    segment: Vec<usize>,
    heads: Vec<Time>,
}

impl<'a> Search<'a> {
    /// The Giffler–Thompson start: repeatedly take the machine on which some ready operation
    /// would end first, and among the ready operations that could start there before that end,
    /// the one whose job has the most work left; it goes to its machine that ends it first.
    fn greedy(shop: &Shop, rng: &mut ChaCha8Rng) -> Plan {
        let n = shop.n();
        let mut plan = Plan {
            opt: vec![0; n],
            seq: vec![Vec::new(); shop.machines],
        };
        let mut next: Vec<usize> = (0..n).filter(|&i| shop.job_pred[i] == NONE).collect();
        let mut job_ready = vec![0; next.len()];
        let mut mach_ready = vec![0; shop.machines];
        let mut candidates = Vec::new();
        for _ in 0..n {
            let (mut best_end, mut best_machine, mut best_job) = (Time::MAX, 0, 0);
            for (j, &i) in next.iter().enumerate() {
                if i == NONE {
                    continue;
                }
                for o in shop.options(i) {
                    let m = shop.opt_machine[o];
                    let end = job_ready[j].max(mach_ready[m]) + shop.opt_dur[o];
                    if end < best_end {
                        (best_end, best_machine, best_job) = (end, m, j);
                    }
                }
            }
            candidates.clear();
            for (j, &i) in next.iter().enumerate() {
                if i != NONE
                    && shop.options(i).any(|o| shop.opt_machine[o] == best_machine)
                    && (job_ready[j].max(mach_ready[best_machine]) < best_end || j == best_job)
                {
                    candidates.push(j);
                }
            }
            let most = candidates
                .iter()
                .map(|&j| shop.rest[next[j]])
                .max()
                .unwrap_or(0);
            candidates.retain(|&j| shop.rest[next[j]] == most);
            let j = candidates[pick(rng, candidates.len())];
            let i = next[j];
            let o = shop
                .options(i)
                .min_by_key(|&o| {
                    let m = shop.opt_machine[o];
                    (
                        job_ready[j].max(mach_ready[m]) + shop.opt_dur[o],
                        m != best_machine,
                    )
                })
                .unwrap_or(shop.opt_begin[i]);
            let m = shop.opt_machine[o];
            let end = job_ready[j].max(mach_ready[m]) + shop.opt_dur[o];
            (job_ready[j], mach_ready[m]) = (end, end);
            plan.opt[i] = o;
            plan.seq[m].push(i);
            next[j] = shop.job_succ[i];
        }
        plan
    }

    /// The candidate moves of the current plan with their estimates, into `self.moves`.
    /// `all_pairs` takes every adjacent critical pair (for perturbation) instead of N7's moves.
    fn neighbours(&mut self, all_pairs: bool) {
        self.moves.clear();
        let path = self.graph.critical_path(self.shop, &mut self.rng);
        let g = &self.graph;
        let shop = self.shop;
        // Blocks: maximal runs of the path joined by machine arcs.
        let mut blocks: Vec<&[(usize, bool)]> = Vec::new();
        let mut start = 0;
        for k in 1..=path.len() {
            if k == path.len() || !path[k].1 {
                blocks.push(&path[start..k]);
                start = k;
            }
        }
        let last = blocks.len().saturating_sub(1);
        let mut shifts: Vec<(usize, usize)> = Vec::new();
        for (b, block) in blocks.iter().enumerate() {
            let k = block.len() - 1;
            if k == 0 {
                continue;
            }
            let machine = g.machine[block[0].0];
            let first = g.pos[block[0].0];
            shifts.clear();
            if all_pairs {
                shifts.extend((first..first + k).map(|at| (at, at + 1)));
            } else {
                // N7 (Zhang et al. 2007): an inner operation to the block's start or end, the
                // first operation behind any other, the last before any other. Only a move that
                // changes the block's first operation (not in the first block) or its last (not in
                // the last block) can shorten the path: the block's length does not change.
                let end = first + k;
                for i in first + 1..end {
                    shifts.push((i, first));
                    shifts.push((i, end));
                }
                for i in first + 1..=end {
                    shifts.push((first, i));
                }
                for i in first..end {
                    shifts.push((end, i));
                }
                let changes_first = b != 0;
                let changes_last = b != last;
                shifts.retain(|&(from, to)| {
                    (changes_first && (from == first || to == first))
                        || (changes_last && (from == end || to == end))
                });
                // A swap is listed both ways: keep it as (earlier, later).
                shifts.retain(|&(from, to)| from != to + 1);
                shifts.sort_unstable();
                shifts.dedup();
            }
            for &(from, to) in &shifts {
                if let Some(est) = shift_estimate(
                    shop,
                    g,
                    &self.plan.seq[machine],
                    from,
                    to,
                    &mut self.segment,
                    &mut self.heads,
                ) {
                    self.moves.push((Move::Shift { machine, from, to }, est));
                }
            }
        }
        for &(v, _) in &path {
            for to in shop.options(v) {
                let m = shop.opt_machine[to];
                if m == g.machine[v] {
                    continue;
                }
                if let Some((at, est)) = insertion(shop, g, &self.plan.seq[m], v, shop.opt_dur[to])
                {
                    self.moves.push((Move::Reassign { op: v, to, at }, est));
                }
            }
        }
    }

    fn is_tabu(&self, mv: Move) -> bool {
        let n = self.shop.n();
        match mv {
            // Tabu if every order it puts back was reversed by a recent move.
            Move::Shift { machine, from, to } => {
                let seq = &self.plan.seq[machine];
                let u = seq[from];
                if from < to {
                    seq[from + 1..=to]
                        .iter()
                        .all(|&x| self.tabu_arc[x * n + u] > self.iteration)
                } else {
                    seq[to..from]
                        .iter()
                        .all(|&x| self.tabu_arc[u * n + x] > self.iteration)
                }
            }
            Move::Reassign { to, .. } => self.tabu_opt[to] > self.iteration,
        }
    }

    fn apply(&mut self, mv: Move) -> Undo {
        match mv {
            Move::Shift { machine, from, to } => {
                let seq = &mut self.plan.seq[machine];
                let op = seq.remove(from);
                seq.insert(to, op);
                Undo::Shift {
                    machine,
                    from: to,
                    to: from,
                }
            }
            Move::Reassign { op, to, at } => {
                let (from, from_pos) = (self.plan.opt[op], self.graph.pos[op]);
                let to_machine = self.shop.opt_machine[to];
                self.plan.seq[self.graph.machine[op]].remove(from_pos);
                self.plan.seq[to_machine].insert(at, op);
                self.plan.opt[op] = to;
                Undo::Reassign {
                    op,
                    from,
                    from_pos,
                    to_machine,
                    at,
                }
            }
        }
    }

    fn undo(&mut self, undo: Undo) {
        match undo {
            Undo::Shift { machine, from, to } => {
                let seq = &mut self.plan.seq[machine];
                let op = seq.remove(from);
                seq.insert(to, op);
            }
            Undo::Reassign {
                op,
                from,
                from_pos,
                to_machine,
                at,
            } => {
                self.plan.seq[to_machine].remove(at);
                self.plan.seq[self.shop.opt_machine[from]].insert(from_pos, op);
                self.plan.opt[op] = from;
            }
        }
    }

    /// Applies `mv` and re-evaluates; on a cycle, undoes it and returns false.
    fn try_move(&mut self, mv: Move) -> bool {
        let undo = self.apply(mv);
        // The machines whose orders changed (a shift's one twice: relinking is idempotent).
        let machines = match undo {
            Undo::Shift { machine, .. } => [machine, machine],
            Undo::Reassign {
                from, to_machine, ..
            } => [self.shop.opt_machine[from], to_machine],
        };
        if self.graph.reevaluate(self.shop, &self.plan, &machines) {
            if cfg!(test) {
                // Relinking only the changed machines agrees with a full evaluation.
                let mut full = Graph::new(self.shop.n());
                assert!(full.evaluate(self.shop, &self.plan));
                assert_eq!(
                    (&full.head, &full.tail),
                    (&self.graph.head, &self.graph.tail)
                );
                assert_eq!(full.makespan, self.graph.makespan);
            }
            return true;
        }
        self.undo(undo);
        let ok = self.graph.evaluate(self.shop, &self.plan);
        debug_assert!(ok, "undoing a move restores an acyclic plan");
        false
    }

    fn tenure(&mut self) -> u64 {
        let (lo, hi) = self.shop.tenure;
        lo + self.rng.next_u64() % (hi - lo + 1)
    }

    /// Forbids undoing `mv`, about to be applied, for a tenure: restoring any order it reverses,
    /// or returning the operation to the option it leaves.
    fn make_tabu(&mut self, mv: Move) {
        let until = self.iteration + self.tenure();
        let n = self.shop.n();
        match mv {
            Move::Shift { machine, from, to } => {
                let seq = &self.plan.seq[machine];
                let u = seq[from];
                if from < to {
                    for &x in &seq[from + 1..=to] {
                        self.tabu_arc[u * n + x] = until;
                    }
                } else {
                    for &x in &seq[to..from] {
                        self.tabu_arc[x * n + u] = until;
                    }
                }
            }
            Move::Reassign { op, .. } => self.tabu_opt[self.plan.opt[op]] = until,
        }
    }

    /// One tabu step: the best admissible move by estimate, applied. False if there is no move.
    fn step(&mut self, best: Time) -> bool {
        self.neighbours(false);
        if self.moves.is_empty() {
            return false;
        }
        let mut chosen: Option<(Move, Time)> = None;
        let mut ties = 0;
        for k in 0..self.moves.len() {
            let (mv, est) = self.moves[k];
            if self.is_tabu(mv) && est >= best {
                continue;
            }
            match chosen {
                Some((_, e)) if est > e => {}
                Some((_, e)) if est == e => {
                    ties += 1;
                    if pick(&mut self.rng, ties + 1) == 0 {
                        chosen = Some((mv, est));
                    }
                }
                _ => {
                    chosen = Some((mv, est));
                    ties = 0;
                }
            }
        }
        let mv = match chosen {
            Some((mv, _)) => mv,
            None => self.moves[pick(&mut self.rng, self.moves.len())].0,
        };
        // Applied or refused (a cycle: only possible with zero processing times), the move is
        // made tabu: its undo if applied, else itself is not proposed again for a while.
        self.make_tabu(mv);
        self.try_move(mv);
        true
    }

    /// Restarts from `best` with a few random critical swaps and reassignments applied.
    fn perturb(&mut self, best: &Plan) {
        self.plan = best.clone();
        let ok = self.graph.evaluate(self.shop, &self.plan);
        debug_assert!(ok, "the best plan is acyclic");
        let kicks = 2 + pick(&mut self.rng, 4);
        for _ in 0..kicks {
            self.neighbours(true);
            if self.moves.is_empty() {
                return;
            }
            let mv = self.moves[pick(&mut self.rng, self.moves.len())].0;
            self.try_move(mv);
        }
    }
}

/// A uniform index below `len` (≥ 1) from the search's stream.
fn pick(rng: &mut ChaCha8Rng, len: usize) -> usize {
    (rng.next_u64() % len as u64) as usize
}

/// Longest path through the operations of `seq[from..=to]` (or `seq[to..=from]`) once the one
/// at `from` is moved to `to`, from the current heads and tails and in O(|from − to|); `None`
/// if the move may create a cycle. Acyclic for certain (Balas & Vazacopoulos 1998): moving `u`
/// behind `v` when `u`'s job successor has no longer path to the sink than `v`, moving `u` before
/// `v` when `u`'s job predecessor ends no later than `v`. Never across an operation of the
/// same job (FJSP: two operations of one job on one machine).
fn shift_estimate(
    shop: &Shop,
    g: &Graph,
    seq: &[usize],
    from: usize,
    to: usize,
    segment: &mut Vec<usize>,
    heads: &mut Vec<Time>,
) -> Option<Time> {
    let u = seq[from];
    let (lo, hi) = (from.min(to), from.max(to));
    segment.clear();
    if from < to {
        if g.to_sink(seq[to]) < g.to_sink(shop.job_succ[u]) {
            return None;
        }
        segment.extend_from_slice(&seq[from + 1..=to]);
        segment.push(u);
    } else {
        if g.end(seq[to]) < g.end(shop.job_pred[u]) {
            return None;
        }
        segment.push(u);
        segment.extend_from_slice(&seq[to..from]);
    }
    let job = shop.id[u].0;
    if segment.iter().any(|&x| x != u && shop.id[x].0 == job) {
        return None;
    }
    // Heads forward from the operation before the segment, tails backward from the one after.
    let mut release = if lo == 0 { 0 } else { g.end(seq[lo - 1]) };
    heads.clear();
    for &x in segment.iter() {
        let head = g.end(shop.job_pred[x]).max(release);
        heads.push(head);
        release = head + g.p[x];
    }
    let mut after = g.to_sink(seq.get(hi + 1).copied().unwrap_or(NONE));
    let mut longest = 0;
    for (h, &x) in heads.iter().zip(segment.iter()).rev() {
        let tail = g.to_sink(shop.job_succ[x]).max(after);
        longest = longest.max(h + g.p[x] + tail);
        after = g.p[x] + tail;
    }
    Some(longest)
}

/// The best position to insert `v` (taking `dur`) into machine order `seq`, and the longest
/// path through it there. Only positions the current heads prove acyclic are tried: every
/// operation before has a head below `v`'s end (so it is no successor of `v`), every one after
/// ends after `v`'s head (so it is no predecessor).
fn insertion(shop: &Shop, g: &Graph, seq: &[usize], v: usize, dur: Time) -> Option<(usize, Time)> {
    let lo = seq.partition_point(|&x| g.head[x] + g.p[x] <= g.head[v]);
    let hi = seq.partition_point(|&x| g.head[x] < g.head[v] + g.p[v]);
    let release = g.end(shop.job_pred[v]);
    let tail = g.to_sink(shop.job_succ[v]);
    if lo > hi {
        return None;
    }
    (lo..=hi)
        .map(|at| {
            let before = if at == 0 { NONE } else { seq[at - 1] };
            let after = seq.get(at).copied().unwrap_or(NONE);
            (
                at,
                release.max(g.end(before)) + dur + tail.max(g.to_sink(after)),
            )
        })
        .min_by_key(|&(at, est)| (est, at))
}

/// Minimises the makespan of `instance` by tabu search (see the module documentation).
pub fn solve(instance: &Instance, params: &TabuParams) -> Solution {
    let shop = Shop::new(instance);
    let n = shop.n();
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let plan = Search::greedy(&shop, &mut rng);
    let mut graph = Graph::new(n);
    let ok = graph.evaluate(&shop, &plan);
    debug_assert!(ok, "a dispatched schedule is acyclic");
    let mut search = Search {
        shop: &shop,
        plan,
        graph,
        rng,
        iteration: 0,
        tabu_arc: vec![0; n * n],
        tabu_opt: vec![0; shop.opt_dur.len()],
        moves: Vec::new(),
        segment: Vec::new(),
        heads: Vec::new(),
    };
    let initial_makespan = search.graph.makespan;
    let mut best = search.plan.clone();
    let mut best_makespan = initial_makespan;
    let mut last_improvement = 0;
    while search.iteration < params.iterations && best_makespan > shop.lower_bound {
        if search.iteration.is_multiple_of(64)
            && params.deadline.is_some_and(|d| Instant::now() >= d)
        {
            break;
        }
        search.iteration += 1;
        if search.iteration - last_improvement > STALL_ITERATIONS || !search.step(best_makespan) {
            search.perturb(&best);
            last_improvement = search.iteration;
        }
        if search.graph.makespan < best_makespan {
            best_makespan = search.graph.makespan;
            best = search.plan.clone();
            last_improvement = search.iteration;
        }
    }
    let iterations = search.iteration;
    let mut graph = search.graph;
    let ok = graph.evaluate(&shop, &best);
    debug_assert!(ok, "the best plan is acyclic");
    let mut jobs: Vec<Vec<ScheduledOp>> = instance
        .jobs
        .iter()
        .map(|j| Vec::with_capacity(j.operations.len()))
        .collect();
    for (i, &(j, _)) in shop.id.iter().enumerate() {
        let start = graph.head[i];
        jobs[j].push(ScheduledOp {
            machine: graph.machine[i],
            start,
            end: start + graph.p[i],
        });
    }
    Solution {
        schedule: Schedule { jobs },
        makespan: graph.makespan,
        initial_makespan,
        iterations,
        lower_bound: shop.lower_bound,
    }
}

/// [`solve`] on `threads` threads, one search per seed `params.seed`, `params.seed + 1`, …; the
/// best makespan wins, the lowest seed on a tie, so the winner does not depend on which thread
/// finishes first. Returns the winning seed with its solution.
pub fn solve_portfolio(
    instance: &Instance,
    params: &TabuParams,
    threads: usize,
) -> (u64, Solution) {
    let seeds: Vec<u64> = (0..threads.max(1) as u64)
        .map(|k| params.seed.wrapping_add(k))
        .collect();
    let solutions: Vec<(u64, Solution)> = std::thread::scope(|scope| {
        let workers: Vec<_> = seeds
            .iter()
            .map(|&seed| {
                let params = TabuParams {
                    seed,
                    ..params.clone()
                };
                scope.spawn(move || (seed, solve(instance, &params)))
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a search thread panicked"))
            .collect()
    });
    solutions
        .into_iter()
        .min_by_key(|(seed, s)| (s.makespan, *seed))
        .expect("at least one search")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::instance::tests::{best_known, data};
    use crate::schedule::instance::{parse_fjsp, parse_jssp};
    use crate::schedule::timetable::check;

    fn run(instance: &Instance, seed: u64, iterations: u64) -> Solution {
        let started = Instant::now();
        let s = solve(
            instance,
            &TabuParams {
                seed,
                iterations,
                deadline: None,
            },
        );
        check(instance, &s.schedule).unwrap();
        assert_eq!(s.schedule.makespan(), s.makespan);
        assert!(s.makespan <= s.initial_makespan && s.makespan >= s.lower_bound);
        println!(
            "makespan {} (greedy {}, lower bound {}) in {} iterations, {:.3} s",
            s.makespan,
            s.initial_makespan,
            s.lower_bound,
            s.iterations,
            started.elapsed().as_secs_f64()
        );
        s
    }

    #[test]
    fn ft06_reaches_the_optimum() {
        let ft06 = parse_jssp(data!("instances/ft06.txt")).unwrap();
        let s = run(&ft06, 1, 5_000);
        assert_eq!(s.makespan, best_known(data!("bounds.csv"), "ft06"));
    }

    #[test]
    fn la01_within_two_percent() {
        let la01 = parse_jssp(data!("instances/la01.txt")).unwrap();
        let best = best_known(data!("bounds.csv"), "la01");
        let s = run(&la01, 1, 5_000);
        assert!(
            s.makespan * 100 <= best * 102,
            "la01: {} vs {best}",
            s.makespan
        );
    }

    #[test]
    fn ft10_within_five_percent() {
        let ft10 = parse_jssp(data!("instances/ft10.txt")).unwrap();
        let best = best_known(data!("bounds.csv"), "ft10");
        let s = run(&ft10, 1, 20_000);
        assert!(
            s.makespan * 100 <= best * 105,
            "ft10: {} vs {best}",
            s.makespan
        );
    }

    #[test]
    fn mk01_within_two_of_best_known() {
        let mk01 = parse_fjsp(data!("fjsp-brandimarte/mk01.txt")).unwrap();
        let best = best_known(data!("fjsp-brandimarte/bounds.csv"), "mk01");
        let s = run(&mk01, 1, 5_000);
        assert!(s.makespan <= best + 2, "mk01: {} vs {best}", s.makespan);
    }

    #[test]
    fn same_seed_same_schedule() {
        let mk01 = parse_fjsp(data!("fjsp-brandimarte/mk01.txt")).unwrap();
        let params = TabuParams {
            seed: 7,
            iterations: 1_000,
            deadline: None,
        };
        assert_eq!(
            solve(&mk01, &params).schedule,
            solve(&mk01, &params).schedule
        );
        let la01 = parse_jssp(data!("instances/la01.txt")).unwrap();
        let params = TabuParams {
            seed: 7,
            iterations: 1_000,
            deadline: None,
        };
        assert_eq!(
            solve(&la01, &params).schedule,
            solve(&la01, &params).schedule
        );
    }

    /// Small random flexible instances, zero processing times included (where a move can close
    /// a cycle and is undone): every result passes the checker and is reproducible.
    #[test]
    fn random_small_instances_give_valid_schedules() {
        use crate::schedule::instance::{Job, MachineOption, Operation};
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for case in 0..300 {
            let machines = 1 + pick(&mut rng, 4);
            let jobs = (0..1 + pick(&mut rng, 6))
                .map(|_| Job {
                    operations: (0..pick(&mut rng, 6))
                        .map(|_| {
                            let mut eligible: Vec<usize> = (0..machines).collect();
                            let k = 1 + pick(&mut rng, machines);
                            let options = (0..k)
                                .map(|_| MachineOption {
                                    machine: eligible.swap_remove(pick(&mut rng, eligible.len())),
                                    duration: pick(&mut rng, 10) as Time,
                                })
                                .collect();
                            Operation { options }
                        })
                        .collect(),
                })
                .collect();
            let instance = Instance { machines, jobs };
            let params = TabuParams {
                seed: case,
                iterations: 300,
                deadline: None,
            };
            let s = solve(&instance, &params);
            check(&instance, &s.schedule).unwrap_or_else(|v| panic!("case {case}: {v}"));
            assert_eq!(s.schedule.makespan(), s.makespan, "case {case}");
            assert!(s.makespan >= s.lower_bound, "case {case}");
            assert_eq!(
                solve(&instance, &params).schedule,
                s.schedule,
                "case {case}"
            );
        }
    }

    #[test]
    fn deadline_stops_the_search() {
        let ft10 = parse_jssp(data!("instances/ft10.txt")).unwrap();
        let s = solve(
            &ft10,
            &TabuParams {
                seed: 1,
                iterations: u64::MAX,
                deadline: Some(Instant::now()),
            },
        );
        check(&ft10, &s.schedule).unwrap();
        assert_eq!(s.iterations, 0);
    }
}
