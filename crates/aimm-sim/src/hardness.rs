//! Hardness variation in the stock ([`aimm_model::StockHardness`]) as the z-map sees it: the
//! factors on kc and on the wear rate, integrated over the height of a column of material cut.

use aimm_model::{HardnessFactor, SpotShape, StockHardness};

/// Where a region lies in plan view.
#[derive(Clone, Copy, Debug)]
enum Footprint {
    /// Everywhere in the block.
    All,
    /// Within `width` of the block's edge (the side faces of a casting).
    Rim { width_mm: f64 },
    /// An axis-aligned rectangle.
    Rect { min: [f64; 2], max: [f64; 2] },
    /// A disc.
    Disc { centre: [f64; 2], radius_mm: f64 },
}

/// One region: a footprint, a height range and its factors.
#[derive(Clone, Copy, Debug)]
struct Region {
    footprint: Footprint,
    z_min_mm: f64,
    z_max_mm: f64,
    factor: HardnessFactor,
}

/// The regions of a [`StockHardness`] placed in a block.
#[derive(Clone, Debug)]
pub struct HardnessMap {
    /// The block's plan: lowest x, lowest y, highest x, highest y, mm.
    plan_mm: [f64; 4],
    regions: Vec<Region>,
    /// Reused for the breakpoints of one column (the per-cell path allocates nothing).
    cuts: Vec<f64>,
}

/// Factor-weighted heights of material removed from one column, mm: ∫ factor dz.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ColumnFactors {
    /// ∫ kc factor dz, mm.
    pub kc_mm: f64,
    /// ∫ wear factor dz, mm.
    pub wear_mm: f64,
}

impl HardnessMap {
    /// The regions of `hardness` in a block of plan `plan_mm` (lowest x, lowest y, highest x,
    /// highest y) with its top at `top_mm`: the skin under its top face and inside its side
    /// faces, the hard spots where they are. `None` when there are none.
    pub fn new(hardness: &StockHardness, plan_mm: [f64; 4], top_mm: f64) -> Option<Self> {
        let mut regions = Vec::new();
        if let Some(skin) = hardness.skin {
            regions.push(Region {
                footprint: Footprint::All,
                z_min_mm: top_mm - skin.thickness_mm,
                z_max_mm: top_mm,
                factor: skin.factor,
            });
            regions.push(Region {
                footprint: Footprint::Rim {
                    width_mm: skin.thickness_mm,
                },
                z_min_mm: f64::NEG_INFINITY,
                z_max_mm: top_mm,
                factor: skin.factor,
            });
        }
        for spot in &hardness.hard_spots {
            regions.push(match spot.shape {
                SpotShape::Box { min_mm, max_mm } => Region {
                    footprint: Footprint::Rect {
                        min: [min_mm[0], min_mm[1]],
                        max: [max_mm[0], max_mm[1]],
                    },
                    z_min_mm: min_mm[2],
                    z_max_mm: max_mm[2],
                    factor: spot.factor,
                },
                SpotShape::Cylinder {
                    centre_mm,
                    radius_mm,
                    z_min_mm,
                    z_max_mm,
                } => Region {
                    footprint: Footprint::Disc {
                        centre: centre_mm,
                        radius_mm,
                    },
                    z_min_mm,
                    z_max_mm,
                    factor: spot.factor,
                },
            });
        }
        (!regions.is_empty()).then(|| Self {
            plan_mm,
            regions,
            cuts: Vec::new(),
        })
    }

    fn covers(&self, f: &Footprint, x: f64, y: f64) -> bool {
        match *f {
            Footprint::All => true,
            Footprint::Rim { width_mm } => {
                let [x0, y0, x1, y1] = self.plan_mm;
                let inset = (x - x0).min(x1 - x).min(y - y0).min(y1 - y);
                inset < width_mm
            }
            Footprint::Rect { min, max } => {
                (min[0]..=max[0]).contains(&x) && (min[1]..=max[1]).contains(&y)
            }
            Footprint::Disc { centre, radius_mm } => {
                (x - centre[0]).hypot(y - centre[1]) <= radius_mm
            }
        }
    }

