//! The policy lists against a plain count over the same records.

use super::*;
use crate::domain::placement::china_today;
use crate::domain::IdKey;
use crate::store::{Action, PutMode};

fn store_with_demo(dir: &std::path::Path) -> (Store, crate::demo::DemoData) {
    let store = Store::open(dir).unwrap();
    let key = IdKey::from_hex(&"ef".repeat(32)).unwrap();
    let year = current_year();
    let data = crate::demo::generate(0.01, 11, year, chrono::Utc::now().date_naive());
    crate::demo::load(&store, &key, &data, year).unwrap();
    (store, data)
}

fn hire(store: &Store, worker: &str, opening: &str) {
    let p = store
        .propose(&crate::testing::proposal(worker, opening), "test")
        .unwrap()
        .placement;
    store
        .placement_step(&p.id, &Action::Accept, "test")
        .unwrap();
    store
        .placement_step(&p.id, &Action::Hire { day: china_today() }, "test")
        .unwrap();
}

#[test]
fn the_lists_follow_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let (store, data) = store_with_demo(dir.path());
    let seeking: Vec<&Worker> = data
        .workers
        .iter()
        .filter(|w| w.employment_status == EmploymentStatus::Seeking)
        .collect();
    let welfare = data
        .openings
        .iter()
        .find(|o| o.source == Source::PublicWelfare && o.headcount >= 1)
        .unwrap();
    let shop = data
        .openings
        .iter()
        .find(|o| o.source == Source::AidWorkshop && o.headcount >= 2)
        .unwrap();
    // One welfare hire today by a worker of 40, one by a worker made 62.
    let young = seeking[0];
    hire(&store, &young.id, &welfare.id);
    let mut old = seeking[1].clone();
    old.birth_year = (current_year() - 62) as u32;
    store.put_worker(old.clone(), PutMode::Upsert).unwrap();
    let mut more = welfare.clone();
    more.id = "o-welfare-2".into();
    store.put_opening(more.clone(), PutMode::Create).unwrap();
    hire(&store, &old.id, &more.id);
    hire(&store, &seeking[2].id, &shop.id);

    let rules = PolicyConfig {
        welfare_tenure_notice_days: 5000,
        ..PolicyConfig::default()
    };
    let later = chrono::Utc::now().timestamp_millis() + 100 * DAY_MS;
    let lists = policy_lists(&store, &rules, None, later, Lang::En).unwrap();

    // Both welfare hires are within the (wide) notice; the older worker is
    // not eligible, by age.
    assert_eq!(lists.welfare_posts.len(), 2);
    for w in &lists.welfare_posts {
        assert_eq!(w.tenure_end_day, Some(rules.tenure_end(china_today())));
        assert!(w.groups.contains(&"relocated"));
        assert_eq!(
            w.ineligible_reason.is_some(),
            w.worker_id == old.id,
            "{w:?}"
        );
    }
    // Default notice: a fresh hire is three years away, not listed, and
    // the eligible one not at all.
    let default = policy_lists(&store, &PolicyConfig::default(), None, later, Lang::Zh).unwrap();
    assert_eq!(default.welfare_posts.len(), 1);
    assert!(default.welfare_posts[0]
        .ineligible_reason
        .as_ref()
        .unwrap()
        .contains("岁"));

    // Workshops: one hire in one employer's shop, below 5.
    let employers: std::collections::HashSet<&str> = data
        .openings
        .iter()
        .filter(|o| o.source == Source::AidWorkshop)
        .map(|o| o.employer_id.as_str())
        .collect();
    assert_eq!(lists.workshops.len(), employers.len());
    let hired: u32 = lists.workshops.iter().map(|w| w.relocated_hired).sum();
    assert_eq!(hired, 1);
    assert!(lists.workshops.iter().all(|w| w.below_minimum));

    // Households: a plain count of those with labour and nobody employed
    // (everyone registered just now, so all have waited 100 days).
    let mut houses: BTreeMap<String, (bool, bool)> = BTreeMap::new();
    for w in store.workers() {
        let w = w.unwrap();
        let h = houses.entry(w.household_id.clone()).or_default();
        match w.employment_status {
            EmploymentStatus::Employed => h.1 = true,
            EmploymentStatus::Seeking | EmploymentStatus::Placed => h.0 = true,
            EmploymentStatus::Unavailable => {}
        }
    }
    let zero = houses
        .values()
        .filter(|(labour, employed)| *labour && !employed)
        .count();
    assert_eq!(lists.waiting_households.len(), zero);
    assert!(lists
        .waiting_households
        .iter()
        .all(|h| h.days_waiting >= 99));
    let none = policy_lists(
        &store,
        &rules,
        None,
        chrono::Utc::now().timestamp_millis(),
        Lang::En,
    )
    .unwrap();
    assert!(none.waiting_households.is_empty());

    // Recommendations: every seeking worker had at most one proposal.
    let still_seeking = store
        .workers()
        .filter(|w| w.as_ref().unwrap().employment_status == EmploymentStatus::Seeking)
        .count();
    assert_eq!(lists.short_of_recommendations.len(), still_seeking);

    // One county only.
    let county = &young.county_code;
    let one = policy_lists(&store, &rules, Some(county), later, Lang::En).unwrap();
    assert!(one
        .short_of_recommendations
        .iter()
        .all(|s| &s.county_code == county));
    assert!(one
        .waiting_households
        .iter()
        .all(|h| &h.county_code == county));
}
