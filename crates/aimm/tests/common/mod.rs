//! Helpers shared by the integration tests.

#![allow(dead_code)] // each test binary uses its own part of these helpers

pub mod mqtt;

use std::path::Path;
use std::process::{Command, Output};

/// Runs this build's `aimm` with `args` in `dir`.
pub fn aimm_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aimm"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// The JSON an `aimm` run printed, failing with its stderr.
pub fn json_of(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "aimm failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
