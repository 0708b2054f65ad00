//! Who may do what: roles, their scopes, and the caller of a request.
//! Plain data and rules; tokens and their checking live in the store and
//! the API.

use super::rules;
use super::{Validated, ValidationError};

// A role is one of the coded vocabularies (`kinds`: a stored code and a
// label); it is named here, beside the rules that use it.
pub use super::kinds::Role;

/// The scope of a token: what a role applies to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// County codes of a service company (one or more).
    pub counties: Vec<String>,
    /// The employer of a recruiter.
    pub employer_id: Option<String>,
}

impl Scope {
    /// Checks that the scope fits the role: a service company has one or
    /// more valid county codes and no employer; a recruiter has exactly an
    /// employer; admin and reader have neither.
    pub fn validate(&self, role: Role) -> Validated<()> {
        match role {
            Role::ServiceCompany => {
                if self.counties.is_empty() {
                    return Err(ValidationError::new(
                        "counties",
                        "a service_company token needs at least one county code",
                    ));
                }
                for (i, c) in self.counties.iter().enumerate() {
                    rules::check_region_code(c)
                        .map_err(|r| ValidationError::new(format!("counties[{i}]"), r))?;
                }
                if self.employer_id.is_some() {
                    return Err(ValidationError::new(
                        "employer_id",
                        "only a recruiter token has an employer",
                    ));
                }
            }
            Role::Recruiter => {
                let Some(e) = &self.employer_id else {
                    return Err(ValidationError::new(
                        "employer_id",
                        "a recruiter token needs an employer id",
                    ));
                };
                rules::check_id(e).map_err(|r| ValidationError::new("employer_id", r))?;
                if !self.counties.is_empty() {
                    return Err(ValidationError::new(
                        "counties",
                        "only a service_company token has counties",
                    ));
                }
            }
            Role::Admin | Role::Reader => {
                if !self.counties.is_empty() {
                    return Err(ValidationError::new(
                        "counties",
                        format!("a {} token has no counties", role.label()),
                    ));
                }
                if self.employer_id.is_some() {
                    return Err(ValidationError::new(
                        "employer_id",
                        format!("a {} token has no employer", role.label()),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's id (never the secret).
    pub token_id: String,
    /// Its role.
    pub role: Role,
    /// Its scope.
    pub scope: Scope,
}

impl Caller {
    /// Whether the caller may act on records of county `code`.
    pub fn covers_county(&self, code: &str) -> bool {
        match self.role {
            Role::Admin => true,
            Role::ServiceCompany => self.scope.counties.iter().any(|c| c == code),
            Role::Recruiter | Role::Reader => false,
        }
    }

    /// Whether the caller may act on openings of employer `id`.
    pub fn covers_employer(&self, id: &str) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Recruiter => self.scope.employer_id.as_deref() == Some(id),
            Role::ServiceCompany | Role::Reader => false,
        }
    }

    /// Whether the caller sees workers' personal data in clear (a worker
    /// of county `code` who did or did not consent to share).
    pub fn sees_personal_data(&self, county: &str, consented: bool) -> bool {
        match self.role {
            Role::Admin => true,
            // Other counties' workers are shown as to a recruiter.
            Role::ServiceCompany => self.covers_county(county) || consented,
            Role::Recruiter => consented,
            Role::Reader => false,
        }
    }
}

/// Two-character (compound) surnames in use today. A name that starts
/// with one keeps both characters, as a name card would show them
/// ("欧阳修" -> "欧阳*").
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "司空", "夏侯", "轩辕", "令狐", "钟离", "端木", "独孤", "南宫", "西门", "澹台", "呼延", "闻人",
    "万俟", "申屠", "太史", "公羊", "赫连", "百里", "东郭", "拓跋", "完颜",
];

/// A name shortened for someone who may not see it: the surname (its
/// first character, or a compound surname) and a star for each other
/// character ("向春梅" -> "向**", "欧阳娜娜" -> "欧阳**"). It never equals
/// the name: a one-character name is one star, and a name that is only a
/// compound surname keeps one character.
pub fn mask_name(name: &str) -> String {
    let count = name.chars().count();
    let kept = match COMPOUND_SURNAMES.iter().find(|s| name.starts_with(*s)) {
        Some(_) if count > 2 => 2,
        _ if count > 1 => 1,
        _ => 0,
    };
    name.chars()
        .enumerate()
        .map(|(i, c)| if i < kept { c } else { '*' })
        .collect()
}

/// A phone number with all but the last four digits hidden
/// ("13912345678" -> "*******5678"); one of four digits or fewer is all
/// stars, so the mask never equals the number.
pub fn mask_phone(phone: &str) -> String {
    let n = phone.chars().count();
    let shown = if n > 4 { 4 } else { 0 };
    phone
        .chars()
        .enumerate()
        .map(|(i, c)| if i + shown < n { '*' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_what_a_recruiter_may_see() {
        assert_eq!(mask_name("向春梅"), "向**");
        assert_eq!(mask_name("Li"), "L*");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_name("韦"), "*");
        assert_eq!(mask_name("欧阳修"), "欧阳*");
        assert_eq!(mask_name("欧阳娜娜"), "欧阳**");
        assert_eq!(mask_name("司马"), "司*");
        assert_eq!(mask_name("欧"), "*");
        assert_eq!(mask_phone("13912345678"), "*******5678");
        assert_eq!(mask_phone("5678"), "****");
    }

    proptest::proptest! {
        /// Whatever the name, the mask hides at least one character, keeps
        /// the length, and shows at most the surname.
        #[test]
        fn a_mask_never_equals_the_name(name in "[向欧阳司马韦a-z·]{1,6}") {
            let masked = mask_name(&name);
            proptest::prop_assert_ne!(&masked, &name);
            proptest::prop_assert_eq!(masked.chars().count(), name.chars().count());
            let shown = masked.chars().filter(|&c| c != '*').count();
            proptest::prop_assert!(shown <= 2);
            let phone = mask_phone(&name);
            proptest::prop_assert_ne!(&phone, &name);
        }
    }

    #[test]
    fn scopes_fit_their_roles() {
        let counties = Scope {
            counties: vec!["431202".into()],
            employer_id: None,
        };
        let employer = Scope {
            counties: vec![],
            employer_id: Some("workshop-1".into()),
        };
        assert!(counties.validate(Role::ServiceCompany).is_ok());
        assert!(employer.validate(Role::Recruiter).is_ok());
        assert!(Scope::default().validate(Role::Admin).is_ok());
        assert!(Scope::default().validate(Role::ServiceCompany).is_err());
        assert!(counties.validate(Role::Recruiter).is_err());
        assert!(employer.validate(Role::Reader).is_err());
        let bad = Scope {
            counties: vec!["12".into()],
            employer_id: None,
        };
        assert_eq!(
            bad.validate(Role::ServiceCompany).unwrap_err().field,
            "counties[0]"
        );
    }

    #[test]
    fn roles_round_trip() {
        for &r in Role::ALL {
            assert_eq!(Role::from_label(r.label()), Some(r));
            assert_eq!(Role::from_code(r.code()), Some(r));
        }
    }
}

/// A stored token (never the secret).
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct TokenRecord {
    /// Public id, `tok_` and 16 hex digits.
    #[prost(string, tag = "1")]
    pub id: String,
    /// Role code.
    #[prost(uint32, tag = "2")]
    pub role: u32,
    /// County codes (service companies).
    #[prost(string, repeated, tag = "3")]
    pub counties: Vec<String>,
    /// Employer (recruiters).
    #[prost(string, optional, tag = "4")]
    pub employer_id: Option<String>,
    /// Free text: who or what the token is for.
    #[prost(string, tag = "5")]
    pub label: String,
    /// SHA-256 of the secret.
    #[prost(bytes = "vec", tag = "6")]
    pub secret_sha256: Vec<u8>,
    /// Unix ms.
    #[prost(int64, tag = "7")]
    pub created_at_ms: i64,
    /// Unix ms; 0 while valid.
    #[prost(int64, tag = "8")]
    pub revoked_at_ms: i64,
    /// Who created it: a token id, or `cli` / `demo`.
    #[prost(string, tag = "9")]
    pub created_by: String,
}

impl TokenRecord {
    /// The role (admin for an unknown stored code would be wrong: reader,
    /// the least, is used instead).
    pub fn role(&self) -> Role {
        Role::from_stored(self.role).unwrap_or(Role::Reader)
    }

    /// The caller this token makes.
    pub fn caller(&self) -> Caller {
        Caller {
            token_id: self.id.clone(),
            role: self.role(),
            scope: Scope {
                counties: self.counties.clone(),
                employer_id: self.employer_id.clone(),
            },
        }
    }
}
