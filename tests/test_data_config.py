"""Data-tier config: caches, databases, secret references, and refusal of plaintext secrets (exact messages)."""

from __future__ import annotations

import pulumi
import pytest

from stackconfig import validate_stack_config
from stackconfig.data import AuroraConfig, CacheConfig, DatabaseConfig, SecretRef
from tests.conftest import run_stack
from tests.test_config import problems, raw, with_change
from tests.test_data_wiring import container
from tests.test_monitoring import alarms

HOW_TO = (
    "declare it under secrets instead: `secrets: {{{name}: {{secretsManagerArn: "
    "arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf}}}}` for an existing secret, or "
    "`secrets: {{{name}: {{fromConfig: <key>}}}}` after "
    "`pulumi config set --secret --path 'webstack:appSecrets.<key>' <value>`"
)


def plaintext_message(name: str, reason: str) -> str:
    return (f"webstack:services.backend.environment.{name}: must not be plaintext ({reason}); "
            + HOW_TO.format(name=name))


@pytest.mark.parametrize("name,value,reason", [
    ("DB_PASSWORD", "hunter2", "its name looks like a secret"),
    ("JWT_SECRET", "x" * 40, "its name looks like a secret"),
    ("GOOGLE_API_KEY", "AIza-not-really", "its name looks like a secret"),
    ("STRIPE_TOKEN", "abc", "its name looks like a secret"),
    ("DATABASE_URL", "postgres://app:hunter2@db.internal:5432/app",
     "its value holds a URL with an embedded password"),
    ("UPLOAD_IDENTITY", "AKIAABCDEFGHIJKLMNOP", "its value holds an AWS access key id"),
    ("SIGNING", "-----BEGIN RSA PRIVATE KEY-----\nMIIE...", "its value holds a private key"),
])
def test_plaintext_secret_in_environment_is_refused(name, value, reason):
    values = with_change("services.backend.environment", {"DJANGO_SETTINGS_MODULE": "app.settings", name: value})
    found = problems(values)
    assert found == [plaintext_message(name, reason)]
    assert value not in "\n".join(found)  # the refusal never echoes the secret


def test_plain_settings_and_urls_without_password_are_accepted():
    values = with_change("services.backend.environment", {
        "DJANGO_SETTINGS_MODULE": "app.settings.dev", "SENTRY_ENVIRONMENT": "dev",
        "PUBLIC_URL": "https://app.example.com/path", "CACHE_URL": "rediss://cache.internal:6379/0",
    })
    config = validate_stack_config(values)
    assert config.services["backend"].environment["PUBLIC_URL"] == "https://app.example.com/path"


