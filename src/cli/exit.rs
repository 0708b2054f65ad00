//! Exit codes of the `jobbridge` binary, from the BSD `sysexits.h` set so
//! that scripts and systemd can tell a retry from a fix:
//!
//! | code | meaning | examples |
//! | --- | --- | --- |
//! | 0 | done | |
//! | 2 | usage: a flag, a setting or the config file is wrong | unknown flag, unknown key in `--config`, plaintext on a public address |
//! | 65 | data: the server, the service or the store refused the input | INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, a wrong national id key, a truncated or damaged backup file, a non-empty restore directory, a ledger that is not a .csv or .xlsx or lacks its columns |
//! | 69 | unavailable: try again later or elsewhere | no server at `--server`, the data directory held by a running server, the port taken |
//! | 70 | internal: a bug or a broken store; see the log | anything else |

use crate::domain::Lang;
use crate::launch::LaunchError;
use crate::server::ServeError;
use crate::service::ServiceError;
use crate::store::StoreError;

/// Usage error (clap uses it too).
pub const USAGE: u8 = 2;
/// The input was refused.
pub const DATA: u8 = 65;
/// A server or the data directory is not available now.
pub const UNAVAILABLE: u8 = 69;
/// Anything else.
pub const INTERNAL: u8 = 70;

/// A status a server answered, kept whole for [`code_for`] and shown as
/// `CODE: message`.
#[derive(Debug)]
pub struct Remote(pub tonic::Status);

impl std::fmt::Display for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.0.code(), self.0.message())
    }
}

impl std::error::Error for Remote {}

