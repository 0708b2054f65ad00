//! The openings' ledger (岗位台账): one column per field of the API's
//! `Opening` that a client sets.

use chrono::NaiveDate;

use crate::domain::{
    GeoPoint, Lang, Opening, OpeningStatus, PhysicalDemand, Reason, SkillRequirement, Source,
    Validated,
};

use super::columns::{self as c, Column};
use super::fields::{
    field, one_of, Codec, Vocabulary, COUNT, DECIMAL, OPTIONAL_TEXT, REGION, TEXT, YES_NO,
};
use super::import::Record;
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

impl Record for Opening {
    const NAME: &'static str = "opening";
    fn columns() -> &'static [Column<Self>] {
        COLUMNS
    }
    fn blank() -> Self {
        blank()
    }
    /// After the cells: no ages given means the API's default range.
    fn finish(&mut self) {
        if (self.min_age, self.max_age) == (0, 0) {
            (self.min_age, self.max_age) = crate::domain::DEFAULT_AGE_RANGE;
        }
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn stored_id(&self) -> String {
        self.id.clone()
    }
    fn validate(&self) -> Validated<()> {
        Opening::validate(self)
    }
}

impl Vocabulary for PhysicalDemand {
    const ALL: &'static [Self] = PhysicalDemand::ALL;
    fn text_in(self, lang: Lang) -> &'static str {
        self.text(lang)
    }
    fn names(self) -> Vec<&'static str> {
        let mut v = vec![self.text(Lang::Zh), self.text(Lang::En), self.label()];
        v.extend(match self {
            PhysicalDemand::Light => ["轻", "轻活"],
            PhysicalDemand::Normal => ["中", "普通"],
            PhysicalDemand::Heavy => ["重", "重活"],
        });
        v
    }
}

impl Vocabulary for OpeningStatus {
    const ALL: &'static [Self] = OpeningStatus::ALL;
    const EMPTY: Option<Self> = Some(OpeningStatus::Open);
    fn text_in(self, lang: Lang) -> &'static str {
        self.text(lang)
    }
    fn names(self) -> Vec<&'static str> {
        let mut v = vec![self.text(Lang::Zh), self.text(Lang::En), self.label()];
        v.push(match self {
            OpeningStatus::Open => "开放",
            OpeningStatus::Closed => "关闭",
        });
        v
    }
}

/// Skills with their lowest levels, as "缝纫:2".
const REQUIREMENTS: Codec<Vec<SkillRequirement>> = Codec {
    read: |cell| {
        Ok(c::skills(cell)?
            .into_iter()
            .map(|(code, min_level)| SkillRequirement { code, min_level })
            .collect())
    },
    write: |v, lang| c::skills_text(v.iter().map(|s| (s.code.clone(), s.min_level)), lang),
};

/// A date in any form [`c::date`] reads; empty is refused.
const DATE: Codec<NaiveDate> = Codec {
    read: date,
    write: |d, _| d.to_string(),
};

/// A date that may be left out.
const OPTIONAL_DATE: Codec<Option<NaiveDate>> = Codec {
    read: |cell| {
        if cell.text.is_empty() {
            return Ok(None);
        }
        date(cell).map(Some)
    },
    write: |d, _| d.map_or(String::new(), |d| d.to_string()),
};

fn date(cell: &Cell) -> Result<NaiveDate, Reason> {
    if cell.text.is_empty() {
        return Err(Reason::required());
    }
    crate::domain::rules::parse_date(&c::date(cell))
}

/// A column of the openings' ledger.
type Col = Column<Opening>;

