#!/usr/bin/env python3
"""Tests of the CP-SAT peer `cpsat_schedule.py`, run as the benchmark runs it (a subprocess).

    python3 crates/aimm-bench/peers/test_cpsat_schedule.py

Plain asserts; needs `ortools`. The checkers here re-derive every constraint from the input
alone (their own instance reader, their own energy-state timeline), sharing no code with the
script under test.
"""

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
SCRIPT = os.path.join(HERE, "cpsat_schedule.py")
DATA = os.path.join(ROOT, "testdata", "jssp")


def run(*args):
    """Runs the script; returns (exit code, parsed stdout line or None, stderr)."""
    p = subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True, timeout=300)
    out = json.loads(p.stdout) if p.returncode == 0 else None
    return p.returncode, out, p.stderr


def read_instance(path, fmt):
    """Independent reader: jobs → operations → {machine: duration}, 0-based (no error handling)."""
    rows = [l.split() for l in open(path) if l.strip() and not l.strip().startswith("#")]
    n_jobs = int(rows[0][0])
    jobs = []
    for row in rows[1 : 1 + n_jobs]:
        nums = [int(x) for x in row]
        if fmt == "jssp":
            jobs.append([{nums[i]: nums[i + 1]} for i in range(0, len(nums), 2)])
        else:
            ops, at = [], 1
            for _ in range(nums[0]):
                k = nums[at]
                ops.append({nums[at + 1 + 2 * i] - 1: nums[at + 2 + 2 * i] for i in range(k)})
                at += 1 + 2 * k
            jobs.append(ops)
    return jobs


def check_schedule(jobs, operations):
    """Every operation once, on an eligible machine, with its duration, from time 0, in job
    order, and no two overlapping on a machine. Returns the makespan."""
    by_op = {(o["job"], o["op"]): o for o in operations}
    assert len(by_op) == len(operations) == sum(len(j) for j in jobs), "each operation once"
    per_machine = {}
    for j, ops in enumerate(jobs):
        previous_end = 0
        for k, options in enumerate(ops):
            s = by_op[j, k]
            assert s["machine"] in options, f"{(j, k)} on ineligible machine {s['machine']}"
            assert s["end"] - s["start"] == options[s["machine"]], f"{(j, k)} duration"
            assert s["start"] >= previous_end >= 0, f"{(j, k)} precedence"
            previous_end = s["end"]
            per_machine.setdefault(s["machine"], []).append((s["start"], s["end"]))
    for m, spans in per_machine.items():
        spans.sort()
        for a, b in zip(spans, spans[1:]):
            assert b[0] >= a[1], f"machine {m}: {a} and {b} overlap"
    return max((o["end"] for o in operations), default=0)


def bounds(csv, name):
    for line in open(csv):
        cols = line.strip().split(",")
        if cols[0] == name:
            return int(cols[3]), int(cols[4])
    raise KeyError(name)


def test_makespan():
    code, out, err = run("makespan", "--instance", os.path.join(DATA, "instances", "ft06.txt"),
                         "--format", "jssp", "--time-limit", "10", "--workers", "2", "--seed", "1")
    assert code == 0, err
    jobs = read_instance(os.path.join(DATA, "instances", "ft06.txt"), "jssp")
    assert check_schedule(jobs, out["operations"]) == out["makespan"] == 55, out["makespan"]
    assert out["status"] == "OPTIMAL" and out["bound"] == 55

    mk01 = os.path.join(DATA, "fjsp-brandimarte", "mk01.txt")
    code, out, err = run("makespan", "--instance", mk01, "--format", "fjsp",
                         "--time-limit", "10", "--workers", "2", "--seed", "1")
    assert code == 0, err
    lb, ub = bounds(os.path.join(DATA, "fjsp-brandimarte", "bounds.csv"), "mk01")
    makespan = check_schedule(read_instance(mk01, "fjsp"), out["operations"])
    assert makespan == out["makespan"] and lb <= makespan <= ub, (makespan, lb, ub)
    assert out["bound"] <= lb
    print(f"ft06 55 OPTIMAL; mk01 {makespan} ({out['status']}, bounds {lb}..{ub}) in {out['wall_s']} s")


