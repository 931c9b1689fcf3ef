//! The agent's state and its one way in: a device model, the sequence buffer, the asset buffer
//! and the store sink. Adapter records (SHDR) and store history become observations here;
//! observations that carry aimm signals also go to the store. The HTTP layer only reads.

use super::assets::AssetBuffer;
use super::buffer::{Condition, Observation, SequenceBuffer, Value};
use super::device::{Category, DeviceModel, Representation};
use super::documents::{self, BadParameter, ErrorCode, Header, RequestError, Sequences};
use super::machine_devices::machine_devices_xml;
use super::path::{DeviceTree, PathExpr};
use super::shdr::ShdrRecord;
use super::signal_map::SignalMap;
use super::store_sink::StoreSink;
use super::tool_assets::{cutting_tool_xml, tool_asset_id, tool_uses};
use super::values;
use super::vocabulary::{vocabulary, ValueKind};
use super::xml::xml_safe;
use super::MtcError;
use aimm_ledger::{Interface, Origin};
use aimm_model::{Event, EventKind, MachineId, SignalKind, TimeNs};
use aimm_store::Store;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Sizes and identity of an agent.
#[derive(Clone, Debug)]
pub struct AgentOptions {
    /// Observations kept for `/sample`.
    pub buffer_size: usize,
    /// Assets kept for `/assets` (the header's `assetBufferSize`); the oldest are dropped.
    pub asset_buffer_size: usize,
    /// `sender` in every header.
    pub sender: String,
    /// Longest SHDR line taken from an adapter, bytes: a longer one is refused (logged cut
    /// short), so one runaway line cannot fill the memory or the log.
    pub max_line_bytes: usize,
    /// What the ledger records of where stored samples came from: an adapter by default; an
    /// import of a recording names itself.
    pub origin: Origin,
}

/// Default of [`AgentOptions::max_line_bytes`]: far above any SHDR data line (an asset body
/// of a few hundred tools is ~100 kB and comes as a multi-line `--multiline--` block).
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 * 1024;

impl Default for AgentOptions {
    fn default() -> Self {
        Self {
            buffer_size: 131_072,
            asset_buffer_size: 1024,
            sender: "aimm".into(),
            max_line_bytes: DEFAULT_MAX_LINE_BYTES,
            origin: Origin::undeclared(Interface::Mtconnect),
        }
    }
}

/// The data items a Streams request covers: one device or (`None`) all, narrowed to those a
/// `path=` selects.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// The device named in the request's URI, if any.
    pub device: Option<usize>,
    /// Per data item of the model, whether the request's `path` selects it; `None`: no path.
    pub items: Option<Vec<bool>>,
}

impl From<Option<usize>> for Selection {
    fn from(device: Option<usize>) -> Self {
        Self {
            device,
            items: None,
        }
    }
}

impl Selection {
    fn keeps(&self, model: &DeviceModel, item: usize) -> bool {
        self.device.is_none_or(|d| model.items[item].device == d)
            && self.items.as_ref().is_none_or(|s| s[item])
    }
}

/// An MTConnect agent's data.
pub struct Agent {
    model: DeviceModel,
    /// The probe document's element tree, for `path=`.
    tree: DeviceTree,
    /// Per data item, what its 2.7 observation element may hold; `None` when 2.7 has no
    /// element for it (an extension type such as a 1.x `x:COIL`): it is never streamed.
    kinds: Vec<Option<ValueKind>>,
    signals: SignalMap,
    buffer: SequenceBuffer,
    assets: AssetBuffer,
    header: Header,
    sink: Option<StoreSink>,
    warned: HashSet<(usize, String)>,
    max_line_bytes: usize,
    /// Last published value per data item that drives store events (tool, execution).
    last_state: HashMap<usize, String>,
}

/// Current UTC time in ns.
pub fn now_ns() -> TimeNs {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as TimeNs)
}

