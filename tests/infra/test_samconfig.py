"""samconfig.toml: the settings `sam build` / `sam deploy` pick up when run from infra/."""

import tomllib

from infra_support import INFRA

CONFIG = tomllib.loads((INFRA / "samconfig.toml").read_text(encoding="utf-8"))


def test_version_and_stack_name():
    assert CONFIG["version"] == 0.1
    assert CONFIG["default"]["global"]["parameters"]["stack_name"] == "timesheets"


def test_build_names_the_template_and_needs_no_beta_features():
    # BuildMethod rust-cargolambda left SAM CLI's beta features (aws-sam-cli pull request 8526).
    build = CONFIG["default"]["build"]["parameters"]
    assert build["template_file"] == "template.yaml"
    assert "beta_features" not in build
    assert "sync" not in CONFIG["default"]


def test_deploy_uses_the_built_template_and_needs_only_capability_iam():
    deploy = CONFIG["default"]["deploy"]["parameters"]
    assert "template_file" not in deploy
    assert "template_file" not in CONFIG["default"]["global"]["parameters"]
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["resolve_s3"] is True
    assert deploy["confirm_changeset"] is True


def test_deploy_overrides_are_placeholders_for_declared_parameters(sam_template):
    overrides = dict(item.split("=", 1) for item in CONFIG["default"]["deploy"]["parameters"]["parameter_overrides"])
    assert set(overrides) <= set(sam_template["Parameters"])
    assert overrides["AuthIssuer"] == "https://YOUR_DOMAIN.auth0.com/"
    assert overrides["AuthAudience"] == sam_template["Parameters"]["AuthAudience"]["Default"]
    assert overrides["ScheduleExpression"] == '"rate(1 hour)"'


def test_validate_lints():
    assert CONFIG["default"]["validate"]["parameters"]["lint"] is True
