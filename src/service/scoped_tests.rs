//! Ids scoped to counties, against a plain model. Two county companies
//! that number their ledgers alike (w-1, hh-1, ...) import at once, in
//! batches, with some rows that try to reach into the other county: no
//! household ever spans counties, neither company can read, change or
//! learn about the other's records, every row does what a model of each
//! county's register says (new, changed, unchanged, or a refused move),
//! and the coverage figures equal a recount of the records.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;

use super::{ImportOptions, RowChange, Service, ServiceError};
use crate::batch::BatchSettings;
use crate::domain::{scoped, EmploymentStatus, Worker};
use crate::report::{coverage, CoverageFilter};
use crate::store::{Store, WorkerFilter};
use crate::testing::{self, admin, company};

const A: &str = "431224";
const B: &str = "431225";

fn open(dir: &std::path::Path) -> Arc<Service> {
    testing::service_with(dir, 0xab, None, BatchSettings::default())
}

fn template() -> Worker {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    crate::demo::generate(0.02, 3, 2026, today)
        .workers
        .remove(0)
}

const STATUSES: [EmploymentStatus; 3] = [
    EmploymentStatus::Seeking,
    EmploymentStatus::Employed,
    EmploymentStatus::Unavailable,
];

/// One ledger row as a county company writes it: its own numbers.
#[derive(Debug, Clone)]
struct Line {
    number: u32,
    household: u32,
    status: usize,
    /// Names the household with the other county's code.
    foreign_household: bool,
    /// Sends the id whole, with the other county's code.
    foreign_id: bool,
}

fn line() -> impl Strategy<Value = Line> {
    (
        1..25u32,
        1..8u32,
        0..3usize,
        prop::bool::weighted(0.08),
        prop::bool::weighted(0.08),
    )
        .prop_map(
            |(number, household, status, foreign_household, foreign_id)| Line {
                number,
                household,
                status,
                foreign_household,
                foreign_id,
            },
        )
}

fn row(base: &Worker, county: &str, other: &str, l: &Line) -> Worker {
    let mut w = base.clone();
    w.id = if l.foreign_id {
        scoped::qualify(other, &format!("w-{}", l.number))
    } else {
        format!("w-{}", l.number)
    };
    w.household_id = if l.foreign_household {
        scoped::qualify(other, &format!("hh-{}", l.household))
    } else {
        format!("hh-{}", l.household)
    };
    w.county_code = county.to_string();
    // One person per county and number.
    w.national_id = format!("{county}1980{:08}", l.number);
    w.employment_status = STATUSES[l.status];
    w.placement = Default::default();
    w
}

/// A county's register as the model keeps it: number -> (household,
/// status).
type Register = BTreeMap<u32, (u32, usize)>;

/// What the model says a row does to `register`.
fn model(register: &mut Register, l: &Line) -> Result<RowChange, &'static str> {
    if l.foreign_household {
        return Err("worker.household_id");
    }
    if l.foreign_id {
        return Err("worker.id");
    }
    match register.get(&l.number).copied() {
        None => {
            register.insert(l.number, (l.household, l.status));
            Ok(RowChange::Created)
        }
        Some((h, _)) if h != l.household => Err("worker.household_id"),
        Some((_, s)) if s == l.status => Ok(RowChange::Unchanged),
        Some(_) => {
            register.insert(l.number, (l.household, l.status));
            Ok(RowChange::Updated(vec!["employment_status"]))
        }
    }
}

/// Imports `lines` for `county` in batches of 7; the outcome of each row.
fn import(
    service: &Service,
    base: &Worker,
    county: &str,
    other: &str,
    lines: &[Line],
) -> Vec<Result<RowChange, String>> {
    let caller = company(county);
    let mut out = Vec::new();
    for chunk in lines.chunks(7) {
        let batch = chunk.iter().map(|l| row(base, county, other, l)).collect();
        let results = service
            .import_workers(&caller, batch, ImportOptions::default())
            .unwrap();
        out.extend(results.into_iter().map(|r| {
            r.map_err(|e| match e {
                ServiceError::Invalid(v) => v.field,
                other => format!("{other:?}"),
            })
        }));
    }
    out
}

