"""README.md and docs/: every relative link resolves, each text stands in one place only, and the
README stays a landing page; configuration.md lists the variables the code reads and the template
sets; operate.md's Logs Insights queries name fields of the functions' real JSON log lines."""

import http.server
import json
import os
import re
import subprocess
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import unquote

import pytest
from infra_support import NO_VALUE, ROOT, load_event

README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
README_MAX_LINES = 150

FENCE = re.compile(r"^\s{0,3}(```|~~~)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
INLINE_LINK = re.compile(r"!?\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
# A paragraph, list item or table row shorter than this is a label, not a text worth comparing.
MIN_COMPARED_CHARS = 60


def lines_outside_code(text: str):
    """(line number, line) for every line outside fenced code blocks."""
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line


def rendered(markdown: str) -> str:
    """The text GitHub shows for inline Markdown: code, emphasis and links reduced to their text."""
    text = INLINE_CODE.sub(lambda match: match.group(2), markdown)
    text = INLINE_LINK.sub(lambda match: match.group(1), text)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"(\*\*|__|\*)", "", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = rendered(heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of a page's headings; a repeated slug gets -1, -2, ... as on GitHub."""
    seen: dict[str, int] = defaultdict(int)
    found = set()
    for _, line in lines_outside_code(page.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        found.add(f"{base}-{seen[base]}" if seen[base] else base)
        seen[base] += 1
    return found


def links(page: Path):
    """(line number, target) of every link and link definition outside code."""
    for number, line in lines_outside_code(page.read_text(encoding="utf-8")):
        definition = REFERENCE_DEFINITION.match(line)
        if definition:
            yield number, definition.group(1)
            continue
        # Code spans are not links, but keep their text: a link's text may be code.
        for match in INLINE_LINK.finditer(INLINE_CODE.sub(lambda m: m.group(2), line)):
            yield number, match.group(2)


def relative_links():
    for page in PAGES:
        for number, target in links(page):
            if not SCHEME.match(target):
                yield pytest.param(page, target, id=f"{page.relative_to(ROOT)}:{number} {target}")


def broken(page: Path, target: str, root: Path = ROOT) -> str | None:
    """Why `target`, linked from `page`, does not resolve inside `root`; None when it does."""
    path, _, anchor = target.partition("#")
    linked = (page.parent / unquote(path)).resolve() if path else page.resolve()
    if not linked.is_relative_to(root):
        return f"{target} is outside the repository"
    name = linked.relative_to(root).as_posix()
    if not linked.exists():
        return f"{name} does not exist"
    if anchor:
        if linked.suffix != ".md":
            return f"#{anchor} points into {name}, which has no headings"
        if unquote(anchor) not in anchors(linked):
            return f"{name} has no heading #{anchor}"
    return None


@pytest.mark.parametrize(("page", "target"), list(relative_links()))
def test_relative_link_resolves(page, target):
    assert broken(page, target) is None


def test_broken_links_are_found(tmp_path):
    root = tmp_path.resolve()
    (root / "docs").mkdir()
    (root / "docs" / "a.md").write_text("# A page\n\n## The issuer's keys\n", encoding="utf-8")
    page = root / "README.md"
    page.write_text("# Readme\n", encoding="utf-8")
    assert broken(page, "docs/a.md", root) is None
    assert broken(page, "docs/a.md#the-issuers-keys", root) is None
    assert broken(page, "#readme", root) is None
    assert broken(page, "docs/missing.md", root) == "docs/missing.md does not exist"
    assert broken(page, "docs/a.md#keys", root) == "docs/a.md has no heading #keys"
    assert broken(page, "#a-page", root) == "README.md has no heading #a-page"
    assert broken(page, "../elsewhere.md", root) == "../elsewhere.md is outside the repository"


def test_slugs_are_githubs():
    assert slug("The issuer's keys") == "the-issuers-keys"
    assert slug("`Idempotency-Key`") == "idempotency-key"
    assert slug("Algorithm (RFC 8725 §2.1, §3.1)") == "algorithm-rfc-8725-21-31"
    assert slug("Run `make_test` **now**") == "run-make_test-now"


def test_a_repeated_heading_gets_a_numbered_anchor(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Logs\n\n```\n# not a heading\n```\n\n## Logs\n", encoding="utf-8")
    assert anchors(page) == {"logs", "logs-1"}


def test_readme_is_a_landing_page():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= README_MAX_LINES
    assert "make run" in text and "make test" in text


def test_readme_links_every_docs_page():
    linked = {
        (README.parent / target.partition("#")[0]).resolve()
        for _, target in links(README)
        if not SCHEME.match(target)
    }
    assert [page.name for page in PAGES[1:] if page.resolve() not in linked] == []


def texts(page: Path):
    """The page's paragraphs, list items, table rows and code blocks, white space folded."""
    block: list[str] = []
    fenced = False

    def flush():
        if block:
            yield " ".join(" ".join(block).split())
            block.clear()

    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            if not fenced:
                yield from flush()
            block.append(line)
            fenced = not fenced
            if not fenced:
                yield from flush()
            continue
        if fenced:
            block.append(line)
        elif not line.strip() or HEADING.match(line):
            yield from flush()
        elif re.match(r"^\s*([-*+]|\d+\.)\s", line) or line.lstrip().startswith("|"):
            yield from flush()
            block.append(line)
            if line.lstrip().startswith("|"):
                yield from flush()
        else:
            block.append(line)
    yield from flush()


def repeated_texts(pages: list[Path], root: Path = ROOT) -> dict[str, list[str]]:
    """The start of each text long enough to compare that stands in more than one place."""
    places = defaultdict(list)
    for page in pages:
        for text in texts(page):
            if len(text) >= MIN_COMPARED_CHARS:
                places[text].append(page.relative_to(root).as_posix())
    return {text[:80]: where for text, where in places.items() if len(where) > 1}


def test_no_text_stands_in_two_places():
    assert repeated_texts(PAGES) == {}


def test_a_copied_paragraph_or_list_item_is_found(tmp_path):
    paragraph = (
        "The secret is created with placeholders.\n"
        "Put the credentials in it once; later deploys leave it alone."
    )
    item = "- **Never retried:** any other 4xx, such as `400 invalid_body`, `403` or `413`."
    one = tmp_path / "one.md"
    two = tmp_path / "two.md"
    one.write_text(f"# One\n\n{paragraph}\n\n{item}\n- short\n", encoding="utf-8")
    # The same paragraph wrapped otherwise, the same item right after a paragraph.
    rewrapped = " ".join(paragraph.split())
    two.write_text(f"# Two\n\n{rewrapped}\n\nOther text.\n{item}\n", encoding="utf-8")
    assert repeated_texts([one, two], tmp_path) == {
        rewrapped[:80]: ["one.md", "two.md"],
        item[:80]: ["one.md", "two.md"],
    }
    two.write_text("# Two\n\nOnly its own text, long enough to be compared with the texts of one.md.\n", encoding="utf-8")
    assert repeated_texts([one, two], tmp_path) == {}


# --- docs/configuration.md: the variables the code reads and the template sets -------------------

CONFIGURATION = DOCS / "configuration.md"
FUNCTIONS = ROOT / "functions"
# Where each function's own variables are read; the shared crate reads only the log variables.
FUNCTION_SOURCES = {"api": FUNCTIONS / "api" / "src", "job": FUNCTIONS / "job" / "src"}
SHARED_SOURCES = ROOT / "crates" / "timesheets" / "src"
TEMPLATE_FUNCTIONS = {"api": "TimesheetsApiFunction", "job": "TimesheetsJobFunction"}
VARIABLE = re.compile(r"`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`")
# A variable read: `source, "NAME"` (timesheets::config and its callers) or `env::var("NAME")`.
VARIABLE_READ = re.compile(r'(?:\bsource,\s*|env::var\(\s*)"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"')
# Read by the AWS SDK itself, not by the functions' code.
READ_BY_THE_SDK = {"AWS_ENDPOINT_URL"}


def variables_read(sources: Path) -> set[str]:
    """The variables the Rust files under `sources` read, their test modules left out."""
    names = set()
    for path in sources.rglob("*.rs"):
        code = path.read_text(encoding="utf-8").split("#[cfg(test)]")[0]
        names.update(VARIABLE_READ.findall(code))
    return names


def documented_variables(text: str) -> dict[str, set[str]]:
    """Per function, the variables of the configuration table (`both` counts for each)."""
    found = {function: set() for function in FUNCTION_SOURCES}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("| `") or len(cells) < 3:
            continue
        function = cells[1].lower()
        for name in VARIABLE.findall(cells[0]):
            for each in FUNCTION_SOURCES if function == "both" else [function]:
                found[each].add(name)
    return found


def documented_template_variables(text: str) -> tuple[dict[str, set[str]], str]:
    """Per function, the variables the page says the template sets (its `- for the API:` and
    `- for the job:` items); and the one it says both declare without a value."""
    items = {"api": "- for the API:", "job": "- for the job:"}
    found = {function: set() for function in items}
    for line in text.splitlines():
        for function, start in items.items():
            if line.startswith(start):
                found[function].update(VARIABLE.findall(line))
    declared = re.search(r"Both functions declare `([A-Z_]+)` with no value", text)
    assert declared, "configuration.md says which variable the template declares without a value"
    return found, declared.group(1)


def test_the_configuration_table_lists_what_each_function_reads():
    documented = documented_variables(CONFIGURATION.read_text(encoding="utf-8"))
    for function, sources in FUNCTION_SOURCES.items():
        read = variables_read(sources) | READ_BY_THE_SDK
        assert sorted(documented[function] - read) == [], f"documented, not read by the {function}"
        assert sorted(read - documented[function]) == [], f"read by the {function}, not documented"


def test_the_log_variables_are_documented_under_logs():
    read = variables_read(SHARED_SOURCES)
    assert {"AWS_LAMBDA_LOG_FORMAT", "AWS_LAMBDA_LOG_LEVEL", "RUST_LOG"} <= read
    logs = section(OPERATE, "Logs")
    # AWS_LAMBDA_FUNCTION_NAME is Lambda's own, only the metrics' Function dimension.
    assert sorted(read - {"AWS_LAMBDA_FUNCTION_NAME"} - set(VARIABLE.findall(logs))) == []


def test_the_configuration_page_says_what_the_template_sets(sam_template):
    documented, declared = documented_template_variables(CONFIGURATION.read_text(encoding="utf-8"))
    for function, resource in TEMPLATE_FUNCTIONS.items():
        variables = sam_template["Resources"][resource]["Properties"]["Environment"]["Variables"]
        assert variables.get(declared) == NO_VALUE, function
        set_here = sorted(name for name, value in variables.items() if value != NO_VALUE)
        assert sorted(documented[function]) == set_here, function


def test_variable_lists_are_read_as_the_tests_need():
    page = """| Variable | Function | Meaning |
|---|---|---|
| `AUTH_ISSUER` | both | the issuer; not `NOT_A_VARIABLE_OF` this row's name cell |
| `AUTH_JWKS_TTL_SECONDS`, `AUTH_JWKS_COOLDOWN_SECONDS` | api | keys |
| `AUTH_DPOP` | API | mode |
| `API_URL` | job | base URL |

- for the API: `AUTH_ISSUER` (`AuthIssuer`), `AUTH_DPOP`;
- for the job: `API_URL` and, with `private_key_jwt`, `AUTH_SIGNING_KEY_ID`.

Both functions declare `AWS_ENDPOINT_URL` with no value.
"""
    assert documented_variables(page) == {
        "api": {"AUTH_ISSUER", "AUTH_JWKS_TTL_SECONDS", "AUTH_JWKS_COOLDOWN_SECONDS", "AUTH_DPOP"},
        "job": {"AUTH_ISSUER", "API_URL"},
    }
    assert documented_template_variables(page) == (
        {"api": {"AUTH_ISSUER", "AUTH_DPOP"}, "job": {"API_URL", "AUTH_SIGNING_KEY_ID"}},
        "AWS_ENDPOINT_URL",
    )
    code = 'config::parsed_or(source, "AUTH_LEEWAY_SECONDS", 5)?;\nseconds(\n    source,\n    "A_B",\n'
    code += 'std::env::var("RUST_LOG"); ConfigError::Missing { name: "NOT_READ" }'
    assert set(VARIABLE_READ.findall(code)) == {"AUTH_LEEWAY_SECONDS", "A_B", "RUST_LOG"}


# --- docs/operate.md: the Logs Insights queries against the functions' real JSON lines ----------

OPERATE = DOCS / "operate.md"
LOG_GROUPS = {"api": "/aws/lambda/{stack}-api", "job": "/aws/lambda/{stack}-job"}
# Logs Insights commands that name fields, and the words of its query language that are not.
NAMING_COMMANDS = {"fields", "filter", "sort", "stats", "display", "dedup"}
QUERY_WORDS = {"and", "or", "not", "in", "like", "asc", "desc", "by", "as"}
QUERY_NAME = re.compile(r"(?<![@\w.])([A-Za-z_][\w.]*)(?!\s*\()")
QUERY_LITERAL = re.compile(r'"[^"]*"|\'[^\']*\'|/[^/]*/|\b\d+(?:\.\d+)?\b')
COMPARISON = re.compile(r'^\s*([A-Za-z_][\w.]*)\s*(>=|<=|!=|=|>|<)\s*("[^"]*"|\d+)\s*$')
# Stand-in values the job reads; none may reach a log line.
STAND_IN_SECRET = "stand-in-client-secret-4c1f"
STAND_IN_TOKEN = "stand-in-access-token-9b2e"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:timesheets"
TRACE_ID = "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c;Parent=60a7d0c22fb2f001;Sampled=0"


def section(page: Path, heading: str) -> str:
    """The text under the `## heading` of `page`, up to the next heading of that level."""
    text = page.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"{page.name} has no section {heading}"
    return match.group(1)


def insights_queries(text: str) -> dict[str, str]:
    """Per function, the fenced query that follows the paragraph naming its log group."""
    queries = {}
    paragraph: list[str] = []
    ended = False
    block: list[str] | None = None
    for line in text.splitlines():
        if FENCE.match(line):
            if block is None:
                block = []
                continue
            named = [f for f, group in LOG_GROUPS.items() if group in " ".join(paragraph)]
            assert len(named) == 1, f"the paragraph before a query names one log group: {paragraph}"
            queries[named[0]] = "\n".join(block)
            block, paragraph = None, []
        elif block is not None:
            block.append(line)
        elif not line.strip():
            ended = True
        elif ended:
            paragraph, ended = [line], False
        else:
            paragraph.append(line)
    return queries


def query_names(query: str) -> set[str]:
    """The log fields a query names (`@` fields are CloudWatch's own, not the function's)."""
    names = set()
    for command in query.split("|"):
        word, _, rest = command.strip().partition(" ")
        if word in NAMING_COMMANDS:
            names.update(
                name for name in QUERY_NAME.findall(QUERY_LITERAL.sub(" ", rest))
                if name not in QUERY_WORDS
            )
    return names


def query_filter(query: str):
    """The query's `filter` as a test of one line: `name op literal` terms joined by `and`."""
    terms = []
    for command in query.split("|"):
        word, _, rest = command.strip().partition(" ")
        if word != "filter":
            continue
        for term in re.split(r"\s+and\s+", rest):
            match = COMPARISON.match(term)
            assert match, f"a filter term this test cannot evaluate: {term}"
            terms.append(match.groups())

    def holds(line: dict) -> bool:
        for name, op, literal in terms:
            value = line.get(name)
            expected = literal.strip('"') if literal.startswith('"') else int(literal)
            if value is None or isinstance(value, str) != isinstance(expected, str):
                return False
            if not {
                "=": value == expected, "!=": value != expected,
                ">": value > expected, "<": value < expected,
                ">=": value >= expected, "<=": value <= expected,
            }[op]:
                return False
        return True

    return holds


def test_queries_are_read_as_the_tests_need():
    query = (
        "fields @timestamp, status, error\n"
        '| filter status >= 400 and level = "ERROR"\n'
        "| sort @timestamp desc"
    )
    assert query_names(query) == {"status", "error", "level"}
    holds = query_filter(query)
    assert holds({"status": 401, "level": "ERROR"})
    assert not holds({"status": 201, "level": "ERROR"})
    assert not holds({"level": "ERROR"})
    assert not holds({"status": 500, "level": "INFO"})
    text = "In `/aws/lambda/{stack}-job`:\n\n```\nfields batch\n```\n"
    assert insights_queries(text) == {"job": "fields batch"}


class StandIns(http.server.ThreadingHTTPServer):
    """Lambda's Runtime API with one event, and for the job Secrets Manager (AWS_ENDPOINT_URL),
    the token endpoint and an API that refuses the batch: what the functions call, on one port."""

    daemon_threads = True

    def __init__(self, event: dict, request_id: str):
        super().__init__(("127.0.0.1", 0), StandInHandler)
        self.event = json.dumps(event).encode()
        self.request_id = request_id
        self.delivered = False
        self.answered = threading.Event()
        self.answer: tuple[str, bytes] | None = None
        self.closing = threading.Event()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class StandInHandler(http.server.BaseHTTPRequestHandler):
    server: StandIns

    def log_message(self, *args):  # quiet: the functions' own lines are what the tests read
        pass

    def reply(self, status: int, body: dict, headers: dict | None = None):
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"content-type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path != "/2018-06-01/runtime/invocation/next":
            return self.reply(404, {})
        if self.server.delivered:
            # One invocation only: hold the next poll until the test ends the function.
            self.server.closing.wait()
            return None
        self.server.delivered = True
        deadline = int((time.time() + 30) * 1000)
        self.send_response(200)
        for name, value in {
            "lambda-runtime-aws-request-id": self.server.request_id,
            "lambda-runtime-deadline-ms": str(deadline),
            "lambda-runtime-invoked-function-arn": FUNCTION_ARN,
            "lambda-runtime-trace-id": TRACE_ID,
            "content-type": "application/json",
            "content-length": str(len(self.server.event)),
        }.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(self.server.event)
        return None

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.path.startswith("/2018-06-01/runtime/"):
            self.server.answer = (self.path.rsplit("/", 1)[-1], body)
            self.reply(202, {"status": "OK"})
            # Only once acknowledged: the test then ends the function.
            self.server.answered.set()
            return None
        target = self.headers.get("x-amz-target", "")
        secret = {
            "ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:timesheets-AbCdEf",
            "Name": "timesheets",
        }
        if target == "secretsmanager.GetSecretValue":
            value = json.dumps({"client_id": "stand-in-client", "client_secret": STAND_IN_SECRET})
            return self.reply(200, {**secret, "SecretString": value, "VersionId": "v1",
                                    "VersionStages": ["AWSCURRENT"], "CreatedDate": 1.7e9})
        if self.path == "/oauth/token":
            return self.reply(200, {"access_token": STAND_IN_TOKEN, "token_type": "Bearer",
                                    "expires_in": 3600})
        if self.path == "/timesheets/upload":
            return self.reply(400, {"error": "invalid_body",
                                    "error_description": "refused by the stand-in"})
        return self.reply(404, {})


def built_function(binary: str) -> Path:
    """The debug build of `binary`, built as the local stack builds it (infra/local/stack.sh)."""
    subprocess.run(
        ["cargo", "build", "--quiet", "--bin", "timesheets-api", "--bin", "timesheets-job"],
        cwd=ROOT, check=True,
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "debug" / binary


def invoke(function: str, event: dict, env: dict) -> tuple[list[dict], str, tuple[str, bytes]]:
    """Runs the function's binary in Lambda's JSON log format for one invocation of `event`:
    its JSON lines, its whole output, and its answer to the Runtime API."""
    request_id = f"{function}-8f50aa1c-0b7e-4e57-9a0e-5f2a7d3c6b11"
    stand_ins = StandIns(event, request_id)
    threading.Thread(target=stand_ins.serve_forever, daemon=True).start()
    url = f"http://{stand_ins.address}"
    env = {
        "PATH": os.environ["PATH"],
        "AWS_LAMBDA_RUNTIME_API": stand_ins.address,
        "AWS_LAMBDA_FUNCTION_NAME": f"timesheets-{function}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_LAMBDA_LOG_LEVEL": "INFO",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": url,
        "AUTH_ISSUER": f"{url}/",
        "AUTH_AUDIENCE": "https://api.exampleco.com/timesheets",
        **{name: value.format(url=url) for name, value in env.items()},
    }
    process = subprocess.Popen(
        [built_function(f"timesheets-{function}")], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        assert stand_ins.answered.wait(60), f"timesheets-{function} did not answer"
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0].decode()
        stand_ins.closing.set()
        stand_ins.shutdown()
        stand_ins.server_close()
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    # Embedded Metric Format documents share stdout; they are metrics, not log lines.
    logs = [line for line in lines if "_aws" not in line]
    assert logs, output
    return [line for line in logs if line.get("requestId") == request_id], output, stand_ins.answer


@pytest.fixture(scope="module")
def api_lines():
    event = load_event("upload-no-token.json")
    lines, output, answer = invoke("api", event, {"TIMESHEETS_TABLE": "Timesheets"})
    assert answer[0] == "response" and json.loads(answer[1])["statusCode"] == 401, answer
    return lines, output


@pytest.fixture(scope="module")
def job_lines():
    env = {
        "CREDENTIALS_SECRET_ID": "timesheets",
        "AUTH_TOKEN_URL": "{url}/oauth/token",
        "API_URL": "{url}",
    }
    lines, output, answer = invoke("job", load_event("schedule.json"), env)
    assert answer[0] == "error", answer
    return lines, output


@pytest.mark.parametrize("function", ["api", "job"])
def test_the_logs_insights_query_names_fields_of_the_functions_lines(function, request):
    lines, output = request.getfixturevalue(f"{function}_lines")
    query = insights_queries(section(OPERATE, "Logs"))[function]
    keys = {key for line in lines for key in line}
    assert sorted(query_names(query) - keys) == [], output
    # And it finds the refusal: the API's 401 line, the job's failed batch.
    found = [line for line in lines if query_filter(query)(line)]
    assert found, output
    assert {"api": "upload refused", "job": "batch failed"}[function] in [line["message"] for line in found]
    # Not the Embedded Metric Format documents that share the log group.
    metrics = [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]
    assert metrics and all(document["RequestId"] == lines[0]["requestId"] for document in metrics)
    assert not [document for document in metrics if query_filter(query)(document)]


@pytest.mark.parametrize("function", ["api", "job"])
def test_json_log_lines_are_flat_as_lambdas_own(function, request):
    lines, output = request.getfixturevalue(f"{function}_lines")
    for line in lines:
        assert {"timestamp", "level", "message", "requestId", "xrayTraceId"} <= set(line), line
        assert not [key for key, value in line.items() if isinstance(value, (dict, list))], line
        assert line["level"] in {"DEBUG", "INFO", "WARN", "ERROR"}, line
    assert STAND_IN_SECRET not in output and STAND_IN_TOKEN not in output
