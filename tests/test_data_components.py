"""Cache, Database and AppSecrets alone under mocks: what each declares, with which settings."""

from __future__ import annotations

import json
import string

import pulumi
import pulumi_aws as aws
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc

from components.app_secrets import AppSecrets, AppSecretsArgs
from components.cache import Cache, CacheArgs
from components.database import Database, DatabaseArgs
from preflight.capture import ProgramRun, run_in_mocks
from stackconfig.data import CacheConfig, DatabaseConfig

SUBNETS = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
CLIENT_SG = "sg-0123456789abcdef0"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


def run_cache(production: bool = False, **settings) -> tuple[ProgramRun, dict]:
    built = {}

    def build():
        cache = Cache("cache", CacheArgs(
            settings=CacheConfig(**settings).resolved(production), vpc_id="vpc-0123", subnet_ids=SUBNETS,
        ))
        cache.admit("backend", CLIENT_SG)
        built["cache"] = cache

    return run_in_mocks(build), built


def run_database(production: bool = False, **settings) -> tuple[ProgramRun, dict]:
    built = {}

    def build():
        database = Database("database", DatabaseArgs(
            settings=DatabaseConfig(**settings).resolved(production), region="us-east-1",
            vpc_id="vpc-0123", subnet_ids=SUBNETS, log_retention_days=30,
        ))
        database.admit("backend", CLIENT_SG)
        built["database"] = database
        pulumi.export("environment", database.client_environment)
        pulumi.export("secrets", database.client_secrets)

    return run_in_mocks(build, stack="test"), built


def parented(run: ProgramRun, component_type: str) -> None:
    component = run.one(component_type)
    for resource in run.resources:
        if resource is not component and resource.custom:
            assert resource.parent == component.urn, resource.urn


def no_cidr_rules(run: ProgramRun) -> None:
    for rule in run.of_type(INGRESS) + run.of_type(EGRESS):
        assert "cidrIpv4" not in rule.inputs and "cidrIpv6" not in rule.inputs, rule.name
        assert rule.inputs["referencedSecurityGroupId"]
    for group in run.of_type("aws:ec2/securityGroup:SecurityGroup"):
        assert not group.inputs.get("ingress") and not group.inputs.get("egress"), group.name


# --- cache ---------------------------------------------------------------------------------------

def test_dev_cache_is_one_encrypted_node_with_a_generated_token():
    run, built = run_cache()
    parented(run, "webstack:cache:Cache")
    group = run.one("aws:elasticache/replicationGroup:ReplicationGroup")
    inputs = group.inputs
    assert inputs["replicationGroupId"] == "webstack-test-cache"
    assert (inputs["engine"], inputs["engineVersion"], inputs["nodeType"]) == ("redis", "7.1", "cache.t4g.micro")
    assert inputs["numCacheClusters"] == 1
    assert inputs["atRestEncryptionEnabled"] is True
    assert inputs["transitEncryptionEnabled"] is True
    assert inputs["transitEncryptionMode"] == "required"
    assert (inputs["automaticFailoverEnabled"], inputs["multiAzEnabled"]) == (False, False)
    # No snapshots kept, but the window is ours (validated against the maintenance window), not AWS's pick.
    assert (inputs["snapshotRetentionLimit"], inputs["snapshotWindow"]) == (0, "03:00-04:00")
    assert inputs["maintenanceWindow"] == "sun:05:00-sun:06:00"
    assert inputs["applyImmediately"] is True

    token = run.one("random:index/randomPassword:RandomPassword")
    assert (token.inputs["length"], token.inputs["special"]) == (64, False)
    assert inputs["authToken"] == token.outputs["result"]
    version = run.one("aws:secretsmanager/secretVersion:SecretVersion")
    secret = run.one("aws:secretsmanager/secret:Secret")
    assert version.inputs["secretString"] == token.outputs["result"]
    assert version.inputs["secretId"] == secret.id

    subnet_group = run.one("aws:elasticache/subnetGroup:SubnetGroup")
    assert subnet_group.inputs["subnetIds"] == SUBNETS
    assert inputs["subnetGroupName"] == subnet_group.outputs["name"]
    params = run.one("aws:elasticache/parameterGroup:ParameterGroup")
    assert params.inputs["family"] == "redis7"
    assert params.inputs["parameters"] == [{"name": "maxmemory-policy", "value": "allkeys-lru"}]
    assert inputs["parameterGroupName"] == params.outputs["name"]

    security_group = run.one("aws:ec2/securityGroup:SecurityGroup")
    assert inputs["securityGroupIds"] == [security_group.id]
    rule = run.one(INGRESS)
    assert (rule.inputs["securityGroupId"], rule.inputs["referencedSecurityGroupId"]) == (security_group.id, CLIENT_SG)
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 6379, 6379)
    no_cidr_rules(run)

    cache = built["cache"]
    assert cache.member_cluster_ids == ["webstack-test-cache-001"]
    assert (cache.node_type, cache.port) == ("cache.t4g.micro", 6379)


