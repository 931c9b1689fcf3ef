//! The MTConnect 2.7 response documents: `MTConnectDevices` (probe), `MTConnectStreams`
//! (current, sample), `MTConnectAssets` and `MTConnectError`, written with their 2.7 namespaces.

use super::assets::Asset;
use super::buffer::{Observation, Value};
use super::device::{Category, DeviceModel, Representation};
use super::shdr::format_timestamp;
use super::xml::XmlOut;
use std::collections::BTreeMap;

/// MTConnect version aimm's agent speaks.
pub const VERSION: &str = "2.7";

/// The agent-wide facts every document header carries.
#[derive(Clone, Debug)]
pub struct Header {
    /// `instanceId`: changes when the agent restarts.
    pub instance_id: u64,
    /// `sender`: the agent's name.
    pub sender: String,
    /// `creationTime`: when the document was made, ns since the Unix epoch (UTC).
    pub creation_ns: i64,
    /// `deviceModelChangeTime`: when the device model last changed (the agent's start: it is
    /// fixed for the life of an agent instance), ns since the Unix epoch (UTC).
    pub model_change_ns: i64,
    /// `bufferSize`: observations the sequence buffer holds.
    pub buffer_size: usize,
    /// `assetBufferSize`: assets the asset buffer holds.
    pub asset_buffer_size: usize,
    /// `assetCount`: assets currently held and not removed.
    pub asset_count: usize,
}

/// Sequence facts of a Streams header.
#[derive(Clone, Copy, Debug)]
pub struct Sequences {
    /// `firstSequence`: the oldest observation the agent still holds.
    pub first: u64,
    /// `lastSequence`: the newest observation.
    pub last: u64,
    /// `nextSequence`: where the client's next `/sample?from=` should start.
    pub next: u64,
}

fn root(x: &mut XmlOut, kind: &str) {
    let ns = format!("urn:mtconnect.org:MTConnect{kind}:{VERSION}");
    let location =
        format!("{ns} http://schemas.mtconnect.org/schemas/MTConnect{kind}_{VERSION}.xsd");
    x.open(
        &format!("MTConnect{kind}"),
        &[
            ("xmlns", &ns),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("xsi:schemaLocation", &location),
        ],
    );
}

fn header(x: &mut XmlOut, h: &Header, buffer: bool, extra: &[(&str, String)]) {
    let created = format_timestamp(h.creation_ns);
    let model_changed = format_timestamp(h.model_change_ns);
    let instance = h.instance_id.to_string();
    let buffer_size = h.buffer_size.to_string();
    let mut attrs: Vec<(&str, &str)> = vec![
        ("creationTime", &created),
        ("deviceModelChangeTime", &model_changed),
        ("sender", &h.sender),
        ("instanceId", &instance),
        ("version", "2.7.0.0"),
    ];
    if buffer {
        attrs.push(("bufferSize", &buffer_size));
    }
    attrs.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
    x.empty("Header", &attrs);
}

fn asset_attrs(h: &Header) -> Vec<(&'static str, String)> {
    vec![
        ("assetBufferSize", h.asset_buffer_size.to_string()),
        ("assetCount", h.asset_count.to_string()),
    ]
}

/// `/probe`: every device as read.
pub fn devices(h: &Header, model: &DeviceModel, only: Option<usize>) -> String {
    let mut x = XmlOut::new();
    root(&mut x, "Devices");
    header(&mut x, h, true, &asset_attrs(h));
    x.open("Devices", &[]);
    for (i, d) in model.devices.iter().enumerate() {
        if only.is_none_or(|o| o == i) {
            x.raw(&d.xml);
        }
    }
    x.close("Devices");
    x.close("MTConnectDevices");
    x.finish()
}

