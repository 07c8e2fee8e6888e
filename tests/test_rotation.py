"""Secret rotation without an outage: the RDS rotation redeploy, and version-pinned program secrets.

The committed stacks (RDS-managed master secret) get an EventBridge rule on the secret's native
`Secret Label Updated` event whose target, a STANDARD state machine, forces a new deployment of
exactly the services that read the password. Program-managed secrets (app secrets, the cache AUTH
token, the generated master password) reach containers pinned to their Secrets Manager version, so
a new value is a new task definition and ECS rolls the services.
"""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase

import pulumi_aws as aws
import pytest

from components.cache import Cache, CacheArgs
from components.database import Database, DatabaseArgs
from components.rotation import (
    LOG_DELIVERY_ACTIONS, UPDATE_SERVICE, redeploy_definition, rotation_event_pattern, state_machine_prefix,
)
from helpers.container import pinned_secret_reference, secret_arn_of
from preflight.capture import ProgramRun, run_in_mocks
from preflight.fake_cloud import ACCOUNT_ID
from stackconfig.data import CacheConfig, DatabaseConfig
from tests.conftest import container_definitions, run_stack, stack_config
from tests.test_aws_models import validate

RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
MACHINE = "aws:sfn/stateMachine:StateMachine"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
VERSION_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SUBNETS = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]


def of_rotation(run: ProgramRun, type_: str) -> list:
    """Resources of a type under the rotation component (scheduled jobs have event rules and targets too)."""
    return [r for r in run.of_type(type_) if "webstack:rotation:SecretRotationRedeploy$" in r.urn]


def rotation_one(run: ProgramRun, type_: str):
    [only] = of_rotation(run, type_)
    return only


def by_name(run: ProgramRun, type_: str, name: str):
    return next(r for r in run.of_type(type_) if r.name == name)


def backend_secrets(run: ProgramRun) -> dict[str, str]:
    [backend] = container_definitions(run, "-backend")
    return {item["name"]: item["valueFrom"] for item in backend["secrets"]}


def master_secret_arn(run: ProgramRun) -> str:
    """The RDS-managed secret of the primary instance, or of the Aurora cluster (lean)."""
    primary = next(r for r in [*run.of_type("aws:rds/instance:Instance"), *run.of_type("aws:rds/cluster:Cluster")]
                   if "replicateSourceDb" not in r.inputs)
    return primary.outputs["masterUserSecrets"][0]["secretArn"]


def services_reading_the_database(stack: str) -> list[str]:
    config, _ = stack_config(stack)
    return sorted(name for name, service in config["webstack:services"].items()
                  if "database" in service.get("uses", []))


def ecs_service(run: ProgramRun, name: str):
    return by_name(run, "aws:ecs/service:Service", f"{name}-service")


def role_policies(run: ProgramRun, role) -> list[dict]:
    return [json.loads(p.inputs["policy"]) for p in run.of_type(ROLE_POLICY) if p.inputs["role"] == role.id]


def attachments_of(run: ProgramRun, role) -> list:
    return [a for a in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            if a.inputs["role"] in (role.id, role.outputs["name"])]


# --- a structural check of Amazon States Language (JSONPath), enough to catch what AWS would refuse ---

