//! The device model of a machine aimm knows from its store: a `Device` with the spindle as a
//! `Rotary` axis, the X/Y/Z `Linear` axes, `Controller`/`Path` and the `Electric` system, each
//! carrying the data items of the aimm signals that belong there, typed and unit-ed per
//! [`SignalKind::mtconnect`].

use super::xml::XmlOut;
use aimm_model::{MachineId, SignalKind};

/// A component aimm publishes: element, id suffix, name, and the mapping component
/// ([`aimm_model::MtConnectMapping::component`]) whose signals it carries.
struct Part {
    element: &'static str,
    suffix: &'static str,
    name: &'static str,
    carries: &'static str,
}

const fn part(
    element: &'static str,
    suffix: &'static str,
    name: &'static str,
    carries: &'static str,
) -> Part {
    Part {
        element,
        suffix,
        name,
        carries,
    }
}

const AXES: [Part; 4] = [
    part("Linear", "x", "X", "X"),
    part("Linear", "y", "Y", "Y"),
    part("Linear", "z", "Z", "Z"),
    part("Rotary", "s", "S", "Spindle"),
];
const PATH: Part = part("Path", "path", "path", "Path");
const ELECTRIC: Part = part("Electric", "electric", "electric", "Electric");

/// An `MTConnectDevices` document for `machines` (id, model name). A machine id becomes the
/// device name and uuid and prefixes every element id.
pub fn machine_devices_xml(machines: &[(MachineId, String)]) -> String {
    let mut x = XmlOut::new();
    x.open("MTConnectDevices", &[]);
    x.open("Devices", &[]);
    for (machine, model) in machines {
        let m = xml_id(machine.as_str());
        x.open(
            "Device",
            &[
                ("id", &m),
                ("name", machine.as_str()),
                ("uuid", machine.as_str()),
            ],
        );
        x.empty("Description", &[("manufacturer", "aimm"), ("model", model)]);
        x.open("DataItems", &[]);
        x.empty(
            "DataItem",
            &[
                ("category", "EVENT"),
                ("id", &format!("{m}_avail")),
                ("type", "AVAILABILITY"),
            ],
        );
        x.empty(
            "DataItem",
            &[
                ("category", "EVENT"),
                ("id", &format!("{m}_asset_changed")),
                ("type", "ASSET_CHANGED"),
            ],
        );
        x.close("DataItems");
        x.open("Components", &[]);
        x.open("Axes", &[("id", &format!("{m}_axes")), ("name", "base")]);
        x.open("Components", &[]);
        for axis in &AXES {
            component(&mut x, &m, axis);
        }
        x.close("Components");
        x.close("Axes");
        x.open(
            "Controller",
            &[("id", &format!("{m}_controller")), ("name", "controller")],
        );
        x.open("Components", &[]);
        component(&mut x, &m, &PATH);
        x.close("Components");
        x.close("Controller");
        x.open(
            "Systems",
            &[("id", &format!("{m}_systems")), ("name", "systems")],
        );
        x.open("Components", &[]);
        component(&mut x, &m, &ELECTRIC);
        x.close("Components");
        x.close("Systems");
        x.close("Components");
        x.close("Device");
    }
    x.close("Devices");
    x.close("MTConnectDevices");
    x.finish()
}

fn component(x: &mut XmlOut, m: &str, part: &Part) {
    x.open(
        part.element,
        &[("id", &format!("{m}_{}", part.suffix)), ("name", part.name)],
    );
    x.open("DataItems", &[]);
    for signal in SignalKind::ALL {
        let Some(map) = signal
            .mtconnect()
            .filter(|map| map.component == part.carries)
        else {
            continue;
        };
        let id = format!("{m}_{}", signal.name());
        let category = match map.category {
            aimm_model::MtConnectCategory::Sample => "SAMPLE",
            aimm_model::MtConnectCategory::Event => "EVENT",
        };
        let mut attrs = vec![
            ("category", category),
            ("id", id.as_str()),
            ("name", signal.name()),
            ("type", map.data_item_type),
        ];
        if let Some(sub) = map.sub_type {
            attrs.push(("subType", sub));
        }
        if let Some(units) = map.units {
            attrs.push(("units", units));
        }
        x.empty("DataItem", &attrs);
    }
    x.close("DataItems");
    x.close(part.element);
}

/// `id` made a valid XML ID (NCName): other characters become `_`, a leading digit gets `m`.
pub fn xml_id(id: &str) -> String {
    let mut out: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, 'm');
    }
    out
}
