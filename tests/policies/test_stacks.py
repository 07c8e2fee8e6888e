"""The committed stacks through the gate: clean, and each insecure variant of prod blocked by name."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from preflight.capture import PROJECT_ROOT
from preflight.policy_gate import evaluate_policies
from preflight.stack_files import load_stack_file
from tests.policies.conftest import change, drop, edit_containers, set_in, without

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"


@pytest.mark.parametrize("stack", ["dev", "lean", "prod"])
def test_committed_stacks_have_no_mandatory_violation(stack, request):
    run = request.getfixturevalue(f"{stack}_run")
    result = evaluate_policies(run, load_stack_file(stack).config)
    assert result.mandatory == [], result.render()
    assert any("awsx:ec2:Vpc" in note for note in result.notes)  # says what only a real preview checks


def public_subnets(run):
    return run.one("awsx:ec2:Vpc").outputs["publicSubnetIds"]


def without_owner_tag(props):
    props["defaultTags"] = json.dumps({"tags": {"Project": "webstack", "Environment": "prod"}})


# (what breaks, policy that must block it, resource it must name, the break)
PROD_MUTATIONS = [
    ("web ACL detached from the load balancer", "alb-waf-attached", "web-alb", lambda r: without(r, "waf-association")),
    ("public IP on the ECS service", "ecs-service-no-public-ip", "backend-service",
     lambda r: change(r, "backend-service", set_in("networkConfiguration.assignPublicIp", True))),
    ("public IP on the nightly job", "ecs-service-no-public-ip", "clearsessions-schedule",
     lambda r: change(r, "clearsessions-schedule", set_in("target.ecsParameters.networkConfiguration.assignPublicIp",
                                                          True))),
    ("scheduler role may run any task", "workload-roles-no-wildcard-resources", "clearsessions-scheduler-run",
     lambda r: change(r, "clearsessions-scheduler-run", lambda p: p.update(policy=json.dumps({
         "Version": "2012-10-17", "Statement": [
             {**statement, "Resource": "*"} if statement["Action"] == ["ecs:RunTask"] else statement
             for statement in json.loads(p["policy"])["Statement"]]})))),
    ("task role may read every object", "workload-roles-no-wildcard-resources", "backend-task-access",
     lambda r: change(r, "backend-task-access", lambda p: p.update(policy=json.dumps({
         "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]})))),
    ("service in public subnets", "ecs-service-private-subnets-only", "frontend-service",
     lambda r: change(r, "frontend-service", set_in("networkConfiguration.subnets", public_subnets(r)))),
    ("0.0.0.0/0 on 5432", "security-group-no-public-ingress", "web-in-443-ipv4",
     lambda r: change(r, "web-in-443-ipv4", lambda p: p.update(fromPort=5432, toPort=5432))),
    ("service port open to the internet", "security-group-no-public-ingress", "backend-from-alb",
     lambda r: change(r, "backend-from-alb", lambda p: (p.pop("referencedSecurityGroupId"), p.update(cidrIpv4="0.0.0.0/0")))),
    ("HTTP listener forwarding", "alb-http-redirects-to-https", "web-http-redirect",
     lambda r: change(r, "web-http-redirect", set_in("defaultActions", [{"type": "forward", "targetGroupArn": "arn:tg"}]))),
    ("TLS 1.0 policy", "alb-listener-modern-tls", "web-https",
     lambda r: change(r, "web-https", set_in("sslPolicy", "ELBSecurityPolicy-TLS-1-0-2015-04"))),
    ("log group without retention", "log-group-retention", "backend-logs",
     lambda r: change(r, "backend-logs", drop("retentionInDays"))),
    ("password in the container environment", "container-env-no-secrets", "backend-task",
     lambda r: change(r, "backend-task", edit_containers(lambda c: c.setdefault("environment", []).append(
         {"name": "DB_PASSWORD", "value": "hunter2"})), type_=TASK_DEFINITION)),
    ("privileged container", "ecs-containers-non-privileged", "frontend-task",
     lambda r: change(r, "frontend-task", edit_containers(lambda c: c.update(privileged=True)), type_=TASK_DEFINITION)),
    ("desiredCount not ignored", "ecs-autoscaling-configured", "backend-service",
     lambda r: change(r, "backend-service", ignore_changes=())),
    ("one task at rest", "ecs-service-min-tasks", "backend-scaling-target",
     lambda r: change(r, "backend-scaling-target", set_in("minCapacity", 1))),
    ("no rollback on failed deployments", "ecs-deployment-circuit-breaker", "frontend-service",
     lambda r: change(r, "frontend-service", set_in("deploymentCircuitBreaker.rollback", False))),
    ("Container Insights off", "ecs-container-insights", "app-cluster",
     lambda r: change(r, "app-cluster", set_in("settings", [{"name": "containerInsights", "value": "disabled"}]))),
    ("default security group with rules", "default-security-group-closed", "network-default-sg",
     lambda r: change(r, "network-default-sg", set_in("egress", [{"protocol": "-1", "fromPort": 0, "toPort": 0,
                                                                  "cidrBlocks": ["0.0.0.0/0"]}]))),
    ("no flow logs", "vpc-flow-logs", "network-vpc", lambda r: without(r, "network-flow-log")),
    ("ALB keeps invalid headers", "alb-drop-invalid-headers", "web-alb",
     lambda r: change(r, "web-alb", set_in("dropInvalidHeaderFields", False))),
    ("admin policy on the execution role", "iam-no-wildcard-actions", "backend-execution-managed",
     lambda r: change(r, "backend-execution-managed", set_in("policyArn", "arn:aws:iam::aws:policy/AdministratorAccess"))),
    ("no Owner tag", "required-tags", "backend-service", lambda r: change(r, "aws", without_owner_tag)),
    ("task role anyone can assume", "resource-policies-no-outside-access", "backend-task",
     lambda r: change(r, "backend-task", set_in("assumeRolePolicy", json.dumps({"Version": "2012-10-17", "Statement": [
         {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]})), type_="aws:iam/role:Role")),
    ("alert key open to every account", "resource-policies-no-outside-access", "monitoring-alerts-key",
     lambda r: change(r, "monitoring-alerts-key", lambda p: p.update(policy=json.dumps({"Statement": {
         "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}})))),
    ("PassRole on every role", "iam-no-privilege-escalation", "clearsessions-scheduler-run",
     lambda r: change(r, "clearsessions-scheduler-run", set_in("policy", json.dumps({"Version": "2012-10-17", "Statement": [
         {"Effect": "Allow", "Action": ["iam:PassRole", "ecs:RunTask"], "Resource": "*"}]})))),
    ("PostgreSQL open to 10.0.0.0/8", "data-ports-within-vpc", "database-from-backend",
     lambda r: change(r, "database-from-backend", lambda p: (p.pop("referencedSecurityGroupId"),
                                                           p.update(cidrIpv4="10.0.0.0/8")))),
    ("password in a shell command", "container-env-no-secrets", "backend-task",
     lambda r: change(r, "backend-task", edit_containers(lambda c: c.update(command=[
         "sh", "-c", "export PGPASSWORD=hunter2 && python manage.py migrate"])), type_=TASK_DEFINITION)),
    ("secret deleted without recovery", "secrets-recoverable", "cache-auth-token",
     lambda r: change(r, "cache-auth-token", set_in("recoveryWindowInDays", 0), type_="aws:secretsmanager/secret:Secret")),
    ("registry emptied on delete", "stateful-resources-retained", "backend-repo",
     lambda r: change(r, "backend-repo", set_in("forceDelete", True))),
    ("alert topic unencrypted", "sns-topic-encrypted", "monitoring-alerts",
     lambda r: change(r, "monitoring-alerts", drop("kmsMasterKeyId"), type_="aws:sns/topic:Topic")),
]


@pytest.mark.parametrize("what, policy, resource, breaks", PROD_MUTATIONS, ids=[m[0] for m in PROD_MUTATIONS])
def test_insecure_variant_of_prod_is_blocked(prod_run, what, policy, resource, breaks):
    result = evaluate_policies(breaks(prod_run), load_stack_file("prod").config)
    blocked = {(v.policy, v.resource_name) for v in result.mandatory}
    assert (policy, resource) in blocked, result.render()


@pytest.fixture(scope="module")
def program_copy(tmp_path_factory) -> Path:
    """A copy of the project (without venv, git and tests) to change and run preflight on."""
    root = tmp_path_factory.mktemp("webstack") / "webstack"
    shutil.copytree(PROJECT_ROOT, root, ignore=shutil.ignore_patterns(
        ".venv", ".git", "tests", "__pycache__", "node_modules", "docs", "benchmarks", ".github"))
    return root


def preflight(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "preflight", *args], cwd=root, capture_output=True, text=True, timeout=120)


def test_public_database_with_plaintext_password_fails_preflight_and_is_named(program_copy):
    main = program_copy / "__main__.py"
    original = main.read_text()
    main.write_text(original + '''
import pulumi_aws as _aws
_aws.rds.Instance("orders-db", engine="postgres", instance_class="db.t4g.micro", allocated_storage=20,
                  username="app", password="hunter2hunter2", publicly_accessible=True, skip_final_snapshot=True)
''')
    try:
        completed = preflight(program_copy, "prod", "--json")
        text = preflight(program_copy, "prod")
    finally:
        main.write_text(original)
    assert completed.returncode == 1, completed.stderr
    violations = json.loads(completed.stdout)["policies"]["violations"]
    blocked = {(v["policy"], v["resource_name"]) for v in violations if v["level"] == "mandatory"}
    assert {("rds-not-publicly-accessible", "orders-db"), ("rds-managed-master-password", "orders-db"),
            ("rds-storage-encrypted", "orders-db")} <= blocked
    assert text.returncode == 1
    assert "[mandatory]  webstack-guard@v0.1.0  rds-not-publicly-accessible  (aws:rds/instance:Instance: orders-db)" in text.stdout


def test_stack_file_with_a_plaintext_secret_is_refused(program_copy):
    stack_file = program_copy / "Pulumi.dev.yaml"
    original = stack_file.read_text()
    stack_file.write_text(original.replace(
        "        DJANGO_SETTINGS_MODULE: app.settings.dev",
        "        DJANGO_SETTINGS_MODULE: app.settings.dev\n        DJANGO_SECRET_KEY: not-so-secret"))
    try:
        completed = preflight(program_copy, "dev")
    finally:
        stack_file.write_text(original)
    assert completed.returncode == 2
    assert "webstack:services.backend.environment.DJANGO_SECRET_KEY" in completed.stderr
    assert "pulumi config set --secret" in completed.stderr