def test_bad_input():
    with tempfile.TemporaryDirectory() as d:
        cases = [
            ("jssp", "# comment\n2 2\n0 3 1 2\n1 x 0 1\n", ":4:", "`x` is not a whole number"),
            ("jssp", "2 2\n0 3 2 2\n1 4 0 1\n", ":2:", "machine 2 out of range"),
            ("jssp", "2 2\n0 3 1 2\n", ":3:", "header says 2 jobs"),
            ("fjsp", "2 2 1.5\n1 1 1 3\n2 0 1 1 2 4\n", ":3:", "operation 0 has no eligible machine"),
            ("fjsp", "1 2\n1 1 2 -3\n", ":2:", "negative processing time -3"),
        ]
        for i, (fmt, text, line, reason) in enumerate(cases):
            path = os.path.join(d, f"bad{i}.txt")
            with open(path, "w") as f:
                f.write(text)
            code, _, err = run("makespan", "--instance", path, "--format", fmt,
                               "--time-limit", "1", "--workers", "1")
            assert code != 0, text
            assert f"{path}{line}" in err and reason in err, err
        path = os.path.join(d, "bad.json")
        model = small_model(due_s=10_000)
        model["jobs"][1]["operations"][0]["options"][0]["machine"] = 7
        with open(path, "w") as f:
            json.dump(model, f)
        code, _, err = run("energy", "--model", path, "--time-limit", "1", "--workers", "1")
        assert code != 0 and "unknown machine 7" in err and path in err, err
    print("bad input refused with file, line and reason")


# ---------------------------------------------------------------------------------------------
# Energy


def machine(rated_kw, warmup_kw):
    return {"rated_kw": rated_kw, "idle_kw": 2.0, "standby_kw": 1.0, "off_kw": 0.0,
            "wake_s": 60, "wake_kw": 2.0, "warmup_s": 300, "warmup_kw": warmup_kw}


def small_model(due_s):
    """3 machines (idle 2 kW, one warming up above idle), 4 jobs, an expensive first hour
    (0.30 /kWh) then a cheap band (0.05 /kWh) until 4 h; a cap that lets two machines cut at once
    but not three."""
    def op(*options):
        return {"options": [{"machine": m, "duration_s": d, "cutting_kw": kw} for m, d, kw in options]}

    jobs = [
        [op((0, 900, 10.0)), op((1, 600, 8.0), (2, 700, 9.0))],
        [op((1, 1200, 8.0)), op((0, 600, 10.0))],
        [op((2, 900, 9.0)), op((0, 300, 10.0), (1, 400, 8.0))],
        [op((0, 600, 10.0)), op((2, 600, 9.0))],
    ]
    return {
        "machines": [machine(10.0, 3.0), machine(8.0, 2.0), machine(9.0, 2.0)],
        "jobs": [{"due_s": due_s, "weight": w, "operations": ops} for ops, w in zip(jobs, (1, 2, 1, 3))],
        "tariff": [{"start_s": 0, "end_s": 3600, "price_per_kwh": 0.30},
                   {"start_s": 3600, "end_s": 14400, "price_per_kwh": 0.05}],
        "demand_per_kw": 0.5,
        "cap_kw": 6.0 + 8.0 + 7.0 + 1.5,  # all idle + two of the largest excesses + a little
        "tardiness_limit": None,
    }


def state_profile(model, operations):
    """The cell's power over time under the documented state model, built independently:
    per machine, gaps idle / standby / off by energy break-even, wake-up and warm-up at the
    end of a gap, off after the last operation. Returns [(t, power)] steps up to the makespan."""
    cut = {}
    for j, job in enumerate(model["jobs"]):
        for k, op in enumerate(job["operations"]):
            for x in op["options"]:
                cut[j, k, x["machine"]] = x["cutting_kw"]
    horizon = max(o["end"] for o in operations)
    pieces = []
    for m, mp in enumerate(model["machines"]):
        w, u = mp["wake_s"], mp["warmup_s"]

        def energy(state, g):
            if state == "idle":
                return mp["idle_kw"] * g
            if state == "standby":
                return mp["standby_kw"] * (g - w) + mp["wake_kw"] * w if g >= w else float("inf")
            return (mp["off_kw"] * (g - w - u) + mp["warmup_kw"] * u + mp["wake_kw"] * w
                    if g >= w + u else float("inf"))

        def gap(a, b):
            g = b - a
            e = {s: energy(s, g) for s in ("idle", "standby", "off")}
            if e["off"] < e["idle"] and e["off"] < e["standby"]:
                pieces.extend([(a, b - w - u, mp["off_kw"]), (b - w - u, b - w, mp["warmup_kw"]),
                               (b - w, b, mp["wake_kw"])])
            elif e["standby"] < e["idle"]:
                pieces.extend([(a, b - w, mp["standby_kw"]), (b - w, b, mp["wake_kw"])])
            else:
                pieces.append((a, b, mp["idle_kw"]))

        t = 0
        for o in sorted((o for o in operations if o["machine"] == m), key=lambda o: o["start"]):
            gap(t, o["start"])
            pieces.append((o["start"], o["end"], cut[o["job"], o["op"], m]))
            t = o["end"]
        pieces.append((t, horizon, mp["off_kw"]))
    times = sorted({p[0] for p in pieces} | {p[1] for p in pieces})
    return [(t, sum(kw for a, b, kw in pieces if a <= t < b)) for t in times[:-1]]


