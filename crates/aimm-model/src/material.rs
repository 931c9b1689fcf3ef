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
    /// Austenitic stainless steel X2CrNiMo17-12-2 (1.4404, AISI 316L).
    #[serde(rename = "ss-316l")]
    Stainless316L,
    /// Grey cast iron with flake graphite EN-GJL-250 (GG-25, 0.6025).
    #[serde(rename = "gg-25")]
    GreyCastIronGG25,
}

impl Material {
    /// Every known material.
    pub const ALL: [Material; 5] = [
        Material::SteelC45,
        Material::Aluminium6061,
        Material::Ti6Al4V,
        Material::Stainless316L,
        Material::GreyCastIronGG25,
    ];

    /// The CLI / file name, e.g. `steel-c45`.
    pub fn name(self) -> &'static str {
        match self {
            Material::SteelC45 => "steel-c45",
            Material::Aluminium6061 => "al-6061",
            Material::Ti6Al4V => "ti-6al-4v",
            Material::Stainless316L => "ss-316l",
            Material::GreyCastIronGG25 => "gg-25",
        }
    }

    /// Parses [`Material::name`], case-insensitively, also accepting common aliases
    /// (`c45`, `1045`, `6061`, `aluminium`, `aluminum`, `ti64`, `titanium`, `316l`, `1.4404`,
    /// `stainless`, `gg25`, `en-gjl-250`, `cast-iron`).
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
            "ss-316l" | "316l" | "316" | "aisi-316l" | "1.4404" | "x2crnimo17-12-2"
            | "stainless" | "inox" => Some(Material::Stainless316L),
            "gg-25" | "gg25" | "en-gjl-250" | "gjl-250" | "cast-iron" | "grey-iron"
            | "gray-iron" | "ci" => Some(Material::GreyCastIronGG25),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_parse_to_their_material() {
        for m in Material::ALL {
            assert_eq!(Material::from_name(m.name()).unwrap(), m);
        }
        assert_eq!(
            Material::from_name("1.4404").unwrap(),
            Material::Stainless316L
        );
        assert_eq!(
            Material::from_name("Cast-Iron").unwrap(),
            Material::GreyCastIronGG25
        );
        let err = Material::from_name("gg-20").unwrap_err().to_string();
        assert!(
            err.contains("'gg-20'") && err.contains("ss-316l, gg-25"),
            "{err}"
        );
    }
}
