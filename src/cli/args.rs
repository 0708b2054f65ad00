//! clap pieces shared by the data subcommands: where they find the data,
//! and the enum-like flags. The enums mirror domain types because the domain
//! has no clap in it; each converts with an exhaustive `match`, and a test
//! checks that the names are the domain's labels and that none is missing.

use std::path::PathBuf;

use clap::ValueEnum;

use crate::config::DEFAULT_DATA_DIR;
use crate::domain::access::Role;
use crate::domain::run::Policy;
use crate::domain::Source;

/// `--county` of every command: a county's six-digit code, or its name
/// (鹤城区, Hecheng District), read as the code. An unknown name is a
/// usage error, told in both languages (the language flag is not read yet).
pub fn county_flag(text: &str) -> Result<String, String> {
    use crate::domain::Lang;
    crate::domain::regions::code_or_name(text)
        .map_err(|r| format!("{} / {}", r.text(Lang::Zh), r.text(Lang::En)))
}

/// Where a command that reads data finds it: a data directory, or a
/// running server.
#[derive(clap::Args, Debug)]
pub struct Target {
    /// sled data directory (the server must not be running on it).
    #[arg(long, env = "JOBBRIDGE_DATA_DIR", default_value = DEFAULT_DATA_DIR, conflicts_with = "server")]
    pub data_dir: PathBuf,
    /// Address of a running server, e.g. 127.0.0.1:50051.
    #[arg(long)]
    pub server: Option<String>,
    /// Token for --server (batch: admin; report: admin, reader, or a
    /// service company with --county).
    #[arg(long, env = "JOBBRIDGE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// With --server: PEM certificate of the CA that signed a TLS server's
    /// certificate (connects with https).
    #[arg(long, env = "JOBBRIDGE_TLS_CA")]
    pub tls_ca: Option<PathBuf>,
}

/// A data directory (for commands that only work on one).
#[derive(clap::Args, Debug)]
pub struct DataDir {
    /// sled data directory (the server must not be running on it).
    #[arg(long, env = "JOBBRIDGE_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
}

/// `--policy`: clap's view of [`Policy`], without its `Unspecified`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PolicyArg {
    /// Exact optimum: most zero-employment households, then total score.
    Optimal,
    /// Worker-proposing deferred acceptance.
    Stable,
}

/// `--role`: the names are [`Role::label`]'s (a test checks).
#[derive(Clone, Copy, Debug, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum RoleArg {
    /// Everything, tokens included.
    Admin,
    /// Workers and placements of its counties (--scope).
    ServiceCompany,
    /// The openings of its employer (--scope).
    Recruiter,
    /// Reports only.
    Reader,
}

/// `--source`: the names are [`Source::label`]'s (a test checks).
#[derive(Clone, Copy, Debug, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum SourceArg {
    /// Aid workshop at or beside a resettlement site.
    AidWorkshop,
    /// Government-paid public-welfare post.
    PublicWelfare,
    /// Labour cooperation with companies elsewhere.
    LabourCooperation,
    /// Work-relief construction project.
    WorkRelief,
    /// Follow-up industrial park or industry base.
    IndustrialPark,
    /// Cooperative or leading agricultural enterprise.
    Enterprise,
}

impl From<PolicyArg> for Policy {
    fn from(p: PolicyArg) -> Self {
        match p {
            PolicyArg::Optimal => Policy::Optimal,
            PolicyArg::Stable => Policy::Stable,
        }
    }
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Admin => Role::Admin,
            RoleArg::ServiceCompany => Role::ServiceCompany,
            RoleArg::Recruiter => Role::Recruiter,
            RoleArg::Reader => Role::Reader,
        }
    }
}

impl From<SourceArg> for Source {
    fn from(s: SourceArg) -> Self {
        match s {
            SourceArg::AidWorkshop => Source::AidWorkshop,
            SourceArg::PublicWelfare => Source::PublicWelfare,
            SourceArg::LabourCooperation => Source::LabourCooperation,
            SourceArg::WorkRelief => Source::WorkRelief,
            SourceArg::IndustrialPark => Source::IndustrialPark,
            SourceArg::Enterprise => Source::Enterprise,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_names_are_the_domain_labels_and_cover_them() {
        for r in RoleArg::value_variants() {
            let name = r.to_possible_value().unwrap();
            assert_eq!(name.get_name(), Role::from(*r).label());
        }
        assert_eq!(RoleArg::value_variants().len(), Role::ALL.len());
        for s in SourceArg::value_variants() {
            let name = s.to_possible_value().unwrap();
            assert_eq!(name.get_name(), Source::from(*s).label());
        }
        assert_eq!(SourceArg::value_variants().len(), Source::ALL.len());
    }
}
