//! The device model an agent publishes: devices, their components and data items, read from an
//! MTConnect `Devices` document (a device file such as cppagent's, or one aimm generates for the
//! machines in its store). `/probe` serves each device's XML as read, rewritten into 2.7 where
//! the file is of an older version (see [`super::upgrade`]); streams, SHDR key look-up and
//! signal mapping use the parsed data items.

use super::upgrade::to_2_7;
use super::vocabulary::vocabulary;
use super::xml::line_of;
use super::MtcError;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::collections::HashMap;

/// Whether a data item reports continuous values, discrete states or health conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// `SAMPLE`: a continuously variable, numeric value with units (e.g. a load or feedrate).
    Sample,
    /// `EVENT`: a discrete state or message (e.g. EXECUTION, TOOL_NUMBER).
    Event,
    /// `CONDITION`: the health of a component (Normal, Warning, Fault).
    Condition,
}

/// How a data item's value is represented (`representation` attribute).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Representation {
    /// `VALUE` (or the older `DISCRETE`, or none given): one value per observation.
    Value,
    /// `DATA_SET`: key/value entries per observation.
    DataSet,
    /// `TABLE`: rows of key/value entries per observation.
    Table,
    /// `TIME_SERIES`: a series of values sampled at a fixed rate per observation.
    TimeSeries,
}

/// One `DataItem` with the component it belongs to.
#[derive(Clone, Debug, PartialEq)]
pub struct DataItem {
    /// The `id` attribute, unique in the agent.
    pub id: String,
    /// The optional `name` attribute (SHDR adapters may use it as key).
    pub name: Option<String>,
    /// The `category` attribute.
    pub category: Category,
    /// `type`, e.g. `LOAD`.
    pub kind: String,
    /// The `subType` attribute, e.g. `ACTUAL` or `COMMANDED`.
    pub sub_type: Option<String>,
    /// The `units` the agent publishes in, e.g. `MILLIMETER/SECOND`.
    pub units: Option<String>,
    /// The `nativeUnits` the adapter sends in, e.g. `MILLIMETER/MINUTE`.
    pub native_units: Option<String>,
    /// The `representation` attribute.
    pub representation: Representation,
    /// Index of the owning device in [`DeviceModel::devices`].
    pub device: usize,
    /// Element name of the owning component (`Linear`, `Rotary`, `Path`, ... or `Device`).
    pub component: String,
    /// The owning component's `id` (the `componentId` of its ComponentStream).
    pub component_id: String,
    /// The owning component's `name`, if it has one.
    pub component_name: Option<String>,
    /// The owning component has a `ROTARY_VELOCITY` (1.x: `SPINDLE_SPEED`) data item: it turns
    /// a spindle.
    pub component_turns: bool,
    /// The text of its `<Source>` element: the key an adapter sends it under, looked up before
    /// the id and name (as the reference agent does).
    pub source: Option<String>,
}

impl DataItem {
    /// Element name in a Streams document: the type in PascalCase, plus the representation
    /// suffix (`PATH_FEEDRATE` → `PathFeedrate`, DATA_SET → `…DataSet`).
    pub fn element_name(&self) -> String {
        let mut out: String = self
            .kind
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => {
                        f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase()
                    }
                    None => String::new(),
                }
            })
            .collect();
        match self.representation {
            Representation::Value => {}
            Representation::DataSet => out.push_str("DataSet"),
            Representation::Table => out.push_str("Table"),
            Representation::TimeSeries => out.push_str("TimeSeries"),
        }
        out
    }

    /// Factor from the adapter's native units to the published units (MTConnect agents convert
    /// e.g. MILLIMETER/MINUTE feeds to MILLIMETER/SECOND); 1 when they agree or are unknown.
    pub fn native_scale(&self) -> f64 {
        match (self.native_units.as_deref(), self.units.as_deref()) {
            (Some(n), Some(u)) if n != u => units_factor(n, u).unwrap_or(1.0),
            _ => 1.0,
        }
    }
}

