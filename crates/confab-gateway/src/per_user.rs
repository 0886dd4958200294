//! The sockets each user holds on this gateway, so that one user (one stolen or scripted
//! token) cannot take every connection slot from everyone else.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use confab_core::UserId;

use crate::lock;

pub(crate) struct PerUser {
    max: usize,
    counts: Mutex<HashMap<UserId, usize>>,
}

/// One of a user's sockets; gives its place back when dropped.
pub(crate) struct Slot {
    owner: Arc<PerUser>,
    user: UserId,
}

impl PerUser {
    pub(crate) fn new(max: usize) -> Arc<Self> {
        Arc::new(Self {
            max,
            counts: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for one more socket of `user`, unless they hold `max` already. Taken before the
    /// upgrade, so handshakes in flight count too.
    pub(crate) fn take(self: &Arc<Self>, user: &UserId) -> Option<Slot> {
        let mut counts = lock(&self.counts);
        let count = counts.entry(user.clone()).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Slot {
            owner: self.clone(),
            user: user.clone(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = lock(&self.owner.counts);
        if let Some(count) = counts.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_holds_at_most_max_and_dropped_slots_come_back() {
        let per_user = PerUser::new(2);
        let (ada, bob) = (UserId::generate(), UserId::generate());
        let a1 = per_user.take(&ada).expect("first");
        let _a2 = per_user.take(&ada).expect("second");
        assert!(per_user.take(&ada).is_none(), "a third is refused");
        assert!(per_user.take(&bob).is_some(), "others are not affected");
        drop(a1);
        assert!(
            per_user.take(&ada).is_some(),
            "a closed socket frees its slot"
        );
        drop(per_user.take(&bob));
        assert!(
            !lock(&per_user.counts).contains_key(&bob),
            "no entry lingers"
        );
    }
}
