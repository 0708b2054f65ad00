//! Exact pruned candidate generation for the batch: each worker's best N
//! eligible openings without scoring the pairs that cannot enter them.
//!
//! The batch's openings are grouped three times: regions by source, by
//! "labour cooperation with housing and transport" (the no-distance-penalty
//! case) and by a large grid cell (4 degrees); inside each, coarse groups by
//! a 0.5-degree cell; inside those, fine groups by a smaller cell, a wage
//! band and whether skills are required. The regions are there so that a
//! worker does not compute a bound for every coarse group of the country:
//! at national scale there are tens of thousands, and a near-home worker
//! rules out all but a few regions at once. Every group keeps what bounds
//! its members' scores and rules: a centre and radius (a lower bound on the
//! distance, by the triangle inequality, with the worker-to-centre distance
//! bounded below by the chord, so that no bound needs trigonometry), the highest wage, the age range
//! it spans, whether any member is light work, has flexible hours, is a
//! reserved post, asks no skills, and which skill codes it mentions.
//!
//! For a worker, a group's bound is the score formula applied to those
//! best cases (every component is monotone in them), rounded up by one
//! micro-point for floating-point safety. Hard rules drop whole groups (age,
//! light work for partial capacity, strict sources, required skills the
//! worker has none of). Groups are visited best bound first, and a group
//! is skipped as soon as its bound is below the worker's current N-th best
//! score (the threshold algorithm). A skipped opening scores below the
//! final N-th best, so the kept set, ties included, is exactly what
//! scoring every pair would keep; tests compare the two pair for pair.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::config::MatchConfig;
use super::eligibility::MatchContext;
use super::features::{distance_km, skill_code, skill_level, source_bit, OpeningFeat, WorkerFeat};
use super::index::MatchIndex;
use super::score::{
    commute_part, houses_migrants, micro, partial_on_reserved, pay_part, preference_part,
    priority_part, total, Components,
};
use crate::domain::{LabourCapacity, Mobility, PhysicalDemand, Source};

const NONE: u32 = u32::MAX;
/// Fine cell edge in degrees (about 11 km), against a commute decay of
/// 15 km by default.
const FINE_DEG: f64 = 0.1;
/// Coarse cell edge in degrees.
const COARSE_DEG: f64 = 0.5;
/// Region cell edge in degrees: 8 coarse cells a side, so that a region's
/// cell is the coarse cell's divided by 8.
const REGION_DEG: f64 = 4.0;
/// Wage band width (CNY a month) of the fine groups.
const WAGE_BAND: u32 = 500;

/// Source code, supported migration, region cell, coarse cell.
type CoarseKey = (u8, bool, u64, u64);
/// Fine cell, wage band, skills required.
type FineKey = (u64, u32, bool);

/// What bounds the scores of a group's openings.
#[derive(Debug, Clone)]
struct Bounds {
    source: Source,
    /// Labour cooperation with housing and transport: no distance penalty
    /// for willing migrants.
    supported: bool,
    /// The centre as a unit vector (see [`chord_km`]).
    unit: [f64; 3],
    /// Largest distance from the centre to a member, plus slack.
    radius_km: f64,
    max_wage: u32,
    min_age: u8,
    max_age: u8,
    any_light: bool,
    any_flexible: bool,
    any_reserved: bool,
    /// Some member asks no skills at all (skill part 0.5).
    any_plain: bool,
    /// Every member has a required skill.
    all_required: bool,
    /// Some requirement has level 0, which the mask cannot bound.
    level_zero: bool,
    /// Skill codes mentioned (required or preferred), bit `code % 64`.
    skill_mask: u64,
}

