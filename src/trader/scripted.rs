//! Scripted traders: timed orders written in the scenario.

use crate::venue::{Cx, Order, Venue};

/// One timed order of a scripted account.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScriptedAction {
    /// When to submit, seconds from path start. Executed at the first step
    /// at or after this time.
    pub at_s: u64,
    /// The order.
    pub order: Order,
}

/// A cursor over a scenario's scripted actions, sorted by time (ties keep
/// the scenario's order).
#[derive(Debug, Clone)]
pub struct Script<'a> {
    actions: &'a [ScriptedAction],
    next: usize,
}

impl<'a> Script<'a> {
    /// A cursor at the first action. `actions` must be sorted by `at_s`.
    pub fn new(actions: &'a [ScriptedAction]) -> Script<'a> {
        debug_assert!(actions.windows(2).all(|w| w[0].at_s <= w[1].at_s));
        Script { actions, next: 0 }
    }

    /// Submits every action due by `cx.t_s`. Refused orders are counted by
    /// the venue like any other.
    pub fn run_due(&mut self, venue: &mut dyn Venue, cx: &mut Cx) {
        while let Some(a) = self.actions.get(self.next) {
            if a.at_s > cx.t_s {
                break;
            }
            let _ = venue.submit(&a.order, cx);
            self.next += 1;
        }
    }
}
