"""What the deployed stack must be, checked on the SAM translator's output (offline)."""

import json
import re
import tomllib

import pytest
from cfnlint.api import lint
from infra_support import INFRA, ROOT, SAMPLE_ENTRY, deployed, load_event

API = "TimesheetsApiFunction"
# The API function on Lambda Managed Instances, in place of API when ApiOnManagedInstances=true.
MANAGED = "TimesheetsApiManagedFunction"
CAPACITY_PROVIDER = "TimesheetsApiCapacityProvider"
JOB = "TimesheetsJobFunction"
DLQ_ARN = {"Fn::GetAtt": ["JobDeadLetterQueue", "Arn"]}
TABLE_ARN = {"Fn::GetAtt": ["TimesheetsTable", "Arn"]}
SECRET_ARN = {"Ref": "CredentialsSecret"}
JOB_ARN = {"Fn::GetAtt": [JOB, "Arn"]}
KEY_ARN = {"Fn::GetAtt": ["ClientAssertionKey", "Arn"]}
# Parameter values of the two kinds of deployment.
SECRET = {}
PRIVATE_KEY_JWT = {"ClientAuthentication": "private_key_jwt"}
MANAGED_INSTANCES = {
    "ApiOnManagedInstances": "true",
    "ApiSubnetIds": "subnet-0123456789abcdef0,subnet-0fedcba9876543210",
    "ApiSecurityGroupIds": "sg-0123456789abcdef0",
}
# Each mode of the API and the function that serves the route in it.
API_MODES = pytest.mark.parametrize(
    "mode,api", [({}, API), (MANAGED_INSTANCES, MANAGED)], ids=["lambda", "managed-instances"]
)
# An issuer that follows RFC 8707 and RFC 6749 section 3.3 rather than Auth0's audience.
RFC_8707 = {
    "AuthTokenSendAudience": "false",
    "AuthTokenResource": "https://api.exampleco.com/timesheets",
    "AuthTokenScope": "batch:upload",
}


def of_type(resources, type_):
    return {name: r for name, r in resources.items() if r["Type"] == type_}


def statements(role):
    for policy in role["Properties"].get("Policies", []):
        yield from policy["PolicyDocument"]["Statement"]


def as_list(value):
    return value if isinstance(value, list) else [value]


def source_arn(permission):
    """A permission's SourceArn as one Fn::Sub string: SAM writes its variables apart."""
    sub = permission["SourceArn"]["Fn::Sub"]
    if isinstance(sub, str):
        return sub
    text, variables = sub
    for name, value in variables.items():
        text = text.replace("${%s}" % name, "${%s}" % value["Ref"] if isinstance(value, dict) else value)
    return text


def role_of(resources, function):
    role_ref = resources[function]["Properties"]["Role"]
    assert role_ref["Fn::GetAtt"][1] == "Arn"
    return resources[role_ref["Fn::GetAtt"][0]]


# --- API route ---------------------------------------------------------------------------------


@API_MODES
def test_http_api_has_only_the_upload_route_and_it_invokes_the_api_function(cfn, mode, api):
    api_function = api
    api = deployed(cfn, **mode)["Resources"]["TimesheetsHttpApi"]
    assert api["Type"] == "AWS::ApiGatewayV2::Api"
    paths = api["Properties"]["Body"]["paths"]
    assert list(paths) == ["/timesheets/upload"]
    assert list(paths["/timesheets/upload"]) == ["post"]
    integration = paths["/timesheets/upload"]["post"]["x-amazon-apigateway-integration"]
    assert integration["type"] == "aws_proxy"
    assert integration["payloadFormatVersion"] == "2.0"
    assert integration["timeoutInMillis"] == 15000
    assert f"${{{api_function}.Arn}}" in integration["uri"]["Fn::Sub"]


# SAM CLI's own template validation warns of deprecated calls inside it.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("value", ["false", "true"])
def test_sam_local_start_api_serves_the_upload_from_the_on_demand_function(monkeypatch, value):
    # sam local evaluates no conditions: were both API functions to declare the route, it would
    # serve the upload from the Managed Instances one, which events/env.json does not configure.
    monkeypatch.setenv("SAM_CLI_TELEMETRY", "0")
    from samcli.lib.providers.api_provider import ApiProvider
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

    parameters = {"AuthIssuer": "https://YOUR_DOMAIN.auth0.com/", "ApiOnManagedInstances": value}
    stacks, _ = SamLocalStackProvider.get_stacks(str(INFRA / "template.yaml"), parameter_overrides=parameters)
    routes = [(route.methods, route.path, route.function_name) for route in ApiProvider(stacks).routes]
    assert routes == [(["POST"], "/timesheets/upload", API)]


def test_route_has_no_gateway_authorizer_so_the_function_answers_rfc6750_errors(resources):
    post = resources["TimesheetsHttpApi"]["Properties"]["Body"]["paths"]["/timesheets/upload"]["post"]
    assert "security" not in post
    assert "components" not in resources["TimesheetsHttpApi"]["Properties"]["Body"]