/// A flag's value the command refused before doing anything (exit 2).
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// Input the command refused itself before sending or storing anything (a
/// ledger of the wrong type or without its columns): exit 65, like a
/// server's refusal of the same file. Shown as the error it wraps, causes
/// and all.
#[derive(Debug)]
pub struct Refused(pub anyhow::Error);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Refused {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// A service's refusal on a data directory, worded in `lang`; it exits as
/// the server's refusal of the same call would.
pub fn in_lang(error: ServiceError, lang: Lang) -> anyhow::Error {
    anyhow::Error::new(InLang {
        text: error.text(lang),
        error,
    })
}

#[derive(Debug)]
struct InLang {
    text: String,
    error: ServiceError,
}

impl std::fmt::Display for InLang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for InLang {}

/// Prints `error` and its causes on standard error, never a backtrace
/// (people read this; RUST_BACKTRACE is for the developers' panics), and
/// returns its exit code.
pub fn report(error: &anyhow::Error) -> u8 {
    eprintln!("Error: {}", describe(error.as_ref()));
    for cause in error.chain().skip(1) {
        eprintln!("  caused by: {}", describe(cause));
    }
    code_for(error)
}

/// How one cause of an error is printed: a server's status as
/// `Code: message` whether a command wrapped it in [`Remote`] or not.
pub fn describe(cause: &(dyn std::error::Error + 'static)) -> String {
    match cause.downcast_ref::<tonic::Status>() {
        Some(status) => Remote(status.clone()).to_string(),
        None => cause.to_string(),
    }
}

/// The exit code for `error`, from the first cause in its chain that
/// tells.
pub fn code_for(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if let Some(code) = classify(cause) {
            return code;
        }
    }
    INTERNAL
}

fn classify(cause: &(dyn std::error::Error + 'static)) -> Option<u8> {
    use tonic::Code;
    // A server's answer, wrapped or not: every command exits alike on it.
    let status = cause
        .downcast_ref::<Remote>()
        .map(|r| &r.0)
        .or_else(|| cause.downcast_ref::<tonic::Status>());
    if let Some(status) = status {
        return Some(match status.code() {
            Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted => UNAVAILABLE,
            Code::Internal | Code::Unknown | Code::DataLoss | Code::Unimplemented => INTERNAL,
            _ => DATA,
        });
    }
    if cause.downcast_ref::<Usage>().is_some() {
        return Some(USAGE);
    }
    if cause.downcast_ref::<Refused>().is_some() {
        return Some(DATA);
    }
    if let Some(e) = cause.downcast_ref::<ServeError>() {
        return serve(e);
    }
    if cause.downcast_ref::<tonic::transport::Error>().is_some() {
        return Some(UNAVAILABLE);
    }
    if let Some(e) = cause.downcast_ref::<StoreError>() {
        return store(e);
    }
    if let Some(e) = cause
        .downcast_ref::<ServiceError>()
        .or_else(|| cause.downcast_ref::<InLang>().map(|e| &e.error))
    {
        return Some(service(e));
    }
    if let Some(e) = cause.downcast_ref::<LaunchError>() {
        return Some(match e {
            LaunchError::Config(_) => USAGE,
            LaunchError::Listen { .. } => UNAVAILABLE,
            LaunchError::IdKey(_) | LaunchError::Tls(_) => DATA,
            LaunchError::Open { source, .. } => store(source).unwrap_or(INTERNAL),
            LaunchError::Store(source) => store(source).unwrap_or(INTERNAL),
            // Transparent: its own source is the server error's source.
            LaunchError::Serve(e) => return serve(e),
            LaunchError::Demo(_) | LaunchError::RankPool(_) | LaunchError::Runtime(_) => {
                return None
            }
        });
    }
    None
}

fn serve(e: &ServeError) -> Option<u8> {
    match e {
        ServeError::Config(_) => Some(USAGE),
        ServeError::IdKey(_) | ServeError::TlsFiles(_) => Some(DATA),
        ServeError::ConsoleListen { .. } | ServeError::MetricsListen { .. } => Some(UNAVAILABLE),
        ServeError::Transport(_) => Some(UNAVAILABLE),
        ServeError::Service(ServiceError::Unavailable(_)) => Some(UNAVAILABLE),
        // A service that cannot start is not the input's fault.
        ServeError::Service(_) => Some(INTERNAL),
        ServeError::Tls(_) => None,
    }
}

/// A service's refusal exits as the server's status for it would
/// ([`ServiceError::grpc_code`]).
fn service(e: &ServiceError) -> u8 {
    match e {
        ServiceError::Invalid(_)
        | ServiceError::NotFound(_)
        | ServiceError::AlreadyExists(_)
        | ServiceError::Duplicate { .. }
        | ServiceError::Forbidden(_)
        | ServiceError::Precondition(_) => DATA,
        ServiceError::Unavailable(_) => UNAVAILABLE,
        ServiceError::Internal(_) => INTERNAL,
    }
}

fn store(e: &StoreError) -> Option<u8> {
    Some(match e {
        StoreError::InUse { .. } | StoreError::Closed | StoreError::DiskFull { .. } => UNAVAILABLE,
        StoreError::NotFound { .. }
        | StoreError::AlreadyExists { .. }
        | StoreError::Duplicate { .. }
        | StoreError::Precondition(_)
        | StoreError::IdKeyMismatch { .. }
        | StoreError::FormatVersion { .. }
        | StoreError::BadBackup { .. } => DATA,
        StoreError::Corruption(_)
        | StoreError::Backend(_)
        | StoreError::Flush(_)
        | StoreError::Backup(_) => INTERNAL,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_map_to_their_codes() {
        let remote = |code| code_for(&anyhow::Error::new(Remote(tonic::Status::new(code, "x"))));
        assert_eq!(remote(tonic::Code::Unavailable), UNAVAILABLE);
        assert_eq!(remote(tonic::Code::InvalidArgument), DATA);
        assert_eq!(remote(tonic::Code::Internal), INTERNAL);
        let in_use = StoreError::InUse {
            dir: "d".into(),
            pid: Some(7),
        };
        assert!(in_use
            .to_string()
            .contains("in use by a running server (pid 7?)"));
        let wrapped = anyhow::Error::new(in_use).context("cannot open data directory d");
        assert_eq!(code_for(&wrapped), UNAVAILABLE);
        assert_eq!(
            code_for(&anyhow::Error::new(LaunchError::Config("bad".into()))),
            USAGE
        );
        assert_eq!(code_for(&anyhow::anyhow!("something")), INTERNAL);
        // A bare status (a command that passes the client's error on)
        // exits as a wrapped one.
        let bare = |code| code_for(&anyhow::Error::new(tonic::Status::new(code, "x")));
        assert_eq!(bare(tonic::Code::PermissionDenied), DATA);
        assert_eq!(bare(tonic::Code::Unavailable), UNAVAILABLE);
        let serve = |e: ServeError| code_for(&anyhow::Error::new(LaunchError::Serve(e)));
        assert_eq!(serve(ServeError::IdKey("wrong key".into())), DATA);
        let addr: std::net::SocketAddr = "127.0.0.1:9".parse().unwrap();
        let taken = || std::io::Error::from(std::io::ErrorKind::AddrInUse);
        assert_eq!(
            serve(ServeError::MetricsListen {
                addr,
                source: taken()
            }),
            UNAVAILABLE
        );
        assert_eq!(
            serve(ServeError::ConsoleListen {
                addr,
                source: taken()
            }),
            UNAVAILABLE
        );
        assert_eq!(serve(ServeError::Config("bad".into())), USAGE);
        assert_eq!(
            code_for(&anyhow::Error::new(Usage("--to: bad".into()))),
            USAGE
        );
        let missing = ServiceError::NotFound("run 9 not found".into());
        assert_eq!(code_for(&anyhow::Error::new(missing)), DATA);
        let busy = in_lang(ServiceError::Unavailable("busy".into()), Lang::En);
        assert_eq!(code_for(&busy), UNAVAILABLE);
        let refused = anyhow::Error::new(Refused(anyhow::anyhow!("x.txt: not a ledger")));
        assert_eq!(code_for(&refused), DATA);
        assert_eq!(refused.to_string(), "x.txt: not a ledger");
    }
}