STATE_FIELDS = {
    "Task": {"Type", "Comment", "Resource", "Parameters", "TimeoutSeconds", "HeartbeatSeconds", "Retry", "Catch",
             "ResultPath", "ResultSelector", "InputPath", "OutputPath", "Next", "End"},
    "Pass": {"Type", "Comment", "Parameters", "Result", "ResultPath", "InputPath", "OutputPath", "Next", "End"},
    "Parallel": {"Type", "Comment", "Branches", "Parameters", "Retry", "Catch", "ResultPath", "ResultSelector",
                 "InputPath", "OutputPath", "Next", "End"},
    "Choice": {"Type", "Comment", "Choices", "Default", "InputPath", "OutputPath"},
    "Succeed": {"Type", "Comment", "InputPath", "OutputPath"},
    "Fail": {"Type", "Comment", "Error", "Cause"},
}
COMPARISONS = {"BooleanEquals", "StringEquals", "NumericEquals", "IsPresent", "IsNull", "StringMatches"}
RETRIER_FIELDS = {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy"}


def check_asl(definition: dict) -> list[str]:
    """Problems AWS's CreateStateMachine validation would report for this (JSONPath) definition."""
    problems: list[str] = []
    names: list[str] = []
    unknown = set(definition) - {"Comment", "StartAt", "States", "TimeoutSeconds", "Version"}
    if unknown:
        problems.append(f"unknown top-level fields {sorted(unknown)}")
    _check_machine(definition, "", problems, names)
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        problems.append(f"state names used twice: {duplicates}")
    if len(json.dumps(definition)) > 1024 * 1024:
        problems.append("definition larger than 1 MB")
    return problems


def _check_machine(machine: dict, where: str, problems: list[str], names: list[str]) -> None:
    states = machine.get("States")
    if not isinstance(states, dict) or not states:
        problems.append(f"{where}States must be a non-empty object")
        return
    if machine.get("StartAt") not in states:
        problems.append(f"{where}StartAt {machine.get('StartAt')!r} is not a state")
    reached, pending = set(), [machine.get("StartAt")]
    for name, state in states.items():
        names.append(name)
        here = f"{where}{name}: "
        if not 0 < len(name) <= 80:
            problems.append(f"{here}state names are 1-80 characters")
        kind = state.get("Type")
        if kind not in STATE_FIELDS:
            problems.append(f"{here}unknown Type {kind!r}")
            continue
        if set(state) - STATE_FIELDS[kind]:
            problems.append(f"{here}fields not allowed in a {kind} state: {sorted(set(state) - STATE_FIELDS[kind])}")
        if kind in ("Task", "Pass", "Parallel"):
            if ("Next" in state) == (state.get("End") is True):
                problems.append(f"{here}exactly one of Next and End: true")
        for target in _targets(state):
            if target not in states:
                problems.append(f"{here}transition to unknown state {target!r}")
        if kind == "Task":
            if not str(state.get("Resource", "")).startswith("arn:aws:states:::"):
                problems.append(f"{here}Resource is not a Step Functions integration ARN")
            timeout = state.get("TimeoutSeconds")
            if timeout is not None and not (isinstance(timeout, int) and timeout > 0):
                problems.append(f"{here}TimeoutSeconds must be a positive integer")
        for retrier in state.get("Retry", []):
            problems += [f"{here}{p}" for p in _retrier_problems(retrier)]
        for catcher in state.get("Catch", []):
            if not catcher.get("ErrorEquals") or "Next" not in catcher:
                problems.append(f"{here}a catcher needs ErrorEquals and Next")
        for key, value in (state.get("Parameters") or {}).items():
            if key.endswith(".$") and not (isinstance(value, str) and value.startswith(("$", "States."))):
                problems.append(f"{here}{key} must hold a path or an intrinsic function")
        if kind == "Parallel":
            if not state.get("Branches"):
                problems.append(f"{here}a Parallel state needs branches")
            for index, branch in enumerate(state.get("Branches", [])):
                _check_machine(branch, f"{here}branch {index}: ", problems, names)
        if kind == "Choice":
            if not state.get("Choices"):
                problems.append(f"{here}a Choice state needs choices")
            for rule in state.get("Choices", []):
                problems += [f"{here}{p}" for p in _rule_problems(rule, top_level=True)]
        if kind == "Fail" and not state.get("Error"):
            problems.append(f"{here}a Fail state should name its Error")
    while pending:
        name = pending.pop()
        if name in reached or name not in states:
            continue
        reached.add(name)
        pending += _targets(states[name])
    unreachable = sorted(set(states) - reached)
    if unreachable:
        problems.append(f"{where}unreachable states {unreachable}")


def _targets(state: dict) -> list[str]:
    targets = [state["Next"]] if "Next" in state else []
    targets += [catcher["Next"] for catcher in state.get("Catch", []) if "Next" in catcher]
    targets += [rule["Next"] for rule in state.get("Choices", []) if "Next" in rule]
    return targets + ([state["Default"]] if "Default" in state else [])


def _retrier_problems(retrier: dict) -> list[str]:
    problems = []
    if set(retrier) - RETRIER_FIELDS:
        problems.append(f"unknown retrier fields {sorted(set(retrier) - RETRIER_FIELDS)}")
    errors = retrier.get("ErrorEquals") or []
    if not errors or ("States.ALL" in errors and errors != ["States.ALL"]):
        problems.append("ErrorEquals must be non-empty, States.ALL alone")
    if not (isinstance(retrier.get("IntervalSeconds", 1), int) and retrier.get("IntervalSeconds", 1) >= 1):
        problems.append("IntervalSeconds must be an integer >= 1")
    if not (isinstance(retrier.get("MaxAttempts", 3), int) and retrier.get("MaxAttempts", 3) >= 0):
        problems.append("MaxAttempts must be an integer >= 0")
    if not retrier.get("BackoffRate", 2.0) >= 1.0:
        problems.append("BackoffRate must be >= 1.0")
    if "MaxDelaySeconds" in retrier and not (isinstance(retrier["MaxDelaySeconds"], int) and
                                              0 < retrier["MaxDelaySeconds"] < 31622401):
        problems.append("MaxDelaySeconds must be a positive integer")
    if retrier.get("JitterStrategy", "NONE") not in ("FULL", "NONE"):
        problems.append("JitterStrategy is FULL or NONE")
    return problems


def _rule_problems(rule: dict, top_level: bool = False) -> list[str]:
    problems = []
    if top_level != ("Next" in rule):
        problems.append("a top-level choice rule, and only one, has a Next")
    body = {k: v for k, v in rule.items() if k != "Next"}
    if set(body) & {"And", "Or"}:
        [operator] = set(body) & {"And", "Or"}
        if len(body) != 1 or not body[operator]:
            problems.append(f"{operator} takes a non-empty list and nothing else")
        for nested in body.get(operator, []):
            problems += _rule_problems(nested)
        return problems
    if not str(body.get("Variable", "")).startswith("$"):
        problems.append("a choice rule compares a Variable path")
    if len(set(body) & COMPARISONS) != 1 or set(body) - COMPARISONS - {"Variable"}:
        problems.append(f"a choice rule has exactly one comparison: {sorted(body)}")
    return problems


def evaluate_choice(state: dict, value) -> str:
    """The next state a Choice state picks for `value` (the subset of the language redeploy_definition uses)."""
    def holds(rule: dict) -> bool:
        if "Or" in rule:
            return any(holds(nested) for nested in rule["Or"])
        path = rule["Variable"]
        index = int(re.fullmatch(r"\$\[(\d+)\]\.redeployed", path).group(1))
        return value[index]["redeployed"] == rule["BooleanEquals"]
    return next((rule["Next"] for rule in state["Choices"] if holds(rule)), state["Default"])


def matches(pattern, event) -> bool:
    """EventBridge's matching for exact-value patterns: every pattern field's list holds the event's value."""
    for key, expected in pattern.items():
        if key not in event:
            return False
        if isinstance(expected, dict):
            if not isinstance(event[key], dict) or not matches(expected, event[key]):
                return False
        else:
            values = event[key] if isinstance(event[key], list) else [event[key]]
            if not set(map(json.dumps, values)) & set(map(json.dumps, expected)):
                return False
    return True


def label_updated_event(secret_arn: str, label: str = "AWSCURRENT") -> dict:
    """The example `Secret Label Updated` event of the Secrets Manager User Guide, for `secret_arn`."""
    return {
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "Secret Label Updated",
        "source": "aws.secretsmanager", "account": ACCOUNT_ID, "time": "2024-02-06T16:43:48Z",
        "region": "us-east-1", "resources": [secret_arn],
        "detail": {"name": secret_arn.split(":secret:")[1][:-7], "labelUpdated": label,
                   "versionId": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"},
    }


# --- the committed stacks: an RDS-managed secret -------------------------------------------------

def test_rule_matches_the_database_secret_becoming_current(any_run):
    rule = rotation_one(any_run, RULE)
    pattern = json.loads(rule.inputs["eventPattern"])
    secret_arn = master_secret_arn(any_run)
    assert pattern == {"source": ["aws.secretsmanager"], "detail-type": ["Secret Label Updated"],
                       "resources": [secret_arn], "detail": {"labelUpdated": ["AWSCURRENT"]}}
    assert matches(pattern, label_updated_event(secret_arn))
    # Not the rotation's intermediate steps, not another secret, not the CloudTrail form (which needs a trail).
    assert not matches(pattern, label_updated_event(secret_arn, "AWSPENDING"))
    assert not matches(pattern, label_updated_event(secret_arn.replace("rds!", "rds!other-")))
    assert not matches(pattern, {**label_updated_event(secret_arn), "detail-type": "AWS Service Event via CloudTrail"})
    assert rule.inputs["state"] == "ENABLED"
    validate("events", "PutRule", {"Name": rule.outputs["name"], "EventPattern": rule.inputs["eventPattern"],
                                   "Description": rule.inputs["description"], "State": rule.inputs["state"]})


def test_rule_target_is_the_state_machine_started_with_its_own_role(any_run):
    rule, machine, target = rotation_one(any_run, RULE), any_run.one(MACHINE), rotation_one(any_run, TARGET)
    events_role = by_name(any_run, ROLE, "database-rotation-events")
    assert (target.inputs["rule"], target.inputs["arn"], target.inputs["roleArn"]) == \
        (rule.outputs["name"], machine.outputs["arn"], events_role.outputs["arn"])
    start_policy = by_name(any_run, ROLE_POLICY, "database-rotation-events-start")
    # The role can start the machine before the first event arrives.
    assert start_policy.urn in target.dependencies
    validate("events", "PutTargets", {"Rule": rule.outputs["name"], "Targets": [{
        "Id": target.inputs["targetId"], "Arn": target.inputs["arn"], "RoleArn": target.inputs["roleArn"]}]})


def test_eventbridge_may_only_start_this_state_machine(any_run):
    rule, machine = rotation_one(any_run, RULE), any_run.one(MACHINE)
    role = by_name(any_run, ROLE, "database-rotation-events")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"] == [{
        "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
                      "ArnLike": {"aws:SourceArn": rule.outputs["arn"]}},
    }]
    assert role_policies(any_run, role) == [{"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["states:StartExecution"], "Resource": [machine.outputs["arn"]]}]}]
    assert attachments_of(any_run, role) == []
    validate("iam", "CreateRole", {"RoleName": role.outputs["name"],
                                   "AssumeRolePolicyDocument": role.inputs["assumeRolePolicy"]})


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_state_machine_redeploys_exactly_the_services_that_read_the_password(stack, request):
    run = request.getfixturevalue(f"{stack}_run")
    readers = services_reading_the_database(stack)
    assert readers == ["backend", "worker"]  # the web service and its queue worker
    machine = run.one(MACHINE)
    definition = json.loads(machine.inputs["definition"])
    assert check_asl(definition) == []
    assert machine.inputs["type"] == "STANDARD"

    parallel = definition["States"][definition["StartAt"]]
    assert parallel["Type"] == "Parallel"
    cluster_arn = run.one("aws:ecs/cluster:Cluster").outputs["arn"]
    updates = []
    for branch in parallel["Branches"]:
        task = branch["States"][branch["StartAt"]]
        assert task["Resource"] == UPDATE_SERVICE == "arn:aws:states:::aws-sdk:ecs:updateService"
        assert task["Parameters"]["ForceNewDeployment"] is True
        assert task["Parameters"]["Cluster"] == cluster_arn
        # Throttling and ECS's own failures are retried with backoff; then the branch reports, not aborts.
        [retrier] = task["Retry"]
        assert "Ecs.EcsException" in retrier["ErrorEquals"] and retrier["BackoffRate"] > 1
        assert task["Catch"][0]["ErrorEquals"] == ["States.ALL"]
        updates.append(task["Parameters"]["Service"])
        # The SDK integration's PascalCase parameters are the UpdateService API's members.
        validate("ecs", "UpdateService", {key[0].lower() + key[1:]: value for key, value in task["Parameters"].items()})
    assert sorted(updates) == sorted(ecs_service(run, name).outputs["name"] for name in readers)
    assert "frontend" not in json.dumps(definition)


def test_state_machine_may_only_update_those_services(any_run):
    machine = any_run.one(MACHINE)
    role = by_name(any_run, ROLE, "database-rotation-machine")
    assert machine.inputs["roleArn"] == role.outputs["arn"]
    trust = json.loads(role.inputs["assumeRolePolicy"])
    [statement] = trust["Statement"]
    assert (statement["Principal"], statement["Action"]) == ({"Service": "states.amazonaws.com"}, "sts:AssumeRole")
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT_ID}
    source = statement["Condition"]["ArnLike"]["aws:SourceArn"]
    # Only machines with this stack's prefix, which includes the real one.
    assert source == f"arn:aws:states:us-east-1:{ACCOUNT_ID}:stateMachine:{machine.inputs['namePrefix']}*"
    assert fnmatchcase(machine.outputs["arn"], source)
    assert not fnmatchcase(f"arn:aws:states:us-east-1:{ACCOUNT_ID}:stateMachine:someone-else", source)

    [policy] = role_policies(any_run, role)
    redeploy, logs = policy["Statement"]
    assert redeploy == {"Sid": "RedeployTheServices", "Effect": "Allow", "Action": ["ecs:UpdateService"],
                        "Resource": sorted(ecs_service(any_run, name).outputs["arn"]
                                           for name in services_reading_the_database(any_run.stack))}
    # CloudWatch Logs' delivery actions take no resource ARN; nothing else is granted on "*".
    assert logs == {"Sid": "DeliverExecutionLogs", "Effect": "Allow", "Action": LOG_DELIVERY_ACTIONS, "Resource": "*"}
    assert all(action.startswith("logs:") and "*" not in action for action in logs["Action"])
    assert attachments_of(any_run, role) == []


@pytest.mark.parametrize("stack, retention", [("dev", 7), ("prod", 30)])
def test_state_machine_logs_to_its_group_with_the_stack_retention(stack, retention, request):
    run = request.getfixturevalue(f"{stack}_run")
    machine = run.one(MACHINE)
    group = by_name(run, "aws:cloudwatch/logGroup:LogGroup", "database-rotation-logs")
    assert group.inputs["retentionInDays"] == retention
    assert group.inputs["namePrefix"].startswith("/aws/vendedlogs/states/")
    logging = machine.inputs["loggingConfiguration"]
    assert logging == {"level": "ALL", "includeExecutionData": True, "logDestination": f"{group.outputs['arn']}:*"}
    # Step Functions checks the log-delivery permissions when it creates the machine.
    assert by_name(run, ROLE_POLICY, "database-rotation-machine-redeploy").urn in machine.dependencies
    validate("stepfunctions", "CreateStateMachine", {
        "name": machine.outputs["name"], "definition": machine.inputs["definition"],
        "roleArn": machine.inputs["roleArn"], "type": machine.inputs["type"],
        "loggingConfiguration": {"level": logging["level"], "includeExecutionData": logging["includeExecutionData"],
                                 "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": logging["logDestination"]}}]},
    })
    assert len(machine.outputs["name"]) <= 80