/// The batch's openings in groups, as flat arrays.
#[derive(Debug, Default)]
pub(crate) struct Groups {
    region: Vec<Bounds>,
    /// Coarse groups of region `r`: `region_start[r]..region_start[r+1]`.
    region_start: Vec<u32>,
    coarse: Vec<Bounds>,
    /// Fine groups of coarse group `c`: `coarse_start[c]..coarse_start[c+1]`.
    coarse_start: Vec<u32>,
    fine: Vec<Bounds>,
    /// Members of fine group `f`: `fine_start[f]..fine_start[f+1]`.
    fine_start: Vec<u32>,
    /// Opening slots, grouped.
    members: Vec<u32>,
}

fn cell(lat: f32, lon: f32, deg: f64) -> u64 {
    let la = ((f64::from(lat) + 90.0) / deg).floor().max(0.0) as u64;
    let lo = ((f64::from(lon) + 180.0) / deg).floor().max(0.0) as u64;
    (la << 16) | lo
}

/// A point on the unit sphere: the same latitude and longitude (from the
/// stored f32) as [`distance_km`] reads.
fn unit_vector(lat: f32, lon: f32) -> [f64; 3] {
    let (p, l) = (f64::from(lat).to_radians(), f64::from(lon).to_radians());
    [p.cos() * l.cos(), p.cos() * l.sin(), p.sin()]
}

/// Earth's mean radius in km, as in [`distance_km`].
const EARTH_KM: f64 = 6371.0088;

/// A lower bound on the great-circle distance between two unit vectors, in
/// km, without trigonometry: the chord. A central angle `t` has chord
/// `2 sin(t/2) <= t`, so `R * chord` never exceeds the arc; it falls short
/// by `t^2/24` of it (0.1% at 1,000 km), which only loosens a bound.
/// `CHORD_SLACK_KM` covers the rounding of this and of the haversine.
fn chord_km(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    let (x, y, z) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    EARTH_KM * (x * x + y * y + z * z).sqrt() - CHORD_SLACK_KM
}

/// Rounding slack of [`chord_km`] (the errors are near 1e-11 km).
const CHORD_SLACK_KM: f64 = 1e-6;

fn skill_mask(skills: &[u32]) -> u64 {
    skills
        .iter()
        .fold(0, |m, &e| m | 1u64 << (skill_code(e) % 64))
}

impl Bounds {
    fn of(index: &MatchIndex, slots: &[u32]) -> Bounds {
        let feats: Vec<&OpeningFeat> = slots
            .iter()
            .map(|&s| index.openings.get(s).expect("live opening"))
            .collect();
        let k = feats.len() as f64;
        let lat = (feats.iter().map(|o| f64::from(o.lat)).sum::<f64>() / k) as f32;
        let lon = (feats.iter().map(|o| f64::from(o.lon)).sum::<f64>() / k) as f32;
        let radius = feats
            .iter()
            .map(|o| distance_km(lat, lon, o.lat, o.lon))
            .fold(0.0, f64::max);
        let first = feats[0];
        Bounds {
            source: first.source,
            supported: houses_migrants(first),
            unit: unit_vector(lat, lon),
            // Slack for rounding in the distance formula.
            radius_km: radius * (1.0 + 1e-9) + 1e-3,
            max_wage: feats.iter().map(|o| o.wage).max().unwrap_or(0),
            min_age: feats.iter().map(|o| o.min_age).min().unwrap_or(0),
            max_age: feats.iter().map(|o| o.max_age).max().unwrap_or(u8::MAX),
            any_light: feats.iter().any(|o| o.demand == PhysicalDemand::Light),
            any_flexible: feats.iter().any(|o| o.flexible_hours),
            any_reserved: feats.iter().any(|o| o.reserved),
            any_plain: feats
                .iter()
                .any(|o| o.required.is_empty() && o.preferred.is_empty()),
            all_required: feats.iter().all(|o| !o.required.is_empty()),
            level_zero: feats.iter().any(|o| {
                o.required
                    .iter()
                    .chain(o.preferred.iter())
                    .any(|&e| skill_level(e) == 0)
            }),
            skill_mask: feats.iter().fold(0, |m, o| {
                m | skill_mask(&o.required) | skill_mask(&o.preferred)
            }),
        }
    }

