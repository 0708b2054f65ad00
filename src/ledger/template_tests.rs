//! The xlsx template read back as a clerk's spreadsheet program reads it:
//! the valid-values sheet (calamine), the drop-downs (the sheet XML's
//! `<dataValidation>` elements), every listed value accepted by the
//! import, and the example row still importing cleanly.

use std::io::Read as _;

use calamine::{Data, Reader as _, Xlsx};

use super::columns::Mapping;
use super::files::read;
use super::import::Record as _;
use super::template::{values_sheet, workbook};
use super::{openings, workers, Cell, Kind};
use crate::domain::{words, Lang};

fn template_file(kind: Kind, lang: Lang, dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join(format!("{kind:?}-{lang:?}.xlsx"));
    workbook(kind, lang).unwrap().save(&path).unwrap();
    path
}

/// A column of the valid-values sheet by its header, without blanks.
fn values(path: &std::path::Path, lang: Lang, header: &str) -> Vec<String> {
    let mut book: Xlsx<_> = calamine::open_workbook(path).unwrap();
    let range = book.worksheet_range(values_sheet(lang)).unwrap();
    let mut rows = range.rows();
    let c = rows
        .next()
        .unwrap()
        .iter()
        .position(|d| matches!(d, Data::String(s) if s == header))
        .unwrap_or_else(|| panic!("no column {header}"));
    rows.map(|r| &r[c])
        .filter(|d| !matches!(d, Data::Empty))
        .map(|d| match d {
            Data::String(s) => s.clone(),
            other => panic!("{header}: {other:?} is not text"),
        })
        .collect()
}

/// The `<dataValidation ...>` elements of the first sheet's XML.
fn validations(path: &std::path::Path) -> Vec<String> {
    let file = std::fs::File::open(path).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let mut xml = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    xml.split("<dataValidation ")
        .skip(1)
        .map(|s| s[..s.find("</dataValidation>").unwrap()].to_string())
        .collect()
}

#[test]
fn the_valid_values_sheet_lists_skills_counties_sources_and_yes_no() {
    let dir = tempfile::tempdir().unwrap();
    let path = template_file(Kind::Workers, Lang::Zh, dir.path());
    let names = values(&path, Lang::Zh, "技能名称");
    let codes = values(&path, Lang::Zh, "技能代码");
    assert_eq!(names.len(), 23);
    let listed: Vec<(String, String)> = codes.into_iter().zip(names).collect();
    let want: Vec<(String, String)> = words::SKILL_NAMES
        .iter()
        .map(|(c, n)| (c.to_string(), n.to_string()))
        .collect();
    assert_eq!(listed, want);
    let counties = values(&path, Lang::Zh, "县区名称");
    let codes = values(&path, Lang::Zh, "代码");
    // Huaihua's 13 counties first, each with its code.
    assert_eq!(counties.len(), codes.len());
    assert!(
        codes[..13].iter().all(|c| c.starts_with("4312")),
        "{codes:?}"
    );
    let xupu = counties.iter().position(|n| n == "溆浦县").unwrap();
    assert_eq!(codes[xupu], "431224");
    assert!(counties.iter().any(|n| n == "深圳市"));
    assert_eq!(values(&path, Lang::Zh, "岗位类型").len(), 6);
    assert_eq!(values(&path, Lang::Zh, "是/否"), ["是", "否"]);
}

#[test]
fn drop_downs_offer_the_lists_and_never_stop_a_value_the_import_reads() {
    let dir = tempfile::tempdir().unwrap();
    for lang in [Lang::Zh, Lang::En] {
        let sheet = values_sheet(lang);
        let path = template_file(Kind::Workers, lang, dir.path());
        let found = validations(&path);
        // County, skills, certificates, preferred sources, three yes/no.
        assert_eq!(found.len(), 7, "{found:#?}");
        for v in &found {
            assert!(v.contains(r#"type="list""#), "{v}");
            assert!(v.contains(&format!("<formula1>'{sheet}'!$")), "{v}");
            // Excel's default style is "stop", written as no errorStyle.
            assert!(
                v.contains(r#"errorStyle="warning""#) || v.contains(r#"errorStyle="information""#),
                "{v}"
            );
            assert!(v.contains(r#"showInputMessage="1""#), "{v}");
        }
        let skills = found.iter().find(|v| v.contains(r#"sqref="M2:M10001""#));
        assert!(skills.unwrap().contains(r#"errorStyle="information""#));

        let path = template_file(Kind::Openings, lang, dir.path());
        let found = validations(&path);
        // Source, region, two skill lists, four yes/no.
        assert_eq!(found.len(), 8, "{found:#?}");
    }
}

#[test]
fn every_listed_value_imports_and_the_example_rows_import_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    for lang in [Lang::Zh, Lang::En] {
        let path = template_file(Kind::Workers, lang, dir.path());
        let (table, _) = read(&path).unwrap();
        let mapping = Mapping::new(workers::COLUMNS, "worker", &table.headers, lang).unwrap();
        let mut w = workers::blank();
        mapping.read(&table.rows[0], &mut w, lang).unwrap();
        let column = |path: &str| {
            workers::COLUMNS
                .iter()
                .position(|c| c.path == path)
                .unwrap()
        };
        let lists = [
            ("skills", lang.pick("技能名称", "skill")),
            ("county_code", lang.pick("县区名称", "county or city")),
            (
                "preferences.preferred_sources",
                lang.pick("岗位类型", "source"),
            ),
            ("consent_to_share", lang.pick("是/否", "yes/no")),
        ];
        for (field, header) in lists {
            for value in values(&path, lang, header) {
                let mut row = table.rows[0].clone();
                row.cells[column(field)] = Cell::text(value.clone());
                let mut w = workers::blank();
                mapping
                    .read(&row, &mut w, lang)
                    .unwrap_or_else(|e| panic!("{field} = {value:?}: {e:?}"));
            }
        }

        let path = template_file(Kind::Openings, lang, dir.path());
        let (table, _) = read(&path).unwrap();
        let mapping = Mapping::new(openings::COLUMNS, "opening", &table.headers, lang).unwrap();
        let source = openings::COLUMNS
            .iter()
            .position(|c| c.path == "source")
            .unwrap();
        for value in values(&path, lang, lang.pick("岗位类型", "source")) {
            let mut row = table.rows[0].clone();
            row.cells[source] = Cell::text(value.clone());
            let mut o = openings::blank();
            mapping
                .read(&row, &mut o, lang)
                .unwrap_or_else(|e| panic!("source = {value:?}: {e:?}"));
        }
        let mut o = openings::blank();
        mapping.read(&table.rows[0], &mut o, lang).unwrap();
        o.finish();
        crate::api::opening_from_pb(o.into()).unwrap();
    }
}
