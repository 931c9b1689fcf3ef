#!/usr/bin/env python3
"""OR-Tools CP-SAT peer of `aimm bench schedule` (issue 15): the third-party side of the benchmark.

`aimm bench schedule` runs this script as a subprocess, next to aimm's own solver, with the same
time limit and worker count, and re-checks and re-evaluates whatever it prints. It needs Python 3.9+
and `ortools` (`python3 -m pip install ortools`). Every run prints exactly one JSON line on stdout.
A run that finds no schedule still prints its line (status `INFEASIBLE`, `MODEL_INVALID` or
`UNKNOWN`, `operations` empty) and exits 0; bad input exits 2 with `FILE:LINE: reason` (or
`FILE: path: reason` for JSON) on stderr and nothing on stdout.

Jobs, operations and machines are numbered from 0 in file order in all inputs and outputs.

1. makespan --instance FILE --format jssp|fjsp --time-limit S --workers N [--seed K]
-------------------------------------------------------------------------------------
Input, text; blank lines and lines whose first non-blank character is `#` are skipped:
  jssp  OR-Library/Taillard: a header `jobs machines`, then one line per job of exactly
        `machines` pairs `machine duration` in processing order, machines from 0.
  fjsp  Brandimarte: a header `jobs machines [average flexibility]`, then one line per job:
        `n_ops`, then per operation `k` and `k` pairs `machine duration`, machines from 1.
Model: per operation a start and an end; per eligible machine an optional interval (start,
duration on that machine, end) with exactly one chosen; each job's operations in order
(end of one ≤ start of the next); AddNoOverlap over the intervals of each machine; minimise the
makespan (≥ the end of every job's last operation). An operation of duration 0 takes a 1-second
ghost interval in its machine's no-overlap, so it never sits strictly inside another operation.
Output:
  {"makespan": int, "status": "OPTIMAL"|"FEASIBLE"|"INFEASIBLE"|"MODEL_INVALID"|"UNKNOWN",
   "bound": int (CP-SAT's best lower bound on the makespan), "wall_s": float,
   "operations": [{"job", "op", "machine", "start", "end"}, ...]}
  (makespan and bound null, operations empty, when no schedule was found.)

2. energy --model FILE.json --time-limit S --workers N [--seed K]
------------------------------------------------------------------
Input, the cell's energy model as JSON (aimm writes it; times in whole seconds, powers in kW):
  {"machines": [{"rated_kw", "idle_kw", "standby_kw", "off_kw",
                 "wake_s", "wake_kw", "warmup_s", "warmup_kw"}, ...],
   "jobs": [{"due_s", "weight",
             "operations": [{"options": [{"machine", "duration_s", "cutting_kw"}, ...]}, ...]},
            ...],
   "tariff": [{"start_s", "end_s", "price_per_kwh"}, ...],
   "demand_per_kw": number, "cap_kw": number, "tardiness_limit": number or null}
  The tariff bands are contiguous from 0; the last band's end is the period, and the tariff
  repeats with it. `rated_kw` is informational here: each option carries its own `cutting_kw`.
  The machine states follow aimm's model: off ≤ standby ≤ idle; between two operations a machine
  idles, or goes to standby (waking up at `wake_kw` for `wake_s` before the next operation) or off
  (warming up at `warmup_kw` for `warmup_s`, then waking) once the gap reaches the break-even gap
  where that state uses strictly less energy; ready (idle) at 0, off after its last operation.
Model (integer seconds; power in watts; prices rounded to 1e-4 per kWh; weights to 1e-3):
  * intervals, precedence and no-overlap as for `makespan`;
  * the plant cap, conservatively: every machine is counted at idle all the time, and one
    AddCumulative holds what comes on top of that: each cutting interval with demand
    max(0, cutting − idle of its machine); before each operation that may follow a gap long enough
    for standby/off (or that starts late enough for one from time 0), its wake-up and warm-up
    windows with demand max(0, wake − idle) and max(0, warm-up − idle). An operation may skip
    those windows only if the model proves its gap short: some operation on the same machine ends
    within the break-even gap (minus 1 s of margin) before its start, or it starts before that
    gap. The capacity is a variable P ≤ cap − Σ idle, so any schedule the model accepts keeps
    aimm's cell power ≤ Σ idle + P ≤ cap whatever state aimm gives each gap. (If the wake-up and
    warm-up powers are ≤ idle, the windows vanish and this is the plain "all machines at idle"
    bound.) No other assumption is needed, but the bound is pessimistic: it may refuse schedules
    aimm's exact model accepts (e.g. it is infeasible when cap − Σ idle < a single excess).
  * energy cost, exactly as priced by the tariff where the states are cutting or idle: with
    F(t) = ∫₀ᵗ price, the cumulative price, each operation costs (cutting − idle)·(F(end) − F(start))
    and each machine idle_kw·(F(C_m) − F(S_m)), S_m and C_m the first start and the last end of its
    operations: every gap between a machine's first and last operation is priced as idle, the time
    before its first operation and after its last as free. Assumptions: that overestimates the
    gaps aimm spends in standby/off and underestimates a machine's idle or warm-up before its
    first operation; wake-up/warm-up energy is ignored. F is piecewise linear; it is encoded
    exactly, one literal per tariff band within the horizon (the multiple-choice formulation,
    whose LP relaxation is F's convex hull, plus cuts min price ≤ slope ≤ max price), instead of
    an AddElement table over every second (which CP-SAT expands value by value), so no time
    discretisation is needed: "time_step_s" is always 1.
  * demand charge: demand_per_kw × (Σ idle + P), P the cumulative capacity variable above, an
    upper bound on aimm's peak.
  * weighted tardiness T = Σ weight·max(0, end of last operation − due).
  * lexicographic objective: phase 1 minimises T (≤ tardiness_limit when given) on the model
    without its cost part, for half the time limit, or less when it proves T* early, from a
    hint: an EDD dispatch schedule built in Python under the same conservative cap model (given
    up to a quarter of the time limit; CP-SAT alone found poor first schedules on ft10's size,
    weighted tardiness 50k–140k where the hinted run proves 0); phase 2, on
    the full model, gets the rest of the time, keeps T ≤ tardiness_limit when given (aimm passes
    EDD's tardiness), else T ≤ T1 (phase 1's best, T* when proven), starts from phase 1's
    schedule (a hint) and minimises the cost above.
  * horizon: in phase 1, the latest due date + Σ over operations of (its longest option + the
    longest warm-up + wake-up of any machine) + the longest break-even gap: a one-at-a-time
    schedule always fits in it, even after every due date. In phase 2, where the tariff pieces
    live, max over jobs of (due + held tardiness / weight), the latest a job may end when the
    weighted tardiness is held (phase 1's schedule fits in it), and at most one tariff period
    after the end of phase 1's schedule (a restriction of the search, stated); "horizon_s" is
    phase 2's.
Output:
  {"status": phase 2's status (phase 1's if phase 2 did not run or found nothing),
   "wall_s": float, "phase1_s": float (wall time at the end of phase 1),
   "tardiness_s": float (Σ weight·max(0, completion − due) of the printed schedule),
   "cost_model": float (CP-SAT's objective, the model's cost of the schedule in money: energy +
                 demand, as above; null if phase 2 did not run),
   "cost_model_bound": float (CP-SAT's lower bound on it; null likewise),
   "time_step_s": 1, "tardiness_optimal": bool (phase 1 proved T*), "horizon_s": int,
   "operations": [{"job", "op", "machine", "start", "end"}, ...],
   "reason": str (only when the cap leaves no room above Σ idle)}
Limits, measured at 10 s × 2 workers on 2 loaded cores with ft06/ft10-style overlays: 36 and 100
operations fine (T* proven, cost improved from the hint); 200 operations: phase 2 barely moves
from phase 1's schedule; 750 operations (50 × 15): the hint takes ~6 s to build, so phase 1
starts without it and finds nothing (status UNKNOWN). The wake-up/warm-up proof pairs every two
operations of a machine, so the model grows with the square of the operations per machine.
"""