fn all_workers(store: &Store) -> Vec<Worker> {
    store
        .list_workers(&WorkerFilter::default(), None, usize::MAX)
        .unwrap()
        .items
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn two_companies_numbering_alike_stay_apart(
        a in prop::collection::vec(line(), 1..40),
        b in prop::collection::vec(line(), 1..40),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let service = open(dir.path());
        let base = template();
        // Both companies at once.
        let (got_a, got_b) = std::thread::scope(|s| {
            let ta = s.spawn(|| import(&service, &base, A, B, &a));
            let tb = s.spawn(|| import(&service, &base, B, A, &b));
            (ta.join().unwrap(), tb.join().unwrap())
        });
        let (mut reg_a, mut reg_b) = (Register::new(), Register::new());
        for (got, lines, reg) in [(&got_a, &a, &mut reg_a), (&got_b, &b, &mut reg_b)] {
            for (i, (g, l)) in got.iter().zip(lines.iter()).enumerate() {
                let want = model(reg, l).map_err(str::to_string);
                prop_assert_eq!(g, &want, "row {} {:?}", i + 1, l);
            }
        }

        // The records are exactly the two registers, each in its county.
        let store = service.store();
        let stored = all_workers(store);
        let mut expected = BTreeSet::new();
        for (county, reg) in [(A, &reg_a), (B, &reg_b)] {
            for (n, (h, s)) in reg {
                expected.insert((
                    scoped::qualify(county, &format!("w-{n}")),
                    scoped::qualify(county, &format!("hh-{h}")),
                    STATUSES[*s],
                ));
            }
        }
        let actual: BTreeSet<_> = stored
            .iter()
            .map(|w| (w.id.clone(), w.household_id.clone(), w.employment_status))
            .collect();
        prop_assert_eq!(&actual, &expected);
        // No household spans counties.
        let mut county_of: BTreeMap<&str, &str> = BTreeMap::new();
        for w in &stored {
            prop_assert_eq!(scoped::county(&w.household_id), Some(w.county_code.as_str()));
            let c = county_of.entry(&w.household_id).or_insert(&w.county_code);
            prop_assert_eq!(*c, w.county_code.as_str());
        }

        // Each company reads its own numbers, and learns nothing of the
        // other's: asking for the other's record by whole id is answered
        // exactly as asking for an id that no county has.
        for (me, other, reg) in [(A, B, &reg_a), (B, A, &reg_b)] {
            let caller = company(me);
            for n in 1..25u32 {
                let number = format!("w-{n}");
                match service.find_worker_now(&caller, &number) {
                    Ok(w) => {
                        prop_assert!(reg.contains_key(&n));
                        prop_assert_eq!(w.county_code.as_str(), me);
                    }
                    Err(ServiceError::NotFound(_)) => prop_assert!(!reg.contains_key(&n)),
                    Err(e) => prop_assert!(false, "{e:?}"),
                }
                let theirs = scoped::qualify(other, &number);
                let nobody = scoped::qualify(other, "w-999");
                let refusal = |id: &str| match service.find_worker_now(&caller, id) {
                    Err(ServiceError::NotFound(m)) => m.replace(id, "ID"),
                    other => format!("{other:?}"),
                };
                prop_assert_eq!(refusal(&theirs), refusal(&nobody));
            }
            for h in 1..8u32 {
                let theirs = scoped::qualify(other, &format!("hh-{h}"));
                let household = service.find_household_now(&caller, &theirs);
                prop_assert!(matches!(household, Err(ServiceError::NotFound(_))));
            }
        }

        // Coverage equals a recount from the records.
        let mut households: BTreeMap<&str, (bool, bool)> = BTreeMap::new();
        for w in &stored {
            let h = households.entry(&w.household_id).or_default();
            h.0 |= w.employment_status != EmploymentStatus::Unavailable;
            h.1 |= w.employment_status == EmploymentStatus::Employed;
        }
        let labour = households.values().filter(|h| h.0).count() as u64;
        let zero = households.values().filter(|h| h.0 && !h.1).count() as u64;
        let report = coverage(store, &CoverageFilter::parse("", "", None, "", "").unwrap()).unwrap();
        prop_assert_eq!(report.total.households_with_labour, labour);
        prop_assert_eq!(report.total.zero_employment_households, zero);
    }
}

