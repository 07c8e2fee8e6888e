"""Each component alone under mocks: the inputs of its children and their parenting."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.autoscaling import Autoscaling, AutoscalingArgs
from components.cluster import Cluster, ClusterArgs
from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.network import Network, NetworkArgs
from components.service import Service, ServiceArgs
from preflight.capture import ProgramRun, run_in_mocks
from stackconfig.load_balancer import LoadBalancerConfig
from stackconfig.network import NetworkConfig
from stackconfig.service import ScalingConfig, ServiceConfig
from stackconfig.stack import ClusterConfig

CERT = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
DB_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1234-AbCdEf"
JWT_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/jwt-XyZ123"


def children_are_parented(run: ProgramRun, component_type: str) -> None:
    component = run.one(component_type)
    for resource in run.resources:
        if resource is not component and resource.custom:
            assert resource.parent == component.urn, resource.urn


def network_args(instance_tags=None, **changes) -> NetworkArgs:
    settings = dict(cidr="10.0.0.0/16", availability_zones=["us-east-1a", "us-east-1b"], nat_gateways="single",
                    subnet_mask=21, isolated_subnets=True, flow_logs=True)
    settings.update(changes)
    return NetworkArgs(settings=NetworkConfig(**settings), log_retention_days=14, region="eu-west-1",
                       account_id="123456789012", instance_tags=instance_tags or {})


def test_network_alone():
    run = run_in_mocks(lambda: Network("net", network_args()))
    children_are_parented(run, "webstack:network:Network")
    vpc = run.one("awsx:ec2:Vpc")
    assert vpc.inputs["cidrBlock"] == "10.0.0.0/16"
    assert vpc.inputs["availabilityZoneNames"] == ["us-east-1a", "us-east-1b"]
    assert vpc.inputs["enableDnsHostnames"] is True
    assert vpc.inputs["availabilityZoneCidrMask"] == 19
    assert [spec["cidrMask"] for spec in vpc.inputs["subnetSpecs"]] == [21, 21, 21]
    role_policy = json.loads(run.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    group_arn = run.one("aws:cloudwatch/logGroup:LogGroup").outputs["arn"]
    assert role_policy["Statement"][0]["Resource"] == [group_arn, f"{group_arn}:*"]
    assert role_policy["Statement"][0]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents",
                                                     "logs:DescribeLogStreams"]
    # AWS's documented minimum for the flow logs role also lists DescribeLogGroups.
    assert role_policy["Statement"][1] == {"Effect": "Allow", "Action": ["logs:DescribeLogGroups"], "Resource": "*"}
    trust = json.loads(run.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert trust["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:aws:ec2:eu-west-1:123456789012:vpc-flow-log/*"},
    }
    assert run.one("aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"] == 14


def test_network_without_flow_logs_or_isolated_tier():
    run = run_in_mocks(lambda: Network("net", network_args(flow_logs=False, isolated_subnets=False,
                                                             nat_gateways="onePerAz")))
    assert run.of_type("aws:ec2/flowLog:FlowLog") == []
    vpc = run.one("awsx:ec2:Vpc")
    assert [spec["type"] for spec in vpc.inputs["subnetSpecs"]] == ["Public", "Private"]
    assert vpc.inputs["natGateways"] == {"strategy": "OnePerAz"}


def test_cluster_alone():
    run = run_in_mocks(lambda: Cluster("app", ClusterArgs(settings=ClusterConfig(container_insights="enhanced"))))
    children_are_parented(run, "webstack:cluster:Cluster")
    cluster = run.one("aws:ecs/cluster:Cluster")
    assert cluster.inputs["settings"] == [{"name": "containerInsights", "value": "enhanced"}]
    providers = run.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders")
    assert providers.inputs["clusterName"] == cluster.outputs["name"]
    assert providers.inputs["defaultCapacityProviderStrategies"] == [
        {"capacityProvider": "FARGATE", "base": 1, "weight": 1}
    ]


def load_balancer(certificate_arn=None, deletion_protection=False) -> ProgramRun:
    return run_in_mocks(lambda: LoadBalancer("web", LoadBalancerArgs(
        settings=LoadBalancerConfig(idle_timeout=120, deletion_protection=deletion_protection),
        vpc_id="vpc-1", public_subnet_ids=["subnet-a", "subnet-b"], certificate_arn=certificate_arn,
    )))


def test_load_balancer_http_only_without_certificate():
    run = load_balancer()
    children_are_parented(run, "webstack:load_balancer:LoadBalancer")
    assert [l.inputs["protocol"] for l in run.of_type("aws:lb/listener:Listener")] == ["HTTP"]
    ports = {r.inputs["fromPort"] for r in run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")}
    assert ports == {80}
    alb = run.one("aws:lb/loadBalancer:LoadBalancer")
    assert alb.inputs["subnets"] == ["subnet-a", "subnet-b"]
    assert alb.inputs["idleTimeout"] == 120
    assert alb.inputs["securityGroups"] == [run.one("aws:ec2/securityGroup:SecurityGroup").id]


def test_load_balancer_https_with_certificate_and_protection():
    run = load_balancer(certificate_arn=CERT, deletion_protection=True)
    listeners = {l.inputs["port"]: l.inputs for l in run.of_type("aws:lb/listener:Listener")}
    assert listeners[443]["certificateArn"] == CERT
    assert listeners[443]["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert listeners[80]["defaultActions"][0]["redirect"]["protocol"] == "HTTPS"
    rules = run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert sorted((r.inputs["fromPort"], r.inputs.get("cidrIpv4") or r.inputs.get("cidrIpv6")) for r in rules) == [
        (80, "0.0.0.0/0"), (80, "::/0"), (443, "0.0.0.0/0"), (443, "::/0")
    ]
    assert run.one("aws:lb/loadBalancer:LoadBalancer").inputs["enableDeletionProtection"] is True


def service_settings(**changes) -> ServiceConfig:
    values = {
        "image": {"repository": "api", "tag": "abc"}, "port": 9000, "cpu": 512, "memory": 1024,
        "routes": {"paths": ["/ws/*"], "hosts": ["chat.example.com"], "priority": 5},
        "healthCheck": {"path": "/admin/login/", "command": ["CMD-SHELL", "curl -f http://localhost:9000/ || exit 1"]},
        "stickiness": {"type": "app_cookie", "cookieName": "sessionid", "duration": 86400},
        "scaling": {"min": 1, "max": 4}, "enableExec": True, "architecture": "arm64",
        "environment": {"DEBUG": "False"},
    }
    values.update(changes)
    return ServiceConfig.model_validate(values)


def service(settings: ServiceConfig, secrets=None, linked=None) -> ProgramRun:
    return run_in_mocks(lambda: Service("chat", ServiceArgs(
        settings=settings, image="123456789012.dkr.ecr.us-east-1.amazonaws.com/api:abc", region="us-east-1",
        log_retention_days=7, cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/app", vpc_id="vpc-1",
        subnet_ids=["subnet-p1", "subnet-p2"], load_balancer_security_group_id="sg-alb",
        listener_arn="arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/1/2",
        account_id="123456789012",
        linked_environment=linked or {}, secrets=secrets or {},
    )))


def test_service_alone_wires_every_child():
    run = service(service_settings(), secrets={"DATABASE_PASSWORD": f"{DB_SECRET}:password::",
                                               "DATABASE_USER": f"{DB_SECRET}:username::",
                                               "JWT_SECRET": JWT_SECRET},
                  linked={"DATABASE_HOST": pulumi.Output.from_input("db.internal")})
    children_are_parented(run, "webstack:service:Service")
    task = run.one("aws:ecs/taskDefinition:TaskDefinition")
    container = json.loads(task.inputs["containerDefinitions"])[0]
    assert task.inputs["runtimePlatform"] == {"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"}
    assert container["environment"] == [{"name": "DATABASE_HOST", "value": "db.internal"},
                                        {"name": "DEBUG", "value": "False"}]
    assert container["secrets"] == [
        {"name": "DATABASE_PASSWORD", "valueFrom": f"{DB_SECRET}:password::"},
        {"name": "DATABASE_USER", "valueFrom": f"{DB_SECRET}:username::"},
        {"name": "JWT_SECRET", "valueFrom": JWT_SECRET},
    ]
    assert container["healthCheck"]["command"][0] == "CMD-SHELL"
    assert container["linuxParameters"] == {"initProcessEnabled": True}

    roles = {r.name: r for r in run.of_type("aws:iam/role:Role")}
    assert task.inputs["executionRoleArn"] == roles["chat-execution"].outputs["arn"]
    assert task.inputs["taskRoleArn"] == roles["chat-task"].outputs["arn"]
    (task_trust,) = json.loads(roles["chat-task"].inputs["assumeRolePolicy"])["Statement"]
    assert task_trust["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert task_trust["Condition"] == {"ArnLike": {"aws:SourceArn": "arn:aws:ecs:us-east-1:123456789012:*"},
                                       "StringEquals": {"aws:SourceAccount": "123456789012"}}
    policies = {p.name: json.loads(p.inputs["policy"]) for p in run.of_type("aws:iam/rolePolicy:RolePolicy")}
    assert policies["chat-execution-secrets"]["Statement"] == [{
        "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": sorted([DB_SECRET, JWT_SECRET]),
    }]
    assert policies["chat-task-exec"]["Statement"][0]["Action"][0].startswith("ssmmessages:")
    attachment = run.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs["policyArn"].endswith("service-role/AmazonECSTaskExecutionRolePolicy")

    group = run.one("aws:lb/targetGroup:TargetGroup")
    assert group.inputs["stickiness"] == {"enabled": True, "type": "app_cookie", "cookieDuration": 86400,
                                          "cookieName": "sessionid"}
    assert group.inputs["healthCheck"]["path"] == "/admin/login/"
    assert group.inputs["port"] == 9000 and group.inputs["vpcId"] == "vpc-1"
    rule = run.one("aws:lb/listenerRule:ListenerRule")
    assert rule.inputs["conditions"] == [{"pathPattern": {"values": ["/ws/*"]}},
                                         {"hostHeader": {"values": ["chat.example.com"]}}]
    assert rule.inputs["actions"] == [{"type": "forward", "targetGroupArn": group.outputs["arn"]}]

    ecs = run.one("aws:ecs/service:Service")
    assert ecs.inputs["enableExecuteCommand"] is True
    assert ecs.inputs["networkConfiguration"]["subnets"] == ["subnet-p1", "subnet-p2"]
    assert ecs.inputs["desiredCount"] == 1
    assert rule.urn in ecs.dependencies
    ingress = run.one("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").inputs
    assert ingress["referencedSecurityGroupId"] == "sg-alb" and ingress["fromPort"] == ingress["toPort"] == 9000
    egress = {r.name: r.inputs for r in run.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")}
    assert egress["chat-alb-to-tasks"]["securityGroupId"] == "sg-alb" and egress["chat-alb-to-tasks"]["toPort"] == 9000
    service_sg = run.one("aws:ec2/securityGroup:SecurityGroup")
    assert "egress" not in service_sg.inputs and "ingress" not in service_sg.inputs
    assert egress["chat-egress"]["securityGroupId"] == service_sg.id
    assert egress["chat-egress"]["ipProtocol"] == "-1" and egress["chat-egress"]["cidrIpv4"] == "0.0.0.0/0"


def test_service_without_secrets_has_no_secret_policy_and_task_role_is_empty():
    run = service(service_settings(enableExec=False, stickiness=None))
    assert run.of_type("aws:iam/rolePolicy:RolePolicy") == []
    assert "stickiness" not in run.one("aws:lb/targetGroup:TargetGroup").inputs
    container = json.loads(run.one("aws:ecs/taskDefinition:TaskDefinition").inputs["containerDefinitions"])[0]
    assert container["secrets"] == [] and "linuxParameters" not in container


def test_service_without_routes_is_not_behind_the_load_balancer():
    """A worker: no port, no routes. Task definition, roles, logs, egress-only group, circuit breaker remain."""
    run = service(service_settings(port=None, routes=None, stickiness=None, command=["celery", "-A", "app", "worker"],
                                   healthCheck={"command": ["CMD-SHELL", "celery -A app inspect ping || exit 1"]},
                                   spot=False, architecture="arm64"))
    children_are_parented(run, "webstack:service:Service")
    assert run.of_type("aws:lb/targetGroup:TargetGroup") == []
    assert run.of_type("aws:lb/listenerRule:ListenerRule") == []
    assert run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") == []
    egress = {r.name: r.inputs for r in run.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")}
    assert set(egress) == {"chat-egress"}
    assert run.one("aws:ec2/securityGroup:SecurityGroup").inputs["description"] == "chat tasks: egress only"
    ecs = run.one("aws:ecs/service:Service").inputs
    assert "loadBalancers" not in ecs and "healthCheckGracePeriodSeconds" not in ecs
    assert ecs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert ecs["networkConfiguration"]["assignPublicIp"] is False
    assert ecs["enableExecuteCommand"] is True
    task = run.one("aws:ecs/taskDefinition:TaskDefinition")
    assert task.inputs["runtimePlatform"]["cpuArchitecture"] == "ARM64"
    container = json.loads(task.inputs["containerDefinitions"])[0]
    assert "portMappings" not in container
    assert container["command"] == ["celery", "-A", "app", "worker"]
    assert container["healthCheck"]["command"] == ["CMD-SHELL", "celery -A app inspect ping || exit 1"]


def autoscaling(settings: dict, label="app/web-alb/1/targetgroup/api-tg/2") -> ProgramRun:
    return run_in_mocks(lambda: Autoscaling("api-scaling", AutoscalingArgs(
        settings=ScalingConfig.model_validate(settings), cluster_name="app-cluster", service_name="api-svc",
        request_count_label=label,
    )))


def test_autoscaling_alone():
    run = autoscaling({"min": 2, "max": 6, "cpuTarget": 60, "requestsPerTarget": 80, "scaleInCooldown": 180})
    children_are_parented(run, "webstack:autoscaling:Autoscaling")
    target = run.one("aws:appautoscaling/target:Target")
    assert target.inputs["resourceId"] == "service/app-cluster/api-svc"
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (2, 6)
    policies = {p.name: p.inputs["targetTrackingScalingPolicyConfiguration"]
                for p in run.of_type("aws:appautoscaling/policy:Policy")}
    assert policies["api-scaling-cpu"]["targetValue"] == 60
    assert policies["api-scaling-requests"] == {
        "targetValue": 80, "scaleOutCooldown": 60, "scaleInCooldown": 180,
        "predefinedMetricSpecification": {"predefinedMetricType": "ALBRequestCountPerTarget",
                                          "resourceLabel": "app/web-alb/1/targetgroup/api-tg/2"},
    }


def test_request_tracking_without_a_label_is_refused():
    with pytest.raises(Exception, match="requestsPerTarget needs the load balancer's request count label"):
        autoscaling({"min": 1, "max": 2, "requestsPerTarget": 100}, label=None)
