//! Workpiece materials aimm knows by name. Their cutting constants live with the physics that
//! uses them (`aimm-sim`), each with its source.

use serde::{Deserialize, Serialize};

/// Workpiece material.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Material {
    /// Unalloyed quenched-and-tempered carbon steel C45 (1.0503, AISI 1045).
    #[serde(rename = "steel-c45")]
    SteelC45,
    /// Wrought aluminium alloy 6061-T6.
    #[serde(rename = "al-6061")]
    Aluminium6061,
    /// Titanium alloy Ti-6Al-4V (grade 5).
    #[serde(rename = "ti-6al-4v")]
    Ti6Al4V,
}

impl Material {
    /// Every known material.
    pub const ALL: [Material; 3] = [
        Material::SteelC45,
        Material::Aluminium6061,
        Material::Ti6Al4V,
    ];

    /// The CLI / file name, e.g. `steel-c45`.
    pub fn name(self) -> &'static str {
        match self {
            Material::SteelC45 => "steel-c45",
            Material::Aluminium6061 => "al-6061",
            Material::Ti6Al4V => "ti-6al-4v",
        }
    }

    /// Parses [`Material::name`], case-insensitively, also accepting common aliases
    /// (`c45`, `1045`, `6061`, `aluminium`, `aluminum`, `ti64`, `titanium`).
    pub fn from_name(name: &str) -> Result<Self, UnknownName> {
        let n = name.trim().to_ascii_lowercase();
        let found = match n.as_str() {
            "steel-c45" | "c45" | "ck45" | "1045" | "aisi-1045" | "steel" => {
                Some(Material::SteelC45)
            }
            "al-6061" | "6061" | "6061-t6" | "aluminium" | "aluminum" | "al" => {
                Some(Material::Aluminium6061)
            }
            "ti-6al-4v" | "ti6al4v" | "ti64" | "titanium" | "ti" => Some(Material::Ti6Al4V),
            _ => None,
        };
        found.ok_or_else(|| UnknownName::new("material", name, Self::ALL.map(|m| m.name())))
    }
}

impl std::fmt::Display for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Material {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s)
    }
}

/// A name that matches none of the known ones; the message lists the ones that would.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{given}'; known: {}", known.join(", "))]
pub struct UnknownName {
    /// What kind of name was looked up, e.g. `material`.
    pub what: &'static str,
    /// The name given.
    pub given: String,
    /// The names that would have matched.
    pub known: Vec<&'static str>,
}

impl UnknownName {
    /// The error for `given`, a `what` name, listing the `known` ones.
    pub fn new<const N: usize>(what: &'static str, given: &str, known: [&'static str; N]) -> Self {
        Self {
            what,
            given: given.to_string(),
            known: known.to_vec(),
        }
    }
}