def test_prod_cache_fails_over_across_azs_and_keeps_snapshots():
    run, built = run_cache(production=True, engine="valkey", node_type="cache.t4g.small", replicas=1)
    inputs = run.one("aws:elasticache/replicationGroup:ReplicationGroup").inputs
    assert (inputs["engine"], inputs["engineVersion"]) == ("valkey", "8.0")
    assert inputs["numCacheClusters"] == 2
    assert (inputs["automaticFailoverEnabled"], inputs["multiAzEnabled"]) == (True, True)
    assert (inputs["snapshotRetentionLimit"], inputs["snapshotWindow"]) == (7, "03:00-04:00")
    assert inputs["applyImmediately"] is False
    assert run.one("aws:elasticache/parameterGroup:ParameterGroup").inputs["family"] == "valkey8"
    assert built["cache"].member_cluster_ids == ["webstack-test-cache-001", "webstack-test-cache-002"]


def test_cache_token_from_config_is_used_and_nothing_is_generated():
    def build():
        Cache("cache", CacheArgs(
            settings=CacheConfig().resolved(False), vpc_id="vpc-0123", subnet_ids=SUBNETS,
            auth_token=pulumi.Output.secret("a-token-from-pulumi-config-0123"),
        ))

    run = run_in_mocks(build)
    assert run.of_type("random:index/randomPassword:RandomPassword") == []
    assert run.one("aws:elasticache/replicationGroup:ReplicationGroup").inputs["authToken"] == \
        "a-token-from-pulumi-config-0123"
    assert run.one("aws:secretsmanager/secretVersion:SecretVersion").inputs["secretString"] == \
        "a-token-from-pulumi-config-0123"


# --- database ------------------------------------------------------------------------------------

def test_dev_database_is_private_encrypted_and_managed():
    run, built = run_database()
    parented(run, "webstack:database:Database")
    instance = run.one("aws:rds/instance:Instance")
    inputs = instance.inputs
    assert inputs["identifier"] == "webstack-test-database"
    assert (inputs["engine"], inputs["engineVersion"]) == ("postgres", "16")
    # Major upgrades are permitted (they happen only when engineVersion changes); see test_change_rehearsal.py.
    assert inputs["autoMinorVersionUpgrade"] is True and inputs["allowMajorVersionUpgrade"] is True
    assert inputs["manageMasterUserPassword"] is True
    assert "password" not in inputs and "passwordWo" not in inputs
    assert inputs["storageEncrypted"] is True
    assert (inputs["storageType"], inputs["allocatedStorage"], inputs["maxAllocatedStorage"]) == ("gp3", 20, 100)
    assert inputs["publiclyAccessible"] is False
    assert inputs["backupRetentionPeriod"] == 7
    assert inputs["copyTagsToSnapshot"] is True
    assert inputs["iamDatabaseAuthenticationEnabled"] is True
    assert inputs["enabledCloudwatchLogsExports"] == ["postgresql", "upgrade"]
    assert (inputs["multiAz"], inputs["deletionProtection"], inputs["skipFinalSnapshot"]) == (False, False, True)
    assert "finalSnapshotIdentifier" not in inputs
    assert run.of_type("random:index/randomId:RandomId") == []
    assert inputs["performanceInsightsEnabled"] is False
    assert inputs["monitoringInterval"] == 0
    assert run.of_type("aws:iam/role:Role") == []
    assert instance.protect is False

    subnet_group = run.one("aws:rds/subnetGroup:SubnetGroup")
    assert subnet_group.inputs["subnetIds"] == SUBNETS
    assert inputs["dbSubnetGroupName"] == subnet_group.outputs["name"]
    params = run.one("aws:rds/parameterGroup:ParameterGroup")
    assert params.inputs["family"] == "postgres16"
    assert inputs["parameterGroupName"] == params.outputs["name"]
    by_name = {p["name"]: (p["value"], p["applyMethod"]) for p in params.inputs["parameters"]}
    assert by_name["max_connections"] == ("100", "pending-reboot")  # db.t4g.micro: 1 GiB
    assert by_name["shared_buffers"] == ("32768", "pending-reboot")  # 256 MiB in 8 kB pages
    assert by_name["rds.force_ssl"] == ("1", "immediate")
    assert by_name["log_min_duration_statement"] == ("500", "immediate")

    # The exported log groups exist first, with bounded retention.
    log_groups = {g.inputs["name"]: g for g in run.of_type("aws:cloudwatch/logGroup:LogGroup")}
    assert set(log_groups) == {"/aws/rds/instance/webstack-test-database/postgresql",
                               "/aws/rds/instance/webstack-test-database/upgrade"}
    assert all(g.inputs["retentionInDays"] == 30 for g in log_groups.values())
    assert {g.urn for g in log_groups.values()} <= set(instance.dependencies)

    security_group = run.one("aws:ec2/securityGroup:SecurityGroup")
    assert inputs["vpcSecurityGroupIds"] == [security_group.id]
    rule = run.one(INGRESS)
    assert (rule.inputs["referencedSecurityGroupId"], rule.inputs["fromPort"], rule.inputs["toPort"]) == \
        (CLIENT_SG, 5432, 5432)
    no_cidr_rules(run)

    secret_arn = instance.outputs["masterUserSecrets"][0]["secretArn"]
    assert run.outputs["secrets"] == {"DATABASE_USER": f"{secret_arn}:username::",
                                      "DATABASE_PASSWORD": f"{secret_arn}:password::"}
    assert run.outputs["environment"] == {
        "DATABASE_HOST": instance.outputs["address"], "DATABASE_PORT": "5432", "DATABASE_NAME": "app",
    }
    database = built["database"]
    assert (database.instance_identifier, database.instance_class, database.allocated_storage) == \
        ("webstack-test-database", "db.t4g.micro", 20)


