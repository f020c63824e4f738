//! The scope rule: whether an access token grants a scope, through `scope`, `scp` or Auth0's
//! `permissions`.

use serde::Deserialize;

/// A scope claim: `scope`, a space-delimited string (RFC 6749 §3.3, RFC 9068 §2.2.3) or, from
/// some issuers, an array of strings; or `scp` in either form (Okta: an array; Microsoft
/// Entra ID: a space-delimited string).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub(crate) enum ScopeClaim {
    /// `"batch:upload batch:read"`.
    Delimited(String),
    /// `["batch:upload", "batch:read"]`.
    List(Vec<String>),
}

impl ScopeClaim {
    /// Whether this claim holds `wanted`, compared whole and case-sensitively (RFC 6749 §3.3).
    pub(crate) fn holds(&self, wanted: &str) -> bool {
        match self {
            Self::Delimited(text) => text.split(' ').any(|token| token == wanted),
            Self::List(items) => items.iter().any(|item| item == wanted),
        }
    }
}

/// Whether `wanted` is granted by any of the scope claims `scopes` (`scope`, RFC 9068 §2.2.3;
/// `scp`, Okta and Microsoft Entra ID) or by Auth0's RBAC `permissions` array.
pub(crate) fn grants(
    scopes: &[Option<&ScopeClaim>],
    permissions: Option<&[String]>,
    wanted: &str,
) -> bool {
    scopes.iter().flatten().any(|claim| claim.holds(wanted))
        || permissions.is_some_and(|items| items.iter().any(|item| item == wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    const UPLOAD_SCOPE: &str = "batch:upload";

    fn delimited(text: &str) -> Option<ScopeClaim> {
        Some(ScopeClaim::Delimited(text.to_owned()))
    }

    #[test]
    fn whole_tokens_only() {
        assert!(grants(
            &[delimited("batch:upload").as_ref()],
            None,
            UPLOAD_SCOPE
        ));
        assert!(grants(
            &[delimited("read batch:upload write").as_ref()],
            None,
            UPLOAD_SCOPE
        ));
        assert!(!grants(
            &[delimited("batch:uploader").as_ref()],
            None,
            UPLOAD_SCOPE
        ));
        assert!(!grants(
            &[delimited("xbatch:upload").as_ref()],
            None,
            UPLOAD_SCOPE
        ));
        assert!(!grants(
            &[delimited("batch:upload,read").as_ref()],
            None,
            UPLOAD_SCOPE
        ));
        assert!(!grants(
            &[delimited("BATCH:UPLOAD").as_ref()],
            None,
            UPLOAD_SCOPE
        ));
        assert!(!grants(&[None, None], None, UPLOAD_SCOPE));
    }

    #[test]
    fn array_scope_and_permissions_count() {
        let list = Some(ScopeClaim::List(vec!["batch:upload".into()]));
        assert!(grants(&[list.as_ref()], None, UPLOAD_SCOPE));
        let permissions = vec!["batch:upload".to_owned()];
        assert!(grants(
            &[delimited("openid").as_ref()],
            Some(&permissions),
            UPLOAD_SCOPE
        ));
        let other = vec!["batch:read".to_owned()];
        // `scp` beside a `scope` without it.
        let scp = delimited("openid batch:upload");
        assert!(grants(
            &[delimited("openid").as_ref(), scp.as_ref()],
            Some(&other),
            UPLOAD_SCOPE
        ));
        assert!(!grants(&[None], Some(&other), UPLOAD_SCOPE));
    }
}
