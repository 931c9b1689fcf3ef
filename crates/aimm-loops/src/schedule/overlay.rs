//! The seeded energy overlay (issue 15): an [`EnergyModel`] for any JSSP or FJSP benchmark
//! instance, so energy cost can be compared on the same instances as makespan.
//!
//! The benchmarks carry no units, powers, prices nor due dates. The overlay reads a time unit
//! as a minute ([`TIME_UNIT_S`]) and draws what is missing from one seeded stream, with
//! constants chosen to be physically plausible rather than to favour any solver (see
//! [`overlay`]). Tariff bands scale with a lower bound of the makespan, so every schedule's
//! horizon crosses from the dear band into the cheap one, whatever the instance's size.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::dispatch::{dispatch, Rule};
use super::energy::{EnergyModel, EnergySpec, JobTerms, MachinePower, OptionPower, TariffBand};
use super::instance::{Instance, Operation, Time};

/// Seconds per time unit of a benchmark instance: processing times are read as minutes.
pub const TIME_UNIT_S: Time = 60;

/// A lower bound of the makespan of `instance`, in its own time unit: the longest job (each
/// operation at its fastest option), the busiest machine counting only operations that have no
/// other option, and the total fastest work spread evenly over all machines (rounded up).
pub fn makespan_lower_bound(instance: &Instance) -> Time {
    let fastest = |op: &Operation| op.options.iter().map(|o| o.duration).min().unwrap_or(0);
    let mut machine_load = vec![0; instance.machines];
    let mut longest_job = 0;
    let mut total = 0;
    for job in &instance.jobs {
        let work: Time = job.operations.iter().map(fastest).sum();
        longest_job = longest_job.max(work);
        total += work;
        for op in &job.operations {
            if let [only] = op.options.as_slice() {
                machine_load[only.machine] += only.duration;
            }
        }
    }
    let spread = match Time::try_from(instance.machines) {
        Ok(m) if m > 0 => (total + m - 1) / m,
        _ => 0,
    };
    let busiest = machine_load.into_iter().max().unwrap_or(0);
    longest_job.max(busiest).max(spread)
}

