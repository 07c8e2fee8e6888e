"""Deployment alarms, ECS's blue/green, canary and linear strategies, and read-only containers, under mocks:
the inputs AWS receives (checked against botocore's models where mocks cannot tell) and the options that
keep `pulumi up` from undoing what ECS does."""

from __future__ import annotations

import json

import pytest

from preflight.capture import ProgramRun
from preflight.policy_gate import evaluate_policies, load_policy_config
from tests.cloudwatch_api import put_metric_alarm_params, put_metric_alarm_rules
from tests.cloudwatch_api import validate as cloudwatch_validate
from tests.conftest import committed, container_definitions, run_stack
from tests.test_aws_models import pascal, validate

SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
INFRASTRUCTURE_POLICY = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"


def with_deployment(stack: str, service: str, deployment: dict, **settings) -> ProgramRun:
    def mutate(config: dict) -> None:
        config["webstack:services"][service]["deployment"] = deployment
        config["webstack:services"][service].update(settings)
    return run_stack(stack, mutate)


@pytest.fixture(scope="module")
def blue_green_run() -> ProgramRun:
    return with_deployment("prod", "backend", {"strategy": "blueGreen"})


@pytest.fixture(scope="module")
def canary_run() -> ProgramRun:
    return with_deployment("prod", "backend", {
        "strategy": "canary", "bakeTimeMinutes": 30, "canary": {"percent": 12.5, "bakeMinutes": 15},
        "testTraffic": {"header": "X-Canary", "value": "yes", "priority": 5},
    })


def task_definition(run: ProgramRun, name: str):
    (task,) = [task for task in run.of_type(TASK_DEFINITION) if task.name == name]
    return task


def service_of(run: ProgramRun, name: str):
    return run.by_name(f"{name}-service")


def create_service_payload(service) -> dict:
    """The CreateService members our inputs map to, as the provider sends them (bake times as integers)."""
    inputs = service.inputs
    configuration = {"deploymentCircuitBreaker": inputs["deploymentCircuitBreaker"]}
    strategy = inputs.get("deploymentConfiguration") or {}
    if strategy:
        configuration["strategy"] = strategy["strategy"]
        configuration["bakeTimeInMinutes"] = int(strategy["bakeTimeInMinutes"])
        if "canaryConfiguration" in strategy:
            canary = strategy["canaryConfiguration"]
            configuration["canaryConfiguration"] = {
                "canaryPercent": canary["canaryPercent"],
                "canaryBakeTimeInMinutes": int(canary["canaryBakeTimeInMinutes"])}
        if "linearConfiguration" in strategy:
            linear = strategy["linearConfiguration"]
            configuration["linearConfiguration"] = {
                "stepPercent": linear["stepPercent"], "stepBakeTimeInMinutes": int(linear["stepBakeTimeInMinutes"])}
    if "alarms" in inputs:
        configuration["alarms"] = inputs["alarms"]
    payload = {"serviceName": "svc", "deploymentConfiguration": configuration}
    if "loadBalancers" in inputs:
        payload["loadBalancers"] = [{key: int(value) if key == "containerPort" else value
                                     for key, value in balancer.items()} for balancer in inputs["loadBalancers"]]
    if "deploymentController" in inputs:
        payload["deploymentController"] = inputs["deploymentController"]
    return payload


# --- deployment alarms ----------------------------------------------------------------------------

def test_prod_web_services_roll_back_on_their_5xx_and_unhealthy_host_alarms(prod_run):
    alarm_names = {alarm.inputs["name"] for alarm in prod_run.of_type(ALARM)}
    for name in ("backend", "frontend"):
        service = service_of(prod_run, name)
        assert service.inputs["alarms"] == {
            "enable": True, "rollback": True,
            "alarmNames": [f"webstack-prod-{name}-5xx-rate", f"webstack-prod-{name}-unhealthy-hosts"],
        }
        # The names are those of alarms the stack declares (fixed names: no dependency the other way round).
        assert set(service.inputs["alarms"]["alarmNames"]) <= alarm_names
        assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
        assert "deploymentConfiguration" not in service.inputs
        assert "deploymentController" not in service.inputs
        validate("ecs", "CreateService", create_service_payload(service))


def test_dev_leaves_deployment_alarms_off_by_default(dev_run):
    for service in dev_run.of_type(SERVICE):
        assert "alarms" not in service.inputs


