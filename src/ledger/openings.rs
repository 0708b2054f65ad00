//! The openings' ledger (岗位台账): one column per field of the API's
//! `Opening` that a client sets.

use chrono::NaiveDate;

use crate::domain::{
    regions, GeoPoint, Lang, Opening, OpeningStatus, PhysicalDemand, Reason, SkillRequirement,
    Source,
};

use super::columns::{self as c, Column};
use super::workers::source_names;
use super::Cell;

/// An opening with nothing set, for a row to fill.
pub fn blank() -> Opening {
    Opening {
        id: String::new(),
        source: Source::AidWorkshop,
        employer_id: String::new(),
        employer_name: String::new(),
        title: String::new(),
        occupation_code: None,
        region_code: String::new(),
        location: GeoPoint { lat: 0.0, lon: 0.0 },
        required_skills: Vec::new(),
        preferred_skills: Vec::new(),
        min_age: 0,
        max_age: 0,
        physical_demand: PhysicalDemand::Normal,
        monthly_wage: 0,
        headcount: 0,
        flexible_hours: false,
        housing_provided: false,
        transport_provided: false,
        reserved_for_relocated: false,
        start_date: NaiveDate::MIN,
        end_date: None,
        status: OpeningStatus::Open,
        filled: 0,
        created_at_ms: 0,
        updated_at_ms: 0,
    }
}

/// After the cells: no ages given means the API's default range.
pub fn finish(o: &mut Opening) {
    if (o.min_age, o.max_age) == (0, 0) {
        (o.min_age, o.max_age) = crate::domain::DEFAULT_AGE_RANGE;
    }
}

fn demand_names(d: PhysicalDemand) -> Vec<&'static str> {
    let mut v = vec![d.text(Lang::Zh), d.text(Lang::En), d.label()];
    v.extend(match d {
        PhysicalDemand::Light => ["轻", "轻活"],
        PhysicalDemand::Normal => ["中", "普通"],
        PhysicalDemand::Heavy => ["重", "重活"],
    });
    v
}

fn status_names(s: OpeningStatus) -> Vec<&'static str> {
    let mut v = vec![s.text(Lang::Zh), s.text(Lang::En), s.label()];
    v.push(match s {
        OpeningStatus::Open => "开放",
        OpeningStatus::Closed => "关闭",
    });
    v
}

fn requirements(cell: &Cell) -> Result<Vec<SkillRequirement>, Reason> {
    Ok(c::skills(cell)?
        .into_iter()
        .map(|(code, min_level)| SkillRequirement { code, min_level })
        .collect())
}

fn requirements_text(v: &[SkillRequirement], lang: Lang) -> String {
    c::skills_text(v.iter().map(|s| (s.code.clone(), s.min_level)), lang)
}

fn date(cell: &Cell) -> Result<NaiveDate, Reason> {
    if cell.text.is_empty() {
        return Err(Reason::required());
    }
    crate::domain::rules::parse_date(&c::date(cell))
}

