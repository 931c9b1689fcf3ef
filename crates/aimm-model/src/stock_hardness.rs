//! Hardness variation in a stock block: a casting skin at its surface and hard spots
//! (inclusions) inside it, each a factor on the specific cutting force and on the tool-wear rate.
//! The description lives here so that any caller (a validation case, the CLI, a cell file) can
//! carry it; the simulator (`aimm-sim`) applies it where it evaluates the cut.

use serde::{Deserialize, Serialize};

/// How much harder a region cuts than the nominal material.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HardnessFactor {
    /// Multiplier on the specific cutting force kc (dimensionless, > 0; 1 = nominal).
    pub kc: f64,
    /// Multiplier on the flank-wear rate dVB/dt (dimensionless, > 0; 1 = nominal).
    pub wear: f64,
}

/// A harder layer under the stock's top face and inside its side faces, of the given
/// thickness: the skin of a casting (chilled surface, moulding sand).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Skin {
    /// Thickness of the layer, mm (> 0).
    pub thickness_mm: f64,
    /// Its factors.
    pub factor: HardnessFactor,
}

/// Where a hard spot is, work coordinates, mm.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SpotShape {
    /// An axis-aligned box.
    Box {
        /// Lowest corner (x, y, z), mm.
        min_mm: [f64; 3],
        /// Highest corner (x, y, z), mm.
        max_mm: [f64; 3],
    },
    /// A cylinder with a vertical axis.
    Cylinder {
        /// Axis position (x, y), mm.
        centre_mm: [f64; 2],
        /// Radius, mm.
        radius_mm: f64,
        /// Bottom, mm.
        z_min_mm: f64,
        /// Top, mm.
        z_max_mm: f64,
    },
}

/// A hard inclusion in the stock.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HardSpot {
    /// Where it is.
    pub shape: SpotShape,
    /// Its factors.
    pub factor: HardnessFactor,
}

/// Hardness variation of a stock block; the default is none (the nominal material throughout).
/// Where regions overlap, the larger factor applies.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockHardness {
    /// Casting skin, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skin: Option<Skin>,
    /// Hard spots.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hard_spots: Vec<HardSpot>,
}

/// A hardness description that cannot be applied; names the region and the value.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum HardnessError {
    /// A value is out of range or not a number.
    #[error("stock hardness: {region}: {what} is {value}: {expected}")]
    Value {
        /// The region, e.g. `skin` or `hard spot 2`.
        region: String,
        /// The quantity, e.g. `kc factor`.
        what: &'static str,
        /// The value given.
        value: f64,
        /// What it must be.
        expected: &'static str,
    },
    /// A text form does not read.
    #[error("stock hardness '{text}': {reason}; expected {expected}")]
    Syntax {
        /// The text given.
        text: String,
        /// What is wrong.
        reason: String,
        /// The form expected.
        expected: &'static str,
    },
}

const SKIN_FORM: &str = "THICKNESS_MM:KC_FACTOR:WEAR_FACTOR, e.g. 2:1.4:2.5";
const SPOT_FORM: &str =
    "box:X0,Y0,Z0,X1,Y1,Z1:KC:WEAR or cyl:X,Y,R,Z0,Z1:KC:WEAR (mm), e.g. cyl:40,20,4,-8,0:2:4";

impl StockHardness {
    /// True when no region is harder than nominal.
    pub fn is_none(&self) -> bool {
        self.skin.is_none() && self.hard_spots.is_empty()
    }

    /// Checks every value: factors finite and > 0, thicknesses and radii finite and > 0, boxes
    /// with their lowest corner below their highest.
    pub fn validate(&self) -> Result<(), HardnessError> {
        let positive = |region: &str, what: &'static str, value: f64| {
            if value.is_finite() && value > 0.0 {
                Ok(())
            } else {
                Err(HardnessError::Value {
                    region: region.into(),
                    what,
                    value,
                    expected: "a finite number above 0",
                })
            }
        };
        let factor = |region: &str, f: &HardnessFactor| {
            positive(region, "kc factor", f.kc)?;
            positive(region, "wear factor", f.wear)
        };
        let finite = |region: &str, what: &'static str, value: f64| {
            if value.is_finite() {
                Ok(())
            } else {
                Err(HardnessError::Value {
                    region: region.into(),
                    what,
                    value,
                    expected: "a finite number",
                })
            }
        };
        if let Some(skin) = &self.skin {
            positive("skin", "thickness (mm)", skin.thickness_mm)?;
            factor("skin", &skin.factor)?;
        }
        for (k, spot) in self.hard_spots.iter().enumerate() {
            let region = format!("hard spot {}", k + 1);
            factor(&region, &spot.factor)?;
            match spot.shape {
                SpotShape::Box { min_mm, max_mm } => {
                    for a in 0..3 {
                        finite(&region, "corner coordinate (mm)", min_mm[a])?;
                        finite(&region, "corner coordinate (mm)", max_mm[a])?;
                        positive(&region, "box edge (mm)", max_mm[a] - min_mm[a])?;
                    }
                }
                SpotShape::Cylinder {
                    centre_mm,
                    radius_mm,
                    z_min_mm,
                    z_max_mm,
                } => {
                    finite(&region, "axis x (mm)", centre_mm[0])?;
                    finite(&region, "axis y (mm)", centre_mm[1])?;
                    positive(&region, "radius (mm)", radius_mm)?;
                    finite(&region, "bottom (mm)", z_min_mm)?;
                    positive(&region, "height (mm)", z_max_mm - z_min_mm)?;
                }
            }
        }
        Ok(())
    }
}