def test_deployment_alarms_can_be_turned_off_in_prod():
    run = with_deployment("prod", "frontend", {"alarms": False})
    assert "alarms" not in service_of(run, "frontend").inputs
    assert service_of(run, "backend").inputs["alarms"]["enable"] is True


# --- blue/green, canary, linear -------------------------------------------------------------------

def test_blue_green_service_is_wired_the_way_aws_documents_it(blue_green_run):
    run = blue_green_run
    service, rule = service_of(run, "backend"), run.by_name("backend-route")
    primary, alternate = run.by_name("backend-tg"), run.by_name("backend-tg-alt")
    role, attachment = run.by_name("backend-traffic"), run.by_name("backend-traffic-managed")

    assert service.inputs["deploymentConfiguration"] == {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": "10"}
    assert service.inputs["deploymentController"] == {"type": "ECS"}
    # The circuit breaker is for rolling deployments only: explicitly off, the alarms roll back.
    assert service.inputs["deploymentCircuitBreaker"] == {"enable": False, "rollback": False}
    assert service.inputs["alarms"]["rollback"] is True
    (balancer,) = service.inputs["loadBalancers"]
    assert balancer["targetGroupArn"] == primary.outputs["arn"]
    assert balancer["advancedConfiguration"] == {
        "alternateTargetGroupArn": alternate.outputs["arn"],
        "productionListenerRule": rule.outputs["arn"],
        "roleArn": role.outputs["arn"],
    }
    # Both groups alike (AWS: same target type, protocol, port, VPC and health check).
    for key in ("targetType", "protocol", "port", "vpcId", "healthCheck"):
        assert alternate.inputs[key] == primary.inputs[key], key
    # The production rule forwards to both groups, all traffic to the primary; ECS owns the weights after.
    assert rule.inputs["actions"] == [{"type": "forward", "forward": {"targetGroups": [
        {"arn": primary.outputs["arn"], "weight": 100}, {"arn": alternate.outputs["arn"], "weight": 0}]}}]
    assert rule.ignore_changes == ("actions",)
    # The role ECS assumes to shift the listener: ECS of this account only, AWS's managed policy.
    trust = json.loads(role.inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "ecs.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert attachment.inputs["policyArn"] == INFRASTRUCTURE_POLICY
    assert attachment.inputs["role"] == role.outputs["name"]
    assert attachment.urn in service.dependencies and rule.urn in service.dependencies
    validate("ecs", "CreateService", create_service_payload(service))


def test_blue_green_alarms_watch_both_target_groups(blue_green_run):
    run = blue_green_run
    suffixes = {run.by_name("backend-tg").outputs["arnSuffix"], run.by_name("backend-tg-alt").outputs["arnSuffix"]}
    errors = run.by_name("monitoring-backend-5xx-rate").inputs["metricQueries"]
    watched = {query["metric"]["dimensions"]["TargetGroup"] for query in errors if "metric" in query}
    assert watched == suffixes
    (rate,) = [query for query in errors if query.get("returnData")]
    assert rate["expression"] == ("100 * (FILL(errors1, 0) + FILL(errors2, 0)) / "
                                  "(FILL(requests1, 0) + FILL(requests2, 0))")
    unhealthy = run.by_name("monitoring-backend-unhealthy-hosts").inputs["metricQueries"]
    assert {q["metric"]["dimensions"]["TargetGroup"] for q in unhealthy if "metric" in q} == suffixes
    assert [q["expression"] for q in unhealthy if q.get("returnData")] == ["MAX([unhealthy1, unhealthy2])"]
    latency = run.by_name("monitoring-backend-latency-p95").inputs
    assert "metricName" not in latency and "extendedStatistic" not in latency
    assert {q["metric"]["dimensions"]["TargetGroup"] for q in latency["metricQueries"] if "metric" in q} == suffixes
    assert {q["metric"]["stat"] for q in latency["metricQueries"] if "metric" in q} == {"p95"}
    assert [q["expression"] for q in latency["metricQueries"] if q.get("returnData")] == ["MAX([latency1, latency2])"]
    for alarm in ("monitoring-backend-5xx-rate", "monitoring-backend-unhealthy-hosts", "monitoring-backend-latency-p95"):
        params = put_metric_alarm_params(run.by_name(alarm).inputs)
        assert cloudwatch_validate("PutMetricAlarm", params) == [] and put_metric_alarm_rules(params) == [], alarm


def test_blue_green_request_scaling_counts_both_target_groups(blue_green_run, prod_run):
    """ALBRequestCountPerTarget follows one target group, which goes idle once ECS has moved traffic to the other:
    the blue/green service scales on both groups' requests per running task instead."""
    run = blue_green_run
    suffixes = [run.by_name("backend-tg").outputs["arnSuffix"], run.by_name("backend-tg-alt").outputs["arnSuffix"]]
    policy = run.by_name("backend-scaling-requests").inputs
    configuration = policy["targetTrackingScalingPolicyConfiguration"]
    assert "predefinedMetricSpecification" not in configuration
    assert configuration["targetValue"] == committed(run, "services")["backend"]["scaling"]["requestsPerTarget"]
    metrics = {metric["id"]: metric for metric in configuration["customizedMetricSpecification"]["metrics"]}
    assert [metrics[f"requests{n}"]["metricStat"]["metric"]["dimensions"][1]["value"] for n in (1, 2)] == suffixes
    assert {metrics[f"requests{n}"]["metricStat"]["stat"] for n in (1, 2)} == {"Sum"}
    assert metrics["tasks"]["metricStat"]["metric"]["metricName"] == "RunningTaskCount"
    assert metrics["perTask"] == {"id": "perTask", "label": "Requests per running task (both target groups)",
                                  "expression": "(FILL(requests1, 0) + FILL(requests2, 0)) / tasks",
                                  "returnData": True}
    validate("application-autoscaling", "PutScalingPolicy", {
        "PolicyName": "backend-requests", "ServiceNamespace": "ecs", "ResourceId": policy["resourceId"],
        "ScalableDimension": "ecs:service:DesiredCount", "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": pascal(configuration),
    })
    # A rolling service keeps the predefined per-target metric of its one group.
    rolling = prod_run.by_name("backend-scaling-requests").inputs["targetTrackingScalingPolicyConfiguration"]
    assert rolling["predefinedMetricSpecification"]["predefinedMetricType"] == "ALBRequestCountPerTarget"


def test_blue_green_dashboard_draws_both_target_groups(blue_green_run):
    run = blue_green_run
    alternate = run.by_name("backend-tg-alt").outputs["arnSuffix"]
    body = json.loads(run.by_name("monitoring-dashboard").inputs["dashboardBody"])
    panels = {w["properties"]["title"]: w["properties"]["metrics"] for w in body["widgets"] if w["type"] == "metric"}
    for title in ("backend: requests and errors", "backend: response time (s)", "Requests",
                  "Healthy / unhealthy targets"):
        assert any(alternate in metric for metric in panels[title]), title
    assert not any(alternate in metric for metric in panels["frontend: requests and errors"])


def test_a_rolling_service_next_to_a_blue_green_one_is_unchanged(blue_green_run, prod_run):
    for name in ("frontend-service", "frontend-route", "frontend-tg", "monitoring-frontend-5xx-rate"):
        assert blue_green_run.by_name(name).inputs == prod_run.by_name(name).inputs, name
    assert prod_run.by_name("backend-route").ignore_changes == ()
    assert not [r for r in prod_run.resources if r.name in ("backend-tg-alt", "backend-traffic")]


def test_canary_with_a_test_route(canary_run):
    run = canary_run
    service, test_rule = service_of(run, "backend"), run.by_name("backend-test-route")
    assert service.inputs["deploymentConfiguration"] == {
        "strategy": "CANARY", "bakeTimeInMinutes": "30",
        "canaryConfiguration": {"canaryPercent": 12.5, "canaryBakeTimeInMinutes": "15"},
    }
    assert service.inputs["loadBalancers"][0]["advancedConfiguration"]["testListenerRule"] == test_rule.outputs["arn"]
    assert test_rule.inputs["priority"] == 5
    assert test_rule.ignore_changes == ("actions",)
    assert {"httpHeader": {"httpHeaderName": "X-Canary", "values": ["yes"]}} in test_rule.inputs["conditions"]
    # The production rule's conditions, narrowed by the header.
    production = run.by_name("backend-route").inputs["conditions"]
    assert all(condition in test_rule.inputs["conditions"] for condition in production)
    assert test_rule.inputs["actions"] == run.by_name("backend-route").inputs["actions"]
    assert test_rule.urn in service.dependencies
    validate("ecs", "CreateService", create_service_payload(service))


def test_linear_gets_aws_defaults_for_its_steps():
    run = with_deployment("prod", "backend", {"strategy": "linear"})
    service = service_of(run, "backend")
    assert service.inputs["deploymentConfiguration"] == {
        "strategy": "LINEAR", "bakeTimeInMinutes": "10",
        "linearConfiguration": {"stepPercent": 10.0, "stepBakeTimeInMinutes": "6"},
    }
    validate("ecs", "CreateService", create_service_payload(service))


def test_blue_green_in_dev_gets_its_alarms_too():
    run = with_deployment("dev", "backend", {"strategy": "blueGreen"})
    assert service_of(run, "backend").inputs["alarms"]["alarmNames"] == [
        "webstack-dev-backend-5xx-rate", "webstack-dev-backend-unhealthy-hosts"]
    assert "alarms" not in service_of(run, "frontend").inputs


# --- read-only root filesystems -------------------------------------------------------------------

def test_every_prod_container_has_a_read_only_root(prod_run):
    tasks = prod_run.of_type(TASK_DEFINITION)
    assert len(tasks) >= 4  # backend, its migrate task, frontend, the clearsessions job
    for task in tasks:
        for container in json.loads(task.inputs["containerDefinitions"]):
            assert container["readonlyRootFilesystem"] is True, task.name


def test_writable_paths_are_task_scoped_volumes():
    def mutate(config: dict) -> None:
        backend = config["webstack:services"]["backend"]
        backend["writablePaths"] = ["/tmp", "/var/cache/app"]
        backend["ephemeralStorageGiB"] = 40
        config["webstack:jobs"]["clearsessions"]["writablePaths"] = ["/tmp"]
    run = run_stack("prod", mutate)
    mounts = [{"sourceVolume": "writable-tmp", "containerPath": "/tmp", "readOnly": False},
              {"sourceVolume": "writable-var-cache-app", "containerPath": "/var/cache/app", "readOnly": False}]
    for suffix in ("-backend", "-backend-migrate"):
        (container,) = container_definitions(run, suffix)
        assert container["readonlyRootFilesystem"] is True
        assert container["mountPoints"] == mounts
    for name in ("backend-task", "backend-migrate"):
        task = task_definition(run, name)
        # No host path: on Fargate an empty bind mount on the task's ephemeral storage.
        assert task.inputs["volumes"] == [{"name": "writable-tmp"}, {"name": "writable-var-cache-app"}]
        assert task.inputs["ephemeralStorage"] == {"sizeInGib": 40}
    job = task_definition(run, "clearsessions-task")
    assert job.inputs["volumes"] == [{"name": "writable-tmp"}]
    (container,) = json.loads(job.inputs["containerDefinitions"])
    assert container["mountPoints"] == [mounts[0]]
    assert "ephemeralStorage" not in job.inputs


def test_a_service_with_ecs_exec_opts_out_and_the_policy_lets_it():
    def mutate(config: dict) -> None:
        config["webstack:services"]["backend"].update(enableExec=True, readOnlyRootFilesystem=False)
    run = run_stack("prod", mutate)
    for suffix in ("-backend", "-backend-migrate"):
        (container,) = container_definitions(run, suffix)
        assert container["readonlyRootFilesystem"] is False
    (frontend,) = container_definitions(run, "-frontend")
    assert frontend["readonlyRootFilesystem"] is True
    result = evaluate_policies(run, policy_config=load_policy_config("prod"))
    assert result.of_policy("ecs-containers-read-only-root") == [], result.render()


def test_a_writable_root_without_ecs_exec_is_a_mandatory_violation_in_prod():
    def mutate(config: dict) -> None:
        config["webstack:services"]["frontend"]["readOnlyRootFilesystem"] = False
    run = run_stack("prod", mutate)
    result = evaluate_policies(run, policy_config=load_policy_config("prod"))
    (violation,) = result.of_policy("ecs-containers-read-only-root")
    assert "frontend" in violation.message and "can write to its root filesystem" in violation.message
    assert violation.level == "mandatory"


@pytest.mark.parametrize("strategy", ["blue_green_run", "canary_run"])
def test_traffic_shifting_prod_passes_the_pack(strategy, request):
    result = evaluate_policies(request.getfixturevalue(strategy), policy_config=load_policy_config("prod"))
    assert not result.has_mandatory, result.render()