def test_failed_executions_and_undelivered_events_page_the_alert_topic(any_run):
    topic_arn = any_run.outputs["alertTopicArn"]
    machine, rule = any_run.one(MACHINE), rotation_one(any_run, RULE)
    failed = by_name(any_run, ALARM, "database-rotation-failed")
    undelivered = by_name(any_run, ALARM, "database-rotation-undelivered")
    assert (failed.inputs["namespace"], failed.inputs["metricName"], failed.inputs["dimensions"]) == \
        ("AWS/States", "ExecutionsFailed", {"StateMachineArn": machine.outputs["arn"]})
    assert (undelivered.inputs["namespace"], undelivered.inputs["metricName"], undelivered.inputs["dimensions"]) == \
        ("AWS/Events", "FailedInvocations", {"RuleName": rule.outputs["name"]})
    for alarm in (failed, undelivered):
        inputs = alarm.inputs
        assert (inputs["statistic"], inputs["threshold"], inputs["comparisonOperator"]) == \
            ("Sum", 1, "GreaterThanOrEqualToThreshold")
        assert inputs["alarmActions"] == [topic_arn] and inputs["okActions"] == [topic_arn]
        assert inputs["treatMissingData"] == "notBreaching"
        # A fixed alarm name: a replacement must delete the old alarm first.
        assert alarm.delete_before_replace is True
        assert inputs["alarmDescription"].startswith("P0: ") and "What to do: " in inputs["alarmDescription"]
        validate("cloudwatch", "PutMetricAlarm", {
            "AlarmName": inputs["name"], "AlarmDescription": inputs["alarmDescription"],
            "Namespace": inputs["namespace"], "MetricName": inputs["metricName"],
            "Dimensions": [{"Name": k, "Value": v} for k, v in inputs["dimensions"].items()],
            "Statistic": inputs["statistic"], "Period": inputs["period"],
            "EvaluationPeriods": inputs["evaluationPeriods"], "Threshold": float(inputs["threshold"]),
            "ComparisonOperator": inputs["comparisonOperator"], "TreatMissingData": inputs["treatMissingData"],
            "ActionsEnabled": inputs["actionsEnabled"],
            "AlarmActions": inputs["alarmActions"], "OKActions": inputs["okActions"],
        })


