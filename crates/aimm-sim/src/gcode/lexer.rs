//! Character-level scanning of one G-code line: spaces, numbers, keywords and column numbers.
//! The parser ([`super::parse`]) drives it; G-code has no context-free tokens (`G1X2` packs words,
//! `sin` is a function only inside brackets), so scanning is on demand rather than up front.

/// A scanning position within one line.
pub(crate) struct Cursor<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(text: &'a str) -> Self {
        Self {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    pub fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    pub fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    pub fn bump(&mut self) {
        self.pos += 1;
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// The rest of the line from the cursor.
    pub fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    pub fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// 1-based column (in characters) of byte offset `pos`.
    pub fn column_of(&self, pos: usize) -> u32 {
        let pos = pos.min(self.text.len());
        let prefix = &self.bytes[..pos];
        if prefix.is_ascii() {
            pos as u32 + 1
        } else {
            String::from_utf8_lossy(prefix).chars().count() as u32 + 1
        }
    }

    /// Consumes `word` if the line continues with it, ignoring case and not followed by a letter.
    pub fn eat_keyword(&mut self, word: &str) -> bool {
        let end = self.pos + word.len();
        let matches = self
            .bytes
            .get(self.pos..end)
            .is_some_and(|b| b.eq_ignore_ascii_case(word.as_bytes()));
        if matches && !self.bytes.get(end).is_some_and(u8::is_ascii_alphabetic) {
            self.pos = end;
            true
        } else {
            false
        }
    }

    /// Whether a number starts here (optional sign, then a digit or a point).
    pub fn at_number(&self) -> bool {
        match self.peek() {
            Some(b'0'..=b'9' | b'.') => true,
            Some(b'+' | b'-') => matches!(self.peek_at(1), Some(b'0'..=b'9' | b'.')),
            _ => false,
        }
    }

    /// Reads a decimal number: optional sign, digits, optional point and digits (`-0.`, `.5`,
    /// `+1`). On failure returns the byte offset of the offending character and a message.
    pub fn number(&mut self) -> Result<f64, (usize, String)> {
        let start = self.pos;
        if matches!(self.peek(), Some(b'+' | b'-')) {
            self.bump();
        }
        let mut digits = 0;
        let mut point = false;
        loop {
            match self.peek() {
                Some(b'0'..=b'9') => digits += 1,
                Some(b'.') if !point => point = true,
                Some(b'.') => {
                    return Err((self.pos, "malformed number: second decimal point".into()))
                }
                _ => break,
            }
            self.bump();
        }
        if digits == 0 {
            return Err((start, "expected a number".into()));
        }
        self.text[start..self.pos]
            .trim_start_matches('+')
            .parse::<f64>()
            .map_err(|e| (start, format!("malformed number: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_cam_styles() {
        for (text, want) in [
            ("-0.", -0.0),
            (".5", 0.5),
            ("+1", 1.0),
            ("-.25", -0.25),
            ("12", 12.0),
        ] {
            let mut c = Cursor::new(text);
            assert_eq!(c.number().unwrap(), want, "{text}");
            assert!(c.at_end());
        }
    }

    #[test]
    fn second_point_is_blamed() {
        let mut c = Cursor::new("1.2.3");
        assert_eq!(c.number().unwrap_err().0, 3);
        let mut c = Cursor::new("-");
        assert_eq!(c.number().unwrap_err().0, 0);
    }

    #[test]
    fn keywords_need_a_word_boundary() {
        let mut c = Cursor::new("SUBX");
        assert!(!c.eat_keyword("sub"));
        let mut c = Cursor::new("Sub [1]");
        assert!(c.eat_keyword("sub"));
        assert_eq!(c.column_of(c.pos), 4);
    }
}
