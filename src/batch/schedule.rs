//! The nightly schedule: a run at a fixed local time in a time zone
//! (default 02:00 Asia/Shanghai).

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// When the nightly run starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// Local time of day.
    pub at: NaiveTime,
    /// Time zone of `at`.
    pub tz: Tz,
}

impl Schedule {
    /// Parses `HH:MM` and an IANA zone name such as `Asia/Shanghai`.
    ///
    /// ```
    /// let s = jobbridge::batch::schedule::Schedule::parse("02:00", "Asia/Shanghai").unwrap();
    /// assert_eq!(s.at.to_string(), "02:00:00");
    /// assert!(jobbridge::batch::schedule::Schedule::parse("25:00", "Asia/Shanghai").is_err());
    /// ```
    pub fn parse(at: &str, tz: &str) -> Result<Self, String> {
        let at = NaiveTime::parse_from_str(at, "%H:%M")
            .map_err(|_| format!("batch time must be HH:MM, got {at:?}"))?;
        let tz: Tz = tz
            .parse()
            .map_err(|_| format!("unknown time zone {tz:?}"))?;
        Ok(Self { at, tz })
    }

    /// The first start strictly after `now`.
    pub fn next_after(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let local = now.with_timezone(&self.tz);
        let mut day = local.date_naive();
        loop {
            // A time skipped by a DST change does not exist that day; an
            // ambiguous one takes its first occurrence.
            if let Some(t) = self
                .tz
                .from_local_datetime(&day.and_time(self.at))
                .earliest()
            {
                let t = t.with_timezone(&Utc);
                if t > now {
                    return t;
                }
            }
            day = day.succ_opt().expect("date in range");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_run_is_the_coming_two_am_in_shanghai() {
        let s = Schedule::parse("02:00", "Asia/Shanghai").unwrap();
        // 2026-11-29 12:00 UTC is 20:00 in Shanghai: next is 02:00 local on
        // the 30th, which is 18:00 UTC on the 29th.
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 12, 0, 0).unwrap();
        assert_eq!(
            s.next_after(now),
            Utc.with_ymd_and_hms(2026, 11, 29, 18, 0, 0).unwrap()
        );
        // Exactly at the time: the next day's.
        let at = Utc.with_ymd_and_hms(2026, 11, 29, 18, 0, 0).unwrap();
        assert_eq!(
            s.next_after(at),
            Utc.with_ymd_and_hms(2026, 11, 30, 18, 0, 0).unwrap()
        );
    }

    #[test]
    fn a_time_skipped_by_dst_moves_to_the_next_day() {
        // 02:30 does not exist in New York on 2026-03-08.
        let s = Schedule::parse("02:30", "America/New_York").unwrap();
        let now = Utc.with_ymd_and_hms(2026, 3, 8, 5, 0, 0).unwrap();
        let next = s.next_after(now);
        assert_eq!(
            next.with_timezone(&s.tz).date_naive(),
            chrono::NaiveDate::from_ymd_opt(2026, 3, 9).unwrap()
        );
    }
}
