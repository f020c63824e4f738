//! The scope rule: the access token must grant `batch:upload`.

use serde::Deserialize;

/// The scope `POST /timesheets/upload` requires (Auth0 "server application + API" scenario).
pub const UPLOAD_SCOPE: &str = "batch:upload";

/// The `scope` claim: a space-delimited string (RFC 6749 §3.3, RFC 9068 §2.2.3) or, from some
/// issuers, an array of strings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ScopeClaim {
    /// `"batch:upload batch:read"`.
    Delimited(String),
    /// `["batch:upload", "batch:read"]`.
    List(Vec<String>),
}

/// Whether `wanted` is granted by `scope` or by Auth0's RBAC `permissions` array.
/// Scope tokens are compared whole and case-sensitively (RFC 6749 §3.3).
pub fn grants(scope: Option<&ScopeClaim>, permissions: Option<&[String]>, wanted: &str) -> bool {
    let in_scope = match scope {
        Some(ScopeClaim::Delimited(text)) => text.split(' ').any(|token| token == wanted),
        Some(ScopeClaim::List(items)) => items.iter().any(|item| item == wanted),
        None => false,
    };
    in_scope || permissions.is_some_and(|items| items.iter().any(|item| item == wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delimited(text: &str) -> Option<ScopeClaim> {
        Some(ScopeClaim::Delimited(text.to_owned()))
    }

    #[test]
    fn whole_tokens_only() {
        assert!(grants(
            delimited("batch:upload").as_ref(),
            None,
            UPLOAD_SCOPE
        ));
        assert!(grants(
            delimited("read batch:upload write").as_ref(),
            None,
            UPLOAD_SCOPE
        ));
        assert!(!grants(
            delimited("batch:uploader").as_ref(),
            None,
            UPLOAD_SCOPE
        ));
        assert!(!grants(
            delimited("xbatch:upload").as_ref(),
            None,
            UPLOAD_SCOPE
        ));
        assert!(!grants(
            delimited("batch:upload,read").as_ref(),
            None,
            UPLOAD_SCOPE
        ));
        assert!(!grants(
            delimited("BATCH:UPLOAD").as_ref(),
            None,
            UPLOAD_SCOPE
        ));
        assert!(!grants(None, None, UPLOAD_SCOPE));
    }

    #[test]
    fn array_scope_and_permissions_count() {
        let list = Some(ScopeClaim::List(vec!["batch:upload".into()]));
        assert!(grants(list.as_ref(), None, UPLOAD_SCOPE));
        let permissions = vec!["batch:upload".to_owned()];
        assert!(grants(
            delimited("openid").as_ref(),
            Some(&permissions),
            UPLOAD_SCOPE
        ));
        let other = vec!["batch:read".to_owned()];
        assert!(!grants(None, Some(&other), UPLOAD_SCOPE));
    }
}
