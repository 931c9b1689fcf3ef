//! Wiring shared by the commands that run parts: reading a program file, choosing material and
//! tool, building the simulator configuration, opening the store.

use crate::keys_cmd::DEFAULT_KEY;
use aimm_model::{HardSpot, Material, Skin, StockHardness, ToolKind, ToolSpec};
use aimm_sim::gcode::{parse, Program};
use aimm_store::Store;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// Where a command records what it did: an optional store, and the key that signs the
/// checkpoint closing it.
#[derive(clap::Args)]
pub struct RecordArgs {
    /// Record the run, its sensor segments and its ledger evidence in this store: a SQLite file
    /// (created if missing) or a PostgreSQL URL, postgres://user:password@host:5432/database.
    #[arg(long, env = "AIMM_DB")]
    pub db: Option<String>,
    /// Signing key for the checkpoint closing what was recorded (with --db; created if missing).
    #[arg(long, env = "AIMM_KEY", default_value = DEFAULT_KEY)]
    pub key: PathBuf,
}

/// Harder parts of the blank (a casting skin, inclusions), for the commands that cut one.
#[derive(clap::Args)]
pub struct HardnessArgs {
    /// Casting skin under the stock's top and inside its side faces:
    /// THICKNESS_MM:KC_FACTOR:WEAR_FACTOR, e.g. 2:1.4:2.5.
    #[arg(long)]
    pub skin: Option<Skin>,
    /// Hard spot (inclusion) in the stock, repeatable: box:X0,Y0,Z0,X1,Y1,Z1:KC:WEAR or
    /// cyl:X,Y,R,Z0,Z1:KC:WEAR (mm), e.g. cyl:40,20,4,-8,0:2:4.
    #[arg(long, allow_hyphen_values = true)]
    pub hard_spot: Vec<HardSpot>,
}

impl HardnessArgs {
    /// The stock hardness the arguments describe (none without them).
    pub fn hardness(&self) -> StockHardness {
        StockHardness {
            skin: self.skin,
            hard_spots: self.hard_spot.clone(),
        }
    }
}

/// Tool kinds as the CLI names them.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ToolKindArg {
    Flat,
    Ball,
    Drill,
}

/// Parses `--tool DIAMETERxFLUTES`, e.g. `10x4` (a 10 mm, 4-flute tool).
pub fn parse_tool(text: &str, kind: ToolKindArg) -> Result<ToolSpec> {
    let (d, z) = text
        .split_once(['x', 'X'])
        .with_context(|| format!("--tool '{text}': expected DIAMETERxFLUTES in mm, e.g. 10x4"))?;
    let diameter_mm: f64 = d
        .trim()
        .parse()
        .with_context(|| format!("--tool '{text}': diameter '{d}' is not a number of mm"))?;
    let flutes: u32 = z
        .trim()
        .parse()
        .with_context(|| format!("--tool '{text}': flutes '{z}' is not a whole number"))?;
    if !(0.1..=100.0).contains(&diameter_mm) || !(1..=20).contains(&flutes) {
        bail!("--tool '{text}': diameter must be 0.1–100 mm and flutes 1–20");
    }
    let kind = match kind {
        ToolKindArg::Flat => ToolKind::FlatEndMill,
        ToolKindArg::Ball => ToolKind::BallEndMill,
        ToolKindArg::Drill => ToolKind::Drill,
    };
    Ok(ToolSpec {
        number: 0,
        kind,
        diameter_mm,
        flutes,
        length_mm: 75.0,
        description: format!("{diameter_mm} mm {flutes}-flute {kind:?} (default tool)"),
    })
}

/// Parses `--material`.
pub fn parse_material(text: &str) -> Result<Material> {
    Material::from_name(text).map_err(|e| anyhow::anyhow!("--material: {e}"))
}

/// Reads and parses a program file; errors name the file, line and column.
pub fn read_program(path: &Path) -> Result<(Program, String)> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read program {}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let name = path.display().to_string();
    let program = parse(&name, &text)?;
    Ok((program, text))
}

/// Opens the store given by `--db`: a `postgres://` or `postgresql://` URL opens that PostgreSQL
/// database, anything else is a SQLite file (created if missing). Errors name the store (a URL
/// without its password) and the step that failed.
pub fn open_store(location: &str) -> Result<Box<dyn Store>> {
    Ok(aimm_store::open(location)?)
}
