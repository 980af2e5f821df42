//! NFKC, the form answers and rule phrases are compared in (docs/metrics.md §2), made cheap
//! for the text a Chinese help desk writes.
//!
//! Most answers are not NFKC only because of full-width punctuation (`，` `：` `（）` `？`) and
//! the ideographic space: the quick check says "no", and the full normalisation (decompose
//! every character, reorder, compose again) took a sixth of a first load's rule work
//! (docs/performance.md, "The first load"). [`nfkc`] first replaces those characters by the
//! ASCII character they decompose to, and when the result passes the quick check it is the
//! answer; anything else goes through the full normalisation.
//!
//! Why that is exact: each replaced character has canonical combining class 0 and decomposes
//! (compatibility decomposition, NFKD) to exactly the ASCII character it is replaced by, which
//! decomposes to itself. So the text and its replacement have the same NFKD, hence the same
//! NFKC (NFKC is the canonical composition of NFKD); and a text that passes the quick check is
//! its own NFKC. The tests check the table against the Unicode data of `unicode-normalization`
//! and compare [`nfkc`] with the full normalisation on generated text.

use std::borrow::Cow;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// NFKC form of a text, borrowing when it already is.
pub fn nfkc(text: &str) -> Cow<'_, str> {
    if quick_yes(text) {
        return Cow::Borrowed(text);
    }
    if let Some(folded) = fold_to_ascii(text)
        && quick_yes(&folded)
    {
        return Cow::Owned(folded);
    }
    Cow::Owned(text.nfkc().collect())
}

/// The NFKC quick check says "yes": the text is NFKC. ASCII and the CJK ideographs
/// (U+4E00–U+9FFF) are skipped without a table lookup: each is NFKC, a starter (canonical
/// combining class 0) and never the second character of a composition, so the text passes
/// exactly when every stretch between them does — each stretch starts after a starter, as the
/// check's own ordering test does. The per-character lookups were a twelfth of a
/// reclassification's CPU (docs/performance.md, "Reclassification").
fn quick_yes(text: &str) -> bool {
    text.split(is_plain)
        .all(|stretch| stretch.is_empty() || is_nfkc_quick(stretch.chars()) == IsNormalized::Yes)
}

/// ASCII or a CJK ideograph: see [`quick_yes`].
fn is_plain(c: char) -> bool {
    c.is_ascii() || ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

/// The ASCII character a character decomposes to under NFKC, for the characters the fast
/// path folds: the full-width forms of ASCII `！`…`～` (U+FF01–U+FF5E) and the ideographic
/// space (U+3000).
fn ascii_of(c: char) -> Option<char> {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFF01 + 0x21),
        '\u{3000}' => Some(' '),
        _ => None,
    }
}

/// The text with [`ascii_of`]'s characters replaced; `None` when it has none.
fn fold_to_ascii(text: &str) -> Option<String> {
    let first = text.find(|c| ascii_of(c).is_some())?;
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..first]);
    out.extend(text[first..].chars().map(|c| ascii_of(c).unwrap_or(c)));
    Some(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use unicode_normalization::char::canonical_combining_class;

    use super::*;

    #[test]
    fn every_folded_character_decomposes_to_its_ascii_character() {
        let folded = ('\u{FF01}'..='\u{FF5E}').chain(['\u{3000}']);
        for c in folded {
            let ascii = ascii_of(c).expect("in the table");
            assert!(ascii.is_ascii() && !ascii.is_ascii_control(), "{c:?} → {ascii:?}");
            assert_eq!(c.to_string().nfkd().collect::<String>(), ascii.to_string(), "{c:?}");
            assert_eq!(canonical_combining_class(c), 0, "{c:?}");
        }
        assert_eq!(ascii_of('。'), None, "the ideographic full stop is NFKC already");
        assert_eq!(ascii_of('a'), None);
    }

    #[test]
    fn plain_characters_are_nfkc_starters_nothing_composes_with() {
        for c in ('\0'..='\u{7F}').chain('\u{4E00}'..='\u{9FFF}') {
            assert!(is_plain(c));
            let text = c.to_string();
            assert_eq!(is_nfkc_quick(text.chars()), IsNormalized::Yes, "{c:?}");
            assert_eq!(canonical_combining_class(c), 0, "{c:?}");
            // Not the second of a composition: nothing before it combines with it.
            for before in ['a', 'A', 'e', '\u{1100}', '\u{AC00}', 'ｶ', '\u{3099}'] {
                let pair = format!("{before}{c}");
                assert_eq!(pair.nfc().collect::<String>(), pair, "{before:?}{c:?}");
            }
        }
        assert!(!is_plain('，') && !is_plain('\u{3000}') && !is_plain('\u{301}'));
    }

    #[test]
    fn help_desk_text_takes_the_fast_path_and_gets_the_same_text() {
        let answer = "抱歉，您的问题（VPN）可能不在服务范围内：请拨打ＩＴ热线　8000！";
        assert_eq!(nfkc(answer), answer.nfkc().collect::<String>());
        assert_eq!(nfkc(answer), "抱歉,您的问题(VPN)可能不在服务范围内:请拨打IT热线 8000!");
        assert!(matches!(nfkc("已经是 NFKC。"), Cow::Borrowed(_)));
    }

    #[test]
    fn text_the_fast_path_cannot_finish_falls_back() {
        // A full-width letter before a combining accent composes with it; the half-width
        // katakana and the ellipsis are outside the table.
        for text in ["Ａ\u{301}", "ＩＴ…", "ｶﾀｶﾅ，", "e\u{301}，", "，\u{301}", "ﬁ，"] {
            assert_eq!(nfkc(text), text.nfkc().collect::<String>(), "{text:?}");
        }
    }

    /// Characters around the fast path's edges: ASCII, CJK, the folded forms, combining marks,
    /// Hangul jamo and syllables, compatibility characters outside the table.
    fn interesting_char() -> impl Strategy<Value = char> {
        prop_oneof![
            prop::char::range('\u{20}', '\u{7E}'),
            prop::char::range('\u{4E00}', '\u{4E20}'),
            prop::char::range('\u{FF00}', '\u{FFEF}'),
            prop::char::range('\u{3000}', '\u{3010}'),
            prop::char::range('\u{300}', '\u{36F}'),
            prop::char::range('\u{1100}', '\u{1175}'),
            prop::char::range('\u{AC00}', '\u{AC10}'),
            prop::sample::select(vec!['…', 'ﬁ', '²', 'Å', 'Ω', '\u{1E9B}', '\u{FB2A}']),
        ]
    }

    proptest! {
        #[test]
        fn nfkc_equals_the_full_normalisation(chars in prop::collection::vec(interesting_char(), 0..24)) {
            let text: String = chars.into_iter().collect();
            prop_assert_eq!(nfkc(&text).into_owned(), text.nfkc().collect::<String>());
        }
    }
}
