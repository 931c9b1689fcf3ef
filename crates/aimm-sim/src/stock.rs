//! 2.5D height-map ("z-map") stock: a grid of columns whose tops the tool cuts down, so axial
//! depth and radial engagement vary along the path as they do on a real part.

use crate::hardness::HardnessMap;
use aimm_model::{StockHardness, ToolKind};

/// Rectangular stock block, work coordinates, mm.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct StockSpec {
    /// Lowest X, mm.
    pub x_min_mm: f64,
    /// Lowest Y, mm.
    pub y_min_mm: f64,
    /// Highest X, mm.
    pub x_max_mm: f64,
    /// Highest Y, mm.
    pub y_max_mm: f64,
    /// Top face height, mm (CAM convention: work zero on the stock top, so 0).
    pub top_mm: f64,
}

/// Material removed by one cut of the tool at one position.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Removal {
    /// Volume removed, mm³.
    pub volume_mm3: f64,
    /// Deepest cut below the previous surface among the cells removed, mm.
    pub depth_mm: f64,
    /// Volume removed weighted by the stock's kc factor where it was, mm³ (= `volume_mm3` in
    /// a stock of uniform hardness).
    pub kc_weighted_mm3: f64,
    /// Volume removed weighted by the stock's wear-rate factor where it was, mm³.
    pub wear_weighted_mm3: f64,
}

/// The height map. Cell (i, j) covers x ∈ [x_min + i·cell, x_min + (i+1)·cell), likewise y; its
/// value is the material top at the cell centre.
#[derive(Clone, Debug)]
pub struct Stock {
    spec: StockSpec,
    cell_mm: f64,
    nx: usize,
    ny: usize,
    height_mm: Vec<f32>,
    /// Harder regions, if any.
    hardness: Option<HardnessMap>,
}

impl Stock {
    /// Most cells a stock may have (≈ 16 MB of heights); the cell grows to stay under it.
    pub const MAX_CELLS: usize = 4_000_000;

    /// A flat block with cells of about `cell_mm` (coarsened if the grid would exceed
    /// [`Stock::MAX_CELLS`]).
    pub fn new(spec: StockSpec, cell_mm: f64) -> Self {
        let w = (spec.x_max_mm - spec.x_min_mm).max(cell_mm);
        let h = (spec.y_max_mm - spec.y_min_mm).max(cell_mm);
        let cell_mm = cell_mm.max((w * h / Self::MAX_CELLS as f64).sqrt());
        let nx = (w / cell_mm).ceil() as usize;
        let ny = (h / cell_mm).ceil() as usize;
        Self {
            spec,
            cell_mm,
            nx,
            ny,
            height_mm: vec![spec.top_mm as f32; nx * ny],
            hardness: None,
        }
    }

    /// The block with `hardness` placed in it (its skin under this block's top and sides).
    pub fn with_hardness(mut self, hardness: &StockHardness) -> Self {
        let s = &self.spec;
        let plan = [s.x_min_mm, s.y_min_mm, s.x_max_mm, s.y_max_mm];
        self.hardness = HardnessMap::new(hardness, plan, s.top_mm);
        self
    }

    /// The block as specified.
    pub fn spec(&self) -> &StockSpec {
        &self.spec
    }

    /// Cell edge actually used, mm.
    pub fn cell_mm(&self) -> f64 {
        self.cell_mm
    }

    /// Material top at (x, y), or `None` outside the block.
    pub fn height_at(&self, x_mm: f64, y_mm: f64) -> Option<f64> {
        let i = ((x_mm - self.spec.x_min_mm) / self.cell_mm).floor();
        let j = ((y_mm - self.spec.y_min_mm) / self.cell_mm).floor();
        if i < 0.0 || j < 0.0 || i as usize >= self.nx || j as usize >= self.ny {
            return None;
        }
        Some(self.height_mm[j as usize * self.nx + i as usize] as f64)
    }

