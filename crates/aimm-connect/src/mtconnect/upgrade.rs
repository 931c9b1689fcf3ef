//! Device files of any MTConnect version (1.0–2.7) as the 2.7 agent serves them: the file is
//! checked (every `id` unique, every relationship typed and pointing at an id of the file: the
//! reference agent refuses such files too) and rewritten where 1.x/2.x forms are no longer
//! valid 2.7: ids that are no XML ID (`id="4"`) and the references to them, values outside the
//! 2.7 enumerations (as `x:` extension values, the form the schema leaves for them), dates
//! without a time, a `Filter` without its type, coordinate `…DataSet`s of `Entry`s.

use super::vocabulary::vocabulary;
use super::xml::attribute;
use super::xml::line_of;
use super::MtcError;
use quick_xml::events::{BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};
use std::borrow::Cow;
use std::collections::HashMap;

/// A device file rewritten as 2.7.
#[derive(Debug)]
pub struct Upgraded {
    /// The whole document, rewritten.
    pub xml: String,
    /// Ids that had to change, new → as in the file (adapters may still send the old one).
    pub renamed: HashMap<String, String>,
}

/// `id` as an XML ID (an NCName): characters an NCName cannot hold become `_`, and one that
/// cannot start it (a digit, as in 1.0 files' `id="4"`) gets a leading `_`.
pub fn published_id(id: &str) -> Cow<'_, str> {
    let name_char = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.');
    let starts_well = id
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_');
    if starts_well && id.chars().all(name_char) {
        return Cow::Borrowed(id);
    }
    let body: String = id
        .chars()
        .map(|c| if name_char(c) { c } else { '_' })
        .collect();
    Cow::Owned(if starts_well {
        body
    } else {
        format!("_{body}")
    })
}

/// Attributes that hold the id of another element of the file.
const REFERENCES: &[&str] = &[
    "idRef",
    "parentIdRef",
    "coordinateSystemIdRef",
    "solidModelIdRef",
    "dataItemIdRef",
    "compositionIdRef",
    "componentIdRef",
    "dataItemId",
    "componentId",
    "compositionId",
];

