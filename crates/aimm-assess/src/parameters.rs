//! `parameter_change_log_share`: is every change of a loop's control parameters logged? Judged
//! on three things the evidence shows, each an item of the share:
//!
//! * each `control_parameter_change` of the loop changes from the value the previous change of
//!   the same parameter set (the first from nothing): otherwise a change happened in between
//!   that no record logs;
//! * each decision of the loop cites the version of its parameters in force when it was taken
//!   (the latest change of that parameter before it), not a superseded or missing one;
//! * for the feed loop, with signals: every commanded override lies within the bounds the
//!   parameters in force state; a command outside them is a change nobody logged.

use crate::catalog::LoopKind;
use crate::measure::{LedgerView, Measured, MAX_CITED};
use crate::signals::Signals;
use aimm_ledger::record::{ControlParameterChange, Evidence};
use aimm_model::SignalKind;
use std::collections::BTreeMap;

/// `parameter_change_log_share` of `kind` (see the module doc).
pub fn parameter_change_log_share(
    kind: LoopKind,
    view: &LedgerView,
    signals: Option<&Signals>,
) -> Measured {
    let of_loop = |name: &str| kind.record_names().contains(&name);
    // Each parameter's changes, in leaf order.
    let mut changes: BTreeMap<&str, Vec<(u64, i64, &ControlParameterChange)>> = BTreeMap::new();
    for (i, r) in view.records() {
        if let Evidence::ControlParameterChange(p) = &r.evidence {
            if of_loop(&p.loop_name) {
                changes
                    .entry(&p.parameter)
                    .or_default()
                    .push((i, r.t_ns, p));
            }
        }
    }
    let mut good = Vec::new();
    let mut failures = Vec::new();
    for list in changes.values() {
        for (k, (i, _, p)) in list.iter().enumerate() {
            let expected = k.checked_sub(1).map(|k| &list[k].2.new);
            match expected {
                None if !p.old.is_null() => failures.push((
                    *i,
                    format!(
                        "{} changes from a value no earlier record logs",
                        p.parameter
                    ),
                )),
                Some(prev) if *prev != p.old => failures.push((
                    *i,
                    format!(
                        "{} changes from a value other than the one leaf {} set: a change in \
                         between is not logged",
                        p.parameter,
                        list[k - 1].0
                    ),
                )),
                _ => good.push(*i),
            }
        }
    }
    // Each decision cites the parameter version in force.
    let version_of: BTreeMap<u64, (&str, i64)> = changes
        .iter()
        .flat_map(|(name, list)| list.iter().map(move |(i, t, _)| (*i, (*name, *t))))
        .collect();
    for (i, r) in view.records() {
        let Evidence::ControlAction(a) = &r.evidence else {
            continue;
        };
        if !of_loop(&a.loop_name) || changes.is_empty() {
            continue;
        }
        let cited: Vec<(u64, &str)> = r
            .cites
            .iter()
            .filter_map(|c| {
                version_of
                    .get(&c.leaf_index)
                    .map(|(n, _)| (c.leaf_index, *n))
            })
            .collect();
        let verdict = if cited.is_empty() {
            Err("cites no version of the loop's parameters".to_string())
        } else {
            cited
                .iter()
                .find_map(|(leaf, name)| {
                    let latest = changes[name]
                        .iter()
                        .take_while(|(j, t, _)| *j < i && *t <= r.t_ns)
                        .last()
                        .map(|(j, _, _)| *j);
                    (latest != Some(*leaf)).then(|| {
                        format!(
                            "acts on {name} of leaf {leaf}, but leaf {} was in force",
                            latest.map_or("none".into(), |l| l.to_string())
                        )
                    })
                })
                .map_or(Ok(()), Err)
        };
        match verdict {
            Ok(()) => good.push(i),
            Err(why) => failures.push((i, why)),
        }
    }
    let mut bounds_checked = 0;
    if let (LoopKind::Feed, Some(signals)) = (kind, signals) {
        for (machine, list) in &changes {
            let Some(m) = machine.strip_suffix("/params") else {
                continue;
            };
            let machine_id = aimm_model::MachineId::new(m);
            let has_signal = signals.pairs().contains(&(
                m.to_string(),
                SignalKind::FeedOverrideCommandedPct.name().to_string(),
            ));
            if !has_signal {
                continue;
            }
            let over = match signals.read(&machine_id, SignalKind::FeedOverrideCommandedPct) {
                Ok(r) => r.series,
                Err(e) => {
                    failures.push((list[0].0, format!("{m}: reading the override failed: {e}")));
                    continue;
                }
            };
            bounds_checked += 1;
            let outside = list.iter().enumerate().find_map(|(k, (leaf, from, p))| {
                let until = list.get(k + 1).map_or(i64::MAX, |n| n.1);
                let lo = p.bounds.get("min_override_pct")?.as_f64()?;
                let hi = p.bounds.get("max_override_pct")?.as_f64()?;
                over.t_ns
                    .iter()
                    .zip(&over.values)
                    .find(|(t, v)| **t >= *from && **t < until && (**v < lo || **v > hi))
                    .map(|(_, v)| {
                        (
                            *leaf,
                            format!(
                                "{m} was commanded {v} % while the logged bounds were \
                                 {lo}–{hi} %: a change no record logs"
                            ),
                        )
                    })
            });
            match outside {
                Some(f) => failures.push(f),
                None => good.push(list[0].0),
            }
        }
    }
    let checked = good.len() + failures.len();
    let failed = failures.len();
    failures.truncate(MAX_CITED);
    Measured {
        value: (checked > 0).then(|| 100.0 * good.len() as f64 / checked as f64),
        reason: if changes.is_empty() {
            format!(
                "no control parameter of the {} loop is logged in the evidence",
                kind.name()
            )
        } else {
            format!(
                "{} of {checked} checks hold ({} parameter changes chained, decisions citing the \
                 version in force, {bounds_checked} machines' commands within the logged bounds); \
                 {failed} not",
                good.len(),
                changes.values().map(Vec::len).sum::<usize>()
            )
        },
        evidence: good.into_iter().take(MAX_CITED).collect(),
        failures,
        samples: Vec::new(),
    }
}
