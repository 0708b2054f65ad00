//! Spatial buckets: slots grouped by 0.5-degree cells, plus one "wide"
//! bucket for records that any query must see. Each slot remembers its
//! bucket and position, so moves and removals are O(1).

use hashbrown::HashMap;

/// Cell edge in degrees (about 55 km north-south).
const CELL_DEG: f64 = 0.5;
/// The bucket key of the wide bucket.
const WIDE: u32 = u32::MAX;

/// Degrees of latitude per km, with slack: a sphere's meridian degree is
/// 111.19 km, so 1/110 over-covers.
const LAT_DEG_PER_KM: f64 = 1.0 / 110.0;

fn cell_of(lat: f32, lon: f32) -> u32 {
    cell_key(f64::from(lat), f64::from(lon))
}

/// The spatial cell of a point. Callers that insert many records sort them
/// by this key first, so that ranking scans memory in order.
pub fn cell_key(lat: f64, lon: f64) -> u32 {
    let la = ((lat + 90.0) / CELL_DEG).floor() as u32;
    let lo = ((lon + 180.0) / CELL_DEG).floor() as u32;
    la * 1000 + lo
}

/// Slots by cell.
#[derive(Debug, Default, Clone)]
pub(crate) struct Grid {
    buckets: HashMap<u32, Vec<u32>>,
    /// Per slot: bucket key and position in it.
    place: Vec<Option<(u32, u32)>>,
}

impl Grid {
    /// Puts `slot` in the cell of (lat, lon), or in the wide bucket.
    pub fn insert(&mut self, slot: u32, at: Option<(f32, f32)>) {
        self.remove(slot);
        let key = at.map_or(WIDE, |(lat, lon)| cell_of(lat, lon));
        let bucket = self.buckets.entry(key).or_default();
        bucket.push(slot);
        let i = slot as usize;
        if self.place.len() <= i {
            self.place.resize(i + 1, None);
        }
        self.place[i] = Some((key, (bucket.len() - 1) as u32));
    }

    /// Takes `slot` out of its bucket, if any.
    pub fn remove(&mut self, slot: u32) {
        let Some(Some((key, pos))) = self.place.get(slot as usize).copied() else {
            return;
        };
        self.place[slot as usize] = None;
        let bucket = self
            .buckets
            .get_mut(&key)
            .expect("placed slot has a bucket");
        bucket.swap_remove(pos as usize);
        if let Some(&moved) = bucket.get(pos as usize) {
            self.place[moved as usize] = Some((key, pos));
        }
        if bucket.is_empty() {
            self.buckets.remove(&key);
        }
    }

    /// The wide bucket.
    pub fn wide(&self) -> &[u32] {
        self.buckets.get(&WIDE).map_or(&[], Vec::as_slice)
    }

    /// Every bucket, wide included.
    pub fn all(&self) -> impl Iterator<Item = &[u32]> {
        self.buckets.values().map(Vec::as_slice)
    }

    /// Cell buckets that may hold a point within `km` of (lat, lon): a
    /// superset, the caller checks the distance itself.
    pub fn near(&self, lat: f32, lon: f32, km: f64) -> Vec<&[u32]> {
        let (lat, lon) = (f64::from(lat), f64::from(lon));
        let dlat = km * LAT_DEG_PER_KM;
        let (lat_lo, lat_hi) = ((lat - dlat).max(-90.0), (lat + dlat).min(90.0));
        let widest = lat_lo.abs().max(lat_hi.abs()).min(89.0).to_radians().cos();
        // Longitude degrees shrink with cos(lat); 10% slack covers the
        // difference between the small-circle bound and the great circle.
        let dlon = (km * LAT_DEG_PER_KM / widest * 1.1).min(180.0);
        let cell = |x: f64, base: f64| ((x + base) / CELL_DEG).floor() as i64;
        let (la0, la1) = (cell(lat_lo, 90.0) - 1, cell(lat_hi, 90.0) + 1);
        let (lo0, lo1) = (cell(lon - dlon, 180.0) - 1, cell(lon + dlon, 180.0) + 1);
        let mut out = Vec::new();
        for la in la0.max(0)..=la1.min(359) {
            for lo in lo0..=lo1 {
                // Wrap around the antimeridian.
                let lo = lo.rem_euclid(720);
                if let Some(b) = self.buckets.get(&((la as u32) * 1000 + lo as u32)) {
                    out.push(b.as_slice());
                }
            }
        }
        out
    }

    /// Approximate heap bytes.
    pub fn heap_bytes(&self) -> usize {
        self.buckets
            .values()
            .map(|b| b.capacity() * 4 + 32)
            .sum::<usize>()
            + self.place.capacity() * 12
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::features::distance_km;

    #[test]
    fn near_covers_every_point_within_the_radius() {
        let mut g = Grid::default();
        let mut points = Vec::new();
        let mut x: u64 = 12345;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as f64 / (1u64 << 31) as f64
        };
        for slot in 0..5000u32 {
            let p = (
                (20.0 + next() * 30.0) as f32,
                (100.0 + next() * 20.0) as f32,
            );
            g.insert(slot, Some(p));
            points.push(p);
        }
        for _ in 0..50 {
            let q = (
                (20.0 + next() * 30.0) as f32,
                (100.0 + next() * 20.0) as f32,
            );
            for km in [5.0, 30.0, 100.0] {
                let found: std::collections::HashSet<u32> = g
                    .near(q.0, q.1, km)
                    .into_iter()
                    .flatten()
                    .copied()
                    .collect();
                for (slot, p) in points.iter().enumerate() {
                    if distance_km(q.0, q.1, p.0, p.1) <= km {
                        assert!(found.contains(&(slot as u32)), "missed a point {km} km");
                    }
                }
            }
        }
    }

    #[test]
    fn remove_keeps_positions_consistent() {
        let mut g = Grid::default();
        for s in 0..10 {
            g.insert(s, Some((27.0, 110.0)));
        }
        g.insert(10, None);
        g.remove(3);
        g.remove(0);
        g.insert(5, None);
        let mut cell: Vec<u32> = g
            .near(27.0, 110.0, 1.0)
            .into_iter()
            .flatten()
            .copied()
            .collect();
        cell.sort();
        assert_eq!(cell, vec![1, 2, 4, 6, 7, 8, 9]);
        let mut wide = g.wide().to_vec();
        wide.sort();
        assert_eq!(wide, vec![5, 10]);
    }
}
