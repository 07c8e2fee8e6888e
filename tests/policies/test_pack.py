"""Every policy through the real analyzer: the secure reference program passes, each broken variant fails.

Cases break one thing in the captured reference program and expect the named policy to report a
violation on the named resource, at the level `policies/config/prod.json` gives it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Callable

import pytest

from preflight.capture import UNKNOWN, CapturedResource, ProgramRun
from preflight.policy_gate import PolicyConfigError, load_policy_config, policy_gate
from tests.policies.conftest import change, drop, edit_containers, evaluate, set_in, without

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "policies"))
from webstack_guard import ALL_POLICIES

OUR_POLICIES = {p.name for p in ALL_POLICIES}


def policy_doc(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def env(name: str, value: str):
    return edit_containers(lambda c: c["environment"].append({"name": name, "value": value}))


def public_subnets(run: ProgramRun) -> list[str]:
    return run.by_name("vpc").outputs["publicSubnetIds"]


def move_rule_to(run: ProgramRun, rule: str, group: str) -> ProgramRun:
    """Attach a security group rule to another group (its id and its dependency)."""
    target = run.by_name(group)
    moved = run.by_name(rule)
    return change(run, rule, set_in("securityGroupId", target.id), dependencies=(target.urn,),
                  property_dependencies={**moved.property_dependencies, "securityGroupId": (target.urn,)})


def attach_rule_to_http_listener(run: ProgramRun) -> ProgramRun:
    http = run.by_name("http")
    route = run.by_name("api-route")
    return change(run, "api-route", set_in("listenerArn", http.outputs["arn"]), dependencies=(http.urn,),
                  property_dependencies={**route.property_dependencies, "listenerArn": (http.urn,)})


def with_subnet(run: ProgramRun, public: bool) -> ProgramRun:
    provider = run.by_name("aws")
    subnet = CapturedResource(urn="urn:pulumi:prod::webstack::aws:ec2/subnet:Subnet::extra", type="aws:ec2/subnet:Subnet",
                              name="extra", parent="", custom=True, remote=False, provider=f"{provider.urn}::{provider.id}",
                              inputs={"vpcId": "vpc-1", "cidrBlock": "10.0.200.0/24", "mapPublicIpOnLaunch": public})
    return ProgramRun(stack=run.stack, resources=[*run.resources, subnet], outputs=run.outputs)


def with_resource(run: ProgramRun, type_: str, name: str, inputs: dict, depends_on: tuple[str, ...] = ()) -> ProgramRun:
    """`run` plus one more resource of the stack's provider (its outputs are its inputs plus an id and ARN)."""
    provider = run.by_name("aws")
    resource_id = f"{name}-id"
    added = CapturedResource(urn=f"urn:pulumi:prod::webstack::{type_}::{name}", type=type_, name=name, parent="",
                             custom=True, remote=False, provider=f"{provider.urn}::{provider.id}", inputs=inputs,
                             dependencies=tuple(run.by_name(d).urn for d in depends_on), id=resource_id,
                             outputs={**inputs, "id": resource_id, "arn": f"arn:aws:test:::{resource_id}"})
    return ProgramRun(stack=run.stack, resources=[*run.resources, added], outputs=run.outputs)


def with_prefix_list(run: ProgramRun, cidr: str, port: int) -> ProgramRun:
    """A managed prefix list holding `cidr`, admitted on `port` by a vpc ingress rule on the data tier's group."""
    run = with_resource(run, "aws:ec2/managedPrefixList:ManagedPrefixList", "office", {
        "name": "office", "addressFamily": "IPv4", "maxEntries": 2, "entries": [{"cidr": cidr}]})
    data_sg = run.by_name("data-sg")
    return with_resource(run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "data-from-office", {
        "securityGroupId": data_sg.id, "prefixListId": "office-id", "ipProtocol": "tcp",
        "fromPort": port, "toPort": port}, depends_on=("data-sg", "office"))


def memcached(transit: bool):
    return lambda r: with_resource(r, "aws:elasticache/cluster:Cluster", "sessions", {
        "engine": "memcached", "engineVersion": "1.6.22", "nodeType": "cache.t4g.small", "numCacheNodes": 2,
        "subnetGroupName": "cache-subnets", "transitEncryptionEnabled": transit})


def bucket_policy(*statements) -> Callable[[dict], None]:
    """An edit of alb-logs-policy appending `statements` to its TLS-only statement."""
    def apply(props):
        document = json.loads(props["policy"])
        document["Statement"].extend(statements)
        props["policy"] = json.dumps(document)
    return apply