def test_rotation_resources_are_children_of_the_component(any_run):
    component = any_run.one("webstack:rotation:SecretRotationRedeploy")
    children = [r for r in any_run.resources if r.parent == component.urn]
    assert sorted(r.type for r in children) == sorted([
        "aws:cloudwatch/logGroup:LogGroup", ROLE, ROLE_POLICY, MACHINE, RULE, ROLE, ROLE_POLICY, TARGET, ALARM, ALARM,
    ])


def test_every_service_reading_the_database_is_redeployed_and_one_failure_fails_the_execution():
    def frontend_reads_it_too(config):
        config["webstack:services"]["frontend"]["uses"] = ["database"]

    run = run_stack("dev", frontend_reads_it_too)
    definition = json.loads(run.one(MACHINE).inputs["definition"])
    assert check_asl(definition) == []
    branches = definition["States"]["Redeploy services"]["Branches"]
    names = [branch["States"][branch["StartAt"]]["Parameters"]["Service"] for branch in branches]
    readers = ("backend", "frontend", "worker")
    assert names == [ecs_service(run, name).outputs["name"] for name in readers]
    [policy] = role_policies(run, by_name(run, ROLE, "database-rotation-machine"))
    assert policy["Statement"][0]["Resource"] == sorted(ecs_service(run, s).outputs["arn"] for s in readers)

    # The Parallel output lists the branches' results in order: any failure ends in the Fail state.
    check = definition["States"]["Check redeploys"]
    ok, failed = {"redeployed": True}, {"redeployed": False}
    assert evaluate_choice(check, [ok, ok, ok]) == "Redeployed"
    assert evaluate_choice(check, [ok, failed, ok]) == "Redeploy failed"
    assert evaluate_choice(check, [failed, ok, ok]) == "Redeploy failed"
    assert evaluate_choice(check, [ok, ok, failed]) == "Redeploy failed"
    assert definition["States"]["Redeploy failed"]["Type"] == "Fail"
    # A branch's own failure is caught and reported, so it never cancels the other branches.
    for branch in branches:
        task = branch["States"][branch["StartAt"]]
        reported = branch["States"][task["Catch"][0]["Next"]]
        assert reported["Parameters"]["redeployed"] is False and reported["End"] is True


