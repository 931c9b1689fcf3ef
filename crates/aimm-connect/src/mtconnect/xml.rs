//! A small XML writer over quick-xml's event writer: elements with escaped attributes and text,
//! plus verbatim insertion of XML fragments that were read and checked elsewhere (device
//! elements, asset bodies).

use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

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
        BytesStart::new(name).with_attributes(attrs.iter().copied())
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

    /// Writes character data, escaping `<`, `&` and the like.
    pub fn text(&mut self, text: &str) {
        let _ = self.w.write_event(Event::Text(BytesText::new(text)));
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