    /// Cuts every column under the tool (tip at `tip`, radius `radius_mm`) down to the tool's
    /// lower envelope and returns what was removed.
    ///
    /// `previous` is the tip of this tool's last cut when nothing else cut since and the radius
    /// has not grown: for flat-bottomed tools at the same height the columns inside that earlier
    /// footprint are already at the floor, so only the new crescent is visited. That keeps a cut
    /// proportional to the tool's diameter in cells rather than its area.
    pub fn cut(
        &mut self,
        tip: [f64; 3],
        radius_mm: f64,
        kind: ToolKind,
        previous: Option<[f64; 3]>,
    ) -> Removal {
        let c = self.cell_mm;
        let (x0, y0) = (self.spec.x_min_mm, self.spec.y_min_mm);
        let flat = kind != ToolKind::BallEndMill;
        let skip_disk = previous.filter(|p| flat && (p[2] - tip[2]).abs() < 1e-9);
        // Cell index range covering the tool's footprint, clipped to the block.
        let lo = |v: f64, o: f64| ((v - radius_mm - o) / c).floor().max(0.0) as usize;
        let hi =
            |v: f64, o: f64, n: usize| (((v + radius_mm - o) / c).ceil().max(0.0) as usize).min(n);
        let (i0, i1) = (lo(tip[0], x0), hi(tip[0], x0, self.nx));
        let (j0, j1) = (lo(tip[1], y0), hi(tip[1], y0, self.ny));
        let r2 = radius_mm * radius_mm;
        let area = c * c;
        let mut removal = Removal::default();
        for j in j0..j1 {
            let yc = y0 + (j as f64 + 0.5) * c;
            let dy = yc - tip[1];
            if dy * dy > r2 {
                continue;
            }
            // Columns of this row inside the previous footprint: [k0, k1).
            let (k0, k1) = skip_disk
                .and_then(|p| {
                    let half2 = r2 - (yc - p[1]) * (yc - p[1]);
                    (half2 > 0.0).then(|| {
                        let half = half2.sqrt();
                        let k0 = ((p[0] - half - x0) / c - 0.5).ceil().max(0.0) as usize;
                        let k1 = (((p[0] + half - x0) / c - 0.5).floor() + 1.0).max(0.0) as usize;
                        (k0, k1)
                    })
                })
                .unwrap_or((0, 0));
            let row = &mut self.height_mm[j * self.nx..(j + 1) * self.nx];
            for i in (i0..i1).filter(|i| !(k0..k1).contains(i)) {
                let dx = x0 + (i as f64 + 0.5) * c - tip[0];
                let d2 = dx * dx + dy * dy;
                if d2 > r2 {
                    continue;
                }
                let floor = if flat {
                    tip[2]
                } else {
                    // A ball's lower envelope rises with distance from its axis.
                    tip[2] + radius_mm - (r2 - d2).sqrt()
                };
                let h = &mut row[i];
                let top = *h as f64;
                if top > floor {
                    let (kc_mm, wear_mm) = match &mut self.hardness {
                        None => (top - floor, top - floor),
                        Some(map) => {
                            let f = map.column(dx + tip[0], yc, floor, top);
                            (f.kc_mm, f.wear_mm)
                        }
                    };
                    removal.volume_mm3 += (top - floor) * area;
                    removal.kc_weighted_mm3 += kc_mm * area;
                    removal.wear_weighted_mm3 += wear_mm * area;
                    removal.depth_mm = removal.depth_mm.max(top - floor);
                    *h = floor as f32;
                }
            }
        }
        removal
    }

    /// Material left in the block, mm³ (above `floor_mm`).
    pub fn volume_above_mm3(&self, floor_mm: f64) -> f64 {
        let area = self.cell_mm * self.cell_mm;
        self.height_mm
            .iter()
            .map(|&h| (h as f64 - floor_mm).max(0.0) * area)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block() -> Stock {
        let spec = StockSpec {
            x_min_mm: 0.0,
            y_min_mm: 0.0,
            x_max_mm: 50.0,
            y_max_mm: 50.0,
            top_mm: 0.0,
        };
        Stock::new(spec, 0.1)
    }

    #[test]
    fn plunge_removes_a_cylinder() {
        let mut s = block();
        let r = s.cut([25.0, 25.0, -2.0], 5.0, ToolKind::FlatEndMill, None);
        let cylinder = std::f64::consts::PI * 25.0 * 2.0;
        assert!((r.volume_mm3 - cylinder).abs() / cylinder < 0.01, "{r:?}");
        assert!((r.depth_mm - 2.0).abs() < 1e-6);
        assert_eq!(s.height_at(25.0, 25.0), Some(-2.0));
        assert_eq!(s.height_at(40.0, 40.0), Some(0.0));
        // Cutting the same place again removes nothing.
        assert_eq!(
            s.cut([25.0, 25.0, -2.0], 5.0, ToolKind::FlatEndMill, None)
                .volume_mm3,
            0.0
        );
    }

    #[test]
    fn ball_removes_a_spherical_cap() {
        let mut s = block();
        // Tip 5 mm deep with a 5 mm ball: a hemisphere, 2/3 π r³.
        let r = s.cut([25.0, 25.0, -5.0], 5.0, ToolKind::BallEndMill, None);
        let hemi = 2.0 / 3.0 * std::f64::consts::PI * 125.0;
        assert!((r.volume_mm3 - hemi).abs() / hemi < 0.02, "{r:?}");
    }

    #[test]
    fn skipping_the_previous_footprint_removes_the_same_material() {
        // A 30 mm pass in 0.2 mm steps, with and without the crescent shortcut.
        let mut full = block();
        let mut fast = block();
        let (mut v_full, mut v_fast) = (0.0, 0.0);
        let mut prev = None;
        for k in 0..150 {
            let tip = [10.0 + 0.2 * k as f64, 20.0 + 0.05 * k as f64, -3.0];
            v_full += full.cut(tip, 5.0, ToolKind::FlatEndMill, None).volume_mm3;
            v_fast += fast.cut(tip, 5.0, ToolKind::FlatEndMill, prev).volume_mm3;
            prev = Some(tip);
        }
        assert!(v_full > 1000.0);
        assert!((v_full - v_fast).abs() < 1e-6, "{v_full} vs {v_fast}");
        assert_eq!(full.height_mm, fast.height_mm);
    }

    #[test]
    fn cut_outside_the_block_removes_nothing() {
        let mut s = block();
        assert_eq!(
            s.cut([-30.0, 10.0, -5.0], 5.0, ToolKind::FlatEndMill, None),
            Removal::default()
        );
        let before = s.volume_above_mm3(-10.0);
        assert!((before - 50.0 * 50.0 * 10.0).abs() < 1.0);
    }
}
