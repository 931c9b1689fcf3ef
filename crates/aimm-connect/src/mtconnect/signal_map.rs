//! Which data items are aimm signals. A data item maps onto a [`SignalKind`] when its type,
//! subType and units are the ones [`SignalKind::mtconnect`] names and it sits on the right kind
//! of component (a spindle, the X/Y/Z linear axis, the controller or path, the electric
//! system); the first such item of a device wins. Odd devices are mapped by an override table
//! (data item id or name → signal).

use super::device::{Category, DataItem, DeviceModel};
use aimm_model::SignalKind;
use std::collections::HashMap;

/// The data item ↔ signal mapping of a whole device model.
#[derive(Clone, Debug, Default)]
pub struct SignalMap {
    item_signal: Vec<Option<SignalKind>>,
    signal_item: HashMap<(usize, SignalKind), usize>,
}

impl SignalMap {
    /// Maps every device of `model`; `overrides` (data item id or name → signal) take
    /// precedence over the type/subType/units rule. Items whose type fits a signal but whose
    /// units differ are left unmapped with one log line each.
    pub fn build(model: &DeviceModel, overrides: &HashMap<String, SignalKind>) -> Self {
        let mut map = SignalMap {
            item_signal: vec![None; model.items.len()],
            signal_item: HashMap::new(),
        };
        for (i, item) in model.items.iter().enumerate() {
            let forced = overrides
                .get(&item.id)
                .or_else(|| item.name.as_ref().and_then(|n| overrides.get(n)));
            if let Some(&signal) = forced {
                map.item_signal[i] = Some(signal);
                map.signal_item.insert((item.device, signal), i);
            }
        }
        for (i, item) in model.items.iter().enumerate() {
            if map.item_signal[i].is_some() {
                continue;
            }
            let Some(signal) = matching_signal(item) else {
                continue;
            };
            if let std::collections::hash_map::Entry::Vacant(e) =
                map.signal_item.entry((item.device, signal))
            {
                e.insert(i);
                map.item_signal[i] = Some(signal);
            }
        }
        map
    }

    /// The signal data item `item` carries, if any.
    pub fn signal(&self, item: usize) -> Option<SignalKind> {
        self.item_signal.get(item).copied().flatten()
    }

    /// The data item of `device` that carries `signal`, if any.
    pub fn item(&self, device: usize, signal: SignalKind) -> Option<usize> {
        self.signal_item.get(&(device, signal)).copied()
    }
}

/// The (type, subType) forms MTConnect 1.x devices publish a signal in, besides the 2.x form
/// [`SignalKind::mtconnect`] names (same units and component): 1.x had SPINDLE_SPEED for
/// ROTARY_VELOCITY, PATH_FEEDRATE subType OVERRIDE for PATH_FEEDRATE_OVERRIDE, and often left the
/// subType of an actual value (a spindle's LOAD, the PATH_FEEDRATE) out or set it to ACTUAL.
fn legacy_forms(signal: SignalKind) -> &'static [(&'static str, Option<&'static str>)] {
    match signal {
        SignalKind::SpindleLoadPct => &[("LOAD", Some("ACTUAL"))],
        SignalKind::SpindleSpeedRpm => {
            &[("SPINDLE_SPEED", Some("ACTUAL")), ("SPINDLE_SPEED", None)]
        }
        SignalKind::FeedActualMmPerMin => &[("PATH_FEEDRATE", None)],
        SignalKind::FeedOverridePct => &[
            ("PATH_FEEDRATE", Some("OVERRIDE")),
            ("PATH_FEEDRATE_OVERRIDE", None),
        ],
        _ => &[],
    }
}

/// The signal whose MTConnect mapping (2.x, or a 1.x form of it) `item` fits, if one does.
fn matching_signal(item: &DataItem) -> Option<SignalKind> {
    SignalKind::ALL.into_iter().find(|s| {
        let Some(m) = s.mtconnect() else {
            return false;
        };
        let form = (item.kind.as_str(), item.sub_type.as_deref());
        // A condition (a LOAD alarm) has a type but no value; 1.x published overrides as
        // samples, 2.x as events, so the category is not checked further.
        if item.category == Category::Condition
            || !((m.data_item_type, m.sub_type) == form || legacy_forms(*s).contains(&form))
            || !component_fits(m.component, item)
        {
            return false;
        }
        match (m.units, item.units.as_deref()) {
            (Some(want), Some(got)) if want != got => {
                tracing::warn!(
                    "data item '{}' ({} {}) has units {got}, aimm's {} needs {want}: not mapped",
                    item.id,
                    item.kind,
                    item.sub_type.as_deref().unwrap_or(""),
                    s.name()
                );
                false
            }
            _ => true,
        }
    })
}

/// Whether `item`'s component is the kind `want` names in [`aimm_model::MtConnectMapping`].
fn component_fits(want: &str, item: &DataItem) -> bool {
    match want {
        "Spindle" => {
            item.component == "Spindle" || (item.component == "Rotary" && item.component_turns)
        }
        "X" | "Y" | "Z" => {
            let label = item.component_name.as_deref().unwrap_or(&item.component_id);
            item.component == "Linear" && label.to_ascii_uppercase().starts_with(want)
        }
        // 1.x devices put the path's feed rate and override on Axes.
        "Path" => matches!(item.component.as_str(), "Path" | "Controller" | "Axes"),
        "Electric" => matches!(item.component.as_str(), "Electric" | "Device"),
        other => item.component == other,
    }
}