import argparse
import json
import math
import re
import sys
import time

from ortools.sat.python import cp_model

# ---------------------------------------------------------------------------------------------
# Text instances


class InputError(Exception):
    """Bad input: `where` is `FILE:LINE` or `FILE: json.path`; `reason` says what is wrong."""

    def __init__(self, where, reason):
        super().__init__(f"{where}: {reason}")


_INT = re.compile(r"[+-]?[0-9]+")
_COUNT = re.compile(r"\+?[0-9]+")
_FLOAT = re.compile(
    r"[+-]?(?:inf|infinity|nan|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)", re.IGNORECASE
)


def _lines(text):
    """All lines (without the end of line), numbered from 1, as a text editor counts them."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [(i + 1, line.rstrip("\r")) for i, line in enumerate(lines)]


def _numbers(path, no, line):
    """The whole numbers of a content line."""
    out = []
    for token in line.split():
        if not _INT.fullmatch(token) or not -(2**63) <= int(token) < 2**63:
            raise InputError(f"{path}:{no}", f"`{token}` is not a whole number")
        out.append(int(token))
    return out


def parse_instance(path, text, fmt):
    """Reads a JSSP or Brandimarte FJSP text into (machines, jobs); a job is a list of
    operations, an operation a list of (machine, duration) options, all 0-based."""
    all_lines = _lines(text)
    content = [(no, l.strip()) for no, l in all_lines if l.strip() and not l.strip().startswith("#")]
    if not content:
        raise InputError(f"{path}:{len(all_lines) + 1}", "no header line `jobs machines`")
    no, head = content[0]
    tokens = head.split()
    bad = InputError(f"{path}:{no}", f"header `{head}` is not `jobs machines` with both ≥ 1")
    if len(tokens) not in ((2,) if fmt == "jssp" else (2, 3)):
        raise bad
    if not all(_COUNT.fullmatch(t) and int(t) >= 1 for t in tokens[:2]):
        raise bad
    if len(tokens) == 3 and not _FLOAT.fullmatch(tokens[2]):
        raise bad
    n_jobs, machines = int(tokens[0]), int(tokens[1])
    last = no
    jobs = []
    for no, line in content[1:]:
        last = no
        where = f"{path}:{no}"
        if len(jobs) == n_jobs:
            raise InputError(where, f"header says {n_jobs} jobs, the file has {n_jobs + 1} job lines")
        nums = _numbers(path, no, line)
        parse_job = _jssp_job if fmt == "jssp" else _fjsp_job
        jobs.append(parse_job(where, nums, machines))
    if len(jobs) != n_jobs:
        raise InputError(
            f"{path}:{last + 1}", f"header says {n_jobs} jobs, the file has {len(jobs)} job lines"
        )
    return machines, jobs


def _option(where, m, base, d, machines):
    """One (machine, duration) option, the machine read with first number `base`."""
    if not 0 <= m - base < machines:
        raise InputError(where, f"machine {m} out of range for {machines} machines")
    if d < 0:
        raise InputError(where, f"negative processing time {d}")
    return (m - base, d)


def _jssp_job(where, nums, machines):
    expected = 2 * machines
    if len(nums) < expected:
        raise InputError(where, f"truncated job line: {len(nums)} numbers, at least {expected} needed")
    if len(nums) > expected:
        raise InputError(where, f"job line has {len(nums)} numbers, its operations use {expected}")
    return [[_option(where, nums[i], 0, nums[i + 1], machines)] for i in range(0, expected, 2)]


def _fjsp_job(where, nums, machines):
    at, need = 0, 1

    def take():
        nonlocal at
        if at >= len(nums):
            raise InputError(where, f"truncated job line: {len(nums)} numbers, at least {need} needed")
        at += 1
        return nums[at - 1]

    n_ops = take()
    if n_ops < 0:
        raise InputError(where, f"`{n_ops}` is not a whole number")
    operations = []
    for op in range(n_ops):
        need += 1
        k = take()
        if k <= 0:
            raise InputError(where, f"operation {op} has no eligible machine")
        need += 2 * k
        options = []
        for _ in range(k):
            m = take()
            d = take()
            option = _option(where, m, 1, d, machines)
            if any(o[0] == option[0] for o in options):
                raise InputError(where, f"operation {op} lists machine {m} twice")
            options.append(option)
        operations.append(options)
    if at < len(nums):
        raise InputError(where, f"job line has {len(nums)} numbers, its operations use {at}")
    return operations


# ---------------------------------------------------------------------------------------------
# The shared scheduling core: intervals, precedence, no-overlap


class Shop:
    """CP-SAT variables of a (flexible) job shop: per operation `start`, `end`, and per option
    (machine, duration, presence literal, interval)."""

    def __init__(self, model, jobs, horizon):
        self.model, self.jobs = model, jobs
        self.start, self.end, self.options = {}, {}, {}
        per_machine = {}
        for j, ops in enumerate(jobs):
            for o, opts in enumerate(ops):
                s = model.NewIntVar(0, horizon, f"s{j}_{o}")
                e = model.NewIntVar(0, horizon, f"e{j}_{o}")
                self.start[j, o], self.end[j, o] = s, e
                chosen = []
                for m, d in opts:
                    p = model.NewConstant(1) if len(opts) == 1 else model.NewBoolVar(f"p{j}_{o}_{m}")
                    iv = model.NewOptionalIntervalVar(s, d, e, p, f"i{j}_{o}_{m}")
                    chosen.append((m, d, p, iv))
                    # A 0-length operation must not sit strictly inside another: give it 1 s.
                    ghost = iv if d > 0 else model.NewOptionalFixedSizeIntervalVar(s, 1, p, "")
                    per_machine.setdefault(m, []).append(ghost)
                if len(opts) > 1:
                    model.AddExactlyOne(c[2] for c in chosen)
                self.options[j, o] = chosen
                if o > 0:
                    model.Add(s >= self.end[j, o - 1])
        for ivs in per_machine.values():
            model.AddNoOverlap(ivs)

    def operations(self, solver):
        """The solution as the output's operation list."""
        out = []
        for (j, o), opts in sorted(self.options.items()):
            m = next(m for m, _, p, _ in opts if solver.BooleanValue(p))
            out.append({"job": j, "op": o, "machine": m,
                        "start": solver.Value(self.start[j, o]), "end": solver.Value(self.end[j, o])})
        return out


