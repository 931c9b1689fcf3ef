//! The MTConnect 2.7 vocabulary, read once from the 2.7 XSDs aimm's documents declare (the XSD
//! 1.0 variants in `testdata/mtconnect/schemas`, embedded): the enumerations a device file's
//! attributes are checked against (data item types and subtypes, units), and for every
//! observation element of a Streams document the kind of value the schema lets it hold. The
//! agent publishes only what these say is valid, so its documents hold whatever the device file
//! declared and the adapter sent; reading the schemas themselves keeps that in step with them.

use super::xml::attribute;
use quick_xml::events::Event;
use quick_xml::Reader;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

const DEVICES_XSD: &str =
    include_str!("../../../../testdata/mtconnect/schemas/MTConnectDevices_2.7_1.0.xsd");
const STREAMS_XSD: &str =
    include_str!("../../../../testdata/mtconnect/schemas/MTConnectStreams_2.7_1.0.xsd");

/// What the text of an observation element may be (besides `UNAVAILABLE`, always allowed).
#[derive(Clone, Debug, PartialEq)]
pub enum ValueKind {
    /// One `xs:float`.
    Float,
    /// One `xs:integer`.
    Integer,
    /// Exactly three floats (a position or vector).
    ThreeSpace,
    /// Any number of floats (a time series; the element carries `sampleCount`).
    FloatList,
    /// An `xs:dateTime`.
    DateTime,
    /// Any string.
    Text,
    /// One of a controlled vocabulary.
    Enum(HashSet<String>),
    /// `Entry` elements (key = NMTOKEN) holding values of this kind, with `count`.
    DataSet(Box<ValueKind>),
    /// `Entry` elements each holding `Cell` elements of this kind, with `count`.
    Table(Box<ValueKind>),
}

#[derive(Debug)]
enum Simple {
    Enum(Vec<String>),
    Union(Vec<String>),
    Restriction { base: String, length: Option<usize> },
    List,
}

#[derive(Debug, Default)]
struct Complex {
    base: Option<String>,
    /// Base of the anonymous simple type a `simpleContent` restriction narrows the value to.
    value: Option<String>,
    /// Types of the local `Entry` and `Cell` elements, for data sets and tables.
    entry: Option<String>,
    cell: Option<String>,
    /// Attributes declared `use='required'` on the type itself.
    required: Vec<String>,
}

#[derive(Debug, Default)]
struct Schema {
    simple: HashMap<String, Simple>,
    complex: HashMap<String, Complex>,
    /// Global element name → its type.
    elements: HashMap<String, String>,
    /// Global element name → the substitution group it belongs to.
    groups: HashMap<String, String>,
}

