//! Where a value sits in a JSON text: the line and column of the element a path names, for
//! errors found after parsing (an unsupported TestScript element, a FHIRPath syntax error).
//! serde_json keeps no positions, so this walks the text itself; it is only asked about text
//! that already parsed.

/// One step of a path into a JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A path written the way errors show it: `test[1].action[0].assert.value`.
pub fn parse_path(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Seg::Key(key.to_string()));
        }
        while let Some(end) = rest.find(']') {
            if let Ok(n) = rest[1..end].parse() {
                out.push(Seg::Index(n));
            }
            rest = &rest[end + 1..];
        }
    }
    out
}

/// The 1-based line and character column where the value at `path` starts; for a path that
/// ends at a key, where that key is written. `None` when the path is not in the text.
pub fn locate(text: &str, path: &[Seg]) -> Option<(usize, usize)> {
    let mut s = Scanner {
        b: text.as_bytes(),
        at: 0,
    };
    let mut at_key = None;
    for seg in path {
        s.ws();
        match seg {
            Seg::Key(k) => {
                at_key = Some(s.find_key(k)?);
            }
            Seg::Index(i) => {
                s.find_index(*i)?;
                at_key = None;
            }
        }
    }
    s.ws();
    let offset = match path.last() {
        Some(Seg::Key(_)) => at_key.unwrap_or(s.at),
        _ => s.at,
    };
    Some(line_col(text, offset))
}

/// The 1-based line and character column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, text[start..offset].chars().count() + 1)
}

struct Scanner<'a> {
    b: &'a [u8],
    at: usize,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.at < self.b.len() && self.b[self.at].is_ascii_whitespace() {
            self.at += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.at).copied()
    }

    /// Inside the object at the cursor, moves to the value of `key`; returns where the key is.
    fn find_key(&mut self, key: &str) -> Option<usize> {
        if self.peek()? != b'{' {
            return None;
        }
        self.at += 1;
        loop {
            self.ws();
            if self.peek()? == b'}' {
                return None;
            }
            let key_at = self.at;
            let k = self.string()?;
            self.ws();
            if self.peek()? != b':' {
                return None;
            }
            self.at += 1;
            self.ws();
            if k == key {
                return Some(key_at);
            }
            self.skip_value()?;
            self.ws();
            if self.peek()? == b',' {
                self.at += 1;
            }
        }
    }

    /// Inside the array at the cursor, moves to element `index`.
    fn find_index(&mut self, index: usize) -> Option<()> {
        if self.peek()? != b'[' {
            return None;
        }
        self.at += 1;
        for _ in 0..index {
            self.ws();
            if self.peek()? == b']' {
                return None;
            }
            self.skip_value()?;
            self.ws();
            if self.peek()? == b',' {
                self.at += 1;
            }
        }
        self.ws();
        (self.peek()? != b']').then_some(())
    }

    /// A string at the cursor, unescaped only as far as comparing keys needs.
    fn string(&mut self) -> Option<String> {
        let start = self.at + 1;
        self.skip_string()?;
        let raw = std::str::from_utf8(&self.b[start..self.at - 1]).ok()?;
        Some(serde_json::from_str(&format!("\"{raw}\"")).unwrap_or_else(|_| raw.to_string()))
    }

    fn skip_string(&mut self) -> Option<()> {
        if self.peek()? != b'"' {
            return None;
        }
        self.at += 1;
        while let Some(c) = self.peek() {
            self.at += 1;
            match c {
                b'\\' => self.at += 1,
                b'"' => return Some(()),
                _ => {}
            }
        }
        None
    }

    fn skip_value(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            self.ws();
            match self.peek()? {
                b'"' => self.skip_string()?,
                b'{' | b'[' => {
                    depth += 1;
                    self.at += 1;
                }
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    self.at += 1;
                }
                b',' | b':' if depth > 0 => self.at += 1,
                _ => {
                    while self.peek().is_some_and(|c| !b",}] \t\r\n".contains(&c)) {
                        self.at += 1;
                    }
                }
            }
            if depth == 0 {
                return Some(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_and_elements() {
        let text =
            "{\n  \"a\": [1, {\"b\": \"x\"},\n   {\"c\": {\"d\": true}}],\n  \"e\\\"q\": 2\n}";
        assert_eq!(locate(text, &parse_path("a[2].c.d")), Some((3, 11)));
        assert_eq!(locate(text, &parse_path("a[1]")), Some((2, 12)));
        assert_eq!(locate(text, &parse_path("a[1].b")), Some((2, 13)));
        assert_eq!(locate(text, &parse_path("e\"q")), Some((4, 3)));
        assert_eq!(locate(text, &parse_path("a[3]")), None);
        assert_eq!(locate(text, &parse_path("z")), None);
    }

    #[test]
    fn paths_read_as_written() {
        assert_eq!(
            parse_path("test[1].action[0].assert"),
            vec![
                Seg::Key("test".into()),
                Seg::Index(1),
                Seg::Key("action".into()),
                Seg::Index(0),
                Seg::Key("assert".into())
            ]
        );
    }
}
