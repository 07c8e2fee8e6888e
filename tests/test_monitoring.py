"""Monitoring under mocks: the topic, each alarm family's wiring, the dashboard and log retention.

Dimensions are compared with what the (fake) cloud answered for the resource they must point at:
the ECS service's name, the target group's and load balancer's ARN suffixes.
"""

from __future__ import annotations

import json

import pulumi
import pytest

from components.monitoring import (
    MonitoredCache, MonitoredDatabase, MonitoredService, Monitoring, MonitoringArgs, subscription_name,
    subscription_names,
)
from helpers.database import max_connections
from preflight.capture import ProgramRun, run_in_mocks
from stackconfig.monitoring import MonitoringConfig
from tests.cloudwatch_api import (
    DASHBOARD_NAME, dashboard_body_problems, put_metric_alarm_params, put_metric_alarm_rules, validate,
)
from tests.conftest import committed, run_stack

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def alarms(run: ProgramRun) -> dict[str, dict]:
    """Captured alarms by AlarmName without the `webstack-<stack>-` prefix."""
    prefix = f"webstack-{run.stack}-"
    return {alarm.inputs["name"].removeprefix(prefix): alarm.inputs for alarm in run.of_type(ALARM)}


def topic_arn(run: ProgramRun) -> str:
    return run.one("aws:sns/topic:Topic").outputs["arn"]


def ecs_service_name(run: ProgramRun, service: str) -> str:
    return run.by_name(f"{service}-service").outputs["name"]


def target_group_suffix(run: ProgramRun, service: str) -> str:
    return run.by_name(f"{service}-tg").outputs["arnSuffix"]


def load_balancer_suffix(run: ProgramRun) -> str:
    return run.one("aws:lb/loadBalancer:LoadBalancer").outputs["arnSuffix"]


def services_of(run: ProgramRun) -> list[str]:
    return sorted(r.name.removesuffix("-service") for r in run.of_type("aws:ecs/service:Service"))


def routed_services_of(run: ProgramRun) -> list[str]:
    """The services behind the load balancer (with routes: a target group); the committed worker is not."""
    return sorted(name for name, service in committed(run, "services").items() if service.get("routes"))


def scaling_alarm_names(run: ProgramRun) -> set[str]:
    """Alarms that drive a scaling policy (a queue worker's 0 -> 1), not the alert topic."""
    policies = {policy.outputs["arn"] for policy in run.of_type("aws:appautoscaling/policy:Policy")}
    return {name for name, alarm in alarms(run).items() if set(alarm["alarmActions"]) <= policies}


# --- topic and subscriptions -----------------------------------------------------------------

