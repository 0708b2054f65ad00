//! The names people read for the domain's closed vocabularies, in Chinese
//! and English. `label()` (in `kinds`) stays the stable machine name used
//! in keys, CSV exports and flags; `text(lang)` is for people. Every match
//! is exhaustive, so a new variant fails the build until it has words.

use super::kinds::{
    Education, EmploymentStatus, Gender, LabourCapacity, Mobility, OpeningStatus, PhysicalDemand,
    Source,
};
use super::placement::{DeclineReason, PlacementStatus, SeparationReason};
use super::run::DiffClass;
use super::Lang;

macro_rules! words {
    ($name:ident { $($variant:ident => $zh:literal, $en:literal;)+ }) => {
        impl $name {
            /// The name people read, in `lang`.
            pub fn text(self, lang: Lang) -> &'static str {
                match self {
                    $($name::$variant => lang.pick($zh, $en),)+
                }
            }
        }
    };
}

words!(Source {
    AidWorkshop => "帮扶车间", "aid workshop";
    PublicWelfare => "公益岗位", "public-welfare post";
    LabourCooperation => "劳务协作", "labour cooperation";
    WorkRelief => "以工代赈", "work relief";
    IndustrialPark => "后扶产业园区", "industrial park";
    Enterprise => "合作社/龙头企业", "cooperative or enterprise";
});

words!(LabourCapacity {
    Full => "全劳动力", "full";
    Partial => "半劳动力", "partial";
});

words!(PhysicalDemand {
    Light => "轻体力", "light";
    Normal => "一般", "normal";
    Heavy => "重体力", "heavy";
});

words!(EmploymentStatus {
    Seeking => "求职中", "seeking work";
    Employed => "已就业", "employed";
    Unavailable => "暂不就业", "unavailable";
    Placed => "已录用待上岗", "placed, not started";
});

words!(Gender {
    Female => "女", "female";
    Male => "男", "male";
});

words!(Education {
    None => "未上学", "no schooling";
    Primary => "小学", "primary";
    JuniorSecondary => "初中", "junior secondary";
    SeniorSecondary => "高中", "senior secondary";
    Vocational => "中专/职高", "vocational";
    Tertiary => "大专及以上", "college or university";
});

words!(Mobility {
    NearHome => "就近就业", "near home";
    WillingToMigrate => "外出务工", "willing to migrate";
});

words!(OpeningStatus {
    Open => "招聘中", "open";
    Closed => "已关闭", "closed";
});

words!(PlacementStatus {
    Unspecified => "未设置", "not set";
    Proposed => "已推荐", "proposed";
    Accepted => "已接受", "accepted";
    Declined => "已拒绝", "declined";
    Hired => "已上岗", "hired";
    Separated => "已离岗", "separated";
});

words!(SeparationReason {
    Unspecified => "未设置", "not set";
    Quit => "主动离职", "quit";
    Dismissed => "被辞退", "dismissed";
    ContractEnded => "合同到期", "contract ended";
    Health => "健康原因", "health";
    Family => "家庭原因", "family";
    Other => "其他", "other";
});

words!(DeclineReason {
    Unspecified => "未说明", "not given";
    Distance => "距离太远", "too far";
    Pay => "工资太低", "pay too low";
    Hours => "工作时间不合适", "hours do not fit";
    FamilyCare => "需照顾家庭", "family care";
    Health => "身体原因", "health";
    FoundOtherWork => "已找到其他工作", "found other work";
    Other => "其他", "other";
});

words!(DiffClass {
    New => "新分配", "newly assigned";
    ChangedOpening => "岗位变更", "changed opening";
    Same => "相同", "same";
    HoldingPlacement => "已有推荐或就业", "already holding a placement";
    NoLongerAssigned => "不再分配", "no longer assigned";
});

/// Skill and certificate codes with their Chinese names (the codes of the
/// demo data and the trades the domain notes list). A ledger may name a
/// skill either way; other codes are shown as they are.
pub const SKILL_NAMES: &[(&str, &str)] = &[
    ("sewing", "缝纫"),
    ("housekeeping", "家政"),
    ("elderly_care", "养老护理"),
    ("electronics_assembly", "电子装配"),
    ("cooking", "烹饪"),
    ("driving_c1", "驾驶C1"),
    ("driving_b2", "驾驶B2"),
    ("masonry", "砌筑"),
    ("carpentry", "木工"),
    ("electrics", "电工"),
    ("welding", "焊工"),
    ("plumbing", "水暖"),
    ("greenhouse_farming", "大棚种植"),
    ("fruit_farming", "果树种植"),
    ("tea_processing", "茶叶加工"),
    ("forestry", "林业"),
    ("ecommerce", "电商"),
    ("livestream_selling", "直播带货"),
    ("security_guard", "保安"),
    ("handicraft", "手工艺"),
    ("food_processing", "食品加工"),
    ("cleaning", "保洁"),
    ("logistics", "物流"),
];

/// The Chinese name of a skill code, if it has one.
pub fn skill_zh(code: &str) -> Option<&'static str> {
    SKILL_NAMES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| *n)
}

/// A skill's name in `lang` (English, or a code without a Chinese name:
/// the code).
pub fn skill_text(code: &str, lang: Lang) -> String {
    match (lang, skill_zh(code)) {
        (Lang::Zh, Some(zh)) => zh.to_string(),
        _ => code.to_string(),
    }
}

/// The code of a skill named in Chinese or by its code.
pub fn skill_code(name: &str) -> Option<&'static str> {
    SKILL_NAMES
        .iter()
        .find(|(c, n)| *c == name || *n == name)
        .map(|(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_has_two_distinct_non_empty_texts() {
        let mut zh = std::collections::HashSet::new();
        for s in Source::ALL {
            assert!(!s.text(Lang::En).is_empty());
            assert!(zh.insert(s.text(Lang::Zh)));
        }
        for e in EmploymentStatus::ALL {
            assert_ne!(e.text(Lang::Zh), e.text(Lang::En));
        }
        assert_eq!(Gender::Male.text(Lang::Zh), "男");
    }

    #[test]
    fn skill_names_are_unique_valid_codes() {
        for (i, (code, name)) in SKILL_NAMES.iter().enumerate() {
            assert!(
                super::super::rules::check_skill_code(code).is_ok(),
                "{code}"
            );
            assert!(SKILL_NAMES[..i].iter().all(|(c, n)| c != code && n != name));
            assert_eq!(skill_code(name), Some(*code));
        }
    }
}