    /// The factors integrated over the column at (x, y) from `lo_mm` up to `hi_mm`; where regions
    /// overlap the larger factor counts, outside every region the factor is 1.
    pub fn column(&mut self, x: f64, y: f64, lo_mm: f64, hi_mm: f64) -> ColumnFactors {
        let mut cuts = std::mem::take(&mut self.cuts);
        cuts.clear();
        cuts.extend([lo_mm, hi_mm]);
        for r in self
            .regions
            .iter()
            .filter(|r| self.covers(&r.footprint, x, y))
        {
            cuts.extend(
                [r.z_min_mm, r.z_max_mm]
                    .into_iter()
                    .filter(|z| *z > lo_mm && *z < hi_mm),
            );
        }
        cuts.sort_by(f64::total_cmp);
        let mut sum = ColumnFactors::default();
        for w in cuts.windows(2) {
            let (a, b) = (w[0], w[1]);
            let mid = 0.5 * (a + b);
            let (kc, wear) = self
                .regions
                .iter()
                .filter(|r| r.z_min_mm <= mid && mid <= r.z_max_mm)
                .filter(|r| self.covers(&r.footprint, x, y))
                .fold((1.0_f64, 1.0_f64), |(kc, wear), r| {
                    (kc.max(r.factor.kc), wear.max(r.factor.wear))
                });
            sum.kc_mm += kc * (b - a);
            sum.wear_mm += wear * (b - a);
        }
        self.cuts = cuts;
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aimm_model::{HardSpot, Skin};

    /// A 100 × 50 block with its top at 0.
    fn block_map(h: &StockHardness) -> Option<HardnessMap> {
        HardnessMap::new(h, [0.0, 0.0, 100.0, 50.0], 0.0)
    }

    fn f(kc: f64, wear: f64) -> HardnessFactor {
        HardnessFactor { kc, wear }
    }

    #[test]
    fn skin_weights_the_top_layer_and_the_rim() {
        let h = StockHardness {
            skin: Some(Skin {
                thickness_mm: 2.0,
                factor: f(1.5, 3.0),
            }),
            hard_spots: vec![],
        };
        let mut map = block_map(&h).unwrap();
        // Mid-block, 5 mm deep: 2 mm of skin at 1.5, 3 mm of core at 1.
        let c = map.column(50.0, 25.0, -5.0, 0.0);
        assert!((c.kc_mm - (2.0 * 1.5 + 3.0)).abs() < 1e-12, "{c:?}");
        assert!((c.wear_mm - (2.0 * 3.0 + 3.0)).abs() < 1e-12, "{c:?}");
        // Below the skin: nominal.
        let c = map.column(50.0, 25.0, -8.0, -5.0);
        assert!((c.kc_mm - 3.0).abs() < 1e-12, "{c:?}");
        // 1 mm inside a side face: skin all the way down.
        let c = map.column(1.0, 25.0, -8.0, -5.0);
        assert!((c.kc_mm - 4.5).abs() < 1e-12, "{c:?}");
    }

    #[test]
    fn overlapping_regions_take_the_larger_factor() {
        let h = StockHardness {
            skin: Some(Skin {
                thickness_mm: 1.0,
                factor: f(1.4, 2.0),
            }),
            hard_spots: vec![HardSpot {
                shape: SpotShape::Cylinder {
                    centre_mm: [50.0, 25.0],
                    radius_mm: 5.0,
                    z_min_mm: -3.0,
                    z_max_mm: -0.5,
                },
                factor: f(2.0, 1.5),
            }],
        };
        let mut map = block_map(&h).unwrap();
        // 0..-0.5 skin only (1.4), -0.5..-1 both (kc 2.0, wear 2.0), -1..-3 spot, -3..-4 core.
        let c = map.column(52.0, 25.0, -4.0, 0.0);
        assert!((c.kc_mm - (0.5 * 1.4 + 0.5 * 2.0 + 2.0 * 2.0 + 1.0)).abs() < 1e-12);
        assert!((c.wear_mm - (0.5 * 2.0 + 0.5 * 2.0 + 2.0 * 1.5 + 1.0)).abs() < 1e-12);
        // Outside the disc the spot is absent.
        let c = map.column(60.0, 25.0, -4.0, -1.0);
        assert!((c.kc_mm - 3.0).abs() < 1e-12, "{c:?}");
        assert!(block_map(&StockHardness::default()).is_none());
    }
}