@API_MODES
def test_api_gateway_may_invoke_the_api_function_on_that_route_only(cfn, mode, api):
    permissions = of_type(deployed(cfn, **mode)["Resources"], "AWS::Lambda::Permission")
    assert list(permissions) == [f"{api}UploadPermission"]
    props = permissions[f"{api}UploadPermission"]["Properties"]
    assert props["FunctionName"] == {"Ref": api}
    assert props["Principal"] == "apigateway.amazonaws.com"
    assert source_arn(props) == (
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${TimesheetsHttpApi}/*/POST/timesheets/upload"
    )


def test_default_stage_throttles(resources):
    stage = resources["TimesheetsHttpApiApiGatewayDefaultStage"]["Properties"]
    assert stage["StageName"] == "$default"
    assert stage["DefaultRouteSettings"] == {"ThrottlingBurstLimit": 50, "ThrottlingRateLimit": 20}


def test_access_log_is_json_without_headers_or_body(resources):
    settings = resources["TimesheetsHttpApiApiGatewayDefaultStage"]["Properties"]["AccessLogSettings"]
    assert settings["DestinationArn"] == {"Fn::GetAtt": ["TimesheetsApiAccessLogGroup", "Arn"]}
    line = json.loads(settings["Format"])
    assert line["requestId"] == "$context.requestId"
    assert line["status"] == "$context.status"
    assert "$request." not in settings["Format"]
    log_group = resources["TimesheetsApiAccessLogGroup"]["Properties"]
    assert log_group["RetentionInDays"] == {"Ref": "LogRetentionDays"}


# --- Schedule, retries, DLQ ----------------------------------------------------------------------


def test_one_scheduler_schedule_invokes_the_job_with_the_sample_input(resources):
    schedules = of_type(resources, "AWS::Scheduler::Schedule")
    assert list(schedules) == ["TimesheetsJobFunctionSchedule"]
    props = schedules["TimesheetsJobFunctionSchedule"]["Properties"]
    assert props["ScheduleExpression"] == {"Ref": "ScheduleExpression"}
    assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = props["Target"]
    assert target["Arn"] == JOB_ARN
    schedule_input = json.loads(target["Input"])
    assert schedule_input == {
        "id": "<aws.scheduler.schedule-arn>/<aws.scheduler.scheduled-time>",
        "entries": [SAMPLE_ENTRY],
    }
    assert schedule_input["entries"] == load_event("schedule.json")["entries"]


def test_schedule_is_scheduler_so_a_per_run_id_can_come_from_context_attributes(resources, cfn):
    # EventBridge Scheduler substitutes <aws.scheduler.schedule-arn> and
    # <aws.scheduler.scheduled-time> in a target's Input, the same on every retry of one run;
    # a plain rule with a constant Input cannot.
    assert of_type(resources, "AWS::Events::Rule") == {}
    props = resources["TimesheetsJobFunctionSchedule"]["Properties"]
    assert isinstance(props["Target"]["Input"], str)
    # No fixed Name: two stacks in one account would collide in the default group.
    assert "Name" not in props
    assert cfn["Parameters"]["ScheduleExpression"]["Default"] == "rate(1 hour)"


def test_scheduler_retries_then_dead_letters_to_the_dlq(resources):
    target = resources["TimesheetsJobFunctionSchedule"]["Properties"]["Target"]
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600}
    assert target["DeadLetterConfig"] == {"Arn": DLQ_ARN}
    role = resources[target["RoleArn"]["Fn::GetAtt"][0]]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": ["scheduler.amazonaws.com"]
    }
    granted = {(s["Action"], json.dumps(s["Resource"], sort_keys=True)) for s in statements(role)}
    assert granted == {
        ("lambda:InvokeFunction", json.dumps(JOB_ARN, sort_keys=True)),
        ("sqs:SendMessage", json.dumps(DLQ_ARN, sort_keys=True)),
    }


def test_async_invoke_retries_twice_then_sends_to_the_dlq(resources):
    configs = of_type(resources, "AWS::Lambda::EventInvokeConfig")
    assert list(configs) == ["TimesheetsJobFunctionEventInvokeConfig"]
    props = configs["TimesheetsJobFunctionEventInvokeConfig"]["Properties"]
    assert props["FunctionName"] == {"Ref": JOB}
    assert props["MaximumRetryAttempts"] == 2
    assert props["MaximumEventAgeInSeconds"] == 3600
    assert props["DestinationConfig"] == {"OnFailure": {"Destination": DLQ_ARN}}


def test_dlq_keeps_messages_for_14_days_encrypted(resources):
    queue = resources["JobDeadLetterQueue"]
    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"]["MessageRetentionPeriod"] == 1209600
    assert queue["Properties"]["SqsManagedSseEnabled"] is True


# --- Alarms ------------------------------------------------------------------------------------


def test_dlq_depth_alarm(resources):
    props = resources["JobDeadLetterQueueAlarm"]["Properties"]
    assert (props["Namespace"], props["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert props["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["JobDeadLetterQueue", "QueueName"]}}]
    assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanThreshold", 0)
    assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]


@pytest.mark.parametrize(
    "alarm,function,mode",
    [
        ("TimesheetsApiErrorsAlarm", API, {}),
        ("TimesheetsApiErrorsAlarm", MANAGED, MANAGED_INSTANCES),
        ("TimesheetsJobErrorsAlarm", JOB, {}),
    ],
    ids=["api", "api-managed-instances", "job"],
)
def test_function_errors_alarm(cfn, alarm, function, mode):
    props = deployed(cfn, **mode)["Resources"][alarm]["Properties"]
    assert (props["Namespace"], props["MetricName"], props["Statistic"]) == ("AWS/Lambda", "Errors", "Sum")
    assert props["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
    assert (props["ComparisonOperator"], props["Threshold"]) == ("GreaterThanThreshold", 0)


def test_every_alarm_is_one_of_the_three(resources):
    assert sorted(of_type(resources, "AWS::CloudWatch::Alarm")) == [
        "JobDeadLetterQueueAlarm",
        "TimesheetsApiErrorsAlarm",
        "TimesheetsJobErrorsAlarm",
    ]


# --- IAM -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "parameters,count",
    [(SECRET, 5), (PRIVATE_KEY_JWT, 6), (MANAGED_INSTANCES, 5)],
    ids=["secret", "private_key_jwt", "managed-instances"],
)
def test_no_iam_statement_has_a_wildcard_resource_or_action(cfn, parameters, count):
    seen = 0
    for role in of_type(deployed(cfn, **parameters)["Resources"], "AWS::IAM::Role").values():
        for statement in statements(role):
            seen += 1
            assert statement["Effect"] == "Allow"
            for resource in as_list(statement["Resource"]):
                assert resource in (TABLE_ARN, SECRET_ARN, DLQ_ARN, JOB_ARN, KEY_ARN), resource
                assert "*" not in json.dumps(resource)
            for action in as_list(statement["Action"]):
                assert "*" not in action
    assert seen == count


@pytest.mark.parametrize("function", [API, MANAGED])
def test_api_role_may_only_touch_items_of_the_table(resources, function):
    role = role_of(resources, function)
    assert role["Properties"]["ManagedPolicyArns"] == [
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    ]
    (statement,) = list(statements(role))
    assert statement["Resource"] == TABLE_ARN
    assert sorted(statement["Action"]) == [
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ]


@pytest.mark.parametrize(
    "parameters,signing",
    [(SECRET, {}), (PRIVATE_KEY_JWT, {json.dumps(KEY_ARN, sort_keys=True): {"kms:Sign", "kms:GetPublicKey"}})],
    ids=["secret", "private_key_jwt"],
)
def test_job_role_may_only_read_the_secret_dead_letter_and_sign_with_its_key(cfn, parameters, signing):
    resources = deployed(cfn, **parameters)["Resources"]
    role = role_of(resources, JOB)
    assert role["Properties"]["ManagedPolicyArns"] == [
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    ]
    by_resource = {}
    for statement in statements(role):
        by_resource.setdefault(json.dumps(statement["Resource"], sort_keys=True), set()).update(
            as_list(statement["Action"])
        )
    assert by_resource == {
        json.dumps(SECRET_ARN): {"secretsmanager:GetSecretValue"},
        json.dumps(DLQ_ARN, sort_keys=True): {"sqs:SendMessage"},
        **signing,
    }


def test_only_the_job_may_use_the_signing_key(cfn):
    resources = deployed(cfn, **PRIVATE_KEY_JWT)["Resources"]
    for name, role in of_type(resources, "AWS::IAM::Role").items():
        kms_actions = {a for s in statements(role) for a in as_list(s["Action"]) if a.startswith("kms:")}
        assert kms_actions == ({"kms:Sign", "kms:GetPublicKey"} if role is role_of(resources, JOB) else set()), name


# --- Functions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("function,binary", [(API, "timesheets-api"), (MANAGED, "timesheets-api"), (JOB, "timesheets-job")])
def test_function_is_an_arm64_rust_binary_on_al2023(resources, sam_template, function, binary):
    props = resources[function]["Properties"]
    assert props["Runtime"] == "provided.al2023"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "bootstrap"
    source = sam_template["Resources"][function]
    assert source["Metadata"] == {"BuildMethod": "rust-cargolambda", "BuildProperties": {"Binary": binary}}


@pytest.mark.parametrize(
    "function,binary,package_dir",
    [(API, "timesheets-api", "functions/api"), (MANAGED, "timesheets-api", "functions/api"), (JOB, "timesheets-job", "functions/job")],
)
def test_each_function_builds_from_its_own_package_so_no_other_features_leak_in(
    sam_template, function, binary, package_dir
):
    # sam build runs `cargo lambda build --bin <Binary>` in CodeUri. At the workspace root cargo
    # unified the features of every member: the API got the job's SDK HTTPS client and h2. In the
    # package's own folder cargo resolves that package alone (the workspace's target/ is shared).
    code_uri = sam_template["Resources"][function]["Properties"]["CodeUri"]
    assert code_uri == f"../{package_dir}"
    manifest = tomllib.loads((INFRA / code_uri / "Cargo.toml").read_text(encoding="utf-8"))
    assert [b["name"] for b in manifest["bin"]] == [binary]
    workspace = tomllib.loads((ROOT / "Cargo.toml").read_text(encoding="utf-8"))["workspace"]
    assert package_dir in workspace["members"]


def test_api_trusts_the_extra_issuers_after_the_jobs_own(cfn):
    extra = "https://login.exampleco.com/,https://other.example/"
    env = deployed(cfn, ExtraIssuers=extra)["Resources"][API]["Properties"]["Environment"]["Variables"]
    assert env["AUTH_ISSUER"] == {"Fn::Sub": "${AuthIssuer},${ExtraIssuers}"}
    job_env = deployed(cfn, ExtraIssuers=extra)["Resources"][JOB]["Properties"]["Environment"]["Variables"]
    assert job_env["AUTH_ISSUER"] == {"Ref": "AuthIssuer"}


@pytest.mark.parametrize(
    "extra,ok",
    [
        ("", True),
        ("https://login.exampleco.com/", True),
        ("https://login.exampleco.com/,https://a.example/realms/x/", True),
        ("https://login.exampleco.com/, https://a.example/", True),
        ("https://login.exampleco.com", True),
        ("https://kc.example/realms/acme,https://login.exampleco.com/", True),
        ("http://127.0.0.1:8080", True),
        ("http://login.exampleco.com/", False),
        ("https://login.exampleco.com/,", False),
        ("https://login.exampleco.com/#x", False),
    ],
)
def test_extra_issuers_pattern(cfn, extra, ok):
    pattern = cfn["Parameters"]["ExtraIssuers"]["AllowedPattern"]
    assert (re.fullmatch(pattern, extra) is not None) is ok


@API_MODES
def test_api_function_environment_is_exactly_what_it_reads(cfn, mode, api):
    resources = deployed(cfn, **mode)["Resources"]
    assert resources[api]["Properties"]["Environment"]["Variables"] == {
        "AUTH_ISSUER": {"Ref": "AuthIssuer"},
        "AUTH_AUDIENCE": {"Ref": "AuthAudience"},
        "TIMESHEETS_TABLE": {"Ref": "TimesheetsTable"},
        "TIMESHEETS_ID_BLOCK_SIZE": "100",
        "AUTH_DPOP": {"Ref": "DpopMode"},
        "AUTH_REQUIRE_AT_JWT": {"Ref": "AuthRequireAtJwt"},
    }


def test_rfc9068_profile_is_off_by_default_and_takes_only_the_values_the_api_reads(cfn):
    # The API reads AUTH_REQUIRE_AT_JWT as `true` or `false` and fails init on anything else;
    # Auth0's default access tokens are typed JWT, not at+jwt, so the default must be false.
    parameter = cfn["Parameters"]["AuthRequireAtJwt"]
    assert parameter["Default"] == "false"
    assert parameter["AllowedValues"] == ["false", "true"]


@pytest.mark.parametrize("function", [API, MANAGED, JOB])
def test_aws_endpoint_url_is_declared_for_sam_local_and_unset_in_aws(resources, cfn, function):
    # sam local passes only declared variables: the stand-ins' endpoint needs the name.
    assert resources[function]["Properties"]["Environment"]["Variables"]["AWS_ENDPOINT_URL"] == {"Ref": "AWS::NoValue"}
    for parameters in (MANAGED_INSTANCES,) if function == MANAGED else (SECRET, PRIVATE_KEY_JWT):
        variables = deployed(cfn, **parameters)["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert "AWS_ENDPOINT_URL" not in variables


JOB_ENV = {
    "AUTH_ISSUER": {"Ref": "AuthIssuer"},
    "AUTH_AUDIENCE": {"Ref": "AuthAudience"},
    "CREDENTIALS_SECRET_ID": SECRET_ARN,
    "API_URL": {"Fn::GetAtt": ["TimesheetsHttpApi", "ApiEndpoint"]},
    "AUTH_CLIENT_AUTH": {"Ref": "ClientAuthentication"},
    "AUTH_DPOP": {"Ref": "DpopMode"},
    "AUTH_TOKEN_SEND_AUDIENCE": {"Ref": "AuthTokenSendAudience"},
}
SIGNING_ENV = {
    "AUTH_SIGNING_KEY_ID": {"Ref": "ClientAssertionKey"},
    "AUTH_ASSERTION_ALG": {"Ref": "ClientAssertionAlgorithm"},
}


@pytest.mark.parametrize(
    "parameters,expected",
    [
        (SECRET, JOB_ENV),
        ({"ClientAuthentication": "client_secret_basic", "ClientAssertionKid": "ignored-kid"}, JOB_ENV),
        (PRIVATE_KEY_JWT, {**JOB_ENV, **SIGNING_ENV}),
        (
            {**PRIVATE_KEY_JWT, "ClientAssertionKid": "auth0-credential-kid", "ClientAssertionAudience": "https://login.exampleco.com/"},
            {
                **JOB_ENV,
                **SIGNING_ENV,
                "AUTH_ASSERTION_KID": {"Ref": "ClientAssertionKid"},
                "AUTH_ASSERTION_AUDIENCE": {"Ref": "ClientAssertionAudience"},
            },
        ),
        (
            RFC_8707,
            {
                **JOB_ENV,
                "AUTH_TOKEN_RESOURCE": {"Ref": "AuthTokenResource"},
                "AUTH_TOKEN_SCOPE": {"Ref": "AuthTokenScope"},
            },
        ),
    ],
    ids=["secret-post", "secret-basic", "private_key_jwt", "private_key_jwt-kid-audience", "rfc8707"],
)
def test_job_function_environment_is_exactly_what_it_reads(cfn, parameters, expected):
    resources = deployed(cfn, **parameters)["Resources"]
    assert resources[JOB]["Properties"]["Environment"]["Variables"] == expected


def test_signing_key_names_match_the_local_stack():
    # The Rust job reads one set of names, from SAM in AWS and from .local/stack.env locally.
    stack_sh = (ROOT / "infra/local/stack.sh").read_text()
    for name in ("AUTH_CLIENT_AUTH", "AUTH_SIGNING_KEY_ID", "AUTH_ASSERTION_ALG", "AUTH_ASSERTION_KID"):
        assert f"{name}=" in stack_sh, name


@API_MODES
def test_api_timeout_fits_the_http_api_integration_timeout(cfn, mode, api):
    resources = deployed(cfn, **mode)["Resources"]
    post = resources["TimesheetsHttpApi"]["Properties"]["Body"]["paths"]["/timesheets/upload"]["post"]
    integration_ms = post["x-amazon-apigateway-integration"]["timeoutInMillis"]
    assert resources[api]["Properties"]["Timeout"] == 10
    assert resources[api]["Properties"]["Timeout"] * 1000 < integration_ms <= 30000
    assert resources[JOB]["Properties"]["Timeout"] == 60


@pytest.mark.parametrize(
    "function,group,suffix,name",
    [
        (API, "TimesheetsApiLogGroup", "api", "api"),
        # One log group for the API in either mode: the queries in operate.md need not change.
        (MANAGED, "TimesheetsApiLogGroup", "api", "api-managed"),
        (JOB, "TimesheetsJobLogGroup", "job", "job"),
    ],
)
def test_function_logs_json_to_its_own_group_with_retention(resources, function, group, suffix, name):
    props = resources[function]["Properties"]
    assert props["FunctionName"] == {"Fn::Sub": "${AWS::StackName}-" + name}
    assert props["LoggingConfig"] == {
        "LogFormat": "JSON",
        "ApplicationLogLevel": {"Ref": "LogLevel"},
        "SystemLogLevel": "INFO",
        "LogGroup": {"Ref": group},
    }
    log_group = resources[group]["Properties"]
    assert log_group["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${AWS::StackName}-" + suffix}
    assert log_group["RetentionInDays"] == {"Ref": "LogRetentionDays"}


# --- Data and secret -----------------------------------------------------------------------------


def test_table_single_key_on_demand_ttl_pitr_retained(resources):
    table = resources["TimesheetsTable"]
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
    props = table["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert "TableName" not in props


# --- private_key_jwt signing key ----------------------------------------------------------------


def test_signing_key_exists_only_with_private_key_jwt(cfn):
    assert cfn["Conditions"]["UsePrivateKeyJwt"] == {"Fn::Equals": [{"Ref": "ClientAuthentication"}, "private_key_jwt"]}
    assert cfn["Resources"]["ClientAssertionKey"]["Condition"] == "UsePrivateKeyJwt"
    assert of_type(deployed(cfn)["Resources"], "AWS::KMS::Key") == {}
    for mode in ("client_secret_post", "client_secret_basic"):
        assert of_type(deployed(cfn, ClientAuthentication=mode)["Resources"], "AWS::KMS::Key") == {}
    assert list(of_type(deployed(cfn, **PRIVATE_KEY_JWT)["Resources"], "AWS::KMS::Key")) == ["ClientAssertionKey"]


@pytest.mark.parametrize("alg,spec", [("RS256", "RSA_2048"), ("PS256", "RSA_2048"), ("ES256", "ECC_NIST_P256")])
def test_signing_key_is_an_asymmetric_sign_verify_key_for_the_alg(cfn, alg, spec):
    key = deployed(cfn, **PRIVATE_KEY_JWT, ClientAssertionAlgorithm=alg)["Resources"]["ClientAssertionKey"]
    props = key["Properties"]
    assert (props["KeyUsage"], props["KeySpec"]) == ("SIGN_VERIFY", spec)
    # Asymmetric keys cannot rotate: a new key means a new registration with the issuer.
    assert "EnableKeyRotation" not in props
    assert (key["DeletionPolicy"], props["PendingWindowInDays"]) == ("Delete", 30)


def test_signing_key_policy_delegates_to_iam_in_this_account_only(cfn):
    policy = deployed(cfn, **PRIVATE_KEY_JWT)["Resources"]["ClientAssertionKey"]["Properties"]["KeyPolicy"]
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}


def test_client_authentication_parameters(cfn):
    params = cfn["Parameters"]
    assert params["ClientAuthentication"]["Default"] == "client_secret_post"
    assert params["ClientAuthentication"]["AllowedValues"] == ["client_secret_post", "client_secret_basic", "private_key_jwt"]
    assert params["ClientAssertionAlgorithm"]["Default"] == "RS256"
    assert params["ClientAssertionAlgorithm"]["AllowedValues"] == ["RS256", "PS256", "ES256"]
    assert (params["ClientAssertionKid"]["Default"], params["ClientAssertionAudience"]["Default"]) == ("", "")


@pytest.mark.parametrize(
    "kid,ok",
    [
        ("", True),
        ("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", True),
        ("k" * 64, True),
        ("k" * 65, False),
        ("kid with spaces", False),
        ("kid/slash", False),
    ],
)
def test_kid_pattern_is_auth0s(cfn, kid, ok):
    pattern = cfn["Parameters"]["ClientAssertionKid"]["AllowedPattern"]
    assert (re.fullmatch(pattern, kid) is not None) is ok


def test_secret_is_created_with_placeholders_only(resources):
    props = resources["CredentialsSecret"]["Properties"]
    assert json.loads(props["SecretString"]) == {"client_id": "REPLACE_ME", "client_secret": "REPLACE_ME"}
    assert "GenerateSecretString" not in props


# --- Parameters and outputs ----------------------------------------------------------------------


def test_token_request_is_auth0s_by_default(cfn):
    params = cfn["Parameters"]
    assert params["AuthTokenSendAudience"]["Default"] == "true"
    # The job reads AUTH_TOKEN_SEND_AUDIENCE as `true` or `false` and fails init on anything else.
    assert params["AuthTokenSendAudience"]["AllowedValues"] == ["true", "false"]
    assert (params["AuthTokenResource"]["Default"], params["AuthTokenScope"]["Default"]) == ("", "")


@pytest.mark.parametrize(
    "resource,ok",
    [
        ("", True),
        ("https://api.exampleco.com/timesheets", True),
        ("https://api.exampleco.com/timesheets?tenant=a", True),
        ("urn:exampleco:timesheets", True),
        ("https://api.exampleco.com/timesheets#v1", False),
        ("/timesheets", False),
        ("https://api.exampleco.com/time sheets", False),
    ],
)
def test_token_resource_pattern_is_an_absolute_uri_without_fragment(cfn, resource, ok):
    pattern = cfn["Parameters"]["AuthTokenResource"]["AllowedPattern"]
    assert (re.fullmatch(pattern, resource) is not None) is ok


@pytest.mark.parametrize(
    "scope,ok",
    [
        ("", True),
        ("batch:upload", True),
        ("batch:upload batch:read", True),
        ("api://timesheets/.default", True),
        ("batch:upload  batch:read", False),
        (" batch:upload", False),
        ('batch"upload', False),
        ("batch\\upload", False),
    ],
)
def test_token_scope_pattern_is_rfc_6749_scope_tokens(cfn, scope, ok):
    pattern = cfn["Parameters"]["AuthTokenScope"]["AllowedPattern"]
    assert (re.fullmatch(pattern, scope) is not None) is ok


def test_parameter_defaults(cfn):
    params = cfn["Parameters"]
    assert params["AuthAudience"]["Default"] == "https://api.exampleco.com/timesheets"
    assert params["LogLevel"]["Default"] == "INFO"
    assert params["LogRetentionDays"]["Default"] == 30
    assert "Default" not in params["AuthIssuer"]
    assert params["ExtraIssuers"]["Default"] == ""


@pytest.mark.parametrize(
    "issuer,ok",
    [
        ("https://YOUR_DOMAIN.auth0.com/", True),
        ("https://exampleco.eu.auth0.com/", True),
        ("https://login.example.com/realms/timesheets/", True),
        # Keycloak, Okta and Entra ID name their issuers without the trailing slash.
        ("https://login.example.com/realms/timesheets", True),
        ("https://exampleco.okta.com/oauth2/default", True),
        ("https://exampleco.auth0.com", True),
        ("https://login.example.com:8443/realms/timesheets", True),
        # Plain http only on loopback, where the local stand-ins run.
        ("http://127.0.0.1:4000/", True),
        ("http://127.0.0.1:4000", True),
        ("http://localhost:8080/realms/timesheets", True),
        ("http://[::1]:8080/", True),
        ("http://exampleco.auth0.com/", False),
        ("http://127.0.0.1.example.com/", False),
        ("http://localhost.example.com/", False),
        ("https:///", False),
        ("https://exampleco.auth0.com/?x=1/", False),
        ("https://exampleco.auth0.com/#x", False),
        ("https://exampleco.auth0.com/,https://other.example/", False),
        ("ftp://exampleco.auth0.com/", False),
    ],
)
def test_issuer_pattern_takes_https_with_or_without_the_slash_and_loopback_http(cfn, issuer, ok):
    pattern = cfn["Parameters"]["AuthIssuer"]["AllowedPattern"]
    assert (re.fullmatch(pattern, issuer) is not None) is ok


OUTPUTS = {
    "ApiUrl": {"Fn::GetAtt": ["TimesheetsHttpApi", "ApiEndpoint"]},
    "SecretArn": SECRET_ARN,
    "TableName": {"Ref": "TimesheetsTable"},
    "DeadLetterQueueUrl": {"Ref": "JobDeadLetterQueue"},
    "JobFunctionName": {"Ref": "TimesheetsJobFunction"},
    "AlarmTopicArn": {"Ref": "AlarmTopic"},
}


@pytest.mark.parametrize(
    "parameters,expected",
    [
        (SECRET, OUTPUTS),
        (MANAGED_INSTANCES, OUTPUTS),
        # The names infra/local/public_jwk.py --stack-name reads.
        (
            PRIVATE_KEY_JWT,
            {**OUTPUTS, "SigningKeyId": {"Ref": "ClientAssertionKey"}, "ClientAssertionAlgorithm": {"Ref": "ClientAssertionAlgorithm"}},
        ),
    ],
    ids=["secret", "managed-instances", "private_key_jwt"],
)
def test_outputs(cfn, parameters, expected):
    outputs = {name: o["Value"] for name, o in deployed(cfn, **parameters)["Outputs"].items()}
    assert outputs == expected


# --- Lambda Managed Instances (ApiOnManagedInstances) -------------------------------------------

# What the stack held before the parameter existed, with the default parameters.
TODAYS_RESOURCES = {
    "AlarmTopic": "AWS::SNS::Topic",
    "CredentialsSecret": "AWS::SecretsManager::Secret",
    "JobDeadLetterQueue": "AWS::SQS::Queue",
    "JobDeadLetterQueueAlarm": "AWS::CloudWatch::Alarm",
    "TimesheetsApiAccessLogGroup": "AWS::Logs::LogGroup",
    "TimesheetsApiErrorsAlarm": "AWS::CloudWatch::Alarm",
    "TimesheetsApiFunction": "AWS::Lambda::Function",
    "TimesheetsApiFunctionRole": "AWS::IAM::Role",
    "TimesheetsApiFunctionUploadPermission": "AWS::Lambda::Permission",
    "TimesheetsApiLogGroup": "AWS::Logs::LogGroup",
    "TimesheetsHttpApi": "AWS::ApiGatewayV2::Api",
    "TimesheetsHttpApiApiGatewayDefaultStage": "AWS::ApiGatewayV2::Stage",
    "TimesheetsJobErrorsAlarm": "AWS::CloudWatch::Alarm",
    "TimesheetsJobFunction": "AWS::Lambda::Function",
    "TimesheetsJobFunctionEventInvokeConfig": "AWS::Lambda::EventInvokeConfig",
    "TimesheetsJobFunctionRole": "AWS::IAM::Role",
    "TimesheetsJobFunctionSchedule": "AWS::Scheduler::Schedule",
    "TimesheetsJobFunctionScheduleRole": "AWS::IAM::Role",
    "TimesheetsJobLogGroup": "AWS::Logs::LogGroup",
    "TimesheetsTable": "AWS::DynamoDB::Table",
}
# The properties the Managed Instances twin may set otherwise than the on-demand API function;
# it has no event (its invoke permission is written out).
MANAGED_ONLY = {"FunctionName", "MemorySize", "CapacityProviderConfig", "PublishToLatestPublished", "Events"}


def types(resources):
    return {name: r["Type"] for name, r in resources.items()}


def test_managed_instances_are_off_by_default(cfn):
    params = cfn["Parameters"]
    assert params["ApiOnManagedInstances"]["Default"] == "false"
    assert params["ApiOnManagedInstances"]["AllowedValues"] == ["false", "true"]
    for name in ("ApiSubnetIds", "ApiSecurityGroupIds"):
        assert (params[name]["Type"], params[name]["Default"]) == ("CommaDelimitedList", ""), name


def test_the_default_deploys_exactly_todays_resources(cfn):
    resources = deployed(cfn)["Resources"]
    assert types(resources) == TODAYS_RESOURCES
    api = resources[API]["Properties"]
    assert (api["MemorySize"], api["FunctionName"]) == (256, {"Fn::Sub": "${AWS::StackName}-api"})
    assert "CapacityProviderConfig" not in api and "PublishToLatestPublished" not in api
    assert not any(r["Type"].startswith("AWS::EC2::") for r in resources.values())


def test_managed_instances_swap_the_api_function_and_add_the_capacity_provider(cfn):
    resources = deployed(cfn, **MANAGED_INSTANCES)["Resources"]
    expected = {name: t for name, t in TODAYS_RESOURCES.items() if not name.startswith(API)}
    expected.update(
        {
            MANAGED: "AWS::Lambda::Function",
            f"{MANAGED}Role": "AWS::IAM::Role",
            f"{MANAGED}UploadPermission": "AWS::Lambda::Permission",
            CAPACITY_PROVIDER: "AWS::Lambda::CapacityProvider",
            f"{CAPACITY_PROVIDER}OperatorRole": "AWS::IAM::Role",
        }
    )
    assert types(resources) == expected


def test_managed_function_runs_on_the_capacity_provider(cfn):
    props = deployed(cfn, **MANAGED_INSTANCES)["Resources"][MANAGED]["Properties"]
    assert props["CapacityProviderConfig"] == {
        "LambdaManagedInstancesCapacityProviderConfig": {
            "CapacityProviderArn": {
                "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}"
                f":capacity-provider:${{{CAPACITY_PROVIDER}}}"
            },
            # One vCPU and 2 GiB per environment, 32 invocations in flight in each.
            "ExecutionEnvironmentMemoryGiBPerVCpu": 2,
            "PerExecutionEnvironmentMaxConcurrency": 32,
        }
    }
    # The smallest size Managed Instances take; 2048 MB at 2 GiB per vCPU is one vCPU.
    assert props["MemorySize"] == 2048
    assert props["Architectures"] == ["arm64"]
    # The HTTP API invokes the unqualified ARN, $LATEST.PUBLISHED on Managed Instances.
    assert props["PublishToLatestPublished"] is True
    assert props["FunctionName"] == {"Fn::Sub": "${AWS::StackName}-api-managed"}
    assert "VpcConfig" not in props


def test_capacity_provider_is_arm64_in_the_given_network_with_a_vcpu_ceiling(cfn):
    resources = deployed(cfn, **MANAGED_INSTANCES)["Resources"]
    props = resources[CAPACITY_PROVIDER]["Properties"]
    assert props["VpcConfig"] == {
        "SubnetIds": {"Ref": "ApiSubnetIds"},
        "SecurityGroupIds": {"Ref": "ApiSecurityGroupIds"},
    }
    # The function's architecture; no instance type list, Lambda picks (AWS's advice).
    assert props["InstanceRequirements"] == {"Architectures": ["arm64"]}
    assert props["CapacityProviderScalingConfig"] == {"MaxVCpuCount": 16, "ScalingMode": "Auto"}
    role_arn = props["PermissionsConfig"]["CapacityProviderOperatorRoleArn"]
    role = resources[role_arn["Fn::GetAtt"][0]]["Properties"]
    assert role["ManagedPolicyArns"] == ["arn:aws:iam::aws:policy/AWSLambdaManagedEC2ResourceOperator"]
    assert list(statements(resources[role_arn["Fn::GetAtt"][0]])) == []


def test_the_two_api_functions_differ_only_in_what_managed_instances_need(sam_template):
    on_demand = sam_template["Resources"][API]
    managed = sam_template["Resources"][MANAGED]
    assert (on_demand["Condition"], managed["Condition"]) == ("OnLambdaDefault", "OnManagedInstances")
    # Same Metadata, CodeUri and handler: sam build builds the binary once for both.
    assert managed["Metadata"] == on_demand["Metadata"]
    assert set(managed["Properties"]) - set(on_demand["Properties"]) <= MANAGED_ONLY
    assert "Events" not in managed["Properties"]
    for name in set(on_demand["Properties"]) | set(managed["Properties"]):
        if name not in MANAGED_ONLY:
            assert managed["Properties"].get(name) == on_demand["Properties"].get(name), name


def test_the_conditions_are_each_others_opposite(cfn):
    conditions = cfn["Conditions"]
    assert conditions["OnManagedInstances"] == {"Fn::Equals": [{"Ref": "ApiOnManagedInstances"}, "true"]}
    assert conditions["OnLambdaDefault"] == {"Fn::Not": [{"Condition": "OnManagedInstances"}]}


def test_managed_instances_refuse_to_deploy_without_subnets_and_security_groups(cfn):
    # The rule as written: only CloudFormation evaluates Rules, at deploy. An empty
    # CommaDelimitedList parameter is the list [""], which the assertions look for.
    rule = cfn["Rules"]["ManagedInstancesNeedANetwork"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "ApiOnManagedInstances"}, "true"]}
    asserted = [a["Assert"] for a in rule["Assertions"]]
    assert asserted == [
        {"Fn::Not": [{"Fn::Contains": [{"Ref": "ApiSubnetIds"}, ""]}]},
        {"Fn::Not": [{"Fn::Contains": [{"Ref": "ApiSecurityGroupIds"}, ""]}]},
    ]


def test_cfn_lint_finds_nothing_with_managed_instances_as_the_default(sam_template):
    # `make test` lints the template as it is (Lambda by default); this lints it with the
    # managed mode's values as the defaults (what `sam validate --lint` would see with them).
    template = json.loads(json.dumps(sam_template))
    for name, value in MANAGED_INSTANCES.items():
        template["Parameters"][name]["Default"] = value
    assert [str(match) for match in lint(json.dumps(template), regions=["us-east-1"])] == []