/// `value` if enumeration `enumeration` holds it, else as an extension value `x:VALUE` (the
/// 2.7 pattern `[a-ln-z][a-z]*:[A-Z_0-9]+`).
fn enumerated(enumeration: &str, value: &str) -> String {
    let known = vocabulary().devices_enum(enumeration);
    if known.iter().any(|k| k == value) {
        return value.to_string();
    }
    if let Some((prefix, local)) = value.split_once(':') {
        let prefix_ok = prefix.chars().all(|c| c.is_ascii_lowercase())
            && prefix.chars().next().is_some_and(|c| c != 'm');
        let local_ok = !local.is_empty()
            && local
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if prefix_ok && local_ok {
            return value.to_string();
        }
    }
    let local: String = value
        .rsplit(':')
        .next()
        .unwrap_or(value)
        .chars()
        .map(|c| {
            let c = c.to_ascii_uppercase();
            if c.is_ascii_uppercase() || c.is_ascii_digit() {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("x:{local}")
}

/// The 2.7 value of attribute `key` of element `element`, or `None` to drop it.
fn attribute_2_7(element: &str, key: &str, value: &str) -> Option<String> {
    let typed = matches!(
        element,
        "DataItem" | "EntryDefinition" | "CellDefinition" | "Specification"
    );
    Some(match key {
        "id" => published_id(value).into_owned(),
        k if REFERENCES.contains(&k) => published_id(value).into_owned(),
        "type" | "keyType" if typed => enumerated("DataItemEnumEnum", value),
        "subType" if typed => enumerated("DataItemSubEnumEnum", value),
        "units" => enumerated("UnitsEnum", value),
        "nativeUnits" => enumerated("NativeUnitsEnum", value),
        "criticality" => {
            // 1.x spelled NONCRITICAL with an underscore; the enumeration has no extensions.
            let plain = value.replace('_', "");
            let known = vocabulary().devices_enum("CriticalityEnumType");
            known.iter().find(|k| **k == plain)?.clone()
        }
        _ => value.to_string(),
    })
}

/// A date-only `YYYY-MM-DD` (1.x calibration dates) as the `xs:dateTime` 2.7 wants.
fn date_time(text: &str) -> Option<String> {
    let t = text.trim();
    let b = t.as_bytes();
    let date = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    date.then(|| format!("{t}T00:00:00Z"))
}

/// The `Device` being read: its place in the element stack, its id, whether it has
/// device-level `DataItems` and an AVAILABILITY data item among them.
struct OpenDevice {
    depth: usize,
    id: String,
    items: bool,
    available: bool,
}

impl OpenDevice {
    /// Like the reference agent, a device without AVAILABILITY gets one (older files lack it,
    /// and a device with no data item at all would leave its streams empty).
    fn availability(&mut self, out: &mut Writer<Vec<u8>>, with_list: bool) {
        let id = format!("{}_avail", published_id(&self.id));
        let mut item = BytesStart::new("DataItem");
        item.push_attribute(("id", id.as_str()));
        item.push_attribute(("type", "AVAILABILITY"));
        item.push_attribute(("category", "EVENT"));
        // Writing into a Vec cannot fail.
        if with_list {
            let _ = out.write_event(Event::Start(BytesStart::new("DataItems")));
        }
        let _ = out.write_event(Event::Empty(item));
        if with_list {
            let _ = out.write_event(Event::End(BytesStart::new("DataItems").to_end()));
        }
        self.items = true;
        self.available = true;
    }
}

/// Where an element starts, for error messages.
struct Seen {
    element: String,
    pos: u64,
}

/// Checks device file `source` and rewrites it as 2.7.
pub fn to_2_7(source: &str, xml: &str) -> Result<Upgraded, MtcError> {
    let err = |pos: u64, message: String| MtcError::Xml {
        input: source.to_string(),
        line: line_of(xml, pos),
        message,
    };
    let refused = |pos: u64, message: String| {
        MtcError::Model(format!(
            "{source}, line {}: {message}; the device file is refused",
            line_of(xml, pos)
        ))
    };
    let mut reader = Reader::from_str(xml);
    let mut out = Writer::new(Vec::with_capacity(xml.len() + 1024));
    let mut stack: Vec<String> = Vec::new();
    let mut ids: HashMap<String, Seen> = HashMap::new();
    let mut renamed = HashMap::new();
    // (relationship element, idRef, position): resolved once every id is known.
    let mut references: Vec<(String, String, u64)> = Vec::new();
    // An open coordinate `…DataSet`: the element it becomes and the entry values so far.
    let mut data_set: Option<(String, Vec<String>)> = None;
    let mut device: Option<OpenDevice> = None;
    // Open elements that have an id: (depth, element, id), to name a relationship's owner.
    let mut owners: Vec<(usize, String, String)> = Vec::new();
    loop {
        let pos = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| err(reader.error_position(), e.to_string()))?;
        let write = |out: &mut Writer<Vec<u8>>, e: Event<'_>| {
            // Writing into a Vec cannot fail.
            let _ = out.write_event(e);
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let parent = stack.last().map(String::as_str);
                let in_configuration = stack.iter().any(|s| s == "Configuration");
                if let (true, Some(_)) = (local == "Entry", data_set.as_ref()) {
                    if !empty {
                        stack.push(local);
                    }
                    continue;
                }
                if in_configuration && local.ends_with("DataSet") && !empty {
                    data_set = Some((local.trim_end_matches("DataSet").to_string(), Vec::new()));
                    stack.push(local);
                    continue;
                }
                if let Some(d) = device.as_mut().filter(|d| stack.len() == d.depth + 1) {
                    match local.as_str() {
                        "DataItems" => d.items = true,
                        "Components" | "Compositions" | "References" if !d.items => {
                            d.availability(&mut out, true)
                        }
                        _ => {}
                    }
                }
                let mut start = BytesStart::new(name.clone());
                let mut typed = false;
                let mut id_ref = None;
                for a in e.attributes() {
                    let a = a.map_err(|x| err(pos, x.to_string()))?;
                    let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                    let value = a
                        .unescape_value()
                        .map_err(|x| err(pos, x.to_string()))?
                        .into_owned();
                    typed |= key == "type";
                    if let Some(d) = device.as_mut() {
                        d.available |= local == "DataItem"
                            && stack.len() == d.depth + 2
                            && key == "type"
                            && value == "AVAILABILITY";
                    }
                    if key == "id" {
                        let new = published_id(&value).into_owned();
                        if let Some(first) = ids.get(&new) {
                            return Err(refused(
                                pos,
                                format!(
                                    "id '{value}' of <{local}> is already the id of <{}> (line {}); ids must be unique",
                                    first.element,
                                    line_of(xml, first.pos)
                                ),
                            ));
                        }
                        if new != value {
                            renamed.insert(new.clone(), value.clone());
                        }
                        ids.insert(
                            new,
                            Seen {
                                element: local.clone(),
                                pos,
                            },
                        );
                    }
                    if key == "idRef" {
                        id_ref = Some(value.clone());
                    }
                    if let Some(v) = attribute_2_7(&local, &key, &value) {
                        start.push_attribute((key.as_str(), v.as_str()));
                    }
                }
                if local.ends_with("Relationship") && parent == Some("Relationships") {
                    let tag = String::from_utf8_lossy(e.as_ref()).into_owned();
                    let description = match owners.last() {
                        Some((_, element, id)) => format!("<{tag}> of <{element}> '{id}'"),
                        None => format!("<{tag}>"),
                    };
                    if !typed {
                        return Err(refused(
                            pos,
                            format!("{description} has no type, which a relationship must have"),
                        ));
                    }
                    if let Some(r) = id_ref {
                        references.push((description, r, pos));
                    }
                }
                if local == "Filter" && !typed {
                    // 1.x filters were all minimum deltas.
                    start.push_attribute(("type", "MINIMUM_DELTA"));
                }
                if empty {
                    write(&mut out, Event::Empty(start));
                } else {
                    if local == "Device" && parent == Some("Devices") {
                        device = Some(OpenDevice {
                            depth: stack.len(),
                            id: attribute(e, "id").unwrap_or_default(),
                            items: false,
                            available: false,
                        });
                    }
                    if let Some(id) = attribute(e, "id") {
                        owners.push((stack.len(), local.clone(), id));
                    }
                    write(&mut out, Event::Start(start));
                    stack.push(local);
                }
            }
            Event::End(ref e) => {
                let local = stack.pop().unwrap_or_default();
                if owners
                    .last()
                    .is_some_and(|(depth, _, _)| *depth == stack.len())
                {
                    owners.pop();
                }
                match (&mut data_set, local.as_str()) {
                    (Some(_), "Entry") => continue,
                    (Some(_), l) if l.ends_with("DataSet") => {
                        let (name, values) = data_set.take().unwrap_or_default();
                        write(&mut out, Event::Start(BytesStart::new(name.as_str())));
                        write(&mut out, Event::Text(BytesText::new(&values.join(" "))));
                        write(
                            &mut out,
                            Event::End(BytesStart::new(name.as_str()).to_end()),
                        );
                        continue;
                    }
                    _ => {}
                }
                if let Some(d) = device.as_mut() {
                    match local.as_str() {
                        "DataItems" if stack.len() == d.depth + 1 && !d.available => {
                            d.availability(&mut out, false)
                        }
                        "Device" if stack.len() == d.depth => {
                            if !d.items {
                                d.availability(&mut out, true);
                            }
                            device = None;
                        }
                        _ => {}
                    }
                }
                write(&mut out, Event::End(e.clone()));
            }
            Event::Text(ref t) => {
                if let Some((_, values)) = data_set.as_mut() {
                    if stack.last().map(String::as_str) == Some("Entry") {
                        let text = t.decode().map_err(|x| err(pos, x.to_string()))?;
                        values.push(text.trim().to_string());
                    }
                    continue;
                }
                let text = t.decode().map_err(|x| err(pos, x.to_string()))?;
                match (
                    stack.last().is_some_and(|s| s.ends_with("Date")),
                    date_time(&text),
                ) {
                    (true, Some(dt)) => write(&mut out, Event::Text(BytesText::new(&dt))),
                    _ => write(&mut out, Event::Text(t.clone())),
                }
            }
            Event::Eof => break,
            other if data_set.is_none() => write(&mut out, other),
            _ => {}
        }
    }
    for (description, target, pos) in references {
        if !ids.contains_key(published_id(&target).as_ref()) {
            return Err(refused(
                pos,
                format!("{description} refers to id '{target}', which no element of the file has"),
            ));
        }
    }
    let xml = String::from_utf8(out.into_inner())
        .map_err(|e| err(0, format!("rewritten document is no UTF-8: {e}")))?;
    Ok(Upgraded { xml, renamed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_become_xml_ids() {
        assert_eq!(published_id("Xact"), "Xact");
        assert_eq!(published_id("4"), "_4");
        assert_eq!(published_id("a b/c"), "a_b_c");
    }

    #[test]
    fn older_forms_are_rewritten_and_broken_files_refused() {
        let file = r#"<Devices><Device id="1" name="d"><Configuration><CoordinateSystems>
<CoordinateSystem id="w" type="WORLD"><OriginDataSet><Entry key="X">1</Entry><Entry key="Y">2</Entry><Entry key="Z">3</Entry></OriginDataSet></CoordinateSystem>
</CoordinateSystems></Configuration><DataItems>
<DataItem id="2" type="COIL" category="EVENT" units="CELCIUS" nativeUnits="KILOAMPERE"><Constraints><Filter>5</Filter></Constraints></DataItem>
<DataItem id="t" type="TEMPERATURE" category="SAMPLE" units="CELSIUS"/></DataItems>
<CalibrationDate>2018-08-12</CalibrationDate></Device></Devices>"#;
        let up = to_2_7("f.xml", file).unwrap();
        for expected in [
            r#"<Device id="_1""#,
            "<Origin>1 2 3</Origin>",
            r#"type="x:COIL""#,
            r#"units="x:CELCIUS""#,
            r#"nativeUnits="x:KILOAMPERE""#,
            r#"<Filter type="MINIMUM_DELTA">5</Filter>"#,
            r#"units="CELSIUS""#,
            "2018-08-12T00:00:00Z",
        ] {
            assert!(up.xml.contains(expected), "{expected}: {}", up.xml);
        }
        assert_eq!(up.renamed.get("_2").map(String::as_str), Some("2"));
        assert_eq!(
            up.xml.lines().count(),
            file.lines().count(),
            "lines are kept"
        );

        let err = to_2_7("dup.xml", "<Device id=\"d\">\n<Door id=\"d\"/></Device>")
            .unwrap_err()
            .to_string();
        for part in ["dup.xml", "line 2", "'d'", "<Door>", "<Device>"] {
            assert!(err.contains(part), "{part}: {err}");
        }
        let err = to_2_7(
            "rel.xml",
            r#"<Device id="d"><Relationships><ComponentRelationship idRef="nowhere" type="PEER"/></Relationships></Device>"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("rel.xml") && err.contains("'nowhere'"),
            "{err}"
        );
    }
}