def solve_energy(model, seconds=10):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(model, f)
    try:
        code, out, err = run("energy", "--model", f.name, "--time-limit", str(seconds),
                             "--workers", "2", "--seed", "1")
    finally:
        os.unlink(f.name)
    assert code == 0, err
    assert out["status"] in ("OPTIMAL", "FEASIBLE"), out
    jobs = [[{x["machine"]: x["duration_s"] for x in op["options"]} for op in job["operations"]]
            for job in model["jobs"]]
    check_schedule(jobs, out["operations"])
    # Cap, as the brief states it: cutting power on top of every machine at idle.
    idle = sum(m["idle_kw"] for m in model["machines"])
    cut = {(j, k, x["machine"]): x["cutting_kw"] for j, job in enumerate(model["jobs"])
           for k, op in enumerate(job["operations"]) for x in op["options"]}
    for t in sorted({o["start"] for o in out["operations"]}):
        on_top = sum(max(0.0, cut[o["job"], o["op"], o["machine"]] - model["machines"][o["machine"]]["idle_kw"])
                     for o in out["operations"] if o["start"] <= t < o["end"])
        assert idle + on_top <= model["cap_kw"] + 1e-9, (t, idle + on_top)
    # And under the full state model (warm-up above idle included).
    peak = max(p for _, p in state_profile(model, out["operations"]))
    assert peak <= model["cap_kw"] + 1e-9, peak
    done = {}
    for o in out["operations"]:
        done[o["job"]] = max(done.get(o["job"], 0), o["end"])
    tardiness = sum(j["weight"] * max(0, done[i] - j["due_s"]) for i, j in enumerate(model["jobs"]))
    assert abs(tardiness - out["tardiness_s"]) < 1e-9
    return out, peak


def cheap_share(model, operations):
    """The share of the cutting energy (kW·s) spent in the second, cheap band [3600, 14400)."""
    cut = {(j, k, x["machine"]): x["cutting_kw"] for j, job in enumerate(model["jobs"])
           for k, op in enumerate(job["operations"]) for x in op["options"]}
    total = cheap = 0.0
    for o in operations:
        kw = cut[o["job"], o["op"], o["machine"]]
        total += kw * (o["end"] - o["start"])
        cheap += kw * max(0, min(o["end"], 14400) - max(o["start"], 3600))
    return cheap / total


def test_energy():
    # Loose due dates: all the cutting fits in the cheap band, and the solver puts it there.
    loose = small_model(due_s=10_000)
    out, peak = solve_energy(loose)
    assert out["tardiness_s"] == 0
    share = cheap_share(loose, out["operations"])
    assert share >= 0.9, f"only {share:.0%} of the cutting energy in the cheap band"
    print(f"energy, loose due dates: {share:.0%} of the cutting energy in the cheap band, cost "
          f"{out['cost_model']:.3f}, peak {peak:.1f} kW ≤ cap, {out['wall_s']} s")

    # Tight due dates: tardiness comes first, so work stays in the expensive hour.
    tight = small_model(due_s=2400)
    out2, peak2 = solve_energy(tight)
    share2 = cheap_share(tight, out2["operations"])
    assert share2 < 0.5, f"tight due dates should keep the work in the first hour ({share2:.0%} later)"
    assert out2["cost_model"] > out["cost_model"]
    # A tardiness limit is honoured.
    tight["tardiness_limit"] = out2["tardiness_s"] + 600
    out3, _ = solve_energy(tight, seconds=5)
    assert out3["tardiness_s"] <= tight["tardiness_limit"]
    print(f"energy, tight due dates: tardiness {out2['tardiness_s']}, cost {out2['cost_model']:.3f}, "
          f"peak {peak2:.1f} kW; with limit {tight['tardiness_limit']}: tardiness "
          f"{out3['tardiness_s']}, cost {out3['cost_model']:.3f}")


if __name__ == "__main__":
    test_makespan()
    test_bad_input()
    test_energy()
    print("all passed")
