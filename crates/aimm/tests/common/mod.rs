//! Helpers shared by the integration tests.

#![allow(dead_code)] // each test binary uses its own part of these helpers

pub mod mqtt;

use std::process::Output;

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
