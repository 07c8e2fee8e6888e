"""The data tier in the whole program: committed stacks and variants, down to the container definitions."""

from __future__ import annotations

import json

import pytest

from preflight.capture import ProgramRun
from preflight.policy_gate import evaluate_policies, load_policy_config
from preflight.stack_files import load_stack_file
from helpers.data_links import INJECTED_BY
from helpers.names import queue_url_variable
from tests.conftest import committed, container_definitions, run_stack

JWT_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/jwt-AbCdEf"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def resource(run: ProgramRun, type_: str, name: str):
    return next(r for r in run.of_type(type_) if r.name == name)


def container(run: ProgramRun, service: str) -> dict:
    return container_definitions(run, f"-{service}")[0]


def execution_secret_arns(run: ProgramRun, service: str) -> list[str]:
    policy = resource(run, "aws:iam/rolePolicy:RolePolicy", f"{service}-execution-secrets")
    statements = json.loads(policy.inputs["policy"])["Statement"]
    assert len(statements) == 1 and statements[0]["Action"] == ["secretsmanager:GetSecretValue"]
    return statements[0]["Resource"]


def test_the_names_a_store_injects_are_exactly_the_declared_ones():
    """helpers/data_links.py declares the names (the config refuses them in a service, the docs list them): the
    backend, which uses both stores, receives exactly those besides its own variables and the media bucket's."""
    def replicas(config):
        config["webstack:database"].update({"readReplicas": 1, "managedMasterPassword": False})

    run = run_stack("dev", replicas)
    backend = container(run, "backend")
    received = {item["name"] for item in backend["environment"] + backend["secrets"]}
    own = set(load_stack_file("dev").config["webstack:services"]["backend"]["environment"])
    bucket = {"MEDIA_BUCKET", "AWS_STORAGE_BUCKET_NAME", "AWS_S3_REGION_NAME"}
    queues = {queue_url_variable(queue) for queue in load_stack_file("dev").config["webstack:services"]["backend"]
              .get("produces", [])}
    assert received - own - bucket - queues == set(INJECTED_BY["database"]) | set(INJECTED_BY["cache"])


def primary_database(run):
    """The RDS instance that is no replica, or the Aurora cluster (lean): exactly one of them."""
    primaries = [r for r in run.of_type("aws:rds/instance:Instance") if "replicateSourceDb" not in r.inputs]
    primaries += run.of_type("aws:rds/cluster:Cluster")
    assert len(primaries) == 1
    return primaries[0]


def database_host(database):
    return database.outputs["endpoint" if database.type.endswith("Cluster") else "address"]


def test_one_replication_group_and_one_primary_database(any_run):
    assert len(any_run.of_type("aws:elasticache/replicationGroup:ReplicationGroup")) == 1
    assert primary_database(any_run).type == ("aws:rds/cluster:Cluster" if any_run.stack == "lean"
                                              else "aws:rds/instance:Instance")


def test_backend_gets_endpoints_as_env_and_credentials_by_arn(any_run):
    database = primary_database(any_run)
    cache_group = any_run.one("aws:elasticache/replicationGroup:ReplicationGroup")
    master_arn = database.outputs["masterUserSecrets"][0]["secretArn"]
    token_arn = resource(any_run, "aws:secretsmanager/secret:Secret", "cache-auth-token").outputs["arn"]
    token_version = resource(any_run, "aws:secretsmanager/secretVersion:SecretVersion", "cache-auth-token")

    backend = container(any_run, "backend")
    environment = {item["name"]: item["value"] for item in backend["environment"]}
    assert environment["DATABASE_HOST"] == database_host(database)
    assert (environment["DATABASE_PORT"], environment["DATABASE_NAME"]) == ("5432", "app")
    assert environment["REDIS_HOST"] == cache_group.outputs["primaryEndpointAddress"]
    assert (environment["REDIS_PORT"], environment["REDIS_TLS"]) == ("6379", "true")
    assert "DATABASE_READ_HOST" not in environment

    assert {item["name"]: item["valueFrom"] for item in backend["secrets"]} == {
        "DATABASE_USER": f"{master_arn}:username::",
        "DATABASE_PASSWORD": f"{master_arn}:password::",
        # The whole token, pinned to the version holding it (no JSON key, no stage).
        "REDIS_AUTH_TOKEN": f"{token_arn}:::{token_version.outputs['versionId']}",
    }
    assert execution_secret_arns(any_run, "backend") == sorted([master_arn, token_arn])


