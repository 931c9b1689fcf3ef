//! The agent's asset buffer: assets (cutting tools) as adapters send them with `@ASSET@` or as
//! aimm builds them from its tool table, each stamped with `timestamp` and `deviceUuid` on its
//! root element as the Assets schema requires; removed assets stay listed with `removed="true"`.

use super::shdr::format_timestamp;
use super::xml::line_of;
use super::MtcError;
use aimm_model::TimeNs;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, Writer};

/// One asset document.
#[derive(Clone, Debug, PartialEq)]
pub struct Asset {
    /// The `assetId`.
    pub id: String,
    /// The asset type, the root element's name (e.g. `CuttingTool`).
    pub asset_type: String,
    /// The `deviceUuid` of the device the asset belongs to.
    pub device_uuid: String,
    /// The asset's `timestamp`: when it was last added, changed or removed, ns since the Unix
    /// epoch (UTC).
    pub t_ns: TimeNs,
    /// Removed (`removed="true"`): listed only when `/assets` asks for removed assets.
    pub removed: bool,
    /// The asset element with the agent's attributes set.
    pub xml: String,
    /// The body as received, for re-stamping on removal.
    source_xml: String,
}

/// Assets by id in arrival order, at most `capacity` (the oldest are dropped).
#[derive(Debug)]
pub struct AssetBuffer {
    assets: Vec<Asset>,
    capacity: usize,
}

impl AssetBuffer {
    /// An empty buffer keeping at most `capacity` assets (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            assets: Vec::new(),
            capacity: capacity.max(1),
        }
    }

    /// The most assets held (the header's `assetBufferSize`).
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Adds or replaces asset `id`; `place` names the source in errors (malformed XML, or a
    /// body whose `assetId` disagrees with the command's).
    pub fn put(
        &mut self,
        place: &str,
        id: &str,
        asset_type: &str,
        device_uuid: &str,
        t_ns: TimeNs,
        body: &str,
    ) -> Result<(), MtcError> {
        let xml = stamp(place, body, id, asset_type, device_uuid, t_ns, false)?;
        self.assets.retain(|a| a.id != id);
        if self.assets.len() == self.capacity {
            self.assets.remove(0);
        }
        self.assets.push(Asset {
            id: id.to_string(),
            asset_type: asset_type.to_string(),
            device_uuid: device_uuid.to_string(),
            t_ns,
            removed: false,
            xml,
            source_xml: body.to_string(),
        });
        Ok(())
    }

    /// Marks asset `id` (or, with `id` `None`, every asset of `asset_type`) of device
    /// `device_uuid` removed.
    pub fn remove(&mut self, id: Option<&str>, asset_type: &str, device_uuid: &str, t_ns: TimeNs) {
        for a in &mut self.assets {
            let hit = a.device_uuid == device_uuid
                && match id {
                    Some(id) => a.id == id,
                    None => asset_type.is_empty() || a.asset_type == asset_type,
                };
            if hit && !a.removed {
                // The body was stamped once already, so it is well-formed.
                if let Ok(xml) = stamp(
                    "",
                    &a.source_xml,
                    &a.id,
                    &a.asset_type,
                    &a.device_uuid,
                    t_ns,
                    true,
                ) {
                    a.xml = xml;
                    a.removed = true;
                    a.t_ns = t_ns;
                }
            }
        }
    }

    /// Assets not removed (or all with `removed`), newest first, optionally of one type.
    pub fn list(&self, asset_type: Option<&str>, removed: bool) -> Vec<&Asset> {
        self.assets
            .iter()
            .rev()
            .filter(|a| (removed || !a.removed) && asset_type.is_none_or(|t| a.asset_type == t))
            .collect()
    }

    /// The asset with id `id` (removed ones too: asking by id is asking for that one).
    pub fn get(&self, id: &str) -> Option<&Asset> {
        self.assets.iter().find(|a| a.id == id)
    }

    /// Number of assets not removed.
    pub fn count(&self) -> usize {
        self.assets.iter().filter(|a| !a.removed).count()
    }
}