def test_with_the_proxy_the_services_are_still_redeployed():
    """The proxy follows the secret itself, but the containers still got DATABASE_PASSWORD at start."""
    run = run_stack("prod", lambda config: config["webstack:database"].update({"proxy": {"enabled": True}}))
    proxy = run.one("aws:rds/proxy:Proxy")
    assert [auth["secretArn"] for auth in proxy.inputs["auths"]] == [master_secret_arn(run)]
    assert json.loads(rotation_one(run, RULE).inputs["eventPattern"])["resources"] == [master_secret_arn(run)]
    definition = json.loads(run.one(MACHINE).inputs["definition"])
    assert ecs_service(run, "backend").outputs["name"] in json.dumps(definition)


def test_no_service_reads_the_database_no_redeploy():
    def cache_only(config):
        for service in config["webstack:services"].values():
            service["uses"] = ["cache"]
        config.pop("webstack:jobs", None)

    run = run_stack("dev", cache_only)
    assert run.of_type("aws:rds/instance:Instance")
    assert of_rotation(run, RULE) == [] and run.of_type(MACHINE) == []


# --- program-managed secrets: pinned to their version ---------------------------------------------

def generated_password(config):
    config["webstack:database"]["managedMasterPassword"] = False


def test_generated_password_has_no_rule_and_services_read_its_version():
    run = run_stack("dev", generated_password)
    assert of_rotation(run, RULE) == [] and run.of_type(MACHINE) == []
    assert run.of_type("webstack:rotation:SecretRotationRedeploy") == []
    secret = by_name(run, "aws:secretsmanager/secret:Secret", "database-master-password")
    version = by_name(run, "aws:secretsmanager/secretVersion:SecretVersion", "database-master-password")
    arn, version_id = secret.outputs["arn"], version.outputs["versionId"]
    assert VERSION_ID.match(version_id)
    secrets = backend_secrets(run)
    assert (secrets["DATABASE_USER"], secrets["DATABASE_PASSWORD"]) == \
        (f"{arn}:username::{version_id}", f"{arn}:password::{version_id}")
    # The execution role still reads exactly that secret, by its bare ARN.
    policy = json.loads(by_name(run, ROLE_POLICY, "backend-execution-secrets").inputs["policy"])
    assert arn in policy["Statement"][0]["Resource"]
    assert all(":secret:" in r and r == secret_arn_of(r) for r in policy["Statement"][0]["Resource"])


