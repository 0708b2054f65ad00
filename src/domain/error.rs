//! The domain's one error: a field path and the reason its value is refused.

use std::fmt;

/// A value that breaks a domain rule.
///
/// `field` is the path as the client spelled it in the API
/// (`worker.skills[2].level`), so that a caller can find the bad value
/// without reading server logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    /// Field path, e.g. `worker.site_location.lat`.
    pub field: String,
    /// Why the value is refused, in plain words.
    pub reason: String,
}

impl ValidationError {
    /// A refusal of `field` for `reason`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
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
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// Shorthand for results of validators.
pub type Validated<T> = Result<T, ValidationError>;