/// `instance` with its times in seconds (× [`TIME_UNIT_S`]) and a seeded energy model:
///
/// - machines: rated (cutting) power uniform in 5–15 kW; idle 30 % of rated (drives and
///   coolant pumps ready, spindle stopped), standby 10 % (controller and lighting), off 0;
///   wake-up (standby → idle) 60 s at the idle power, warm-up (off → standby, spindle and axes
///   warming to temperature) 300 s at half the rated power;
/// - cutting power: an operation's fastest option cuts at its machine's rated power; a slower
///   option (FJSP) at rated × (0.6 + 0.4 · fastest / its duration), the same cut at a lower
///   removal rate drawing less;
/// - due dates: quoted from the shop's load, as a shop quotes a batch of orders released
///   together: `C` = the makespan of FIFO dispatch under the cap (the shop's order book run as
///   it arrives, which needs no due dates), and job `j` is due at `C` times an allowance
///   uniform in 0.75–1.5. Priority customers get up to a quarter less than the shop's own
///   estimate (met only if their work goes first, so some jobs are tight and some late under
///   any schedule), the others a margin of up to half as much again; weights 1 or 2 with equal
///   chance;
/// - tariff: with `lb` = [`makespan_lower_bound`] in seconds (at least 1 s), 0.30 per kWh over
///   `[0, lb)` (the peak band the shift starts in) and 0.10 over `[lb, 4·lb)` (off-peak),
///   repeating; every schedule ends at or after `lb`, so its horizon crosses into the cheap band;
/// - demand charge 0.5 per kW of peak;
/// - cap: 60 % of the sum of the machines' rated powers, raised to the highest rated power if
///   that is more (a cell of one or two machines must still run each machine alone).
///
/// The stream draws each machine's rated power in machine order, then each job's allowance and
/// weight in job order, so the same instance and seed always give the same model.
pub fn overlay(instance: &Instance, seed: u64) -> EnergyModel {
    let mut scaled = instance.clone();
    for op in scaled.jobs.iter_mut().flat_map(|j| &mut j.operations) {
        for o in &mut op.options {
            o.duration *= TIME_UNIT_S;
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut unit = || (rng.next_u64() % 1_000_000) as f64 / 1e6;
    let machines: Vec<MachinePower> = (0..scaled.machines)
        .map(|_| {
            let rated_kw = 5.0 + 10.0 * unit();
            MachinePower {
                rated_kw,
                idle_kw: 0.3 * rated_kw,
                standby_kw: 0.1 * rated_kw,
                off_kw: 0.0,
                wake_s: 60,
                wake_kw: 0.3 * rated_kw,
                warmup_s: 300,
                warmup_kw: 0.5 * rated_kw,
            }
        })
        .collect();
    let mut cutting = Vec::new();
    let mut allowances = Vec::with_capacity(scaled.jobs.len());
    let mut jobs = Vec::with_capacity(scaled.jobs.len());
    for (j, job) in scaled.jobs.iter().enumerate() {
        for (o, op) in job.operations.iter().enumerate() {
            let fastest = op.options.iter().map(|x| x.duration).min().unwrap_or(0);
            cutting.extend(op.options.iter().filter(|x| x.duration > fastest).map(|x| {
                OptionPower {
                    job: j,
                    operation: o,
                    machine: x.machine,
                    cutting_kw: machines[x.machine].rated_kw
                        * (0.6 + 0.4 * fastest as f64 / x.duration as f64),
                }
            }));
        }
        allowances.push(0.75 + 0.75 * unit());
        jobs.push(JobTerms {
            due_s: 0,
            weight: 1.0 + (unit() * 2.0).floor(),
        });
    }
    let lb = (makespan_lower_bound(instance) * TIME_UNIT_S).max(1);
    let rated = machines.iter().map(|m| m.rated_kw);
    let cap_kw = (0.6 * rated.clone().sum::<f64>()).max(rated.fold(0.0, f64::max));
    let mut spec = EnergySpec {
        machines,
        cutting,
        tariff: vec![
            TariffBand {
                start_s: 0,
                end_s: lb,
                price_per_kwh: 0.30,
            },
            TariffBand {
                start_s: lb,
                end_s: 4 * lb,
                price_per_kwh: 0.10,
            },
        ],
        demand_per_kw: 0.5,
        cap_kw,
        jobs,
    };
    let refused = "the overlay's powers are ordered and positive, its bands contiguous, its cap admits every machine";
    // FIFO ignores due dates, so the quote can come from the model without them.
    let quote = dispatch(
        &EnergyModel::new(scaled.clone(), spec.clone()).expect(refused),
        Rule::Fifo,
    )
    .makespan() as f64;
    for (terms, a) in spec.jobs.iter_mut().zip(allowances) {
        terms.due_s = (a * quote) as Time;
    }
    EnergyModel::new(scaled, spec).expect(refused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::instance::tests::data;
    use crate::schedule::instance::{parse_fjsp, parse_jssp};

    #[test]
    fn lower_bounds_of_the_benchmarks() {
        // ft06: the longest job is 47 (the busiest machine 43); la01: machine load 666 (its
        // optimum); mk01: its single-option operations load one machine with 36 (153 units of
        // fastest work over 6 machines give 26, the longest job 22).
        let ft06 = parse_jssp(data!("instances/ft06.txt")).unwrap();
        let la01 = parse_jssp(data!("instances/la01.txt")).unwrap();
        let mk01 = parse_fjsp(data!("fjsp-brandimarte/mk01.txt")).unwrap();
        assert_eq!(makespan_lower_bound(&ft06), 47);
        assert_eq!(makespan_lower_bound(&la01), 666);
        assert_eq!(makespan_lower_bound(&mk01), 36);
        let m = overlay(&mk01, 15);
        assert_eq!(m.spec().tariff[0].end_s, 36 * 60);
        assert_eq!(
            m.instance().jobs[0].operations[0].duration_on(0),
            Some(5 * 60)
        );
        // mk01 job 0 operation 0: machine 0 takes 5, machine 2 takes 4 → machine 0 cuts at
        // rated × (0.6 + 0.4 · 4/5).
        let rated = m.spec().machines[0].rated_kw;
        assert!((m.cutting_kw(0, 0, 0).unwrap() - rated * 0.92).abs() < 1e-12);
        assert_eq!(m.cutting_kw(0, 0, 2), Some(m.spec().machines[2].rated_kw));
        // Same instance and seed, same model.
        assert_eq!(overlay(&mk01, 15).spec(), m.spec());
    }
}
