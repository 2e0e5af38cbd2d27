//! The one escape for free text in keys, partials and rows: `%XX`.
//!
//! Element labels the record crate does not know and weapon names are written with their bytes
//! `%`, `|`, `\` and ASCII control characters as `%XX` (uppercase hex), so such a text never
//! contains a tab, newline, key separator or Hive escape: one row is one line, and Hive's text
//! format (no `ESCAPED BY`) reads it back verbatim. [`unescape`] gives the original text.

use std::io::{self, Write};

fn needs_escape(byte: u8) -> bool {
    matches!(byte, b'%' | b'|' | b'\\') || byte.is_ascii_control()
}

/// Writes `text` with the `%XX` escapes.
pub fn write_escaped(text: &str, out: &mut impl Write) -> io::Result<()> {
    let mut rest = text.as_bytes();
    while let Some(at) = rest.iter().position(|&b| needs_escape(b)) {
        out.write_all(&rest[..at])?;
        write!(out, "%{:02X}", rest[at])?;
        rest = &rest[at + 1..];
    }
    out.write_all(rest)
}

/// `text` with the `%XX` escapes.
pub fn escape(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    write_escaped(text, &mut out).expect("writing to a Vec cannot fail");
    String::from_utf8(out).expect("escaping keeps UTF-8 valid")
}

/// Whether `text` is exactly what [`write_escaped`] can produce: no byte that must be escaped,
/// and every `%` starts an uppercase `%XX`.
pub fn is_escaped(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = |b: u8| b.is_ascii_digit() || (b'A'..=b'F').contains(&b);
                if !(i + 2 < bytes.len() && hex(bytes[i + 1]) && hex(bytes[i + 2])) {
                    return false;
                }
                i += 3;
            }
            byte if needs_escape(byte) => return false,
            _ => i += 1,
        }
    }
    true
}

/// The original text of an escaped one; `None` if `text` is not [`is_escaped`] or does not
/// decode to UTF-8.
pub fn unescape(text: &str) -> Option<String> {
    if !is_escaped(text) {
        return None;
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Whether a weapon id can be written verbatim as one field: non-empty, no whitespace, control
/// character or backslash. The record crate's ids are ASCII tokens (`long_sword:g:l219C2`,
/// percent-encoded names), so they are never escaped again (that would double their `%`).
pub fn is_plain_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'\\' || b >= 0x80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip() {
        for text in ["", "Frost Zero", "50%|Ice\tx\\", "Torag・Canso+", "a\nb\\N"] {
            let escaped = escape(text);
            assert!(is_escaped(&escaped), "{escaped:?}");
            assert!(!escaped.contains(['\t', '\n', '\\', '|']));
            assert_eq!(unescape(&escaped).as_deref(), Some(text));
        }
        assert_eq!(escape("50%|Ice\tx\\"), "50%25%7CIce%09x%5C");
        for bad in ["50%", "50%7c", "a\\N", "a|b", "%zz"] {
            assert_eq!(unescape(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn plain_tokens() {
        assert!(is_plain_token(
            "switch_axe_f:g:l3C4D50:Torag%E3%83%BBCanso%2B"
        ));
        for bad in ["", "a b", "a\tb", "a\\b", "a\nb"] {
            assert!(!is_plain_token(bad), "{bad:?}");
        }
    }
}
