//! User text made safe for each kind of output, in one place: the terminal ([`terminal`],
//! [`short`]), the HTML of the mail ([`html`]), a cell of the Markdown report ([`markdown_cell`])
//! and the WeCom robot's Markdown ([`inert`]). Every kind shows control characters (escape
//! sequences, bells, C1 controls) and invisible direction marks as `\u{…}` instead of letting
//! them act on the screen or reorder the text around them; the markup kinds also escape their
//! own markup characters and flatten line breaks, so user text can neither break a table nor
//! post a link.

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

/// `text` on one line with `markup(c)` in place of each markup character it names; line breaks
/// and tabs become spaces, other controls and direction marks visible `\u{…}`. The markup
/// kinds differ only in `markup`.
fn one_line(text: &str, markup: impl Fn(char) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match (markup(c), c) {
            (Some(escaped), _) => out.push_str(escaped),
            (None, '\n' | '\r' | '\t') => out.push(' '),
            (None, c) if acts(c) => push_visible(&mut out, c),
            (None, c) => out.push(c),
        }
    }
    out
}

/// The entities of the characters that open tags and references, shared by every kind that
/// may reach an HTML renderer.
fn tag_entity(c: char) -> Option<&'static str> {
    match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        _ => None,
    }
}

/// Text for HTML text and attribute values (the mail): `<script>` arrives as text and `"` or
/// `'` cannot close an attribute. Controls are shown as text, not as character references,
/// which would only put the character back.
pub fn html(text: &str) -> String {
    one_line(text, |c| match c {
        '"' => Some("&quot;"),
        '\'' => Some("&#39;"),
        c => tag_entity(c),
    })
}

/// The backslash escapes of the Markdown characters that start inline markup — emphasis,
/// code, links and images (`[`, `]`), strikethrough, a table's cell end — and of the
/// backslash itself (so text cannot undo an escape); HTML is escaped as entities.
fn markdown_inline(c: char) -> Option<&'static str> {
    match c {
        '\\' => Some("\\\\"),
        '`' => Some("\\`"),
        '*' => Some("\\*"),
        '_' => Some("\\_"),
        '[' => Some("\\["),
        ']' => Some("\\]"),
        '~' => Some("\\~"),
        '|' => Some("\\|"),
        c => tag_entity(c),
    }
}

/// Text safe inside a Markdown table cell (the Markdown report): pipes cannot end the cell,
/// and no markup acts — `[点我](http://evil.example)` shows as written instead of as a link
/// named 点我, `**x**` is not bold, backticks do not open code, HTML is escaped.
pub fn markdown_cell(text: &str) -> String {
    one_line(text, markdown_inline)
}

/// At most `max_chars` of text from outside (a user key, a question, a stored error) made
/// inert for the WeCom robot's Markdown and for a mail or terminal line: every Markdown
/// character is backslash-escaped and HTML escaped, so it cannot post a link, a font tag or
/// fake an alert.
pub fn inert(text: &str, max_chars: usize) -> String {
    // The robot's renderer is not CommonMark; parentheses, headings and `!` are escaped too.
    one_line(&cut(text, max_chars), |c| match c {
        '(' => Some("\\("),
        ')' => Some("\\)"),
        '#' => Some("\\#"),
        '!' => Some("\\!"),
        c => markdown_inline(c),
    })
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
    fn html_leaves_markup_inert_and_shows_controls_and_direction_marks() {
        assert_eq!(html("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(html("\"><img src=x onerror=alert(1)>"), "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
        assert_eq!(html("it's &amp;"), "it&#39;s &amp;amp;");
        // A character reference would only bring the character back (and HTML maps C1 ones to
        // other characters: &#x9b; is "›"), so controls are shown as text, as on the terminal.
        assert_eq!(html("a\u{1b}[31m\u{9b}\u{7}\u{0}"), "a\\u{1b}[31m\\u{9b}\\u{7}\\u{0}");
        assert_eq!(
            html("x\u{202e}y\u{2066}\u{2067}\u{2068}\u{2069}\u{200e}\u{61c}"),
            "x\\u{202e}y\\u{2066}\\u{2067}\\u{2068}\\u{2069}\\u{200e}\\u{61c}"
        );
        assert_eq!(html("two\nlines\tand\rtab"), "two lines and tab");
        assert_eq!(html("普通的问题 ▲ 20"), "普通的问题 ▲ 20");
    }

    #[test]
    fn a_markdown_cell_stays_one_inert_cell() {
        assert_eq!(markdown_cell("a|b\n<script>x</script>"), "a\\|b &lt;script&gt;x&lt;/script&gt;");
        assert_eq!(markdown_cell("bell\u{7}rtl\u{202e}"), "bell\\u{7}rtl\\u{202e}");
        assert_eq!(
            markdown_cell("esc\u{1b}[2J c1\u{9b} iso\u{2066} `x` & *y*"),
            "esc\\u{1b}\\[2J c1\\u{9b} iso\\u{2066} \\`x\\` &amp; \\*y\\*"
        );
        let title = markdown_cell("[点我](http://evil.example) **粗体** ~~x~~ a_b_ \\*");
        assert_eq!(title, r"\[点我\](http://evil.example) \*\*粗体\*\* \~\~x\~\~ a\_b\_ \\\*");
    }

    #[test]
    fn outside_text_cannot_post_links_or_markup() {
        let t = inert("[点我](http://evil.example) <font color=\"warning\">假告警</font>\n**x** `y`", 200);
        assert!(!t.contains("](") && !t.contains("<font") && !t.contains('\n'), "{t}");
        assert!(t.contains("\\[点我\\]") && t.contains("&lt;font"), "{t}");
        assert_eq!(inert("a\u{202e}b", 10), "a\\u{202e}b");
        assert_eq!(inert("\\ ~#|!_ & \t", 20), r"\\ \~\#\|\!\_ &amp;  ");
        assert_eq!(inert("一二三四", 3), "一二…");
    }

    #[test]
    fn cut_keeps_short_text_and_marks_a_cut() {
        assert_eq!(cut("一二三", 3), "一二三");
        assert_eq!(cut("一二三四", 3), "一二…");
        assert_eq!(cut("😀😀😀", 2), "😀…");
    }
}