/// Conversion factors between the native/published unit pairs that occur in device files.
fn units_factor(native: &str, units: &str) -> Option<f64> {
    let per_minute = |n: &str, u: &str| {
        let (nb, nt) = n.split_once('/')?;
        let (ub, ut) = u.split_once('/')?;
        (nb == ub && nt == "MINUTE" && ut == "SECOND").then_some(1.0 / 60.0)
    };
    match (native, units) {
        ("KILOWATT", "WATT") => Some(1e3),
        ("INCH", "MILLIMETER") => Some(25.4),
        ("INCH/MINUTE", "MILLIMETER/SECOND") => Some(25.4 / 60.0),
        ("FOOT", "MILLIMETER") => Some(304.8),
        ("KILOWATT_HOUR", "WATT_SECOND") => Some(3.6e6),
        (n, u) => per_minute(n, u),
    }
}

/// One `Device` element.
#[derive(Clone, Debug, PartialEq)]
pub struct Device {
    /// The `id` attribute.
    pub id: String,
    /// The `name` attribute (the `id` when absent); aimm uses it as the machine id.
    pub name: String,
    /// The `uuid` attribute (the `id` when absent), stamped on the device's assets.
    pub uuid: String,
    /// The `<Device …>…</Device>` element exactly as read.
    pub xml: String,
}

/// All devices and data items an agent publishes.
#[derive(Clone, Debug, Default)]
pub struct DeviceModel {
    /// The devices in the order they were read.
    pub devices: Vec<Device>,
    /// Every device's data items; observations and signal maps refer to them by index.
    pub items: Vec<DataItem>,
    by_id: HashMap<String, usize>,
    /// Per device: data item id or name → item index (SHDR keys are either).
    by_key: Vec<HashMap<String, usize>>,
}

impl DeviceModel {
    /// Parses a `MTConnectDevices` document; `source` names it in errors.
    pub fn parse(source: &str, xml: &str) -> Result<Self, MtcError> {
        let mut model = DeviceModel::default();
        model.add_document(source, xml)?;
        Ok(model)
    }

