//! Price and time triggers over positions, so that a step only looks at the
//! positions whose trigger the price has crossed.
//!
//! Entries are lazily deleted: each carries the position's generation, and a
//! popped entry whose generation no longer matches is stale and skipped. A
//! venue bumps a position's generation whenever the position changes and
//! pushes fresh entries.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A trigger on one position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    /// Trigger price (USD) or time (seconds).
    pub key: f64,
    /// Position slot.
    pub slot: u32,
    /// Position generation when the entry was made.
    pub generation: u32,
}

/// Which way a price trigger fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Fires when the price is at or below the key (long stops, long liquidations, short targets).
    Below,
    /// Fires when the price is at or above the key (long targets, short stops, short liquidations).
    Above,
}

impl Dir {
    /// Whether `price` has crossed `key`.
    #[inline]
    pub fn crossed(self, price: f64, key: f64) -> bool {
        match self {
            Dir::Below => price <= key,
            Dir::Above => price >= key,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Item {
    /// Max-heap priority: key (Below) or -key (Above).
    prio: f64,
    slot: u32,
    generation: u32,
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Item {
    fn cmp(&self, other: &Self) -> Ordering {
        // Highest priority first; among equal keys the lower slot first.
        self.prio
            .total_cmp(&other.prio)
            .then_with(|| other.slot.cmp(&self.slot))
            .then_with(|| other.generation.cmp(&self.generation))
    }
}

/// A heap of price triggers firing in one direction, most urgent on top.
#[derive(Debug, Clone)]
pub struct TriggerHeap {
    dir: Dir,
    heap: BinaryHeap<Item>,
}

impl TriggerHeap {
    /// An empty heap.
    pub fn new(dir: Dir) -> TriggerHeap {
        TriggerHeap {
            dir,
            heap: BinaryHeap::new(),
        }
    }

    /// Direction of this heap.
    pub fn dir(&self) -> Dir {
        self.dir
    }

    /// Adds a trigger.
    #[inline]
    pub fn push(&mut self, e: Entry) {
        let prio = match self.dir {
            Dir::Below => e.key,
            Dir::Above => -e.key,
        };
        self.heap.push(Item {
            prio,
            slot: e.slot,
            generation: e.generation,
        });
    }

    /// Key of the most urgent trigger, if any (stale entries included).
    #[inline]
    pub fn top_key(&self) -> Option<f64> {
        self.heap.peek().map(|top| self.key_of(top))
    }

    /// Whether `price` has crossed the most urgent trigger.
    #[inline]
    pub fn peek_crossed(&self, price: f64) -> bool {
        self.heap
            .peek()
            .is_some_and(|top| self.dir.crossed(price, self.key_of(top)))
    }

    /// Pops the most urgent trigger if `price` has crossed it.
    #[inline]
    pub fn pop_crossed(&mut self, price: f64) -> Option<Entry> {
        let top = self.heap.peek()?;
        let key = self.key_of(top);
        if !self.dir.crossed(price, key) {
            return None;
        }
        let it = self.heap.pop()?;
        Some(Entry {
            key,
            slot: it.slot,
            generation: it.generation,
        })
    }

    fn key_of(&self, it: &Item) -> f64 {
        match self.dir {
            Dir::Below => it.prio,
            Dir::Above => -it.prio,
        }
    }

    /// Number of entries, stale ones included.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Removes every entry (capacity is kept).
    pub fn clear(&mut self) {
        self.heap.clear();
    }

    /// Drops entries for which `live(slot, generation)` is false.
    pub fn retain(&mut self, mut live: impl FnMut(u32, u32) -> bool) {
        self.heap.retain(|it| live(it.slot, it.generation));
    }

    /// Replaces every entry by `entries`, heapified in O(n).
    pub fn refill(&mut self, entries: impl Iterator<Item = Entry>) {
        let dir = self.dir;
        self.heap.clear();
        self.heap.extend(entries.map(|e| Item {
            prio: match dir {
                Dir::Below => e.key,
                Dir::Above => -e.key,
            },
            slot: e.slot,
            generation: e.generation,
        }));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct TimeItem {
    neg_t: std::cmp::Reverse<u64>,
    slot: std::cmp::Reverse<u32>,
    generation: u32,
}

/// A heap of time triggers, earliest on top.
#[derive(Debug, Clone, Default)]
pub struct DeadlineHeap {
    heap: BinaryHeap<TimeItem>,
}

impl DeadlineHeap {
    /// Adds a deadline (seconds from path start).
    pub fn push(&mut self, t_s: u64, slot: u32, generation: u32) {
        self.heap.push(TimeItem {
            neg_t: std::cmp::Reverse(t_s),
            slot: std::cmp::Reverse(slot),
            generation,
        });
    }

    /// Whether the earliest deadline is at or before `t_s`.
    #[inline]
    pub fn any_due(&self, t_s: u64) -> bool {
        self.heap.peek().is_some_and(|top| top.neg_t.0 <= t_s)
    }

    /// Pops the earliest deadline if it is at or before `t_s`: (slot, generation).
    pub fn pop_due(&mut self, t_s: u64) -> Option<(u32, u32)> {
        let top = self.heap.peek()?;
        if top.neg_t.0 > t_s {
            return None;
        }
        let it = self.heap.pop()?;
        Some((it.slot.0, it.generation))
    }

    /// Number of entries, stale ones included.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.heap.clear();
    }

    /// Drops entries for which `live(slot, generation)` is false.
    pub fn retain(&mut self, mut live: impl FnMut(u32, u32) -> bool) {
        self.heap.retain(|it| live(it.slot.0, it.generation));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_heap_fires_highest_key_first_and_only_when_crossed() {
        let mut h = TriggerHeap::new(Dir::Below);
        for (k, s) in [(90.0, 1), (95.0, 2), (80.0, 3)] {
            h.push(Entry {
                key: k,
                slot: s,
                generation: 0,
            });
        }
        assert_eq!(h.pop_crossed(96.0), None);
        assert_eq!(h.pop_crossed(92.0).map(|e| e.slot), Some(2));
        assert_eq!(h.pop_crossed(92.0), None);
        assert_eq!(h.pop_crossed(79.0).map(|e| e.slot), Some(1));
        assert_eq!(h.pop_crossed(79.0).map(|e| (e.slot, e.key)), Some((3, 80.0)));
        assert!(h.is_empty());
    }

    #[test]
    fn above_heap_fires_lowest_key_first() {
        let mut h = TriggerHeap::new(Dir::Above);
        for (k, s) in [(110.0, 1), (105.0, 2), (120.0, 3)] {
            h.push(Entry {
                key: k,
                slot: s,
                generation: 0,
            });
        }
        assert_eq!(h.pop_crossed(104.0), None);
        assert_eq!(h.pop_crossed(111.0).map(|e| e.slot), Some(2));
        assert_eq!(h.pop_crossed(111.0).map(|e| e.slot), Some(1));
        assert_eq!(h.pop_crossed(111.0), None);
    }

    #[test]
    fn deadlines_pop_in_time_order() {
        let mut d = DeadlineHeap::default();
        d.push(300, 1, 0);
        d.push(100, 2, 5);
        d.push(200, 3, 0);
        assert_eq!(d.pop_due(99), None);
        assert_eq!(d.pop_due(250), Some((2, 5)));
        assert_eq!(d.pop_due(250), Some((3, 0)));
        assert_eq!(d.pop_due(250), None);
        d.retain(|slot, _| slot != 1);
        assert!(d.is_empty());
    }
}
