//! Field rules shared by workers and openings: ids, region codes, national id
//! numbers, coordinates, skills, dates. Each returns the reason a value is
//! refused, and the caller attaches the field path.

use chrono::NaiveDate;

use super::Reason;

/// Longest caller-assigned id, in bytes.
pub const MAX_ID_LEN: usize = 64;
/// Most skills (or certificates) on one worker.
pub const MAX_WORKER_SKILLS: usize = 32;
/// Most required (or preferred) skills on one opening.
pub const MAX_OPENING_SKILLS: usize = 16;
/// Highest skill level.
pub const MAX_SKILL_LEVEL: u32 = 5;
/// Highest monthly wage accepted, CNY. Far above any real offer here, so it
/// only catches unit mistakes (fen for yuan).
pub const MAX_MONTHLY_WAGE: u32 = 100_000;

/// Province-level prefixes in use in GB/T 2260 (mainland, plus Taiwan, Hong
/// Kong and Macau, which the standard lists).
const PROVINCE_PREFIXES: &[&str] = &[
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
];

/// Caller-assigned ids: 1-64 bytes of `A-Z a-z 0-9 . _ : -`.
///
/// The alphabet leaves out `0x00`, which the store uses as a key separator,
/// and anything a log line or a CSV export would need to escape.
pub fn check_id(value: &str) -> Result<(), Reason> {
    if value.is_empty() {
        return Err(empty());
    }
    if value.len() > MAX_ID_LEN {
        return Err(Reason::new(
            format!("最多 {MAX_ID_LEN} 个字符，实际 {} 个", value.len()),
            format!(
                "must be at most {MAX_ID_LEN} characters, got {}",
                value.len()
            ),
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')))
    {
        return Err(Reason::new(
            format!("只能包含 A-Z、a-z、0-9、'.'、'_'、':' 和 '-'，发现 {c:?}"),
            format!("may contain only A-Z, a-z, 0-9, '.', '_', ':' and '-', found {c:?}"),
        ));
    }
    Ok(())
}

/// Free text such as a name, title or note: 1..=`max` characters, not
/// blank, and only characters that show what they are. Refused, with the
/// code point named: control characters (Cc), format characters (Cf:
/// zero-width spaces and joiners, the BOM, direction overrides and
/// isolates such as U+202E and U+2066-2069, which make a ledger display
/// text other than what is stored), private-use (Co) and unassigned code
/// points (Cn, noncharacters included), and the line and paragraph
/// separators U+2028 and U+2029 (Zl, Zp), which break a line where no
/// newline is seen. Categories are Unicode 16's
/// (`unicode-general-category`).
pub fn check_text(value: &str, max: usize) -> Result<(), Reason> {
    use unicode_general_category::{get_general_category, GeneralCategory as G};
    if value.trim().is_empty() {
        return Err(empty());
    }
    let count = value.chars().count();
    if count > max {
        return Err(Reason::new(
            format!("最多 {max} 个字符，实际 {count} 个"),
            format!("must be at most {max} characters, got {count}"),
        ));
    }
    for c in value.chars() {
        let (zh, en) = match get_general_category(c) {
            G::Control => ("控制字符", "a control character"),
            G::Format => ("不可见的格式字符", "an invisible format character"),
            G::PrivateUse => ("私用区字符", "a private-use character"),
            G::Unassigned => (
                "未分配的码位或非字符",
                "an unassigned code point or noncharacter",
            ),
            G::LineSeparator => ("行分隔符", "a line separator"),
            G::ParagraphSeparator => ("段分隔符", "a paragraph separator"),
            G::Surrogate => ("代理码位", "a surrogate"),
            _ => continue,
        };
        let code = u32::from(c);
        return Err(Reason::new(
            format!("不能包含 U+{code:04X}（{zh}）"),
            format!("must not contain U+{code:04X}, {en}"),
        ));
    }
    Ok(())
}

/// A six-digit administrative division code (GB/T 2260) at any level.
///
/// Only the structure is checked (digits, a province prefix in use), not a
/// list of codes: lists go stale, and statistics-only codes such as 431271
/// (Hongjiang District, a management district) must pass.
pub fn check_region_code(value: &str) -> Result<(), Reason> {
    if value.len() != 6 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Reason::new(
            format!("必须是六位 GB/T 2260 行政区划代码，实际为 {value:?}"),
            format!("must be a six-digit GB/T 2260 region code, got {value:?}"),
        ));
    }
    if !PROVINCE_PREFIXES.contains(&&value[..2]) {
        return Err(Reason::new(
            format!("{:?} 不是 GB/T 2260 的省级代码", &value[..2]),
            format!("{:?} is not a GB/T 2260 province prefix", &value[..2]),
        ));
    }
    Ok(())
}

/// A county-level region code: a region code whose last two digits are not
/// `00` (those name a province or a city, not a county or district).
pub fn check_county_code(value: &str) -> Result<(), Reason> {
    check_region_code(value)?;
    if &value[4..] == "00" {
        return Err(Reason::new(
            format!("必须是县级代码（末两位不是 00），实际为 {value:?}"),
            format!("must be a county-level code (last two digits not 00), got {value:?}"),
        ));
    }
    Ok(())
}

/// The GB 11643 check character for the first 17 digits of an id number
/// (ISO 7064 MOD 11-2).
pub fn national_id_check_char(first17: &[u8]) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize] as char
}