    /// Adds the devices of another document; a device whose name is already known is skipped.
    /// A document with a duplicate id or a broken relationship is refused.
    pub fn add_document(&mut self, source: &str, xml: &str) -> Result<(), MtcError> {
        let upgraded = to_2_7(source, xml)?;
        let xml = upgraded.xml.as_str();
        let err = |pos: u64, message: String| MtcError::Xml {
            input: source.to_string(),
            line: line_of(xml, pos),
            message,
        };
        let mut reader = Reader::from_str(xml);
        // Open elements: (name, index into `components` when it is a component).
        let mut stack: Vec<(String, Option<usize>)> = Vec::new();
        let mut components: Vec<(String, String, Option<String>, Vec<usize>)> = Vec::new();
        let mut device_start: Option<(usize, Device, usize)> = None;
        let mut new_items: Vec<DataItem> = Vec::new();
        loop {
            let before = reader.buffer_position();
            let event = reader
                .read_event()
                .map_err(|e| err(reader.error_position(), e.to_string()))?;
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let empty = matches!(event, Event::Empty(_));
                    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    let parent = stack.last().map(|(n, _)| n.as_str());
                    let attrs = attributes(e).map_err(|m| err(before, m))?;
                    let mut component = None;
                    if name == "Device" && parent == Some("Devices") {
                        let get = |k: &str| attrs.get(k).cloned();
                        let id =
                            get("id").ok_or_else(|| err(before, "Device without id".into()))?;
                        let name = get("name").unwrap_or_else(|| id.clone());
                        let uuid = get("uuid").unwrap_or_else(|| id.clone());
                        device_start = Some((
                            before as usize,
                            Device {
                                id: id.clone(),
                                name: name.clone(),
                                uuid,
                                xml: String::new(),
                            },
                            new_items.len(),
                        ));
                        components.push(("Device".into(), id, Some(name), Vec::new()));
                        component = Some(components.len() - 1);
                    } else if parent == Some("Components") && device_start.is_some() {
                        let id = attrs
                            .get("id")
                            .cloned()
                            .ok_or_else(|| err(before, format!("component <{name}> without id")))?;
                        components.push((name.clone(), id, attrs.get("name").cloned(), Vec::new()));
                        component = Some(components.len() - 1);
                    } else if name == "DataItem" && parent == Some("DataItems") {
                        let owner = stack
                            .iter()
                            .rev()
                            .find_map(|(_, c)| *c)
                            .ok_or_else(|| err(before, "DataItem outside a device".into()))?;
                        let item = data_item(&attrs).map_err(|m| err(before, m))?;
                        components[owner].3.push(new_items.len());
                        let (comp, comp_id, comp_name, _) = &components[owner];
                        new_items.push(DataItem {
                            component: comp.clone(),
                            component_id: comp_id.clone(),
                            component_name: comp_name.clone(),
                            ..item
                        });
                    }
                    if !empty {
                        stack.push((name, component));
                    }
                }
                Event::Text(ref t)
                    if stack.last().map(|(n, _)| n.as_str()) == Some("Source")
                        && stack.iter().rev().nth(1).map(|(n, _)| n.as_str())
                            == Some("DataItem") =>
                {
                    let raw = t.decode().map_err(|e| err(before, e.to_string()))?;
                    let key = quick_xml::escape::unescape(&raw)
                        .map_err(|e| err(before, e.to_string()))?
                        .trim()
                        .to_string();
                    if let (false, Some(item)) = (key.is_empty(), new_items.last_mut()) {
                        item.source = Some(key);
                    }
                }
                Event::End(ref e) => {
                    let (name, component) = stack
                        .pop()
                        .ok_or_else(|| err(before, "unbalanced end tag".into()))?;
                    if e.local_name().as_ref() != name.as_bytes() {
                        return Err(err(before, format!("</{name}> expected")));
                    }
                    if let Some(c) = component {
                        // SPINDLE_SPEED is the 1.x name of ROTARY_VELOCITY.
                        let turns = components[c].3.iter().any(|&i| {
                            matches!(
                                new_items[i].kind.as_str(),
                                "ROTARY_VELOCITY" | "SPINDLE_SPEED"
                            )
                        });
                        for &i in &components[c].3 {
                            new_items[i].component_turns = turns;
                        }
                    }
                    if name == "Device" && stack.last().map(|(n, _)| n.as_str()) == Some("Devices")
                    {
                        let (start, mut device, first_item) = device_start
                            .take()
                            .ok_or_else(|| err(before, "</Device> without start".into()))?;
                        let end = reader.buffer_position() as usize;
                        device.xml = xml[start..end].trim().to_string();
                        let items = new_items.split_off(first_item);
                        if self.devices.iter().any(|d| d.name == device.name) {
                            tracing::info!(
                                "{source}: device '{}' already published, skipped",
                                device.name
                            );
                        } else {
                            self.push_device(source, device, items, &upgraded.renamed)?;
                        }
                        components.clear();
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if !stack.is_empty() {
            return Err(err(
                xml.len() as u64,
                "document ends inside an element".into(),
            ));
        }
        Ok(())
    }

    fn push_device(
        &mut self,
        source: &str,
        device: Device,
        items: Vec<DataItem>,
        renamed: &HashMap<String, String>,
    ) -> Result<(), MtcError> {
        let index = self.devices.len();
        let mut keys = HashMap::new();
        let mut sources = Vec::new();
        for mut item in items {
            item.device = index;
            // Streams place an observation by its element, whatever category an older file
            // declared (test_config.xml has a PATH_POSITION EVENT, a sample in 2.7).
            if item.category != Category::Condition {
                match vocabulary().observation_group(&item.element_name()) {
                    Some("Sample") => item.category = Category::Sample,
                    Some("Event") => item.category = Category::Event,
                    _ => {}
                }
            }
            let i = self.items.len();
            if self.by_id.insert(item.id.clone(), i).is_some() {
                return Err(MtcError::Model(format!(
                    "{source}: data item id '{}' is used twice",
                    item.id
                )));
            }
            if let Some(name) = &item.name {
                keys.entry(name.clone()).or_insert(i);
            }
            keys.insert(item.id.clone(), i);
            // An adapter written for the file, or an older agent serving it, still uses an id
            // the upgrade had to change.
            if let Some(old) = renamed.get(&item.id) {
                keys.insert(old.clone(), i);
                self.by_id.insert(old.clone(), i);
            }
            sources.extend(item.source.clone().map(|s| (s, i)));
            self.items.push(item);
        }
        // A Source key wins over an id or name that happens to be the same text.
        keys.extend(sources);
        self.devices.push(device);
        self.by_key.push(keys);
        Ok(())
    }

    /// The data item an SHDR key of `device` names (by `<Source>`, id or name).
    pub fn item_by_key(&self, device: usize, key: &str) -> Option<usize> {
        self.by_key.get(device)?.get(key).copied()
    }

    /// The data item with the `id` `id`, of any device.
    pub fn item_by_id(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// Index of the device named `name` (or with that uuid or id).
    pub fn device_by_name(&self, name: &str) -> Option<usize> {
        self.devices
            .iter()
            .position(|d| d.name == name || d.uuid == name || d.id == name)
    }
}

fn attributes(e: &BytesStart<'_>) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
        let value = a.unescape_value().map_err(|e| e.to_string())?.into_owned();
        out.insert(key, value);
    }
    Ok(out)
}

fn data_item(attrs: &HashMap<String, String>) -> Result<DataItem, String> {
    let get = |k: &str| attrs.get(k).cloned();
    let id = get("id").ok_or("DataItem without id")?;
    let kind = get("type").ok_or_else(|| format!("DataItem '{id}' without type"))?;
    let category = match attrs.get("category").map(String::as_str) {
        Some("SAMPLE") => Category::Sample,
        Some("EVENT") => Category::Event,
        Some("CONDITION") => Category::Condition,
        other => return Err(format!("DataItem '{id}': category {other:?}")),
    };
    let representation = match attrs.get("representation").map(String::as_str) {
        None | Some("VALUE") | Some("DISCRETE") => Representation::Value,
        Some("DATA_SET") => Representation::DataSet,
        Some("TABLE") => Representation::Table,
        Some("TIME_SERIES") => Representation::TimeSeries,
        Some(other) => return Err(format!("DataItem '{id}': representation '{other}'")),
    };
    Ok(DataItem {
        id,
        name: get("name"),
        category,
        kind,
        sub_type: get("subType"),
        units: get("units"),
        native_units: get("nativeUnits"),
        representation,
        device: 0,
        component: String::new(),
        component_id: String::new(),
        component_name: None,
        component_turns: false,
        source: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_names_and_unit_conversion() {
        let model = DeviceModel::parse(
            "t.xml",
            r#"<MTConnectDevices><Devices><Device id="d" name="M" uuid="u"><DataItems>
               <DataItem id="a" category="EVENT" type="AVAILABILITY"/></DataItems><Components>
               <Controller id="c"><Components><Path id="p"><DataItems>
               <DataItem id="f" name="Fact" category="SAMPLE" type="PATH_FEEDRATE" subType="ACTUAL"
                 units="MILLIMETER/SECOND" nativeUnits="MILLIMETER/MINUTE"/>
               </DataItems></Path></Components></Controller></Components></Device></Devices>
               </MTConnectDevices>"#,
        )
        .unwrap();
        assert_eq!(model.devices.len(), 1);
        assert!(model.devices[0].xml.starts_with("<Device id=\"d\""));
        assert!(model.devices[0].xml.ends_with("</Device>"));
        let f = &model.items[model.item_by_key(0, "Fact").unwrap()];
        assert_eq!(f.element_name(), "PathFeedrate");
        assert_eq!(f.component, "Path");
        assert!((f.native_scale() * 600.0 - 10.0).abs() < 1e-12);
        assert_eq!(model.item_by_key(0, "a"), Some(0));
    }

    #[test]
    fn an_id_changed_into_an_xml_id_is_still_found_by_the_old_one() {
        let model = DeviceModel::parse(
            "old.xml",
            r#"<MTConnectDevices><Devices><Device id="1" name="M"><DataItems>
               <DataItem id="4" category="EVENT" type="AVAILABILITY"/></DataItems></Device>
               </Devices></MTConnectDevices>"#,
        )
        .unwrap();
        assert_eq!(model.items[0].id, "_4");
        assert_eq!(model.item_by_id("4"), Some(0));
        assert_eq!(model.item_by_key(0, "4"), Some(0));
        assert!(model.devices[0].xml.contains(r#"id="_4""#));
    }

    #[test]
    fn malformed_xml_names_source_and_line() {
        let err = DeviceModel::parse("bad.xml", "<Devices>\n<Device id=\"d\">\n</Devise>")
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.xml") && err.contains("line 3"), "{err}");
    }
}
