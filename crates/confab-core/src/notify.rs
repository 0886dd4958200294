//! Notification preferences and the one rule that decides, from them, whether a user hears
//! about a message: the same for the worker that expands a message into notifications and
//! the one that delivers them later (preferences may change in between).

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::time::Timestamp;

/// How much of a channel notifies. `Default` defers: a channel's to the user's own level, the
/// user's to their workspace's default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NotifyLevel {
    #[default]
    Default,
    All,
    Mentions,
    None,
}

impl NotifyLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyLevel::Default => "default",
            NotifyLevel::All => "all",
            NotifyLevel::Mentions => "mentions",
            NotifyLevel::None => "none",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "default" => Some(NotifyLevel::Default),
            "all" => Some(NotifyLevel::All),
            "mentions" => Some(NotifyLevel::Mentions),
            "none" => Some(NotifyLevel::None),
            _ => None,
        }
    }

    /// `self`, or `fallback` where `self` defers.
    pub fn or(self, fallback: NotifyLevel) -> NotifyLevel {
        if self == NotifyLevel::Default {
            fallback
        } else {
            self
        }
    }
}

/// Why a user hears about a message, strongest first: a user reached several ways is told
/// the strongest (a DM that also names them is a DM).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyReason {
    Dm,
    Mention,
    Thread,
    /// `@channel` or `@everyone`.
    Channel,
    /// `@here`, for those online when it was sent.
    Here,
    /// Only because the user wants every message of the channel.
    All,
}

impl NotifyReason {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyReason::Dm => "dm",
            NotifyReason::Mention => "mention",
            NotifyReason::Thread => "thread",
            NotifyReason::Channel => "channel",
            NotifyReason::Here => "here",
            NotifyReason::All => "all",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "dm" => Some(NotifyReason::Dm),
            "mention" => Some(NotifyReason::Mention),
            "thread" => Some(NotifyReason::Thread),
            "channel" => Some(NotifyReason::Channel),
            "here" => Some(NotifyReason::Here),
            "all" => Some(NotifyReason::All),
            _ => None,
        }
    }

    /// `@channel`, `@everyone`, `@here`: what a channel's `ignore_channel_mentions` ignores.
    pub fn is_broadcast(self) -> bool {
        matches!(self, NotifyReason::Channel | NotifyReason::Here)
    }
}

/// A daily quiet period in the user's time zone, as minutes after midnight. `start > end`
/// spans midnight (22:00 to 08:00); `start == end` is never quiet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DndSchedule {
    pub start_minute: u16,
    pub end_minute: u16,
}

impl DndSchedule {
    /// From `"HH:MM"` texts.
    pub fn parse(start: &str, end: &str) -> Result<Self, PrefsError> {
        Ok(Self {
            start_minute: minute_of_day(start)?,
            end_minute: minute_of_day(end)?,
        })
    }

    pub fn contains(self, minute: u16) -> bool {
        let (s, e) = (self.start_minute, self.end_minute);
        if s <= e {
            s <= minute && minute < e
        } else {
            minute >= s || minute < e
        }
    }

    pub fn start_text(self) -> String {
        hh_mm(self.start_minute)
    }

    pub fn end_text(self) -> String {
        hh_mm(self.end_minute)
    }
}

fn hh_mm(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn minute_of_day(raw: &str) -> Result<u16, PrefsError> {
    let bad = || PrefsError("dnd times must be HH:MM, 00:00 to 23:59".into());
    let (h, m) = raw.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u16 = h.parse().map_err(|_| bad())?;
    let m: u16 = m.parse().map_err(|_| bad())?;
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// Longest email batching interval: a day.
pub const MAX_EMAIL_INTERVAL_MINUTES: u32 = 1440;
/// Longest snooze: a week.
pub const MAX_SNOOZE_MINUTES: i64 = 10_080;

/// A user's own settings, for every workspace they are in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyPrefs {
    pub level: NotifyLevel,
    pub push: bool,
    pub email: bool,
    /// At most one email digest per this many minutes (0: as soon as one is due).
    pub email_interval_minutes: u32,
    /// An IANA time zone name, checked on the way in.
    pub time_zone: String,
    pub dnd: Option<DndSchedule>,
    pub snooze_until: Option<Timestamp>,
}

impl Default for NotifyPrefs {
    fn default() -> Self {
        Self {
            level: NotifyLevel::Default,
            push: true,
            email: true,
            email_interval_minutes: 15,
            time_zone: "UTC".to_owned(),
            dnd: None,
            snooze_until: None,
        }
    }
}

/// A time zone name as the IANA database knows it (`Europe/Berlin`, `UTC`).
pub fn check_time_zone(name: &str) -> Result<(), PrefsError> {
    if name.len() <= 64 && jiff::tz::TimeZone::get(name).is_ok() {
        Ok(())
    } else {
        Err(PrefsError(format!("{name:?} is not a known time zone")))
    }
}

impl NotifyPrefs {
    /// Whether nothing may be sent at `now`: snoozed, or inside the DND schedule.
    pub fn quiet_at(&self, now: Timestamp) -> bool {
        if self.snooze_until.is_some_and(|until| until > now) {
            return true;
        }
        let Some(dnd) = self.dnd else { return false };
        let Ok(tz) = jiff::tz::TimeZone::get(&self.time_zone) else {
            return false;
        };
        let Ok(at) = jiff::Timestamp::from_microsecond(now.as_micros()) else {
            return false;
        };
        let local = at.to_zoned(tz);
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        dnd.contains(minute)
    }
}

/// A user's settings for one channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ChannelNotifyPrefs {
    pub level: NotifyLevel,
    pub muted: bool,
    pub ignore_channel_mentions: bool,
}