/// Every column of the openings' ledger, in template order.
pub static COLUMNS: &[Column<Opening>] = &[
    Column {
        zh: "岗位编号",
        en: "id",
        path: "id",
        required: true,
        secret: false,
        example: "op-431202-aw-001",
        note: ("岗位编号：字母、数字和 . _ : -，重复导入按编号更新", "opening id: letters, digits and . _ : -; a re-import updates by id"),
        read: |o, cell| { o.id = cell.text.clone(); Ok(()) },
        write: |o, _| o.id.clone(),
    },
    Column {
        zh: "岗位类型",
        en: "source",
        path: "source",
        required: true,
        secret: false,
        example: "帮扶车间",
        note: ("帮扶车间 / 公益岗位 / 劳务协作 / 以工代赈 / 后扶产业园区 / 合作社", "aid workshop / public-welfare post / labour cooperation / work relief / industrial park / enterprise"),
        read: |o, cell| { o.source = c::required_choice(cell, Source::ALL, source_names)?; Ok(()) },
        write: |o, lang| o.source.text(lang).to_string(),
    },
    Column {
        zh: "用工单位编号",
        en: "employer_id",
        path: "employer_id",
        required: true,
        secret: false,
        example: "emp-hc-001",
        note: ("用工单位编号", "employer id"),
        read: |o, cell| { o.employer_id = cell.text.clone(); Ok(()) },
        write: |o, _| o.employer_id.clone(),
    },
    Column {
        zh: "用工单位",
        en: "employer_name",
        path: "employer_name",
        required: true,
        secret: false,
        example: "鹤城区帮扶车间一号",
        note: ("用工单位名称", "employer name"),
        read: |o, cell| { o.employer_name = cell.text.clone(); Ok(()) },
        write: |o, _| o.employer_name.clone(),
    },
    Column {
        zh: "岗位名称",
        en: "title",
        path: "title",
        required: true,
        secret: false,
        example: "缝纫工",
        note: ("岗位名称", "job title"),
        read: |o, cell| { o.title = cell.text.clone(); Ok(()) },
        write: |o, _| o.title.clone(),
    },
    Column {
        zh: "职业代码",
        en: "occupation_code",
        path: "occupation_code",
        required: false,
        secret: false,
        example: "",
        note: ("职业分类代码（数字和 -），可空", "occupation code (digits and '-'), may be empty"),
        read: |o, cell| { o.occupation_code = (!cell.text.is_empty()).then(|| cell.text.clone()); Ok(()) },
        write: |o, _| o.occupation_code.clone().unwrap_or_default(),
    },
    Column {
        zh: "工作地区",
        en: "region_code",
        path: "region_code",
        required: true,
        secret: false,
        example: "鹤城区",
        note: ("工作地点所在地区：名称（鹤城区、深圳市）或六位代码", "where the work is: a name (鹤城区, Shenzhen) or the six-digit code"),
        read: |o, cell| { o.region_code = c::region(cell)?; Ok(()) },
        write: |o, lang| regions::name(&o.region_code, lang),
    },
    Column {
        zh: "纬度",
        en: "lat",
        path: "location.lat",
        required: true,
        secret: false,
        example: "27.56",
        note: ("工作地点纬度（度）", "workplace latitude, degrees north"),
        read: |o, cell| { o.location.lat = c::decimal(cell)?; Ok(()) },
        write: |o, _| o.location.lat.to_string(),
    },
    Column {
        zh: "经度",
        en: "lon",
        path: "location.lon",
        required: true,
        secret: false,
        example: "109.99",
        note: ("工作地点经度（度）", "workplace longitude, degrees east"),
        read: |o, cell| { o.location.lon = c::decimal(cell)?; Ok(()) },
        write: |o, _| o.location.lon.to_string(),
    },
    Column {
        zh: "必需技能",
        en: "required_skills",
        path: "required_skills",
        required: false,
        secret: false,
        example: "缝纫:2",
        note: ("技能:最低等级，分号隔开", "skill:lowest level, ';'-separated"),
        read: |o, cell| { o.required_skills = requirements(cell)?; Ok(()) },
        write: |o, lang| requirements_text(&o.required_skills, lang),
    },
    Column {
        zh: "优先技能",
        en: "preferred_skills",
        path: "preferred_skills",
        required: false,
        secret: false,
        example: "",
        note: ("写法同必需技能", "as required skills"),
        read: |o, cell| { o.preferred_skills = requirements(cell)?; Ok(()) },
        write: |o, lang| requirements_text(&o.preferred_skills, lang),
    },
    Column {
        zh: "最小年龄",
        en: "min_age",
        path: "min_age",
        required: false,
        secret: false,
        example: "18",
        note: ("16 至 75；年龄都空则为 16-60", "16 to 75; both empty is 16-60"),
        read: |o, cell| { o.min_age = c::number(cell, 0)?; Ok(()) },
        write: |o, _| o.min_age.to_string(),
    },
    Column {
        zh: "最大年龄",
        en: "max_age",
        path: "max_age",
        required: false,
        secret: false,
        example: "55",
        note: ("最小年龄至 75", "min_age to 75"),
        read: |o, cell| { o.max_age = c::number(cell, 0)?; Ok(()) },
        write: |o, _| o.max_age.to_string(),
    },
    Column {
        zh: "体力要求",
        en: "physical_demand",
        path: "physical_demand",
        required: true,
        secret: false,
        example: "轻",
        note: ("轻 / 一般 / 重", "light / normal / heavy"),
        read: |o, cell| { o.physical_demand = c::required_choice(cell, PhysicalDemand::ALL, demand_names)?; Ok(()) },
        write: |o, lang| o.physical_demand.text(lang).to_string(),
    },
    Column {
        zh: "月薪",
        en: "monthly_wage",
        path: "monthly_wage",
        required: true,
        secret: false,
        example: "2800",
        note: ("元/月", "CNY a month"),
        read: |o, cell| { o.monthly_wage = c::number(cell, 0)?; Ok(()) },
        write: |o, _| o.monthly_wage.to_string(),
    },
    Column {
        zh: "招聘人数",
        en: "headcount",
        path: "headcount",
        required: true,
        secret: false,
        example: "30",
        note: ("1 至 100000", "1 to 100000"),
        read: |o, cell| { o.headcount = c::number(cell, 0)?; Ok(()) },
        write: |o, _| o.headcount.to_string(),
    },
    Column {
        zh: "弹性工时",
        en: "flexible_hours",
        path: "flexible_hours",
        required: false,
        secret: false,
        example: "是",
        note: ("是 / 否；空为否", "yes / no; empty is no"),
        read: |o, cell| { o.flexible_hours = c::yes_no(cell)?; Ok(()) },
        write: |o, lang| c::yes_no_text(o.flexible_hours, lang),
    },
    Column {
        zh: "提供住宿",
        en: "housing_provided",
        path: "housing_provided",
        required: false,
        secret: false,
        example: "否",
        note: ("是 / 否；空为否", "yes / no; empty is no"),
        read: |o, cell| { o.housing_provided = c::yes_no(cell)?; Ok(()) },
        write: |o, lang| c::yes_no_text(o.housing_provided, lang),
    },
    Column {
        zh: "提供交通",
        en: "transport_provided",
        path: "transport_provided",
        required: false,
        secret: false,
        example: "否",
        note: ("是 / 否；空为否", "yes / no; empty is no"),
        read: |o, cell| { o.transport_provided = c::yes_no(cell)?; Ok(()) },
        write: |o, lang| c::yes_no_text(o.transport_provided, lang),
    },
    Column {
        zh: "面向搬迁群众",
        en: "reserved_for_relocated",
        path: "reserved_for_relocated",
        required: false,
        secret: false,
        example: "是",
        note: ("是 / 否：是否专门面向搬迁群众；空为否", "yes / no: reserved for relocated workers; empty is no"),
        read: |o, cell| { o.reserved_for_relocated = c::yes_no(cell)?; Ok(()) },
        write: |o, lang| c::yes_no_text(o.reserved_for_relocated, lang),
    },
    Column {
        zh: "开始日期",
        en: "start_date",
        path: "start_date",
        required: true,
        secret: false,
        example: "2026-03-01",
        note: ("上岗日期，如 2026-03-01 或 2026/3/1", "first day of work, e.g. 2026-03-01"),
        read: |o, cell| { o.start_date = date(cell)?; Ok(()) },
        write: |o, _| o.start_date.to_string(),
    },
    Column {
        zh: "结束日期",
        en: "end_date",
        path: "end_date",
        required: false,
        secret: false,
        example: "",
        note: ("临时岗位的最后一天，可空", "last day, for temporary jobs; may be empty"),
        read: |o, cell| { o.end_date = if cell.text.is_empty() { None } else { Some(date(cell)?) }; Ok(()) },
        write: |o, _| o.end_date.map_or(String::new(), |d| d.to_string()),
    },
    Column {
        zh: "状态",
        en: "status",
        path: "status",
        required: false,
        secret: false,
        example: "招聘中",
        note: ("招聘中 / 已关闭；空为招聘中", "open / closed; empty is open"),
        read: |o, cell| { o.status = c::choice(cell, OpeningStatus::ALL, status_names)?.unwrap_or(OpeningStatus::Open); Ok(()) },
        write: |o, lang| o.status.text(lang).to_string(),
    },
];
