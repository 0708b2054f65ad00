//! The language a person reads: Simplified Chinese or English.
//!
//! Every text meant for people (reasons, labels, refusals, report headings)
//! is produced for a [`Lang`]. The API takes it from the `accept-language`
//! metadata, the CLI from `--lang` or the locale.

/// A language the service writes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// Simplified Chinese (zh-CN).
    Zh,
    /// English.
    #[default]
    En,
}

impl Lang {
    /// The text in this language, from its two versions.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// The preferred language of an HTTP `accept-language` value
    /// (`zh-CN,zh;q=0.9,en;q=0.8`): the supported tag with the highest
    /// weight, the first of equal weights; `None` when no tag is supported.
    pub fn from_accept_language(value: &str) -> Option<Lang> {
        let mut best: Option<(Lang, f32)> = None;
        for part in value.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let weight = pieces
                .find_map(|p| p.trim().strip_prefix("q=").map(str::to_owned))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok());
            let Some(weight) = weight.filter(|w| (0.0..=1.0).contains(w) && *w > 0.0) else {
                continue;
            };
            let lang = if tag == "zh" || tag.starts_with("zh-") {
                Lang::Zh
            } else if tag == "en" || tag.starts_with("en-") {
                Lang::En
            } else {
                continue;
            };
            if best.is_none_or(|(_, w)| weight > w) {
                best = Some((lang, weight));
            }
        }
        best.map(|(lang, _)| lang)
    }

    /// The language of a POSIX locale (`LC_ALL`, `LC_MESSAGES`, `LANG`
    /// values such as `zh_CN.UTF-8`).
    pub fn from_locale(value: &str) -> Option<Lang> {
        let lower = value.to_ascii_lowercase();
        if lower.starts_with("zh") {
            Some(Lang::Zh)
        } else if lower.starts_with("en")
            || lower == "c"
            || lower.starts_with("c.")
            || lower == "posix"
        {
            Some(Lang::En)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn accept_language_takes_the_heaviest_supported_tag() {
        assert_eq!(Lang::from_accept_language("zh-CN"), Some(Lang::Zh));
        assert_eq!(
            Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Some(Lang::Zh)
        );
        assert_eq!(
            Lang::from_accept_language("fr, en;q=0.5, zh;q=0.7"),
            Some(Lang::Zh)
        );
        assert_eq!(Lang::from_accept_language("en-US,zh;q=0"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("fr,de"), None);
        assert_eq!(Lang::from_accept_language(""), None);
        assert_eq!(Lang::from_accept_language("zh;q=abc,en"), Some(Lang::En));
    }

    #[test]
    fn locale_names_map_to_languages() {
        assert_eq!(Lang::from_locale("zh_CN.UTF-8"), Some(Lang::Zh));
        assert_eq!(Lang::from_locale("en_US.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::from_locale("C.UTF-8"), Some(Lang::En));
        assert_eq!(Lang::from_locale("de_DE"), None);
    }
}