def test_services_without_uses_get_neither_store(any_run):
    services = {name for name, service in committed(any_run, "services").items() if not service.get("uses")}
    assert services == ({"frontend"} if any_run.stack != "lean" else set())  # lean's backend serves its frontend
    for name in services:
        definition = container(any_run, name)
        assert definition["secrets"] == []
        assert not {item["name"] for item in definition["environment"]} & {"DATABASE_HOST", "REDIS_HOST"}
        assert not [p for p in any_run.of_type("aws:iam/rolePolicy:RolePolicy") if p.name == f"{name}-execution-secrets"]


def clients_of(run: ProgramRun, store: str) -> list[str]:
    """The services and jobs a committed stack lets `uses` the store: the security groups it must admit."""
    config = {**committed(run, "services", {}), **committed(run, "jobs", {})}
    names = [f"{name}-sg" for name, entry in config.items() if store in entry.get("uses", [])]
    return sorted(resource(run, "aws:ec2/securityGroup:SecurityGroup", name).id for name in names)


def test_only_the_clients_security_groups_reach_the_stores(any_run):
    for store, port in (("cache", 6379), ("database", 5432)):
        store_sg = resource(any_run, "aws:ec2/securityGroup:SecurityGroup", f"{store}-sg").id
        rules = [r for r in any_run.of_type(INGRESS) if r.inputs["securityGroupId"] == store_sg]
        assert sorted(r.inputs["referencedSecurityGroupId"] for r in rules) == clients_of(any_run, store)
        assert {(r.inputs["fromPort"], r.inputs["toPort"]) for r in rules} == {(port, port)}
    for rule in any_run.of_type(INGRESS):
        if rule.inputs.get("fromPort") in (5432, 6379):
            assert "cidrIpv4" not in rule.inputs and "cidrIpv6" not in rule.inputs


def test_stores_live_in_the_isolated_subnets(any_run):
    isolated = any_run.one("awsx:ec2:Vpc").outputs["isolatedSubnetIds"]
    assert any_run.one("aws:rds/subnetGroup:SubnetGroup").inputs["subnetIds"] == isolated
    assert any_run.one("aws:elasticache/subnetGroup:SubnetGroup").inputs["subnetIds"] == isolated


def test_dev_and_prod_settings(dev_run, prod_run):
    dev_db, prod_db = dev_run.one("aws:rds/instance:Instance"), prod_run.one("aws:rds/instance:Instance")
    assert (dev_db.inputs["instanceClass"], dev_db.inputs["multiAz"], dev_db.protect) == ("db.t4g.micro", False, False)
    assert (prod_db.inputs["instanceClass"], prod_db.inputs["multiAz"], prod_db.protect) == ("db.t4g.medium", True, True)
    assert (prod_db.inputs["deletionProtection"], prod_db.inputs["skipFinalSnapshot"]) == (True, False)
    assert prod_db.inputs["performanceInsightsEnabled"] is True
    assert prod_db.inputs["backupRetentionPeriod"] == 14

    dev_cache = dev_run.one("aws:elasticache/replicationGroup:ReplicationGroup").inputs
    prod_cache = prod_run.one("aws:elasticache/replicationGroup:ReplicationGroup").inputs
    assert (dev_cache["nodeType"], dev_cache["numCacheClusters"]) == ("cache.t4g.micro", 1)
    assert (prod_cache["numCacheClusters"], prod_cache["automaticFailoverEnabled"], prod_cache["multiAzEnabled"]) == \
        (2, True, True)
    assert prod_cache["snapshotRetentionLimit"] >= 1 and prod_cache["applyImmediately"] is False


def test_stack_outputs_name_the_secret_never_the_password(any_run):
    outputs = any_run.outputs
    database = primary_database(any_run)
    assert outputs["databaseSecretArn"] == database.outputs["masterUserSecrets"][0]["secretArn"]
    assert outputs["databaseHost"] == database_host(database)
    # The cache's AUTH token, and with a static frontend the origin header's secret: never in an output.
    generated = [p.outputs["result"] for p in any_run.of_type("random:index/randomPassword:RandomPassword")]
    assert generated and not any(value in json.dumps(outputs) for value in generated)


def scale_up(config):
    # Replicas need a program-generated master password: RDS makes no replica of an instance whose password it manages.
    config["webstack:database"].update({"proxy": {"enabled": True}, "readReplicas": 1, "managedMasterPassword": False})


@pytest.fixture(scope="module")
def scaled_prod_run() -> ProgramRun:
    return run_stack("prod", scale_up)