def test_app_secret_and_cache_token_are_pinned_to_their_versions():
    def add_app_secret(config):
        config["webstack:appSecrets"] = {"djangoSecretKey": "first-value-of-the-key"}
        config["webstack:services"]["backend"]["secrets"] = {"DJANGO_SECRET_KEY": {"fromConfig": "djangoSecretKey"}}

    run = run_stack("dev", add_app_secret, secret_keys=["webstack:appSecrets"])
    secrets = backend_secrets(run)
    for variable, resource in (("DJANGO_SECRET_KEY", "app-secrets-djangoSecretKey"),
                               ("REDIS_AUTH_TOKEN", "cache-auth-token")):
        arn = by_name(run, "aws:secretsmanager/secret:Secret", resource).outputs["arn"]
        version_id = by_name(run, "aws:secretsmanager/secretVersion:SecretVersion", resource).outputs["versionId"]
        # Whole secret (no JSON key), no stage (ECS: a stage and an id exclude each other), this version.
        assert secrets[variable] == f"{arn}:::{version_id}"
        assert secret_arn_of(secrets[variable]) == arn
    policy = json.loads(by_name(run, ROLE_POLICY, "backend-execution-secrets").inputs["policy"])
    assert sorted(policy["Statement"][0]["Resource"]) == sorted({secret_arn_of(v) for v in secrets.values()})
    # The cache token's ARN is still exported bare: the release script completes the rotation with SET.
    assert run.outputs["cacheAuthTokenSecretArn"] == by_name(
        run, "aws:secretsmanager/secret:Secret", "cache-auth-token").outputs["arn"]