def test_secret_ref_needs_a_full_arn_or_a_config_entry():
    found = problems(with_change("services.backend.secrets", {
        "JWT_SECRET": {"secretsManagerArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:jwt"},
    }))
    assert found == [
        'webstack:services.backend.secrets.JWT_SECRET.secretsManagerArn = '
        '"arn:aws:secretsmanager:us-east-1:123456789012:secret:jwt": expected a full Secrets Manager ARN ending in '
        'the 6-character suffix AWS adds, e.g. arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/jwt-AbCdEf '
        '(optionally with `:<json-key>::`); `aws secretsmanager describe-secret --secret-id <name> --query ARN` '
        'prints it'
    ]
    both = problems(with_change("services.backend.secrets", {"JWT_SECRET": {
        "secretsManagerArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:jwt-AbCdEf", "fromConfig": "jwt",
    }}))
    assert both[0] == "webstack:services.backend.secrets.JWT_SECRET: set exactly one of secretsManagerArn or fromConfig"
    assert SecretRef(secrets_manager_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:app/keys-AbCdEf:google::")


def test_from_config_must_name_an_app_secret():
    found = problems(with_change("services.backend.secrets", {"JWT_SECRET": {"fromConfig": "jwtSecret"}}))
    assert found == [
        "webstack:services.backend.secrets.JWT_SECRET.fromConfig = \"jwtSecret\": webstack:appSecrets has no "
        "'jwtSecret'; set it with `pulumi config set --secret --path 'webstack:appSecrets.jwtSecret' <value>`"
    ]


def test_a_service_cannot_use_a_store_that_is_not_configured():
    values = raw()
    del values["database"]
    assert problems(values) == [
        'webstack:services.backend.uses[0] = "database": webstack:database is not configured; add it or remove '
        "database from services.backend.uses",
        'webstack:services.worker.uses[0] = "database": webstack:database is not configured; add it or remove '
        "database from services.worker.uses",
        'webstack:jobs.clearsessions.uses[0] = "database": webstack:database is not configured; add it or remove '
        "database from jobs.clearsessions.uses"
    ]


def test_linked_names_cannot_be_overridden():
    found = problems(with_change("services.backend.environment", {"REDIS_HOST": "localhost"}))
    assert found == [
        "webstack:services.backend.environment.REDIS_HOST: is set by the cache the service uses "
        "(services.backend.uses); remove it from environment"
    ]


def test_plaintext_app_secrets_are_refused_when_not_set_with_secret():
    def add_plaintext(config):
        config["webstack:appSecrets"] = {"jwtSecret": "not-encrypted"}

    with pytest.raises(pulumi.RunError) as caught:
        run_stack("dev", add_plaintext)
    assert (
        "webstack:appSecrets: webstack:appSecrets holds plaintext values; set each one as a secret with "
        "`pulumi config set --secret --path 'webstack:appSecrets.<name>' <value>` (the stack file then holds only "
        "`secure:` ciphertext)"
    ) in str(caught.value)
    assert "not-encrypted" not in str(caught.value)


def test_cache_rules():
    # multiAz and engineVersion against the rest of the section: tests/test_config_rules.py.
    valkey = CacheConfig(engine="valkey")
    assert (valkey.version, valkey.parameter_family) == ("8.0", "valkey8")
    assert CacheConfig().parameter_family == "redis7"


def test_database_rules():
    assert problems(with_change("database.engineVersion", "16.3")) == [
        "webstack:database.engineVersion = \"16.3\": Input should be '14', '15', '16' or '17'"
    ]
    assert problems(with_change("database.maxAllocatedStorage", 21)) == [
        "webstack:database.maxAllocatedStorage = 21: Input should be greater than or equal to 22"
    ]
    assert problems(with_change("database.backupRetentionDays", 3)) == [
        "webstack:database.backupRetentionDays = 3: Input should be greater than or equal to 7"
    ]
    assert problems(with_change("database.masterUsername", "a" * 17)) == [
        "webstack:database.masterUsername = \"" + "a" * 17 + "\": expected 1-16 letters, digits or '_', starting "
        "with a letter; not rdsadmin, rds_superuser, postgres or admin"
    ]
    assert DatabaseConfig(master_username="a" * 16).master_username == "a" * 16
    assert problems(with_change("database.masterUsername", "postgres")) == [
        "webstack:database.masterUsername = \"postgres\": 'postgres' is reserved by RDS or PostgreSQL; pick another "
        "master username"
    ]


def test_environment_defaults():
    dev, prod = DatabaseConfig().resolved(False), DatabaseConfig().resolved(True)
    assert (dev.multi_az, dev.deletion_protection, dev.final_snapshot, dev.protect, dev.apply_immediately) == \
        (False, False, False, False, True)
    assert (prod.multi_az, prod.deletion_protection, prod.final_snapshot, prod.protect, prod.apply_immediately) == \
        (True, True, True, True, False)
    assert (dev.enhanced_monitoring_interval, prod.enhanced_monitoring_interval) == (0, 60)
    assert DatabaseConfig(multi_az=False).resolved(True).multi_az is False  # an explicit choice wins
    cache_dev, cache_prod = CacheConfig().resolved(False), CacheConfig(replicas=1).resolved(True)
    assert (cache_dev.multi_az, cache_dev.snapshot_retention_days, cache_dev.apply_immediately) == (False, 0, True)
    assert (cache_prod.multi_az, cache_prod.snapshot_retention_days, cache_prod.apply_immediately) == (True, 7, False)


@pytest.mark.parametrize("replicas", [1, 5])
def test_read_replicas_with_an_rds_managed_password_are_refused(replicas):
    # AWS: no read replica of an instance whose master password Secrets Manager manages (InvalidParameterValue).
    assert problems(with_change("database.readReplicas", replicas))[0].startswith(
        f"webstack:database.readReplicas = {replicas}: read replicas are not possible with "
        "database.managedMasterPassword: true"
    )
    assert DatabaseConfig().managed_master_password is True
    values = with_change("database.readReplicas", replicas)
    values["database"]["managedMasterPassword"] = False
    database = validate_stack_config(values).database
    assert (database.read_replicas, database.managed_master_password) == (replicas, False)
    # Without replicas either choice is valid.
    assert DatabaseConfig(managed_master_password=False).read_replicas == 0


# --- Aurora PostgreSQL (database.engine: aurora-postgresql) -----------------------------------------

def aurora_values(**aurora):
    values = with_change("database.engine", "aurora-postgresql")
    values["database"].pop("allocatedStorage", None)
    values["database"].pop("maxAllocatedStorage", None)
    if aurora:
        values["database"]["aurora"] = aurora
    return values


def test_aurora_defaults_are_accepted():
    database = validate_stack_config(aurora_values(minCapacity=0, secondsUntilAutoPause=600)).database
    assert (database.engine, database.aurora.min_capacity, database.aurora.auto_pause_seconds) == \
        ("aurora-postgresql", 0, 600)
    assert database.aurora.parameter_family == "aurora-postgresql16"
    # Without `aurora` the defaults: 0.5-4 ACU, no pause.
    assert validate_stack_config(aurora_values()).database.aurora == AuroraConfig()
    assert (AuroraConfig().min_capacity, AuroraConfig().max_capacity, AuroraConfig().auto_pause_seconds) == (0.5, 4, None)


@pytest.mark.parametrize("aurora,message", [
    ({"minCapacity": 0, "engineVersion": "16.2"},
     "webstack:database.aurora.minCapacity = 0.0: 0 ACU (auto-pause) needs Aurora PostgreSQL 16.3 or later; "
     "database.aurora.engineVersion is 16.2"),
    ({"minCapacity": 0, "engineVersion": "14.11"},
     "webstack:database.aurora.minCapacity = 0.0: 0 ACU (auto-pause) needs Aurora PostgreSQL 14.12 or later; "
     "database.aurora.engineVersion is 14.11"),
    ({"minCapacity": 2, "maxCapacity": 1.5},
     "webstack:database.aurora.minCapacity = 2.0: must not exceed database.aurora.maxCapacity (1.5)"),
    ({"maxCapacity": 2.25},
     "webstack:database.aurora.maxCapacity = 2.25: Aurora Serverless v2 capacity goes in steps of 0.5 ACU "
     "(0, 0.5, 1, 1.5, ...)"),
    ({"maxCapacity": 200, "engineVersion": "15.4"},
     "webstack:database.aurora.maxCapacity = 200.0: Aurora PostgreSQL 15.4 allows at most 128 ACU (256 needs 15.5 "
     "or later)"),
    ({"engineVersion": "14.2"},
     'webstack:database.aurora.engineVersion = "14.2": Aurora Serverless v2 (instanceClass db.serverless) runs on '
     "Aurora PostgreSQL 14.3 or later; choose a later 14.x or a provisioned database.aurora.instanceClass"),
    ({"secondsUntilAutoPause": 600},
     "webstack:database.aurora.secondsUntilAutoPause = 600: only with database.aurora.minCapacity: 0 (nothing "
     "pauses at 0.5 ACU)"),
])
def test_aurora_capacity_aurora_refuses_is_refused(aurora, message):
    assert problems(aurora_values(**aurora)) == [message]


def test_aurora_capacity_accepted_at_the_limits():
    assert validate_stack_config(aurora_values(minCapacity=0, maxCapacity=256, engineVersion="16.4")).database
    assert validate_stack_config(aurora_values(minCapacity=0, maxCapacity=128, engineVersion="15.7")).database
    assert validate_stack_config(aurora_values(minCapacity=1.5, maxCapacity=1.5)).database
    # AWS's capacity table: 256 ACU from 14.10, 15.5, 16.1; Serverless v2 at all from 14.3, 15.2, 16.1.
    assert validate_stack_config(aurora_values(maxCapacity=256, engineVersion="15.5")).database
    assert validate_stack_config(aurora_values(maxCapacity=256, engineVersion="14.10")).database
    assert validate_stack_config(aurora_values(maxCapacity=128, engineVersion="14.3")).database
    # A provisioned class has no Serverless v2 minimum version.
    assert validate_stack_config(aurora_values(engineVersion="14.2", instanceClass="db.r6g.large")).database


def test_proxy_with_a_pausing_aurora_is_refused():
    values = aurora_values(minCapacity=0)
    values["database"]["proxy"] = {"enabled": True}
    assert problems(values) == [
        "webstack:database.aurora.minCapacity = 0.0: 0 ACU never pauses behind database.proxy.enabled: true (RDS "
        "Proxy keeps its own connections to the instances open); set minCapacity 0.5 or more, or turn the proxy off"
    ]
    values["database"]["aurora"]["minCapacity"] = 0.5
    assert validate_stack_config(values).database.proxy.enabled is True


def test_rds_instance_settings_with_aurora_are_refused():
    values = with_change("database.engine", "aurora-postgresql")
    values["database"].update({"allocatedStorage": 20, "maxAllocatedStorage": 50, "readReplicas": 1,
                               "managedMasterPassword": False})
    assert problems(values) == [
        "webstack:database.allocatedStorage = 20: not with database.engine: aurora-postgresql: Aurora storage grows "
        "by itself; remove it",
        "webstack:database.maxAllocatedStorage = 50: not with database.engine: aurora-postgresql: Aurora storage "
        "grows by itself (up to 128 TiB); remove it",
        "webstack:database.readReplicas = 1: not with database.engine: aurora-postgresql: readers are "
        "database.aurora.readers",
    ]


def test_aurora_settings_without_the_aurora_engine_are_refused():
    assert problems(with_change("database.aurora", {"readers": 1})) == [
        "webstack:database.aurora: only with database.engine: aurora-postgresql (it is postgres)"
    ]
    assert validate_stack_config(with_change("database.engine", "postgres")).database.aurora is None


def test_lean_runs_aurora_serverless_v2_that_pauses_at_zero(lean_run):
    cluster = lean_run.one("aws:rds/cluster:Cluster")
    inputs = cluster.inputs
    assert (inputs["engine"], inputs["engineMode"], inputs["storageEncrypted"]) == \
        ("aurora-postgresql", "provisioned", True)
    assert inputs["serverlessv2ScalingConfiguration"] == {"minCapacity": 0, "maxCapacity": 1,
                                                         "secondsUntilAutoPause": 600}
    assert inputs["manageMasterUserPassword"] is True and "masterPassword" not in inputs
    assert inputs["backupRetentionPeriod"] >= 7
    subnet_group = lean_run.one("aws:rds/subnetGroup:SubnetGroup")
    assert inputs["dbSubnetGroupName"] == subnet_group.outputs["name"]
    assert subnet_group.inputs["subnetIds"] == lean_run.one("awsx:ec2:Vpc").outputs["isolatedSubnetIds"]
    assert inputs["dbClusterParameterGroupName"] == \
        lean_run.one("aws:rds/clusterParameterGroup:ClusterParameterGroup").outputs["name"]
    # lean is a prod stack: deletion protection, a final snapshot and `protect`.
    assert (inputs["deletionProtection"], inputs["skipFinalSnapshot"], cluster.protect) == (True, False, True)
    assert inputs["finalSnapshotIdentifier"].startswith(inputs["clusterIdentifier"] + "-final-")
    assert cluster.delete_before_replace is True
    writer = lean_run.one("aws:rds/clusterInstance:ClusterInstance")
    assert (writer.inputs["instanceClass"], writer.inputs["clusterIdentifier"], writer.inputs["publiclyAccessible"]) \
        == ("db.serverless", cluster.id, False)
    assert writer.inputs["performanceInsightsEnabled"] is True and writer.protect is True
    log_group = next(g for g in lean_run.of_type("aws:cloudwatch/logGroup:LogGroup")
                     if g.inputs.get("name") == f"/aws/rds/cluster/{inputs['clusterIdentifier']}/postgresql")
    assert log_group.inputs["retentionInDays"] == 7 and log_group.urn in cluster.dependencies


# --- Redis cluster mode (cache.shards) ----------------------------------------------------------

def test_cluster_mode_settings_are_accepted():
    cache = validate_stack_config(with_change("cache", {"shards": 3, "replicasPerShard": 2})).cache
    assert (cache.cluster_mode, cache.node_count, cache.multi_az) == (True, 9, True)


def test_cluster_mode_refuses_replicas_and_shards_without_a_replica():
    assert problems(with_change("cache", {"shards": 2, "replicas": 1})) == [
        "webstack:cache.replicas = 1: not with cache.shards (cluster mode): set cache.replicasPerShard instead"
    ]
    assert problems(with_change("cache", {"shards": 2, "replicasPerShard": 0})) == [
        "webstack:cache.replicasPerShard = 0: cluster mode requires automatic failover, which needs a replica in "
        "every shard: 1 to 5"
    ]


def test_scale_runs_redis_cluster_mode_and_aurora_with_a_reader_behind_the_proxy(scale_run):
    group = scale_run.one("aws:elasticache/replicationGroup:ReplicationGroup")
    inputs = group.inputs
    assert (inputs["clusterMode"], inputs["numNodeGroups"], inputs["replicasPerNodeGroup"]) == ("enabled", 2, 1)
    assert "numCacheClusters" not in inputs
    assert (inputs["automaticFailoverEnabled"], inputs["multiAzEnabled"]) == (True, True)
    assert (inputs["atRestEncryptionEnabled"], inputs["transitEncryptionEnabled"]) == (True, True)
    assert inputs["authToken"]
    assert group.replace_on_changes == ("clusterMode",) and group.delete_before_replace is True
    params = scale_run.one("aws:elasticache/parameterGroup:ParameterGroup")
    assert {"name": "cluster-enabled", "value": "yes"} in params.inputs["parameters"]
    assert inputs["parameterGroupName"] == params.outputs["name"]
    assert params.inputs["family"] == "redis7"

    endpoint = group.outputs["configurationEndpointAddress"]
    backend = {item["name"]: item["value"] for item in container(scale_run, "backend")["environment"]}
    assert (backend["REDIS_HOST"], backend["REDIS_URL"], backend["REDIS_CLUSTER"], backend["REDIS_TLS"]) == \
        (endpoint, f"rediss://{endpoint}:6379", "true", "true")

    cluster = scale_run.one("aws:rds/cluster:Cluster")
    # Registered concurrently, so in no fixed order: by name, the writer and then its reader.
    instances = sorted(scale_run.of_type("aws:rds/clusterInstance:ClusterInstance"), key=lambda i: i.name != "database-writer")
    assert [(i.name, i.inputs["promotionTier"]) for i in instances] == [("database-writer", 0), ("database-reader-1", 1)]
    assert len({i.inputs["availabilityZone"] for i in instances}) == 2
    assert cluster.inputs["serverlessv2ScalingConfiguration"] == {"minCapacity": 2, "maxCapacity": 8}
    proxy = scale_run.one("aws:rds/proxy:Proxy")
    target = scale_run.one("aws:rds/proxyTarget:ProxyTarget")
    assert target.inputs["dbClusterIdentifier"] == cluster.id and proxy.inputs["requireTls"] is True
    assert backend["DATABASE_HOST"] == proxy.outputs["endpoint"]
    assert backend["DATABASE_READ_HOST"] == cluster.outputs["readerEndpoint"]


def test_scale_alarms_watch_every_shard_member_and_the_reader_lag(scale_run):
    found = alarms(scale_run)
    members = scale_run.one("aws:elasticache/replicationGroup:ReplicationGroup").outputs["memberClusters"]
    assert len(members) == 4 and members[0].endswith("-0001-001") and members[3].endswith("-0002-002")
    for index, member in enumerate(members, start=1):
        assert found[f"cache-{index}-memory-high"]["dimensions"] == {"CacheClusterId": member}
    reader = next(i for i in scale_run.of_type("aws:rds/clusterInstance:ClusterInstance")
                  if i.name == "database-reader-1").inputs["identifier"]
    assert found["db-reader-1-replica-lag"]["dimensions"] == {"DBInstanceIdentifier": reader}
    assert found["db-reader-1-replica-lag"]["metricName"] == "AuroraReplicaLag"
