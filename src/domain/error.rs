//! The domain's one error: a field path and the reason its value is refused.

use std::fmt;

use super::Lang;

/// Why a value is refused, in both languages the service writes: the
/// reason is composed once, where the rule knows its numbers, and read in
/// the language of whoever receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    zh: String,
    en: String,
}

impl Reason {
    /// A reason from its Chinese and English forms.
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// "is required" (必填).
    pub fn required() -> Self {
        Self::new("必填", "is required")
    }

    /// The reason in `lang`.
    pub fn text(&self, lang: Lang) -> &str {
        lang.pick(&self.zh, &self.en)
    }

    /// The English form (logs, `Display`).
    pub fn en(&self) -> &str {
        &self.en
    }

    /// The Chinese form.
    pub fn zh(&self) -> &str {
        &self.zh
    }

    /// Whether the two forms differ, i.e. the reason was translated (the
    /// `From<&str>` forms are not).
    pub fn is_translated(&self) -> bool {
        self.zh != self.en
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en)
    }
}

/// An English-only reason, for text that has no Chinese form yet: it reads
/// the same in both languages. Every reason of the domain and the API gives
/// both forms through [`Reason::new`]; a test lists the untranslated ones.
impl From<&str> for Reason {
    fn from(en: &str) -> Self {
        Self::new(en, en)
    }
}

/// See the `From<&str>` impl.
impl From<String> for Reason {
    fn from(en: String) -> Self {
        Self::new(en.clone(), en)
    }
}

/// A value that breaks a domain rule.
///
/// `field` is the path as the client spelled it in the API
/// (`worker.skills[2].level`), so that a caller can find the bad value
/// without reading server logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    /// Field path, e.g. `worker.site_location.lat`.
    pub field: String,
    /// Why the value is refused, in plain words (Chinese and English).
    pub reason: Reason,
}

impl ValidationError {
    /// A refusal of `field` for `reason`.
    pub fn new(field: impl Into<String>, reason: impl Into<Reason>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// A refusal of `field` because it is missing.
    pub fn required(field: impl Into<String>) -> Self {
        Self::new(field, Reason::required())
    }

    /// Prefixes the field path, for errors raised by a nested validator.
    pub fn within(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_string()
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }

    /// `field: reason` in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        format!("{}: {}", self.field, self.reason.text(lang))
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// Shorthand for results of validators.
pub type Validated<T> = Result<T, ValidationError>;
