//! `--lang`: the language of what a command writes for people. Without the
//! flag, Chinese when the locale is Chinese (`LC_ALL`, then `LC_MESSAGES`,
//! then `LANG`, as POSIX orders them), else English.

use crate::domain::Lang;

/// `--lang zh|en`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LangArg {
    /// Simplified Chinese.
    Zh,
    /// English.
    En,
}

/// The `--lang` clap piece.
#[derive(clap::Args, Debug, Clone, Copy, Default)]
pub struct LangFlag {
    /// Language of reasons, labels and headers (default: Chinese when the
    /// locale is, else English).
    #[arg(long, value_enum)]
    pub lang: Option<LangArg>,
}

impl LangFlag {
    /// The language asked for, or the locale's.
    pub fn lang(&self) -> Lang {
        match self.lang {
            Some(LangArg::Zh) => Lang::Zh,
            Some(LangArg::En) => Lang::En,
            None => locale_lang(|name| std::env::var(name).ok()),
        }
    }
}

/// The locale's language: the first set variable of `LC_ALL`,
/// `LC_MESSAGES`, `LANG` decides; English when none is set or it names
/// another language.
pub fn locale_lang(var: impl Fn(&str) -> Option<String>) -> Lang {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .find_map(|name| var(name).filter(|v| !v.is_empty()))
        .and_then(|v| Lang::from_locale(&v))
        .unwrap_or(Lang::En)
}

/// The `accept-language` value that asks a server for `lang`.
pub fn accept_language(lang: Lang) -> &'static str {
    lang.pick("zh-CN", "en")
}

/// A request of `message` that asks the server to answer in `lang`.
pub fn request<T>(message: T, lang: Lang) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "accept-language",
        tonic::metadata::MetadataValue::from_static(accept_language(lang)),
    );
    request
}

/// `text` padded with spaces to `width` columns of a terminal, where a
/// Chinese character takes two (`format!("{:<28}")` counts it as one).
pub(super) fn pad(text: &str, width: usize) -> String {
    format!("{text}{}", " ".repeat(fill(text, width)))
}

/// `text` after spaces to `width` columns of a terminal, as [`pad`].
pub(super) fn pad_right(text: &str, width: usize) -> String {
    format!("{}{text}", " ".repeat(fill(text, width)))
}

fn fill(text: &str, width: usize) -> usize {
    width.saturating_sub(unicode_width::UnicodeWidthStr::width(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_set_locale_variable_decides() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(locale_lang(env(&[("LANG", "zh_CN.UTF-8")])), Lang::Zh);
        assert_eq!(
            locale_lang(env(&[("LC_ALL", "C"), ("LANG", "zh_CN.UTF-8")])),
            Lang::En
        );
        assert_eq!(
            locale_lang(env(&[("LC_ALL", ""), ("LC_MESSAGES", "zh_TW")])),
            Lang::Zh
        );
        assert_eq!(locale_lang(env(&[])), Lang::En);
    }

    #[test]
    fn labels_are_padded_to_the_same_terminal_width() {
        use unicode_width::UnicodeWidthStr;
        for text in ["合计", "workers in all", "已持有推荐", "", "怀化市鹤城区"] {
            assert_eq!(pad(text, 28).width(), 28, "{text:?}");
            assert_eq!(pad_right(text, 28).width(), 28, "{text:?}");
            assert!(pad_right(text, 28).ends_with(text));
        }
        assert_eq!(pad("合计", 28).chars().count(), 26);
    }
}
