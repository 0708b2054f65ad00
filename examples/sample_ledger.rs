//! A workers' ledger to try `jobbridge import` on: ROWS rows of an xlsx
//! sheet with the Chinese headers a county ledger uses, about one row in
//! 50 wrong in a way a site officer makes (a mistyped id number, an id
//! number Excel stored as a number, an unknown skill or county, a repeated
//! row, a missing name, a latitude that is not a number, gender "未知").
//!
//! ```text
//! cargo run --example sample_ledger -- 5000 ledger.xlsx
//! ```
//!
//! The rows are spread over six of Huaihua's counties and numbered from 1
//! across the file. With a county code as a third argument, every row is
//! of that county, numbered from 1: the ledger of one county company
//! (another county's ledger numbered the same way holds other people).
//!
//! ```text
//! cargo run --example sample_ledger -- 300 huitong.xlsx 431225
//! ```
//!
//! It prints the rows it made wrong, so the rejected file can be checked
//! against it.

use rust_xlsxwriter::Workbook;

const HEADERS: [&str; 18] = [
    "编号",
    "户编号",
    "姓名",
    "身份证号",
    "性别",
    "手机号",
    "县区",
    "安置点编号",
    "安置点纬度",
    "安置点经度",
    "劳动能力",
    "技能",
    "文化程度",
    "就业意向",
    "最远通勤公里",
    "期望月薪",
    "意向岗位类型",
    "需要弹性工时",
];

/// Huaihua's counties: (code, name, a resettlement site's latitude and longitude).
const COUNTIES: [(&str, &str, f64, f64); 6] = [
    ("431202", "鹤城区", 27.55, 109.98),
    ("431224", "溆浦县", 27.91, 110.59),
    ("431227", "新晃侗族自治县", 27.36, 109.17),
    ("431228", "芷江侗族自治县", 27.44, 109.68),
    ("431230", "通道侗族自治县", 26.16, 109.78),
    ("431281", "洪江市", 27.21, 109.84),
];

const SURNAMES: [&str; 10] = ["向", "杨", "张", "李", "舒", "粟", "吴", "龙", "刘", "田"];
const GIVEN: [&str; 10] = [
    "春梅", "秀英", "建国", "小红", "桂花", "志强", "海燕", "德明", "玉兰", "永红",
];
const SKILLS: [&str; 6] = [
    "缝纫:3",
    "电工:2;焊工:1",
    "大棚种植:2",
    "",
    "家政:3",
    "砌筑:2;木工:2",
];

/// GB 11643 check character of the first 17 digits.
fn check_char(first17: &str) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

/// A valid id number for worker `n` of county `code`, different for every
/// `n` below 10,000 (born on the 29th or 30th, days the demo data leaves
/// free, so that they are not registered there already). Its 17th digit
/// is odd for men, as the rows' gender says.
fn national_id(code: &str, n: u32) -> String {
    let year = 1966 + (n / 1000) * 4;
    let month = [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12][n as usize % 11];
    let day = 29 + n % 2;
    let first17 = format!("{code}{year}{month:02}{day:02}{:03}", n % 1000);
    format!("{first17}{}", check_char(&first17))
}

/// Counties a one-county ledger may be of, beyond [`COUNTIES`].
const MORE_COUNTIES: [(&str, &str, f64, f64); 2] = [
    ("431225", "会同县", 26.87, 109.72),
    ("431226", "麻阳苗族自治县", 27.86, 109.80),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    write(std::env::args().skip(1))
}

