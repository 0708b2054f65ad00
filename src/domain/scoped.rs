//! Ids scoped to the county that owns the record.
//!
//! Every county employment-service company numbers its own ledger, and two
//! of them may both start at `w-0000001` and `hh-000001`. So a worker's
//! stored id is `<county code>/<the county's own number>`
//! (`431224/w-0000001`), and so is a household's (`431224/hh-000001`):
//! the same number in two counties names two records, and a household,
//! being named inside one county, never has members in another.
//!
//! A client may send the county's own number alone (`w-0000001`): a write
//! qualifies it with the record's county, a read looks for it in the
//! caller's counties (the service does that, see `service::scope`).
//!
//! A worker's id names the county that registered them and never changes
//! (placements, runs and declines refer to it); if they later move to
//! another county on purpose, `county_code` changes and the id stays. A
//! household id always names the county of its members.

use super::error::{Reason, Validated, ValidationError};
use super::rules;

/// Between the county code and the county's own number.
pub const SEPARATOR: char = '/';

/// `county/number`: `number` qualified with `county`.
///
/// ```
/// assert_eq!(jobbridge::domain::scoped::qualify("431224", "w-1"), "431224/w-1");
/// ```
pub fn qualify(county: &str, number: &str) -> String {
    format!("{county}{SEPARATOR}{number}")
}

/// The county and the number of a qualified id; `None` for a bare number.
///
/// ```
/// use jobbridge::domain::scoped::split;
/// assert_eq!(split("431224/w-1"), Some(("431224", "w-1")));
/// assert_eq!(split("w-1"), None);
/// ```
pub fn split(id: &str) -> Option<(&str, &str)> {
    id.split_once(SEPARATOR)
}

/// Whether `id` already carries its county.
pub fn is_qualified(id: &str) -> bool {
    id.contains(SEPARATOR)
}

/// The county's own number of `id` (all of it when it is bare).
pub fn number(id: &str) -> &str {
    split(id).map_or(id, |(_, n)| n)
}

/// The county of a qualified `id`.
pub fn county(id: &str) -> Option<&str> {
    split(id).map(|(c, _)| c)
}

/// `id` qualified with `county` unless it carries a county already.
pub fn qualified(id: &str, county: &str) -> String {
    if is_qualified(id) {
        id.to_string()
    } else {
        qualify(county, id)
    }
}

/// What a ledger shows in a record's id column: the county's own number
/// when the id names the record's county, the whole id otherwise (a
/// worker who moved county keeps the id the first county gave them).
pub fn ledger_number<'a>(id: &'a str, county_code: &str) -> &'a str {
    match split(id) {
        Some((c, n)) if c == county_code => n,
        _ => id,
    }
}

/// A worker or household id: a bare number (`w-1`, the rules of
/// [`rules::check_id`]) or a county code, [`SEPARATOR`] and such a number.
pub fn check_scoped_id(value: &str) -> Result<(), Reason> {
    match split(value) {
        None => rules::check_id(value),
        Some((county, number)) => {
            rules::check_county_code(county).map_err(|r| {
                Reason::new(
                    format!("“/”之前须是县区代码：{}", r.zh()),
                    format!("the part before '/' must be a county code: {}", r.en()),
                )
            })?;
            if number.contains(SEPARATOR) {
                return Err(Reason::new(
                    "最多只能有一个“/”（县区代码/编号）",
                    "may contain at most one '/' (county code/number)",
                ));
            }
            rules::check_id(number)
        }
    }
}

/// Refuses a household id that names a county other than `county_code`:
/// the members of a household live in one county. The reason names the
/// counties the caller sent, never anyone stored.
pub fn check_household_county(household_id: &str, county_code: &str) -> Validated<()> {
    match county(household_id) {
        Some(c) if c != county_code => Err(ValidationError::new(
            "household_id",
            Reason::new(
                format!(
                    "户编号 {household_id} 属于县区 {c}，而劳动力登记在 {county_code}：\
                     一户的成员都在同一县区"
                ),
                format!(
                    "household {household_id} is in county {c} but the worker is in \
                     {county_code}: a household's members all live in one county"
                ),
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_and_qualified_ids() {
        assert_eq!(qualified("w-1", "431224"), "431224/w-1");
        assert_eq!(qualified("431227/w-1", "431224"), "431227/w-1");
        assert_eq!(number("431224/w-1"), "w-1");
        assert_eq!(number("w-1"), "w-1");
        assert_eq!(county("431224/w-1"), Some("431224"));
        assert_eq!(ledger_number("431224/w-1", "431224"), "w-1");
        assert_eq!(ledger_number("431227/w-1", "431224"), "431227/w-1");
    }

    #[test]
    fn checks_each_part() {
        assert!(check_scoped_id("w-1").is_ok());
        assert!(check_scoped_id("431224/w-1").is_ok());
        assert!(
            check_scoped_id("431200/w-1").is_err(),
            "a city is no county"
        );
        assert!(check_scoped_id("43122/w-1").is_err());
        assert!(check_scoped_id("431224/").is_err());
        assert!(check_scoped_id("431224/a/b").is_err());
        assert!(check_scoped_id("/w-1").is_err());
        assert!(check_household_county("431224/hh-1", "431224").is_ok());
        assert!(check_household_county("hh-1", "431224").is_ok());
        let e = check_household_county("431227/hh-1", "431224").unwrap_err();
        assert_eq!(e.field, "household_id");
    }
}
