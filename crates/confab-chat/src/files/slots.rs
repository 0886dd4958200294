//! Upload bodies in flight: a bound on how many confab receives at once, in all and per
//! uploader. A slot is held for as long as its body takes and given back when dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use confab_core::UserId;

#[derive(Default)]
struct Counts {
    total: usize,
    per_user: HashMap<UserId, usize>,
}

pub(super) struct Slots {
    max_total: usize,
    max_per_user: usize,
    counts: Arc<Mutex<Counts>>,
}

/// One upload's slot.
pub(super) struct Slot {
    user: UserId,
    counts: Arc<Mutex<Counts>>,
}

impl Slots {
    /// `0` means no bound.
    pub(super) fn new(max_total: usize, max_per_user: usize) -> Self {
        Self {
            max_total: if max_total == 0 {
                usize::MAX
            } else {
                max_total
            },
            max_per_user: if max_per_user == 0 {
                usize::MAX
            } else {
                max_per_user
            },
            counts: Arc::default(),
        }
    }

    /// A slot for `user`'s upload, if one is free.
    pub(super) fn take(&self, user: &UserId) -> Option<Slot> {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let mine = counts.per_user.get(user).copied().unwrap_or(0);
        if counts.total >= self.max_total || mine >= self.max_per_user {
            return None;
        }
        counts.total += 1;
        counts.per_user.insert(user.clone(), mine + 1);
        Some(Slot {
            user: user.clone(),
            counts: self.counts.clone(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_user.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                counts.per_user.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_bound_all_and_each_and_come_back() {
        let slots = Slots::new(3, 2);
        let (a, b) = (UserId::generate(), UserId::generate());
        let a1 = slots.take(&a).expect("a1");
        let _a2 = slots.take(&a).expect("a2");
        assert!(slots.take(&a).is_none(), "two per user");
        let _b1 = slots.take(&b).expect("b1");
        assert!(slots.take(&b).is_none(), "three in all");
        drop(a1);
        assert!(slots.take(&b).is_some(), "a slot given back is free again");
        let unbounded = Slots::new(0, 0);
        let held: Vec<_> = (0..100).filter_map(|_| unbounded.take(&a)).collect();
        assert_eq!(held.len(), 100);
    }
}
