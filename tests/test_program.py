"""Whole-program runs of the committed stacks under mocks: what `pulumi up` would declare."""

from __future__ import annotations

import json

import pytest

from preflight.capture import UNKNOWN, ProgramRun
from tests.conftest import committed, container_definitions, run_stack

OWN_COMPONENTS = {
    "webstack:network:Network",
    "webstack:cluster:Cluster",
    "webstack:load_balancer:LoadBalancer",
    "webstack:service:Service",
    "webstack:autoscaling:Autoscaling",
}


def by_name(run: ProgramRun, type_: str, name: str):
    return next(r for r in run.of_type(type_) if r.name == name)


def test_at_least_five_component_types_of_our_own(any_run):
    assert OWN_COMPONENTS <= {r.type for r in any_run.resources}


def test_every_resource_is_under_a_component_or_is_the_provider(any_run):
    for resource in any_run.resources:
        if resource.type != "pulumi:providers:aws":
            assert resource.parent, resource.urn
        if resource.custom and resource.type.startswith("aws:"):
            assert resource.provider_urn.endswith("pulumi:providers:aws::aws"), resource.urn
        elif resource.custom and resource.type != "pulumi:providers:aws":
            # Besides AWS, only pulumi-random (the cache AUTH token): no region, no tags.
            assert resource.type.startswith("random:"), resource.urn


def test_provider_default_tags(any_run):
    provider = any_run.one("pulumi:providers:aws")
    tags = json.loads(provider.inputs["defaultTags"])["tags"] if isinstance(provider.inputs["defaultTags"], str) \
        else provider.inputs["defaultTags"]["tags"]
    assert tags == {"Project": "webstack", "Environment": committed(any_run, "environment"), "Owner": "platform-team"}
    assert provider.inputs["region"] == "us-east-1"


# dev and lean egress through a NAT instance: awsx creates no NAT gateway there.
@pytest.mark.parametrize("stack,strategy,zones", [("dev", "None", 2), ("lean", "None", 2), ("prod", "OnePerAz", 3)])
def test_awsx_vpc_layout_and_nat_strategy(stack, strategy, zones, request):
    run = request.getfixturevalue(f"{stack}_run")
    vpc = run.one("awsx:ec2:Vpc")
    assert vpc.remote
    assert vpc.inputs["natGateways"] == {"strategy": strategy}
    assert len(vpc.inputs["availabilityZoneNames"]) == zones
    assert vpc.inputs["subnetStrategy"] == "Auto"
    assert [(s["type"], s["cidrMask"]) for s in vpc.inputs["subnetSpecs"]] == [
        ("Public", 21), ("Private", 21), ("Isolated", 21)
    ]
    # Each AZ's block is pinned (room for 6 AZs), so adding an AZ never moves the others' subnets.
    assert vpc.inputs["availabilityZoneCidrMask"] == 19


def test_default_security_group_is_stripped_and_flow_logs_on(any_run):
    default_sg = any_run.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default_sg.inputs.get("ingress", []) == [] and default_sg.inputs.get("egress", []) == []
    flow_log = any_run.one("aws:ec2/flowLog:FlowLog")
    assert flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.inputs["vpcId"] == any_run.outputs["vpcId"]
    group = by_name(any_run, "aws:cloudwatch/logGroup:LogGroup", "network-flow-logs")
    assert flow_log.inputs["logDestination"] == group.outputs["arn"]
    assert flow_log.inputs["logDestinationType"] == "cloud-watch-logs"


