//! Position bookkeeping shared by the pool designs: a slab of positions
//! whose slots carry generations (so trigger entries can be deleted
//! lazily), exit-trigger prices from a trader's plan, deadline tags, and the
//! record of a refused order.

use super::triggers::{DeadlineWheel, Entry, TriggerHeap};
use super::{Counters, Cx, ExitPlan, Order, OrderKind, Reject, Side};
use crate::engine::trace::{Event, EventKind};
use std::ops::{Index, IndexMut};

/// A position kept in a [`Slab`].
pub(crate) trait Slot {
    /// Whether the slot holds an open position.
    fn live(&self) -> bool;
    /// Marks the slot open or free.
    fn set_live(&mut self, live: bool);
    /// Generation: bumped whenever the position changes or leaves.
    fn generation(&self) -> u32;
    /// Sets the generation.
    fn set_generation(&mut self, generation: u32);
}

/// Implements [`Slot`] for a position type with `live` and `generation` fields.
macro_rules! impl_slot {
    ($t:ty) => {
        impl $crate::venue::book::Slot for $t {
            fn live(&self) -> bool {
                self.live
            }
            fn set_live(&mut self, live: bool) {
                self.live = live;
            }
            fn generation(&self) -> u32 {
                self.generation
            }
            fn set_generation(&mut self, generation: u32) {
                self.generation = generation;
            }
        }
    };
}
pub(crate) use impl_slot;

/// Positions in reusable slots. A reused slot keeps counting generations,
/// so entries made for its previous occupant stay stale.
#[derive(Debug, Clone)]
pub(crate) struct Slab<P> {
    items: Vec<P>,
    free: Vec<u32>,
    live: usize,
}

impl<P: Slot> Slab<P> {
    pub fn new() -> Slab<P> {
        Slab {
            items: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }

    /// Removes every position (capacity is kept).
    pub fn clear(&mut self) {
        self.items.clear();
        self.free.clear();
        self.live = 0;
    }

    /// Open positions.
    pub fn live(&self) -> usize {
        self.live
    }

    /// Slots ever used (open or free).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Every slot, open or free.
    pub fn iter(&self) -> std::slice::Iter<'_, P> {
        self.items.iter()
    }

    /// Stores a new open position and returns its slot.
    pub fn alloc(&mut self, mut pos: P) -> u32 {
        pos.set_live(true);
        self.live += 1;
        match self.free.pop() {
            Some(s) => {
                pos.set_generation(self.items[s as usize].generation());
                self.items[s as usize] = pos;
                s
            }
            None => {
                self.items.push(pos);
                (self.items.len() - 1) as u32
            }
        }
    }

    /// Closes the position in `slot`, making its entries stale.
    pub fn remove(&mut self, slot: u32) {
        let p = &mut self.items[slot as usize];
        p.set_live(false);
        p.set_generation(p.generation().wrapping_add(1));
        self.free.push(slot);
        self.live -= 1;
    }

    /// Bumps the generation of `slot` (its old entries go stale) and returns it.
    pub fn bump(&mut self, slot: u32) -> u32 {
        let p = &mut self.items[slot as usize];
        let g = p.generation().wrapping_add(1);
        p.set_generation(g);
        g
    }

    /// Whether an entry made at `generation` still refers to the open position in `slot`.
    pub fn is_current(&self, slot: u32, generation: u32) -> bool {
        let p = &self.items[slot as usize];
        p.live() && p.generation() == generation
    }
}

impl<P> Index<usize> for Slab<P> {
    type Output = P;
    fn index(&self, i: usize) -> &P {
        &self.items[i]
    }
}

impl<P> IndexMut<usize> for Slab<P> {
    fn index_mut(&mut self, i: usize) -> &mut P {
        &mut self.items[i]
    }
}

/// Exit prices of a plan, (below-trigger, above-trigger), USD: a stop loss
/// or take profit at a return on collateral `roe` moves the price by
/// `roe · collateral / size` from `entry`. Missing exits are ±infinity.
pub(crate) fn exit_prices(side: Side, entry: f64, collateral_per_size: f64, exit: &ExitPlan) -> (f64, f64) {
    let at = |roe: f64, sign: f64, none: f64| {
        if roe.is_finite() {
            entry * (1.0 + sign * roe * collateral_per_size)
        } else {
            none
        }
    };
    let (sl, tp) = (exit.stop_loss_roe, exit.take_profit_roe);
    match side {
        Side::Long => (at(sl, -1.0, f64::NEG_INFINITY), at(tp, 1.0, f64::INFINITY)),
        Side::Short => (at(tp, -1.0, f64::NEG_INFINITY), at(sl, 1.0, f64::INFINITY)),
    }
}