impl Agent {
    /// An agent publishing `model`; every data item starts UNAVAILABLE. With a `sink`, the data
    /// the store already holds for the devices' machines (a machine is a device's name) is
    /// loaded into the buffer, newest last, and incoming aimm signals are stored.
    pub fn new(
        model: DeviceModel,
        signals: SignalMap,
        options: &AgentOptions,
        sink: Option<StoreSink>,
    ) -> Result<Self, MtcError> {
        let now = now_ns();
        let mut agent = Agent {
            buffer: SequenceBuffer::new(model.items.len(), options.buffer_size),
            assets: AssetBuffer::new(options.asset_buffer_size),
            tree: DeviceTree::build(&model),
            kinds: model.items.iter().map(value_kind).collect(),
            header: Header {
                // Start time in ms: a restarted agent gets a new one (cppagent uses seconds,
                // which two quick restarts can share).
                instance_id: (now / 1_000_000) as u64,
                sender: options.sender.clone(),
                creation_ns: now,
                model_change_ns: now,
                buffer_size: options.buffer_size,
                asset_buffer_size: options.asset_buffer_size,
                asset_count: 0,
            },
            model,
            signals,
            sink,
            warned: HashSet::new(),
            max_line_bytes: options.max_line_bytes,
            last_state: HashMap::new(),
        };
        let mut unstreamed = Vec::new();
        for (item, kind) in agent.kinds.iter().enumerate() {
            let info = &agent.model.items[item];
            match kind {
                Some(_) => {
                    agent.buffer.push(item, now, Value::Unavailable);
                }
                None => unstreamed.push(format!("'{}' ({})", info.id, info.kind)),
            }
        }
        if !unstreamed.is_empty() {
            tracing::warn!(
                "data items with no MTConnect 2.7 observation element, published in /probe only: {}",
                unstreamed.join(", ")
            );
        }
        agent.load_history()?;
        Ok(agent)
    }

    /// The agent `aimm serve` runs: the devices of `devices` (source name, XML) if given, plus
    /// every machine the store knows (its machines and the machines it holds signals of) that
    /// the file does not describe; their stored data and tools are published, and incoming aimm
    /// signals are stored.
    pub fn for_store(
        store: Box<dyn Store>,
        devices: Option<(&str, &str)>,
        overrides: &HashMap<String, SignalKind>,
        options: &AgentOptions,
    ) -> Result<Self, MtcError> {
        let mut model = DeviceModel::default();
        if let Some((source, xml)) = devices {
            model.add_document(source, xml)?;
        }
        let mut machines: BTreeMap<MachineId, String> = store
            .machines()?
            .into_iter()
            .map(|m| (m.id, m.model))
            .collect();
        for s in store.signals(None)? {
            machines
                .entry(s.machine)
                .or_insert_with(|| "recorded".into());
        }
        machines.retain(|id, _| model.device_by_name(id.as_str()).is_none());
        if !machines.is_empty() {
            let list: Vec<(MachineId, String)> = machines.into_iter().collect();
            model.add_document("aimm store machines", &machine_devices_xml(&list))?;
        }
        let signals = SignalMap::build(&model, overrides);
        let mut agent = Agent::new(
            model,
            signals,
            options,
            Some(StoreSink::new(store, options.origin)),
        )?;
        agent.load_tool_assets()?;
        Ok(agent)
    }

    /// Publishes a CuttingTool asset for every stored tool of every device's machine.
    fn load_tool_assets(&mut self) -> Result<(), MtcError> {
        let Some(sink) = &self.sink else {
            return Ok(());
        };
        let now = now_ns();
        let mut assets = Vec::new();
        for (d, device) in self.model.devices.iter().enumerate() {
            let machine = MachineId::new(device.name.clone());
            let tools = sink.store().tools(&machine)?;
            let uses = tool_uses(sink.store(), &machine, &tools)?;
            for (tool, use_) in tools.iter().zip(&uses) {
                let xml = cutting_tool_xml(&machine, tool, use_);
                assets.push((d, tool_asset_id(&machine, tool), xml));
            }
        }
        for (d, id, xml) in assets {
            self.put_asset(d, &id, "CuttingTool", now, &xml)?;
        }
        Ok(())
    }

    /// The device model the agent publishes.
    pub fn model(&self) -> &DeviceModel {
        &self.model
    }

    /// Longest SHDR line taken from an adapter, bytes.
    pub fn max_line_bytes(&self) -> usize {
        self.max_line_bytes
    }

    /// The header's `instanceId`: the agent's start time in ms since the Unix epoch, so a
    /// restarted agent gets a new one and clients know to re-probe.
    pub fn instance_id(&self) -> u64 {
        self.header.instance_id
    }

    /// How many observations the sequence buffer holds (the header's `bufferSize`).
    pub fn buffer_size(&self) -> usize {
        self.buffer.capacity()
    }

    /// Sequence number of the newest observation (the header's `lastSequence`; 0 when none).
    pub fn last_sequence(&self) -> u64 {
        self.buffer.last_sequence()
    }

