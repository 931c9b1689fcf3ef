//! A small XML writer over quick-xml's event writer: elements with escaped attributes and text,
//! plus verbatim insertion of XML fragments that were read and checked elsewhere (device
//! elements, asset bodies); and the one attribute look-up the readers share.

use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;
use std::borrow::Cow;

/// Whether XML 1.0 allows `c` in a document at all: most C0 controls are not allowed even as
/// character references (`&#1;`), so escaping cannot carry them.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// `text` with every character XML 1.0 does not allow replaced by U+FFFD, so whatever an
/// adapter sent, the document stays well-formed; borrowed when nothing had to change.
pub fn xml_safe(text: &str) -> Cow<'_, str> {
    if text.chars().all(xml_char) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(
            text.chars()
                .map(|c| if xml_char(c) { c } else { '\u{FFFD}' })
                .collect(),
        )
    }
}

/// The unescaped value of the attribute of `e` whose local name is `name`.
pub fn attribute(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name.as_bytes())
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// Builds one XML document as a string.
pub struct XmlOut {
    w: Writer<Vec<u8>>,
}

impl Default for XmlOut {
    fn default() -> Self {
        Self::new()
    }
}

impl XmlOut {
    /// A document, starting with the XML declaration.
    pub fn new() -> Self {
        let mut out = Self::fragment();
        out.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out
    }

    /// A fragment to embed in another document.
    pub fn fragment() -> Self {
        Self {
            w: Writer::new(Vec::with_capacity(4096)),
        }
    }

    fn start<'a>(name: &'a str, attrs: &[(&'a str, &'a str)]) -> BytesStart<'a> {
        let mut start = BytesStart::new(name);
        for (k, v) in attrs {
            start.push_attribute((*k, xml_safe(v).as_ref()));
        }
        start
    }

    // Writing into a Vec cannot fail, so the io::Results below are infallible.
    /// Opens element `<name attrs>`; close it with [`XmlOut::close`].
    pub fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        let _ = self.w.write_event(Event::Start(Self::start(name, attrs)));
    }

    /// Writes the empty element `<name attrs/>`.
    pub fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        let _ = self.w.write_event(Event::Empty(Self::start(name, attrs)));
    }

    /// Writes the end tag `</name>` of an element opened with [`XmlOut::open`].
    pub fn close(&mut self, name: &str) {
        let _ = self.w.write_event(Event::End(BytesEnd::new(name)));
    }

    /// `<name attrs>text</name>`, or an empty element when `text` is empty.
    pub fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        if text.is_empty() {
            self.empty(name, attrs);
        } else {
            self.open(name, attrs);
            self.text(text);
            self.close(name);
        }
    }

    /// Writes character data, escaping `<`, `&` and the like (characters XML cannot carry at
    /// all become U+FFFD, see [`xml_safe`]).
    pub fn text(&mut self, text: &str) {
        let text = xml_safe(text);
        let _ = self.w.write_event(Event::Text(BytesText::new(&text)));
    }

    /// Inserts an already well-formed fragment as is.
    pub fn raw(&mut self, fragment: &str) {
        self.w.get_mut().extend_from_slice(fragment.as_bytes());
    }

    /// The XML written so far, as a string.
    pub fn finish(self) -> String {
        // Only &str ever goes in, so the bytes are UTF-8.
        String::from_utf8(self.w.into_inner()).unwrap_or_default()
    }
}

/// 1-based line of byte offset `pos` in `text`.
pub fn line_of(text: &str, pos: u64) -> usize {
    let pos = (pos as usize).min(text.len());
    text.as_bytes()[..pos]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}