def test_proxy_and_replica_variant_points_the_backend_at_them(scaled_prod_run):
    run = scaled_prod_run
    proxy = run.one("aws:rds/proxy:Proxy")
    replica = next(r for r in run.of_type("aws:rds/instance:Instance") if "replicateSourceDb" in r.inputs)
    environment = {item["name"]: item["value"] for item in container(run, "backend")["environment"]}
    assert environment["DATABASE_HOST"] == proxy.outputs["endpoint"]
    assert environment["DATABASE_READ_HOST"] == replica.outputs["address"]
    assert run.outputs["databaseHost"] == proxy.outputs["endpoint"]
    proxy_sg = resource(run, "aws:ec2/securityGroup:SecurityGroup", "database-proxy-sg").id
    assert sorted(r.inputs["referencedSecurityGroupId"] for r in run.of_type(INGRESS)
                  if r.inputs["securityGroupId"] == proxy_sg) == clients_of(run, "database")
    # In prod the replica is protected like the primary (stateful-resources-protected).
    assert replica.protect is True


def test_generated_master_secret_reaches_services_and_proxy(scaled_prod_run):
    run = scaled_prod_run
    primary = next(r for r in run.of_type("aws:rds/instance:Instance") if "replicateSourceDb" not in r.inputs)
    generated = resource(run, "random:index/randomPassword:RandomPassword", "database-master-password")
    assert "manageMasterUserPassword" not in primary.inputs
    assert primary.inputs["password"] == generated.outputs["result"]
    secret = resource(run, "aws:secretsmanager/secret:Secret", "database-master-password")
    assert (secret.inputs["namePrefix"], secret.inputs["recoveryWindowInDays"]) == ("webstack/prod/database-master-", 30)
    version = resource(run, "aws:secretsmanager/secretVersion:SecretVersion", "database-master-password")
    assert sorted(json.loads(version.inputs["secretString"])) == ["dbname", "engine", "password", "port", "username"]
    arn = secret.outputs["arn"]
    token_arn = resource(run, "aws:secretsmanager/secret:Secret", "cache-auth-token").outputs["arn"]

    backend = container(run, "backend")
    secrets = {item["name"]: item["valueFrom"] for item in backend["secrets"]}
    pinned = version.outputs["versionId"]
    assert (secrets["DATABASE_USER"], secrets["DATABASE_PASSWORD"]) == \
        (f"{arn}:username::{pinned}", f"{arn}:password::{pinned}")
    assert execution_secret_arns(run, "backend") == sorted([arn, token_arn])
    # Tasks read the secret at start: the task definition waits for its value.
    task = next(t for t in run.of_type("aws:ecs/taskDefinition:TaskDefinition") if t.name == "backend-task")
    assert version.urn in task.dependencies
    assert run.outputs["databaseSecretArn"] == arn
    assert generated.outputs["result"] not in json.dumps(run.outputs)

    proxy = run.one("aws:rds/proxy:Proxy")
    assert [auth["secretArn"] for auth in proxy.inputs["auths"]] == [arn]
    proxy_policy = json.loads(resource(run, "aws:iam/rolePolicy:RolePolicy", "database-proxy-secret").inputs["policy"])
    assert [(s["Action"], s["Resource"]) for s in proxy_policy["Statement"]] == [(["secretsmanager:GetSecretValue"], [arn])]


def test_generated_master_password_is_reported_by_the_guardrail_in_prod(scaled_prod_run):
    stack_config = load_stack_file("prod").config
    result = evaluate_policies(scaled_prod_run, stack_config)
    assert [(v.policy, v.resource_name) for v in result.mandatory] == \
        [("rds-managed-master-password", "database-postgres")], result.render()
    assert "The database is given a master password (password)" in result.mandatory[0].message

    # Accepting the trade-off for this stack: that one policy advisory, everything else as committed.
    accepted = load_policy_config("prod")
    assert accepted["rds-managed-master-password"] == "mandatory"
    accepted["rds-managed-master-password"] = "advisory"
    result = evaluate_policies(scaled_prod_run, stack_config, policy_config=accepted)
    assert result.mandatory == [], result.render()
    assert [(v.level, v.resource_name) for v in result.of_policy("rds-managed-master-password")] == \
        [("advisory", "database-postgres")]