    /// An upper bound on the micro-point score of any eligible pair of `w`
    /// with a member; `None` when the hard rules exclude every member.
    #[allow(clippy::too_many_arguments)]
    fn bound(
        &self,
        w: &WorkerFeat,
        worker_unit: &[f64; 3],
        worker_mask: u64,
        zero_household: bool,
        welfare_ok: bool,
        cfg: &MatchConfig,
        ctx: &MatchContext,
    ) -> Option<u32> {
        let age = ctx.year - i32::from(w.birth_year);
        let partial = w.capacity == LabourCapacity::Partial;
        let shares = worker_mask & self.skill_mask != 0 || self.level_zero;
        // Groups are of one source: a worker the `[policy]` rules bar from
        // public-welfare posts drops those groups whole.
        if (self.source == Source::PublicWelfare && !welfare_ok)
            || age < i32::from(self.min_age)
            || age > i32::from(self.max_age)
            || (partial && !self.any_light)
            || (w.strict_sources && w.preferred_sources & source_bit(self.source) == 0)
            || (!shares && self.all_required)
        {
            return None;
        }
        // Triangle inequality: no member is nearer than this.
        let near = (chord_km(worker_unit, &self.unit) - self.radius_km).max(0.0);
        if w.mobility == Mobility::NearHome && near > f64::from(w.max_commute_km) {
            return None;
        }
        let reserved = partial_on_reserved(w, self.source, self.any_reserved);
        let skill = if shares {
            1.0
        } else if self.any_plain {
            0.5
        } else {
            0.0
        };
        let c = Components {
            skill,
            commute: commute_part(w, self.supported, near, cfg),
            pay: pay_part(w, self.max_wage, cfg),
            preference: preference_part(w, self.source, self.any_flexible),
            priority: priority_part(zero_household, reserved),
        };
        let t = total(&c, cfg);
        // NaN (never expected) must not prune.
        Some(if t >= 0.0 {
            micro(t).saturating_add(1)
        } else {
            u32::MAX
        })
    }
}

impl Groups {
    /// Groups the openings of `opening_index` (slot -> batch index, `NONE`
    /// when not in the batch) that the opening grid holds.
    pub fn build(index: &MatchIndex, opening_index: &[u32]) -> Groups {
        let mut keyed: Vec<(CoarseKey, FineKey, u32)> = Vec::new();
        for bucket in index.opening_grid.all() {
            for &os in bucket {
                if opening_index.get(os as usize).copied().unwrap_or(NONE) == NONE {
                    continue;
                }
                let Some(o) = index.openings.get(os) else {
                    continue;
                };
                let coarse = (
                    o.source.code(),
                    houses_migrants(o),
                    cell(o.lat, o.lon, REGION_DEG),
                    cell(o.lat, o.lon, COARSE_DEG),
                );
                let fine = (
                    cell(o.lat, o.lon, FINE_DEG),
                    o.wage / WAGE_BAND,
                    !o.required.is_empty(),
                );
                keyed.push((coarse, fine, os));
            }
        }
        keyed.sort_unstable();
        let region_of = |k: &CoarseKey| (k.0, k.1, k.2);
        let mut g = Groups::default();
        for region in keyed.chunk_by(|a, b| region_of(&a.0) == region_of(&b.0)) {
            g.region_start.push(g.coarse.len() as u32);
            let region_members = g.members.len();
            for coarse in region.chunk_by(|a, b| a.0 == b.0) {
                g.coarse_start.push(g.fine.len() as u32);
                let coarse_members = g.members.len();
                for fine in coarse.chunk_by(|a, b| a.1 == b.1) {
                    let fine_members = g.members.len();
                    g.fine_start.push(fine_members as u32);
                    g.members.extend(fine.iter().map(|k| k.2));
                    g.fine.push(Bounds::of(index, &g.members[fine_members..]));
                }
                g.coarse
                    .push(Bounds::of(index, &g.members[coarse_members..]));
            }
            g.region
                .push(Bounds::of(index, &g.members[region_members..]));
        }
        g.region_start.push(g.coarse.len() as u32);
        g.coarse_start.push(g.fine.len() as u32);
        g.fine_start.push(g.members.len() as u32);
        g
    }

