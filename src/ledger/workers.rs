//! The workers' ledger (劳动力台账): one column per field of the API's
//! `Worker` that a client sets. Empty optional cells mean "not given";
//! the defaults below are the ones a county ledger most often leaves out.

use crate::domain::{
    regions, scoped, Education, EmploymentStatus, Gender, GeoPoint, LabourCapacity, Lang, Mobility,
    Preferences, Reason, Skill, Source, Worker,
};

use super::columns::{self as c, Column};
use super::Cell;

/// Longest commute when the cell is empty, km.
pub const DEFAULT_COMMUTE_KM: u32 = 30;

/// A worker with nothing set, for a row to fill.
pub fn blank() -> Worker {
    Worker {
        id: String::new(),
        household_id: String::new(),
        name: String::new(),
        national_id: String::new(),
        gender: None,
        birth_year: 0,
        phone: None,
        county_code: String::new(),
        site_id: String::new(),
        site_location: GeoPoint { lat: 0.0, lon: 0.0 },
        labour_capacity: LabourCapacity::Full,
        skills: Vec::new(),
        certificates: Vec::new(),
        education: None,
        preferences: Preferences {
            mobility: Mobility::NearHome,
            max_commute_km: DEFAULT_COMMUTE_KM,
            expected_monthly_wage: 0,
            preferred_sources: Vec::new(),
            strict_sources: false,
            needs_flexible_hours: false,
        },
        employment_status: EmploymentStatus::Seeking,
        service_company_id: None,
        consent_to_share: false,
        placement: Default::default(),
        created_at_ms: 0,
        updated_at_ms: 0,
    }
}

/// After the cells: a missing birth year is read from the id number
/// (digits 7-10), as every ledger could.
pub fn finish(w: &mut Worker) {
    if w.birth_year == 0 {
        if let Some(year) = w.national_id.get(6..10).and_then(|y| y.parse().ok()) {
            w.birth_year = year;
        }
    }
}

fn opt(cell: &Cell) -> Option<String> {
    (!cell.text.is_empty()).then(|| cell.text.clone())
}

pub(super) fn gender_names(g: Gender) -> Vec<&'static str> {
    let mut v = vec![g.text(Lang::Zh), g.text(Lang::En), g.label()];
    v.push(match g {
        Gender::Female => "女性",
        Gender::Male => "男性",
    });
    v
}

fn capacity_names(l: LabourCapacity) -> Vec<&'static str> {
    let mut v = vec![l.text(Lang::Zh), l.text(Lang::En), l.label()];
    v.extend(match l {
        LabourCapacity::Full => ["全", "全劳力"],
        LabourCapacity::Partial => ["半", "弱劳动力"],
    });
    v
}

fn education_names(e: Education) -> Vec<&'static str> {
    let mut v = vec![e.text(Lang::Zh), e.text(Lang::En), e.label()];
    v.extend(match e {
        Education::None => &["无", "文盲"][..],
        Education::Primary => &[][..],
        Education::JuniorSecondary => &["初中及以下"][..],
        Education::SeniorSecondary => &["普高"][..],
        Education::Vocational => &["中专", "职高", "技校"][..],
        Education::Tertiary => &["大专", "本科", "大学"][..],
    });
    v
}

fn mobility_names(m: Mobility) -> Vec<&'static str> {
    let mut v = vec![m.text(Lang::Zh), m.text(Lang::En), m.label()];
    v.extend(match m {
        Mobility::NearHome => ["就近", "本地"],
        Mobility::WillingToMigrate => ["外出", "愿意外出"],
    });
    v
}

fn status_names(s: EmploymentStatus) -> Vec<&'static str> {
    let mut v = vec![s.text(Lang::Zh), s.text(Lang::En), s.label()];
    v.extend(match s {
        EmploymentStatus::Seeking => &["求职", "未就业", "待就业"][..],
        EmploymentStatus::Employed => &["就业", "在岗"][..],
        EmploymentStatus::Unavailable => &["无就业意愿"][..],
        EmploymentStatus::Placed => &["待上岗"][..],
    });
    v
}