def test_app_secrets_from_arn_and_from_pulumi_secret_config():
    def add_secrets(config):
        config["webstack:appSecrets"] = {"djangoSecretKey": "s3cr3t-from-pulumi-config", "unused": "never-stored"}
        config["webstack:services"]["backend"]["secrets"] = {
            "DJANGO_SECRET_KEY": {"fromConfig": "djangoSecretKey"},
            "JWT_SECRET": {"secretsManagerArn": f"{JWT_ARN}:jwt::"},
        }

    run = run_stack("dev", add_secrets, secret_keys=["webstack:appSecrets"])
    stored = resource(run, "aws:secretsmanager/secret:Secret", "app-secrets-djangoSecretKey")
    version = resource(run, "aws:secretsmanager/secretVersion:SecretVersion", "app-secrets-djangoSecretKey")
    assert version.inputs["secretString"] == "s3cr3t-from-pulumi-config"
    assert not [s for s in run.of_type("aws:secretsmanager/secret:Secret") if "unused" in s.name]

    backend = container(run, "backend")
    secrets = {item["name"]: item["valueFrom"] for item in backend["secrets"]}
    assert secrets["DJANGO_SECRET_KEY"] == f"{stored.outputs['arn']}:::{version.outputs['versionId']}"
    assert secrets["JWT_SECRET"] == f"{JWT_ARN}:jwt::"
    assert "s3cr3t-from-pulumi-config" not in json.dumps(backend)
    master_arn = run.one("aws:rds/instance:Instance").outputs["masterUserSecrets"][0]["secretArn"]
    token_arn = resource(run, "aws:secretsmanager/secret:Secret", "cache-auth-token").outputs["arn"]
    # Exactly the referenced secrets, by full ARN (the JSON-key selector stripped), no wildcard.
    assert execution_secret_arns(run, "backend") == sorted([master_arn, token_arn, stored.outputs["arn"], JWT_ARN])


def test_cache_auth_token_from_pulumi_secret_config():
    def token_from_config(config):
        config["webstack:appSecrets"] = {"redisToken": "Token-From-Config-0123456789"}
        config["webstack:cache"]["authTokenFromConfig"] = "redisToken"

    run = run_stack("dev", token_from_config, secret_keys=["webstack:appSecrets"])
    assert run.of_type("random:index/randomPassword:RandomPassword") == []
    assert run.one("aws:elasticache/replicationGroup:ReplicationGroup").inputs["authToken"] == \
        "Token-From-Config-0123456789"


@pytest.mark.parametrize("token", [
    "short", "has space in the token!", "has/slash/in/the/token",
    # Printable, but outside the punctuation CreateReplicationGroup permits (! & # $ ^ < > -).
    "percent%sign%in%the%token", "a-token-with-a-dot.0123", "a_token_with_underscore_0123", "a+token+with+plus+0123",
])
def test_invalid_auth_token_from_config_is_refused_without_echo(token):
    def token_from_config(config):
        config["webstack:appSecrets"] = {"redisToken": token}
        config["webstack:cache"]["authTokenFromConfig"] = "redisToken"

    with pytest.raises(Exception) as caught:
        run_stack("dev", token_from_config, secret_keys=["webstack:appSecrets"])
    assert ('webstack:cache.authTokenFromConfig = "redisToken": webstack:appSecrets.redisToken is not a valid AUTH '
            "token (ElastiCache takes 16-128 letters, digits or the characters ! & # $ ^ < > -)") in str(caught.value)
    assert token not in str(caught.value)


def test_auth_token_with_every_permitted_character_is_accepted():
    token = "Aa0!&#$^<>-Zz9" * 2

    def token_from_config(config):
        config["webstack:appSecrets"] = {"redisToken": token}
        config["webstack:cache"]["authTokenFromConfig"] = "redisToken"

    run = run_stack("dev", token_from_config, secret_keys=["webstack:appSecrets"])
    assert run.one("aws:elasticache/replicationGroup:ReplicationGroup").inputs["authToken"] == token


def test_without_data_config_nothing_is_created():
    def no_data(config):
        del config["webstack:cache"], config["webstack:database"]
        for service in config["webstack:services"].values():
            service.pop("uses", None)
        config.pop("webstack:jobs", None)

    run = run_stack("dev", no_data)
    assert run.of_type("aws:rds/instance:Instance") == []
    assert run.of_type("aws:elasticache/replicationGroup:ReplicationGroup") == []
    assert container(run, "backend")["secrets"] == []
    assert "databaseHost" not in run.outputs


def test_tasks_wait_for_the_cache_token_to_be_stored(dev_run):
    """ECS reads REDIS_AUTH_TOKEN when a task starts: the task definition must come after the secret's value."""
    version = next(r for r in dev_run.of_type("aws:secretsmanager/secretVersion:SecretVersion")
                   if r.name == "cache-auth-token")
    backend_task = next(r for r in dev_run.of_type("aws:ecs/taskDefinition:TaskDefinition") if r.name == "backend-task")
    assert version.urn in backend_task.dependencies
