//! The contract says what the code answers: every row of the API's table of refusals
//! ([`ErrorKind::ALL`], the table `ApiError::status` and `ApiError::code` read) is documented
//! under its status in `infra/openapi.yaml` and as "`<status> <code>`" in `docs/http-api.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use timesheets_api::error::ErrorKind;

fn repository_file(path: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The error codes `spec` lists per status of its operations' `responses`: in each status's
/// block, the `enum: [..]` or `const: ..` of every `error:` member. A reading of the shape
/// `infra/openapi.yaml` has, not of YAML at large.
fn documented_codes(spec: &str) -> BTreeMap<u16, BTreeSet<String>> {
    let mut codes: BTreeMap<u16, BTreeSet<String>> = BTreeMap::new();
    let mut responses_indent = None;
    let mut status = None;
    let mut previous = "";
    for line in spec.lines().filter(|line| !line.trim().is_empty()) {
        let text = line.trim();
        let under_error = std::mem::replace(&mut previous, text) == "error:";
        if text == "responses:" {
            responses_indent = Some(indent(line));
            continue;
        }
        let Some(outer) = responses_indent else {
            continue;
        };
        if indent(line) <= outer {
            responses_indent = None;
            status = None;
            continue;
        }
        let key = text.trim_end_matches(':').trim_matches('"');
        if indent(line) == outer + 2 {
            status = key.parse::<u16>().ok();
            if let Some(status) = status {
                codes.entry(status).or_default();
            }
            continue;
        }
        let (Some(status), true) = (status, under_error) else {
            continue;
        };
        let listed: Vec<&str> = if let Some(list) = text.strip_prefix("enum:") {
            list.trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split(',')
                .map(str::trim)
                .collect()
        } else if let Some(value) = text.strip_prefix("const:") {
            vec![value.trim()]
        } else {
            Vec::new()
        };
        let entry = codes.entry(status).or_default();
        entry.extend(
            listed
                .into_iter()
                .map(|code| code.trim_matches('"').to_owned()),
        );
    }
    codes
}

#[test]
fn the_openapi_description_lists_every_answer_under_its_status() {
    let spec = repository_file("infra/openapi.yaml");
    let documented = documented_codes(&spec);
    let missing: Vec<String> = ErrorKind::ALL
        .iter()
        .map(|kind| (kind.status().as_u16(), kind.code()))
        .filter(|(status, code)| {
            !documented
                .get(status)
                .is_some_and(|codes| codes.contains(*code))
        })
        .map(|(status, code)| format!("{status} {code}"))
        .collect();
    assert!(
        missing.is_empty(),
        "infra/openapi.yaml lacks {missing:?}; it lists {documented:?}"
    );
}

#[test]
fn the_http_api_page_lists_every_answer() {
    let page = repository_file("docs/http-api.md");
    let missing: Vec<String> = ErrorKind::ALL
        .iter()
        .map(|kind| format!("`{} {}", kind.status().as_u16(), kind.code()))
        .filter(|answer| !page.contains(answer.as_str()))
        .collect();
    assert!(missing.is_empty(), "docs/http-api.md lacks {missing:?}");
}

#[test]
fn the_reader_finds_codes_under_their_status() {
    // The reader itself: a code under another status, or outside `responses`, is not listed.
    let spec = r#"
paths:
  /a:
    post:
      responses:
        "400":
          content:
            schema:
              properties:
                error:
                  enum: [invalid_body, invalid_request]
        "404":
          headers:
            Allow:
              schema:
                const: POST
          schema:
            properties:
              error:
                const: not_found
components:
  schemas:
    error:
      enum: [elsewhere]
"#;
    let codes = documented_codes(spec);
    let listed = |status: u16| -> Vec<&str> { codes[&status].iter().map(String::as_str).collect() };
    assert_eq!(listed(400), ["invalid_body", "invalid_request"]);
    assert_eq!(listed(404), ["not_found"]);
    assert_eq!(codes.len(), 2);
}