def test_a_new_app_secret_value_rolls_the_services():
    def app_secret(value):
        def mutate(config):
            config["webstack:appSecrets"] = {"djangoSecretKey": value}
            config["webstack:services"]["backend"]["secrets"] = {"DJANGO_SECRET_KEY": {"fromConfig": "djangoSecretKey"}}
        return mutate

    before = run_stack("dev", app_secret("first-value-of-the-key"), secret_keys=["webstack:appSecrets"])
    after = run_stack("dev", app_secret("second-value-of-the-key"), secret_keys=["webstack:appSecrets"])
    old, new = backend_secrets(before)["DJANGO_SECRET_KEY"], backend_secrets(after)["DJANGO_SECRET_KEY"]
    assert old != new and secret_arn_of(old) == secret_arn_of(new)
    task = lambda run: by_name(run, "aws:ecs/taskDefinition:TaskDefinition", "backend-task")
    # Same resource, new container definitions (which the provider replaces): ECS starts fresh tasks.
    assert task(before).urn == task(after).urn
    assert task(before).inputs["containerDefinitions"] != task(after).inputs["containerDefinitions"]
    assert "second-value-of-the-key" not in task(after).inputs["containerDefinitions"]


def consumer_dependencies(build) -> tuple[ProgramRun, tuple[str, ...]]:
    """Run `build`, which hands a value to an SSM parameter `consumer`; the URNs that value came from."""
    run = run_in_mocks(build, stack="test")
    return run, run.one("aws:ssm/parameter:Parameter").property_dependencies["value"]