#[test]
fn the_same_ledger_twice_writes_nothing_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let service = open(dir.path());
    let base = template();
    let lines: Vec<Line> = (1..=30)
        .map(|n| Line {
            number: n,
            household: n / 3,
            status: (n % 3) as usize,
            foreign_household: false,
            foreign_id: false,
        })
        .collect();
    let first = import(&service, &base, A, B, &lines);
    assert!(first.iter().all(|r| r == &Ok(RowChange::Created)));
    let before = all_workers(service.store());
    let commits = service.store().worker_commits();
    let second = import(&service, &base, A, B, &lines);
    assert!(
        second.iter().all(|r| r == &Ok(RowChange::Unchanged)),
        "{second:?}"
    );
    assert_eq!(service.store().worker_commits(), commits, "nothing written");
    assert_eq!(all_workers(service.store()), before, "updated_at kept");
    // Checking only reports a change and writes nothing.
    let mut changed = row(&base, A, B, &lines[0]);
    changed.phone = Some("13900000000".into());
    let checked = service
        .import_workers(
            &company(A),
            vec![changed],
            ImportOptions {
                check_only: true,
                allow_move: false,
            },
        )
        .unwrap();
    assert_eq!(
        checked[0].as_ref().unwrap(),
        &RowChange::Updated(vec!["phone"])
    );
    assert_eq!(service.store().worker_commits(), commits);
}

#[test]
fn a_move_needs_the_officers_word() {
    let dir = tempfile::tempdir().unwrap();
    let service = open(dir.path());
    let base = template();
    let l = Line {
        number: 1,
        household: 1,
        status: 0,
        foreign_household: false,
        foreign_id: false,
    };
    import(&service, &base, A, B, std::slice::from_ref(&l));
    let mut moved = row(&base, A, B, &l);
    moved.household_id = "hh-2".into();
    let refused = service
        .import_workers(&company(A), vec![moved.clone()], ImportOptions::default())
        .unwrap();
    match &refused[0] {
        Err(ServiceError::Invalid(v)) => assert_eq!(v.field, "worker.household_id"),
        other => panic!("{other:?}"),
    }
    let allowed = ImportOptions {
        check_only: false,
        allow_move: true,
    };
    let done = service
        .import_workers(&company(A), vec![moved], allowed)
        .unwrap();
    assert_eq!(
        done[0].as_ref().unwrap(),
        &RowChange::Updated(vec!["household_id"])
    );
    let w = service.store().worker("431224/w-1").unwrap().unwrap();
    assert_eq!(w.household_id, "431224/hh-2");
    // To another county: the admin moves the worker; the id stays, the
    // household must be one of the new county.
    let mut elsewhere = w.clone();
    elsewhere.county_code = B.into();
    elsewhere.household_id = "hh-9".into();
    let refused = service
        .import_workers(&admin(), vec![elsewhere.clone()], ImportOptions::default())
        .unwrap();
    match &refused[0] {
        Err(ServiceError::Invalid(v)) => assert_eq!(v.field, "worker.county_code"),
        other => panic!("{other:?}"),
    }
    service
        .import_workers(&admin(), vec![elsewhere], allowed)
        .unwrap()[0]
        .as_ref()
        .unwrap();
    let w = service.store().worker("431224/w-1").unwrap().unwrap();
    assert_eq!(
        (w.county_code.as_str(), w.household_id.as_str()),
        (B, "431225/hh-9")
    );
    // Now county B's, not A's: A no longer finds it, B does by whole id.
    assert!(matches!(
        service.find_worker_now(&company(A), "w-1"),
        Err(ServiceError::NotFound(_))
    ));
    assert!(service.find_worker_now(&company(B), "431224/w-1").is_ok());
    // County A has no worker left, and an admin still finds the number.
    assert_eq!(
        service.find_worker_now(&admin(), "w-1").unwrap().id,
        "431224/w-1"
    );
}
