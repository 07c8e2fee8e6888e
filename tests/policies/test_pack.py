"""Every policy through the real analyzer: the secure reference program passes, each broken variant fails.

Cases break one thing in the captured reference program and expect the named policy to report a
violation on the named resource, at the level `policies/config/prod.json` gives it.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest

from preflight.capture import UNKNOWN, CapturedResource, ProgramRun
from preflight.policy_gate import PolicyConfigError, load_policy_config, policy_gate
from tests.policies.conftest import change, drop, edit_containers, evaluate, set_in, without

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "policies"))
from webstack_guard import ALL_POLICIES  # noqa: E402

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
    return change(run, rule, set_in("securityGroupId", target.id), dependencies=(target.urn,))


def attach_rule_to_http_listener(run: ProgramRun) -> ProgramRun:
    http = run.by_name("http")
    return change(run, "api-route", set_in("listenerArn", http.outputs["arn"]), dependencies=(http.urn,))


def with_subnet(run: ProgramRun, public: bool) -> ProgramRun:
    provider = run.by_name("aws")
    subnet = CapturedResource(urn="urn:pulumi:prod::webstack::aws:ec2/subnet:Subnet::extra", type="aws:ec2/subnet:Subnet",
                              name="extra", parent="", custom=True, remote=False, provider=f"{provider.urn}::{provider.id}",
                              inputs={"vpcId": "vpc-1", "cidrBlock": "10.0.200.0/24", "mapPublicIpOnLaunch": public})
    return ProgramRun(stack=run.stack, resources=[*run.resources, subnet], outputs=run.outputs)


def default_tags_without_owner(props):
    props["defaultTags"] = json.dumps({"tags": {"Project": "webstack", "Environment": "prod"}})


# (policy, resource it must name, how to break the reference program)
CASES = [
    ("ecs-service-no-public-ip", "app-service", lambda r: change(r, "app-service", set_in("networkConfiguration.assignPublicIp", True))),
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
    ("default-security-group-closed", "default-sg", lambda r: change(r, "default-sg", set_in("ingress", [
        {"protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}]))),
    ("subnet-no-auto-public-ip", "extra", lambda r: with_subnet(r, public=True)),
    ("container-env-no-secrets", "app-task", lambda r: change(r, "app-task", env("DB_PASSWORD", "hunter2"))),
    ("container-env-no-secrets", "app-task", lambda r: change(r, "app-task", env("stripeApiKey", "k-123"))),
    ("container-env-no-secrets", "app-task", lambda r: change(r, "app-task", env("DATABASE_URL", "postgres://app:s3cr3t@db:5432/app"))),
    ("container-env-no-secrets", "app-task", lambda r: change(r, "app-task", env("UPLOAD_CONFIG", "AKIAIOSFODNN7EXAMPLE"))),
    ("container-env-no-secrets", "app-task", lambda r: change(r, "app-task", env("TLS", "-----BEGIN RSA PRIVATE KEY-----\nMII"))),
    ("container-secrets-from-secret-stores", "app-task", lambda r: change(r, "app-task", edit_containers(
        lambda c: c["secrets"].append({"name": "API_KEY", "valueFrom": "arn:aws:s3:::bucket/key.txt"})))),
    ("rds-managed-master-password", "db", lambda r: change(r, "db", lambda p: (
        p.pop("manageMasterUserPassword"), p.update(password="hunter2hunter2")))),
    ("rds-managed-master-password", "db", lambda r: change(r, "db", set_in("manageMasterUserPassword", False))),
    ("redis-auth-required", "cache", lambda r: change(r, "cache", drop("userGroupIds"))),
    ("secrets-rotated", "django-secret-key", lambda r: without(r, "django-secret-key-rotation")),
    ("rds-storage-encrypted", "db", lambda r: change(r, "db", set_in("storageEncrypted", False))),
    ("elasticache-encrypted", "cache", lambda r: change(r, "cache", set_in("atRestEncryptionEnabled", False))),
    ("elasticache-encrypted", "cache", lambda r: change(r, "cache", set_in("transitEncryptionEnabled", False))),
    ("elasticache-encrypted", "cache", lambda r: change(r, "cache", set_in("transitEncryptionMode", "preferred"))),
    ("alb-listener-modern-tls", "https", lambda r: change(r, "https", set_in("sslPolicy", "ELBSecurityPolicy-2016-08"))),
    ("alb-listener-modern-tls", "https", lambda r: change(r, "https", set_in("sslPolicy", "ELBSecurityPolicy-TLS13-1-1-2021-06"))),
    ("alb-listener-modern-tls", "https", lambda r: change(r, "https", drop("sslPolicy"))),
    ("alb-http-redirects-to-https", "http", lambda r: change(r, "http", set_in("defaultActions", [
        {"type": "forward", "targetGroupArn": r.by_name("app-tg").outputs["arn"]}]))),
    ("alb-http-redirects-to-https", "api-route", attach_rule_to_http_listener),
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
    ("s3-tls-only", "alb-logs", lambda r: without(r, "alb-logs-policy")),
    ("s3-versioning", "alb-logs",
     lambda r: change(r, "alb-logs-versioning", set_in("versioningConfiguration.status", "Suspended"))),
    ("ecr-immutable-scanned-images", "backend-repo", lambda r: change(r, "backend-repo", set_in("imageTagMutability", "MUTABLE"))),
    ("ecr-immutable-scanned-images", "backend-repo", lambda r: change(r, "backend-repo", drop("imageScanningConfiguration"))),
    ("required-tags", "db", lambda r: change(r, "aws", default_tags_without_owner)),
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


@pytest.mark.parametrize("stack", ["dev", "prod"])
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


def test_schema_defaults_are_sent_when_the_file_omits_them():
    reconciled = policy_gate().reconcile({"required-tags": "mandatory"})
    assert reconciled["required-tags"] == {"enforcementLevel": "mandatory",
                                           "properties": {"requiredTags": ["Project", "Environment", "Owner"]}}
    assert reconciled["rds-multi-az"]["enforcementLevel"] == "mandatory"  # the policy's own default