def test_one_cluster_with_container_insights_and_both_fargate_providers(any_run):
    cluster = any_run.one("aws:ecs/cluster:Cluster")
    assert {"name": "containerInsights", "value": "enabled"} in cluster.inputs["settings"]
    providers = any_run.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    assert providers.inputs["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]


def routed(run) -> dict:
    """The committed services behind the load balancer (with routes); a worker has none."""
    return {name: service for name, service in committed(run, "services").items() if service.get("routes")}


def test_services_are_private_behind_the_alb_and_safe_to_deploy(any_run):
    services = any_run.of_type("aws:ecs/service:Service")
    assert len(services) == len(committed(any_run, "services"))
    alb_sg = by_name(any_run, "aws:ec2/securityGroup:SecurityGroup", "web-sg")
    for service in services:
        network = service.inputs["networkConfiguration"]
        assert network["assignPublicIp"] is False
        assert network["subnets"]
        assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
        assert service.ignore_changes == ("desiredCount",)
        if service.name.removesuffix("-service") in routed(any_run):
            assert service.inputs["healthCheckGracePeriodSeconds"] > 0
            assert service.inputs["loadBalancers"][0]["targetGroupArn"].startswith("arn:aws:elasticloadbalancing:")
        else:  # the worker: not behind the load balancer
            assert "loadBalancers" not in service.inputs and "healthCheckGracePeriodSeconds" not in service.inputs
        if any_run.stack == "prod":
            assert service.inputs["deploymentMinimumHealthyPercent"] >= 100
    from_alb = [r for r in any_run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
                if r.name.endswith("-from-alb")]
    assert len(from_alb) == len(routed(any_run))
    for rule in from_alb:
        assert rule.inputs["referencedSecurityGroupId"] == alb_sg.id
        assert "cidrIpv4" not in rule.inputs and "cidrIpv6" not in rule.inputs
        service_sg = by_name(any_run, "aws:ec2/securityGroup:SecurityGroup", rule.name.replace("-from-alb", "-sg"))
        assert rule.inputs["securityGroupId"] == service_sg.id


def test_service_subnets_are_the_private_tier(any_run):
    vpc = any_run.one("awsx:ec2:Vpc")
    private = vpc.outputs["privateSubnetIds"]
    assert len(private) == len(vpc.inputs["availabilityZoneNames"])
    for service in any_run.of_type("aws:ecs/service:Service"):
        assert service.inputs["networkConfiguration"]["subnets"] == private


def test_valid_fargate_task_sizes_and_awslogs_with_retention(any_run):
    from helpers.fargate import is_valid_size
    groups = {g.name: g for g in any_run.of_type("aws:cloudwatch/logGroup:LogGroup")}
    for task in any_run.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        assert task.inputs["requiresCompatibilities"] == ["FARGATE"]
        assert task.inputs["networkMode"] == "awsvpc"
        assert is_valid_size(int(task.inputs["cpu"]), int(task.inputs["memory"]))
        for container in json.loads(task.inputs["containerDefinitions"]):
            log = container["logConfiguration"]
            assert log["logDriver"] == "awslogs"
            assert log["options"]["awslogs-region"] == "us-east-1"
    for group in groups.values():
        assert group.inputs["retentionInDays"] == committed(any_run, "logs")["retentionDays"]


def test_container_logs_go_to_the_services_own_group(dev_run):
    backend = container_definitions(dev_run, "-backend")[0]
    group = by_name(dev_run, "aws:cloudwatch/logGroup:LogGroup", "backend-logs")
    assert backend["logConfiguration"]["options"]["awslogs-group"].startswith("backend-logs")
    assert group.inputs["retentionInDays"] == 7
    assert backend["image"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/dev/backend:2f1c9e0"
    assert backend["portMappings"][0]["containerPort"] == 8000
    assert backend["stopTimeout"] == 60


def test_target_groups_are_ip_auto_named_with_health_checks(any_run):
    paths = {}
    for group in any_run.of_type("aws:lb/targetGroup:TargetGroup"):
        assert group.inputs["targetType"] == "ip"
        assert "name" not in group.inputs and "namePrefix" not in group.inputs
        assert group.inputs["deregistrationDelay"] <= 60
        paths[group.name] = group.inputs["healthCheck"]["path"]
    assert paths == {f"{name}-tg": service.get("healthCheck", {}).get("path", "/")
                     for name, service in routed(any_run).items()}
    assert paths["backend-tg"] == "/api/health/"


def test_one_internet_facing_alb_dropping_invalid_headers(any_run):
    alb = any_run.one("aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["internal"] is False
    assert alb.inputs["loadBalancerType"] == "application"
    assert alb.inputs["dropInvalidHeaderFields"] is True
    assert alb.inputs["enableDeletionProtection"] is (committed(any_run, "environment") == "prod")
    assert "name" not in alb.inputs


def test_prod_listens_https_with_tls13_and_redirects_http(prod_run):
    listeners = {l.inputs["port"]: l for l in prod_run.of_type("aws:lb/listener:Listener")}
    assert set(listeners) == {80, 443}
    https = listeners[443].inputs
    assert https["protocol"] == "HTTPS"
    assert https["sslPolicy"].startswith("ELBSecurityPolicy-TLS13-")
    assert https["certificateArn"].startswith("arn:aws:acm:")
    assert https["defaultActions"][0]["type"] == "fixed-response"
    assert https["defaultActions"][0]["fixedResponse"]["statusCode"] == "404"
    redirect = listeners[80].inputs["defaultActions"][0]
    assert redirect["type"] == "redirect"
    assert redirect["redirect"] == {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}


def test_dev_without_certificate_serves_http_with_a_404_default(dev_run):
    listener = dev_run.one("aws:lb/listener:Listener")
    assert listener.inputs["protocol"] == "HTTP" and listener.inputs["port"] == 80
    assert listener.inputs["defaultActions"][0]["type"] == "fixed-response"


def test_alb_security_group_is_open_on_web_ports_only(any_run):
    public_ports = set()
    for rule in any_run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        if rule.inputs.get("cidrIpv4") == "0.0.0.0/0" or rule.inputs.get("cidrIpv6") == "::/0":
            assert rule.name.startswith("web-in-")
            public_ports.add(rule.inputs["fromPort"])
    # Behind a static frontend (lean) nothing is open to the internet: CloudFront's prefix list only
    # (tests/test_static_frontend.py).
    expected = set() if committed(any_run, "frontend") else {80, 443} if committed(any_run, "domain") else {80}
    assert public_ports == expected


def test_path_rules_route_api_and_admin_to_backend(any_run):
    rules = {r.name: r for r in any_run.of_type("aws:lb/listenerRule:ListenerRule")}
    services = routed(any_run)
    assert set(rules) == {f"{name}-route" for name in services}
    for name, service in services.items():
        rule = rules[f"{name}-route"].inputs
        # Behind a static frontend (lean) the rule also requires CloudFront's origin header.
        assert rule["conditions"][0] == {"pathPattern": {"values": service["routes"]["paths"]}}
        assert len(rule["conditions"]) == (2 if committed(any_run, "frontend") else 1)
        assert rule["priority"] == service["routes"]["priority"]
        assert rule["actions"][0]["targetGroupArn"].split("/")[1].startswith(f"{name}-tg")
    backend = rules["backend-route"].inputs
    assert backend["priority"] == 10
    assert by_name(any_run, "aws:lb/targetGroup:TargetGroup", "backend-tg").inputs["port"] == 8000
    if "frontend" in services:  # dev, prod: the API's paths first, the frontend takes the rest
        assert backend["conditions"] == [{"pathPattern": {"values": ["/api/*", "/admin/*"]}}]
        assert rules["frontend-route"].inputs["conditions"] == [{"pathPattern": {"values": ["/*"]}}]
        assert rules["frontend-route"].inputs["priority"] > backend["priority"]


def test_scalable_target_per_service_with_cpu_and_request_tracking(any_run):
    targets = any_run.of_type("aws:appautoscaling/target:Target")
    services = {s.inputs.get("name") or any_run.outputs["serviceNames"][s.name.removesuffix("-service")]: s
                for s in any_run.of_type("aws:ecs/service:Service")}
    assert len(targets) == len(services)
    cluster = any_run.outputs["clusterName"]
    for target in targets:
        assert target.inputs["scalableDimension"] == "ecs:service:DesiredCount"
        _, cluster_name, service_name = target.inputs["resourceId"].split("/")
        assert cluster_name == cluster and service_name in services
        if any_run.stack == "prod":
            assert target.inputs["minCapacity"] >= 2
        assert target.inputs["maxCapacity"] > target.inputs["minCapacity"]
    alb = any_run.one("aws:lb/loadBalancer:LoadBalancer")
    groups = {g.name: g for g in any_run.of_type("aws:lb/targetGroup:TargetGroup")}
    metrics = {}
    for policy in any_run.of_type("aws:appautoscaling/policy:Policy"):
        if policy.inputs["policyType"] != "TargetTrackingScaling" or policy.name.endswith("-backlog"):
            continue  # the worker's queue policies: tests/test_queues.py
        config = policy.inputs["targetTrackingScalingPolicyConfiguration"]
        spec = config["predefinedMetricSpecification"]
        metrics.setdefault(policy.name.split("-scaling-")[0], set()).add(spec["predefinedMetricType"])
        assert config["scaleOutCooldown"] < config["scaleInCooldown"]
        if spec["predefinedMetricType"] == "ALBRequestCountPerTarget":
            service = policy.name.split("-scaling-")[0]
            assert spec["resourceLabel"].startswith("app/") and "/targetgroup/" in spec["resourceLabel"]
            assert spec["resourceLabel"].split("/targetgroup/")[1].startswith(f"{service}-tg")
            assert spec["resourceLabel"].startswith(f"app/{alb.name}")
            assert groups[f"{service}-tg"].type == "aws:lb/targetGroup:TargetGroup"
    assert metrics == {name: {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"} if name in routed(any_run)
                       else {"ECSServiceAverageCPUUtilization"} for name in committed(any_run, "services")}


def test_dev_runs_extra_tasks_on_spot_prod_on_demand(dev_run, prod_run):
    dev = {s.name: s.inputs["capacityProviderStrategies"] for s in dev_run.of_type("aws:ecs/service:Service")}
    assert dev["backend-service"] == [
        {"capacityProvider": "FARGATE", "base": 1, "weight": 0},
        {"capacityProvider": "FARGATE_SPOT", "weight": 1},
    ]
    for service in prod_run.of_type("aws:ecs/service:Service"):
        assert service.inputs["capacityProviderStrategies"] == [{"capacityProvider": "FARGATE", "weight": 1}]


def test_stack_outputs(any_run):
    outputs = any_run.outputs
    # Prod and lean serve on their custom domain (webstack:domain); dev on the load balancer's own name, over HTTP.
    domain = committed(any_run, "domain")
    expected_url = f"https://{domain['recordName']}" if domain else f"http://{outputs['albDnsName']}"
    assert outputs["url"] == expected_url
    assert outputs["albDnsName"].endswith(".us-east-1.elb.amazonaws.com")
    assert set(outputs["serviceNames"]) == set(committed(any_run, "services")) >= {"backend"}
    assert outputs["clusterName"]


def test_any_number_of_services(dev_run):
    def add_services(config):
        for index in range(3):
            config["webstack:services"][f"worker-{index}"] = {
                "image": {"repository": "public.ecr.aws/nginx/nginx", "tag": "1.27"},
                "port": 8080, "cpu": 256, "memory": 512,
                "routes": {"paths": [f"/w{index}/*"], "priority": 20 + index},
                "scaling": {"min": 1, "max": 2},
            }

    run = run_stack("dev", add_services)
    assert len(run.of_type("aws:ecs/service:Service")) == len(dev_run.of_type("aws:ecs/service:Service")) + 3
    worker = container_definitions(run, "-worker-1")[0]
    assert worker["image"] == "public.ecr.aws/nginx/nginx:1.27"


def test_scheduled_scaling_and_memory_tracking(dev_run):
    def nightly(config):
        config["webstack:services"]["backend"]["scaling"].update({
            "memoryTarget": 80,
            "schedules": [{"name": "night", "schedule": "cron(0 22 ? * MON-FRI *)", "min": 0, "max": 0,
                           "timezone": "Europe/Berlin"}],
        })

    run = run_stack("dev", nightly)
    action = run.one("aws:appautoscaling/scheduledAction:ScheduledAction")
    assert action.inputs["schedule"] == "cron(0 22 ? * MON-FRI *)"
    assert action.inputs["scalableTargetAction"] == {"minCapacity": 0, "maxCapacity": 0}
    assert action.inputs["timezone"] == "Europe/Berlin"
    memory = [p for p in run.of_type("aws:appautoscaling/policy:Policy") if p.name == "backend-scaling-memory"]
    assert memory[0].inputs["targetTrackingScalingPolicyConfiguration"]["targetValue"] == 80


def test_preview_with_unknown_outputs_does_not_crash():
    run = run_stack("prod", preview=True)
    task = run.of_type("aws:ecs/taskDefinition:TaskDefinition")[0]
    assert task.inputs.get("containerDefinitions", UNKNOWN) == UNKNOWN
    services = run.of_type("aws:ecs/service:Service")
    assert len(services) == 3
    for service in services:
        # Output-derived values are unknown on a first preview; plain config values stay known.
        assert service.inputs["taskDefinition"] == UNKNOWN
        assert service.inputs["networkConfiguration"]["subnets"] == UNKNOWN
        assert service.inputs["networkConfiguration"]["assignPublicIp"] is False
        assert service.ignore_changes == ("desiredCount",)
    assert run.outputs == {}


def test_capture_records_which_resource_each_input_came_from(dev_run):
    service = by_name(dev_run, "aws:ecs/service:Service", "backend-service")
    task = by_name(dev_run, "aws:ecs/taskDefinition:TaskDefinition", "backend-task")
    group = by_name(dev_run, "aws:lb/targetGroup:TargetGroup", "backend-tg")
    assert service.property_dependencies["taskDefinition"] == (task.urn,)
    assert service.property_dependencies["loadBalancers"] == (group.urn,)
    assert service.property_dependencies["desiredCount"] == ()
