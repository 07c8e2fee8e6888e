"""Each priced type against a figure computed by hand from the list prices (730 hours a month)."""

from __future__ import annotations

import json

import pytest

from cost import Record, UsageAssumptions, estimate, load_prices, records_from_captured

STACK = "urn:pulumi:dev::webstack::pulumi:pulumi:Stack"


def component_urn(token: str, name: str) -> str:
    return f"{STACK}${token}::{name}"


SERVICE_COMPONENT = component_urn("webstack:service:Service", "backend")


def rec(type_: str, name: str, props: dict | None = None, parent: str = "") -> Record:
    chain = parent.split("::")[2] + "$" if parent else ""
    return Record(type_, f"urn:pulumi:dev::webstack::{chain}{type_}::{name}", name, props or {}, parent)


def service_records(cpu="512", memory="1024", architecture="X86_64", minimum=2, maximum=10, strategies=None,
                    log_group="/ecs/backend"):
    containers = [{"name": "app", "logConfiguration": {"logDriver": "awslogs",
                                                        "options": {"awslogs-group": log_group}}}]
    service_props = {"name": "backend-svc", "desiredCount": minimum,
                     "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/webstack-dev-backend:3"}
    if strategies is not None:
        service_props["capacityProviderStrategies"] = strategies
    return [
        Record("webstack:service:Service", SERVICE_COMPONENT, "backend", {}, STACK),
        rec("aws:ecs/taskDefinition:TaskDefinition", "backend-task",
            {"family": "webstack-dev-backend", "cpu": cpu, "memory": memory,
             "runtimePlatform": {"cpuArchitecture": architecture, "operatingSystemFamily": "LINUX"},
             "containerDefinitions": json.dumps(containers)}, SERVICE_COMPONENT),
        rec("aws:ecs/service:Service", "backend-service", service_props, SERVICE_COMPONENT),
        rec("aws:appautoscaling/target:Target", "backend-target",
            {"resourceId": "service/app-cluster/backend-svc", "scalableDimension": "ecs:service:DesiredCount",
             "minCapacity": minimum, "maxCapacity": maximum}),
    ]


def only_line(result, type_: str, contains: str = ""):
    lines = [line for line in result.lines_of_type(type_) if contains in line.item]
    assert len(lines) == 1, [line.item for line in result.lines]
    return lines[0]


def test_fargate_x86_on_demand_min_and_max():
    result = estimate(service_records())
    line = only_line(result, "aws:ecs/service:Service", "Fargate")
    # 0.5 vCPU x 0.04048 + 1 GB x 0.004445 = 0.024685 $/task-hour; x 730 h = 18.02005 per task
    assert line.monthly_usd_min == pytest.approx(2 * 18.02005)
    assert line.monthly_usd_max == pytest.approx(10 * 18.02005)
    assert line.component == "webstack:service:Service backend"


def test_ephemeral_storage_above_20_gb_is_billed_per_task_hour():
    records = service_records()
    records[1].props["ephemeralStorage"] = {"sizeInGib": 50.0}
    line = only_line(estimate(records), "aws:ecs/service:Service", "Fargate")
    # + 30 GB x 0.000111 = 0.00333 $/task-hour on top of 0.024685; x 730 h per task
    assert line.monthly_usd_min == pytest.approx(2 * (0.024685 + 0.00333) * 730)
    assert "30 GB ephemeral storage above 20" in line.basis


def test_fargate_arm_is_cheaper():
    line = only_line(estimate(service_records(architecture="ARM64", minimum=1, maximum=1)),
                     "aws:ecs/service:Service", "Fargate")
    # 0.5 x 0.03238 + 1 x 0.00356 = 0.01975 $/h x 730 = 14.4175
    assert line.monthly_usd_min == pytest.approx(14.4175)