    /// Worker `w`'s best `limit` eligible openings, as (batch index,
    /// micro-points), unsorted; exactly the pairs a full scan keeps.
    ///
    /// Leaves in `scratch.found` every scored pair that may be among the
    /// best `limit` (a pair below the running threshold when it was scored
    /// cannot be: the threshold only rises), unsorted; the caller keeps the
    /// best `limit` of them.
    #[allow(clippy::too_many_arguments)]
    pub fn candidates(
        &self,
        index: &MatchIndex,
        w: &WorkerFeat,
        opening_index: &[u32],
        limit: usize,
        ctx: &MatchContext,
        welfare_ok: bool,
        scratch: &mut Scratch,
    ) {
        let cfg = &index.config;
        let zero = index.zero_household(w);
        let mask = skill_mask(&w.skills);
        let unit = unit_vector(w.lat, w.lon);
        let Scratch {
            found,
            top,
            region,
            coarse,
            fine,
        } = scratch;
        found.clear();
        // The best `limit` scores so far; its minimum is the threshold.
        top.clear();
        let threshold = |top: &BinaryHeap<Reverse<u32>>| {
            if top.len() == limit {
                top.peek().map_or(0, |r| r.0)
            } else {
                0
            }
        };
        let bound = |b: &Bounds| b.bound(w, &unit, mask, zero, welfare_ok, cfg, ctx);
        rank(region, &self.region, 0..self.region.len() as u32, bound);
        for &(bound_r, r) in region.iter() {
            if bound_r < threshold(top) {
                break;
            }
            let range = self.region_start[r as usize]..self.region_start[r as usize + 1];
            rank(coarse, &self.coarse, range, bound);
            for &(bound_c, c) in coarse.iter() {
                if bound_c < threshold(top) {
                    break;
                }
                let range = self.coarse_start[c as usize]..self.coarse_start[c as usize + 1];
                rank(fine, &self.fine, range, bound);
                for &(bound_f, f) in fine.iter() {
                    if bound_f < threshold(top) {
                        break;
                    }
                    let members = self.fine_start[f as usize]..self.fine_start[f as usize + 1];
                    for &os in &self.members[members.start as usize..members.end as usize] {
                        let oi = opening_index[os as usize];
                        let o = index.openings.get(os).expect("live opening");
                        let d = distance_km(w.lat, w.lon, o.lat, o.lon);
                        if let Some(score) = index.pair_score(w, o, d, ctx, welfare_ok) {
                            if score < threshold(top) {
                                continue;
                            }
                            found.push((oi, score));
                            top.push(Reverse(score));
                            if top.len() > limit {
                                top.pop();
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Fills `out` with (bound, group) of the groups in `range` that the hard
/// rules leave, best bound first.
fn rank(
    out: &mut Vec<(u32, u32)>,
    groups: &[Bounds],
    range: std::ops::Range<u32>,
    bound: impl Fn(&Bounds) -> Option<u32>,
) {
    out.clear();
    out.extend(range.filter_map(|g| bound(&groups[g as usize]).map(|x| (x, g))));
    out.sort_unstable_by(|a, b| b.cmp(a));
}

/// Buffers a rayon job reuses for every worker it scores, so that scoring
/// a worker allocates nothing but its row: fresh buffers per worker cost
/// more in page faults (the kernel zeroing new memory) than the scoring.
#[derive(Default)]
pub struct Scratch {
    /// The pairs kept while scoring (see [`Groups::candidates`]).
    pub found: Vec<(u32, u32)>,
    top: BinaryHeap<Reverse<u32>>,
    region: Vec<(u32, u32)>,
    coarse: Vec<(u32, u32)>,
    fine: Vec<(u32, u32)>,
}