READ_ALL = {"Sid": "PublicRead", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::alb-logs/*"}


def aurora(**credentials):
    """An Aurora PostgreSQL cluster meeting every other rule, with the given credential inputs."""
    def add(run: ProgramRun) -> ProgramRun:
        run = with_resource(run, "aws:rds/cluster:Cluster", "aurora", {
            "engine": "aurora-postgresql", "engineVersion": "16.4", "masterUsername": "app",
            "dbSubnetGroupName": run.by_name("db-subnets").outputs["name"], "storageEncrypted": True,
            "backupRetentionPeriod": 7, "deletionProtection": True, "skipFinalSnapshot": False,
            "finalSnapshotIdentifier": "aurora-final", "enabledCloudwatchLogsExports": ["postgresql"],
            "iamDatabaseAuthenticationEnabled": True, **credentials}, depends_on=("db-subnets",))
        return change(run, "aurora", protect=True)
    return add


OTHER_ACCOUNT = "210987654321"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:alerts"


def trust(*statements):
    return lambda r: change(r, "execution-role", set_in("assumeRolePolicy", policy_doc(*statements)))


def resource_policy(type_: str, target: str, *statements, key: str = "policy"):
    """A resource-based policy resource (a TopicPolicy, QueuePolicy ...) on `target` with `statements`."""
    return lambda r: with_resource(r, type_, "extra-policy", {"arn": r.by_name(target).outputs.get("arn", ""),
                                                                key: policy_doc(*statements)}, depends_on=(target,))


def escalation(action, resource="*", **fields):
    return lambda r: change(r, "execution-secrets", set_in("policy", policy_doc(
        {"Effect": "Allow", "Action": action, "Resource": resource, **fields})))


EVERYONE_PUBLISH = {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": TOPIC_ARN}


def cluster_mode(**changes):
    """The cache as Redis cluster mode (2 shards, a replica each), with the given inputs changed."""
    def edit(props):
        props.pop("numCacheClusters", None)
        props.update(clusterMode="enabled", numNodeGroups=2, replicasPerNodeGroup=1, automaticFailoverEnabled=True,
                     **changes)
    return lambda run: change(run, "cache", edit)


def default_tags_without_owner(props):
    props["defaultTags"] = json.dumps({"tags": {"Project": "webstack", "Environment": "prod"}})


QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:work-queue-1234567"


def queue_policy(*statements) -> Callable[[dict], None]:
    """Replace the work queue's policy with these statements (on the work queue's ARN)."""
    return set_in("policy", policy_doc(*({"Action": "sqs:SendMessage", "Resource": QUEUE_ARN, **s} for s in statements)))


def without_redrive_allow(run: ProgramRun) -> ProgramRun:
    return without(run, "work-dlq-sources")


def trusting(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


def role_with_policy(service: str, *statements):
    """A role `service` assumes, with one role policy of `statements` (nightly-runner-run)."""
    def add(run: ProgramRun) -> ProgramRun:
        run = with_resource(run, "aws:iam/role:Role", "nightly-runner", {"assumeRolePolicy": trusting(service)})
        return with_resource(run, "aws:iam/rolePolicy:RolePolicy", "nightly-runner-run", {
            "role": "nightly-runner-id", "policy": policy_doc(*statements)}, depends_on=("nightly-runner",))
    return add


def task_role_policy(*statements):
    return lambda r: change(r, "task-role", lambda p: p["inlinePolicies"][0].update(policy=policy_doc(*statements)))


def schedule(assign_public_ip: bool):
    """A Scheduler schedule running the app's task definition on Fargate."""
    return lambda r: with_resource(r, "aws:scheduler/schedule:Schedule", "nightly-schedule", {
        "scheduleExpression": "cron(0 3 * * ? *)", "flexibleTimeWindow": {"mode": "OFF"}, "target": {
            "arn": r.by_name("cluster").outputs["arn"], "roleArn": "arn:aws:iam::123456789012:role/scheduler",
            "ecsParameters": {"taskDefinitionArn": r.by_name("app-task").outputs["arn"], "launchType": "FARGATE",
                              "networkConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": assign_public_ip}}}})


RUN_TASK = {"Effect": "Allow", "Action": ["ecs:RunTask"],
            "Resource": ["arn:aws:ecs:us-east-1:123456789012:task-definition/app-nightly:*"]}
EXEC_CHANNELS = {"Effect": "Allow", "Resource": "*", "Action": [
    "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel"]}

# (policy, resource it must name, how to break the reference program)
CASES = [
    ("ecs-service-no-public-ip", "app-service", lambda r: change(r, "app-service", set_in("networkConfiguration.assignPublicIp", True))),
    # A worker (no load balancer) is held to the same rule.
    ("ecs-service-no-public-ip", "app-service", lambda r: change(r, "app-service", lambda props: (
        drop("loadBalancers", "healthCheckGracePeriodSeconds")(props),
        set_in("networkConfiguration.assignPublicIp", True)(props)))),
    ("ecs-service-no-public-ip", "nightly-report", lambda r: with_resource(r, "aws:pipes/pipe:Pipe", "nightly-report", {
        "roleArn": "arn:aws:iam::123456789012:role/pipe", "source": "arn:aws:sqs:us-east-1:123456789012:jobs",
        "target": "arn:aws:ecs:us-east-1:123456789012:cluster/app", "targetParameters": {"ecsTaskParameters": {
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/app:1", "launchType": "FARGATE",
            "networkConfiguration": {"awsVpcConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": "ENABLED"}}}}})),
    ("ecs-service-no-public-ip", "nightly-run", lambda r: with_resource(r, "aws:cloudwatch/eventTarget:EventTarget", "nightly-run", {
        "rule": "nightly", "arn": "arn:aws:ecs:us-east-1:123456789012:cluster/app", "ecsTarget": {
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/app:1", "launchType": "FARGATE",
            "networkConfiguration": {"subnets": ["subnet-1"], "assignPublicIp": True}}})),
    ("ecs-service-no-public-ip", "nightly-schedule", schedule(assign_public_ip=True)),
    ("workload-roles-no-wildcard-resources", "nightly-runner-run",
     role_with_policy("scheduler.amazonaws.com", {**RUN_TASK, "Resource": "*"})),
    ("workload-roles-no-wildcard-resources", "nightly-runner-run",
     role_with_policy("ecs-tasks.amazonaws.com", {"Effect": "Allow", "Action": ["sqs:SendMessage"],
                                                  "NotResource": ["arn:aws:sqs:us-east-1:123456789012:other"]})),
    ("workload-roles-no-wildcard-resources", "task-role", task_role_policy(
        EXEC_CHANNELS, {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::*"})),
    ("ecs-service-private-subnets-only", "app-service",
     lambda r: change(r, "app-service", set_in("networkConfiguration.subnets", public_subnets(r)))),
    ("ecs-service-private-subnets-only", "app-service",
     lambda r: change(r, "app-service", set_in("networkConfiguration.subnets", ["subnet-0123456789abcdef0"]))),
    ("data-subnets-private-only", "db-subnets", lambda r: change(r, "db-subnets", set_in("subnetIds", public_subnets(r)))),
    ("data-subnets-private-only", "cache-subnets", lambda r: change(r, "cache-subnets", set_in("subnetIds", public_subnets(r)[:1]))),
    ("data-subnets-private-only", "db-proxy", lambda r: change(r, "db-proxy", set_in("vpcSubnetIds", public_subnets(r)))),
    ("rds-not-publicly-accessible", "db", lambda r: change(r, "db", set_in("publiclyAccessible", True))),
    ("rds-not-publicly-accessible", "db", lambda r: change(r, "db", drop("dbSubnetGroupName"))),
    ("elasticache-in-subnet-group", "cache", lambda r: change(r, "cache", drop("subnetGroupName"))),
    ("security-group-no-public-ingress", "lb-in-443",
     lambda r: change(r, "lb-in-443", lambda p: p.update(fromPort=5432, toPort=5432))),
    ("security-group-no-public-ingress", "lb-in-80",
     lambda r: change(r, "lb-in-80", lambda p: p.update(cidrIpv4=None, cidrIpv6="::/0", ipProtocol="-1"))),
    ("security-group-no-public-ingress", "lb-in-443", lambda r: move_rule_to(r, "lb-in-443", "data-sg")),
    ("security-group-no-public-ingress", "app-sg", lambda r: change(r, "app-sg", set_in("ingress", [
        {"protocol": "tcp", "fromPort": 8000, "toPort": 8000, "cidrBlocks": ["0.0.0.0/0"]}]))),
    ("security-group-no-public-ingress", "data-from-app", lambda r: change(r, "data-from-app", lambda p: (
        p.pop("sourceSecurityGroupId", None), p.update(cidrBlocks=["0.0.0.0/0"])))),
    ("security-group-no-public-ingress", "lb-in-80",
     lambda r: change(r, "lb-in-80", lambda p: p.update(cidrIpv4="0.0.0.0/1", fromPort=0, toPort=65535))),
    ("security-group-no-public-ingress", "data-from-office", lambda r: with_prefix_list(r, "0.0.0.0/0", 5432)),
    ("security-group-no-public-ingress", "data-from-app", lambda r: change(r, "data-from-app", lambda p: (
        p.pop("sourceSecurityGroupId", None), p.update(protocol="all", fromPort=0, toPort=0, ipv6CidrBlocks=["::/0"])))),
    ("security-group-no-public-ingress", "lb-in-443", lambda r: change(r, "lb-in-443", lambda p: p.update(fromPort=80, toPort=443))),
    ("security-group-no-public-ingress", "app-sg", lambda r: change(r, "app-sg", lambda p: p["ingress"].append(
        {"protocol": "tcp", "fromPort": 6000, "toPort": 6400, "cidrBlocks": ["0.0.0.0/0"]}))),
    ("default-security-group-closed", "default-sg", lambda r: change(r, "default-sg", set_in("ingress", [
        {"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}]))),
    ("subnet-no-auto-public-ip", "extra", lambda r: with_subnet(r, public=True)),
    ("egress-through-nat-gateways", "nat-eni", lambda r: with_resource(r, "aws:ec2/networkInterface:NetworkInterface",
                                                                      "nat-eni", {"subnetId": "subnet-1", "sourceDestCheck": False})),
    ("egress-through-nat-gateways", "nat-route", lambda r: with_resource(r, "aws:ec2/route:Route", "nat-route", {
        "routeTableId": "rtb-1", "destinationCidrBlock": "0.0.0.0/0", "networkInterfaceId": "eni-1"})),
    ("container-env-no-secrets", "app-task", lambda r: change(r, "app-task", env("DB_PASSWORD", "hunter2"))),
    ("container-env-no-secrets", "app-task", lambda r: change(r, "app-task", env("stripeApiKey", "k-123"))),
    ("container-env-no-secrets", "app-task", lambda r: change(r, "app-task", env("DATABASE_URL", "postgres://app:s3cr3t@db:5432/app"))),
    ("container-env-no-secrets", "app-task", lambda r: change(r, "app-task", env("UPLOAD_CONFIG", "AKIAIOSFODNN7EXAMPLE"))),
    ("container-env-no-secrets", "app-task", lambda r: change(r, "app-task", env("TLS", "-----BEGIN RSA PRIVATE KEY-----\nMII"))),
    ("container-env-no-secrets", "app-task", lambda r: change(r, "app-task", env("PGPASSWORD", "hunter2"))),
    ("container-env-no-secrets", "app-task", lambda r: change(r, "app-task", env("CACHE_URL", "rediss://:s3cretTok@cache:6379/0"))),
    ("container-env-no-secrets", "app-task", lambda r: change(r, "app-task", env("JDBC", "jdbc:postgresql://db/app?user=app&password=s3cr3t"))),
    ("container-env-no-secrets", "app-task", lambda r: change(r, "app-task", env("SIGNING", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQ"))),
    ("container-env-no-secrets", "app-task", lambda r: change(r, "app-task", edit_containers(
        lambda c: c.update(command=["python", "manage.py", "migrate", "--db-password=hunter2"])))),
    ("container-env-no-secrets", "app-task", lambda r: change(r, "app-task", edit_containers(
        lambda c: c.update(entryPoint=["sh", "-c", "psql postgres://app:s3cr3t@db/app"])))),
    ("container-secrets-from-secret-stores", "app-task", lambda r: change(r, "app-task", edit_containers(
        lambda c: c["secrets"].append({"name": "API_KEY", "valueFrom": "arn:aws:s3:::bucket/key.txt"})))),
    ("container-secrets-from-secret-stores", "app-task", lambda r: change(r, "app-task", edit_containers(
        lambda c: c["secrets"].append({"name": "API_KEY", "valueFrom": "/webstack/prod/api-key"})))),
    ("rds-managed-master-password", "db", lambda r: change(r, "db", lambda p: (
        p.pop("manageMasterUserPassword"), p.update(password="hunter2hunter2")))),
    ("rds-managed-master-password", "db", lambda r: change(r, "db", set_in("manageMasterUserPassword", False))),
    ("rds-managed-master-password", "db", lambda r: change(r, "db", lambda p: (
        p.pop("manageMasterUserPassword"), p.update(password="hunter2hunter2", snapshotIdentifier="db-snapshot-1")))),
    ("rds-managed-master-password", "aurora", aurora(masterPassword="hunter2hunter2")),
    ("rds-managed-master-password", "aurora", aurora(manageMasterUserPassword=False)),
    ("redis-auth-required", "cache", lambda r: change(r, "cache", drop("userGroupIds"))),
    ("secrets-rotated", "django-secret-key", lambda r: without(r, "django-secret-key-rotation")),
    ("rds-storage-encrypted", "db", lambda r: change(r, "db", set_in("storageEncrypted", False))),
    ("elasticache-encrypted", "cache", lambda r: change(r, "cache", set_in("atRestEncryptionEnabled", False))),
    ("elasticache-encrypted", "cache", lambda r: change(r, "cache", set_in("transitEncryptionEnabled", False))),
    ("elasticache-encrypted", "cache", lambda r: change(r, "cache", set_in("transitEncryptionMode", "preferred"))),
    ("elasticache-encrypted", "sessions", memcached(transit=False)),
    ("elasticache-encrypted", "cache", cluster_mode(transitEncryptionEnabled=False)),
    ("redis-auth-required", "cache", lambda r: cluster_mode()(change(r, "cache", drop("userGroupIds")))),
    ("elasticache-encrypted", "cache", cluster_mode(atRestEncryptionEnabled=False)),
    ("rds-storage-encrypted", "aurora", aurora(manageMasterUserPassword=True, storageEncrypted=False)),
    ("rds-backup-retention", "aurora", aurora(manageMasterUserPassword=True, backupRetentionPeriod=1)),
    ("rds-deletion-protection", "aurora", aurora(manageMasterUserPassword=True, deletionProtection=False)),
    ("rds-final-snapshot", "aurora", aurora(manageMasterUserPassword=True, skipFinalSnapshot=True)),
    ("alb-listener-modern-tls", "https", lambda r: change(r, "https", set_in("sslPolicy", "ELBSecurityPolicy-2016-08"))),
    ("alb-listener-modern-tls", "https", lambda r: change(r, "https", set_in("sslPolicy", "ELBSecurityPolicy-TLS13-1-1-2021-06"))),
    ("alb-listener-modern-tls", "https", lambda r: change(r, "https", drop("sslPolicy"))),
    ("alb-listener-modern-tls", "https", lambda r: change(r, "https", set_in("sslPolicy", "ELBSecurityPolicy-FS-1-1-2019-08"))),
    ("cloudfront-https-only", "frontend-cdn", lambda r: change(r, "frontend-cdn",
                                                                set_in("defaultCacheBehavior.viewerProtocolPolicy", "allow-all"))),
    ("cloudfront-https-only", "frontend-cdn", lambda r: change(r, "frontend-cdn", lambda p: p["orderedCacheBehaviors"][0]
                                                                .update(viewerProtocolPolicy="allow-all"))),
    ("cloudfront-https-only", "frontend-cdn", lambda r: change(r, "frontend-cdn", lambda p: p["origins"][1][
        "customOriginConfig"].update(originProtocolPolicy="match-viewer"))),
    ("cloudfront-min-tls", "frontend-cdn", lambda r: change(r, "frontend-cdn",
                                                             set_in("viewerCertificate.minimumProtocolVersion", "TLSv1"))),
    ("cloudfront-min-tls", "frontend-cdn", lambda r: change(r, "frontend-cdn",
                                                             set_in("viewerCertificate.minimumProtocolVersion", "TLSv1.2_2019"))),
    ("cloudfront-s3-origin-oac", "frontend-cdn", lambda r: change(r, "frontend-cdn",
                                                                   lambda p: p["origins"][0].pop("originAccessControlId"))),
    ("cloudfront-s3-origin-oac", "frontend-cdn", lambda r: change(r, "frontend-cdn", lambda p: p["origins"][0].update(
        s3OriginConfig={"originAccessIdentity": "origin-access-identity/cloudfront/E2QWRUHAPOMQZL"}))),
    ("cloudfront-origin-tls12", "frontend-cdn", lambda r: change(r, "frontend-cdn", lambda p: p["origins"][1][
        "customOriginConfig"].update(originSslProtocols=["TLSv1.1", "TLSv1.2"]))),
    ("cloudfront-origin-tls12", "frontend-cdn", lambda r: change(r, "frontend-cdn", lambda p: p["origins"][1][
        "customOriginConfig"].update(originSslProtocols=["SSLv3"]))),
    ("alb-http-redirects-to-https", "http", lambda r: change(r, "http", set_in("defaultActions", [
        {"type": "forward", "targetGroupArn": r.by_name("app-tg").outputs["arn"]}]))),
    ("alb-http-redirects-to-https", "api-route", attach_rule_to_http_listener),
    ("alb-http-redirects-to-https", "http", lambda r: change(r, "http", lambda p: (p.pop("protocol"), p.update(
        defaultActions=[{"type": "forward", "targetGroupArn": r.by_name("app-tg").outputs["arn"]}])))),
    ("alb-drop-invalid-headers", "alb", lambda r: change(r, "alb", set_in("dropInvalidHeaderFields", False))),
    ("rds-proxy-require-tls", "db-proxy", lambda r: change(r, "db-proxy", set_in("requireTls", False))),
    ("kms-key-rotation", "logs-key", lambda r: change(r, "logs-key", drop("enableKeyRotation"))),
    ("sns-topic-encrypted", "alerts", lambda r: change(r, "alerts", drop("kmsMasterKeyId"))),
    ("s3-default-encryption", "alb-logs", lambda r: without(r, "alb-logs-sse")),
    ("rds-backup-retention", "db", lambda r: change(r, "db", set_in("backupRetentionPeriod", 1))),
    ("rds-multi-az", "db", lambda r: change(r, "db", set_in("multiAz", False))),
    ("rds-deletion-protection", "db", lambda r: change(r, "db", drop("deletionProtection"))),
    ("rds-final-snapshot", "db", lambda r: change(r, "db", set_in("skipFinalSnapshot", True))),
    ("stateful-resources-protected", "db", lambda r: change(r, "db", protect=False)),
    ("redis-automatic-failover", "cache", lambda r: change(r, "cache", set_in("automaticFailoverEnabled", False))),
    ("redis-automatic-failover", "cache", lambda r: change(r, "cache", set_in("numCacheClusters", 1))),
    ("elasticache-backups", "cache", lambda r: change(r, "cache", set_in("snapshotRetentionLimit", 0))),
    ("ecs-deployment-circuit-breaker", "app-service",
     lambda r: change(r, "app-service", set_in("deploymentCircuitBreaker.rollback", False))),
    # Blue/green without the circuit breaker (rolling only) and without deployment alarms: no rollback at all.
    ("ecs-deployment-circuit-breaker", "app-service", lambda r: change(r, "app-service", lambda p: p.update(
        deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": "10"},
        deploymentCircuitBreaker={"enable": False, "rollback": False},
        alarms={"enable": True, "rollback": False, "alarmNames": ["app-5xx-rate"]}))),
    ("ecs-service-min-tasks", "app-service", lambda r: change(r, "app-service", set_in("desiredCount", 1))),
    ("ecs-service-min-tasks", "app-scaling", lambda r: change(r, "app-scaling", set_in("minCapacity", 1))),
    ("ecs-autoscaling-configured", "app-service", lambda r: change(r, "app-service", ignore_changes=())),
    ("ecs-autoscaling-configured", "app-scaling", lambda r: without(r, "app-scaling-cpu")),
    ("ecs-autoscaling-configured", "app-scaling", lambda r: change(r, "app-scaling", set_in("maxCapacity", 2))),
    ("ecs-autoscaling-configured", "app-service", lambda r: without(without(r, "app-scaling-cpu"), "app-scaling")),
    ("alb-deletion-protection", "alb", lambda r: change(r, "alb", set_in("enableDeletionProtection", False))),
    ("iam-no-wildcard-actions", "execution-secrets", lambda r: change(r, "execution-secrets", set_in("policy", policy_doc(
        {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::media/*"})))),
    ("iam-no-wildcard-actions", "task-role", lambda r: change(r, "task-role", set_in("inlinePolicies.0.policy", policy_doc(
        {"Effect": "Allow", "Action": ["s3:*"], "Resource": "arn:aws:s3:::media/*"})))),
    ("iam-no-wildcard-actions", "execution-secrets", lambda r: change(r, "execution-secrets", set_in("policy", policy_doc(
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})))),
    ("iam-no-wildcard-actions", "execution-managed",
     lambda r: change(r, "execution-managed", set_in("policyArn", "arn:aws:iam::aws:policy/AdministratorAccess"))),
    ("iam-no-wildcard-secret-reads", "execution-secrets", lambda r: change(r, "execution-secrets", set_in("policy", policy_doc(
        {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "kms:Decrypt"], "Resource": "*"})))),
    ("iam-no-wildcard-secret-reads", "execution-secrets", lambda r: change(r, "execution-secrets", set_in("policy", policy_doc(
        {"Effect": "Allow", "Action": "ssm:GetParameters",
         "Resource": "arn:aws:ssm:us-east-1:123456789012:parameter/*"})))),
    ("iam-no-wildcard-actions", "task-role",
     lambda r: change(r, "task-role", set_in("managedPolicyArns", ["arn:aws:iam::aws:policy/AdministratorAccess"]))),
    ("iam-no-wildcard-secret-reads", "execution-secrets", lambda r: change(r, "execution-secrets", set_in("policy", policy_doc(
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-east-1:123456789012:*"})))),
    ("iam-no-wildcard-secret-reads", "execution-secrets", lambda r: change(r, "execution-secrets", set_in("policy", policy_doc(
        {"Effect": "Allow", "Action": "secretsmanager:Get*", "Resource": "*"})))),
    ("iam-no-wildcard-secret-reads", "execution-secrets", lambda r: change(r, "execution-secrets", set_in("policy", policy_doc(
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
         "NotResource": "arn:aws:secretsmanager:us-east-1:123456789012:secret:other"})))),
    ("ecs-task-roles-distinct", "app-task",
     lambda r: change(r, "app-task", set_in("taskRoleArn", r.by_name("app-task").inputs["executionRoleArn"]))),
    ("ecs-containers-non-privileged", "app-task", lambda r: change(r, "app-task", edit_containers(
        lambda c: c.update(privileged=True)))),
    ("ecs-containers-non-privileged", "app-task", lambda r: change(r, "app-task", edit_containers(
        lambda c: c.update(user="0:0")))),
    ("ecs-containers-read-only-root", "app-task", lambda r: change(r, "app-task", edit_containers(
        lambda c: c.pop("readonlyRootFilesystem")))),
    ("ecs-container-insights", "cluster",
     lambda r: change(r, "cluster", set_in("settings", [{"name": "containerInsights", "value": "disabled"}]))),
    ("log-group-retention", "app-logs", lambda r: change(r, "app-logs", drop("retentionInDays"))),
    ("log-group-retention", "app-logs", lambda r: change(r, "app-logs", set_in("retentionInDays", 7))),
    ("log-group-retention", "app-logs", lambda r: change(r, "app-logs", set_in("retentionInDays", 0))),
    ("alarms-have-actions", "cpu-high", lambda r: change(r, "cpu-high", set_in("alarmActions", []))),
    ("alarms-have-actions", "cpu-high", lambda r: change(r, "cpu-high", set_in("actionsEnabled", False))),
    ("vpc-flow-logs", "vpc", lambda r: without(r, "flow-log")),
    ("alb-access-logs", "alb", lambda r: change(r, "alb", set_in("accessLogs.enabled", False))),
    ("alb-waf-attached", "alb", lambda r: without(r, "alb-waf")),
    ("rds-observability", "db", lambda r: change(r, "db", set_in("performanceInsightsEnabled", False))),
    ("rds-observability", "db", lambda r: change(r, "db", drop("enabledCloudwatchLogsExports"))),
    ("rds-iam-authentication", "db", lambda r: change(r, "db", drop("iamDatabaseAuthenticationEnabled"))),
    ("rds-force-ssl", "db-params",
     lambda r: change(r, "db-params", set_in("parameters", [{"name": "rds.force_ssl", "value": "0"}]))),
    ("rds-force-ssl", "db-params",
     lambda r: change(r, "db-params", lambda p: p.update(family="postgres14", parameters=[]))),
    ("s3-public-access-blocked", "alb-logs-pab", lambda r: change(r, "alb-logs-pab", set_in("blockPublicPolicy", False))),
    ("s3-public-access-blocked", "alb-logs", lambda r: without(r, "alb-logs-pab")),
    ("s3-no-public-grants", "alb-logs", lambda r: change(r, "alb-logs", set_in("acl", "public-read"))),
    ("s3-no-public-grants", "alb-logs-acl", lambda r: with_resource(r, "aws:s3/bucketAcl:BucketAcl", "alb-logs-acl", {
        "bucket": r.by_name("alb-logs").id, "accessControlPolicy": {
            "owner": {"id": "owner"},
            "grants": [{"permission": "READ", "grantee": {
                "type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers"}}]}}, depends_on=("alb-logs",))),
    ("s3-no-public-grants", "alb-logs-policy", lambda r: change(r, "alb-logs-policy", bucket_policy({**READ_ALL, "Principal": "*"}))),
    ("s3-no-public-grants", "alb-logs-policy",
     lambda r: change(r, "alb-logs-policy", bucket_policy({**READ_ALL, "Principal": {"AWS": ["*"]}}))),
    ("s3-no-public-grants", "alb-logs-policy", lambda r: change(r, "alb-logs-policy", bucket_policy(
        {**READ_ALL, "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}}))),
    ("s3-no-public-grants", "alb-logs-policy", lambda r: change(r, "alb-logs-policy", bucket_policy(
        {**READ_ALL, "Principal": "*", "Condition": {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}}))),
    ("s3-tls-only", "alb-logs", lambda r: without(r, "alb-logs-policy")),
    ("s3-versioning", "alb-logs",
     lambda r: change(r, "alb-logs-versioning", set_in("versioningConfiguration.status", "Suspended"))),
    ("ecr-immutable-scanned-images", "backend-repo", lambda r: change(r, "backend-repo", set_in("imageTagMutability", "MUTABLE"))),
    ("ecr-immutable-scanned-images", "backend-repo", lambda r: change(r, "backend-repo", drop("imageScanningConfiguration"))),
    ("required-tags", "db", lambda r: change(r, "aws", default_tags_without_owner)),
    ("iam-no-privilege-escalation", "execution-secrets", escalation("iam:PassRole")),
    ("stateful-resources-retained", "alb-logs", lambda r: change(r, "alb-logs", set_in("forceDestroy", True))),
    ("stateful-resources-retained", "backend-repo", lambda r: change(r, "backend-repo", set_in("forceDelete", True))),
    ("stateful-resources-retained", "logs-key", lambda r: change(r, "logs-key", set_in("deletionWindowInDays", 7))),
    ("stateful-resources-retained", "work-dlq", lambda r: change(r, "work-dlq", set_in("messageRetentionSeconds", 60))),
    ("data-ports-within-vpc", "data-from-app", lambda r: change(r, "data-from-app", lambda p: (
        p.pop("sourceSecurityGroupId"), p.update(cidrBlocks=["10.0.0.0/8"])))),
    ("data-ports-within-vpc", "cache-from-office", lambda r: with_resource(
        r, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "cache-from-office", {
            "securityGroupId": r.by_name("data-sg").id, "cidrIpv4": "172.16.0.0/12", "ipProtocol": "tcp",
            "fromPort": 6379, "toPort": 6379}, depends_on=("data-sg",))),
    ("data-ports-within-vpc", "app-sg", lambda r: change(r, "app-sg", lambda p: p["ingress"].append(
        {"protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": ["192.168.0.0/16"]}))),
    ("secrets-recoverable", "django-secret-key", lambda r: change(r, "django-secret-key", set_in("recoveryWindowInDays", 0))),
    ("secrets-recoverable", "django-secret-key", lambda r: change(r, "django-secret-key", set_in("recoveryWindowInDays", 7))),
    ("container-env-no-secrets", "app-task", lambda r: change(r, "app-task", edit_containers(lambda c: c.update(command=[
        "sh", "-c", "export PGPASSWORD=hunter2 && psql -h db -U app -c 'select 1'"])))),
    ("container-env-no-secrets", "app-task", lambda r: change(r, "app-task", edit_containers(lambda c: c.update(
        entryPoint=["/bin/sh", "-c", "mysql --password 'hunter2' -h db && exec gunicorn app.wsgi"])))),
    ("container-env-no-secrets", "app-task", lambda r: change(r, "app-task", env(
        "STARTUP", "PGPASSWORD=hunter2 ./migrate.sh"))),
    ("iam-no-privilege-escalation", "execution-secrets", escalation(["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"])),
    ("iam-no-privilege-escalation", "execution-secrets", escalation("iam:AttachRolePolicy", "arn:aws:iam::*:role/*")),
    ("iam-no-privilege-escalation", "execution-secrets", escalation("iam:Put*Policy")),
    ("iam-no-privilege-escalation", "task-role", lambda r: change(r, "task-role", set_in("inlinePolicies.0.policy", policy_doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::123456789012:role/*"})))),
    ("resource-policies-no-outside-access", "execution-role", trust(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"})),
    ("resource-policies-no-outside-access", "execution-role", trust(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}, "Action": "sts:AssumeRole"})),
    ("resource-policies-no-outside-access", "execution-role", trust(
        {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole",
         "Condition": {"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}}})),
    ("resource-policies-no-outside-access", "alb-logs-policy", lambda r: change(r, "alb-logs-policy", bucket_policy(
        {**READ_ALL, "Principal": {"AWS": OTHER_ACCOUNT}}))),
    ("resource-policies-no-outside-access", "logs-key", lambda r: change(r, "logs-key", set_in("policy", policy_doc(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"})))),
    ("resource-policies-no-outside-access", "extra-policy",
     resource_policy("aws:sns/topicPolicy:TopicPolicy", "alerts", EVERYONE_PUBLISH)),
    ("resource-policies-no-outside-access", "extra-policy", resource_policy(
        "aws:efs/fileSystemPolicy:FileSystemPolicy", "alerts", {"Effect": "Allow", "Principal": {"AWS": [OTHER_ACCOUNT]},
                                                                 "Action": "elasticfilesystem:ClientMount", "Resource": "*"})),
    ("resource-policies-no-outside-access", "extra-policy", resource_policy(
        "aws:secretsmanager/secretPolicy:SecretPolicy", "django-secret-key", {
            "Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "*"}}})),
    ("resource-policies-no-outside-access", "extra-policy", resource_policy(
        "aws:ecr/repositoryPolicy:RepositoryPolicy", "backend-repo", {
            "Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]})),
    ("resource-policies-no-outside-access", "extra", lambda r: with_resource(r, "aws:lambda/permission:Permission", "extra", {
        "action": "lambda:InvokeFunction", "function": "rotate", "principal": "*"})),
    ("sqs-queue-encrypted", "work-queue", lambda r: change(r, "work-queue", drop("sqsManagedSseEnabled"))),
    ("sqs-queue-encrypted", "schedule-dlq", lambda r: change(r, "schedule-dlq", drop("kmsMasterKeyId"))),
    ("sqs-queue-policy-account-only", "work-queue-policy", lambda r: change(r, "work-queue-policy", queue_policy(
        {"Effect": "Allow", "Principal": "*"}))),
    ("sqs-queue-policy-account-only", "work-queue-policy", lambda r: change(r, "work-queue-policy", queue_policy(
        {"Effect": "Allow", "Principal": {"AWS": "*"},
         "Condition": {"StringNotEquals": {"aws:PrincipalAccount": "123456789012"}}}))),
    ("sqs-queue-policy-account-only", "work-queue-policy", lambda r: change(r, "work-queue-policy", queue_policy(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}}))),
    ("sqs-queue-policy-account-only", "work-queue-policy", lambda r: change(r, "work-queue-policy", queue_policy(
        {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}}))),
    ("sqs-queue-policy-account-only", "work-queue-policy", lambda r: change(r, "work-queue-policy", queue_policy(
        {"Effect": "Allow", "Principal": "*", "Condition": {"StringEquals": {"aws:SourceAccount": "999999999999"}}}))),
    ("sqs-dead-letter-queue", "work-queue", lambda r: change(r, "work-queue", drop("redrivePolicy"))),
]


def prod_level(policy: str) -> str:
    entry = load_policy_config("prod")[policy]
    return entry if isinstance(entry, str) else entry["enforcementLevel"]


def test_reference_program_passes_every_policy(secure_run):
    result = evaluate(secure_run)
    assert [v for v in result.violations if v.policy in OUR_POLICIES] == []


@pytest.mark.parametrize("policy, resource, breaks", CASES, ids=[f"{c[0]}:{i}" for i, c in enumerate(CASES)])
def test_broken_variant_is_reported(secure_run, policy, resource, breaks):
    result = evaluate(breaks(secure_run))
    reported = result.of_policy(policy)
    assert resource in {v.resource_name for v in reported}, result.render()
    assert {v.level for v in reported} == {prod_level(policy)}
    assert all("How to fix:" in v.message for v in reported)
    assert not [v for v in result.violations if v.policy in OUR_POLICIES and v.policy != policy and v.level == "mandatory"], \
        "a single break must not trip unrelated mandatory policies"


def test_every_policy_has_a_failing_case():
    assert OUR_POLICIES - {policy for policy, _, _ in CASES} == set()


def test_private_subnet_passes_auto_public_ip_rule(secure_run):
    assert evaluate(with_subnet(secure_run, public=False)).of_policy("subnet-no-auto-public-ip") == []


def test_tags_on_the_resource_count_as_well_as_default_tags(secure_run):
    run = change(change(secure_run, "aws", default_tags_without_owner), "db", set_in("tags", {"Owner": "data-team"}))
    named = {v.resource_name for v in evaluate(run).of_policy("required-tags")}
    assert "db" not in named and "cache" in named


def test_first_preview_with_unknown_values_reports_nothing_false_and_notes_what_it_skipped(secure_preview_run):
    result = evaluate(secure_preview_run)
    assert [v for v in result.violations if v.policy in OUR_POLICIES] == []
    skipped = " ".join(result.notes)
    assert "can't run policy 'container-env-no-secrets'" in skipped  # task definition JSON is built from outputs
    assert "not checked (app-service)" in skipped  # the service's subnets come from the VPC's outputs


def test_known_mistakes_are_caught_even_when_other_values_are_unknown(secure_preview_run):
    # As a real first preview sends them: the new group's id is unknown, the literals are known.
    run = change(secure_preview_run, "lb-in-443", lambda p: p.update(fromPort=22, toPort=22, securityGroupId=UNKNOWN))
    run = change(run, "db", set_in("publiclyAccessible", True))
    result = evaluate(run)
    assert {(v.policy, v.resource_name, v.level) for v in result.mandatory} == {
        ("security-group-no-public-ingress", "lb-in-443", "mandatory"),
        ("rds-not-publicly-accessible", "db", "mandatory"),
    }


@pytest.mark.parametrize("stack", ["dev", "lean", "prod"])
def test_config_gives_every_policy_an_explicit_level(stack):
    config = load_policy_config(stack)
    pack_policies = set(policy_gate().policies)
    assert set(config) <= pack_policies, "config names a policy the pack does not have"
    assert OUR_POLICIES <= set(config)
    for name in OUR_POLICIES:
        entry = config[name]
        assert (entry if isinstance(entry, str) else entry["enforcementLevel"]) in ("mandatory", "advisory")


def test_prod_makes_safety_rules_mandatory():
    config = load_policy_config("prod")
    mandatory = {n for n in OUR_POLICIES if prod_level(n) == "mandatory"}
    assert len(mandatory) >= 12
    assert {"rds-not-publicly-accessible", "rds-managed-master-password", "security-group-no-public-ingress",
            "container-env-no-secrets", "rds-storage-encrypted", "stateful-resources-protected",
            "ecs-autoscaling-configured", "iam-no-wildcard-actions"} <= mandatory
    assert config["ecs-service-min-tasks"]["minTasks"] == 2


def test_dev_relaxation_is_applied_as_advisory(secure_run):
    reported = evaluate(change(secure_run, "db", set_in("multiAz", False)), stack="dev").of_policy("rds-multi-az")
    assert [(v.resource_name, v.level) for v in reported] == [("db", "advisory")]


def test_config_thresholds_come_from_the_file(secure_run):
    run = change(secure_run, "app-service", set_in("desiredCount", 1))
    assert evaluate(run, stack="dev").of_policy("ecs-service-min-tasks") == []  # dev: minTasks 1
    assert evaluate(run, stack="prod").of_policy("ecs-service-min-tasks") != []


def test_invalid_policy_config_is_refused_like_the_cli_does():
    with pytest.raises(PolicyConfigError, match="ecs-service-min-tasks"):
        policy_gate().reconcile({"ecs-service-min-tasks": {"enforcementLevel": "mandatory", "minTasks": 0}})
    with pytest.raises(PolicyConfigError, match="not a valid enforcement level"):
        policy_gate().reconcile({"rds-multi-az": "blocking"})
    with pytest.raises(PolicyConfigError, match="must be a string or object"):
        policy_gate().reconcile({"rds-multi-az": True})
    with pytest.raises(PolicyConfigError, match="not a valid enforcement level"):
        policy_gate().reconcile({"rds-multi-az": {"enforcementLevel": 1}})


def test_schema_defaults_are_sent_when_the_file_omits_them():
    reconciled = policy_gate().reconcile({"required-tags": "mandatory"})
    assert reconciled["required-tags"] == {"enforcementLevel": "mandatory",
                                           "properties": {"requiredTags": ["Project", "Environment", "Owner"]}}
    assert reconciled["rds-multi-az"]["enforcementLevel"] == "mandatory"  # the policy's own default


# --- variants that must stay clean (no false positives on correct resources) -------------------------
CLEAN_VARIANTS = [
    ("security-group-no-public-ingress", lambda r: with_prefix_list(r, "10.20.0.0/16", 5432)),
    ("elasticache-encrypted", memcached(transit=True)),
    ("kms-key-rotation", lambda r: change(r, "logs-key", lambda p: (p.pop("enableKeyRotation"),
                                                                    p.update(customKeyStoreId="cks-1234567890abcdef0")))),
    ("kms-key-rotation", lambda r: change(r, "logs-key", lambda p: (p.pop("enableKeyRotation"),
                                                                    p.update(customerMasterKeySpec="RSA_2048")))),
    ("container-env-no-secrets", lambda r: change(r, "app-task", env("OIDC_TOKEN_URL", "https://auth.example.com/token"))),
    ("container-env-no-secrets", lambda r: change(r, "app-task", env("AWS_SECRETSMANAGER_ENDPOINT", "https://secretsmanager.us-east-1.amazonaws.com"))),
    ("container-env-no-secrets", lambda r: change(r, "app-task", edit_containers(
        lambda c: c.update(command=["gunicorn", "--bind=0.0.0.0:8000", "--timeout=30", "app.wsgi"])))),
    ("container-env-no-secrets", lambda r: change(r, "app-task", edit_containers(lambda c: c.update(command=[
        "sh", "-c", "export PGPASSWORD=$(cat /run/secrets/db) && psql -h db", "--password=$DB_PASSWORD"])))),
    ("iam-no-wildcard-secret-reads", lambda r: change(r, "execution-secrets", set_in("policy", policy_doc(
        {"Effect": "Allow", "Action": ["secretsmanager:Get*", "kms:Decrypt"],
         "Resource": ["arn:aws:secretsmanager:us-east-1:123456789012:secret:webstack/prod/*",
                      "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"]})))),
    ("rds-managed-master-password", lambda r: change(r, "db", lambda p: (p.pop("manageMasterUserPassword"),
                                                                         p.update(snapshotIdentifier="db-snapshot-1")))),
    ("s3-no-public-grants", lambda r: change(r, "alb-logs-policy", bucket_policy(
        {**READ_ALL, "Principal": "*", "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}},
        {**READ_ALL, "Principal": {"Service": "cloudfront.amazonaws.com"},
         "Condition": {"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/E1"}}},
        {**READ_ALL, "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}}))),
    ("s3-no-public-grants", lambda r: change(r, "alb-logs", set_in("acl", "private"))),
    ("rds-managed-master-password", aurora(manageMasterUserPassword=True)),
    ("elasticache-encrypted", cluster_mode()),
    ("redis-auth-required", cluster_mode()),
    ("redis-automatic-failover", cluster_mode()),
    ("rds-storage-encrypted", aurora(manageMasterUserPassword=True)),
    ("rds-backup-retention", aurora(manageMasterUserPassword=True)),
    ("rds-deletion-protection", aurora(manageMasterUserPassword=True)),
    ("rds-final-snapshot", aurora(manageMasterUserPassword=True)),
    ("alb-listener-modern-tls", lambda r: change(r, "https", set_in("sslPolicy", "ELBSecurityPolicy-TLS-1-2-2017-01"))),
    ("alb-listener-modern-tls", lambda r: change(r, "https", set_in("sslPolicy", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"))),
    ("alb-http-redirects-to-https", lambda r: change(r, "https", drop("protocol"))),  # a certificate: HTTPS
    ("iam-no-privilege-escalation", escalation("iam:PassRole", [
        "arn:aws:iam::123456789012:role/app-task", "arn:aws:iam::123456789012:role/app-execution"],
        Condition={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}})),
    ("iam-no-privilege-escalation", escalation("sts:AssumeRole", "arn:aws:iam::123456789012:role/deployer")),
    ("secrets-recoverable", lambda r: change(r, "django-secret-key", set_in("recoveryWindowInDays", 30))),
    ("stateful-resources-retained", lambda r: change(r, "alb-logs", set_in("forceDestroy", True), protect=True)),
    ("stateful-resources-retained", lambda r: change(r, "logs-key", set_in("deletionWindowInDays", 30))),
    ("stateful-resources-retained", lambda r: change(r, "work-dlq", set_in("messageRetentionSeconds", 1209600))),
    ("data-ports-within-vpc", lambda r: change(r, "data-from-app", lambda p: (
        p.pop("sourceSecurityGroupId"), p.update(cidrBlocks=["10.0.4.0/24"])))),
    ("data-ports-within-vpc", lambda r: change(r, "app-sg", lambda p: p["ingress"].append(
        {"protocol": "tcp", "fromPort": 8000, "toPort": 8000, "cidrBlocks": ["10.0.0.0/8"]}))),
    ("container-env-no-secrets", lambda r: change(r, "app-task", edit_containers(lambda c: c.update(command=[
        "sh", "-c", "PGPASSWORD=$PGPASSWORD psql -h db && mysql --password=\"$DB_PASSWORD\" --user app"])))),
    ("container-env-no-secrets", lambda r: change(r, "app-task", env("STARTUP", "TIMEOUT=30 ./migrate.sh --workers 4"))),
    ("iam-no-privilege-escalation", escalation(["iam:GetRole", "iam:ListRoles"])),
    ("resource-policies-no-outside-access", resource_policy("aws:sns/topicPolicy:TopicPolicy", "alerts", {
        **EVERYONE_PUBLISH, "Principal": {"Service": "events.amazonaws.com"},
        "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:events:us-east-1:123456789012:rule/*"}}}, {
        **EVERYONE_PUBLISH, "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}, {
        **EVERYONE_PUBLISH, "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}})),
    ("resource-policies-no-outside-access", trust({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                                                   "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}})),
    ("resource-policies-no-outside-access", trust({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                                                   "Action": "sts:AssumeRole",
                                                   "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}})),
    ("resource-policies-no-outside-access", lambda r: change(r, "alb-logs-policy", bucket_policy(
        {**READ_ALL, "Principal": {"AWS": "arn:aws:iam::127311923021:root"}, "Action": "s3:PutObject"}))),
    ("resource-policies-no-outside-access", lambda r: with_resource(r, "aws:lambda/permission:Permission", "extra", {
        "action": "lambda:InvokeFunction", "function": "rotate", "principal": "secretsmanager.amazonaws.com",
        "sourceAccount": "123456789012"})),
    ("resource-policies-no-outside-access", lambda r: change(r, "alb-logs-policy", bucket_policy(
        {**READ_ALL, "Principal": "*"}))),  # everyone on a bucket: s3-no-public-grants' to report
    ("sqs-queue-policy-account-only", lambda r: change(r, "work-queue-policy", queue_policy(
        {"Effect": "Allow", "Principal": "*", "Condition": {"StringEquals": {"aws:PrincipalAccount": "123456789012"}}},
        {"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
         "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:123456789012:events"}}},
        {"Effect": "Deny", "Principal": "*", "Condition": {"StringNotEquals": {"aws:PrincipalAccount": "123456789012"}}},
        {"Effect": "Allow", "Principal": {"AWS": "123456789012"}}))),
    # Dead-letter queues need none of their own: a redrive target (without its allow policy too), a schedule's.
    ("sqs-dead-letter-queue", without_redrive_allow),
    ("sqs-dead-letter-queue", lambda r: change(r, "work-dlq", set_in("redriveAllowPolicy", '{"redrivePermission": "denyAll"}'))),
    # Blue/green rolls back on its deployment alarms (the circuit breaker is for rolling deployments only).
    ("ecs-deployment-circuit-breaker", lambda r: change(r, "app-service", lambda p: p.update(
        deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": "10"},
        deploymentCircuitBreaker={"enable": False, "rollback": False},
        alarms={"enable": True, "rollback": True, "alarmNames": ["app-5xx-rate", "app-unhealthy-hosts"]}))),
    # ECS Exec does not support a read-only root filesystem: the exec service's task definition may be writable.
    ("ecs-containers-read-only-root", lambda r: change(
        change(r, "app-service", set_in("enableExecuteCommand", True)), "app-task",
        edit_containers(lambda c: c.update(readonlyRootFilesystem=False)))),
    ("ecs-service-no-public-ip", schedule(assign_public_ip=False)),
    # Scoped resources; a wildcard only where a family or a cluster's tasks are meant.
    ("workload-roles-no-wildcard-resources", role_with_policy("scheduler.amazonaws.com", RUN_TASK, {
        "Effect": "Allow", "Action": ["ecs:TagResource"],
        "Resource": ["arn:aws:ecs:us-east-1:123456789012:task/app/*"]})),
    # ECS Exec's channels have no resource-level permissions: '*' is all AWS accepts for them.
    ("workload-roles-no-wildcard-resources", task_role_policy(EXEC_CHANNELS)),
    # Not a workload's role: other rules hold it.
    ("workload-roles-no-wildcard-resources", role_with_policy("lambda.amazonaws.com", {
        "Effect": "Allow", "Action": ["xray:PutTraceSegments"], "Resource": "*"})),
]


@pytest.mark.parametrize("policy, breaks", CLEAN_VARIANTS, ids=[f"{c[0]}:{i}" for i, c in enumerate(CLEAN_VARIANTS)])
def test_correct_variant_is_not_reported(secure_run, policy, breaks):
    result = evaluate(breaks(secure_run))
    assert result.of_policy(policy) == [], result.render()


def test_public_rule_next_to_an_unknown_group_reference_is_caught_in_preview(secure_preview_run):
    # app-sg's inline rule references the load balancer's group, whose id a first preview does not know.
    run = change(secure_preview_run, "app-sg", lambda p: p["ingress"].append(
        {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]}))
    assert UNKNOWN in json.dumps(run.by_name("app-sg").inputs["ingress"][0])
    reported = evaluate(run).of_policy("security-group-no-public-ingress")
    assert [(v.resource_name, v.level) for v in reported] == [("app-sg", "mandatory")]
    assert "0.0.0.0/0 is open on ports 22-22" in reported[0].message


def test_unknown_internal_flag_is_no_violation_on_the_load_balancer_group(secure_preview_run):
    run = change(secure_preview_run, "alb", set_in("internal", UNKNOWN))
    result = evaluate(run)
    assert result.of_policy("security-group-no-public-ingress") == []
    assert any("can't run policy 'security-group-no-public-ingress'" in note for note in result.notes)


def _documented_level(stack: str, name: str) -> str:
    entry = load_policy_config(stack)[name]
    if isinstance(entry, str):
        return entry
    settings = ", ".join(f"{k}={v}" for k, v in entry.items() if k != "enforcementLevel")
    return f"{entry['enforcementLevel']} ({settings})" if settings else entry["enforcementLevel"]


def test_docs_policy_table_matches_the_pack_and_the_config_files():
    section = (Path(__file__).resolve().parents[2] / "docs" / "policies.md").read_text()
    rows = {m[1]: (m[2], m[3], m[4]) for m in
            (re.match(r"\| `([a-z0-9-]+)` \| (.*?) \| (.*?) \| (.*) \|$", line) for line in section.splitlines()) if m}
    assert set(rows) == OUR_POLICIES
    for policy in ALL_POLICIES:
        assert rows[policy.name] == (_documented_level("dev", policy.name), _documented_level("prod", policy.name),
                                     policy.description), policy.name
    mandatory = sum(prod_level(name) == "mandatory" for name in OUR_POLICIES)
    assert f"({len(OUR_POLICIES)} policies, {mandatory} mandatory in prod)" in section
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert f"({len(OUR_POLICIES)} policies, {mandatory} mandatory in prod)" in readme


@pytest.mark.parametrize("name", ["app-scaling-cpu", "app-scaling", "app-service", "app-task", "app-sg", "lb-in-443",
                                  "data-from-app", "alb", "https", "http", "api-route", "db", "cache", "alb-logs-policy",
                                  "execution-secrets", "task-role", "logs-key", "app-logs", "cluster", "db-proxy",
                                  "frontend-cdn"])
def test_a_resource_whose_inputs_are_all_unknown_is_never_reported(secure_preview_run, name):
    """Unknown values (a first preview) may only skip checks, never produce a violation or crash the pack."""
    run = change(secure_preview_run, name, lambda props: props.update({key: UNKNOWN for key in props}))
    result = evaluate(run)
    assert [v for v in result.violations if v.policy in OUR_POLICIES] == [], result.render()


def test_default_certificate_and_custom_origins_are_not_s3_origins_for_the_edge_policies(secure_run):
    run = change(secure_run, "frontend-cdn", lambda p: p.update(
        aliases=[], viewerCertificate={"cloudfrontDefaultCertificate": True, "minimumProtocolVersion": "TLSv1"}))
    result = evaluate(run)
    assert result.of_policy("cloudfront-min-tls") == []
    assert result.of_policy("cloudfront-s3-origin-oac") == []
