//! Console sessions: a signed-in token's cookie, its CSRF token, expiry,
//! sign-out, and the slowing of repeated failed sign-ins.
//!
//! A session id is 32 random bytes (base64url), sent only in an `HttpOnly;
//! SameSite=Strict` cookie (`Secure` under TLS) and kept in memory with
//! the caller it stands for: a restart signs everyone out, which is what a
//! restart of a county's server should do. The token's secret is not kept:
//! every request re-reads the token's record, so a revoked token ends its
//! sessions at the next click ([`crate::service::Service::still_valid`]).
//!
//! Every form that changes state carries the session's CSRF token, compared
//! in constant time; the sign-in form, before any session exists, carries a
//! pre-session token that must equal its own cookie (double submit).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use rand::RngCore;

use crate::domain::access::Caller;

/// A session ends this long after its last request.
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// And at the latest this long after sign-in.
pub const ABSOLUTE: Duration = Duration::from_secs(12 * 3600);
/// Failed sign-ins from one address allowed before each further attempt
/// must wait.
pub const FREE_FAILURES: u32 = 3;
/// The longest wait imposed after failed sign-ins.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// Most sessions kept at once; the oldest is dropped beyond.
const MAX_SESSIONS: usize = 100_000;

/// One signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who signed in.
    pub caller: Caller,
    /// The token every state-changing form must carry.
    pub csrf: String,
    started: Instant,
    seen: Instant,
}

/// Failed sign-ins of one address.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// The sessions of one server, and its sign-in throttle.
#[derive(Default)]
pub struct Sessions {
    live: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<IpAddr, Failures>>,
}

/// A fresh random token: 32 bytes, base64url without padding.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `a` equals `b`, in time that depends only on their lengths.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Sessions {
    /// Starts a session for `caller`; answers its id (for the cookie).
    pub fn start(&self, caller: Caller) -> String {
        self.start_at(caller, Instant::now())
    }

    fn start_at(&self, caller: Caller, now: Instant) -> String {
        let id = random_token();
        let session = Session {
            caller,
            csrf: random_token(),
            started: now,
            seen: now,
        };
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        if live.len() >= MAX_SESSIONS {
            live.retain(|_, s| !expired(s, now));
            if live.len() >= MAX_SESSIONS {
                if let Some(oldest) = live
                    .iter()
                    .min_by_key(|(_, s)| s.seen)
                    .map(|(k, _)| k.clone())
                {
                    live.remove(&oldest);
                }
            }
        }
        live.insert(id.clone(), session);
        id
    }

    /// The live session `id`, marked as seen now; `None` if unknown or
    /// expired (an expired one is removed).
    pub fn get(&self, id: &str) -> Option<Session> {
        self.get_at(id, Instant::now())
    }

    fn get_at(&self, id: &str, now: Instant) -> Option<Session> {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let session = live.get_mut(id)?;
        if expired(session, now) {
            live.remove(id);
            return None;
        }
        session.seen = now;
        Some(session.clone())
    }

    /// Ends session `id` (sign-out, or its token found revoked).
    pub fn end(&self, id: &str) {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    /// Ends every session of token `token_id`.
    pub fn end_token(&self, token_id: &str) {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, s| s.caller.token_id != token_id);
    }

    /// How long `from` must still wait before it may try to sign in again;
    /// `None` if it may try now.
    pub fn wait(&self, from: IpAddr) -> Option<Duration> {
        self.wait_at(from, Instant::now())
    }

    fn wait_at(&self, from: IpAddr, now: Instant) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let f = failures.get(&from)?;
        let until = f.last + penalty(f.count);
        (until > now).then(|| until - now)
    }

    /// Records a failed sign-in from `from`.
    pub fn failed(&self, from: IpAddr) {
        self.failed_at(from, Instant::now());
    }

    fn failed_at(&self, from: IpAddr, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() > 100_000 {
            failures.retain(|_, f| now.duration_since(f.last) < MAX_WAIT * 2);
        }
        let f = failures.entry(from).or_insert(Failures {
            count: 0,
            last: now,
        });
        f.count = f.count.saturating_add(1);
        f.last = now;
    }

    /// Forgets the failures of `from` (a successful sign-in).
    pub fn succeeded(&self, from: IpAddr) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&from);
    }
}

