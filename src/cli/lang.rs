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
}