/// Writes the ledger its arguments ask for (ROWS, FILE and the county, as
/// on the command line). `tests/api/readme` calls it too, to make the
/// ledgers of README's county day without building the example.
pub fn write(mut args: impl Iterator<Item = String>) -> Result<(), Box<dyn std::error::Error>> {
    let rows: u32 = args.next().as_deref().unwrap_or("5000").parse()?;
    let out = args.next().unwrap_or_else(|| "ledger.xlsx".into());
    let counties: Vec<(&str, &str, f64, f64)> = match args.next() {
        None => COUNTIES.to_vec(),
        Some(code) => vec![COUNTIES
            .iter()
            .chain(MORE_COUNTIES.iter())
            .find(|c| c.0 == code)
            .copied()
            .ok_or_else(|| {
                let known: Vec<&str> = COUNTIES
                    .iter()
                    .chain(MORE_COUNTIES.iter())
                    .map(|c| c.0)
                    .collect();
                format!("county {code} is not one of {}", known.join(", "))
            })?],
    };

    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("劳动力台账")?;
    for (c, h) in HEADERS.iter().enumerate() {
        sheet.write_string(0, c as u16, *h)?;
    }
    let mut wrong = Vec::new();
    for n in 1..=rows {
        let r = n; // sheet row index; the spreadsheet shows row n + 1
                   // Two workers a household, a household in one county.
        let household = n.div_ceil(2);
        let (code, county, lat, lon) = counties[household as usize % counties.len()];
        let mut id = format!("w-{n:06}");
        let mut name = format!(
            "{}{}",
            SURNAMES[n as usize % 10],
            GIVEN[(n as usize / 10) % 10]
        );
        let mut nid = national_id(code, n);
        let mut gender = if n % 2 == 0 { "女" } else { "男" }.to_string();
        let mut county = county.to_string();
        let mut skills = SKILLS[n as usize % SKILLS.len()].to_string();
        let mut lat_cell: Option<String> = None;
        let mut nid_as_number = false;
        if n % 50 == 0 {
            let what = match (n / 50) % 8 {
                0 => {
                    let last = if nid.ends_with('0') { "1" } else { "0" };
                    nid.replace_range(17.., last);
                    "身份证号 (check digit)"
                }
                1 => {
                    nid_as_number = !nid.ends_with('X');
                    if nid_as_number {
                        "身份证号 (a number cell)"
                    } else {
                        nid.truncate(16);
                        "身份证号 (too short)"
                    }
                }
                2 => {
                    skills = "开挖掘机:3".into();
                    "技能"
                }
                3 => {
                    county = "火星县".into();
                    "县区"
                }
                4 => {
                    id = format!("w-{:06}", n - 1);
                    "编号 (same as the row above)"
                }
                5 => {
                    name.clear();
                    "姓名"
                }
                6 => {
                    lat_cell = Some("北纬27度".into());
                    "安置点纬度"
                }
                _ => {
                    gender = "未知".into();
                    "性别"
                }
            };
            wrong.push((n + 1, what));
        }
        sheet.write_string(r, 0, &id)?;
        sheet.write_string(r, 1, format!("hh-{household:06}"))?;
        sheet.write_string(r, 2, &name)?;
        if nid_as_number {
            sheet.write_number(r, 3, nid.parse::<f64>()?)?;
        } else {
            sheet.write_string(r, 3, &nid)?;
        }
        sheet.write_string(r, 4, &gender)?;
        // Excel keeps a typed phone number as a number.
        sheet.write_number(r, 5, 13_900_000_000.0 + f64::from(n))?;
        sheet.write_string(r, 6, &county)?;
        sheet.write_string(r, 7, format!("site-{code}-{:03}", n % 4 + 1))?;
        match lat_cell {
            Some(text) => sheet.write_string(r, 8, text)?,
            None => sheet.write_number(r, 8, lat + f64::from(n % 10) * 0.001)?,
        };
        sheet.write_number(r, 9, lon + f64::from(n % 7) * 0.001)?;
        sheet.write_string(r, 10, if n % 9 == 0 { "半" } else { "全" })?;
        if !skills.is_empty() {
            sheet.write_string(r, 11, &skills)?;
        }
        sheet.write_string(r, 12, ["小学", "初中", "高中"][n as usize % 3])?;
        sheet.write_string(
            r,
            13,
            if n % 4 == 0 {
                "外出务工"
            } else {
                "就近就业"
            },
        )?;
        sheet.write_number(r, 14, f64::from(10 + n % 5 * 10))?;
        sheet.write_number(r, 15, f64::from(2000 + n % 6 * 300))?;
        sheet.write_string(
            r,
            16,
            if n % 3 == 0 {
                "帮扶车间;公益岗位"
            } else {
                ""
            },
        )?;
        sheet.write_string(r, 17, if n % 5 == 0 { "是" } else { "否" })?;
    }
    book.save(&out)?;
    println!("{out}: {rows} rows, {} made wrong:", wrong.len());
    for (row, what) in &wrong {
        println!("  row {row}: {what}");
    }
    Ok(())
}