/// `/current` and `/sample`: `observations` grouped by device and component. Devices listed in
/// `devices` appear even without observations.
pub fn streams<'a>(
    h: &Header,
    seq: Sequences,
    model: &DeviceModel,
    devices: &[usize],
    observations: impl IntoIterator<Item = &'a Observation>,
) -> String {
    // device → component id → category → observations, each in sequence order.
    type Groups<'a> = BTreeMap<usize, BTreeMap<&'a str, BTreeMap<u8, Vec<&'a Observation>>>>;
    let mut groups: Groups = devices.iter().map(|&d| (d, BTreeMap::new())).collect();
    for obs in observations {
        let item = &model.items[obs.item];
        let cat = match item.category {
            Category::Sample => 0,
            Category::Event => 1,
            Category::Condition => 2,
        };
        groups
            .entry(item.device)
            .or_default()
            .entry(item.component_id.as_str())
            .or_default()
            .entry(cat)
            .or_default()
            .push(obs);
    }
    let mut x = XmlOut::new();
    root(&mut x, "Streams");
    header(
        &mut x,
        h,
        true,
        &[
            ("nextSequence", seq.next.to_string()),
            ("firstSequence", seq.first.to_string()),
            ("lastSequence", seq.last.to_string()),
        ],
    );
    x.open("Streams", &[]);
    for (device, components) in &groups {
        let d = &model.devices[*device];
        x.open("DeviceStream", &[("name", &d.name), ("uuid", &d.uuid)]);
        for (component_id, categories) in components {
            let first = &model.items[categories.values().next().map_or(0, |v| v[0].item)];
            let mut attrs = vec![
                ("component", first.component.as_str()),
                ("componentId", component_id),
            ];
            if let Some(name) = &first.component_name {
                attrs.push(("name", name));
            }
            x.open("ComponentStream", &attrs);
            for (cat, list) in categories {
                let group = ["Samples", "Events", "Condition"][*cat as usize];
                x.open(group, &[]);
                for obs in list {
                    observation(&mut x, model, obs);
                }
                x.close(group);
            }
            x.close("ComponentStream");
        }
        x.close("DeviceStream");
    }
    x.close("Streams");
    x.close("MTConnectStreams");
    x.finish()
}

fn observation(x: &mut XmlOut, model: &DeviceModel, obs: &Observation) {
    let item = &model.items[obs.item];
    let t = format_timestamp(obs.t_ns);
    let seq = obs.sequence.to_string();
    let mut attrs: Vec<(&str, &str)> = vec![
        ("dataItemId", &item.id),
        ("timestamp", &t),
        ("sequence", &seq),
    ];
    if let Some(name) = &item.name {
        attrs.push(("name", name));
    }
    if let Some(sub) = &item.sub_type {
        attrs.push(("subType", sub));
    }
    if item.category == Category::Condition {
        attrs.push(("type", &item.kind));
        match &obs.value {
            Value::Condition(c) => {
                let element = condition_element(&c.level);
                // A Warning or Fault is an activated condition: 2.x requires its conditionId,
                // which SHDR does not send; like cppagent, the native code identifies the
                // activation, else the data item.
                if matches!(element.as_str(), "Warning" | "Fault") {
                    let id = if c.native_code.is_empty() {
                        &item.id
                    } else {
                        &c.native_code
                    };
                    attrs.push(("conditionId", id));
                }
                for (k, v) in [
                    ("nativeCode", &c.native_code),
                    ("nativeSeverity", &c.native_severity),
                    ("qualifier", &c.qualifier),
                ] {
                    if !v.is_empty() {
                        attrs.push((k, v));
                    }
                }
                x.leaf(&element, &attrs, &c.message);
            }
            _ => x.empty("Unavailable", &attrs),
        }
        return;
    }
    let name = item.element_name();
    match &obs.value {
        Value::Unavailable => match item.representation {
            Representation::DataSet | Representation::Table => {
                attrs.push(("count", "0"));
                x.leaf(&name, &attrs, "UNAVAILABLE");
            }
            // A time series is a list of floats, which UNAVAILABLE is not: no samples.
            Representation::TimeSeries => {
                attrs.push(("sampleCount", "0"));
                x.empty(&name, &attrs);
            }
            Representation::Value => x.leaf(&name, &attrs, "UNAVAILABLE"),
        },
        Value::DataSet(entries) => {
            let count = entries.len().to_string();
            attrs.push(("count", &count));
            x.open(&name, &attrs);
            for (k, v) in entries {
                x.leaf("Entry", &[("key", k)], v);
            }
            x.close(&name);
        }
        Value::Table(rows) => {
            let count = rows.len().to_string();
            attrs.push(("count", &count));
            x.open(&name, &attrs);
            for (k, cells) in rows {
                x.open("Entry", &[("key", k)]);
                for (c, v) in cells {
                    x.leaf("Cell", &[("key", c)], v);
                }
                x.close("Entry");
            }
            x.close(&name);
        }
        Value::Text(text) if item.representation == Representation::TimeSeries => {
            let count = text.split_whitespace().count().to_string();
            attrs.push(("sampleCount", &count));
            x.leaf(&name, &attrs, text);
        }
        Value::Text(text) => x.leaf(&name, &attrs, text),
        // MTConnect 2.x made Message a plain string event: its nativeCode attribute is gone
        // from the schema, so the code stays in the buffer (and the store) but not the document.
        Value::Message { text, .. } => x.leaf(&name, &attrs, text),
        Value::Condition(c) => x.leaf(&name, &attrs, &c.level),
    }
}

/// `NORMAL` → `Normal`; unknown levels are published as `Unavailable`.
fn condition_element(level: &str) -> String {
    match level.to_ascii_uppercase().as_str() {
        "NORMAL" => "Normal",
        "WARNING" => "Warning",
        "FAULT" => "Fault",
        _ => "Unavailable",
    }
    .to_string()
}