def _solver(time_limit, workers, seed):
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, time_limit)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    return solver


def _found(status):
    return status in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def run_makespan(args):
    t0 = time.monotonic()
    try:
        with open(args.instance, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(args.instance, f"cannot read: {e}")
    _, jobs = parse_instance(args.instance, text, args.format)
    model = cp_model.CpModel()
    horizon = sum(max(d for _, d in opts) for ops in jobs for opts in ops)
    shop = Shop(model, jobs, horizon)
    makespan = model.NewIntVar(0, horizon, "makespan")
    for j, ops in enumerate(jobs):
        if ops:
            model.Add(makespan >= shop.end[j, len(ops) - 1])
    model.Minimize(makespan)
    solver = _solver(args.time_limit - (time.monotonic() - t0), args.workers, args.seed)
    status = solver.Solve(model)
    found = _found(status)
    return {
        "makespan": solver.Value(makespan) if found else None,
        "status": solver.StatusName(status),
        "bound": int(math.ceil(solver.BestObjectiveBound() - 1e-9)) if found else None,
        "wall_s": round(time.monotonic() - t0, 3),
        "operations": shop.operations(solver) if found else [],
    }


# ---------------------------------------------------------------------------------------------
# The energy model

PRICE_SCALE = 10_000  # price units per money unit per kWh
WEIGHT_SCALE = 1_000
# Objective units per unit of money: W → kW (1000), s → h (3600), the price scale.
MONEY = 1000 * 3600 * PRICE_SCALE


def _watts(kw):
    return int(round(kw * 1000))


def _first_below(slope, intercept, lo):
    """The smallest whole g ≥ lo with slope·g + intercept < 0 (slope ≤ 0), or None."""
    if slope >= 0:
        return lo if slope * lo + intercept < 0 else None
    return max(lo, math.floor(-intercept / slope) + 1)


def break_even(m):
    """(standby, off): the smallest gaps (s) from which standby, resp. off, use strictly less
    energy than the shallower states, wake-up and warm-up included; None: never."""
    w, u = m["wake_s"], m["warmup_s"]
    idle, sb, off = m["idle_kw"], m["standby_kw"], m["off_kw"]
    # Energy of a gap g (kW·s): idle·g; standby·(g − w) + wake·w; off·(g − w − u) + warmup·u + wake·w.
    standby_s = _first_below(sb - idle, w * (m["wake_kw"] - sb), w)
    vs_idle = _first_below(off - idle, u * (m["warmup_kw"] - off) + w * (m["wake_kw"] - off), w + u)
    vs_sb = _first_below(off - sb, u * (m["warmup_kw"] - off) + w * (sb - off), w + u)
    off_s = None if vs_idle is None or vs_sb is None else max(vs_idle, vs_sb)
    return standby_s, off_s


def _get(obj, key, where, kind, path):
    if not isinstance(obj, dict) or key not in obj:
        raise InputError(path, f"{where}: missing `{key}`")
    v = obj[key]
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
    if kind == "int" and ok and v != int(v):
        ok = False
    if not ok:
        what = "a whole number ≥ 0" if kind == "int" else "a finite number ≥ 0"
        raise InputError(path, f"{where}.{key} is {v!r}, must be {what}")
    return int(v) if kind == "int" else float(v)


def _list(obj, key, where, path):
    v = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(v, list):
        raise InputError(path, f"{where}: `{key}` must be a list")
    return v


def read_energy_model(path):
    """Reads and checks the JSON model; returns it with numbers normalised."""
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(path, f"cannot read: {e}")
    except json.JSONDecodeError as e:
        raise InputError(f"{path}:{e.lineno}", f"not JSON: {e.msg}")
    if not isinstance(raw, dict):
        raise InputError(path, "the model is not a JSON object")
    ints = ("wake_s", "warmup_s")
    machines = []
    for i, m in enumerate(_list(raw, "machines", "model", path)):
        keys = ("rated_kw", "idle_kw", "standby_kw", "off_kw",
                "wake_s", "wake_kw", "warmup_s", "warmup_kw")
        mm = {k: _get(m, k, f"machines[{i}]", "int" if k in ints else "num", path) for k in keys}
        if not mm["off_kw"] <= mm["standby_kw"] <= mm["idle_kw"]:
            raise InputError(path, f"machines[{i}]: powers must be off ≤ standby ≤ idle")
        machines.append(mm)
    if not machines:
        raise InputError(path, "no machines")
    jobs = []
    for j, job in enumerate(_list(raw, "jobs", "model", path)):
        where = f"jobs[{j}]"
        terms = {"due_s": _get(job, "due_s", where, "int", path),
                 "weight": _get(job, "weight", where, "num", path)}
        ops = []
        for o, op in enumerate(_list(job, "operations", where, path)):
            opts = []
            for k, opt in enumerate(_list(op, "options", f"{where}.operations[{o}]", path)):
                w = f"{where}.operations[{o}].options[{k}]"
                m = _get(opt, "machine", w, "int", path)
                if m >= len(machines):
                    raise InputError(path, f"{w}: unknown machine {m} ({len(machines)} machines)")
                if any(x["machine"] == m for x in opts):
                    raise InputError(path, f"{w}: machine {m} listed twice")
                opts.append({"machine": m, "duration_s": _get(opt, "duration_s", w, "int", path),
                             "cutting_kw": _get(opt, "cutting_kw", w, "num", path)})
            if not opts:
                raise InputError(path, f"{where}.operations[{o}]: no eligible machine")
            ops.append(opts)
        terms["operations"] = ops
        jobs.append(terms)
    if not jobs:
        raise InputError(path, "no jobs")
    tariff, previous = [], 0
    for b, band in enumerate(_list(raw, "tariff", "model", path)):
        w = f"tariff[{b}]"
        s, e = _get(band, "start_s", w, "int", path), _get(band, "end_s", w, "int", path)
        if s != previous:
            raise InputError(path, f"{w} starts at {s} s, the previous band ends at {previous} s")
        if e <= s:
            raise InputError(path, f"{w} is empty: [{s}, {e}) s")
        tariff.append((s, e, _get(band, "price_per_kwh", w, "num", path)))
        previous = e
    if not tariff:
        raise InputError(path, "the tariff has no bands")
    limit = raw.get("tardiness_limit")
    return {
        "machines": machines, "jobs": jobs, "tariff": tariff,
        "demand_per_kw": _get(raw, "demand_per_kw", "model", "num", path),
        "cap_kw": _get(raw, "cap_kw", "model", "num", path),
        "tardiness_limit": None if limit is None else _get(raw, "tardiness_limit", "model", "num", path),
    }


class Tariff:
    """The cumulative price F(t) = ∫₀ᵗ price (price units × s) as linear pieces up to a horizon."""

    def __init__(self, bands, horizon):
        period = bands[-1][1]
        self.pieces = []  # (from, to, F(from), price per s)
        self.encodings = []  # (time variable, F variable, piece literals, offsets), for hints
        f, base = 0, 0
        while base < horizon or not self.pieces:
            for s, e, price in bands:
                p = int(round(price * PRICE_SCALE))
                if base + s <= horizon:
                    self.pieces.append((base + s, base + e, f, p))
                f += p * (e - s)
            base += period

    def value(self, t):
        for a, b, fa, p in self.pieces:
            if a <= t <= b:
                return fa + p * (t - a)
        raise ValueError(t)

    def var(self, model, t, horizon, name):
        """A variable equal to F(t), exact. The multiple-choice formulation (one literal per
        piece, t = Σ start·literal + offset within the chosen piece) is linear, and its LP
        relaxation is the convex hull of F's graph: much tighter than one big-M per piece."""
        fv = model.NewIntVar(0, self.value(horizon), name)
        if len(self.pieces) == 1:
            a, _, fa, p = self.pieces[0]
            model.Add(fv == fa + p * (t - a))
            self.encodings.append((t, fv, [], []))
            return fv
        lits, offsets = [], []
        for i, (a, b, fa, p) in enumerate(self.pieces):
            lit = model.NewBoolVar(f"{name}_{i}")
            delta = model.NewIntVar(0, b - a, f"{name}_d{i}")
            model.Add(delta <= (b - a) * lit)
            lits.append(lit)
            offsets.append(delta)
        model.AddExactlyOne(lits)
        self.encodings.append((t, fv, lits, offsets))
        model.Add(t == sum(a * l + d for (a, _, _, _), l, d in zip(self.pieces, lits, offsets)))
        model.Add(fv == sum(fa * l + p * d for (_, _, fa, p), l, d in zip(self.pieces, lits, offsets)))
        return fv

    def hint(self, model, value):
        """Hints every encoding made so far from `value(t)` of its time variable."""
        for t, fv, lits, offsets in self.encodings:
            tv = value(t)
            model.AddHint(fv, self.value(tv))
            if lits:
                i = next(i for i, (a, b, _, _) in enumerate(self.pieces) if a <= tv <= b)
                for k, (lit, delta) in enumerate(zip(lits, offsets)):
                    model.AddHint(lit, k == i)
                    model.AddHint(delta, tv - self.pieces[i][0] if k == i else 0)

    def span(self, model, t1, t2, horizon, name):
        """F(t2) − F(t1) for t1 ≤ t2, with the cuts min price·(t2 − t1) ≤ it ≤ max price·(t2 − t1)."""
        f = self.var(model, t2, horizon, name + "e") - self.var(model, t1, horizon, name + "s")
        prices = [p for *_, p in self.pieces]
        model.Add(f >= min(prices) * (t2 - t1))
        model.Add(f <= max(prices) * (t2 - t1))
        return f


def run_energy(args):
    t0 = time.monotonic()
    spec = read_energy_model(args.model)
    machines, jobs = spec["machines"], spec["jobs"]
    shape = [[[(x["machine"], x["duration_s"]) for x in opts] for opts in job["operations"]]
             for job in jobs]
    n_ops = sum(len(j) for j in shape)

    # Per machine, the windows before an operation that may draw more than idle, and the gap
    # from which they may happen: (gap, offset of the window's start, its length, excess W).
    windows = []
    for m in machines:
        standby_s, off_s = break_even(m)
        idle_w = _watts(m["idle_kw"])
        mw = []
        lows = [g for g in (standby_s, off_s) if g is not None]
        wake_ex = _watts(m["wake_kw"]) - idle_w
        if lows and wake_ex > 0 and m["wake_s"] > 0:
            mw.append((max(0, min(lows) - 1), -m["wake_s"], m["wake_s"], wake_ex))
        warm_ex = _watts(m["warmup_kw"]) - idle_w
        if off_s is not None and warm_ex > 0 and m["warmup_s"] > 0:
            mw.append((max(0, off_s - 1), -m["wake_s"] - m["warmup_s"], m["warmup_s"], warm_ex))
        windows.append(mw)
    longest_switch = max(m["wake_s"] + m["warmup_s"] for m in machines)
    longest_gap = max([g for mw in windows for g, *_ in mw] or [0])
    latest_due = max(job["due_s"] for job in jobs)
    longest_work = sum(max(d for _, d in opts) for ops in shape for opts in ops)
    horizon = latest_due + longest_work + n_ops * longest_switch + longest_gap

    idle_total_w = sum(_watts(m["idle_kw"]) for m in machines)
    room_w = _watts(spec["cap_kw"]) - idle_total_w
    out = {"status": "INFEASIBLE", "wall_s": None, "phase1_s": None, "tardiness_s": None,
           "cost_model": None, "cost_model_bound": None, "time_step_s": 1,
           "tardiness_optimal": False, "horizon_s": horizon, "operations": []}
    if room_w < 0:
        out["wall_s"] = round(time.monotonic() - t0, 3)
        out["reason"] = "cap below the sum of idle powers: the conservative cap model has no room"
        return out
    limit = spec["tardiness_limit"]
    limit = None if limit is None else int(math.floor(limit * WEIGHT_SCALE + 1e-6))

    # Phase 1, on the model without its cost part (lighter): tardiness, half the time at most.
    p1 = build_energy_model(spec, shape, windows, horizon, room_w, with_cost=False)
    plan = edd_plan(spec, shape, windows, room_w, t0 + args.time_limit / 4)
    if plan is not None and max(e for _, _, e in plan.values()) <= horizon:
        p1["hint_schedule"](plan)
    if limit is not None:
        p1["model"].Add(p1["tardiness"] <= limit)
    p1["model"].Minimize(p1["tardiness"])
    solver = _solver(args.time_limit / 2 - (time.monotonic() - t0), args.workers, args.seed)
    status = solver.Solve(p1["model"])
    final, phase2 = p1, False
    out["phase1_s"] = round(time.monotonic() - t0, 3)
    if _found(status):
        out["tardiness_optimal"] = status == cp_model.OPTIMAL
        best_t = int(solver.Value(p1["tardiness"]))
        remaining = args.time_limit - (time.monotonic() - t0)
        if remaining > 0.1:
            # Phase 2: cost, tardiness held, from phase 1's schedule.
            held = best_t if limit is None else limit
            # Each job then ends by due + held / weight: a far shorter horizon, so fewer tariff
            # pieces, and phase 1's schedule still fits in it.
            phase1_end = max(solver.Value(e) for e in p1["shop"].end.values())
            weights = [int(round(job["weight"] * WEIGHT_SCALE)) for job in jobs]
            if min(weights) > 0:
                latest_end = max(job["due_s"] + held // w for job, w in zip(jobs, weights))
                horizon = min(horizon, max(latest_end, phase1_end))
            # A restriction, not a bound: phase 2 searches schedules ending within one tariff
            # period after phase 1's, so a large held tardiness does not blow up the pieces.
            horizon = min(horizon, phase1_end + spec["tariff"][-1][1])
            out["horizon_s"] = horizon
            p2 = build_energy_model(spec, shape, windows, horizon, room_w, with_cost=True)
            model = p2["model"]
            model.Add(p2["tardiness"] <= held)
            # A complete hint: phase 1's values of the common variables, the cost part derived.
            assert p1["common_vars"] == p2["common_vars"]
            phase1 = [solver.Value(p1["model"].GetIntVarFromProtoIndex(i))
                      for i in range(p1["common_vars"])]
            for i, v in enumerate(phase1):
                model.AddHint(model.GetIntVarFromProtoIndex(i), v)
            p2["complete_hint"](lambda var: phase1[var.Index()], lambda p: phase1[p.Index()] == 1)
            model.Minimize(p2["cost"])
            remaining = args.time_limit - (time.monotonic() - t0)
            solver2 = _solver(remaining, args.workers, args.seed)
            # Presolve probing of this model can eat the whole phase (seconds on ft10's size)
            # before the search starts from the hint: skip it.
            solver2.parameters.cp_model_probing_level = 0
            status2 = solver2.Solve(model)
            if _found(status2):
                solver, status, final, phase2 = solver2, status2, p2, True
    out["status"] = solver.StatusName(status)
    if _found(status):
        ops = final["shop"].operations(solver)
        done = {}
        for op in ops:
            done[op["job"]] = max(done.get(op["job"], 0), op["end"])
        out["tardiness_s"] = sum(job["weight"] * max(0, done[j] - job["due_s"])
                                 for j, job in enumerate(jobs) if j in done)
        constant = spec["demand_per_kw"] * idle_total_w / 1000
        if phase2:
            out["cost_model"] = round(solver.Value(final["cost"]) / MONEY + constant, 6)
            out["cost_model_bound"] = round(solver.BestObjectiveBound() / MONEY + constant, 6)
        out["operations"] = ops
    out["wall_s"] = round(time.monotonic() - t0, 3)
    return out


def edd_plan(spec, shape, windows, room_w, deadline):
    """A first schedule for phase 1 (its hint), built like EDD dispatch under the model's cap:
    repeatedly, among the jobs' next operations that can start before the first of them can end,
    the one of the earliest due date goes on its option that ends first, appended on its machine
    at the earliest time where its cutting and (when its gap is long) wake-up/warm-up windows fit
    under the cap. Returns (job, op) → (machine, start, end), or None if an excess alone exceeds
    the room under the cap or the monotonic clock passes `deadline`."""
    machines, jobs = spec["machines"], spec["jobs"]
    placed = []  # (from, to, W) in the cumulative
    ready_job = [0] * len(jobs)
    next_op = [0] * len(jobs)
    machine_end = {}  # machine → end of its last operation
    plan = {}

    def fits(items, near):
        if not items:
            return True
        if any(w > room_w for _, _, w in items):
            return False
        lo, hi = min(a for a, _, _ in items), max(b for _, b, _ in items)
        points = {a for a, _, _ in items} | {a for a, b, _ in near if lo <= a < hi}
        for x in points:
            use = sum(w for a, b, w in near if a <= x < b) + sum(w for a, b, w in items if a <= x < b)
            if use > room_w:
                return False
        return True

    def earliest(j, o, k):
        m, d = shape[j][o][k]
        cut = max(0, _watts(jobs[j]["operations"][o][k]["cutting_kw"]) - _watts(machines[m]["idle_kw"]))
        lo = max(ready_job[j], machine_end.get(m, 0))
        wins = [(max(thr, -off), off, ln, ex) for thr, off, ln, ex in windows[m]]
        # Only what ends after the earliest window can start matters.
        reach = lo + min((off for _, off, _, _ in wins), default=0)
        near = [x for x in placed if x[1] > reach]
        cands = {lo} | {machine_end.get(m, 0) + g for g, *_ in wins}
        for a, b, _ in near:
            for x in (a, b):
                cands.update((x, x - d))
                for _, off, ln, _ in wins:
                    cands.update((x - off, x - off - ln))
        for t in sorted(c for c in cands if c >= lo):
            items = [(t, t + d, cut)] if cut > 0 and d > 0 else []
            gap = t - machine_end[m] if m in machine_end else t
            items += [(t + off, t + off + ln, ex) for g, off, ln, ex in wins if gap >= g]
            if fits(items, near):
                return t, items
        return None

    # (job, option) → earliest (start, items) of the job's next operation. Load only grows, so
    # an entry stays exact until its job moves on, its machine gets an operation, or new load
    # overlaps its items.
    cache = {}
    while any(next_op[j] < len(shape[j]) for j in range(len(jobs))):
        if time.monotonic() > deadline:
            return None
        options = []
        for j in range(len(jobs)):
            o = next_op[j]
            if o < len(shape[j]):
                best = None
                for k, (m, d) in enumerate(shape[j][o]):
                    if (j, k) not in cache:
                        cache[j, k] = earliest(j, o, k)
                    found = cache[j, k]
                    if found is None:
                        return None
                    if best is None or found[0] + d < best[0] + best[2]:
                        best = (found[0], m, d, found[1])
                options.append((j, o, best))
        first_end = min(options, key=lambda x: x[2][0] + x[2][2])
        conflict = [x for x in options if x[2][0] < first_end[2][0] + first_end[2][2]] or [first_end]
        j, o, (t, m, d, items) = min(conflict, key=lambda x: (jobs[x[0]]["due_s"], x[2][0], x[0]))
        plan[j, o] = (m, t, t + d)
        placed.extend(items)
        ready_job[j] = machine_end[m] = t + d
        next_op[j] += 1
        for (j2, k2), (_, items2) in list(cache.items()):
            if (j2 == j or shape[j2][next_op[j2]][k2][0] == m
                    or any(a < y and x < b for a, b, _ in items2 for x, y, _ in items)):
                del cache[j2, k2]
    return plan


def build_energy_model(spec, shape, windows, horizon, room_w, with_cost):
    """The CP-SAT model of the module docstring: shop, cap, tardiness, and (`with_cost`) the
    energy and demand cost. The variables of the model without cost come first, in the same
    order in both, so phase 1's solution hints phase 2 variable by variable; `complete_hint`
    then hints the cost part from the schedule. Returns the model and its handles."""
    machines, jobs = spec["machines"], spec["jobs"]
    model = cp_model.CpModel()
    shop = Shop(model, shape, horizon)
    intervals, demands = [], []
    for (j, o), opts in shop.options.items():
        for k, (m, d, p, iv) in enumerate(opts):
            extra = _watts(jobs[j]["operations"][o][k]["cutting_kw"]) - _watts(machines[m]["idle_kw"])
            if extra > 0:
                intervals.append(iv)
                demands.append(extra)

    # Wake-up / warm-up windows, with the proof of a short gap that lets an operation skip them.
    on_machine = {}
    for (j, o), opts in shop.options.items():
        for m, d, p, iv in opts:
            on_machine.setdefault(m, []).append((j, o, p))
    window_vars = []  # (machine, offset, gap, job, op, cold, early, [(b, job2, op2)]), for hints
    for m, ops in sorted(on_machine.items()):
        for threshold, offset, length, excess in windows[m]:
            # A real long gap is ≥ the window's own length too, so a window starts at ≥ 0.
            gap = max(threshold, -offset)
            for j, o, p in ops:
                s = shop.start[j, o]
                cold = model.NewBoolVar(f"cold{j}_{o}_{m}_{offset}")
                model.AddImplication(cold, p)
                model.Add(s >= gap).OnlyEnforceIf(cold)
                early = model.NewBoolVar("")
                model.Add(s <= gap - 1).OnlyEnforceIf(early)
                reasons = [cold, p.Not(), early]
                pairs = []
                window_vars.append((m, offset, gap, j, o, cold, early, pairs))
                for j2, o2, p2 in ops:
                    if j2 == j and o2 >= o:
                        continue  # its own later operations cannot end before it starts
                    b = model.NewBoolVar("")
                    e2 = shop.end[j2, o2]
                    model.AddImplication(b, p2)
                    model.Add(e2 <= s).OnlyEnforceIf(b)
                    model.Add(e2 >= s - gap + 1).OnlyEnforceIf(b)
                    reasons.append(b)
                    pairs.append((b, j2, o2))
                model.AddBoolOr(reasons)
                intervals.append(model.NewOptionalFixedSizeIntervalVar(s + offset, length, cold, ""))
                demands.append(excess)

    tardy, tardy_vars = [], []
    for j, job in enumerate(jobs):
        n = len(job["operations"])
        if n:
            t = model.NewIntVar(0, horizon, f"T{j}")
            model.Add(t >= shop.end[j, n - 1] - job["due_s"])
            tardy.append((int(round(job["weight"] * WEIGHT_SCALE)), t))
            tardy_vars.append((j, t))
    tardiness = cp_model.LinearExpr.WeightedSum([t for _, t in tardy], [w for w, _ in tardy])
    common_vars = len(model.Proto().variables)
    if not with_cost:
        model.AddCumulative(intervals, demands, room_w)

        def hint_schedule(plan):
            """Hints every variable from `plan`: (job, op) → (machine, start, end), a schedule
            that keeps the model's cap with a window exactly where its gap is long."""
            for (j, o), opts in shop.options.items():
                m, start, end = plan[j, o]
                model.AddHint(shop.start[j, o], start)
                model.AddHint(shop.end[j, o], end)
                if len(opts) > 1:
                    for m2, _, p, _ in opts:
                        model.AddHint(p, m2 == m)
            for m, offset, gap, j, o, cold, early, pairs in window_vars:
                on, start = plan[j, o][0] == m, plan[j, o][1]
                ends = [e for k, (m2, _, e) in plan.items() if m2 == m and k != (j, o) and e <= start]
                model.AddHint(cold, on and start >= gap and not any(e > start - gap for e in ends))
                model.AddHint(early, start <= gap - 1)
                for b, j2, o2 in pairs:
                    m2, _, e2 = plan[j2, o2]
                    model.AddHint(b, m2 == m and start - gap + 1 <= e2 <= start)
            for j, t in tardy_vars:
                last = len(jobs[j]["operations"]) - 1
                model.AddHint(t, max(0, plan[j, last][2] - jobs[j]["due_s"]))

        return {"model": model, "shop": shop, "tardiness": tardiness, "common_vars": common_vars,
                "hint_schedule": hint_schedule}

    tariff = Tariff(spec["tariff"], horizon)
    peak = model.NewIntVar(0, room_w, "peak_above_idle_w")
    model.AddCumulative(intervals, demands, peak)
    energy = []  # (coefficient, expression) of the energy cost in objective units
    chosen = []  # (y, presence, start, end) of options of flexible operations, for the hint
    machine_spans = {}
    for (j, o), opts in shop.options.items():
        s, e = shop.start[j, o], shop.end[j, o]
        f_span = tariff.span(model, s, e, horizon, f"F{j}_{o}")
        for k, (m, d, p, iv) in enumerate(opts):
            extra = _watts(jobs[j]["operations"][o][k]["cutting_kw"]) - _watts(machines[m]["idle_kw"])
            machine_spans.setdefault(m, []).append((s, e, p))
            if len(opts) == 1:
                energy.append((extra, f_span))
            else:
                y = model.NewIntVar(0, tariff.value(horizon), f"y{j}_{o}_{m}")
                model.Add(y == f_span).OnlyEnforceIf(p)
                model.Add(y == 0).OnlyEnforceIf(p.Not())
                energy.append((extra, y))
                chosen.append((y, p, s, e))
    firsts_lasts = []
    for m, spans in machine_spans.items():
        # Idle from the machine's first start S_m to its last end C_m, busy time netted out above.
        first = model.NewIntVar(0, horizon, f"S{m}")
        last = model.NewIntVar(0, horizon, f"C{m}")
        for s, e, p in spans:
            model.Add(first <= s).OnlyEnforceIf(p)
            model.Add(last >= e).OnlyEnforceIf(p)
        model.Add(first <= last)
        idle_span = tariff.span(model, first, last, horizon, f"FM{m}")
        energy.append((_watts(machines[m]["idle_kw"]), idle_span))
        firsts_lasts.append((first, last, spans))
    demand_coef = int(round(spec["demand_per_kw"] * MONEY / 1000))  # per W of peak
    cost = sum(c * v for c, v in energy) + demand_coef * peak

    def complete_hint(value, present):
        """Hints the cost part from a schedule: `value(var)` of the common variables (starts,
        ends), `present(literal)` of the option literals."""
        model.AddHint(peak, room_w)
        times = {}
        for first, last, spans in firsts_lasts:
            on = [(value(s), value(e)) for s, e, p in spans if present(p)]
            times[first.Index()] = min((a for a, _ in on), default=0)
            times[last.Index()] = max((b for _, b in on), default=0)
            model.AddHint(first, times[first.Index()])
            model.AddHint(last, times[last.Index()])
        for y, p, s, e in chosen:
            model.AddHint(y, tariff.value(value(e)) - tariff.value(value(s)) if present(p) else 0)
        tariff.hint(model, lambda t: times[t.Index()] if t.Index() in times else value(t))

    return {"model": model, "shop": shop, "tardiness": tardiness, "common_vars": common_vars,
            "cost": cost, "complete_hint": complete_hint}


# ---------------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    mk = sub.add_parser("makespan", help="minimise the makespan of a JSSP/FJSP text instance")
    mk.add_argument("--instance", required=True)
    mk.add_argument("--format", required=True, choices=("jssp", "fjsp"))
    en = sub.add_parser("energy", help="tardiness, then energy cost, of a JSON energy model")
    en.add_argument("--model", required=True)
    for p in (mk, en):
        p.add_argument("--time-limit", type=float, required=True, help="seconds, wall clock")
        p.add_argument("--workers", type=int, required=True)
        p.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.time_limit <= 0 or args.workers < 1:
        ap.error("--time-limit must be > 0 and --workers ≥ 1")
    try:
        result = run_makespan(args) if args.command == "makespan" else run_energy(args)
    except InputError as e:
        print(e, file=sys.stderr)
        return 2
    print(json.dumps(result, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
