//! The SHDR adapter protocol as the reference agent (cppagent) reads it: one line per update,
//! `timestamp|key|value|key|value…`, asset commands (`@ASSET@`, `@REMOVE_ASSET@`,
//! `@REMOVE_ALL_ASSETS@`) whose body may span lines between `--multiline--TAG` markers, and
//! `* ` protocol lines (`* PING` heart-beats, `*adapterVersion:` headers).

use super::MtcError;
use aimm_model::TimeNs;

/// One complete SHDR record.
#[derive(Clone, Debug, PartialEq)]
pub enum ShdrRecord {
    /// Data: the fields after the timestamp, to be split into key/value runs with the device
    /// model (conditions take five fields, messages two).
    Data {
        /// The line's timestamp, ns since the Unix epoch (UTC).
        t_ns: TimeNs,
        /// The `|`-separated fields after the timestamp, as sent.
        fields: Vec<String>,
    },
    /// `@ASSET@|id|type|xml`: an asset (e.g. a CuttingTool) to add or replace.
    Asset {
        /// The line's timestamp, ns since the Unix epoch (UTC).
        t_ns: TimeNs,
        /// The `assetId`.
        id: String,
        /// The asset type, which is also the body's root element name (e.g. `CuttingTool`).
        asset_type: String,
        /// The asset body; for a `--multiline--` body, its lines joined with `\n`.
        xml: String,
    },
    /// `@REMOVE_ASSET@|id`: marks one asset removed.
    RemoveAsset {
        /// The line's timestamp, ns since the Unix epoch (UTC).
        t_ns: TimeNs,
        /// The `assetId` to remove.
        id: String,
    },
    /// `@REMOVE_ALL_ASSETS@|type`: marks every asset of a type (all when empty) removed.
    RemoveAllAssets {
        /// The line's timestamp, ns since the Unix epoch (UTC).
        t_ns: TimeNs,
        /// The asset type to remove; empty means every type.
        asset_type: String,
    },
    /// A `*` protocol line without the star, e.g. `PING` or `adapterVersion:2.0`.
    Command(String),
}

/// Reads SHDR line by line, keeping the state of an unfinished multiline asset body.
#[derive(Debug, Default)]
pub struct ShdrParser {
    pending: Option<(String, ShdrRecord)>,
}

impl ShdrParser {
    /// Feeds one line (without its line ending); returns a record when one is complete. `place`
    /// names the source and line in errors (e.g. `okuma.shdr:12`).
    pub fn feed(&mut self, line: &str, place: &str) -> Result<Option<ShdrRecord>, MtcError> {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some((tag, record)) = &mut self.pending {
            if line.trim() == tag {
                return Ok(self.pending.take().map(|(_, r)| r));
            }
            if let ShdrRecord::Asset { xml, .. } = record {
                if !xml.is_empty() {
                    xml.push('\n');
                }
                xml.push_str(line);
            }
            return Ok(None);
        }
        if line.trim().is_empty() {
            return Ok(None);
        }
        if let Some(command) = line.strip_prefix('*') {
            return Ok(Some(ShdrRecord::Command(command.trim().to_string())));
        }
        let mut fields = line.split('|');
        let stamp = fields.next().unwrap_or_default();
        let t_ns = parse_timestamp(stamp).map_err(|e| MtcError::Shdr {
            place: place.to_string(),
            message: e.to_string(),
        })?;
        let fields: Vec<&str> = fields.collect();
        let bad = |message: String| MtcError::Shdr {
            place: place.to_string(),
            message,
        };
        match fields.first().copied() {
            Some("@ASSET@") => {
                let [_, id, asset_type, body @ ..] = fields.as_slice() else {
                    return Err(bad("@ASSET@ needs id|type|xml".into()));
                };
                let body = body.join("|");
                let multiline = body.starts_with("--multiline--");
                let record = ShdrRecord::Asset {
                    t_ns,
                    id: id.to_string(),
                    asset_type: asset_type.to_string(),
                    xml: if multiline {
                        String::new()
                    } else {
                        body.clone()
                    },
                };
                if multiline {
                    self.pending = Some((body, record));
                    return Ok(None);
                }
                Ok(Some(record))
            }
            Some("@REMOVE_ASSET@") => {
                let id = fields
                    .get(1)
                    .ok_or_else(|| bad("@REMOVE_ASSET@ needs an id".into()))?;
                Ok(Some(ShdrRecord::RemoveAsset {
                    t_ns,
                    id: id.to_string(),
                }))
            }
            Some("@REMOVE_ALL_ASSETS@") => Ok(Some(ShdrRecord::RemoveAllAssets {
                t_ns,
                asset_type: fields.get(1).unwrap_or(&"").to_string(),
            })),
            Some(_) => Ok(Some(ShdrRecord::Data {
                t_ns,
                fields: fields.iter().map(|f| f.to_string()).collect(),
            })),
            None => Err(bad("a timestamp without data".into())),
        }
    }