def test_cache_token_reaches_tasks_only_once_the_group_accepts_it():
    def build():
        cache = Cache("cache", CacheArgs(settings=CacheConfig().resolved(False), vpc_id="vpc-0123",
                                         subnet_ids=SUBNETS))
        aws.ssm.Parameter("consumer", type="String", value=cache.client_secrets["REDIS_AUTH_TOKEN"])

    run, sources = consumer_dependencies(build)
    group = run.one("aws:elasticache/replicationGroup:ReplicationGroup")
    assert group.inputs["authTokenUpdateStrategy"] == "ROTATE"
    assert group.urn in sources
    assert run.one("aws:secretsmanager/secretVersion:SecretVersion").urn in sources


def test_generated_password_reaches_tasks_only_once_the_instance_has_it():
    def build():
        database = Database("database", DatabaseArgs(
            settings=DatabaseConfig(managed_master_password=False).resolved(False), region="us-east-1",
            vpc_id="vpc-0123", subnet_ids=SUBNETS, log_retention_days=30,
        ))
        aws.ssm.Parameter("consumer", type="String", value=database.client_secrets["DATABASE_PASSWORD"])

    run, sources = consumer_dependencies(build)
    assert run.one("aws:rds/instance:Instance").urn in sources
    assert run.one("aws:secretsmanager/secretVersion:SecretVersion").urn in sources


# --- the pure pieces ---------------------------------------------------------------------------

def test_pinned_reference_is_the_ecs_format_and_needs_a_version():
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:webstack/prod/db-AbCdEf"
    assert pinned_secret_reference(arn, "0e4b6a1c-1111-2222-3333-444455556666", "password") == \
        f"{arn}:password::0e4b6a1c-1111-2222-3333-444455556666"
    assert pinned_secret_reference(arn, "0e4b6a1c-1111-2222-3333-444455556666") == \
        f"{arn}:::0e4b6a1c-1111-2222-3333-444455556666"
    assert secret_arn_of(pinned_secret_reference(arn, "v1", "password")) == arn
    with pytest.raises(ValueError, match="no version id to pin"):
        pinned_secret_reference(arn, "")


def test_definition_needs_a_service_and_the_checker_catches_broken_machines():
    with pytest.raises(ValueError, match="at least one service"):
        redeploy_definition("arn:aws:ecs:us-east-1:123456789012:cluster/c", [])
    definition = json.loads(redeploy_definition("arn:aws:ecs:us-east-1:123456789012:cluster/c", [("api", "api-1")]))
    assert check_asl(definition) == []
    broken = json.loads(json.dumps(definition))
    broken["States"]["Check redeploys"]["Choices"][0]["Next"] = "Nowhere"
    task = broken["States"]["Redeploy services"]["Branches"][0]["States"]["Redeploy api"]
    task["Retry"][0]["ErrorEquals"] = ["States.ALL", "Ecs.EcsException"]
    task["End"] = True
    problems = check_asl(broken)
    assert any("unknown state 'Nowhere'" in p for p in problems)
    assert any("States.ALL alone" in p for p in problems)
    assert any("exactly one of Next and End" in p for p in problems)


def test_event_pattern_and_state_machine_prefix():
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1234-AbCdEf"
    assert json.loads(rotation_event_pattern(arn))["resources"] == [arn]
    assert state_machine_prefix("web.stack-prod-database-rotation") == "web-stack-prod-database-rotation-"
    assert len(state_machine_prefix("x" * 200)) == 80 - 26