def test_alert_topic_is_encrypted_with_a_rotated_key_cloudwatch_may_use(any_run):
    topic = any_run.one("aws:sns/topic:Topic")
    key = any_run.one("aws:kms/key:Key") if len(any_run.of_type("aws:kms/key:Key")) == 1 else \
        any_run.by_name("monitoring-alerts-key")
    assert topic.inputs["kmsMasterKeyId"] == key.outputs["arn"]
    assert key.inputs["enableKeyRotation"] is True
    statements = json.loads(key.inputs["policy"])["Statement"]
    cloudwatch = [s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert cloudwatch and set(cloudwatch[0]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert {"AWS": "arn:aws:iam::123456789012:root"} in [s["Principal"] for s in statements]


def test_prod_emails_oncall_and_dev_has_the_topic_without_subscribers(dev_run, prod_run):
    [subscription] = prod_run.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert subscription.inputs == {"protocol": "email", "endpoint": "oncall@example.com",
                                   "topic": topic_arn(prod_run)}
    assert subscription.outputs["pendingConfirmation"] is True
    assert dev_run.of_type("aws:sns/topicSubscription:TopicSubscription") == []
    assert dev_run.outputs["alertTopicArn"] == topic_arn(dev_run)


def test_subscription_resource_names_follow_the_address():
    assert subscription_name("Ops.Team+alerts@Example.com") == "ops-team-alerts-example-com"


def test_addresses_that_normalise_alike_get_distinct_subscriptions():
    """`a.b@` and `a-b@` are different mailboxes; one resource name for both would be a duplicate URN."""
    emails = ["a.b@example.com", "a-b@example.com"]
    names = subscription_names(emails)
    assert names["a.b@example.com"] == "a-b-example-com"  # the first keeps its plain name
    assert names["a-b@example.com"].startswith("a-b-example-com-") and len(set(names.values())) == 2
    run = data_tier_run(emails=emails)
    subscriptions = run.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert len({s.name for s in subscriptions}) == 2
    assert sorted(s.inputs["endpoint"] for s in subscriptions) == sorted(emails)


# --- every alarm ---------------------------------------------------------------------------------

def test_every_alarm_is_accepted_by_put_metric_alarm(any_run):
    assert any_run.of_type(ALARM)
    for alarm in any_run.of_type(ALARM):
        params = put_metric_alarm_params(alarm.inputs)
        assert validate("PutMetricAlarm", params) == [], alarm.name
        assert put_metric_alarm_rules(params) == [], alarm.name


def test_every_alarm_notifies_the_topic_on_alarm_and_on_recovery(any_run):
    arn = topic_arn(any_run)
    scaling = scaling_alarm_names(any_run)
    # Only a worker that may scale to zero (dev) has one: its 0 -> 1 step policy's alarm.
    assert scaling == ({"worker-scaling-from-zero"} if any_run.stack == "dev" else set())
    for name, alarm in alarms(any_run).items():
        if name in scaling:
            continue
        assert alarm["alarmActions"] == [arn] and alarm["okActions"] == [arn], name
        assert alarm["actionsEnabled"] is True
        assert alarm["alarmDescription"].startswith(("P0: ", "P1: ")) and "What to do: " in alarm["alarmDescription"]


def test_acceptance_families_are_all_present(any_run):
    names = set(alarms(any_run))
    for service in services_of(any_run):
        assert {f"{service}-cpu-high", f"{service}-memory-high"} <= names
    for service in routed_services_of(any_run):
        assert {f"{service}-5xx-rate", f"{service}-unhealthy-hosts", f"{service}-latency-p95"} <= names
    for queue in committed(any_run, "queues", {}):
        assert {f"queue-{queue}-oldest-message", f"queue-{queue}-dead-letters"} <= names
    assert "alb-5xx" in names


# --- ECS -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("service", ["backend", "frontend"])
def test_ecs_cpu_and_memory_alarms_watch_that_service(prod_run, service):
    found = alarms(prod_run)
    dimensions = {"ClusterName": prod_run.one("aws:ecs/cluster:Cluster").outputs["name"],
                  "ServiceName": ecs_service_name(prod_run, service)}
    cpu, memory = found[f"{service}-cpu-high"], found[f"{service}-memory-high"]
    assert (cpu["namespace"], cpu["metricName"], cpu["statistic"]) == ("AWS/ECS", "CPUUtilization", "Average")
    assert (memory["namespace"], memory["metricName"]) == ("AWS/ECS", "MemoryUtilization")
    assert cpu["dimensions"] == memory["dimensions"] == dimensions
    assert (cpu["threshold"], memory["threshold"]) == (80, 85)
    assert cpu["comparisonOperator"] == "GreaterThanThreshold"
    assert (cpu["period"], cpu["evaluationPeriods"]) == (300, 2)
    assert cpu["treatMissingData"] == "notBreaching"


def test_running_task_alarm_fires_below_scaling_min(prod_run):
    tasks = alarms(prod_run)["backend-tasks-low"]
    assert (tasks["namespace"], tasks["metricName"]) == ("ECS/ContainerInsights", "RunningTaskCount")
    assert tasks["dimensions"]["ServiceName"] == ecs_service_name(prod_run, "backend")
    assert (tasks["comparisonOperator"], tasks["threshold"]) == ("LessThanThreshold", 2)  # prod scaling.min
    assert tasks["treatMissingData"] == "breaching"


def test_a_service_allowed_to_run_zero_tasks_has_no_running_task_alarm():
    def scale_to_zero(config):
        config["webstack:services"]["frontend"]["scaling"]["min"] = 0
    found = alarms(run_stack("dev", scale_to_zero))
    assert "frontend-tasks-low" not in found and "frontend-cpu-high" in found
    assert found["backend-tasks-low"]["threshold"] == 1


def test_a_service_without_routes_has_task_alarms_and_no_target_group_alarms():
    def add_mailer(config):
        config["webstack:services"]["mailer"] = {
            "image": {"repository": "backend", "tag": "2f1c9e0"}, "command": ["celery", "-A", "app", "worker"],
            "scaling": {"min": 1, "max": 3}, "uses": ["database", "cache"],
        }
    run = run_stack("dev", add_mailer)
    found = alarms(run)
    assert {"mailer-cpu-high", "mailer-memory-high", "mailer-tasks-low"} <= set(found)
    assert not [alarm for alarm in found if alarm.startswith("mailer-") and
                alarm not in ("mailer-cpu-high", "mailer-memory-high", "mailer-tasks-low")]
    assert {"backend-5xx-rate", "backend-unhealthy-hosts", "backend-latency-p95"} <= set(found)
    mailer = run.by_name("mailer-service").inputs
    assert "loadBalancers" not in mailer and "healthCheckGracePeriodSeconds" not in mailer
    assert mailer["networkConfiguration"]["assignPublicIp"] is False
    assert sorted(rule.name for rule in run.of_type("aws:lb/listenerRule:ListenerRule")) == ["backend-route",
                                                                                             "frontend-route"]
    assert not [r for r in run.of_type("aws:lb/targetGroup:TargetGroup") if r.name.startswith("mailer")]
    body = json.loads(run.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    assert not dashboard_body_problems(body)
    # Autoscaling tracks CPU only: no ALB request count tracking without a target group.
    policies = [p.name for p in run.of_type("aws:appautoscaling/policy:Policy") if p.name.startswith("mailer")]
    assert policies and not [name for name in policies if "requests" in name]


def test_thresholds_come_from_config():
    def tighten(config):
        config["webstack:monitoring"]["alarms"] = {"serviceCpu": {"threshold": 70, "evaluationPeriods": 3},
                                                   "responseTimeP95": {"threshold": 0.3}}
    found = alarms(run_stack("prod", tighten))
    assert (found["backend-cpu-high"]["threshold"], found["backend-cpu-high"]["evaluationPeriods"]) == (70, 3)
    assert found["frontend-latency-p95"]["threshold"] == 0.3


# --- ALB ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("service", ["backend", "frontend"])
def test_target_5xx_rate_is_metric_math_over_that_target_group(prod_run, service):
    rate = alarms(prod_run)[f"{service}-5xx-rate"]
    assert "metricName" not in rate and rate["threshold"] == 5
    queries = {query["id"]: query for query in rate["metricQueries"]}
    dimensions = {"LoadBalancer": load_balancer_suffix(prod_run), "TargetGroup": target_group_suffix(prod_run, service)}
    assert queries["errors"]["metric"] == {"namespace": "AWS/ApplicationELB", "metricName": "HTTPCode_Target_5XX_Count",
                                           "dimensions": dimensions, "stat": "Sum", "period": 60}
    assert queries["requests"]["metric"]["metricName"] == "RequestCount"
    assert queries["requests"]["metric"]["dimensions"] == dimensions
    assert queries["rate"]["expression"] == "100 * FILL(errors, 0) / requests"
    assert [q["id"] for q in rate["metricQueries"] if q["returnData"]] == ["rate"]


def test_load_balancer_5xx_count(any_run):
    elb = alarms(any_run)["alb-5xx"]
    assert (elb["metricName"], elb["statistic"], elb["threshold"]) == ("HTTPCode_ELB_5XX_Count", "Sum", 10)
    assert elb["dimensions"] == {"LoadBalancer": load_balancer_suffix(any_run)}


def test_unhealthy_hosts_and_p95_latency_per_target_group(any_run):
    found = alarms(any_run)
    services = routed_services_of(any_run)
    assert "backend" in services
    for service in services:  # the committed services with routes (a target group)
        dimensions = {"LoadBalancer": load_balancer_suffix(any_run),
                      "TargetGroup": target_group_suffix(any_run, service)}
        unhealthy, latency = found[f"{service}-unhealthy-hosts"], found[f"{service}-latency-p95"]
        assert (unhealthy["metricName"], unhealthy["statistic"], unhealthy["threshold"]) == ("UnHealthyHostCount",
                                                                                             "Maximum", 0)
        assert (latency["metricName"], latency["extendedStatistic"], latency["threshold"]) == ("TargetResponseTime",
                                                                                               "p95", 0.5)
        assert "statistic" not in latency
        assert unhealthy["dimensions"] == latency["dimensions"] == dimensions


# --- RDS and Redis, through the component with the data tier's documented attributes -----------

def data_tier_run(preview: bool = False, stack: str = "prod", emails: tuple[str, ...] = ("oncall@example.com",),
                  service: str = "backend") -> ProgramRun:
    def build():
        Monitoring("monitoring", MonitoringArgs(
            settings=MonitoringConfig(alert_emails=list(emails)),
            region="us-east-1",
            account_id="123456789012",
            cluster_name=pulumi.Output.from_input("app-cluster"),
            load_balancer_arn_suffix=pulumi.Output.from_input("app/web-alb/0123456789abcdef"),
            services={service: MonitoredService(
                pulumi.Output.from_input("backend-service"),
                pulumi.Output.from_input("targetgroup/backend-tg/0123456789abcdef"), 2)},
            databases={
                "primary": MonitoredDatabase(pulumi.Output.from_input("webstack-prod-db"),
                                             instance_class="db.t3.medium", allocated_storage_gib=50),
                "replica-1": MonitoredDatabase(pulumi.Output.from_input("webstack-prod-db-replica-1"),
                                               instance_class="db.t3.small", allocated_storage_gib=50),
            },
            cache=MonitoredCache(pulumi.Output.from_input(["webstack-prod-redis-001", "webstack-prod-redis-002"]),
                                 node_count=2),
        ))
    return run_in_mocks(build, stack=stack, preview=preview)


@pytest.fixture(scope="module")
def data_run() -> ProgramRun:
    return data_tier_run()


def test_database_alarms_are_sized_to_each_instance(data_run):
    found = alarms(data_run)
    primary = {"DBInstanceIdentifier": "webstack-prod-db"}
    cpu = found["db-primary-cpu-high"]
    assert (cpu["namespace"], cpu["metricName"], cpu["dimensions"], cpu["threshold"]) == (
        "AWS/RDS", "CPUUtilization", primary, 80)
    connections = found["db-primary-connections-high"]
    # 80 % of seed 002's max_connections: db.t3.medium 400, db.t3.small 200.
    assert (connections["metricName"], connections["threshold"]) == ("DatabaseConnections", 320)
    assert found["db-replica-1-connections-high"]["threshold"] == 160
    assert found["db-replica-1-connections-high"]["dimensions"] == {"DBInstanceIdentifier": "webstack-prod-db-replica-1"}
    storage = found["db-primary-storage-low"]
    assert (storage["metricName"], storage["comparisonOperator"]) == ("FreeStorageSpace", "LessThanThreshold")
    assert storage["threshold"] == 50 * 1024 ** 3 // 10  # 10 % of 50 GiB, in bytes
    memory = found["db-primary-memory-low"]
    assert (memory["metricName"], memory["threshold"]) == ("FreeableMemory", 500 * 1024 ** 2)
    for operation in ("read", "write"):
        latency = found[f"db-primary-{operation}-latency"]
        assert (latency["metricName"], latency["threshold"]) == (f"{operation.title()}Latency", 0.02)
        assert latency["dimensions"] == primary


def test_cache_alarms_watch_each_member_cluster(data_run):
    found = alarms(data_run)
    for index, member in ((1, "webstack-prod-redis-001"), (2, "webstack-prod-redis-002")):
        cpu, memory, evictions = (found[f"cache-{index}-{suffix}"]
                                  for suffix in ("engine-cpu-high", "memory-high", "evictions"))
        for alarm in (cpu, memory, evictions):
            assert alarm["namespace"] == "AWS/ElastiCache"
            assert alarm["dimensions"] == {"CacheClusterId": member}
        assert (cpu["metricName"], cpu["threshold"]) == ("EngineCPUUtilization", 80)
        assert (memory["metricName"], memory["threshold"]) == ("DatabaseMemoryUsagePercentage", 80)
        assert (evictions["metricName"], evictions["statistic"], evictions["threshold"]) == ("Evictions", "Sum", 0)


def test_data_tier_alarms_are_accepted_and_notify_the_topic(data_run):
    arn = topic_arn(data_run)
    for alarm in data_run.of_type(ALARM):
        params = put_metric_alarm_params(alarm.inputs)
        assert validate("PutMetricAlarm", params) == [] and put_metric_alarm_rules(params) == [], alarm.name
        assert params["AlarmActions"] == params["OKActions"] == [arn]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_committed_stacks_watch_their_database_and_every_cache_node(request, stack):
    """Dimensions equal what the data tier declared; thresholds follow its instance class and storage."""
    any_run = request.getfixturevalue(f"{stack}_run")
    found = alarms(any_run)
    instance = any_run.one("aws:rds/instance:Instance").inputs
    dimensions = {"DBInstanceIdentifier": instance["identifier"]}
    for suffix in ("cpu-high", "connections-high", "storage-low", "memory-low", "read-latency", "write-latency"):
        assert found[f"db-primary-{suffix}"]["dimensions"] == dimensions, suffix
    assert found["db-primary-connections-high"]["threshold"] == max_connections(instance["instanceClass"]) * 0.8
    assert found["db-primary-storage-low"]["threshold"] == instance["allocatedStorage"] * 1024 ** 3 * 0.1
    members = any_run.one("aws:elasticache/replicationGroup:ReplicationGroup").outputs["memberClusters"]
    assert members
    for index, member in enumerate(members, start=1):
        for suffix in ("engine-cpu-high", "memory-high", "evictions"):
            assert found[f"cache-{index}-{suffix}"]["dimensions"] == {"CacheClusterId": member}
    assert f"cache-{len(members) + 1}-evictions" not in found
    panels = {w["properties"]["title"]: w["properties"]["metrics"] for w in metric_widgets(dashboard(any_run))}
    assert [row[3] for row in panels["RDS connections"]] == [instance["identifier"]]
    assert [row[3] for row in panels["Redis memory used (%)"]] == members


def test_lean_watches_its_aurora_writer_capacity_and_connections(lean_run):
    """Aurora: per instance CPU, connections (Aurora's max_connections at maxCapacity), memory and ACUs."""
    found = alarms(lean_run)
    writer = lean_run.one("aws:rds/clusterInstance:ClusterInstance").inputs
    scaling = lean_run.one("aws:rds/cluster:Cluster").inputs["serverlessv2ScalingConfiguration"]
    dimensions = {"DBInstanceIdentifier": writer["identifier"]}
    for suffix in ("cpu-high", "connections-high", "memory-low", "acu-high", "capacity-at-max"):
        assert found[f"db-writer-{suffix}"]["dimensions"] == dimensions, suffix
    assert found["db-writer-acu-high"]["metricName"] == "ACUUtilization"
    assert found["db-writer-capacity-at-max"]["metricName"] == "ServerlessDatabaseCapacity"
    assert found["db-writer-capacity-at-max"]["threshold"] == scaling["maxCapacity"] * 0.9
    # LEAST(DBInstanceClassMemory / 9531392, 5000) at 1 ACU (2 GiB): 225 connections, alarm at 80 %.
    assert found["db-writer-connections-high"]["threshold"] == pytest.approx(225 * 0.8)
    assert "db-writer-storage-low" not in found and "db-writer-replica-lag" not in found
    panels = {w["properties"]["title"]: w["properties"]["metrics"] for w in metric_widgets(dashboard(lean_run))}
    assert [row[3] for row in panels["RDS connections"]] == [writer["identifier"]]


@pytest.mark.parametrize("stack,instance_class,mib", [("dev", "db.t4g.micro", 256), ("prod", "db.t4g.medium", 500)])
def test_freeable_memory_alarm_fits_the_instance_class(dev_run, prod_run, stack, instance_class, mib):
    run = {"dev": dev_run, "prod": prod_run}[stack]
    assert run.one("aws:rds/instance:Instance").inputs["instanceClass"] == instance_class
    assert alarms(run)["db-primary-memory-low"]["threshold"] == mib * 1024 ** 2


def test_a_read_replica_gets_its_own_alarms_sized_to_its_class():
    def add_replica(config):
        config["webstack:database"].update({"readReplicas": 1, "replicaInstanceClass": "db.t4g.large",
                                            "managedMasterPassword": False})
    run = run_stack("prod", add_replica)
    found = alarms(run)
    replica = next(r.inputs for r in run.of_type("aws:rds/instance:Instance") if r.inputs.get("replicateSourceDb"))
    assert found["db-replica-1-cpu-high"]["dimensions"] == {"DBInstanceIdentifier": replica["identifier"]}
    assert found["db-replica-1-connections-high"]["threshold"] == max_connections("db.t4g.large") * 0.8
    assert found["db-primary-connections-high"]["threshold"] == max_connections("db.t4g.medium") * 0.8


@pytest.mark.parametrize("service", ["db-primary", "cache-1"])
def test_a_service_named_like_a_data_tier_alarm_is_refused(service):
    """Its cpu-high/memory-high alarm would be a second resource with the database's or cache's name."""
    with pytest.raises(Exception, match=rf"alarm names {service}-\S+ .*are declared twice"):
        data_tier_run(service=service)


def test_the_same_alarms_are_declared_in_a_preview(data_run, prod_run):
    """Counts come from plain config, so a first preview (every id unknown) declares every alarm."""
    assert {a.name for a in data_tier_run(preview=True).of_type(ALARM)} == {a.name for a in data_run.of_type(ALARM)}
    preview = run_stack("prod", preview=True)
    assert {a.name for a in preview.of_type(ALARM)} == {a.name for a in prod_run.of_type(ALARM)}


# --- dashboard -----------------------------------------------------------------------------------

def dashboard(run: ProgramRun) -> dict:
    return json.loads(run.one("aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])


def metric_widgets(body: dict) -> list[dict]:
    return [widget for widget in body["widgets"] if widget["type"] == "metric"]


def test_dashboard_body_is_accepted_by_put_dashboard(any_run):
    resource = any_run.one("aws:cloudwatch/dashboard:Dashboard")
    params = {"DashboardName": resource.inputs["dashboardName"], "DashboardBody": resource.inputs["dashboardBody"]}
    assert validate("PutDashboard", params) == []
    assert resource.inputs["dashboardName"] == f"webstack-{any_run.stack}"
    assert DASHBOARD_NAME.match(resource.inputs["dashboardName"])
    body = json.loads(params["DashboardBody"])
    assert dashboard_body_problems(body) == []
    for widget in body["widgets"]:
        assert 0 <= widget["x"] and widget["x"] + widget["width"] <= 24 and widget["y"] >= 0
    for widget in metric_widgets(body):
        assert widget["properties"]["region"] == "us-east-1"
        for row in widget["properties"]["metrics"]:
            *names, options = row
            assert names[0].startswith(("AWS/", "ECS/")) and len(names) % 2 == 0, row  # namespace, metric, pairs
            assert set(options) == {"stat", "label"}


def test_dashboard_name_is_valid_for_a_stack_name_with_a_period():
    resource = data_tier_run(stack="prod.eu").one("aws:cloudwatch/dashboard:Dashboard")
    assert resource.inputs["dashboardName"] == "webstack-prod-eu" and DASHBOARD_NAME.match("webstack-prod-eu")
    assert not DASHBOARD_NAME.match("webstack-prod.eu")


def test_the_data_tier_dashboard_follows_the_documented_body_structure(data_run):
    assert dashboard_body_problems(dashboard(data_run)) == []
    broken = {"widgets": [{"type": "metric", "x": 20, "y": 0, "width": 6, "height": 6, "properties": {
        "view": "line", "metrics": [["AWS/ECS", "CPUUtilization", "ClusterName"]],
        "annotations": {"horizontal": [{"label": "no value"}]}}}]}
    assert len(dashboard_body_problems(broken)) == 4  # region, view, odd metric row, annotation without value


def test_dashboard_has_the_panels_of_every_service(any_run):
    titles = {widget["properties"]["title"]: widget for widget in metric_widgets(dashboard(any_run))}
    cluster = any_run.one("aws:ecs/cluster:Cluster").outputs["name"]
    for service in services_of(any_run):
        cpu = titles[f"{service}: CPU and memory (%)"]["properties"]["metrics"]
        assert cpu[0] == ["AWS/ECS", "CPUUtilization", "ClusterName", cluster,
                          "ServiceName", ecs_service_name(any_run, service), {"stat": "Average", "label": "CPU average"}]
        tasks = titles[f"{service}: tasks"]["properties"]["metrics"]
        assert [row[1] for row in tasks] == ["RunningTaskCount", "DesiredTaskCount", "PendingTaskCount"]
    for service in routed_services_of(any_run):
        latency = titles[f"{service}: response time (s)"]["properties"]["metrics"]
        assert [row[-1]["stat"] for row in latency] == ["p50", "p95", "p99"]
        assert latency[0][5] == target_group_suffix(any_run, service)
    for title in ("Requests", "Target response time (s)", "4xx / 5xx", "Healthy / unhealthy targets"):
        assert title in titles


def test_dashboard_follows_the_services_in_config():
    def add_admin(config):
        admin = json.loads(json.dumps(config["webstack:services"]["frontend"]))
        admin["routes"] = {"paths": ["/panel/*"], "priority": 50}
        config["webstack:services"]["admin"] = admin
    body = dashboard(run_stack("dev", add_admin))
    titles = [widget["properties"].get("title") for widget in metric_widgets(body)]
    assert [title for title in titles if title and title.startswith("admin: ")] == [
        "admin: CPU and memory (%)", "admin: tasks", "admin: requests and errors", "admin: response time (s)"]


def test_dashboard_shows_the_data_tier_when_present(data_run):
    titles = {widget["properties"]["title"]: widget["properties"] for widget in metric_widgets(dashboard(data_run))}
    connections = titles["RDS connections"]
    assert [row[3] for row in connections["metrics"]] == ["webstack-prod-db", "webstack-prod-db-replica-1"]
    assert connections["annotations"]["horizontal"] == [{"label": "primary alarm", "value": 320},
                                                        {"label": "replica-1 alarm", "value": 160}]
    assert [row[3] for row in titles["Redis evictions"]["metrics"]] == ["webstack-prod-redis-001",
                                                                        "webstack-prod-redis-002"]
    for title in ("RDS CPU (%)", "RDS read / write latency (s)", "RDS free storage (bytes)", "Redis engine CPU (%)",
                  "Redis memory used (%)", "Redis connections"):
        assert title in titles


# --- logs ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("stack,days", [("dev", 7), ("prod", 30)])
def test_every_log_group_expires_after_the_configured_retention(dev_run, prod_run, stack, days):
    run = {"dev": dev_run, "prod": prod_run}[stack]
    groups = run.of_type(LOG_GROUP)
    assert len(groups) >= len(services_of(run))
    assert {group.name: group.inputs.get("retentionInDays") for group in groups} == {
        group.name: days for group in groups}