def test_prod_database_is_multi_az_protected_and_snapshotted():
    run, _ = run_database(production=True, instance_class="db.t4g.medium", allocated_storage=50,
                          max_allocated_storage=200)
    instance = run.one("aws:rds/instance:Instance")
    inputs = instance.inputs
    assert instance.protect is True
    assert (inputs["multiAz"], inputs["deletionProtection"], inputs["skipFinalSnapshot"]) == (True, True, False)
    # Unique per stack lifetime: a re-created stack's next deletion must not collide with this snapshot.
    suffix = run.one("random:index/randomId:RandomId")
    assert suffix.inputs["byteLength"] == 4
    assert inputs["finalSnapshotIdentifier"] == f"webstack-test-database-final-{suffix.outputs['hex']}"
    assert len(suffix.outputs["hex"]) == 8
    assert inputs["deleteAutomatedBackups"] is False
    assert (inputs["performanceInsightsEnabled"], inputs["performanceInsightsRetentionPeriod"]) == (True, 7)
    assert inputs["applyImmediately"] is False
    assert inputs["monitoringInterval"] == 60
    role = run.one("aws:iam/role:Role")
    assert inputs["monitoringRoleArn"] == role.outputs["arn"]
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == \
        {"Service": "monitoring.rds.amazonaws.com"}
    attachment = run.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    # RDS checks the role's permissions at creation: the policy is attached before the instance exists.
    assert attachment.urn in instance.dependencies
    by_name = {p["name"]: p["value"] for p in run.one("aws:rds/parameterGroup:ParameterGroup").inputs["parameters"]}
    assert by_name["max_connections"] == "400"


