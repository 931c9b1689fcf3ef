//! Reading `MTConnectStreams` documents (and recognising `MTConnectError` ones) as an MTConnect
//! client receives them: the header's instance and sequence numbers, and every observation with
//! its device, data item, timestamp, sequence and value.

use super::shdr::parse_timestamp;
use super::xml::attribute;
use super::xml::line_of;
use super::MtcError;
use quick_xml::events::Event;
use quick_xml::Reader;

/// Header facts of a Streams document.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamsHeader {
    /// `instanceId`: a change means the agent restarted.
    pub instance_id: u64,
    /// `firstSequence`: the oldest observation the agent still holds.
    pub first_sequence: u64,
    /// `lastSequence`: the agent's newest observation.
    pub last_sequence: u64,
    /// `nextSequence`: where the next `/sample?from=` should start.
    pub next_sequence: u64,
}

/// One observation as published.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamObservation {
    /// `uuid` of the enclosing DeviceStream.
    pub device_uuid: String,
    /// `dataItemId`.
    pub data_item_id: String,
    /// The data item's `name`, if the observation carries one.
    pub name: Option<String>,
    /// Element name, e.g. `Load`, `Normal`.
    pub element: String,
    /// `timestamp` exactly as published.
    pub timestamp: String,
    /// `timestamp` parsed: ns since the Unix epoch (UTC).
    pub t_ns: i64,
    /// The agent's `sequence` number of the observation.
    pub sequence: u64,
    /// Text content (`UNAVAILABLE` included as such).
    pub value: String,
}

/// A parsed Streams document.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Streams {
    /// The document's header.
    pub header: StreamsHeader,
    /// Every observation, in document order.
    pub observations: Vec<StreamObservation>,
}

/// Parses a Streams document from `source` (a URL, for errors). An `MTConnectError` document
/// becomes an [`MtcError::Agent`] with its error code and message.
pub fn parse_streams(source: &str, xml: &str) -> Result<Streams, MtcError> {
    let err = |pos: u64, message: String| MtcError::Xml {
        input: source.to_string(),
        line: line_of(xml, pos),
        message,
    };
    let mut reader = Reader::from_str(xml);
    let mut out = Streams::default();
    let mut device = String::new();
    let mut depth = 0usize;
    let mut in_group = None::<usize>; // depth of Samples/Events/Condition
    let mut current: Option<StreamObservation> = None;
    let mut root_seen = false;
    let mut error_code: Option<String> = None;
    let mut error_text = String::new();
    loop {
        let pos = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| err(reader.error_position(), e.to_string()))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if !root_seen {
                    root_seen = true;
                    if name == "MTConnectError" {
                        error_code = Some(String::new());
                    } else if name != "MTConnectStreams" {
                        return Err(err(
                            pos,
                            format!("<{name}> is no MTConnectStreams document"),
                        ));
                    }
                }
                match name.as_str() {
                    "Header" => {
                        let num = |k: &str| -> Result<u64, MtcError> {
                            let text = attribute(e, k).unwrap_or_default();
                            text.parse().map_err(|_| {
                                err(pos, format!("Header {} '{text}' is not a number", k))
                            })
                        };
                        out.header.instance_id = num("instanceId")?;
                        if error_code.is_none() {
                            out.header.first_sequence = num("firstSequence")?;
                            out.header.last_sequence = num("lastSequence")?;
                            out.header.next_sequence = num("nextSequence")?;
                        }
                    }
                    "DeviceStream" => device = attribute(e, "uuid").unwrap_or_default(),
                    "Samples" | "Events" | "Condition" => in_group = Some(depth + 1),
                    _ if in_group == Some(depth) => {
                        let timestamp = attribute(e, "timestamp")
                            .ok_or_else(|| err(pos, format!("<{name}> without timestamp")))?;
                        let t_ns =
                            parse_timestamp(&timestamp).map_err(|e| err(pos, e.to_string()))?;
                        let sequence = attribute(e, "sequence")
                            .and_then(|s| s.parse().ok())
                            .ok_or_else(|| {
                                err(pos, format!("<{name}> without a sequence number"))
                            })?;
                        let obs = StreamObservation {
                            device_uuid: device.clone(),
                            data_item_id: attribute(e, "dataItemId")
                                .ok_or_else(|| err(pos, format!("<{name}> without dataItemId")))?,
                            name: attribute(e, "name"),
                            element: name.clone(),
                            timestamp,
                            t_ns,
                            sequence,
                            value: String::new(),
                        };
                        if empty {
                            out.observations.push(obs);
                        } else {
                            current = Some(obs);
                        }
                    }
                    _ if error_code.as_deref() == Some("") && depth >= 2 => {
                        error_code = Some(attribute(e, "errorCode").unwrap_or(name.clone()));
                    }
                    _ => {}
                }
                if !empty {
                    depth += 1;
                }
            }
            Event::Text(t) => {
                let text = t.decode().map_err(|e| err(pos, e.to_string()))?;
                let text =
                    quick_xml::escape::unescape(&text).map_err(|e| err(pos, e.to_string()))?;
                if let Some(obs) = current.as_mut() {
                    obs.value.push_str(&text);
                } else if error_code.is_some() {
                    error_text.push_str(text.trim());
                    error_text.push(' ');
                }
            }
            Event::GeneralRef(r) => {
                let name = r.decode().map_err(|e| err(pos, e.to_string()))?;
                let ch = quick_xml::escape::resolve_predefined_entity(&name)
                    .ok_or_else(|| err(pos, format!("unknown entity &{name};")))?;
                if let Some(obs) = current.as_mut() {
                    obs.value.push_str(ch);
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                if in_group == Some(depth) {
                    if let Some(obs) = current.take() {
                        out.observations.push(obs);
                    }
                }
                if in_group.is_some_and(|g| depth < g) {
                    in_group = None;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(code) = error_code {
        return Err(MtcError::Agent {
            url: source.to_string(),
            code,
            message: error_text.trim().to_string(),
            instance_id: out.header.instance_id,
        });
    }
    if !root_seen {
        return Err(err(0, "empty document".into()));
    }
    Ok(out)
}