def test_fargate_spot_share_follows_base_then_weight():
    strategies = [{"capacityProvider": "FARGATE", "base": 1, "weight": 0},
                  {"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    line = only_line(estimate(service_records(minimum=1, maximum=10, strategies=strategies)),
                     "aws:ecs/service:Service", "Fargate")
    # min: 1 task, on-demand (base). max: 1 on-demand + 9 Spot at 65 % off = 10 - 9 x 0.65 = 4.15 task-equivalents
    assert line.monthly_usd_min == pytest.approx(18.02005)
    assert line.monthly_usd_max == pytest.approx(4.15 * 18.02005)


def test_spot_discount_is_an_overridable_assumption():
    strategies = [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]
    usage = UsageAssumptions.from_mapping({"fargateSpotDiscount": 0.5})
    line = only_line(estimate(service_records(minimum=2, maximum=2, strategies=strategies), usage=usage),
                     "aws:ecs/service:Service", "Fargate")
    assert line.monthly_usd_min == pytest.approx(2 * 0.5 * 18.02005)


def test_service_without_scalable_target_runs_desired_count():
    records = [r for r in service_records(minimum=3) if r.type != "aws:appautoscaling/target:Target"]
    line = only_line(estimate(records), "aws:ecs/service:Service", "Fargate")
    assert line.monthly_usd_min == line.monthly_usd_max == pytest.approx(3 * 18.02005)


def test_auto_named_service_matches_its_target_by_resource_name():
    records = service_records(minimum=2, maximum=4)
    service = records[2]
    records[2] = Record(service.type, service.urn, service.name,
                        {k: v for k, v in service.props.items() if k != "name"}, service.parent_urn)
    records[3] = rec("aws:appautoscaling/target:Target", "t", {
        "resourceId": "service/app-cluster/backend-service-a1b2c3d", "minCapacity": 2, "maxCapacity": 4})
    line = only_line(estimate(records), "aws:ecs/service:Service", "Fargate")
    assert (line.monthly_usd_min, line.monthly_usd_max) == pytest.approx((2 * 18.02005, 4 * 18.02005))


def test_unknown_scalable_target_in_preview_is_reported_not_guessed():
    records = service_records(minimum=2, maximum=10)
    records[3] = rec("aws:appautoscaling/target:Target", "t", {"resourceId": None, "minCapacity": 2,
                                                                "maxCapacity": 10})
    service = records[2]
    records[2] = Record(service.type, service.urn, service.name,
                        {k: v for k, v in service.props.items() if k != "name"}, service.parent_urn)
    result = estimate(records)
    line = only_line(result, "aws:ecs/service:Service", "Fargate")
    assert line.monthly_usd_max == pytest.approx(2 * 18.02005)
    assert "maximum scale unknown" in next(u.reason for u in result.unpriced if u.resource == "backend-service")


def test_container_log_group_ingest_and_storage_follow_task_count():
    records = service_records(minimum=2, maximum=10) + [
        rec("aws:cloudwatch/logGroup:LogGroup", "backend-logs", {"name": "/ecs/backend", "retentionInDays": 30},
            SERVICE_COMPONENT)]
    result = estimate(records)
    ingest = only_line(result, "aws:cloudwatch/logGroup:LogGroup", "ingestion")
    storage = only_line(result, "aws:cloudwatch/logGroup:LogGroup", "storage")
    # 1 GB per task-month x $0.50: 2 tasks = 1.00, 10 tasks = 5.00
    assert (ingest.monthly_usd_min, ingest.monthly_usd_max) == pytest.approx((1.0, 5.0))
    # 30 days kept = 1 month of ingest x $0.03/GB-month: 2 GB = 0.06, 10 GB = 0.30
    assert (storage.monthly_usd_min, storage.monthly_usd_max) == pytest.approx((0.06, 0.30))


def test_nat_single_vs_one_per_az_from_vpc_inputs():
    def nat_hours(strategy):
        vpc = rec("awsx:ec2:Vpc", "vpc", {"natGateways": {"strategy": strategy},
                                          "availabilityZoneNames": ["us-east-1a", "us-east-1b", "us-east-1c"]})
        return estimate([vpc])

    single, per_az = nat_hours("Single"), nat_hours("OnePerAz")
    # 1 x 0.045 x 730 = 32.85 ; 3 x 32.85 = 98.55 ; IPv4 0.005 x 730 = 3.65 per NAT
    assert only_line(single, "awsx:ec2:Vpc", "hours").monthly_usd_min == pytest.approx(32.85)
    assert only_line(per_az, "awsx:ec2:Vpc", "hours").monthly_usd_min == pytest.approx(98.55)
    assert only_line(single, "awsx:ec2:Vpc", "IPv4").monthly_usd_min == pytest.approx(3.65)
    assert only_line(per_az, "awsx:ec2:Vpc", "IPv4").monthly_usd_min == pytest.approx(10.95)
    assert nat_hours("None").lines == []


def test_nat_data_processed_follows_tasks():
    vpc = rec("awsx:ec2:Vpc", "vpc", {"natGateways": {"strategy": "Single"}, "availabilityZoneNames": ["a1", "b1"]})
    line = only_line(estimate(service_records(minimum=2, maximum=10) + [vpc]), "awsx:ec2:Vpc", "data")
    # 5 GB per task x $0.045: 2 tasks = 0.45, 10 tasks = 2.25
    assert (line.monthly_usd_min, line.monthly_usd_max) == pytest.approx((0.45, 2.25))


def test_visible_nat_children_are_priced_instead_of_the_vpc_inputs_never_both():
    vpc = rec("awsx:ec2:Vpc", "vpc", {"natGateways": {"strategy": "OnePerAz"}, "availabilityZoneNames": ["a1", "b1"]})
    vpc_urn = vpc.urn
    children = [rec("aws:ec2/natGateway:NatGateway", f"nat-{i}", {"connectivityType": "public"}, vpc_urn)
                for i in (1, 2)] + [rec("aws:ec2/eip:Eip", f"eip-{i}", {"domain": "vpc"}, vpc_urn) for i in (1, 2)]
    result = estimate([vpc] + children)
    assert result.lines_of_type("awsx:ec2:Vpc") == []
    nat_hours = [line for line in result.lines_of_type("aws:ec2/natGateway:NatGateway") if "hours" in line.item]
    assert sum(line.monthly_usd_min for line in nat_hours) == pytest.approx(2 * 32.85)
    # IPv4 is charged once per address: on the Eips, not again on the NATs
    assert not [line for line in result.lines if "IPv4" in line.item and line.type.endswith("NatGateway")]
    assert sum(line.monthly_usd_min for line in result.lines_of_type("aws:ec2/eip:Eip")) == pytest.approx(2 * 3.65)


def test_alb_hours_lcus_egress_and_one_ipv4_per_az():
    alb = rec("aws:lb/loadBalancer:LoadBalancer", "web-alb",
              {"loadBalancerType": "application", "subnets": ["subnet-a", "subnet-b", "subnet-c"]})
    result = estimate(service_records(minimum=2, maximum=10) + [alb])
    assert only_line(result, alb.type, "hours").monthly_usd_min == pytest.approx(16.425)  # 0.0225 x 730
    lcus = only_line(result, alb.type, "LCU")
    # min: max(1, 2 x 0.25) = 1 LCU x 0.008 x 730 = 5.84 ; max: 10 x 0.25 = 2.5 LCU = 14.60
    assert (lcus.monthly_usd_min, lcus.monthly_usd_max) == pytest.approx((5.84, 14.6))
    egress = only_line(result, alb.type, "data transfer")
    # 5 GB per task x $0.09: 2 tasks = 0.90, 10 tasks = 4.50
    assert (egress.monthly_usd_min, egress.monthly_usd_max) == pytest.approx((0.9, 4.5))
    assert only_line(result, alb.type, "IPv4").monthly_usd_min == pytest.approx(3 * 3.65)


def test_elasticache_redis_and_valkey_nodes():
    redis = rec("aws:elasticache/replicationGroup:ReplicationGroup", "cache",
                {"nodeType": "cache.t4g.small", "numCacheClusters": 2, "engine": "redis"})
    valkey = rec("aws:elasticache/replicationGroup:ReplicationGroup", "vcache",
                 {"nodeType": "cache.t4g.small", "numNodeGroups": 2, "replicasPerNodeGroup": 1, "engine": "valkey"})
    result = estimate([redis, valkey])
    lines = {line.resource: line.monthly_usd_min for line in result.lines}
    assert lines["cache"] == pytest.approx(2 * 0.032 * 730)  # 46.72
    assert lines["vcache"] == pytest.approx(4 * 0.032 * 0.8 * 730)  # 2 shards x 2 nodes, Valkey 20 % less: 74.752


def test_rds_instance_multi_az_storage_autoscaling_pi_and_managed_secret():
    db = rec("aws:rds/instance:Instance", "db", {
        "engine": "postgres", "instanceClass": "db.t4g.medium", "multiAz": True, "allocatedStorage": 50,
        "maxAllocatedStorage": 200, "storageType": "gp3", "performanceInsightsEnabled": True,
        "performanceInsightsRetentionPeriod": 7, "manageMasterUserPassword": True, "backupRetentionPeriod": 7})
    result = estimate([db])
    assert only_line(result, db.type, "instance").monthly_usd_min == pytest.approx(0.130 * 730)  # 94.90
    storage = only_line(result, db.type, "storage")
    # 50 GB x $0.23 (Multi-AZ gp3) = 11.50 ; grows to 200 GB = 46.00 at max scale
    assert (storage.monthly_usd_min, storage.monthly_usd_max) == pytest.approx((11.5, 46.0))
    assert only_line(result, db.type, "Performance Insights").monthly_usd_min == 0.0  # 7-day free tier
    assert only_line(result, db.type, "secret").monthly_usd_min == pytest.approx(0.40)


def test_rds_read_replica_and_long_performance_insights_retention():
    replica = rec("aws:rds/instance:Instance", "replica", {
        "replicateSourceDb": "db-primary", "instanceClass": "db.r6g.large", "allocatedStorage": 100,
        "storageType": "gp3", "performanceInsightsEnabled": True, "performanceInsightsRetentionPeriod": 31})
    result = estimate([replica])
    assert only_line(result, replica.type, "read replica").monthly_usd_min == pytest.approx(0.225 * 730)
    # 2 vCPU x $0.0125 x 730 = 18.25
    assert only_line(result, replica.type, "Performance Insights").monthly_usd_min == pytest.approx(18.25)


def test_rds_replica_storage_is_the_source_size_billed_again_never_silently_free():
    primary = rec("aws:rds/instance:Instance", "db", {
        "engine": "postgres", "identifier": "webstack-dev-db", "instanceClass": "db.t4g.micro",
        "allocatedStorage": 20, "maxAllocatedStorage": 50, "storageType": "gp3"})
    replica = rec("aws:rds/instance:Instance", "replica", {
        "replicateSourceDb": "webstack-dev-db", "instanceClass": "db.t4g.micro", "maxAllocatedStorage": 50,
        "storageType": "gp3", "multiAz": False})
    storage = [l for l in estimate([primary, replica]).lines if l.resource == "replica" and "storage" in l.item]
    # 20 GB x $0.115 = 2.30, up to 50 GB = 5.75, like its source
    assert [(l.monthly_usd_min, l.monthly_usd_max) for l in storage] == [pytest.approx((2.30, 5.75))]
    alone = estimate([replica])
    assert [(u.resource, u.reason) for u in alone.unpriced] == [
        ("replica", "allocatedStorage unknown (and the source instance's)")]


def test_rds_proxy_bills_the_target_vcpus_with_a_two_vcpu_minimum():
    db = rec("aws:rds/instance:Instance", "db", {"engine": "postgres", "instanceClass": "db.m6g.xlarge",
                                                 "identifier": "app-db", "allocatedStorage": 20})
    proxy = rec("aws:rds/proxy:Proxy", "proxy", {"name": "app-proxy"})
    target = rec("aws:rds/proxyTarget:ProxyTarget", "target", {"dbProxyName": "app-proxy",
                                                               "dbInstanceIdentifier": "app-db"})
    assert only_line(estimate([db, proxy, target]), proxy.type).monthly_usd_min == pytest.approx(4 * 0.015 * 730)
    small = rec("aws:rds/instance:Instance", "db", {"engine": "postgres", "instanceClass": "db.t4g.micro",
                                                    "identifier": "app-db", "allocatedStorage": 20})
    assert only_line(estimate([small, proxy, target]), proxy.type).monthly_usd_min == pytest.approx(2 * 0.015 * 730)


def test_alarms_dashboards_and_target_tracking_alarms():
    result = estimate([
        rec("aws:cloudwatch/metricAlarm:MetricAlarm", "cpu-high", {"metricName": "CPUUtilization", "period": 60}),
        rec("aws:cloudwatch/metricAlarm:MetricAlarm", "error-rate", {"metricQueries": [
            {"id": "errors", "metric": {"metricName": "HTTPCode_Target_5XX_Count", "period": 60}},
            {"id": "requests", "metric": {"metricName": "RequestCount", "period": 60}},
            {"id": "rate", "expression": "errors / requests"}]}),
        rec("aws:cloudwatch/metricAlarm:MetricAlarm", "fast", {"metricName": "X", "period": 10}),
        rec("aws:cloudwatch/dashboard:Dashboard", "ops"),
        rec("aws:appautoscaling/policy:Policy", "cpu", {"policyType": "TargetTrackingScaling",
                                                        "targetTrackingScalingPolicyConfiguration": {}}),
    ])
    by_resource = {line.resource: line.monthly_usd_min for line in result.lines}
    assert by_resource == pytest.approx({"cpu-high": 0.10, "error-rate": 0.20, "fast": 0.30, "ops": 3.00,
                                         "cpu": 0.20})


def test_flat_monthly_items():
    result = estimate([
        rec("aws:secretsmanager/secret:Secret", "secret"), rec("aws:kms/key:Key", "key"),
        rec("aws:route53/zone:Zone", "zone"), rec("aws:ecr/repository:Repository", "repo"),
        rec("aws:s3/bucketV2:BucketV2", "bucket"), rec("aws:cloudfront/distribution:Distribution", "cdn"),
        rec("aws:cloudfront/function:Function", "spa-fallback"),
        rec("aws:sns/topic:Topic", "alerts"),
        rec("aws:ec2/vpcEndpoint:VpcEndpoint", "ecr-api", {"vpcEndpointType": "Interface",
                                                            "subnetIds": ["s-1", "s-2"]}),
        rec("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", {"vpcEndpointType": "Gateway"}),
    ])
    by_resource = {line.resource: line.monthly_usd_min for line in result.lines}
    assert by_resource == pytest.approx({
        "secret": 0.40, "key": 1.00, "zone": 0.50,
        "repo": 0.20,                                  # 2 GB x $0.10
        "bucket": 10 * 0.023 + 10 * 0.005 + 100 * 0.0004,  # 0.23 + 0.05 + 0.04 = 0.32
        "cdn": 50 * 0.085 + 100 * 0.01,                # 4.25 + 1 M requests = 100 x 10k x $0.01 -> 5.25
        "spa-fallback": 1 * 0.10,                      # every one of the 1 M requests runs it, $0.10/M
        "alerts": 0.005,                               # 10,000 / 1 M x $0.50
        "ecr-api": 2 * 0.01 * 730 + 5 * 0.01,          # 14.65
    })


def test_unknown_and_unlisted_types_are_reported_never_zero():
    result = estimate([
        rec("aws:networkfirewall/firewall:Firewall", "firewall"),
        rec("aws:elasticache/replicationGroup:ReplicationGroup", "huge", {"nodeType": "cache.x2gd.16xlarge"}),
        rec("aws:rds/instance:Instance", "db", {"engine": "postgres", "instanceClass": "db.x2g.large",
                                                "allocatedStorage": 20}),
        rec("aws:iam/role:Role", "role"), rec("aws:ec2/securityGroup:SecurityGroup", "sg"),
        rec("pulumi:providers:aws", "aws"),
    ])
    unpriced = {(u.resource, u.type) for u in result.unpriced}
    assert unpriced == {("firewall", "aws:networkfirewall/firewall:Firewall"),
                        ("huge", "aws:elasticache/replicationGroup:ReplicationGroup"),
                        ("db", "aws:rds/instance:Instance")}
    assert "db.x2g.large" in next(u.reason for u in result.unpriced if u.resource == "db")
    # the unknown class's storage is still priced: 20 GB x $0.115 (gp2 default)
    assert only_line(result, "aws:rds/instance:Instance", "storage").monthly_usd_min == pytest.approx(2.3)


def test_max_is_never_below_min_and_totals_add_up():
    records = service_records(minimum=2, maximum=6) + [
        rec("awsx:ec2:Vpc", "vpc", {"natGateways": {"strategy": "Single"}, "availabilityZoneNames": ["a1", "b1"]})]
    result = estimate(records)
    assert all(line.monthly_usd_max >= line.monthly_usd_min for line in result.lines)
    assert result.total("max") > result.total("min")
    assert result.total("min") == pytest.approx(round(sum(line.monthly_usd_min for line in result.lines), 2))
    document = result.to_json()["cost"]
    assert document["monthly_min_usd"] == result.total("min")
    assert {"resource", "type", "item", "monthly_usd", "monthly_usd_min", "monthly_usd_max"} <= set(document["lines"][0])


def test_usage_assumptions_reject_unknown_keys_and_bad_values():
    with pytest.raises(ValueError, match="unknown usage assumption 'natGb'"):
        UsageAssumptions.from_mapping({"natGb": 3})
    with pytest.raises(ValueError, match="logGbPerTaskMonth must be a number >= 0"):
        UsageAssumptions.from_mapping({"logGbPerTaskMonth": -1})
    assert UsageAssumptions.from_mapping({"natGbPerTaskMonth": 20}).nat_gb_per_task_month == 20


# Added with the NAT instance option (issue 17), on a later day; every other figure was read 2026-11-25.
READ_2026_12_02 = {"ebs.gp3.gbMonth", "ec2.instanceHour", "aurora.serverlessV2.acuHour.standard",
                   "aurora.serverlessV2.acuHour.ioOptimized", "aurora.storage.gbMonth.standard",
                   "aurora.storage.gbMonth.ioOptimized", "aurora.io.millionRequests.standard", "rds.proxy.acuHour",
                   "rds.proxy.minimumAcu"}
READ_2026_12_03 = {"scheduler.invocationsPerMillion", "cloudMap.registeredInstanceMonth", "sqs.standardRequestsPerMillion",
                   "sqs.fifoRequestsPerMillion", "cloudfront.functionInvocationsPerMillion", "waf.webAclMonth",
                   "waf.ruleMonth", "waf.requestsPerMillion"}


def date_read(key: str) -> str:
    return "2026-12-03" if key in READ_2026_12_03 else "2026-12-02" if key in READ_2026_12_02 else "2026-11-25"


def test_price_file_records_source_and_date_of_every_figure():
    book = load_prices()
    for key, figure in book.figures.items():
        expected = date_read(key)
        assert figure["source"].startswith("https://") and figure["dateRead"] == expected, key
    for key, table in book.tables.items():
        expected = date_read(key)
        assert table["source"].startswith("https://") and table["dateRead"] == expected, key
    assert book.date_read == "2026-12-03"  # the latest reading, as the estimate's header says
    # the reference figures
    assert book.rate("fargate.x86.vcpuHour") == 0.04048 and book.rate("fargate.arm.gbHour") == 0.00356
    assert book.rate("alb.lcuHour") == 0.008 and book.rate("nat.gbProcessed") == 0.045
    assert book.cache_node_hour("cache.t4g.micro", "redis") == 0.016
    assert book.rds_class("db.t4g.micro").single_az_hour == 0.016
    assert book.rate("rds.gp3.gbMonth.multiAz") == 0.23 and book.rate("dashboard.month") == 3.0


def test_price_file_without_a_source_is_rejected(tmp_path):
    document = json.loads((load_prices.__globals__["PRICING_DIR"] / "us-east-1.json").read_text())
    del document["figures"]["nat.hour"]["source"]
    (tmp_path / "us-east-1.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match="figure nat.hour: missing source"):
        load_prices(directory=tmp_path)


@pytest.mark.parametrize("settings", [None, [None], [{"name": "containerInsights", "value": None}]])
def test_cluster_with_unknown_settings_in_a_preview_does_not_crash(settings):
    result = estimate([rec("aws:ecs/cluster:Cluster", "app-cluster", {"settings": settings})])
    assert result.lines == [] and result.unpriced == []


def test_lean_prices_aurora_acu_hours_from_the_awake_hours_never_free(lean_run):
    """min: auroraAwakeHoursMonth x 0.5 ACU (it pauses the rest); max: maxCapacity all month; storage and I/O."""
    report = estimate(records_from_captured(lean_run.resources))
    lines = {line.item: line for line in report.lines if line.type.startswith("aws:rds/cluster")}
    acu = lines["Aurora Serverless v2 Standard 0-1 ACU"]
    assert (acu.monthly_usd_min, acu.monthly_usd_max) == (pytest.approx(200 * 0.5 * 0.12), pytest.approx(730 * 1 * 0.12))
    assert lines["Aurora Standard storage"].monthly_usd_min == pytest.approx(20 * 0.10)
    assert lines["Aurora Standard I/O requests"].monthly_usd_max == pytest.approx(5 * 0.20)