def test_proxy_fronts_the_primary_with_tls_and_its_own_role():
    run, built = run_database(proxy={"enabled": True})
    instance = run.one("aws:rds/instance:Instance")
    secret = instance.outputs["masterUserSecrets"][0]
    proxy = run.one("aws:rds/proxy:Proxy")
    assert (proxy.inputs["engineFamily"], proxy.inputs["requireTls"]) == ("POSTGRESQL", True)
    assert proxy.inputs["auths"] == [{
        "authScheme": "SECRETS", "secretArn": secret["secretArn"], "iamAuth": "DISABLED",
        "clientPasswordAuthType": "POSTGRES_SCRAM_SHA_256", "description": "RDS-managed master user secret",
    }]
    assert proxy.inputs["vpcSubnetIds"] == SUBNETS
    # The proxy starts reading the secret at once: its role's policy exists first.
    assert run.one("aws:iam/rolePolicy:RolePolicy").urn in proxy.dependencies

    role = next(r for r in run.of_type("aws:iam/role:Role") if r.name == "database-proxy-role")
    assert proxy.inputs["roleArn"] == role.outputs["arn"]
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "rds.amazonaws.com"}
    policy = json.loads(run.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    read, decrypt = policy["Statement"]
    assert (read["Action"], read["Resource"]) == (["secretsmanager:GetSecretValue"], [secret["secretArn"]])
    assert (decrypt["Action"], decrypt["Resource"]) == (["kms:Decrypt"], [secret["kmsKeyId"]])
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}}

    target_group = run.one("aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup")
    assert target_group.inputs["dbProxyName"] == proxy.outputs["name"]
    assert target_group.inputs["connectionPoolConfig"]["maxConnectionsPercent"] == 90
    target = run.one("aws:rds/proxyTarget:ProxyTarget")
    assert (target.inputs["dbInstanceIdentifier"], target.inputs["targetGroupName"]) == \
        ("webstack-test-database", "default")

    # The database admits the proxy and the client; the proxy admits the client and only reaches the database.
    groups = {g.name: g.id for g in run.of_type("aws:ec2/securityGroup:SecurityGroup")}
    ingress = {(r.inputs["securityGroupId"], r.inputs["referencedSecurityGroupId"]) for r in run.of_type(INGRESS)}
    assert ingress == {(groups["database-sg"], groups["database-proxy-sg"]), (groups["database-sg"], CLIENT_SG),
                       (groups["database-proxy-sg"], CLIENT_SG)}
    egress = run.one(EGRESS)
    assert (egress.inputs["securityGroupId"], egress.inputs["referencedSecurityGroupId"], egress.inputs["fromPort"]) \
        == (groups["database-proxy-sg"], groups["database-sg"], 5432)
    no_cidr_rules(run)
    assert run.outputs["environment"]["DATABASE_HOST"] == proxy.outputs["endpoint"]


def test_read_replicas_follow_the_primary_encrypted_and_private():
    # RDS makes no replica of an instance whose password it manages: replicas need managedMasterPassword false.
    run, built = run_database(read_replicas=2, replica_instance_class="db.t4g.small", managed_master_password=False)
    instances = {r.inputs["identifier"]: r for r in run.of_type("aws:rds/instance:Instance")}
    assert set(instances) == {"webstack-test-database", "webstack-test-database-replica-1",
                              "webstack-test-database-replica-2"}
    for identifier in ("webstack-test-database-replica-1", "webstack-test-database-replica-2"):
        replica = instances[identifier].inputs
        assert replica["replicateSourceDb"] == "webstack-test-database"
        assert replica["instanceClass"] == "db.t4g.small"
        assert (replica["storageEncrypted"], replica["publiclyAccessible"]) == (True, False)
        # Credentials and database come from the source: CreateDBInstanceReadReplica takes none of these.
        assert not {"manageMasterUserPassword", "username", "password", "dbName"} & set(replica)
        assert replica["vpcSecurityGroupIds"] == instances["webstack-test-database"].inputs["vpcSecurityGroupIds"]
    replica_params = next(p for p in run.of_type("aws:rds/parameterGroup:ParameterGroup")
                          if p.name == "database-replica-params")
    assert {p["name"]: p["value"] for p in replica_params.inputs["parameters"]}["max_connections"] == "200"
    assert len(run.of_type("aws:cloudwatch/logGroup:LogGroup")) == 6
    addresses = [instances[f"webstack-test-database-replica-{i}"].outputs["address"] for i in (1, 2)]
    assert run.outputs["environment"]["DATABASE_READ_HOST"] == addresses[0]
    assert run.outputs["environment"]["DATABASE_READ_HOSTS"] == ",".join(addresses)
    assert built["database"].replica_identifiers == ["webstack-test-database-replica-1",
                                                     "webstack-test-database-replica-2"]


def raw_registrations(monkeypatch) -> dict[str, dict]:
    """Each registration's inputs as sent to the engine, secrets still wrapped (CapturedResource unwraps them)."""
    sent: dict[str, dict] = {}
    original = pulumi_mocks.MockMonitor.RegisterResource

    def recording(self, request):
        sent[request.name] = json_format.MessageToDict(request.object)
        return original(self, request)

    monkeypatch.setattr(pulumi_mocks.MockMonitor, "RegisterResource", recording)
    return sent


