//! The workers' ledger (劳动力台账): one column per field of the API's
//! `Worker` that a client sets. Empty optional cells mean "not given";
//! the defaults below are the ones a county ledger most often leaves out.

use crate::domain::{
    current_year, scoped, Education, EmploymentStatus, Gender, GeoPoint, LabourCapacity, Lang,
    Mobility, Preferences, Reason, Skill, Source, Validated, Worker,
};

use super::columns::{self as c, Column};
use super::fields::{
    count_or, field, maybe_one_of, one_of, Codec, Field, Vocabulary, COUNT, DECIMAL, OPTIONAL_TEXT,
    REGION, TEXT, YES_NO,
};
use super::import::Record;
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

impl Record for Worker {
    const NAME: &'static str = "worker";
    fn columns() -> &'static [Column<Self>] {
        COLUMNS
    }
    fn blank() -> Self {
        blank()
    }
    /// After the cells: a missing birth year is read from the id number
    /// (digits 7-10), as every ledger could.
    fn finish(&mut self) {
        if self.birth_year == 0 {
            if let Some(year) = self.national_id.get(6..10).and_then(|y| y.parse().ok()) {
                self.birth_year = year;
            }
        }
    }
    fn id(&self) -> &str {
        &self.id
    }
    fn stored_id(&self) -> String {
        scoped::qualified(&self.id, &self.county_code)
    }
    fn validate(&self) -> Validated<()> {
        Worker::validate(self, current_year())
    }
}

impl Vocabulary for Gender {
    const ALL: &'static [Self] = Gender::ALL;
    fn text_in(self, lang: Lang) -> &'static str {
        self.text(lang)
    }
    fn names(self) -> Vec<&'static str> {
        let mut v = vec![self.text(Lang::Zh), self.text(Lang::En), self.label()];
        v.push(match self {
            Gender::Female => "女性",
            Gender::Male => "男性",
        });
        v
    }
}

impl Vocabulary for LabourCapacity {
    const ALL: &'static [Self] = LabourCapacity::ALL;
    fn text_in(self, lang: Lang) -> &'static str {
        self.text(lang)
    }
    fn names(self) -> Vec<&'static str> {
        let mut v = vec![self.text(Lang::Zh), self.text(Lang::En), self.label()];
        v.extend(match self {
            LabourCapacity::Full => ["全", "全劳力"],
            LabourCapacity::Partial => ["半", "弱劳动力"],
        });
        v
    }
}

impl Vocabulary for Education {
    const ALL: &'static [Self] = Education::ALL;
    fn text_in(self, lang: Lang) -> &'static str {
        self.text(lang)
    }
    fn names(self) -> Vec<&'static str> {
        let mut v = vec![self.text(Lang::Zh), self.text(Lang::En), self.label()];
        v.extend(match self {
            Education::None => &["无", "文盲"][..],
            Education::Primary => &[][..],
            Education::JuniorSecondary => &["初中及以下"][..],
            Education::SeniorSecondary => &["普高"][..],
            Education::Vocational => &["中专", "职高", "技校"][..],
            Education::Tertiary => &["大专", "本科", "大学"][..],
        });
        v
    }
}

impl Vocabulary for Mobility {
    const ALL: &'static [Self] = Mobility::ALL;
    const EMPTY: Option<Self> = Some(Mobility::NearHome);
    fn text_in(self, lang: Lang) -> &'static str {
        self.text(lang)
    }
    fn names(self) -> Vec<&'static str> {
        let mut v = vec![self.text(Lang::Zh), self.text(Lang::En), self.label()];
        v.extend(match self {
            Mobility::NearHome => ["就近", "本地"],
            Mobility::WillingToMigrate => ["外出", "愿意外出"],
        });
        v
    }
}

impl Vocabulary for EmploymentStatus {
    const ALL: &'static [Self] = EmploymentStatus::ALL;
    const EMPTY: Option<Self> = Some(EmploymentStatus::Seeking);
    fn text_in(self, lang: Lang) -> &'static str {
        self.text(lang)
    }
    fn names(self) -> Vec<&'static str> {
        let mut v = vec![self.text(Lang::Zh), self.text(Lang::En), self.label()];
        v.extend(match self {
            EmploymentStatus::Seeking => &["求职", "未就业", "待就业"][..],
            EmploymentStatus::Employed => &["就业", "在岗"][..],
            EmploymentStatus::Unavailable => &["无就业意愿"][..],
            EmploymentStatus::Placed => &["待上岗"][..],
        });
        v
    }
}

