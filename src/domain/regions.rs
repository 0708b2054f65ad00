//! Names of region codes (GB/T 2260): the whole of Hunan down to counties
//! and districts, every province, and the labour-cooperation destinations
//! the service meets. The tables are data files in `data/`, compiled in.
//!
//! A code without a name is shown as the code: lists go stale, and
//! [`super::rules::check_region_code`] accepts codes no table has.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::Lang;

const HUNAN: &str = include_str!("../../data/regions-hunan.tsv");
const OTHER: &str = include_str!("../../data/regions-other.tsv");

/// A named region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// Six-digit code.
    pub code: &'static str,
    /// Chinese name, e.g. 鹤城区.
    pub zh: &'static str,
    /// English name, e.g. Hecheng District.
    pub en: &'static str,
}

impl Region {
    /// The name in `lang`.
    pub fn name(&self, lang: Lang) -> &'static str {
        lang.pick(self.zh, self.en)
    }
}

static TABLE: LazyLock<HashMap<&'static str, Region>> = LazyLock::new(|| {
    let mut table = HashMap::new();
    for line in HUNAN.lines().chain(OTHER.lines()) {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut cells = line.split('\t');
        let (Some(code), Some(zh), Some(en)) = (cells.next(), cells.next(), cells.next()) else {
            panic!("data/regions-*.tsv: bad line {line:?}");
        };
        table.insert(code, Region { code, zh, en });
    }
    table
});

/// The region of `code`, if a table names it.
pub fn region(code: &str) -> Option<Region> {
    TABLE.get(code).copied()
}

/// The name of `code` in `lang`, or the code itself when no table names it.
pub fn name(code: &str, lang: Lang) -> String {
    match region(code) {
        Some(r) => r.name(lang).to_string(),
        None => code.to_string(),
    }
}

/// A county-level name with its prefecture, e.g. 怀化市鹤城区 or
/// "Hecheng District, Huaihua"; the bare name or the code when the
/// prefecture is not known.
pub fn full_name(code: &str, lang: Lang) -> String {
    let Some(r) = region(code) else {
        return code.to_string();
    };
    let parent = code
        .get(..4)
        .map(|p| format!("{p}00"))
        .filter(|p| p != code)
        .and_then(|p| region(&p));
    match (parent, lang) {
        (Some(p), Lang::Zh) => format!("{}{}", p.zh, r.zh),
        (Some(p), Lang::En) => format!("{}, {}", r.en, p.en),
        (None, _) => r.name(lang).to_string(),
    }
}

/// The code of a region named `name` in either language (the first in
/// the tables when two share a name), or `name` itself when it is a code.
pub fn code_of(name: &str) -> Option<&'static str> {
    let name = name.trim();
    if let Some(r) = TABLE.get(name) {
        return Some(r.code);
    }
    let mut found: Vec<&Region> = TABLE
        .values()
        .filter(|r| r.zh == name || r.en.eq_ignore_ascii_case(name))
        .collect();
    // Hunan's county-level names are unique; prefer a county-level match
    // (长沙县 vs 长沙市 differ anyway) and the lowest code for stability.
    found.sort_by_key(|r| (r.code.ends_with("00"), r.code));
    found.first().map(|r| r.code)
}

/// A region as people write it: a name in either language (鹤城区,
/// Hecheng District) becomes its code; digits are kept for
/// [`super::rules::check_region_code`] to judge (a code no table has may
/// be real); other text is refused as an unknown name.
pub fn code_or_name(text: &str) -> Result<String, super::Reason> {
    let t = text.trim();
    if let Some(code) = code_of(t) {
        return Ok(code.to_string());
    }
    if t.is_empty() || t.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(t.to_string());
    }
    Err(super::Reason::new(
        format!("未知地区名称 {t:?}（可填县区或城市名称如“溆浦县”“深圳市”，或六位行政区划代码如 431224）"),
        format!("unknown region name {t:?} (write a county or city name such as 溆浦县 or Shenzhen, or the six-digit code such as 431224)"),
    ))
}

/// Every named region, in code order.
pub fn all() -> Vec<Region> {
    let mut all: Vec<Region> = TABLE.values().copied().collect();
    all.sort_by_key(|r| r.code);
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rules::check_region_code;

    #[test]
    fn every_demo_county_and_destination_is_named() {
        for (code, en, ..) in crate::demo::COUNTIES {
            let r = region(code).unwrap_or_else(|| panic!("{code} has no name"));
            assert!(
                r.en.starts_with(en.split(' ').next().unwrap()),
                "{code}: {r:?} vs {en}"
            );
        }
        for (code, ..) in crate::demo::DESTINATIONS {
            assert!(region(code).is_some(), "{code}");
        }
        assert_eq!(name("431202", Lang::Zh), "鹤城区");
        assert_eq!(full_name("431202", Lang::Zh), "怀化市鹤城区");
        assert_eq!(full_name("431202", Lang::En), "Hecheng District, Huaihua");
        assert_eq!(name("999999", Lang::Zh), "999999");
    }

    #[test]
    fn tables_are_well_formed_and_cover_hunan() {
        let all = all();
        for r in &all {
            assert!(check_region_code(r.code).is_ok(), "{}", r.code);
            assert!(!r.zh.is_empty() && !r.en.is_empty());
        }
        let lines = HUNAN.lines().chain(OTHER.lines());
        let rows = lines
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .count();
        assert_eq!(rows, all.len(), "a code is listed twice");
        let hunan_counties = all
            .iter()
            .filter(|r| r.code.starts_with("43") && !r.code.ends_with("00"))
            .count();
        // 122 county-level divisions (2023) and the management district 431271.
        assert_eq!(hunan_counties, 123);
        let prefectures = all
            .iter()
            .filter(|r| r.code.starts_with("43") && r.code.ends_with("00") && r.code != "430000")
            .count();
        assert_eq!(prefectures, 14);
        // Every county's prefecture is named.
        for r in all
            .iter()
            .filter(|r| r.code.starts_with("43") && !r.code.ends_with("00"))
        {
            assert!(
                region(&format!("{}00", &r.code[..4])).is_some(),
                "{}",
                r.code
            );
        }
    }

    #[test]
    fn names_lead_back_to_codes() {
        assert_eq!(code_of("鹤城区"), Some("431202"));
        assert_eq!(code_of("Hecheng District"), Some("431202"));
        assert_eq!(code_of(" 431271 "), Some("431271"));
        assert_eq!(code_of("长沙县"), Some("430121"));
        assert_eq!(code_of("nowhere"), None);
        for r in all().iter().filter(|r| r.code.starts_with("43")) {
            assert_eq!(code_of(r.zh), Some(r.code), "{}", r.zh);
        }
    }
}