def test_generated_master_password_lives_in_our_secret_for_services_and_proxy(monkeypatch):
    sent = raw_registrations(monkeypatch)
    run, _ = run_database(managed_master_password=False, read_replicas=1, proxy={"enabled": True})
    primary = next(r for r in run.of_type("aws:rds/instance:Instance") if "replicateSourceDb" not in r.inputs)
    inputs = primary.inputs
    # Never both: the provider refuses manage_master_user_password (even false) next to a password.
    assert "manageMasterUserPassword" not in inputs
    generated = run.one("random:index/randomPassword:RandomPassword")
    assert (generated.inputs["length"], generated.inputs["special"]) == (32, True)
    # RDS PostgreSQL: printable ASCII except / " @ and space.
    assert set(generated.inputs["overrideSpecial"]) == set(string.punctuation) - set('/"@')
    assert inputs["password"] == generated.outputs["result"]
    assert inputs["username"] == "app_admin" and inputs["dbName"] == "app"
    # Sent to the engine as a Pulumi secret (encrypted in the state), never as plain text.
    assert sent["database-postgres"]["password"] == {
        rpc._special_sig_key: rpc._special_secret_sig, "value": generated.outputs["result"]}

    secret = run.one("aws:secretsmanager/secret:Secret")
    assert secret.inputs["namePrefix"] == "webstack/test/database-master-"
    assert secret.inputs["recoveryWindowInDays"] == 30
    assert "kmsKeyId" not in secret.inputs  # the AWS managed key aws/secretsmanager
    version = run.one("aws:secretsmanager/secretVersion:SecretVersion")
    assert version.inputs["secretId"] == secret.id
    assert json.loads(version.inputs["secretString"]) == {
        "username": "app_admin", "password": generated.outputs["result"], "engine": "postgres", "port": 5432,
        "dbname": "app",
    }
    assert sent["database-master-password"]["secretString"][rpc._special_sig_key] == rpc._special_secret_sig

    arn = secret.outputs["arn"]
    assert primary.outputs["masterUserSecrets"] == []
    # Pinned to the version holding this password: a new password is a new task definition.
    pinned = version.outputs["versionId"]
    assert run.outputs["secrets"] == {"DATABASE_USER": f"{arn}:username::{pinned}",
                                      "DATABASE_PASSWORD": f"{arn}:password::{pinned}"}

    proxy = run.one("aws:rds/proxy:Proxy")
    assert proxy.inputs["auths"] == [{
        "authScheme": "SECRETS", "secretArn": arn, "iamAuth": "DISABLED",
        "clientPasswordAuthType": "POSTGRES_SCRAM_SHA_256", "description": "Program-generated master user secret",
    }]
    # The proxy reads the secret's value as soon as it starts: the value is written first.
    assert version.urn in proxy.dependencies
    policy = json.loads(run.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert policy["Statement"] == [{
        "Sid": "ReadMasterSecret", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [arn],
    }]

    replica = next(r for r in run.of_type("aws:rds/instance:Instance") if "replicateSourceDb" in r.inputs).inputs
    assert replica["replicateSourceDb"] == "webstack-test-database"
    assert not {"manageMasterUserPassword", "username", "password", "dbName"} & set(replica)


# --- app secrets ---------------------------------------------------------------------------------

def test_app_secrets_store_each_value_in_its_own_secret():
    def build():
        secrets = AppSecrets("app-secrets", AppSecretsArgs(values={
            "jwtSecret": pulumi.Output.secret("jwt-value"), "googleApiKey": pulumi.Output.secret("google-value"),
        }, recovery_window_days=7))
        pulumi.export("references", secrets.references)

    run = run_in_mocks(build)
    secrets = {s.name: s for s in run.of_type("aws:secretsmanager/secret:Secret")}
    assert set(secrets) == {"app-secrets-jwtSecret", "app-secrets-googleApiKey"}
    assert secrets["app-secrets-jwtSecret"].inputs["namePrefix"] == "webstack/test/jwtSecret-"
    assert secrets["app-secrets-jwtSecret"].inputs["recoveryWindowInDays"] == 7
    versions = {v.inputs["secretId"]: v.inputs["secretString"]
                for v in run.of_type("aws:secretsmanager/secretVersion:SecretVersion")}
    assert versions == {secrets["app-secrets-jwtSecret"].id: "jwt-value",
                        secrets["app-secrets-googleApiKey"].id: "google-value"}
    version_ids = {v.inputs["secretId"]: v.outputs["versionId"]
                   for v in run.of_type("aws:secretsmanager/secretVersion:SecretVersion")}
    # ECS references pinned to the version holding each value: `<arn>:<no json key>:<no stage>:<version id>`.
    assert run.outputs["references"] == {
        name.removeprefix("app-secrets-"): f"{s.outputs['arn']}:::{version_ids[s.id]}" for name, s in secrets.items()
    }


def test_app_secret_references_wait_for_their_values():
    def build():
        secrets = AppSecrets("app-secrets", AppSecretsArgs(values={"jwtSecret": pulumi.Output.secret("v")}))
        aws.ssm.Parameter("consumer", type="String", value=secrets.references["jwtSecret"])

    run = run_in_mocks(build)
    version = run.one("aws:secretsmanager/secretVersion:SecretVersion")
    assert version.urn in run.one("aws:ssm/parameter:Parameter").dependencies