/// Every column of the openings' ledger, in template order.
pub static COLUMNS: &[Column<Opening>] = &[
    Col::required("岗位编号", "id", field!(id, TEXT))
        .example("op-431202-aw-001")
        .note("岗位编号：字母、数字和 . _ : -，重复导入按编号更新", "opening id: letters, digits and . _ : -; a re-import updates by id"),
    Col::required("岗位类型", "source", field!(source, one_of::<Source>()))
        .example("帮扶车间")
        .note("帮扶车间 / 公益岗位 / 劳务协作 / 以工代赈 / 后扶产业园区 / 合作社", "aid workshop / public-welfare post / labour cooperation / work relief / industrial park / enterprise"),
    Col::required("用工单位编号", "employer_id", field!(employer_id, TEXT))
        .example("emp-hc-001")
        .note("用工单位编号", "employer id"),
    Col::required("用工单位", "employer_name", field!(employer_name, TEXT))
        .example("鹤城区帮扶车间一号")
        .note("用工单位名称", "employer name"),
    Col::required("岗位名称", "title", field!(title, TEXT))
        .example("缝纫工")
        .note("岗位名称", "job title"),
    Col::optional("职业代码", "occupation_code", field!(occupation_code, OPTIONAL_TEXT))
        .note("职业分类代码（数字和 -），可空", "occupation code (digits and '-'), may be empty"),
    Col::required("工作地区", "region_code", field!(region_code, REGION))
        .example("鹤城区")
        .note("工作地点所在地区：名称（鹤城区、深圳市）或六位代码", "where the work is: a name (鹤城区, Shenzhen) or the six-digit code"),
    Col::required("纬度", "lat", field!(location.lat, DECIMAL))
        .example("27.56")
        .note("工作地点纬度（度）", "workplace latitude, degrees north"),
    Col::required("经度", "lon", field!(location.lon, DECIMAL))
        .example("109.99")
        .note("工作地点经度（度）", "workplace longitude, degrees east"),
    Col::optional("必需技能", "required_skills", field!(required_skills, REQUIREMENTS))
        .example("缝纫:2")
        .note("技能:最低等级，分号隔开", "skill:lowest level, ';'-separated"),
    Col::optional("优先技能", "preferred_skills", field!(preferred_skills, REQUIREMENTS))
        .note("写法同必需技能", "as required skills"),
    Col::optional("最小年龄", "min_age", field!(min_age, COUNT))
        .example("18")
        .note("16 至 75；年龄都空则为 16-60", "16 to 75; both empty is 16-60"),
    Col::optional("最大年龄", "max_age", field!(max_age, COUNT))
        .example("55")
        .note("最小年龄至 75", "min_age to 75"),
    Col::required("体力要求", "physical_demand", field!(physical_demand, one_of::<PhysicalDemand>()))
        .example("轻")
        .note("轻 / 一般 / 重", "light / normal / heavy"),
    Col::required("月薪", "monthly_wage", field!(monthly_wage, COUNT))
        .example("2800")
        .note("元/月", "CNY a month"),
    Col::required("招聘人数", "headcount", field!(headcount, COUNT))
        .example("30")
        .note("1 至 100000", "1 to 100000"),
    Col::optional("弹性工时", "flexible_hours", field!(flexible_hours, YES_NO))
        .example("是")
        .note("是 / 否；空为否", "yes / no; empty is no"),
    Col::optional("提供住宿", "housing_provided", field!(housing_provided, YES_NO))
        .example("否")
        .note("是 / 否；空为否", "yes / no; empty is no"),
    Col::optional("提供交通", "transport_provided", field!(transport_provided, YES_NO))
        .example("否")
        .note("是 / 否；空为否", "yes / no; empty is no"),
    Col::optional("面向搬迁群众", "reserved_for_relocated", field!(reserved_for_relocated, YES_NO))
        .example("是")
        .note("是 / 否：是否专门面向搬迁群众；空为否", "yes / no: reserved for relocated workers; empty is no"),
    Col::required("开始日期", "start_date", field!(start_date, DATE))
        .example("2026-03-01")
        .note("上岗日期，如 2026-03-01 或 2026/3/1", "first day of work, e.g. 2026-03-01"),
    Col::optional("结束日期", "end_date", field!(end_date, OPTIONAL_DATE))
        .note("临时岗位的最后一天，可空", "last day, for temporary jobs; may be empty"),
    Col::optional("状态", "status", field!(status, one_of::<OpeningStatus>()))
        .example("招聘中")
        .note("招聘中 / 已关闭；空为招聘中", "open / closed; empty is open"),
];