/// An 18-character resident identity number: 17 digits and a check
/// character (digit or `X`) that matches GB 11643.
///
/// The reason never repeats the value: it is personal data and must not end
/// up in client logs.
pub fn check_national_id(value: &str) -> Result<(), Reason> {
    let bytes = value.as_bytes();
    if bytes.len() != 18 {
        let got = value.chars().count();
        return Err(Reason::new(
            format!("必须是 18 位，实际 {got} 位"),
            format!("must be 18 characters, got {got}"),
        ));
    }
    if !bytes[..17].iter().all(u8::is_ascii_digit) {
        return Err(Reason::new(
            "前 17 位必须是数字",
            "first 17 characters must be digits",
        ));
    }
    let last = bytes[17].to_ascii_uppercase() as char;
    if !(last.is_ascii_digit() || last == 'X') {
        return Err(Reason::new(
            "最后一位必须是数字或 X",
            "last character must be a digit or X",
        ));
    }
    if national_id_check_char(&bytes[..17]) != last {
        return Err(Reason::new(
            "校验码不符（GB 11643）",
            "check digit does not match (GB 11643)",
        ));
    }
    Ok(())
}

/// A mainland mobile number: 11 digits, `1` then `3`-`9`.
pub fn check_phone(value: &str) -> Result<(), Reason> {
    let b = value.as_bytes();
    if b.len() != 11 || !b.iter().all(u8::is_ascii_digit) || b[0] != b'1' || b[1] < b'3' {
        return Err(Reason::new(
            "必须是 13-19 开头的 11 位大陆手机号",
            "must be an 11-digit mainland mobile number starting 13-19",
        ));
    }
    Ok(())
}

/// China's bounding box, generous by a degree or so on each side.
pub fn check_latitude(lat: f64) -> Result<(), Reason> {
    check_within_china(lat, 3.0..=54.0, "北纬", "north")
}

/// See [`check_latitude`].
pub fn check_longitude(lon: f64) -> Result<(), Reason> {
    check_within_china(lon, 73.0..=136.0, "东经", "east")
}

/// A coordinate within `degrees` (whole degrees, said with one decimal).
fn check_within_china(
    value: f64,
    degrees: std::ops::RangeInclusive<f64>,
    zh_direction: &str,
    en_direction: &str,
) -> Result<(), Reason> {
    if !value.is_finite() || !degrees.contains(&value) {
        let (low, high) = (degrees.start(), degrees.end());
        return Err(Reason::new(
            format!("必须在中国境内，{zh_direction} {low:.1} 至 {high:.1} 度，实际为 {value}"),
            format!(
                "must be within China, {low:.1} to {high:.1} degrees {en_direction}, got {value}"
            ),
        ));
    }
    Ok(())
}

/// Skill and certificate codes: 1-32 of `a-z 0-9 _ -`, lower case so that
/// "Sewing" and "sewing" cannot become two skills.
pub fn check_skill_code(value: &str) -> Result<(), Reason> {
    if value.is_empty() || value.len() > 32 {
        return Err(Reason::new(
            "必须是 1 至 32 个字符",
            "must be 1 to 32 characters",
        ));
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        return Err(Reason::new(
            "只能包含 a-z、0-9、'_' 和 '-'",
            "may contain only a-z, 0-9, '_' and '-'",
        ));
    }
    Ok(())
}

/// Skill levels run 1 to 5.
pub fn check_level(level: u32) -> Result<(), Reason> {
    if !(1..=MAX_SKILL_LEVEL).contains(&level) {
        return Err(Reason::new(
            format!("必须是 1 至 {MAX_SKILL_LEVEL} 级，实际为 {level}"),
            format!("must be 1 to {MAX_SKILL_LEVEL}, got {level}"),
        ));
    }
    Ok(())
}

/// An ISO calendar date `YYYY-MM-DD` between 2000 and 2100.
pub fn parse_date(value: &str) -> Result<NaiveDate, Reason> {
    let date = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .filter(|_| value.len() == 10)
        .ok_or_else(|| {
            Reason::new(
                format!("必须是 YYYY-MM-DD 格式的日期，实际为 {value:?}"),
                format!("must be a date YYYY-MM-DD, got {value:?}"),
            )
        })?;
    let year = chrono::Datelike::year(&date);
    if !(2000..=2100).contains(&year) {
        return Err(Reason::new(
            format!("年份必须在 2000 至 2100 之间，实际为 {year}"),
            format!("year must be 2000 to 2100, got {year}"),
        ));
    }
    Ok(date)
}

