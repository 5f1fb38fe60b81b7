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

/// Time triggers bucketed by step, O(1) to add and to take: entries are
/// due at the first step at or after their time. Deadlines after the
/// horizon are never due and are not stored. With more steps than
/// [`DeadlineWheel::MAX_BUCKETS`] a bucket spans several steps.
#[derive(Debug, Clone, Default)]
pub struct DeadlineWheel {
    step_s: u64,
    steps_per_bucket: u64,
    buckets: Vec<Vec<(u64, u32, u32)>>,
    last_step: u64,
    /// Last step whose due entries were taken.
    taken_step: u64,
    len: usize,
}

impl DeadlineWheel {
    /// Most buckets kept.
    pub const MAX_BUCKETS: u64 = 1 << 16;

    /// Empties the wheel and sizes it for `steps` steps of `step_s` seconds.
    pub fn configure(&mut self, step_s: u64, steps: u64) {
        self.step_s = step_s.max(1);
        self.steps_per_bucket = steps.div_ceil(Self::MAX_BUCKETS).max(1);
        let n = (steps / self.steps_per_bucket + 2) as usize;
        self.buckets.resize_with(n, Vec::new);
        self.buckets.truncate(n);
        for b in &mut self.buckets {
            b.clear();
        }
        self.last_step = steps;
        self.taken_step = 0;
        self.len = 0;
    }

    /// Adds a deadline at `t_s` seconds for (slot, tag). A deadline already
    /// passed is due at the next step.
    pub fn push(&mut self, t_s: u64, slot: u32, tag: u32) {
        let step = t_s.div_ceil(self.step_s).max(self.taken_step + 1);
        if step > self.last_step {
            return;
        }
        let b = (step / self.steps_per_bucket) as usize;
        if let Some(bucket) = self.buckets.get_mut(b) {
            bucket.push((step, slot, tag));
            self.len += 1;
        }
    }

    /// Moves every entry due at the step at `t_s` into `out` as (slot, tag).
    pub fn take_due(&mut self, t_s: u64, out: &mut Vec<(u32, u32)>) {
        let step = t_s / self.step_s;
        self.taken_step = step;
        let b = (step / self.steps_per_bucket) as usize;
        let Some(bucket) = self.buckets.get_mut(b) else {
            return;
        };
        let before = bucket.len();
        if self.steps_per_bucket == 1 {
            out.extend(bucket.drain(..).map(|(_, slot, tag)| (slot, tag)));
        } else {
            let mut i = 0;
            while i < bucket.len() {
                if bucket[i].0 <= step {
                    let (_, slot, tag) = bucket.swap_remove(i);
                    out.push((slot, tag));
                } else {
                    i += 1;
                }
            }
        }
        self.len -= before - bucket.len();
    }

    /// Entries stored, stale ones included.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no entry is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
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
    fn wheel_returns_deadlines_at_the_first_step_at_or_after_them() {
        for steps in [100, 200_000] {
            let mut w = DeadlineWheel::default();
            w.configure(60, steps);
            w.push(60, 1, 0);
            w.push(61, 2, 0);
            w.push(120, 3, 0);
            w.push(60 * (steps + 5), 4, 0); // after the horizon: dropped
            assert_eq!(w.len(), 3);
            let mut out = Vec::new();
            w.take_due(60, &mut out);
            assert_eq!(out, [(1, 0)]);
            out.clear();
            w.take_due(120, &mut out);
            out.sort();
            assert_eq!(out, [(2, 0), (3, 0)]);
            w.push(30, 5, 9); // already passed: due at the next step
            out.clear();
            w.take_due(180, &mut out);
            assert_eq!(out, [(5, 9)]);
            assert!(w.is_empty());
        }
    }
}
