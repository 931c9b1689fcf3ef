//! Sparkplug B topic names: `spBv1.0/{group}/{message type}/{edge node}[/{device}]`
//! (Eclipse Sparkplug 3.0, "Topic Namespace Elements").

use std::fmt;

/// The namespace every Sparkplug B topic starts with.
pub const NAMESPACE: &str = "spBv1.0";

/// What a Sparkplug message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// `NBIRTH`: an edge node came online; carries all its metrics and its `bdSeq`.
    NBirth,
    /// `NDEATH`: an edge node went offline (usually its MQTT last will); carries `bdSeq`.
    NDeath,
    /// `DBIRTH`: a device of an edge node came online; carries all its metrics with aliases.
    DBirth,
    /// `DDEATH`: a device went offline.
    DDeath,
    /// `NDATA`: changed metrics of an edge node.
    NData,
    /// `DDATA`: changed metrics of a device.
    DData,
    /// `NCMD`: a command (metric write) from a host to an edge node, e.g. `Node Control/Rebirth`.
    NCmd,
    /// `DCMD`: a command (metric write) from a host to a device.
    DCmd,
}

impl MessageType {
    const ALL: [MessageType; 8] = [
        MessageType::NBirth,
        MessageType::NDeath,
        MessageType::DBirth,
        MessageType::DDeath,
        MessageType::NData,
        MessageType::DData,
        MessageType::NCmd,
        MessageType::DCmd,
    ];

    /// The message type as it appears in a topic, e.g. `DDATA`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::NBirth => "NBIRTH",
            MessageType::NDeath => "NDEATH",
            MessageType::DBirth => "DBIRTH",
            MessageType::DDeath => "DDEATH",
            MessageType::NData => "NDATA",
            MessageType::DData => "DDATA",
            MessageType::NCmd => "NCMD",
            MessageType::DCmd => "DCMD",
        }
    }

    /// Whether the message is about a device (its topic names one) rather than the edge node.
    pub fn is_device(self) -> bool {
        matches!(
            self,
            MessageType::DBirth | MessageType::DDeath | MessageType::DData | MessageType::DCmd
        )
    }
}

/// A parsed Sparkplug B topic.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Topic {
    /// The Sparkplug `group_id`: a logical grouping of edge nodes (e.g. a plant or line).
    pub group: String,
    /// The `message_type` element.
    pub message: MessageType,
    /// The `edge_node_id`: the edge node within the group.
    pub edge: String,
    /// Present exactly for device messages.
    pub device: Option<String>,
}

/// Why a topic is not a Sparkplug B topic.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("topic '{topic}': {reason}")]
pub struct TopicError {
    /// The topic as received.
    pub topic: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Topic {
    /// The topic of an edge-node message (`spBv1.0/group/NBIRTH/edge` and the like).
    pub fn node(group: &str, message: MessageType, edge: &str) -> Self {
        Self {
            group: group.into(),
            message,
            edge: edge.into(),
            device: None,
        }
    }

    /// The topic of a device message (`spBv1.0/group/DDATA/edge/device` and the like).
    pub fn device(group: &str, message: MessageType, edge: &str, device: &str) -> Self {
        Self {
            device: Some(device.into()),
            ..Self::node(group, message, edge)
        }
    }

    /// Parses `topic`, checking the namespace, message type and that a device is named exactly
    /// for device messages.
    pub fn parse(topic: &str) -> Result<Self, TopicError> {
        let fail = |reason: &str| TopicError {
            topic: topic.into(),
            reason: reason.into(),
        };
        let parts: Vec<&str> = topic.split('/').collect();
        if parts.first() != Some(&NAMESPACE) {
            return Err(fail(&format!("does not start with {NAMESPACE}/")));
        }
        if !(4..=5).contains(&parts.len()) || parts.iter().any(|p| p.is_empty()) {
            return Err(fail(
                "expected spBv1.0/{group}/{message type}/{edge node}[/{device}]",
            ));
        }
        let message = MessageType::ALL
            .into_iter()
            .find(|m| m.as_str() == parts[2])
            .ok_or_else(|| fail(&format!("unknown message type '{}'", parts[2])))?;
        let device = parts.get(4).map(|d| d.to_string());
        if message.is_device() != device.is_some() {
            return Err(fail(if device.is_some() {
                "a node message names no device"
            } else {
                "a device message must name its device"
            }));
        }
        Ok(Self {
            group: parts[1].into(),
            message,
            edge: parts[3].into(),
            device,
        })
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{NAMESPACE}/{}/{}/{}",
            self.group,
            self.message.as_str(),
            self.edge
        )?;
        if let Some(d) = &self.device {
            write!(f, "/{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip_and_bad_ones_say_why() {
        let t = Topic::device("plant", MessageType::DData, "cell-1", "mill-1");
        assert_eq!(t.to_string(), "spBv1.0/plant/DDATA/cell-1/mill-1");
        assert_eq!(Topic::parse(&t.to_string()).unwrap(), t);
        let n = Topic::node("plant", MessageType::NBirth, "cell-1");
        assert_eq!(Topic::parse("spBv1.0/plant/NBIRTH/cell-1").unwrap(), n);
        for (bad, why) in [
            ("spBv1.0/plant/DDATA/cell-1", "must name its device"),
            ("spBv1.0/plant/NDATA/cell-1/mill-1", "names no device"),
            ("spBv1.0/plant/XDATA/cell-1", "unknown message type"),
            ("spAv1.0/plant/NDATA/cell-1", "does not start"),
        ] {
            let e = Topic::parse(bad).unwrap_err();
            assert!(e.to_string().contains(bad) && e.reason.contains(why), "{e}");
        }
    }
}
