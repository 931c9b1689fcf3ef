//! Key files: `<name>.key` holds the private signer key text (mode 0600 on Unix), `<name>.vkey`
//! the public verifier key text, each followed by one newline.

use crate::note::{NoteError, Signer, Verifier};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Why a key file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing the key file failed.
    #[error("{path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The key file is already there.
    #[error("{path} already exists; refusing to overwrite a key")]
    Exists {
        /// The key file.
        path: PathBuf,
    },
    /// The key text does not parse.
    #[error("{path}: {source}")]
    Parse {
        /// The key file.
        path: PathBuf,
        /// Why the key text is bad.
        source: NoteError,
    },
    /// The file holds more than the key text and one newline.
    #[error("{path}: a key file holds the key text and one newline, nothing else")]
    Layout {
        /// The key file.
        path: PathBuf,
    },
    /// Neither a readable key file nor verifier key text.
    #[error("'{text}' is neither a key file nor verifier key text: {source}")]
    NotAKey {
        /// The argument given.
        text: String,
        /// Why it does not parse as key text.
        source: NoteError,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates `path` with `text`, failing if it exists; `private` files get mode 0600 on Unix.
fn create_new(path: &Path, text: &str, private: bool) -> Result<(), KeyError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::Exists {
                path: path.to_path_buf(),
            }
        } else {
            io_err(path)(e)
        }
    })?;
    file.write_all(text.as_bytes()).map_err(io_err(path))?;
    file.sync_all().map_err(io_err(path))
}

/// Generates a key named `name` and writes `<dir>/<name>.key` and `<dir>/<name>.vkey`; returns
/// their paths. Refuses to overwrite either file. Key names with '/' are written with '_' in the
/// file name.
pub fn write_key_pair(dir: &Path, name: &str) -> Result<(PathBuf, PathBuf), KeyError> {
    let signer = Signer::generate(name).map_err(|source| KeyError::Parse {
        path: dir.to_path_buf(),
        source,
    })?;
    let stem = name.replace(['/', '\\'], "_");
    let private = dir.join(format!("{stem}.key"));
    let public = dir.join(format!("{stem}.vkey"));
    // Check both first so a refused write leaves no half pair behind.
    for p in [&private, &public] {
        if p.exists() {
            return Err(KeyError::Exists { path: p.clone() });
        }
    }
    create_new(&private, &format!("{signer}\n"), true)?;
    create_new(&public, &format!("{}\n", signer.verifier()), false)?;
    Ok((private, public))
}

/// The key text of a key file: its content without the single final newline.
fn read_key_text(path: &Path) -> Result<String, KeyError> {
    let content = std::fs::read_to_string(path).map_err(io_err(path))?;
    match content.strip_suffix('\n') {
        Some(text) if !text.contains('\n') => Ok(text.to_string()),
        _ => Err(KeyError::Layout {
            path: path.to_path_buf(),
        }),
    }
}

/// Reads a private key file.
pub fn read_signer(path: &Path) -> Result<Signer, KeyError> {
    Signer::parse(&read_key_text(path)?).map_err(|source| KeyError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a verifier key from a file if `path_or_text` names one, else parses it as key text.
pub fn read_verifier(path_or_text: &str) -> Result<Verifier, KeyError> {
    let path = Path::new(path_or_text);
    if path.is_file() {
        return Verifier::parse(&read_key_text(path)?).map_err(|source| KeyError::Parse {
            path: path.to_path_buf(),
            source,
        });
    }
    Verifier::parse(path_or_text).map_err(|source| KeyError::NotAKey {
        text: path_or_text.to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_reads_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let (key, vkey) = write_key_pair(dir.path(), "plant.example/log").unwrap();
        assert_eq!(key.file_name().unwrap(), "plant.example_log.key");
        let signer = read_signer(&key).unwrap();
        let verifier = read_verifier(vkey.to_str().unwrap()).unwrap();
        assert_eq!(signer.verifier(), verifier);
        assert_eq!(read_verifier(&verifier.to_string()).unwrap(), verifier);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = write_key_pair(dir.path(), "plant.example/log").unwrap_err();
        assert!(matches!(again, KeyError::Exists { .. }), "{again}");
        assert!(again.to_string().contains("plant.example_log.key"));
        // Two trailing newlines are not a key file.
        std::fs::write(&vkey, format!("{verifier}\n\n")).unwrap();
        let err = read_verifier(vkey.to_str().unwrap()).unwrap_err();
        assert!(err.to_string().contains("vkey"), "{err}");
        assert!(read_verifier("no-such-file").is_err());
    }
}
