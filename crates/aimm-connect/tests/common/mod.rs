//! Helpers the MTConnect integration tests share: test data paths and validation of served
//! documents against the MTConnect 2.7 XSDs with `xmllint` (install it with
//! `. scripts/services/xmllint.sh`; a missing xmllint fails the test, it is never skipped).

#![allow(dead_code)] // each test binary uses its own part of these helpers

use std::path::PathBuf;

/// A file under `testdata/mtconnect`.
pub fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/mtconnect")
        .join(rel)
}

/// The text of a file under `testdata/mtconnect`.
pub fn read(rel: &str) -> String {
    std::fs::read_to_string(testdata(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Validates `doc` against MTConnect 2.7 schema `kind` (Devices, Streams, Assets, Error).
pub fn assert_valid(kind: &str, doc: &str) {
    assert_all_valid(kind, &[("document", doc)]);
}

/// Validates every (label, document) against schema `kind` in one `xmllint` run (a run costs
/// ~0.3 s of schema compilation, so property tests batch their documents); a failure names the
/// label and shows xmllint's complaints and the head of the document.
pub fn assert_all_valid(kind: &str, docs: &[(impl AsRef<str>, impl AsRef<str>)]) {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = docs
        .iter()
        .enumerate()
        .map(|(i, (_, doc))| {
            let file = dir.path().join(format!("{i}.xml"));
            std::fs::write(&file, doc.as_ref()).unwrap();
            file
        })
        .collect();
    let schema = testdata(&format!("schemas/MTConnect{kind}_2.7_1.0.xsd"));
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .args(&files)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run xmllint ({e}): install it with `. scripts/services/xmllint.sh`")
        });
    if out.status.success() {
        return;
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let failed = files
        .iter()
        .position(|f| stderr.contains(&format!("{} fails to validate", f.display())))
        .or_else(|| {
            files
                .iter()
                .position(|f| stderr.contains(&f.display().to_string()))
        })
        .unwrap_or(0);
    let (label, doc) = (docs[failed].0.as_ref(), docs[failed].1.as_ref());
    let name = files[failed].display().to_string();
    panic!(
        "{kind} document '{label}' does not validate:\n{}\n--- document head ---\n{}",
        stderr
            .lines()
            .filter(|l| l.contains(&name))
            .take(20)
            .collect::<Vec<_>>()
            .join("\n"),
        &doc[..doc.len().min(3000)]
    );
}

/// The device files refused on load (invalid on purpose upstream), with what the reason must
/// say.
pub const REFUSED: &[(&str, &[&str])] = &[
    (
        "cppagent_test_reference_example.xml",
        &["line 45", "id 'd'", "<Door>", "<Device>", "unique"],
    ),
    (
        "cppagent_test_relationship_test.xml",
        &[
            "line 43",
            "<DataItemRelationship name=\"bob\"",
            "of <DataItem> 'xlcpl'",
            "no type",
        ],
    ),
];

/// Every device file in `testdata/mtconnect/devices`: name and text, sorted by name.
pub fn device_files() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(testdata("devices"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}