/// "must not be empty" (不能为空).
fn empty() -> Reason {
    Reason::new("不能为空", "must not be empty")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a valid id number from 17 digits.
    fn with_check(first17: &str) -> String {
        format!("{first17}{}", national_id_check_char(first17.as_bytes()))
    }

    #[test]
    fn national_id_check_digit_matches_published_example() {
        // The example from GB 11643-1999 appendix: 11010519491231002X.
        assert_eq!(national_id_check_char(b"11010519491231002"), 'X');
        assert!(check_national_id("11010519491231002X").is_ok());
        assert!(check_national_id("11010519491231002x").is_ok());
        assert!(check_national_id("110105194912310021").is_err());
    }

    #[test]
    fn every_wrong_check_digit_is_refused() {
        let good = with_check("43120219850612301");
        for c in "0123456789X".chars() {
            let candidate = format!("{}{c}", &good[..17]);
            assert_eq!(check_national_id(&candidate).is_ok(), candidate == good);
        }
    }

    #[test]
    fn national_id_shape_errors() {
        assert!(check_national_id("").is_err());
        assert!(check_national_id("4312021985061230").is_err());
        assert!(check_national_id("43120219850612301A").is_err());
        assert!(check_national_id("4312021985061230１X").is_err());
        let reason = check_national_id("431202198506123011").unwrap_err();
        assert!(reason.is_translated());
        assert!(
            !reason.en().contains("4312") && !reason.zh().contains("4312"),
            "reason must not echo the id: {reason}"
        );
    }

    #[test]
    fn region_codes() {
        for ok in ["431202", "431271", "440300", "430100", "110000"] {
            assert!(check_region_code(ok).is_ok(), "{ok}");
        }
        for bad in ["", "43120", "4312021", "43120a", "991202", "001202"] {
            assert!(check_region_code(bad).is_err(), "{bad}");
        }
        assert!(check_county_code("431271").is_ok());
        assert!(check_county_code("431200").is_err());
    }

    #[test]
    fn ids_and_text() {
        assert!(check_id("w-0001:a.b_c").is_ok());
        assert!(check_id("").is_err());
        assert!(check_id("a b").is_err());
        assert!(check_id("a\0b").is_err());
        assert!(check_id(&"x".repeat(65)).is_err());
        assert!(check_text("王小明", 64).is_ok());
        assert!(check_text("   ", 64).is_err());
        assert!(check_text("a\nb", 64).is_err());
        assert!(check_text(&"字".repeat(65), 64).is_err());
        // Names as people write them pass: rare CJK (Ext B), the middle
        // dot of minority names, Latin with accents.
        for ok in [
            "𠀋子",
            "阿依古丽·买买提",
            "José",
            "Sewing machinist (2nd shift)",
        ] {
            assert!(check_text(ok, 64).is_ok(), "{ok}");
        }
    }

    #[test]
    fn each_class_of_invisible_character_is_refused_by_code_point() {
        for (c, class) in [
            ('\u{202E}', "format"),
            ('\u{2066}', "format"),
            ('\u{2067}', "format"),
            ('\u{2068}', "format"),
            ('\u{2069}', "format"),
            ('\u{200B}', "format"),
            ('\u{200D}', "format"),
            ('\u{FEFF}', "format"),
            ('\u{E000}', "private-use"),
            ('\u{F0000}', "private-use"),
            ('\u{FFFE}', "noncharacter"),
            ('\u{FDD0}', "noncharacter"),
            ('\u{0378}', "unassigned"),
            ('\u{2028}', "line separator"),
            ('\u{2029}', "paragraph separator"),
            ('\u{0007}', "control"),
        ] {
            let text = format!("王{c}秀英");
            let reason = check_text(&text, 64).unwrap_err();
            let named = format!("U+{:04X}", u32::from(c));
            assert!(reason.en().contains(&named), "{named}: {reason}");
            assert!(reason.en().contains(class), "{named}: {reason}");
        }
    }

    #[test]
    fn phones_coordinates_dates() {
        assert!(check_phone("13812345678").is_ok());
        assert!(check_phone("12812345678").is_err());
        assert!(check_phone("1381234567").is_err());
        assert!(check_latitude(27.55).is_ok());
        assert!(check_latitude(0.0).is_err());
        assert!(check_latitude(f64::NAN).is_err());
        assert!(check_longitude(109.98).is_ok());
        assert!(check_longitude(f64::INFINITY).is_err());
        assert!(parse_date("2026-02-28").is_ok());
        assert!(parse_date("2026-02-29").is_err());
        assert!(parse_date("2024-02-29").is_ok());
        assert!(parse_date("2026-2-28").is_err());
        assert!(parse_date("1999-01-01").is_err());
    }
}
