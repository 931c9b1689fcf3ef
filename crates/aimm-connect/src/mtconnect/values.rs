//! An adapter's SHDR value checked against what the 2.7 Streams schema lets the data item's
//! observation element hold ([`ValueKind`]): numbers, three-space vectors, time series, dates,
//! controlled vocabularies, and the `key=value` data sets and `key={col=value …}` tables of
//! DATA_SET and TABLE data items. A value that does not fit is refused with the reason, so every
//! document served stays valid whatever the adapter sent.

use super::buffer::Value;
use super::shdr::{format_timestamp, parse_timestamp};
use super::vocabulary::ValueKind;

/// Whether `key` is an `xs:NMTOKEN` (what an Entry or Cell key must be) by every XML edition's
/// rules: ASCII letters and digits, `.`, `-`, `_`, `:`. Letters beyond ASCII are refused, because
/// validators that follow XML 1.0's 4th edition (libxml2) refuse letters newer than Unicode 2.0
/// (e.g. `Ⱥ`), which the 5th edition allows: a key must validate everywhere.
fn nmtoken(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
}

/// One finite number that `xs:float` can hold, scaled from native units.
fn float(text: &str, scale: f64) -> Result<f64, String> {
    let v: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number"))?;
    let v = v * scale;
    if !v.is_finite() {
        return Err(format!("'{text}' is not finite"));
    }
    if v.abs() > f64::from(f32::MAX) {
        return Err(format!("'{text}' is beyond the range of an xs:float"));
    }
    Ok(v)
}