impl Vocabulary for Source {
    const ALL: &'static [Self] = Source::ALL;
    fn text_in(self, lang: Lang) -> &'static str {
        self.text(lang)
    }
    fn names(self) -> Vec<&'static str> {
        let mut v = vec![self.text(Lang::Zh), self.text(Lang::En), self.label()];
        v.extend(match self {
            Source::AidWorkshop => &["就业帮扶车间"][..],
            Source::PublicWelfare => &["公益性岗位"][..],
            Source::LabourCooperation => &[][..],
            Source::WorkRelief => &[][..],
            Source::IndustrialPark => &["产业园区", "产业基地"][..],
            Source::Enterprise => &["合作社", "龙头企业", "企业"][..],
        });
        v
    }
}

/// Sources as "帮扶车间;公益岗位".
pub(super) const SOURCES: Codec<Vec<Source>> = Codec {
    read: |cell| {
        c::items(cell)
            .into_iter()
            .map(|item| (one_of::<Source>().read)(&Cell::text(item)))
            .collect()
    },
    write: |v, lang| v.iter().map(|s| s.text(lang)).collect::<Vec<_>>().join(";"),
};

/// Skills as "缝纫:3;电工:2".
const SKILLS: Codec<Vec<Skill>> = Codec {
    read: |cell| {
        Ok(c::skills(cell)?
            .into_iter()
            .map(|(code, level)| Skill { code, level })
            .collect())
    },
    write: |v, lang| c::skills_text(v.iter().map(|s| (s.code.clone(), s.level)), lang),
};

/// The national id number: text, never a number (Excel keeps 15 digits).
/// Never written (only its keyed hash is stored).
const NATIONAL_ID: Field<Worker> = Field {
    path: "national_id",
    read: national_id,
    write: |_, _| String::new(),
};

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

/// A column of the workers' ledger.
type Col = Column<Worker>;

