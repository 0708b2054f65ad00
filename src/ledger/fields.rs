//! Where a column's cells go in the record, and how a cell of each kind of
//! field is read and written. Both ledgers' tables are built from these:
//! a column names its record field once ([`field!`]), so its reading, its
//! writing and the field path its refusals name cannot disagree, and a
//! kind of cell (yes/no, a count, a vocabulary) is read and written by
//! one [`Codec`] in every column of that kind.

use crate::domain::{Lang, Reason};

use super::columns as c;
use super::Cell;

/// A column's record field: its API field path and how a cell is read
/// into it and written from it.
pub struct Field<R> {
    /// The field path relative to the record (`site_location.lat`).
    pub path: &'static str,
    /// Reads a cell into the record.
    pub read: fn(&mut R, &Cell) -> Result<(), Reason>,
    /// Writes the record's cell, in a language.
    pub write: fn(&R, Lang) -> String,
}

/// How a cell holding a value of type `T` is read and written.
pub struct Codec<T> {
    /// The value of a cell, or why the cell is refused.
    pub read: fn(&Cell) -> Result<T, Reason>,
    /// The cell of a value, in a language.
    pub write: fn(&T, Lang) -> String,
}

/// The [`Field`] of the record field `$name` (`preferences.mobility`),
/// read and written by the [`Codec`] `$codec`.
macro_rules! field {
    ($($name:ident).+, $codec:expr) => {
        $crate::ledger::fields::Field {
            path: stringify!($($name).+),
            read: |r, cell| {
                r.$($name).+ = ($codec.read)(cell)?;
                Ok(())
            },
            write: |r, lang| ($codec.write)(&r.$($name).+, lang),
        }
    };
}
pub(crate) use field;

/// Text as the cell gives it.
pub const TEXT: Codec<String> = Codec {
    read: |cell| Ok(cell.text.clone()),
    write: |v, _| v.clone(),
};

/// Text that may be left out: an empty cell is `None`.
pub const OPTIONAL_TEXT: Codec<Option<String>> = Codec {
    read: |cell| Ok((!cell.text.is_empty()).then(|| cell.text.clone())),
    write: |v, _| v.clone().unwrap_or_default(),
};

/// Yes or no ([`c::yes_no`]); empty is no.
pub const YES_NO: Codec<bool> = Codec {
    read: c::yes_no,
    write: |v, lang| c::yes_no_text(*v, lang),
};

/// A whole number; empty is 0.
pub const COUNT: Codec<u32> = count_or::<0>();

/// A whole number; empty is `EMPTY`.
pub const fn count_or<const EMPTY: u32>() -> Codec<u32> {
    Codec {
        read: |cell| c::number(cell, EMPTY),
        write: |v, _| v.to_string(),
    }
}

/// A decimal number (a coordinate); empty is refused.
pub const DECIMAL: Codec<f64> = Codec {
    read: c::decimal,
    write: |v, _| v.to_string(),
};

/// A region's code, read by code or name and written as its name.
pub const REGION: Codec<String> = Codec {
    read: c::region,
    write: |v, lang| crate::domain::regions::name(v, lang),
};

/// A closed vocabulary of the domain as ledgers write it.
pub trait Vocabulary: Copy + 'static {
    /// Every value.
    const ALL: &'static [Self];
    /// What an empty cell reads as; `None` where a value is required.
    const EMPTY: Option<Self> = None;
    /// The name a cell is written with, in `lang` (the domain's words).
    fn text_in(self, lang: Lang) -> &'static str;
    /// Every name a cell may give: the Chinese and the English text, the
    /// label, and other words county ledgers use.
    fn names(self) -> Vec<&'static str>;
}

/// The name a cell is written with, in `lang`.
fn name_in<E: Vocabulary>(v: E, lang: Lang) -> String {
    v.text_in(lang).to_string()
}

/// One value of `E`; empty is `E::EMPTY`, or refused without one.
pub const fn one_of<E: Vocabulary>() -> Codec<E> {
    Codec {
        read: |cell| {
            c::choice(cell, E::ALL, E::names)?
                .or(E::EMPTY)
                .ok_or_else(Reason::required)
        },
        write: |v, lang| name_in(*v, lang),
    }
}

/// One value of `E`, or `None` for an empty cell.
pub const fn maybe_one_of<E: Vocabulary>() -> Codec<Option<E>> {
    Codec {
        read: |cell| c::choice(cell, E::ALL, E::names),
        write: |v, lang| v.map_or(String::new(), |v| name_in(v, lang)),
    }
}