    /// True while a multiline asset body is open (at the end of input it is lost).
    pub fn in_multiline(&self) -> bool {
        self.pending.is_some()
    }
}

/// A timestamp that [`parse_timestamp`] cannot read; names the text.
#[derive(Debug, thiserror::Error)]
pub enum TimestampError {
    /// Not RFC 3339.
    #[error("timestamp '{text}': {source}")]
    Malformed {
        /// The timestamp as given.
        text: String,
        /// What the RFC 3339 parser found wrong.
        #[source]
        source: humantime::TimestampError,
    },
    /// Before the Unix epoch.
    #[error("timestamp '{text}' is before 1970")]
    BeforeEpoch {
        /// The timestamp as given.
        text: String,
    },
    /// After the last instant a nanosecond clock in an i64 holds (2262-04-11T23:47:16Z).
    #[error(
        "timestamp '{text}' is after 2262-04-11T23:47:16Z, the last instant aimm's clock holds"
    )]
    TooLate {
        /// The timestamp as given.
        text: String,
    },
}

/// Parses an SHDR / MTConnect timestamp (RFC 3339, UTC, up to nanoseconds; `Z` optional).
pub fn parse_timestamp(text: &str) -> Result<TimeNs, TimestampError> {
    let t =
        humantime::parse_rfc3339_weak(text.trim()).map_err(|source| TimestampError::Malformed {
            text: text.to_string(),
            source,
        })?;
    let d = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| TimestampError::BeforeEpoch {
            text: text.to_string(),
        })?;
    TimeNs::try_from(d.as_nanos()).map_err(|_| TimestampError::TooLate {
        text: text.to_string(),
    })
}

/// Formats UTC nanoseconds as MTConnect does: RFC 3339 with `Z`, fraction without trailing zeros
/// (at least microseconds), so a timestamp read from an adapter goes out to the nanosecond.
pub fn format_timestamp(t_ns: TimeNs) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(t_ns.max(0) as u64);
    let text = humantime::format_rfc3339_nanos(t).to_string();
    // humantime always prints nine digits: "…:SS.nnnnnnnnnZ".
    let (head, frac) = text
        .trim_end_matches('Z')
        .split_once('.')
        .unwrap_or((&text, ""));
    let mut frac = frac.trim_end_matches('0').to_string();
    while frac.len() < 6 {
        frac.push('0');
    }
    format!("{head}.{frac}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_past_the_clock_is_refused_not_wrapped() {
        let err = parse_timestamp("9999-01-01T00:00:00Z").unwrap_err();
        assert!(matches!(err, TimestampError::TooLate { .. }), "{err}");
        assert!(parse_timestamp("2262-04-11T23:47:16Z").is_ok());
    }

    #[test]
    fn timestamps_round_trip_to_the_nanosecond() {
        let t = parse_timestamp("2022-08-08T13:51:34.7167146Z").unwrap();
        assert_eq!(format_timestamp(t), "2022-08-08T13:51:34.7167146Z");
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00.000000Z");
        assert!(parse_timestamp("2022-13-08T00:00:00Z").is_err());
    }

    #[test]
    fn data_assets_and_multiline_bodies() {
        let mut p = ShdrParser::default();
        let r = p
            .feed("2022-08-08T13:51:34Z|S1load|12|pFovr|100", "t:1")
            .unwrap();
        assert!(matches!(r, Some(ShdrRecord::Data { ref fields, .. }) if fields.len() == 4));
        assert_eq!(
            p.feed(
                "2022-08-08T13:51:34Z|@ASSET@|a.1|CuttingTool|--multiline--AB",
                "t:2"
            )
            .unwrap(),
            None
        );
        assert_eq!(
            p.feed("<CuttingTool assetId=\"a.1\">", "t:3").unwrap(),
            None
        );
        assert_eq!(p.feed("</CuttingTool>", "t:4").unwrap(), None);
        let Some(ShdrRecord::Asset { id, xml, .. }) = p.feed("--multiline--AB", "t:5").unwrap()
        else {
            panic!("asset expected")
        };
        assert_eq!(id, "a.1");
        assert_eq!(xml, "<CuttingTool assetId=\"a.1\">\n</CuttingTool>");
        assert_eq!(
            p.feed("* PING", "t:6").unwrap(),
            Some(ShdrRecord::Command("PING".into()))
        );
        let err = p.feed("yesterday|x|1", "f.shdr:7").unwrap_err().to_string();
        assert!(
            err.contains("f.shdr:7") && err.contains("yesterday"),
            "{err}"
        );
    }
}