impl Schema {
    /// Reads the named simple and complex types and global elements of an MTConnect XSD (their
    /// layout is generated, so the few forms below are all it uses).
    fn parse(xsd: &str) -> Self {
        let mut schema = Schema::default();
        let mut reader = Reader::from_str(xsd);
        // Open element local names, and the top-level type being read.
        let mut stack: Vec<String> = Vec::new();
        let mut simple: Option<(String, Option<Simple>)> = None;
        let mut complex: Option<(String, Complex)> = None;
        while let Ok(event) = reader.read_event() {
            let (e, empty) = match &event {
                Event::Start(e) => (e.clone(), false),
                Event::Empty(e) => (e.clone(), true),
                Event::End(_) => {
                    let name = stack.pop().unwrap_or_default();
                    if stack.len() == 1 {
                        if let (Some((n, Some(s))), "simpleType") = (simple.take(), name.as_str()) {
                            schema.simple.insert(n, s);
                        }
                        if let (Some((n, c)), "complexType") = (complex.take(), name.as_str()) {
                            schema.complex.insert(n, c);
                        }
                    }
                    continue;
                }
                Event::Eof => break,
                _ => continue,
            };
            let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
            let depth = stack.len();
            match (name.as_str(), depth) {
                ("simpleType", 1) => simple = attribute(&e, "name").map(|n| (n, None)),
                ("complexType", 1) => {
                    complex = attribute(&e, "name").map(|n| (n, Complex::default()))
                }
                ("element", 1) => {
                    if let (Some(n), Some(t)) = (attribute(&e, "name"), attribute(&e, "type")) {
                        if let Some(g) = attribute(&e, "substitutionGroup") {
                            schema.groups.insert(n.clone(), g);
                        }
                        schema.elements.insert(n, t);
                    }
                }
                _ => {}
            }
            if let Some((_, s)) = simple.as_mut() {
                match name.as_str() {
                    "enumeration" => {
                        let value = attribute(&e, "value").unwrap_or_default();
                        match s {
                            Some(Simple::Enum(values)) => values.push(value),
                            _ => *s = Some(Simple::Enum(vec![value])),
                        }
                    }
                    "union" => {
                        let members = attribute(&e, "memberTypes").unwrap_or_default();
                        *s = Some(Simple::Union(
                            members.split_whitespace().map(String::from).collect(),
                        ));
                    }
                    "list" => *s = Some(Simple::List),
                    "restriction" if s.is_none() => {
                        *s = Some(Simple::Restriction {
                            base: attribute(&e, "base").unwrap_or_default(),
                            length: None,
                        })
                    }
                    "minLength" | "maxLength" | "length" => {
                        if let Some(Simple::Restriction { length, .. }) = s {
                            *length = attribute(&e, "value").and_then(|v| v.parse().ok());
                        }
                    }
                    _ => {}
                }
            }
            if let Some((_, c)) = complex.as_mut() {
                let parent = stack.last().map(String::as_str);
                match (name.as_str(), parent) {
                    ("restriction" | "extension", Some("simpleContent" | "complexContent")) => {
                        c.base = attribute(&e, "base")
                    }
                    ("restriction", Some("simpleType")) => c.value = attribute(&e, "base"),
                    ("attribute", _) if attribute(&e, "use").as_deref() == Some("required") => {
                        c.required.extend(attribute(&e, "name"))
                    }
                    ("element", _) => match attribute(&e, "name").as_deref() {
                        Some("Entry") => c.entry = attribute(&e, "type"),
                        Some("Cell") => c.cell = attribute(&e, "type"),
                        _ => {}
                    },
                    _ => {}
                }
            }
            if !empty {
                stack.push(name);
            }
        }
        schema
    }

    fn enumeration(&self, name: &str) -> Option<&[String]> {
        match self.simple.get(name)? {
            Simple::Enum(values) => Some(values),
            _ => None,
        }
    }

    fn simple_kind(&self, name: &str) -> ValueKind {
        match name {
            "xs:float" | "xs:double" | "xs:decimal" => return ValueKind::Float,
            "xs:integer" | "xs:int" | "xs:long" | "xs:nonNegativeInteger" => {
                return ValueKind::Integer
            }
            "xs:dateTime" => return ValueKind::DateTime,
            _ => {}
        }
        match self.simple.get(name) {
            Some(Simple::Enum(values)) => ValueKind::Enum(values.iter().cloned().collect()),
            Some(Simple::Union(members)) => members
                .iter()
                .find(|m| *m != "UnavailableValueType")
                .map_or(ValueKind::Text, |m| self.simple_kind(m)),
            Some(Simple::Restriction { base, length }) => match (self.simple_kind(base), length) {
                (ValueKind::FloatList, Some(3)) => ValueKind::ThreeSpace,
                (kind, _) => kind,
            },
            Some(Simple::List) => ValueKind::FloatList,
            None => ValueKind::Text,
        }
    }

    /// The required attributes of complex type `name` and its bases.
    fn required(&self, name: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut next = Some(name);
        while let Some(c) = next.and_then(|n| self.complex.get(n)) {
            out.extend(c.required.iter().map(String::as_str));
            next = c.base.as_deref();
        }
        out
    }

    fn complex_kind(&self, name: &str) -> ValueKind {
        let Some(c) = self.complex.get(name) else {
            return self.simple_kind(name);
        };
        if let Some(entry) = &c.entry {
            let cell = self.complex.get(entry).and_then(|e| e.cell.as_ref());
            return match cell {
                Some(cell) => ValueKind::Table(Box::new(self.complex_kind(cell))),
                None => ValueKind::DataSet(Box::new(self.complex_kind(entry))),
            };
        }
        match (&c.value, &c.base) {
            (Some(value), _) => self.simple_kind(value),
            (None, Some(base)) => self.complex_kind(base),
            (None, None) => ValueKind::Text,
        }
    }
}

