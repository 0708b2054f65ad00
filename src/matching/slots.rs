//! Dense slots for records addressed by string id: hot loops index arrays
//! by `u32`, and the id lookup costs one small hash-table entry per record
//! (the id string is stored once).

use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Records of type `T` in dense slots, found by id.
#[derive(Debug, Clone)]
pub(crate) struct Slots<T> {
    ids: Vec<Box<str>>,
    items: Vec<Option<T>>,
    lookup: HashTable<u32>,
    free: Vec<u32>,
    hasher: foldhash::fast::FixedState,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Self {
            ids: Vec::new(),
            items: Vec::new(),
            lookup: HashTable::new(),
            free: Vec::new(),
            hasher: foldhash::fast::FixedState::with_seed(0x6a6f_6262_7269_6467),
        }
    }
}

impl<T> Slots<T> {
    fn hash(&self, id: &str) -> u64 {
        self.hasher.hash_one(id)
    }

    /// The slot of `id`, if present.
    pub fn slot(&self, id: &str) -> Option<u32> {
        let ids = &self.ids;
        self.lookup
            .find(self.hash(id), |&s| &*ids[s as usize] == id)
            .copied()
    }

    /// Inserts or replaces; returns the slot and the previous record.
    pub fn put(&mut self, id: &str, item: T) -> (u32, Option<T>) {
        if let Some(slot) = self.slot(id) {
            let old = self.items[slot as usize].replace(item);
            return (slot, old);
        }
        let slot = match self.free.pop() {
            Some(slot) => {
                self.ids[slot as usize] = id.into();
                self.items[slot as usize] = Some(item);
                slot
            }
            None => {
                self.ids.push(id.into());
                self.items.push(Some(item));
                (self.items.len() - 1) as u32
            }
        };
        let hash = self.hash(id);
        let (ids, hasher) = (&self.ids, &self.hasher);
        self.lookup
            .insert_unique(hash, slot, |&s| hasher.hash_one(&*ids[s as usize]));
        (slot, None)
    }

    /// Removes `id`; returns its slot and record.
    pub fn remove(&mut self, id: &str) -> Option<(u32, T)> {
        let hash = self.hash(id);
        let ids = &self.ids;
        let entry = self
            .lookup
            .find_entry(hash, |&s| &*ids[s as usize] == id)
            .ok()?;
        let (slot, _) = entry.remove();
        let item = self.items[slot as usize].take()?;
        self.ids[slot as usize] = "".into();
        self.free.push(slot);
        Some((slot, item))
    }

    /// The record in `slot`, if live.
    #[inline]
    pub fn get(&self, slot: u32) -> Option<&T> {
        self.items[slot as usize].as_ref()
    }

    /// The record in `slot`, if live, to change in place.
    pub fn get_mut(&mut self, slot: u32) -> Option<&mut T> {
        self.items[slot as usize].as_mut()
    }

    /// The id of `slot`.
    #[inline]
    pub fn id(&self, slot: u32) -> &str {
        &self.ids[slot as usize]
    }

    /// Live records.
    pub fn len(&self) -> usize {
        self.items.len() - self.free.len()
    }

    /// Live (slot, record) pairs.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.items
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.as_ref().map(|t| (i as u32, t)))
    }

    /// Approximate heap bytes, excluding what `T` owns.
    pub fn heap_bytes(&self) -> usize {
        self.ids.iter().map(|s| s.len()).sum::<usize>()
            + self.ids.capacity() * std::mem::size_of::<Box<str>>()
            + self.items.capacity() * std::mem::size_of::<Option<T>>()
            + self.lookup.capacity() * (std::mem::size_of::<u32>() + 1)
            + self.free.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_remove_reuse() {
        let mut s: Slots<u32> = Slots::default();
        assert_eq!(s.put("a", 1), (0, None));
        assert_eq!(s.put("b", 2), (1, None));
        assert_eq!(s.put("a", 3), (0, Some(1)));
        assert_eq!(s.slot("b"), Some(1));
        assert_eq!(s.remove("a"), Some((0, 3)));
        assert_eq!(s.slot("a"), None);
        assert_eq!(s.remove("a"), None);
        assert_eq!(s.put("c", 4), (0, None));
        assert_eq!(s.id(0), "c");
        assert_eq!(s.len(), 2);
        for i in 0..1000 {
            s.put(&format!("k{i}"), i);
        }
        for i in 0..1000 {
            assert_eq!(s.get(s.slot(&format!("k{i}")).unwrap()), Some(&i));
        }
    }
}
