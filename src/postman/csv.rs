//! CSV for iteration data (RFC 4180: quoted fields, doubled quotes, CRLF or LF).

/// Records, the header row first.
pub fn parse(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c)
            }
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                line += 1;
                record.push(std::mem::take(&mut field));
                if !(record.len() == 1 && record[0].is_empty()) {
                    records.push(std::mem::take(&mut record));
                } else {
                    record.clear();
                }
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err(format!("line {line}: a quoted field is not closed"));
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    if let Some(width) = records.first().map(Vec::len) {
        if let Some((i, r)) = records.iter().enumerate().find(|(_, r)| r.len() != width) {
            return Err(format!(
                "record {} has {} fields, the header has {width}",
                i + 1,
                r.len()
            ));
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoted_fields_and_line_ends() {
        let r = super::parse("name,note\r\nAnn,\"a, b\"\n\"Bo \"\"B\"\"\",x\n").unwrap();
        assert_eq!(
            r,
            vec![
                vec!["name", "note"],
                vec!["Ann", "a, b"],
                vec!["Bo \"B\"", "x"]
            ]
        );
        assert!(super::parse("a,b\n1\n").is_err());
        assert!(super::parse("a\n\"x\n").is_err());
    }
}
