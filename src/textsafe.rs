//! User text made safe for a terminal: control characters (escape sequences, bells) and
//! invisible direction marks are shown as `\u{…}` instead of acting on the screen.

use std::fmt::Write;

/// Right-to-left and other invisible direction marks, which can disguise text.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with control characters escaped; newlines are kept when `keep_newlines`, else shown
/// as `⏎`.
pub fn terminal(text: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\n' => out.push('⏎'),
            '\t' => out.push(' '),
            c if c.is_control() || is_bidi_control(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters of `text` (terminal-safe, one line), with `…` when cut.
pub fn short(text: &str, max: usize) -> String {
    let safe = terminal(text.trim(), false);
    if safe.chars().count() <= max {
        safe
    } else {
        let cut: String = safe.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_run() {
        assert_eq!(terminal("a\u{1b}[31mred\u{7}", true), "a\\u{1b}[31mred\\u{7}");
        assert_eq!(terminal("x\u{202e}y\nz", false), "x\\u{202e}y⏎z");
        assert_eq!(short("一二三四五六", 4), "一二三…");
    }
}