/// Child order the 2.7 Assets schema prescribes for the elements adapters most often send in
/// another order (cppagent re-serialises from its model; aimm re-orders the elements as read).
const CHILD_ORDER: &[(&str, &[&str])] = &[
    (
        "CuttingTool",
        &[
            "CuttingToolDefinition",
            "CuttingToolLifeCycle",
            "Description",
            "Configuration",
        ],
    ),
    (
        "CuttingToolLifeCycle",
        &[
            "CutterStatus",
            "ReconditionCount",
            "ToolLife",
            "ProgramToolGroup",
            "ProgramToolNumber",
            "Location",
            "ProcessSpindleSpeed",
            "ProcessFeedRate",
            "ConnectionCodeMachineSide",
            "Measurements",
            "CuttingItems",
        ],
    ),
];

/// An element with its content, or any other XML event.
enum Node {
    Element {
        start: BytesStart<'static>,
        children: Vec<Node>,
    },
    Empty(BytesStart<'static>),
    Other(Event<'static>),
}

impl Node {
    fn name(&self) -> Option<Vec<u8>> {
        match self {
            Node::Element { start, .. } | Node::Empty(start) => {
                Some(start.local_name().as_ref().to_vec())
            }
            Node::Other(_) => None,
        }
    }
}

/// Reads the children of the current element (or the document) up to its end.
fn read_nodes(
    reader: &mut Reader<&[u8]>,
    err: &dyn Fn(u64, String) -> MtcError,
    top: bool,
) -> Result<Vec<Node>, MtcError> {
    let mut nodes = Vec::new();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| err(reader.error_position(), e.to_string()))?;
        match event {
            Event::Eof if top => return Ok(nodes),
            Event::Eof => return Err(err(reader.buffer_position(), "unclosed element".into())),
            Event::End(_) if !top => return Ok(nodes),
            Event::End(_) => {
                return Err(err(reader.buffer_position(), "unbalanced end tag".into()))
            }
            Event::Start(e) => {
                let children = read_nodes(reader, err, false)?;
                nodes.push(Node::Element {
                    start: e.into_owned(),
                    children,
                });
            }
            Event::Empty(e) => nodes.push(Node::Empty(e.into_owned())),
            Event::Decl(_) | Event::DocType(_) | Event::PI(_) => {}
            other => nodes.push(Node::Other(other.into_owned())),
        }
    }
}

fn write_nodes(w: &mut Writer<Vec<u8>>, nodes: Vec<Node>, order: Option<&[&str]>) {
    let mut nodes = nodes;
    if let Some(order) = order {
        // Stable: unknown elements (and text between elements) keep their place at the end.
        let rank = |n: &Node| {
            n.name()
                .and_then(|name| order.iter().position(|o| o.as_bytes() == name.as_slice()))
                .unwrap_or(order.len())
        };
        nodes.sort_by_key(rank);
    }
    for node in nodes {
        // Writing into a Vec cannot fail.
        match node {
            Node::Element { start, children } => {
                let name = start.local_name().as_ref().to_vec();
                let order = CHILD_ORDER
                    .iter()
                    .find(|(p, _)| p.as_bytes() == name.as_slice())
                    .map(|(_, o)| *o);
                let end = start.to_end().into_owned();
                let _ = w.write_event(Event::Start(start));
                write_nodes(w, children, order);
                let _ = w.write_event(Event::End(end));
            }
            Node::Empty(start) => {
                let _ = w.write_event(Event::Empty(start));
            }
            Node::Other(event) => {
                let _ = w.write_event(event);
            }
        }
    }
}