pub(super) fn source_names(s: Source) -> Vec<&'static str> {
    let mut v = vec![s.text(Lang::Zh), s.text(Lang::En), s.label()];
    v.extend(match s {
        Source::AidWorkshop => &["就业帮扶车间"][..],
        Source::PublicWelfare => &["公益性岗位"][..],
        Source::LabourCooperation => &[][..],
        Source::WorkRelief => &[][..],
        Source::IndustrialPark => &["产业园区", "产业基地"][..],
        Source::Enterprise => &["合作社", "龙头企业", "企业"][..],
    });
    v
}

/// Sources as "帮扶车间;公益岗位".
pub(super) fn sources(cell: &Cell) -> Result<Vec<Source>, Reason> {
    c::items(cell)
        .into_iter()
        .map(|item| c::required_choice(&Cell::text(item), Source::ALL, source_names))
        .collect()
}

pub(super) fn sources_text(v: &[Source], lang: Lang) -> String {
    v.iter().map(|s| s.text(lang)).collect::<Vec<_>>().join(";")
}

fn skill_list(cell: &Cell) -> Result<Vec<Skill>, Reason> {
    Ok(c::skills(cell)?
        .into_iter()
        .map(|(code, level)| Skill { code, level })
        .collect())
}

fn skill_text(v: &[Skill], lang: Lang) -> String {
    c::skills_text(v.iter().map(|s| (s.code.clone(), s.level)), lang)
}

/// The national id number: text, never a number (Excel keeps 15 digits).
fn national_id(w: &mut Worker, cell: &Cell) -> Result<(), Reason> {
    if cell.number && cell.text.len() > 15 {
        return Err(Reason::new(
            "身份证号被 Excel 存成了数字，末几位已丢失：请把该列设为“文本”格式后重新填写",
            "the id number was stored as a number and Excel lost its last digits: format the column as text and enter it again",
        ));
    }
    w.national_id = cell.text.clone();
    Ok(())
}