    /// Sequence number of the oldest observation held (the header's `firstSequence`).
    pub fn first_sequence(&self) -> u64 {
        self.buffer.first_sequence()
    }

    /// The store sink aimm signals go to, if the agent has one.
    pub fn sink_mut(&mut self) -> Option<&mut StoreSink> {
        self.sink.as_mut()
    }

    /// Loads the newest stored samples of every mapped signal (up to the buffer size in all).
    fn load_history(&mut self) -> Result<(), MtcError> {
        let Some(sink) = &self.sink else {
            return Ok(());
        };
        let store = sink.store();
        let mut history: Vec<(TimeNs, usize, f64)> = Vec::new();
        let per_signal = self.buffer.capacity() / SignalKind::ALL.len().max(1);
        for (d, device) in self.model.devices.iter().enumerate() {
            let machine = MachineId::new(device.name.clone());
            for signal in SignalKind::ALL {
                let (Some(item), Some(map)) = (self.signals.item(d, signal), signal.mtconnect())
                else {
                    continue;
                };
                if self.kinds[item].is_none() {
                    continue;
                }
                let segments = store.segments(&machine, signal, TimeNs::MIN, TimeNs::MAX)?;
                // Newest segments back to the ones holding `per_signal` samples.
                let mut from = TimeNs::MAX;
                let mut count = 0;
                for seg in segments.iter().rev() {
                    from = from.min(seg.t_first_ns);
                    count += seg.count as usize;
                    if count >= per_signal {
                        break;
                    }
                }
                if segments.is_empty() {
                    continue;
                }
                let series = store.read_samples(&machine, signal, from, TimeNs::MAX)?;
                let skip = series.len().saturating_sub(per_signal);
                for (&t, &v) in series.t_ns.iter().zip(&series.values).skip(skip) {
                    history.push((t, item, v * map.scale));
                }
            }
        }
        history.sort_by_key(|&(t, item, _)| (t, item));
        for (t, item, v) in history {
            self.buffer
                .push(item, t, Value::Text(values::format_number(v)));
        }
        Ok(())
    }

    /// Applies one adapter record for `device`; `place` names source and line in errors and
    /// log lines. Unknown keys are skipped with one log line each.
    pub fn ingest(
        &mut self,
        device: usize,
        record: ShdrRecord,
        place: &str,
    ) -> Result<(), MtcError> {
        match record {
            ShdrRecord::Data { t_ns, fields } => self.ingest_data(device, t_ns, &fields, place),
            ShdrRecord::Asset {
                t_ns,
                id,
                asset_type,
                xml,
            } => {
                let uuid = self.model.devices[device].uuid.clone();
                self.assets
                    .put(place, &id, &asset_type, &uuid, t_ns, &xml)?;
                self.asset_changed(device, t_ns, &id);
                Ok(())
            }
            ShdrRecord::RemoveAsset { t_ns, id } => {
                let uuid = &self.model.devices[device].uuid;
                self.assets.remove(Some(&id), "", uuid, t_ns);
                Ok(())
            }
            ShdrRecord::RemoveAllAssets { t_ns, asset_type } => {
                let uuid = &self.model.devices[device].uuid;
                self.assets.remove(None, &asset_type, uuid, t_ns);
                Ok(())
            }
            ShdrRecord::Command(_) => Ok(()),
        }
    }

    /// Publishes an ASSET_CHANGED event when the device has that data item.
    fn asset_changed(&mut self, device: usize, t_ns: TimeNs, id: &str) {
        if let Some(item) = self
            .model
            .items
            .iter()
            .position(|i| i.device == device && i.kind == "ASSET_CHANGED")
        {
            self.buffer.push(item, t_ns, Value::Text(id.to_string()));
        }
    }