/// Copies `body`, setting `assetId`, `timestamp`, `deviceUuid` (and `removed`) on its root and
/// putting children in schema order.
fn stamp(
    place: &str,
    body: &str,
    id: &str,
    asset_type: &str,
    device_uuid: &str,
    t_ns: TimeNs,
    removed: bool,
) -> Result<String, MtcError> {
    let err = |pos: u64, message: String| MtcError::Xml {
        input: format!("{place} asset {id}"),
        line: line_of(body, pos),
        message,
    };
    let mut reader = Reader::from_str(body);
    let nodes = read_nodes(&mut reader, &err, true)?;
    let mut roots = nodes.into_iter().filter(|n| match n {
        Node::Other(Event::Text(t)) => !t.iter().all(u8::is_ascii_whitespace),
        _ => true,
    });
    let (Some(root), None) = (roots.next(), roots.next()) else {
        return Err(err(0, "expected exactly one asset element".into()));
    };
    let (start, children) = match root {
        Node::Element { start, children } => (start, Some(children)),
        Node::Empty(start) => (start, None),
        Node::Other(_) => return Err(err(0, "expected an asset element, found text".into())),
    };
    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    if name != asset_type {
        return Err(err(
            0,
            format!("root element <{name}> is not the asset type {asset_type}"),
        ));
    }
    let mut root = BytesStart::new(name);
    for a in start.attributes() {
        let a = a.map_err(|e| err(0, e.to_string()))?;
        if !matches!(
            a.key.as_ref(),
            b"assetId" | b"timestamp" | b"deviceUuid" | b"removed"
        ) {
            root.push_attribute(a);
        }
    }
    let t = format_timestamp(t_ns);
    root.push_attribute(("assetId", id));
    root.push_attribute(("timestamp", t.as_str()));
    root.push_attribute(("deviceUuid", device_uuid));
    if removed {
        root.push_attribute(("removed", "true"));
    }
    let mut writer = Writer::new(Vec::with_capacity(body.len() + 128));
    let node = match children {
        Some(children) => Node::Element {
            start: root,
            children,
        },
        None => Node::Empty(root),
    };
    write_nodes(&mut writer, vec![node], None);
    Ok(String::from_utf8_lossy(&writer.into_inner()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOOL: &str = "<CuttingTool toolId=\"7\" assetId=\"x\"><Description/>\
        <CuttingToolLifeCycle><ToolLife type=\"MINUTES\">5</ToolLife><CutterStatus>\
        <Status>USED</Status></CutterStatus></CuttingToolLifeCycle></CuttingTool>";

    #[test]
    fn stamps_reorders_and_removes_per_device() {
        let mut b = AssetBuffer::new(10);
        b.put("a", "t.7", "CuttingTool", "dev-a", 0, TOOL).unwrap();
        b.put("b", "t.8", "CuttingTool", "dev-b", 0, TOOL).unwrap();
        let xml = &b.list(None, false)[1].xml;
        assert!(xml.starts_with(
            "<CuttingTool toolId=\"7\" assetId=\"t.7\" timestamp=\"1970-01-01T00:00:00.000000Z\" deviceUuid=\"dev-a\">"
        ), "{xml}");
        // Schema order: life cycle before description, cutter status before tool life.
        let (lc, desc) = (
            xml.find("<CuttingToolLifeCycle>").unwrap(),
            xml.find("<Description/>").unwrap(),
        );
        assert!(lc < desc);
        assert!(xml.find("<CutterStatus>").unwrap() < xml.find("<ToolLife").unwrap());
        b.remove(None, "CuttingTool", "dev-b", 5);
        assert_eq!(b.count(), 1);
        assert_eq!(b.list(None, false)[0].id, "t.7");
        let removed = b.list(None, true);
        assert!(removed
            .iter()
            .any(|a| a.id == "t.8" && a.xml.contains("removed=\"true\"")));
    }

    #[test]
    fn malformed_body_names_place_and_line() {
        let mut b = AssetBuffer::new(10);
        let err = b
            .put(
                "okuma.shdr:13",
                "t.1",
                "CuttingTool",
                "d",
                0,
                "<CuttingTool>\n<Oops></CuttingTool>",
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("okuma.shdr:13 asset t.1") && err.contains("line 2"),
            "{err}"
        );
        assert_eq!(b.count(), 0);
    }
}