/// Splits `text` at ':' and ',' into numbers, naming the word that is not one.
fn numbers(text: &str, part: &str, expected: &'static str) -> Result<Vec<f64>, HardnessError> {
    part.split(',')
        .map(|w| {
            w.trim().parse::<f64>().map_err(|_| HardnessError::Syntax {
                text: text.into(),
                reason: format!("'{w}' is not a number"),
                expected,
            })
        })
        .collect()
}

fn syntax(text: &str, reason: String, expected: &'static str) -> HardnessError {
    HardnessError::Syntax {
        text: text.into(),
        reason,
        expected,
    }
}

impl std::str::FromStr for Skin {
    type Err = HardnessError;
    /// Reads `THICKNESS_MM:KC_FACTOR:WEAR_FACTOR`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let v = numbers(text, &text.replace(':', ","), SKIN_FORM)?;
        let [thickness_mm, kc, wear] = v[..] else {
            return Err(syntax(
                text,
                format!("{} values, not 3", v.len()),
                SKIN_FORM,
            ));
        };
        let skin = Skin {
            thickness_mm,
            factor: HardnessFactor { kc, wear },
        };
        StockHardness {
            skin: Some(skin),
            hard_spots: Vec::new(),
        }
        .validate()?;
        Ok(skin)
    }
}

impl std::str::FromStr for HardSpot {
    type Err = HardnessError;
    /// Reads `box:X0,Y0,Z0,X1,Y1,Z1:KC:WEAR` or `cyl:X,Y,R,Z0,Z1:KC:WEAR`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = text.split(':').collect();
        let [kind, geometry, kc, wear] = parts[..] else {
            return Err(syntax(
                text,
                format!("{} ':'-separated parts, not 4", parts.len()),
                SPOT_FORM,
            ));
        };
        let g = numbers(text, geometry, SPOT_FORM)?;
        let f = numbers(text, &format!("{kc},{wear}"), SPOT_FORM)?;
        let shape = match (kind.trim().to_ascii_lowercase().as_str(), &g[..]) {
            ("box", &[x0, y0, z0, x1, y1, z1]) => SpotShape::Box {
                min_mm: [x0, y0, z0],
                max_mm: [x1, y1, z1],
            },
            ("cyl" | "cylinder", &[x, y, r, z0, z1]) => SpotShape::Cylinder {
                centre_mm: [x, y],
                radius_mm: r,
                z_min_mm: z0,
                z_max_mm: z1,
            },
            (k, g) => {
                return Err(syntax(
                    text,
                    format!("'{k}' with {} coordinates", g.len()),
                    SPOT_FORM,
                ))
            }
        };
        let spot = HardSpot {
            shape,
            factor: HardnessFactor {
                kc: f[0],
                wear: f[1],
            },
        };
        StockHardness {
            skin: None,
            hard_spots: vec![spot],
        }
        .validate()?;
        Ok(spot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_skin_and_spots_and_names_bad_values() {
        let skin: Skin = "2:1.4:2.5".parse().unwrap();
        assert_eq!(skin.thickness_mm, 2.0);
        assert_eq!(skin.factor, HardnessFactor { kc: 1.4, wear: 2.5 });
        let spot: HardSpot = "cyl:40,20,4,-8,0:2:4".parse().unwrap();
        assert!(matches!(spot.shape, SpotShape::Cylinder { radius_mm, .. } if radius_mm == 4.0));
        let spot: HardSpot = "box:0,0,-5,10,10,0:1.8:3".parse().unwrap();
        assert!(matches!(spot.shape, SpotShape::Box { max_mm, .. } if max_mm == [10.0, 10.0, 0.0]));

        let err = "2:NaN:1".parse::<Skin>().unwrap_err().to_string();
        assert!(
            err.contains("skin") && err.contains("kc factor is NaN"),
            "{err}"
        );
        let err = "2:1.4".parse::<Skin>().unwrap_err().to_string();
        assert!(err.contains("'2:1.4'") && err.contains("2 values"), "{err}");
        let err = "box:0,0,0,10,10,-5:2:2"
            .parse::<HardSpot>()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("hard spot 1") && err.contains("box edge"),
            "{err}"
        );
        let err = "sphere:1,2,3:2:2"
            .parse::<HardSpot>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("'sphere' with 3 coordinates"), "{err}");
    }

    #[test]
    fn default_is_none() {
        let h = StockHardness::default();
        assert!(h.is_none());
        assert_eq!(h.validate(), Ok(()));
    }
}