    fn ingest_data(
        &mut self,
        device: usize,
        t_ns: TimeNs,
        fields: &[String],
        place: &str,
    ) -> Result<(), MtcError> {
        let mut i = 0;
        while i < fields.len() {
            let key = fields[i].as_str();
            // `Device:key` names another device's item (cppagent's multi-device adapters).
            let (dev, bare) = match key.split_once(':') {
                Some((d, k)) => (self.model.device_by_name(d).unwrap_or(device), k),
                None => (device, key),
            };
            let Some(item) = self.model.item_by_key(dev, bare) else {
                if self.warned.insert((dev, key.to_string())) {
                    tracing::warn!(
                        "{place}: key '{key}' is no data item of device '{}'; skipped",
                        self.model.devices[dev].name
                    );
                }
                i += 2;
                continue;
            };
            let info = &self.model.items[item];
            let take = if info.category == Category::Condition {
                5
            } else if info.kind == "MESSAGE" {
                2
            } else if info.representation == Representation::TimeSeries {
                3 // sample count | sample rate | values
            } else {
                1
            };
            let label = info.name.as_deref().unwrap_or(&info.id).to_string();
            if fields.len() <= i + 1 {
                // `ts|Xact` with nothing after the key: a cut-off line, not UNAVAILABLE.
                tracing::warn!("{place}: the line ends before the value of '{label}'; skipped");
                break;
            }
            let args: Vec<&str> = (1..=take)
                .map(|k| fields.get(i + k).map_or("", String::as_str))
                .collect();
            i += 1 + take;
            if args.iter().any(|a| matches!(xml_safe(a), Cow::Owned(_))) {
                tracing::warn!(
                    "{place}: '{label}' carries control characters XML cannot hold; published as U+FFFD"
                );
            }
            if let Some(value) = self.value_of(item, &args, place) {
                self.publish(item, t_ns, value)?;
            }
        }
        Ok(())
    }

    /// The value SHDR fields give a data item; `None` (logged) for one its 2.7 observation
    /// element cannot hold, or for an item 2.7 has no element for.
    fn value_of(&self, item: usize, args: &[&str], place: &str) -> Option<Value> {
        let info = &self.model.items[item];
        let label = info.name.as_deref().unwrap_or(&info.id);
        let Some(kind) = &self.kinds[item] else {
            tracing::debug!("{place}: '{label}' has no 2.7 observation element; skipped");
            return None;
        };
        let first = args[0];
        if first.eq_ignore_ascii_case("UNAVAILABLE") {
            return Some(Value::Unavailable);
        }
        match info.category {
            Category::Condition => {
                let qualifier = args[3].to_ascii_uppercase();
                let qualifier = if matches!(qualifier.as_str(), "" | "HIGH" | "LOW") {
                    qualifier
                } else {
                    tracing::warn!(
                        "{place}: condition '{label}' qualifier '{}' is neither HIGH nor LOW; published without it",
                        args[3]
                    );
                    String::new()
                };
                Some(Value::Condition(Condition {
                    level: first.to_string(),
                    native_code: args[1].to_string(),
                    native_severity: args[2].to_string(),
                    qualifier,
                    message: args[4].to_string(),
                }))
            }
            _ if info.kind == "MESSAGE" => Some(Value::Message {
                native_code: first.to_string(),
                text: args[1].to_string(),
            }),
            Category::Sample if first.trim().is_empty() => Some(Value::Unavailable),
            _ => {
                let text = match info.representation {
                    Representation::TimeSeries => args[2],
                    _ => first,
                };
                values::observation(kind, text, info.native_scale())
                    .map_err(|why| tracing::warn!("{place}: '{label}' value refused: {why}"))
                    .ok()
            }
        }
    }