/// Pushes a position's exit triggers from [`exit_prices`]: `below` into
/// `below_heap` when positive, `above` into `above_heap` when finite.
pub(crate) fn push_exit_triggers(
    below_heap: &mut TriggerHeap,
    above_heap: &mut TriggerHeap,
    (below, above): (f64, f64),
    slot: u32,
    generation: u32,
) {
    if below > 0.0 {
        below_heap.push(Entry {
            key: below,
            slot,
            generation,
        });
    }
    if above.is_finite() {
        above_heap.push(Entry {
            key: above,
            slot,
            generation,
        });
    }
}

/// Entries held by per-market [below, above] trigger heaps, live or stale
/// (for deciding when to compact them).
pub(crate) fn trigger_entries(heaps: &[[TriggerHeap; 2]]) -> usize {
    heaps.iter().map(|h| h[0].len() + h[1].len()).sum()
}

/// Issues tags for deadline entries. A position's current tag is stored on
/// it; an entry with another tag is stale.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeadlineTags {
    next: u32,
}

impl DeadlineTags {
    /// The tag of a position without a deadline entry; never issued.
    pub const NONE: u32 = u32::MAX;

    /// Starts over (start of a path).
    pub fn reset(&mut self) {
        self.next = 0;
    }

    /// Pushes a deadline for `slot` and returns its tag; no deadline
    /// (`u64::MAX`) gets [`DeadlineTags::NONE`] and pushes nothing.
    pub fn issue(&mut self, wheel: &mut DeadlineWheel, deadline_s: u64, slot: u32) -> u32 {
        if deadline_s == u64::MAX {
            return Self::NONE;
        }
        let tag = self.next;
        self.next = tag.wrapping_add(1) % Self::NONE;
        wheel.push(deadline_s, slot, tag);
        tag
    }
}

/// Counts a refused order and traces it.
pub(crate) fn record_reject(counters: &mut Counters, o: &Order, r: Reject, cx: &mut Cx) -> Reject {
    counters.rejected[r as usize] += 1;
    let size = match o.kind {
        OrderKind::Increase { size_usd, .. } => size_usd,
        OrderKind::Decrease { size_usd } => size_usd.unwrap_or(0.0),
        OrderKind::AddCollateral { usd } | OrderKind::WithdrawCollateral { usd } => usd,
    };
    let price = cx.prices.get(o.market).copied().unwrap_or(0.0);
    let t_s = cx.t_s;
    cx.trace.event(|| Event {
        size_usd: size,
        price,
        note: r.as_str(),
        ..Event::new(t_s, EventKind::Reject, o.account, o.market, o.side)
    });
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Default)]
    struct P {
        live: bool,
        generation: u32,
    }

    impl_slot!(P);

    #[test]
    fn a_reused_slot_keeps_old_entries_stale() {
        let mut s: Slab<P> = Slab::new();
        let a = s.alloc(P::default());
        let g = s[a as usize].generation;
        assert!(s.is_current(a, g));
        s.remove(a);
        assert!(!s.is_current(a, g));
        let b = s.alloc(P::default());
        assert_eq!(a, b);
        assert!(!s.is_current(b, g), "the new occupant must not match the old entry");
        assert!(s.is_current(b, g + 1));
        assert_eq!(s.live(), 1);
    }

    #[test]
    fn exit_prices_by_hand() {
        let plan = ExitPlan {
            deadline_s: 0,
            stop_loss_roe: 0.5,
            take_profit_roe: 1.0,
        };
        // 8x: collateral / size = 0.125; a 50 % stop is a 6.25 % move.
        assert_eq!(exit_prices(Side::Long, 100.0, 0.125, &plan), (93.75, 112.5));
        assert_eq!(exit_prices(Side::Short, 100.0, 0.125, &plan), (87.5, 106.25));
        let none = exit_prices(Side::Long, 100.0, 0.125, &ExitPlan::NONE);
        assert_eq!(none, (f64::NEG_INFINITY, f64::INFINITY));
    }
}