/// The parts of the 2.7 schemas the agent checks against.
#[derive(Debug)]
pub struct Vocabulary {
    devices: Schema,
    streams: Schema,
}

/// The vocabulary, read from the embedded schemas on first use.
pub fn vocabulary() -> &'static Vocabulary {
    static VOCABULARY: OnceLock<Vocabulary> = OnceLock::new();
    VOCABULARY.get_or_init(|| Vocabulary {
        devices: Schema::parse(DEVICES_XSD),
        streams: Schema::parse(STREAMS_XSD),
    })
}

impl Vocabulary {
    /// The values of enumeration `name` of the Devices schema (e.g. `UnitsEnum`).
    pub fn devices_enum(&self, name: &str) -> &[String] {
        self.devices.enumeration(name).unwrap_or_default()
    }

    /// Whether observation element `element` goes under `Samples` (`"Sample"`), `Events`
    /// (`"Event"`) or `Condition`, following its substitution groups.
    pub fn observation_group(&self, element: &str) -> Option<&str> {
        let mut name = element;
        // Bounded: a schema whose groups formed a cycle must not hang the agent.
        for _ in 0..16 {
            let group = self.streams.groups.get(name)?;
            if matches!(group.as_str(), "Sample" | "Event" | "Condition") {
                return Some(group);
            }
            name = group;
        }
        None
    }

    /// Whether the Streams schema knows data item type `kind` (a Condition's `type`).
    pub fn streams_type(&self, kind: &str) -> bool {
        self.streams
            .enumeration("DataItemEnumEnum")
            .is_some_and(|v| v.iter().any(|k| k == kind))
    }

    /// Whether the Streams schema knows `subType` value `sub_type`.
    pub fn streams_sub_type(&self, sub_type: &str) -> bool {
        self.streams
            .enumeration("DataItemSubEnumEnum")
            .is_some_and(|v| v.iter().any(|k| k == sub_type))
    }

    /// The value kind of Streams observation element `element` (e.g. `Execution`,
    /// `VariableDataSet`); `None` when the schema has no such element, or one that requires
    /// attributes an SHDR value does not give (the 1.x `Alarm`'s `code`).
    pub fn observation(&self, element: &str) -> Option<ValueKind> {
        const WRITTEN: &[&str] = &[
            "dataItemId",
            "timestamp",
            "sequence",
            "count",
            "sampleCount",
        ];
        let t = self.streams.elements.get(element)?;
        if self
            .streams
            .required(t)
            .iter()
            .any(|a| !WRITTEN.contains(a))
        {
            return None;
        }
        Some(self.streams.complex_kind(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_streams_schema() {
        let v = vocabulary();
        assert_eq!(v.observation("Load"), Some(ValueKind::Float));
        assert_eq!(v.observation("PartCount"), Some(ValueKind::Integer));
        assert_eq!(v.observation("PathPosition"), Some(ValueKind::ThreeSpace));
        assert_eq!(v.observation("LoadTimeSeries"), Some(ValueKind::FloatList));
        assert_eq!(v.observation("Program"), Some(ValueKind::Text));
        assert!(
            matches!(v.observation("Execution"), Some(ValueKind::Enum(e)) if e.contains("ACTIVE"))
        );
        assert_eq!(
            v.observation("VariableDataSet"),
            Some(ValueKind::DataSet(Box::new(ValueKind::Text)))
        );
        assert!(matches!(
            v.observation("WorkOffsetTable"),
            Some(ValueKind::Table(_))
        ));
        assert_eq!(v.observation("Coil"), None);
        assert_eq!(v.observation_group("PathPosition"), Some("Sample"));
        assert_eq!(v.observation_group("Message"), Some("Event"));
        assert_eq!(v.observation("Alarm"), None, "needs code and nativeCode");
        assert!(v.streams_type("LOAD") && !v.streams_type("COIL"));
        assert!(v.devices_enum("UnitsEnum").iter().any(|u| u == "CELSIUS"));
        assert!(v.devices_enum("NativeUnitsEnum").len() > 50);
    }
}