    /// Appends an observation; aimm signals and their events also go to the store.
    fn publish(&mut self, item: usize, t_ns: TimeNs, value: Value) -> Result<(), MtcError> {
        if let (Some(sink), Value::Text(text)) = (self.sink.as_mut(), &value) {
            let info = &self.model.items[item];
            let machine = MachineId::new(self.model.devices[info.device].name.clone());
            if let Some(signal) = self.signals.signal(item) {
                let scale = signal.mtconnect().map_or(1.0, |m| m.scale);
                if let Some(v) = text
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse::<f64>().ok())
                {
                    sink.sample(&machine, signal, t_ns, v / scale)?;
                }
            }
            if matches!(info.kind.as_str(), "EXECUTION" | "TOOL_NUMBER")
                && self.last_state.insert(item, text.clone()).as_deref() != Some(text.as_str())
            {
                if let Some(kind) = state_event(&info.kind, text) {
                    let label = info.name.as_deref().unwrap_or(&info.id);
                    sink.event(Event {
                        machine,
                        t_ns,
                        kind,
                        message: format!("{label} = {text}"),
                        line: None,
                    })?;
                }
            }
        }
        self.buffer.push(item, t_ns, value);
        Ok(())
    }

    /// Marks every data item of `device` UNAVAILABLE (its adapter went away) and seals what the
    /// store sink holds.
    pub fn device_unavailable(&mut self, device: usize) -> Result<(), MtcError> {
        let now = now_ns();
        let items: Vec<usize> = self
            .buffer
            .latest()
            .filter(|o| self.model.items[o.item].device == device && o.value != Value::Unavailable)
            .map(|o| o.item)
            .collect();
        for item in items {
            self.buffer.push(item, now, Value::Unavailable);
        }
        self.flush()
    }

    /// Seals what the store sink holds.
    pub fn flush(&mut self) -> Result<(), MtcError> {
        match self.sink.as_mut() {
            Some(sink) => sink.flush(),
            None => Ok(()),
        }
    }

    fn header(&self) -> Header {
        Header {
            asset_count: self.assets.count(),
            creation_ns: now_ns(),
            ..self.header.clone()
        }
    }

    fn sequences(&self, next: u64) -> Sequences {
        Sequences {
            first: self.buffer.first_sequence(),
            last: self.buffer.last_sequence(),
            next,
        }
    }

    /// The device a request names (`None`: all), or NO_DEVICE.
    pub fn device(&self, name: Option<&str>, uri: &str) -> Result<Option<usize>, RequestError> {
        match name {
            None => Ok(None),
            Some(n) => self
                .model
                .device_by_name(n)
                .map(Some)
                .ok_or_else(|| RequestError {
                    code: ErrorCode::NoDevice,
                    uri: uri.to_string(),
                    message: format!("no device named '{n}'"),
                    parameter: None,
                }),
        }
    }

    /// The selection a request's device and `path` make, or INVALID_XPATH naming the
    /// expression and where it fails (a path that selects nothing fails too, as in cppagent).
    pub fn select(
        &self,
        device: Option<usize>,
        path: Option<&str>,
        uri: &str,
    ) -> Result<Selection, RequestError> {
        let mut selection = Selection::from(device);
        let Some(path) = path else {
            return Ok(selection);
        };
        let invalid = |why: String| RequestError {
            code: ErrorCode::InvalidXPath,
            uri: uri.to_string(),
            message: format!("the path '{path}' could not be used: {why}"),
            parameter: None,
        };
        let expr = PathExpr::parse(path).map_err(|e| invalid(e.to_string()))?;
        selection.items = Some(self.tree.select(&expr, self.model.items.len()));
        if !(0..self.model.items.len()).any(|i| selection.keeps(&self.model, i)) {
            return Err(invalid(match device {
                Some(d) => format!(
                    "it selects no data item of device '{}'",
                    self.model.devices[d].name
                ),
                None => "it selects no data item".into(),
            }));
        }
        Ok(selection)
    }

    /// The devices a Streams document for `sel` lists: those with a data item it keeps.
    fn device_list(&self, sel: &Selection) -> Vec<usize> {
        (0..self.model.devices.len())
            .filter(|&d| {
                sel.device.is_none_or(|x| x == d)
                    && sel.items.as_ref().is_none_or(|s| {
                        self.model
                            .items
                            .iter()
                            .zip(s)
                            .any(|(i, &kept)| kept && i.device == d)
                    })
            })
            .collect()
    }

    /// The `/probe` answer: an `MTConnectDevices` document of one device or (`None`) all.
    pub fn probe(&self, device: Option<usize>) -> String {
        documents::devices(&self.header(), &self.model, device)
    }

    /// The `/current` answer: an `MTConnectStreams` document with the latest observation of
    /// every data item `sel` keeps (one device or, with `None`, all).
    pub fn current(&self, sel: impl Into<Selection>) -> String {
        let sel = sel.into();
        let mut latest: Vec<&Observation> = self
            .buffer
            .latest()
            .filter(|o| sel.keeps(&self.model, o.item))
            .collect();
        latest.sort_by_key(|o| o.sequence);
        documents::streams(
            &self.header(),
            self.sequences(self.buffer.next_sequence()),
            &self.model,
            &self.device_list(&sel),
            latest,
        )
    }

    /// `/current?at=`: the state of the data items `sel` keeps at sequence `at` (within
    /// `[firstSequence, lastSequence]`), or an error naming the earliest sequence whose state
    /// the buffer still holds in full.
    pub fn current_at(
        &self,
        sel: impl Into<Selection>,
        at: u64,
        uri: &str,
    ) -> Result<String, RequestError> {
        let sel = sel.into();
        let keep = |item: usize| sel.keeps(&self.model, item);
        let state = self.buffer.state_at(at, keep).map_err(|earliest| RequestError {
            code: ErrorCode::OutOfRange,
            uri: uri.to_string(),
            message: format!(
                "the buffer no longer holds every data item's state at sequence {at}; the earliest it holds in full is {earliest}"
            ),
            parameter: None,
        })?;
        Ok(documents::streams(
            &self.header(),
            self.sequences(at + 1),
            &self.model,
            &self.device_list(&sel),
            state,
        ))
    }

    /// `/sample?from=&count=` of the data items `sel` keeps: the document and the
    /// `nextSequence` it names.
    pub fn sample(
        &self,
        sel: impl Into<Selection>,
        from: Option<u64>,
        count: usize,
        uri: &str,
    ) -> Result<(String, u64), RequestError> {
        let first = self.buffer.first_sequence();
        let next_seq = self.buffer.next_sequence();
        let from = from.unwrap_or(first);
        if from < first || from > next_seq {
            return Err(RequestError {
                code: ErrorCode::OutOfRange,
                uri: uri.to_string(),
                message: format!("'from' must be between {first} and {next_seq}"),
                parameter: Some(BadParameter {
                    name: "from",
                    value: from.to_string(),
                    range: Some((first, next_seq)),
                }),
            });
        }
        let sel = sel.into();
        let (obs, next) = self
            .buffer
            .range(from, count, |o| sel.keeps(&self.model, o.item));
        let doc = documents::streams(
            &self.header(),
            self.sequences(next),
            &self.model,
            &self.device_list(&sel),
            obs,
        );
        Ok((doc, next))
    }

    /// `/asset/ID;ID…`: an `MTConnectAssets` document with those assets, or ASSET_NOT_FOUND
    /// naming the first id the agent does not hold.
    pub fn assets_by_id(&self, ids: &str, uri: &str) -> Result<String, RequestError> {
        let mut found = Vec::new();
        for id in ids.split(';').filter(|id| !id.is_empty()) {
            found.push(self.assets.get(id).ok_or_else(|| RequestError {
                code: ErrorCode::AssetNotFound,
                uri: uri.to_string(),
                message: format!("no asset '{id}'"),
                parameter: Some(BadParameter {
                    name: "assetId",
                    value: id.to_string(),
                    range: None,
                }),
            })?);
        }
        Ok(documents::assets(&self.header(), found))
    }

    /// The `/assets` answer: an `MTConnectAssets` document of the assets of `asset_type` (all
    /// types with `None`), newest first, including removed ones when `removed` is true.
    pub fn assets(&self, asset_type: Option<&str>, removed: bool) -> String {
        documents::assets(&self.header(), self.assets.list(asset_type, removed))
    }

    /// An `MTConnectError` document.
    pub fn error(&self, e: &RequestError) -> String {
        documents::error(&self.header(), e)
    }

    /// Stores an asset aimm made itself (a cutting tool from its tool table).
    pub fn put_asset(
        &mut self,
        device: usize,
        id: &str,
        asset_type: &str,
        t_ns: TimeNs,
        xml: &str,
    ) -> Result<(), MtcError> {
        let uuid = self.model.devices[device].uuid.clone();
        self.assets
            .put("aimm tool table", id, asset_type, &uuid, t_ns, xml)
    }
}

/// What `item`'s 2.7 observation element may hold; `None` when 2.7 has none for it.
fn value_kind(item: &super::device::DataItem) -> Option<ValueKind> {
    let v = vocabulary();
    match item.category {
        Category::Condition => v.streams_type(&item.kind).then_some(ValueKind::Text),
        _ => v.observation(&item.element_name()),
    }
}

/// The store event a change of an EXECUTION or TOOL_NUMBER value means, if any.
pub(super) fn state_event(kind: &str, value: &str) -> Option<EventKind> {
    match (kind, value) {
        ("TOOL_NUMBER", _) => Some(EventKind::ToolChange),
        ("EXECUTION", "ACTIVE") => Some(EventKind::ProgramStart),
        ("EXECUTION", "PROGRAM_COMPLETED") => Some(EventKind::ProgramEnd),
        ("EXECUTION", "PROGRAM_STOPPED" | "OPTIONAL_STOP" | "STOPPED" | "INTERRUPTED") => {
            Some(EventKind::ProgramStop)
        }
        _ => None,
    }
}
