//! User text made safe for a terminal, a mail or a chat tool: control characters (escape
//! sequences, bells, C1 controls) and invisible direction marks are shown as `\u{…}` instead
//! of acting on the screen or reordering the text around them. The renderers (`report::email`,
//! `report::markdown`) add their own markup escaping on top; this module knows no markup.

use std::borrow::Cow;
use std::fmt::Write;

/// Right-to-left and other invisible direction marks (LRM, RLM, ALM, the embeddings,
/// overrides and isolates), which can disguise text: `abc\u{202e}fdp.exe` shows as
/// `abcexe.pdf`.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{61c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A character that acts instead of showing: a control character (C0, DEL or C1) or a
/// direction mark.
pub fn acts(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// Appends `c` as the visible text `\u{1b}`.
pub fn push_visible(out: &mut String, c: char) {
    let _ = write!(out, "\\u{{{:x}}}", c as u32);
}

/// At most `max` characters of `text`, the last one `…` when cut. Summaries (the mail, the
/// Markdown) show a question, not a 1 MB paste; the workbook keeps the whole text.
pub fn cut(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some(_) => {
            let kept: String = text.chars().take(max.saturating_sub(1)).collect();
            Cow::Owned(format!("{kept}…"))
        }
    }
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
            c if acts(c) => push_visible(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters of `text` (terminal-safe, one line), with `…` when cut.
pub fn short(text: &str, max: usize) -> String {
    cut(&terminal(text.trim(), false), max).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_run() {
        assert_eq!(terminal("a\u{1b}[31mred\u{7}", true), "a\\u{1b}[31mred\\u{7}");
        assert_eq!(terminal("x\u{202e}y\nz", false), "x\\u{202e}y⏎z");
        assert_eq!(short("一二三四五六", 4), "一二三…");
        assert_eq!(terminal("\u{9b}2J\u{61c}", true), "\\u{9b}2J\\u{61c}");
    }

    #[test]
    fn cut_keeps_short_text_and_marks_a_cut() {
        assert_eq!(cut("一二三", 3), "一二三");
        assert_eq!(cut("一二三四", 3), "一二…");
        assert_eq!(cut("😀😀😀", 2), "😀…");
    }
}
