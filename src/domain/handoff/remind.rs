//! Reminders: the sender of an open handoff reminds the recipient, at most once per interval,
//! so a report nobody picks up does not fall between the cracks (tussen wal en schip).

use chrono::{DateTime, Duration, Utc};

use super::{HandoffStatus, is_open};
use crate::domain::{check_text, refusal::Refusal};

/// A reminder is sent on an open handoff, with a note that is not blank when given, and not
/// within `interval_hours` of the last one.
pub fn decide_reminder(
    status: HandoffStatus,
    last_reminder: Option<DateTime<Utc>>,
    note: Option<&str>,
    interval_hours: u32,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    Refusal::unless_invalid(
        note.and_then(|n| check_text("note", n))
            .into_iter()
            .collect(),
    )?;
    if !is_open(status) {
        return Err(Refusal::HandoffNotOpen { status });
    }
    if let Some(last) = last_reminder {
        let next_at = last + Duration::hours(i64::from(interval_hours));
        if now < next_at {
            return Err(Refusal::ReminderTooSoon { next_at });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::reference::Labelled;

    #[test]
    fn an_open_handoff_is_reminded_once_per_interval() {
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 0).unwrap();
        for status in HandoffStatus::ALL {
            let expected = if is_open(*status) {
                Ok(())
            } else {
                Err(Refusal::HandoffNotOpen { status: *status })
            };
            assert_eq!(
                decide_reminder(*status, None, None, 24, now),
                expected,
                "{status:?}"
            );
        }
        let open = HandoffStatus::Received;
        let last = now - Duration::hours(23);
        assert_eq!(
            decide_reminder(open, Some(last), None, 24, now),
            Err(Refusal::ReminderTooSoon {
                next_at: last + Duration::hours(24)
            })
        );
        assert_eq!(
            decide_reminder(open, Some(now - Duration::hours(24)), None, 24, now),
            Ok(())
        );
        assert_eq!(decide_reminder(open, Some(last), None, 12, now), Ok(()));
        assert!(matches!(
            decide_reminder(open, None, Some("  "), 24, now),
            Err(Refusal::Invalid(e)) if e[0].field == "note"
        ));
    }
}