/// Every column of the workers' ledger, in template order.
pub static COLUMNS: &[Column<Worker>] = &[
    // The county's own number; the whole id for a worker who moved here
    // from another county.
    Col::required("编号", "id", Field {
        write: |w, _| scoped::ledger_number(&w.id, &w.county_code).to_string(),
        ..field!(id, TEXT)
    })
        .example("w-0000001")
        .note("本县区给每人的编号：字母、数字和 . _ : -；编号只在本县区内唯一，别的县区可以有同样的编号；重复导入按编号更新", "your county's number for the person: letters, digits and . _ : -; it is unique within the county (another county may use the same numbers); a re-import updates by it"),
    Col::required("户编号", "household_id", Field {
        write: |w, _| scoped::ledger_number(&w.household_id, &w.county_code).to_string(),
        ..field!(household_id, TEXT)
    })
        .example("hh-000001")
        .note("搬迁户编号，同户成员相同；一户的成员都在同一县区", "household number, the same for every member; a household's members all live in one county"),
    Col::required("姓名", "name", field!(name, TEXT))
        .example("向春梅")
        .note("1 至 64 个字", "1 to 64 characters"),
    Col::required("身份证号", "national_id", NATIONAL_ID)
        .secret()
        .example("431202198506123018")
        .note("18 位居民身份证号（列设为文本格式）；只保存其加密散列，导出时不含", "18-character id number (a text column); only a keyed hash is stored, and exports leave it out"),
    Col::optional("性别", "gender", field!(gender, maybe_one_of::<Gender>()))
        .example("女")
        .note("男 / 女，可空", "male / female (男/女), may be empty"),
    Col::optional("出生年份", "birth_year", field!(birth_year, COUNT))
        .example("1985")
        .note("四位年份；空则取身份证号第 7-10 位", "four-digit year; if empty, digits 7-10 of the id number"),
    Col::optional("手机号", "phone", field!(phone, OPTIONAL_TEXT))
        .example("13912345678")
        .note("11 位手机号，可空", "11-digit mobile number, may be empty"),
    Col::required("县区", "county_code", field!(county_code, REGION))
        .example("鹤城区")
        .note("安置点所在县区：名称（鹤城区）或六位代码（431202）", "county of the site: a name (鹤城区, Hecheng District) or the six-digit code"),
    Col::required("安置点编号", "site_id", field!(site_id, TEXT))
        .example("site-431202-001")
        .note("安置点编号", "resettlement site id"),
    Col::required("安置点纬度", "lat", field!(site_location.lat, DECIMAL))
        .example("27.55")
        .note("安置点纬度（度）", "site latitude, degrees north"),
    Col::required("安置点经度", "lon", field!(site_location.lon, DECIMAL))
        .example("109.98")
        .note("安置点经度（度）", "site longitude, degrees east"),
    Col::required("劳动能力", "labour_capacity", field!(labour_capacity, one_of::<LabourCapacity>()))
        .example("全")
        .note("全 / 半（全劳动力 / 半劳动力、弱劳动力）", "full / partial (全/半)"),
    Col::optional("技能", "skills", field!(skills, SKILLS))
        .example("缝纫:3;电工:2")
        .note("技能:等级(1-5)，多项用分号隔开；技能名如 缝纫、家政、电工，或代码 sewing", "skill:level (1-5), separated by ';'; a name such as 缝纫 or a code such as sewing"),
    Col::optional("培训证书", "certificates", field!(certificates, SKILLS))
        .example("养老护理:2")
        .note("写法同技能", "as skills"),
    Col::optional("文化程度", "education", field!(education, maybe_one_of::<Education>()))
        .example("初中")
        .note("未上学 / 小学 / 初中 / 高中 / 中专 / 大专及以上，可空", "none / primary / junior secondary / senior secondary / vocational / tertiary, may be empty"),
    Col::optional("就业意向", "mobility", field!(preferences.mobility, one_of::<Mobility>()))
        .example("就近就业")
        .note("就近就业 / 外出务工；空为就近就业", "near home / willing to migrate; empty is near home"),
    Col::optional("最远通勤公里", "max_commute_km", field!(preferences.max_commute_km, count_or::<DEFAULT_COMMUTE_KM>()))
        .example("30")
        .note("1 至 1000；空为 30", "1 to 1000; empty is 30"),
    Col::optional("期望月薪", "expected_monthly_wage", field!(preferences.expected_monthly_wage, COUNT))
        .example("2500")
        .note("元/月；空为不限", "CNY a month; empty for none"),
    Col::optional("意向岗位类型", "preferred_sources", field!(preferences.preferred_sources, SOURCES))
        .example("帮扶车间;公益岗位")
        .note("帮扶车间 / 公益岗位 / 劳务协作 / 以工代赈 / 后扶产业园区 / 合作社，分号隔开", "aid workshop / public-welfare post / labour cooperation / work relief / industrial park / enterprise, ';'-separated"),
    Col::optional("只要意向类型", "strict_sources", field!(preferences.strict_sources, YES_NO))
        .example("否")
        .note("是 / 否；空为否", "yes / no; empty is no"),
    Col::optional("需要弹性工时", "needs_flexible_hours", field!(preferences.needs_flexible_hours, YES_NO))
        .example("是")
        .note("是 / 否（如需照顾家人）；空为否", "yes / no (e.g. a carer); empty is no"),
    Col::optional("就业状态", "employment_status", field!(employment_status, one_of::<EmploymentStatus>()))
        .example("求职中")
        .note("求职中 / 已就业 / 暂不就业；空为求职中（“已录用待上岗”只由安置流程设置）", "seeking / employed / unavailable; empty is seeking (placed is set by placements only)"),
    Col::optional("服务公司编号", "service_company_id", field!(service_company_id, OPTIONAL_TEXT))
        .example("sc-431202")
        .note("登记的就业服务公司编号，可空", "registering employment-service company id, may be empty"),
    Col::optional("同意共享联系方式", "consent_to_share", field!(consent_to_share, YES_NO))
        .example("是")
        .note("是 / 否：是否同意向招聘方提供姓名和电话；空为否", "yes / no: agreed to share name and phone with recruiters; empty is no"),
];