impl ChannelNotifyPrefs {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// Whether someone reached by `reason` in a channel hears of it, by the level that applies
/// there (channel, else user, else `workspace_default`), mute and broadcast-ignoring. Quiet
/// hours are the delivery's business ([`NotifyPrefs::quiet_at`]): they drop, never delay.
pub fn wants(
    user: &NotifyPrefs,
    channel: &ChannelNotifyPrefs,
    workspace_default: NotifyLevel,
    reason: NotifyReason,
) -> bool {
    if channel.muted {
        return false;
    }
    if reason.is_broadcast() && channel.ignore_channel_mentions {
        return false;
    }
    match effective_level(user, channel, workspace_default) {
        NotifyLevel::None => false,
        NotifyLevel::All => true,
        NotifyLevel::Mentions | NotifyLevel::Default => reason != NotifyReason::All,
    }
}

pub fn effective_level(
    user: &NotifyPrefs,
    channel: &ChannelNotifyPrefs,
    workspace_default: NotifyLevel,
) -> NotifyLevel {
    channel
        .level
        .or(user.level)
        .or(workspace_default)
        .or(NotifyLevel::Mentions)
}

/// A refused preference, said in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PrefsError(pub String);

impl PrefsError {
    pub fn code(&self) -> ErrorCode {
        ErrorCode::InvalidPreferences
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use NotifyLevel as L;
    use NotifyReason as R;

    fn user(level: L) -> NotifyPrefs {
        NotifyPrefs {
            level,
            ..NotifyPrefs::default()
        }
    }

    #[test]
    fn levels_mute_and_ignore_decide_by_reason() {
        let plain = ChannelNotifyPrefs::default();
        // (user level, channel prefs, workspace default, reason, heard)
        let muted = ChannelNotifyPrefs {
            muted: true,
            ..plain
        };
        let ignoring = ChannelNotifyPrefs {
            ignore_channel_mentions: true,
            ..plain
        };
        let channel_all = ChannelNotifyPrefs {
            level: L::All,
            ..plain
        };
        let channel_none = ChannelNotifyPrefs {
            level: L::None,
            ..plain
        };
        let cases = [
            (L::Default, plain, L::Mentions, R::Mention, true),
            (L::Default, plain, L::Mentions, R::All, false),
            (L::Default, plain, L::All, R::All, true),
            (L::Default, plain, L::None, R::Dm, false),
            (L::Mentions, plain, L::All, R::All, false),
            (L::None, plain, L::All, R::Dm, false),
            (L::All, plain, L::Mentions, R::All, true),
            (L::Mentions, muted, L::Mentions, R::Mention, false),
            (L::Mentions, muted, L::Mentions, R::Dm, false),
            (L::Mentions, ignoring, L::Mentions, R::Channel, false),
            (L::Mentions, ignoring, L::Mentions, R::Here, false),
            (L::Mentions, ignoring, L::Mentions, R::Mention, true),
            (L::None, channel_all, L::Mentions, R::All, true),
            (L::All, channel_none, L::Mentions, R::Mention, false),
            (L::Mentions, plain, L::Mentions, R::Thread, true),
        ];
        for (level, channel, default, reason, heard) in cases {
            assert_eq!(
                wants(&user(level), &channel, default, reason),
                heard,
                "{level:?} {channel:?} {default:?} {reason:?}"
            );
        }
    }

    #[test]
    fn dnd_spans_midnight_in_the_users_time_zone() {
        let dnd = DndSchedule::parse("22:00", "08:00").expect("valid");
        assert!(dnd.contains(23 * 60) && dnd.contains(0) && dnd.contains(7 * 60 + 59));
        assert!(!dnd.contains(8 * 60) && !dnd.contains(12 * 60));
        let day = DndSchedule::parse("09:00", "17:30").expect("valid");
        assert!(day.contains(9 * 60) && !day.contains(17 * 60 + 30));
        assert!(
            !DndSchedule::parse("10:00", "10:00")
                .expect("valid")
                .contains(600)
        );
        for bad in ["24:00", "9:00", "09:60", "0900", "", "ab:cd"] {
            assert!(DndSchedule::parse(bad, "08:00").is_err(), "{bad}");
        }

        // 2026-01-15 21:30 UTC is 22:30 in Berlin (CET, +1) and 16:30 in New York.
        let at = Timestamp::from_micros(1_768_512_600_000_000);
        let mut prefs = NotifyPrefs {
            dnd: Some(dnd),
            time_zone: "Europe/Berlin".into(),
            ..NotifyPrefs::default()
        };
        assert!(prefs.quiet_at(at));
        prefs.time_zone = "America/New_York".into();
        assert!(!prefs.quiet_at(at));
    }

    #[test]
    fn a_snooze_holds_until_it_ends() {
        let now = Timestamp::from_micros(1_000_000_000_000);
        let prefs = NotifyPrefs {
            snooze_until: Some(now.plus_secs(60)),
            ..NotifyPrefs::default()
        };
        assert!(prefs.quiet_at(now));
        assert!(!prefs.quiet_at(now.plus_secs(60)));
    }

    #[test]
    fn time_zones_are_checked() {
        assert!(check_time_zone("Europe/Berlin").is_ok());
        assert!(check_time_zone("UTC").is_ok());
        assert!(check_time_zone("Mars/Olympus").is_err());
        assert!(check_time_zone("../../etc/passwd").is_err());
    }
}
