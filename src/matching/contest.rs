//! Contested openings: the prices the last exact run put on openings'
//! last slots (`assign::prices`), kept in the match index so that live
//! recommendations can rank by net value, score minus price.
//!
//! A price is the run's: it says how much one more slot of the opening
//! would have added to the night's optimum. It holds until the next run
//! replaces the whole book, with one change during the day: an opening
//! that has more free slots than the run saw (resized up, or a placement
//! ended) is no longer priced, since the slot the price was for is there
//! now. As slots fill, the opening keeps its price, and once full it is
//! not recommended at all.

use std::collections::HashMap;

use crate::domain::run::OpeningPrice;
use crate::domain::Lang;

/// The price of an opening's last slot, as a recommendation shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Contest {
    /// Zero-employment households one more slot would get into work (0 or
    /// 1).
    pub households: u32,
    /// Score one more slot would add, micro-points.
    pub points_micro: i64,
    /// The run's household weight in micro-points.
    pub household_weight: i64,
    /// The run that set the price.
    pub run_id: u64,
}

impl Contest {
    /// The price in score micro-points, households weighed as the run
    /// weighed them.
    pub fn combined(&self) -> i64 {
        i64::from(self.households) * self.household_weight + self.points_micro
    }

    /// Why the opening ranks lower than its score, for a person: the
    /// price in points (score units) and, when one more slot would get a
    /// household with nobody in work into a job, that.
    pub fn reason(&self, score_micro: u32, lang: Lang) -> String {
        let points = |micro: i64| format!("{:.3}", micro as f64 / 1e6);
        let price = points(self.points_micro);
        let net = points(i64::from(score_micro) - self.points_micro);
        match (lang, self.households > 0) {
            (Lang::Zh, false) => format!(
                "高竞争岗位：合适的人多于空缺，多一个名额可使最优方案多得 {price} 分，\
                 故按得分减价格排序（净得分 {net}）"
            ),
            (Lang::Zh, true) => format!(
                "高竞争岗位：最后一个名额最好留给一户无人就业的家庭（价格为一户家庭加 {price} 分），\
                 排在不紧张的岗位之后"
            ),
            (Lang::En, false) => format!(
                "highly contested: more people suit it than it has slots; one more slot \
                 would add {price} points to the best plan, so it ranks by score minus \
                 price (net {net})"
            ),
            (Lang::En, true) => format!(
                "highly contested: its last slot is best kept for a household with nobody \
                 in work (price: one household and {price} points), so it ranks after \
                 openings that are not contested"
            ),
        }
    }
}

/// The last exact run's prices, by opening id.
#[derive(Debug, Clone, Default)]
pub(crate) struct PriceBook {
    /// The run whose prices these are (0 for none).
    run_id: u64,
    by_opening: HashMap<Box<str>, (Contest, u32)>,
}

impl PriceBook {
    /// The book of run `run_id`.
    pub fn new(run_id: u64, prices: &[OpeningPrice]) -> Self {
        Self {
            run_id,
            by_opening: prices
                .iter()
                .map(|p| {
                    let contest = Contest {
                        households: p.households,
                        points_micro: p.points_micro,
                        household_weight: p.household_weight,
                        run_id,
                    };
                    (p.opening_id.as_str().into(), (contest, p.free_slots))
                })
                .collect(),
        }
    }

    /// The run whose prices these are, if any.
    pub fn run_id(&self) -> Option<u64> {
        (self.run_id != 0).then_some(self.run_id)
    }

    /// Whether any opening is priced.
    pub fn is_empty(&self) -> bool {
        self.by_opening.is_empty()
    }

    /// The price of the opening with `free_slots` free now, if it has one.
    #[inline]
    pub fn get(&self, opening_id: &str, free_slots: u32) -> Option<Contest> {
        let (contest, free_at_run) = self.by_opening.get(opening_id)?;
        (free_slots <= *free_at_run).then_some(*contest)
    }
}
