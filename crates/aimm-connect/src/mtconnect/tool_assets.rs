//! `CuttingTool` assets for the tools in aimm's store: nominal geometry from the tool table,
//! and tool life from the stored signals — minutes the tool spent in the spindle (`ToolLife`
//! MINUTES, from `tool_number`) and its radius wear offset (`ToolLife` WEAR, mm, from
//! `tool_radius_wear_offset_mm` while it was in the spindle).

use super::xml::XmlOut;
use aimm_model::{MachineId, SignalKind, TimeNs, ToolSpec};
use aimm_store::{Store, StoreError};

/// What the store says about a tool's use.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ToolUse {
    /// Total time the tool was in the spindle (from the `tool_number` samples), min; published
    /// as `ToolLife` of type MINUTES.
    pub minutes_in_spindle: f64,
    /// Magnitude of the last radius wear offset applied while the tool was in the spindle, mm.
    pub wear_mm: Option<f64>,
}

/// Uses of every tool of `machine` (indexed like `tools`).
pub fn tool_uses(
    store: &dyn Store,
    machine: &MachineId,
    tools: &[ToolSpec],
) -> Result<Vec<ToolUse>, StoreError> {
    let numbers = store.read_samples(machine, SignalKind::ToolNumber, TimeNs::MIN, TimeNs::MAX)?;
    let wear = store.read_samples(
        machine,
        SignalKind::ToolRadiusWearOffsetMm,
        TimeNs::MIN,
        TimeNs::MAX,
    )?;
    Ok(tools
        .iter()
        .map(|tool| {
            let mut use_ = ToolUse::default();
            for (i, (&t, &n)) in numbers.t_ns.iter().zip(&numbers.values).enumerate() {
                if n as u32 != tool.number || n < 0.0 {
                    continue;
                }
                // The tool stays in until the next tool_number sample (or the last wear sample).
                let end = numbers
                    .t_ns
                    .get(i + 1)
                    .copied()
                    .unwrap_or_else(|| wear.t_ns.last().copied().unwrap_or(t).max(t));
                use_.minutes_in_spindle += (end - t) as f64 / 60e9;
                let lo = wear.t_ns.partition_point(|&w| w < t);
                let hi = wear.t_ns.partition_point(|&w| w <= end);
                if hi > lo {
                    use_.wear_mm = Some(wear.values[hi - 1].abs());
                }
            }
            use_
        })
        .collect())
}

/// Asset id of a tool of a machine.
pub fn tool_asset_id(machine: &MachineId, tool: &ToolSpec) -> String {
    format!("{machine}.T{}", tool.number)
}

/// A `CuttingTool` element (without the agent's timestamp/deviceUuid, which the asset buffer
/// stamps).
pub fn cutting_tool_xml(machine: &MachineId, tool: &ToolSpec, use_: &ToolUse) -> String {
    let mut x = XmlOut::fragment();
    let id = tool_asset_id(machine, tool);
    let number = tool.number.to_string();
    x.open(
        "CuttingTool",
        &[
            ("assetId", &id),
            ("toolId", &format!("T{number}")),
            ("serialNumber", &number),
        ],
    );
    x.leaf("Description", &[], &tool.description);
    x.open("CuttingToolLifeCycle", &[]);
    x.open("CutterStatus", &[]);
    let status = if use_.minutes_in_spindle > 0.0 {
        "USED"
    } else {
        "NEW"
    };
    x.leaf("Status", &[], status);
    x.close("CutterStatus");
    let minutes = format!("{:.3}", use_.minutes_in_spindle);
    x.leaf(
        "ToolLife",
        &[
            ("type", "MINUTES"),
            ("countDirection", "UP"),
            ("initial", "0"),
        ],
        &minutes,
    );
    if let Some(wear) = use_.wear_mm {
        x.leaf(
            "ToolLife",
            &[("type", "WEAR"), ("countDirection", "UP"), ("initial", "0")],
            &format!("{wear:.4}"),
        );
    }
    x.leaf("ProgramToolNumber", &[], &number);
    x.open("Measurements", &[]);
    let d = tool.diameter_mm.to_string();
    let l = tool.length_mm.to_string();
    x.leaf(
        "CuttingDiameterMax",
        &[("code", "DC"), ("nominal", &d), ("units", "MILLIMETER")],
        &d,
    );
    x.leaf(
        "OverallToolLength",
        &[("code", "OAL"), ("nominal", &l), ("units", "MILLIMETER")],
        &l,
    );
    x.close("Measurements");
    x.close("CuttingToolLifeCycle");
    x.close("CuttingTool");
    x.finish()
}