fn expired(s: &Session, now: Instant) -> bool {
    now.duration_since(s.seen) >= IDLE || now.duration_since(s.started) >= ABSOLUTE
}

/// The wait after `count` failures: none for the first [`FREE_FAILURES`],
/// then 1, 2, 4, ... seconds up to [`MAX_WAIT`].
pub fn penalty(count: u32) -> Duration {
    if count < FREE_FAILURES {
        return Duration::ZERO;
    }
    let doubling = (count - FREE_FAILURES).min(16);
    Duration::from_secs(1u64 << doubling).min(MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access::{Role, Scope};

    fn caller(id: &str) -> Caller {
        Caller {
            token_id: id.into(),
            role: Role::ServiceCompany,
            scope: Scope {
                counties: vec!["431202".into()],
                employer_id: None,
            },
        }
    }

    #[test]
    fn sessions_expire_when_idle_and_at_the_absolute_limit() {
        let s = Sessions::default();
        let t0 = Instant::now();
        let id = s.start_at(caller("t1"), t0);
        assert!(s.get_at(&id, t0 + IDLE / 2).is_some());
        // Seen at IDLE/2: alive until IDLE/2 + IDLE.
        assert!(s.get_at(&id, t0 + IDLE).is_some());
        assert!(s
            .get_at(&id, t0 + IDLE * 2 + Duration::from_secs(1))
            .is_none());
        // Gone for good once expired.
        assert!(s.get_at(&id, t0).is_none());
        // A busy session still ends at the absolute limit.
        let id = s.start_at(caller("t1"), t0);
        let mut at = t0;
        while at < t0 + ABSOLUTE - IDLE {
            at += IDLE / 2;
            assert!(s.get_at(&id, at).is_some());
        }
        assert!(s.get_at(&id, t0 + ABSOLUTE).is_none());
    }

    #[test]
    fn ids_and_csrf_tokens_are_random_and_distinct() {
        let s = Sessions::default();
        let a = s.start(caller("t1"));
        let b = s.start(caller("t1"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        let (sa, sb) = (s.get(&a).unwrap(), s.get(&b).unwrap());
        assert_ne!(sa.csrf, sb.csrf);
        assert_ne!(sa.csrf, a);
    }

    #[test]
    fn sign_out_and_revocation_end_sessions() {
        let s = Sessions::default();
        let a = s.start(caller("t1"));
        let b = s.start(caller("t1"));
        let c = s.start(caller("t2"));
        s.end(&a);
        assert!(s.get(&a).is_none());
        s.end_token("t1");
        assert!(s.get(&b).is_none());
        assert!(s.get(&c).is_some());
    }

    #[test]
    fn failed_sign_ins_are_slowed_down_and_forgiven_on_success() {
        let s = Sessions::default();
        let ip: IpAddr = "10.0.0.7".parse().unwrap();
        let other: IpAddr = "10.0.0.8".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..FREE_FAILURES - 1 {
            s.failed_at(ip, t0);
            assert_eq!(s.wait_at(ip, t0), None);
        }
        s.failed_at(ip, t0);
        assert_eq!(s.wait_at(ip, t0), Some(Duration::from_secs(1)));
        s.failed_at(ip, t0);
        assert_eq!(s.wait_at(ip, t0), Some(Duration::from_secs(2)));
        assert_eq!(s.wait_at(ip, t0 + Duration::from_secs(2)), None);
        assert_eq!(s.wait_at(other, t0), None);
        for _ in 0..40 {
            s.failed_at(ip, t0);
        }
        assert_eq!(s.wait_at(ip, t0), Some(MAX_WAIT));
        s.succeeded(ip);
        assert_eq!(s.wait_at(ip, t0), None);
    }

    #[test]
    fn csrf_comparison_needs_equal_strings() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
        assert!(!same("", "a"));
    }
}
