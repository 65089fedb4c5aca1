//! Dutch working days and the clock in the Netherlands, for handoff deadlines.
//!
//! Holidays are those of the Algemene termijnenwet: New Year's Day, Easter Monday, King's Day,
//! Liberation Day (5 May), Ascension Day, Whit Monday and both Christmas days — computed from the
//! date of Easter, never hard-coded per year. The clock is `Europe/Amsterdam` from the IANA time
//! zone database (chrono-tz).

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, LocalResult, NaiveDate, Offset, TimeZone, Utc,
    Weekday,
};
use chrono_tz::{Europe::Amsterdam, Tz};

/// Easter Sunday in the Gregorian calendar (the anonymous algorithm, Meeus/Jones/Butcher).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).unwrap_or_default()
}

/// King's Day: 27 April, or the 26th when the 27th is a Sunday.
fn kings_day(year: i32) -> NaiveDate {
    let day = NaiveDate::from_ymd_opt(year, 4, 27).unwrap_or_default();
    if day.weekday() == Weekday::Sun {
        day - Duration::days(1)
    } else {
        day
    }
}

/// The public holidays of a year (Algemene termijnenwet).
pub fn holidays(year: i32) -> Vec<NaiveDate> {
    let easter = easter_sunday(year);
    let date = |m, d| NaiveDate::from_ymd_opt(year, m, d).unwrap_or_default();
    vec![
        date(1, 1),
        easter + Duration::days(1),
        kings_day(year),
        date(5, 5),
        easter + Duration::days(39),
        easter + Duration::days(50),
        date(12, 25),
        date(12, 26),
    ]
}

pub fn is_working_day(day: NaiveDate) -> bool {
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !holidays(day.year()).contains(&day)
}

/// The Netherlands' UTC offset at an instant: +02:00 in summer time, else +01:00.
pub fn dutch_offset(at: DateTime<Utc>) -> FixedOffset {
    to_dutch_time(at).offset().fix()
}

pub fn to_dutch_time(at: DateTime<Utc>) -> DateTime<Tz> {
    at.with_timezone(&Amsterdam)
}

/// Today's date in the Netherlands.
pub fn dutch_today() -> NaiveDate {
    to_dutch_time(Utc::now()).date_naive()
}

/// The instant a Dutch day begins (midnight in the Netherlands).
pub fn start_of_dutch_day(day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    match Amsterdam.from_local_datetime(&midnight) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        // The Netherlands never skips midnight; a day without one would start at its UTC time.
        LocalResult::None => midnight.and_utc(),
    }
}

/// `working_days` Dutch working days after `from`, at the same time of day in the Netherlands.
/// A start outside working days counts from the first working day after it.
pub fn add_working_days(from: DateTime<Utc>, working_days: u32) -> DateTime<Utc> {
    let local = to_dutch_time(from);
    let mut day = local.date_naive();
    let mut remaining = working_days;
    while remaining > 0 {
        day += Duration::days(1);
        if is_working_day(day) {
            remaining -= 1;
        }
    }
    // The same local time on that day; around the switch, the earlier of two, or just after a
    // skipped hour.
    let naive = day.and_time(local.time());
    match Amsterdam.from_local_datetime(&naive) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => Amsterdam
            .from_local_datetime(&(naive + Duration::hours(1)))
            .earliest()
            .map_or_else(|| naive.and_utc(), |t| t.with_timezone(&Utc)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn easter_is_computed_for_any_year() {
        for (year, easter) in [
            (2024, "2024-03-31"),
            (2025, "2025-04-20"),
            (2026, "2026-04-05"),
            (2027, "2027-03-28"),
            (2030, "2030-04-21"),
            (2038, "2038-04-25"),
            (2285, "2285-03-22"),
        ] {
            assert_eq!(easter_sunday(year), date(easter), "{year}");
        }
    }

    #[test]
    fn dutch_holidays_of_2026() {
        let expected = [
            "2026-01-01", // Nieuwjaarsdag
            "2026-04-06", // Tweede Paasdag
            "2026-04-27", // Koningsdag
            "2026-05-05", // Bevrijdingsdag
            "2026-05-14", // Hemelvaartsdag
            "2026-05-25", // Tweede Pinksterdag
            "2026-12-25",
            "2026-12-26",
        ];
        assert_eq!(holidays(2026), expected.map(date).to_vec());
        // King's Day moves to Saturday the 26th when the 27th is a Sunday.
        assert!(holidays(2025).contains(&date("2025-04-26")));
        assert!(!holidays(2025).contains(&date("2025-04-27")));
    }

    #[test]
    fn working_days() {
        for (day, working) in [
            ("2026-11-20", true),  // Friday
            ("2026-11-21", false), // Saturday
            ("2026-11-22", false), // Sunday
            ("2026-11-23", true),  // Monday
            ("2026-04-03", true),  // Good Friday is not a holiday under the termijnenwet
            ("2026-04-06", false), // Easter Monday
            ("2026-05-14", false), // Ascension Day
            ("2026-12-25", false),
        ] {
            assert_eq!(is_working_day(date(day)), working, "{day}");
        }
    }

    #[test]
    fn summer_and_winter_time() {
        for (instant, hours) in [
            ("2026-01-15T12:00:00Z", 1),
            ("2026-03-29T00:59:59Z", 1),
            ("2026-03-29T01:00:00Z", 2),
            ("2026-07-01T12:00:00Z", 2),
            ("2026-10-25T00:59:59Z", 2),
            ("2026-10-25T01:00:00Z", 1),
        ] {
            assert_eq!(
                dutch_offset(at(instant)).local_minus_utc(),
                hours * 3600,
                "{instant}"
            );
        }
    }

    /// Deadlines across weekends, holidays and the clock change, in Dutch local time.
    #[test]
    fn adding_working_days() {
        let cases = [
            // Tuesday 10:00 (CET) + 1 → Wednesday 10:00.
            ("2026-11-24T09:00:00Z", 1, "2026-11-25T09:00:00Z"),
            // Friday + 1 → Monday.
            ("2026-11-20T14:00:00Z", 1, "2026-11-23T14:00:00Z"),
            // Saturday + 1 → Monday.
            ("2026-11-21T10:00:00Z", 1, "2026-11-23T10:00:00Z"),
            // Monday + 5 → next Monday.
            ("2026-11-23T08:00:00Z", 5, "2026-11-30T08:00:00Z"),
            // Thursday before Easter + 5 skips Easter Monday: Fri, Tue, Wed, Thu, Fri.
            ("2026-04-02T08:00:00Z", 5, "2026-04-10T08:00:00Z"),
            // Christmas: Wednesday 23 Dec + 2 → Monday 28 Dec (25th and 26th are holidays).
            ("2026-12-23T08:00:00Z", 2, "2026-12-28T08:00:00Z"),
            // Across the spring clock change: 10:00 CET Friday → 10:00 CEST Monday (08:00 UTC).
            ("2026-03-27T09:00:00Z", 1, "2026-03-30T08:00:00Z"),
            // King's Day (Monday 27 April 2026) and Liberation Day (Tuesday 5 May).
            ("2026-04-24T08:00:00Z", 1, "2026-04-28T08:00:00Z"),
            ("2026-05-04T08:00:00Z", 1, "2026-05-06T08:00:00Z"),
            // Zero working days: unchanged.
            ("2026-11-21T10:00:00Z", 0, "2026-11-21T10:00:00Z"),
        ];
        for (from, days, due) in cases {
            assert_eq!(add_working_days(at(from), days), at(due), "{from} + {days}");
        }
    }
}