/// `/assets`.
pub fn assets<'a>(h: &Header, list: impl IntoIterator<Item = &'a Asset>) -> String {
    let mut x = XmlOut::new();
    root(&mut x, "Assets");
    header(&mut x, h, false, &asset_attrs(h));
    x.open("Assets", &[]);
    for asset in list {
        x.raw(&asset.xml);
    }
    x.close("Assets");
    x.close("MTConnectAssets");
    x.finish()
}

/// Kinds of MTConnect request errors aimm's agent reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// `INVALID_REQUEST`: the request cannot be handled, e.g. an unknown query parameter.
    InvalidRequest,
    /// `INVALID_URI`: the path names no request the agent serves.
    InvalidUri,
    /// `INVALID_PARAMETER_VALUE`: a query parameter's value has the wrong form.
    InvalidParameterValue,
    /// `OUT_OF_RANGE`: a numeric query parameter (e.g. `from`, `count`) is outside the
    /// allowed range.
    OutOfRange,
    /// `NO_DEVICE`: the path names no device of the agent.
    NoDevice,
    /// `UNSUPPORTED`: a valid MTConnect request feature aimm's agent does not implement
    /// (e.g. `to`).
    Unsupported,
    /// `INVALID_XPATH`: a `path` that is malformed, outside the supported subset, or selects
    /// no data item.
    InvalidXPath,
    /// `ASSET_NOT_FOUND`: `/asset/ID` names no asset the agent holds.
    AssetNotFound,
}

impl ErrorCode {
    fn element(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "InvalidRequest",
            ErrorCode::InvalidUri => "InvalidURI",
            ErrorCode::InvalidParameterValue => "InvalidParameterValue",
            ErrorCode::OutOfRange => "OutOfRange",
            ErrorCode::NoDevice => "NoDevice",
            ErrorCode::Unsupported => "Unsupported",
            ErrorCode::InvalidXPath => "InvalidXPath",
            ErrorCode::AssetNotFound => "AssetNotFound",
        }
    }

    /// The classic `errorCode` name, e.g. `OUT_OF_RANGE`.
    pub fn code(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "INVALID_REQUEST",
            ErrorCode::InvalidUri => "INVALID_URI",
            ErrorCode::InvalidParameterValue => "INVALID_PARAMETER_VALUE",
            ErrorCode::OutOfRange => "OUT_OF_RANGE",
            ErrorCode::NoDevice => "NO_DEVICE",
            ErrorCode::Unsupported => "UNSUPPORTED",
            ErrorCode::InvalidXPath => "INVALID_XPATH",
            ErrorCode::AssetNotFound => "ASSET_NOT_FOUND",
        }
    }
}

/// A query parameter an error is about, with its allowed range when numeric.
#[derive(Clone, Debug)]
pub struct BadParameter {
    /// The query parameter's name, e.g. `from`.
    pub name: &'static str,
    /// The value as the request gave it.
    pub value: String,
    /// Allowed (minimum, maximum), both inclusive, when the parameter is numeric.
    pub range: Option<(u64, u64)>,
}

/// One request error.
#[derive(Clone, Debug)]
pub struct RequestError {
    /// The kind of error; it chooses the error element and the HTTP status.
    pub code: ErrorCode,
    /// The request URI, echoed in the `URI` element.
    pub uri: String,
    /// A human-readable explanation (`ErrorMessage`).
    pub message: String,
    /// The query parameter at fault, if the error is about one (`QueryParameter`).
    pub parameter: Option<BadParameter>,
}

/// `MTConnectError` with one typed 2.7 error element.
pub fn error(h: &Header, e: &RequestError) -> String {
    let mut x = XmlOut::new();
    root(&mut x, "Error");
    header(&mut x, h, true, &[]);
    x.open("Errors", &[]);
    x.open(e.code.element(), &[]);
    if let (ErrorCode::AssetNotFound, Some(p)) = (e.code, &e.parameter) {
        // The asset id asked for is the "parameter" of an ASSET_NOT_FOUND; 2.x wants it first.
        x.leaf("AssetId", &[], &p.value);
    } else if let Some(p) = &e.parameter {
        x.open("QueryParameter", &[("name", p.name)]);
        if let Some((min, max)) = p.range {
            x.leaf("Maximum", &[], &max.to_string());
            x.leaf("Minimum", &[], &min.to_string());
        }
        x.leaf("Value", &[], &p.value);
        x.close("QueryParameter");
    }
    x.leaf("URI", &[], &e.uri);
    x.leaf("ErrorMessage", &[], &e.message);
    x.close(e.code.element());
    x.close("Errors");
    x.close("MTConnectError");
    x.finish()
}
