//! The control's tool table: tool geometry by T number and offset registers by D/H number
//! (Fanuc memory type C: separate geometry and wear registers for length and radius).

use aimm_model::ToolSpec;
use serde::Serialize;
use std::collections::BTreeMap;

/// Which tool offset register a G10 block or a live input writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum OffsetKind {
    /// Length geometry (H register).
    LengthGeometry,
    /// Length wear (H register).
    LengthWear,
    /// Radius geometry (D register).
    RadiusGeometry,
    /// Radius wear (D register).
    RadiusWear,
}

/// Offset register contents, mm.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct OffsetRegister {
    /// Length geometry (H register), mm.
    pub length_geometry_mm: f64,
    /// Length wear (H register), mm.
    pub length_wear_mm: f64,
    /// Radius geometry (D register), mm.
    pub radius_geometry_mm: f64,
    /// Radius wear (D register), mm; negative = tool smaller than nominal.
    pub radius_wear_mm: f64,
}

impl OffsetRegister {
    /// Effective radius compensation, geometry + wear, mm.
    pub fn radius_mm(&self) -> f64 {
        self.radius_geometry_mm + self.radius_wear_mm
    }

    /// Effective length compensation, geometry + wear, mm.
    pub fn length_mm(&self) -> f64 {
        self.length_geometry_mm + self.length_wear_mm
    }
}

/// Tools and offset registers. Register N is initialised from tool N when the tool is added.
#[derive(Clone, Debug, Default)]
pub struct ToolTable {
    tools: BTreeMap<u32, ToolSpec>,
    registers: BTreeMap<u32, OffsetRegister>,
}

impl ToolTable {
    /// A table holding `tools`, each with register N = tool N's nominal radius and length.
    pub fn new(tools: impl IntoIterator<Item = ToolSpec>) -> Self {
        let mut table = Self::default();
        for t in tools {
            table.insert(t);
        }
        table
    }

    /// Adds or replaces a tool and resets its same-numbered register to its nominal geometry.
    pub fn insert(&mut self, tool: ToolSpec) {
        self.registers.insert(
            tool.number,
            OffsetRegister {
                length_geometry_mm: tool.length_mm,
                radius_geometry_mm: tool.radius_mm(),
                ..OffsetRegister::default()
            },
        );
        self.tools.insert(tool.number, tool);
    }

    /// Adds a copy of `template`, renumbered, for every number in `numbers` the table lacks, so a
    /// program's T words find a tool even where no tool list describes it.
    pub fn fill_missing(&mut self, template: &ToolSpec, numbers: std::ops::RangeInclusive<u32>) {
        for n in numbers {
            if !self.tools.contains_key(&n) {
                self.insert(ToolSpec {
                    number: n,
                    ..template.clone()
                });
            }
        }
    }

    /// Tool `number`, if the table holds it.
    pub fn tool(&self, number: u32) -> Option<&ToolSpec> {
        self.tools.get(&number)
    }

    /// Every tool, by increasing T number.
    pub fn tools(&self) -> impl Iterator<Item = &ToolSpec> {
        self.tools.values()
    }

    /// Register `n`, all zeros if never written.
    pub fn register(&self, n: u32) -> OffsetRegister {
        self.registers.get(&n).copied().unwrap_or_default()
    }

    /// Writes one value of register `n` (G10, or a live input).
    pub fn set(&mut self, n: u32, kind: OffsetKind, value_mm: f64) {
        let r = self.registers.entry(n).or_default();
        match kind {
            OffsetKind::LengthGeometry => r.length_geometry_mm = value_mm,
            OffsetKind::LengthWear => r.length_wear_mm = value_mm,
            OffsetKind::RadiusGeometry => r.radius_geometry_mm = value_mm,
            OffsetKind::RadiusWear => r.radius_wear_mm = value_mm,
        }
    }
}