/// Numbers as published: the adapter's text when no unit conversion applies, else the
/// converted values.
fn floats(tokens: &[&str], scale: f64) -> Result<String, String> {
    let values = tokens
        .iter()
        .map(|t| float(t, scale))
        .collect::<Result<Vec<f64>, String>>()?;
    Ok(if scale == 1.0 {
        tokens.join(" ")
    } else {
        values
            .iter()
            .map(|v| format_number(*v))
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// A scalar (entry, cell or observation) value of `kind`, as published.
fn scalar(kind: &ValueKind, text: &str, scale: f64) -> Result<String, String> {
    let t = text.trim();
    let tokens: Vec<&str> = t.split_whitespace().collect();
    match kind {
        ValueKind::Float => match tokens.as_slice() {
            [one] => floats(&[one], scale),
            _ => Err(format!("'{t}' is not one number")),
        },
        ValueKind::Integer => t
            .parse::<i64>()
            .map(|_| t.to_string())
            .map_err(|_| format!("'{t}' is not a whole number")),
        ValueKind::ThreeSpace if tokens.len() == 3 => floats(&tokens, scale),
        ValueKind::ThreeSpace => Err(format!("'{t}' is not three numbers")),
        ValueKind::FloatList => floats(&tokens, scale),
        ValueKind::DateTime => parse_timestamp(t)
            .map(format_timestamp)
            .map_err(|e| e.to_string()),
        ValueKind::Enum(values) => {
            let upper = t.to_ascii_uppercase();
            if values.contains(&upper) {
                Ok(upper)
            } else {
                Err(format!("'{t}' is not one of the 2.7 values"))
            }
        }
        ValueKind::Text => Ok(text.to_string()),
        ValueKind::DataSet(_) | ValueKind::Table(_) => Err("a nested data set".into()),
    }
}

/// Splits `text` at whitespace outside quotes and braces.
fn entry_tokens(text: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut start = None;
    let mut close: Option<char> = None;
    for (i, c) in text.char_indices() {
        match close {
            Some(end) if c == end => close = None,
            Some(_) => {}
            None if c.is_whitespace() => {
                if let Some(s) = start.take() {
                    out.push(&text[s..i]);
                }
            }
            None => {
                start.get_or_insert(i);
                close = match c {
                    '{' => Some('}'),
                    '\'' | '"' => Some(c),
                    _ => None,
                };
            }
        }
    }
    if let Some(end) = close {
        return Err(format!("'{end}' missing at the end"));
    }
    out.extend(start.map(|s| &text[s..]));
    Ok(out)
}

/// `key=value …` entries, values unquoted and checked as `kind`.
fn entries(text: &str, kind: &ValueKind, scale: f64) -> Result<Vec<(String, String)>, String> {
    entry_tokens(text)?
        .into_iter()
        .map(|token| {
            let (key, value) = token
                .split_once('=')
                .ok_or_else(|| format!("entry '{token}' has no '='"))?;
            if !nmtoken(key) {
                return Err(format!("entry key '{key}' is no XML name token"));
            }
            let value = value
                .strip_prefix(['\'', '"', '{'])
                .and_then(|v| v.strip_suffix(['\'', '"', '}']))
                .unwrap_or(value);
            Ok((key.to_string(), scalar(kind, value, scale)?))
        })
        .collect()
}

/// The observation an SHDR value makes for an element of `kind` (its unit conversion factor
/// `scale`), or why it cannot be published.
pub fn observation(kind: &ValueKind, text: &str, scale: f64) -> Result<Value, String> {
    match kind {
        ValueKind::DataSet(entry) => Ok(Value::DataSet(entries(text, entry, scale)?)),
        ValueKind::Table(cell) => {
            let rows = entry_tokens(text)?
                .into_iter()
                .map(|token| {
                    let (key, row) = token
                        .split_once('=')
                        .ok_or_else(|| format!("row '{token}' has no '='"))?;
                    let cells = row
                        .strip_prefix('{')
                        .and_then(|r| r.strip_suffix('}'))
                        .ok_or_else(|| format!("row '{key}' is not {{…}}"))?;
                    if !nmtoken(key) {
                        return Err(format!("row key '{key}' is no XML name token"));
                    }
                    Ok((key.to_string(), entries(cells, cell, scale)?))
                })
                .collect::<Result<Vec<_>, String>>()?;
            Ok(Value::Table(rows))
        }
        _ => scalar(kind, text, scale).map(Value::Text),
    }
}

/// `v` with at most nine decimals and no trailing zeros (unit conversions such as mm/min →
/// mm/s would otherwise publish artefacts like 833.3249999999999).
pub fn format_number(v: f64) -> String {
    let text = format!("{v:.9}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_name_tokens_every_validator_accepts() {
        assert!(nmtoken("G54") && nmtoken("a.b-c_d:e"));
        // Found by the agent's property test: libxml2 refuses `Ⱥ` (Unicode 5.0) in a name.
        for key in ["fȺo", "\u{136B6}", "é", "a b", ""] {
            assert!(!nmtoken(key), "{key}");
        }
    }

    #[test]
    fn values_fit_their_element_or_are_refused() {
        let ok = |kind: &ValueKind, text: &str| observation(kind, text, 1.0).unwrap();
        let bad = |kind: &ValueKind, text: &str| observation(kind, text, 1.0).is_err();
        assert_eq!(ok(&ValueKind::Float, " 12.5 "), Value::Text("12.5".into()));
        assert_eq!(
            observation(&ValueKind::Float, "600", 1.0 / 60.0).unwrap(),
            Value::Text("10".into())
        );
        for text in ["NaN", "inf", "1e39", "1 2", "", "12mm"] {
            assert!(bad(&ValueKind::Float, text), "{text}");
        }
        assert!(bad(&ValueKind::Integer, "1.5") && bad(&ValueKind::ThreeSpace, "1 2"));
        let execution = ValueKind::Enum(["ACTIVE".to_string()].into());
        assert_eq!(ok(&execution, "active"), Value::Text("ACTIVE".into()));
        assert!(bad(&execution, "RUNNING"));
        let set = ValueKind::DataSet(Box::new(ValueKind::Text));
        assert_eq!(
            ok(&set, "a=1 b='x y' c={z}"),
            Value::DataSet(vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y".into()),
                ("c".into(), "z".into())
            ])
        );
        assert!(bad(&set, "a=1 <b>=2") && bad(&set, "a='open") && bad(&set, "novalue"));
        let table = ValueKind::Table(Box::new(ValueKind::Float));
        assert_eq!(
            ok(&table, "G54={X=1 Y=2} G55={}"),
            Value::Table(vec![
                (
                    "G54".into(),
                    vec![("X".into(), "1".into()), ("Y".into(), "2".into())]
                ),
                ("G55".into(), vec![])
            ])
        );
        assert!(bad(&table, "G54=1") && bad(&table, "G54={X=a}"));
    }
}