/// Every column of the workers' ledger, in template order.
pub static COLUMNS: &[Column<Worker>] = &[
    Column {
        zh: "编号",
        en: "id",
        path: "id",
        required: true,
        secret: false,
        example: "w-0000001",
        note: ("本县区给每人的编号：字母、数字和 . _ : -；编号只在本县区内唯一，别的县区可以有同样的编号；重复导入按编号更新", "your county's number for the person: letters, digits and . _ : -; it is unique within the county (another county may use the same numbers); a re-import updates by it"),
        read: |w, cell| { w.id = cell.text.clone(); Ok(()) },
        // The county's own number; the whole id for a worker who moved
        // here from another county.
        write: |w, _| scoped::ledger_number(&w.id, &w.county_code).to_string(),
    },
    Column {
        zh: "户编号",
        en: "household_id",
        path: "household_id",
        required: true,
        secret: false,
        example: "hh-000001",
        note: ("搬迁户编号，同户成员相同；一户的成员都在同一县区", "household number, the same for every member; a household's members all live in one county"),
        read: |w, cell| { w.household_id = cell.text.clone(); Ok(()) },
        write: |w, _| scoped::ledger_number(&w.household_id, &w.county_code).to_string(),
    },
    Column {
        zh: "姓名",
        en: "name",
        path: "name",
        required: true,
        secret: false,
        example: "向春梅",
        note: ("1 至 64 个字", "1 to 64 characters"),
        read: |w, cell| { w.name = cell.text.clone(); Ok(()) },
        write: |w, _| w.name.clone(),
    },
    Column {
        zh: "身份证号",
        en: "national_id",
        path: "national_id",
        required: true,
        secret: true,
        example: "431202198506123018",
        note: ("18 位居民身份证号（列设为文本格式）；只保存其加密散列，导出时不含", "18-character id number (a text column); only a keyed hash is stored, and exports leave it out"),
        read: national_id,
        write: |_, _| String::new(),
    },
    Column {
        zh: "性别",
        en: "gender",
        path: "gender",
        required: false,
        secret: false,
        example: "女",
        note: ("男 / 女，可空", "male / female (男/女), may be empty"),
        read: |w, cell| { w.gender = c::choice(cell, Gender::ALL, gender_names)?; Ok(()) },
        write: |w, lang| w.gender.map_or(String::new(), |g| g.text(lang).to_string()),
    },
    Column {
        zh: "出生年份",
        en: "birth_year",
        path: "birth_year",
        required: false,
        secret: false,
        example: "1985",
        note: ("四位年份；空则取身份证号第 7-10 位", "four-digit year; if empty, digits 7-10 of the id number"),
        read: |w, cell| { w.birth_year = c::number(cell, 0)?; Ok(()) },
        write: |w, _| w.birth_year.to_string(),
    },
    Column {
        zh: "手机号",
        en: "phone",
        path: "phone",
        required: false,
        secret: false,
        example: "13912345678",
        note: ("11 位手机号，可空", "11-digit mobile number, may be empty"),
        read: |w, cell| { w.phone = opt(cell); Ok(()) },
        write: |w, _| w.phone.clone().unwrap_or_default(),
    },
    Column {
        zh: "县区",
        en: "county_code",
        path: "county_code",
        required: true,
        secret: false,
        example: "鹤城区",
        note: ("安置点所在县区：名称（鹤城区）或六位代码（431202）", "county of the site: a name (鹤城区, Hecheng District) or the six-digit code"),
        read: |w, cell| { w.county_code = c::region(cell)?; Ok(()) },
        write: |w, lang| regions::name(&w.county_code, lang),
    },
    Column {
        zh: "安置点编号",
        en: "site_id",
        path: "site_id",
        required: true,
        secret: false,
        example: "site-431202-001",
        note: ("安置点编号", "resettlement site id"),
        read: |w, cell| { w.site_id = cell.text.clone(); Ok(()) },
        write: |w, _| w.site_id.clone(),
    },
    Column {
        zh: "安置点纬度",
        en: "lat",
        path: "site_location.lat",
        required: true,
        secret: false,
        example: "27.55",
        note: ("安置点纬度（度）", "site latitude, degrees north"),
        read: |w, cell| { w.site_location.lat = c::decimal(cell)?; Ok(()) },
        write: |w, _| w.site_location.lat.to_string(),
    },
    Column {
        zh: "安置点经度",
        en: "lon",
        path: "site_location.lon",
        required: true,
        secret: false,
        example: "109.98",
        note: ("安置点经度（度）", "site longitude, degrees east"),
        read: |w, cell| { w.site_location.lon = c::decimal(cell)?; Ok(()) },
        write: |w, _| w.site_location.lon.to_string(),
    },
    Column {
        zh: "劳动能力",
        en: "labour_capacity",
        path: "labour_capacity",
        required: true,
        secret: false,
        example: "全",
        note: ("全 / 半（全劳动力 / 半劳动力、弱劳动力）", "full / partial (全/半)"),
        read: |w, cell| { w.labour_capacity = c::required_choice(cell, LabourCapacity::ALL, capacity_names)?; Ok(()) },
        write: |w, lang| w.labour_capacity.text(lang).to_string(),
    },
    Column {
        zh: "技能",
        en: "skills",
        path: "skills",
        required: false,
        secret: false,
        example: "缝纫:3;电工:2",
        note: ("技能:等级(1-5)，多项用分号隔开；技能名如 缝纫、家政、电工，或代码 sewing", "skill:level (1-5), separated by ';'; a name such as 缝纫 or a code such as sewing"),
        read: |w, cell| { w.skills = skill_list(cell)?; Ok(()) },
        write: |w, lang| skill_text(&w.skills, lang),
    },
    Column {
        zh: "培训证书",
        en: "certificates",
        path: "certificates",
        required: false,
        secret: false,
        example: "养老护理:2",
        note: ("写法同技能", "as skills"),
        read: |w, cell| { w.certificates = skill_list(cell)?; Ok(()) },
        write: |w, lang| skill_text(&w.certificates, lang),
    },
    Column {
        zh: "文化程度",
        en: "education",
        path: "education",
        required: false,
        secret: false,
        example: "初中",
        note: ("未上学 / 小学 / 初中 / 高中 / 中专 / 大专及以上，可空", "none / primary / junior secondary / senior secondary / vocational / tertiary, may be empty"),
        read: |w, cell| { w.education = c::choice(cell, Education::ALL, education_names)?; Ok(()) },
        write: |w, lang| w.education.map_or(String::new(), |e| e.text(lang).to_string()),
    },
    Column {
        zh: "就业意向",
        en: "mobility",
        path: "preferences.mobility",
        required: false,
        secret: false,
        example: "就近就业",
        note: ("就近就业 / 外出务工；空为就近就业", "near home / willing to migrate; empty is near home"),
        read: |w, cell| { w.preferences.mobility = c::choice(cell, Mobility::ALL, mobility_names)?.unwrap_or(Mobility::NearHome); Ok(()) },
        write: |w, lang| w.preferences.mobility.text(lang).to_string(),
    },
    Column {
        zh: "最远通勤公里",
        en: "max_commute_km",
        path: "preferences.max_commute_km",
        required: false,
        secret: false,
        example: "30",
        note: ("1 至 1000；空为 30", "1 to 1000; empty is 30"),
        read: |w, cell| { w.preferences.max_commute_km = c::number(cell, DEFAULT_COMMUTE_KM)?; Ok(()) },
        write: |w, _| w.preferences.max_commute_km.to_string(),
    },
    Column {
        zh: "期望月薪",
        en: "expected_monthly_wage",
        path: "preferences.expected_monthly_wage",
        required: false,
        secret: false,
        example: "2500",
        note: ("元/月；空为不限", "CNY a month; empty for none"),
        read: |w, cell| { w.preferences.expected_monthly_wage = c::number(cell, 0)?; Ok(()) },
        write: |w, _| w.preferences.expected_monthly_wage.to_string(),
    },
    Column {
        zh: "意向岗位类型",
        en: "preferred_sources",
        path: "preferences.preferred_sources",
        required: false,
        secret: false,
        example: "帮扶车间;公益岗位",
        note: ("帮扶车间 / 公益岗位 / 劳务协作 / 以工代赈 / 后扶产业园区 / 合作社，分号隔开", "aid workshop / public-welfare post / labour cooperation / work relief / industrial park / enterprise, ';'-separated"),
        read: |w, cell| { w.preferences.preferred_sources = sources(cell)?; Ok(()) },
        write: |w, lang| sources_text(&w.preferences.preferred_sources, lang),
    },
    Column {
        zh: "只要意向类型",
        en: "strict_sources",
        path: "preferences.strict_sources",
        required: false,
        secret: false,
        example: "否",
        note: ("是 / 否；空为否", "yes / no; empty is no"),
        read: |w, cell| { w.preferences.strict_sources = c::yes_no(cell)?; Ok(()) },
        write: |w, lang| c::yes_no_text(w.preferences.strict_sources, lang),
    },
    Column {
        zh: "需要弹性工时",
        en: "needs_flexible_hours",
        path: "preferences.needs_flexible_hours",
        required: false,
        secret: false,
        example: "是",
        note: ("是 / 否（如需照顾家人）；空为否", "yes / no (e.g. a carer); empty is no"),
        read: |w, cell| { w.preferences.needs_flexible_hours = c::yes_no(cell)?; Ok(()) },
        write: |w, lang| c::yes_no_text(w.preferences.needs_flexible_hours, lang),
    },
    Column {
        zh: "就业状态",
        en: "employment_status",
        path: "employment_status",
        required: false,
        secret: false,
        example: "求职中",
        note: ("求职中 / 已就业 / 暂不就业；空为求职中（“已录用待上岗”只由安置流程设置）", "seeking / employed / unavailable; empty is seeking (placed is set by placements only)"),
        read: |w, cell| { w.employment_status = c::choice(cell, EmploymentStatus::ALL, status_names)?.unwrap_or(EmploymentStatus::Seeking); Ok(()) },
        write: |w, lang| w.employment_status.text(lang).to_string(),
    },
    Column {
        zh: "服务公司编号",
        en: "service_company_id",
        path: "service_company_id",
        required: false,
        secret: false,
        example: "sc-431202",
        note: ("登记的就业服务公司编号，可空", "registering employment-service company id, may be empty"),
        read: |w, cell| { w.service_company_id = opt(cell); Ok(()) },
        write: |w, _| w.service_company_id.clone().unwrap_or_default(),
    },
    Column {
        zh: "同意共享联系方式",
        en: "consent_to_share",
        path: "consent_to_share",
        required: false,
        secret: false,
        example: "是",
        note: ("是 / 否：是否同意向招聘方提供姓名和电话；空为否", "yes / no: agreed to share name and phone with recruiters; empty is no"),
        read: |w, cell| { w.consent_to_share = c::yes_no(cell)?; Ok(()) },
        write: |w, lang| c::yes_no_text(w.consent_to_share, lang),
    },
];
