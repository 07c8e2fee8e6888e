"""`webstack:cache`, `webstack:database`, `webstack:appSecrets` and how a service refers to a secret.

Settings whose right value differs between environments (Multi-AZ, deletion protection, snapshots,
`protect`, ...) default to `None`, meaning "on in prod, off elsewhere"; `resolved()` fills them in
once, when the stack config is loaded, so components only ever read plain booleans and numbers.
"""

from __future__ import annotations

import re
from typing import Literal, Mapping, Optional

from pulumi.runtime import config as runtime_config
from pydantic import Field, SecretStr, field_validator

from helpers.instance_classes import (
    ELASTICACHE_NODE_TYPES,
    RDS_POSTGRES_CLASSES,
    describe_cache_node_types,
    describe_rds_classes,
)
from stackconfig.base import ConfigModel, doc

APP_SECRETS_KEY = "webstack:appSecrets"
SECRET_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
SECRET_NAME_RULE = "1-64 letters, digits, '_' or '-', starting with a letter"
DAILY_WINDOW_RULE = "hh:mm-hh:mm (UTC, 24-hour clock), e.g. 03:00-04:00"
WEEKLY_WINDOW_RULE = "ddd:hh:mm-ddd:hh:mm (UTC; mon..sun), e.g. sun:05:00-sun:06:00"
# A full Secrets Manager ARN (with the 6-character suffix AWS appends: IAM matches the full ARN),
# optionally followed by ECS's `:json-key:version-stage:version-id` selector.
SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}"
    r"(:[^:]*:[^:]*:[^:]*)?$"
)
# ElastiCache AUTH token: 16-128 characters, letters, digits and only the punctuation CreateReplicationGroup
# permits (!, &, #, $, ^, <, > and -); AWS refuses any other character at create time.
AUTH_TOKEN = re.compile(r"^[A-Za-z0-9!&#$^<>-]{16,128}$")
AUTH_TOKEN_RULE = "16-128 letters, digits or the characters ! & # $ ^ < > -"
HOW_TO_SET_APP_SECRET = "pulumi config set --secret --path 'webstack:appSecrets.{name}' <value>"
MANAGED_PASSWORD_BLOCKS_REPLICAS = (
    "read replicas are not possible with database.managedMasterPassword: true: RDS cannot create a read replica "
    "of a PostgreSQL instance whose master password is managed by RDS in Secrets Manager (AWS refuses it with "
    "InvalidParameterValue after the primary exists); either set database.managedMasterPassword: false (the "
    "program then generates the master password and keeps it in its own Secrets Manager secret; the "
    "`rds-managed-master-password` policy will report it — set that policy to advisory for this stack in "
    "policies/config/<stack>.json if you accept the trade-off), or set readReplicas: 0"
)

DAY = r"(mon|tue|wed|thu|fri|sat|sun)"
MAINTENANCE_WINDOW = rf"^{DAY}:([01]\d|2[0-3]):[0-5]\d-{DAY}:([01]\d|2[0-3]):[0-5]\d$"
DAILY_WINDOW = r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
# Engine version -> parameter group family. Minor versions are AWS's to patch within a family.
CACHE_FAMILIES = {
    ("redis", "7.0"): "redis7", ("redis", "7.1"): "redis7",
    ("valkey", "7.2"): "valkey7", ("valkey", "8.0"): "valkey8", ("valkey", "8.1"): "valkey8",
}
DEFAULT_CACHE_VERSION = {"redis": "7.1", "valkey": "8.0"}
POSTGRES_MAJORS = ("14", "15", "16", "17")
DATABASE_ENGINES = ("postgres", "aurora-postgresql")
# Aurora Serverless v2, per Aurora PostgreSQL major: the first minor that runs it at all (0.5-128 ACU), the
# first whose maximum reaches 256 ACU, and the first that can pause at 0 ACU (Aurora User Guide, "How Aurora
# Serverless v2 works", capacity table; 17.4 is Aurora's first 17 release and supports all three). Majors not
# listed (13 and older) are not offered. A cluster's platform version caps it too: platform version 1 stops at
# 128 ACU; new clusters start on the latest one (docs/data-tier.md).
AURORA_SERVERLESS_FROM = {14: 3, 15: 2, 16: 1, 17: 4}
AURORA_256_ACU_FROM = {14: 10, 15: 5, 16: 1, 17: 4}
AURORA_PAUSE_FROM = {14: 12, 15: 7, 16: 3, 17: 4}
AURORA_SERVERLESS = "db.serverless"
AURORA_STORAGE_TYPES = ("aurora", "aurora-iopt1")
MAXMEMORY_POLICIES = (
    "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random",
    "volatile-ttl", "noeviction",
)


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def daily_window(window: str) -> tuple[int, int]:
    """`hh:mm-hh:mm` (UTC) as (start minute of the day, length in minutes); it may run past midnight."""
    start, end = (_minutes(part) for part in window.split("-"))
    return start, (end - start) % MINUTES_PER_DAY


def weekly_window(window: str) -> tuple[int, int]:
    """`ddd:hh:mm-ddd:hh:mm` (UTC) as (start minute of the week, length in minutes)."""
    start, end = (DAYS.index(part[:3]) * MINUTES_PER_DAY + _minutes(part[4:]) for part in window.split("-"))
    return start, (end - start) % MINUTES_PER_WEEK


def windows_overlap(weekly: str, daily: str) -> bool:
    """Does a weekly maintenance window meet a daily backup/snapshot window on any day of the week?"""
    week_start, week_length = weekly_window(weekly)
    day_start, day_length = daily_window(daily)
    for day in range(7):
        start = day * MINUTES_PER_DAY + day_start
        if (start - week_start) % MINUTES_PER_WEEK < week_length or \
                (week_start - start) % MINUTES_PER_WEEK < day_length:
            return True
    return False


class SecretRef(ConfigModel):
    """Where a container's secret comes from: an existing secret, or a Pulumi secret the program stores.

    Exactly one of `secretsManagerArn` or `fromConfig`.
    """

    secrets_manager_arn: Optional[str] = Field(
        default=None,
        description="A secret you already have, by its full ARN; `:<json-key>::` selects one key of a JSON secret.",
        json_schema_extra=doc(allowed="arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf "
                                      "[:<json-key>:<version-stage>:<version-id>]"),
    )
    from_config: Optional[str] = Field(
        default=None, pattern=SECRET_NAME.pattern,
        description="The name of a `webstack:appSecrets` entry: the program stores its value in Secrets Manager.",
        json_schema_extra=doc(allowed=SECRET_NAME_RULE),
    )

    @field_validator("secrets_manager_arn")
    @classmethod
    def _full_arn(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not SECRET_ARN.match(value):
            raise ValueError(
                "expected a full Secrets Manager ARN ending in the 6-character suffix AWS adds, e.g. "
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/jwt-AbCdEf (optionally with "
                "`:<json-key>::`); `aws secretsmanager describe-secret --secret-id <name> --query ARN` prints it"
            )
        return value


class CacheConfig(ConfigModel):
    """An ElastiCache (Redis OSS or Valkey) replication group in the isolated subnets, TLS and AUTH required."""

    engine: Literal["redis", "valkey"] = Field(default="redis", description="Redis OSS or Valkey.")
    engine_version: Optional[str] = Field(
        default=None,
        description="major.minor; AWS applies patch releases within it (autoMinorVersionUpgrade).",
        json_schema_extra=doc(
            allowed="; ".join(f"{engine}: {', '.join(v for e, v in CACHE_FAMILIES if e == engine)}"
                              for engine in DEFAULT_CACHE_VERSION),
            default="; ".join(f"{engine}: `{version}`" for engine, version in DEFAULT_CACHE_VERSION.items()),
        ),
    )
    node_type: str = Field(
        default="cache.t4g.micro",
        description="The node type of the primary and each replica.",
        json_schema_extra=doc(allowed=describe_cache_node_types()),
    )
    replicas: int = Field(default=0, ge=0, le=5,
                          description="Read replicas besides the primary; one or more turn on automatic failover.")
    multi_az: Optional[bool] = Field(
        default=None,
        description="Primary and replicas in different AZs; needs a replica.",
        json_schema_extra=doc(default="on when replicas >= 1"),
    )
    shards: Optional[int] = Field(
        default=None, ge=1, le=500,
        description="Cluster mode enabled with this many shards (node groups); services then get REDIS_CLUSTER=true "
                    "and the configuration endpoint. Unset: cluster mode disabled (one primary and `replicas`).",
    )
    replicas_per_shard: int = Field(default=1, ge=0, le=5,
                                    description="With shards: replicas in each shard (automatic failover needs 1+).")
    maxmemory_policy: Literal[MAXMEMORY_POLICIES] = Field(  # type: ignore[valid-type]
        default="allkeys-lru",
        description="What Redis evicts when memory is full (set explicitly in a parameter group).",
    )
    snapshot_retention_days: Optional[int] = Field(
        default=None, ge=0, le=35,
        description="Daily snapshots kept (a cache can be rebuilt, so none outside prod).",
    )
    snapshot_window: str = Field(
        default="03:00-04:00", pattern=DAILY_WINDOW,
        description="Daily snapshot window (UTC), at least 60 minutes, not overlapping maintenanceWindow "
                    "(ElastiCache keeps one even without snapshots).",
        json_schema_extra=doc(allowed=DAILY_WINDOW_RULE),
    )
    maintenance_window: str = Field(
        default="sun:05:00-sun:06:00", pattern=MAINTENANCE_WINDOW,
        description="Weekly maintenance window (UTC), at least 60 minutes.",
        json_schema_extra=doc(allowed=WEEKLY_WINDOW_RULE),
    )
    apply_immediately: Optional[bool] = Field(
        default=None,
        description="Apply changes at once instead of in the maintenance window.",
    )
    auth_token_from_config: Optional[str] = Field(
        default=None, pattern=SECRET_NAME.pattern,
        description="The name of a `webstack:appSecrets` entry to use as the AUTH token; unset: the program "
                    f"generates one. The value must be {AUTH_TOKEN_RULE}.",
        json_schema_extra=doc(allowed=SECRET_NAME_RULE),
    )

    @field_validator("node_type")
    @classmethod
    def _known_node_type(cls, node_type: str) -> str:
        if node_type not in ELASTICACHE_NODE_TYPES:
            raise ValueError(f"not an ElastiCache node type this stack can create; supported: "
                             f"{describe_cache_node_types()}")
        return node_type

    @property
    def version(self) -> str:
        return self.engine_version or DEFAULT_CACHE_VERSION[self.engine]

    @property
    def parameter_family(self) -> str:
        return CACHE_FAMILIES[(self.engine, self.version)]

    @property
    def cluster_mode(self) -> bool:
        return self.shards is not None

    @property
    def node_count(self) -> int:
        if self.shards is not None:
            return self.shards * (1 + self.replicas_per_shard)
        return 1 + self.replicas

    @property
    def has_replicas(self) -> bool:
        return (self.replicas_per_shard if self.shards is not None else self.replicas) > 0

    def resolved(self, production: bool) -> "CacheConfig":
        """The same settings with the environment's defaults filled in (no `None` left)."""
        return self.model_copy(update={
            "multi_az": self.has_replicas if self.multi_az is None else self.multi_az,
            "snapshot_retention_days": (
                (7 if production else 0) if self.snapshot_retention_days is None else self.snapshot_retention_days
            ),
            "apply_immediately": (not production) if self.apply_immediately is None else self.apply_immediately,
        })


class ProxyConfig(ConfigModel):
    """RDS Proxy: connection pooling in front of the primary (worth it from ~10 tasks)."""

    enabled: bool = Field(default=False, description="An RDS Proxy; services then connect through it.")
    max_connections_percent: int = Field(default=90, ge=1, le=100,
                                         description="Share of the database's max_connections the proxy may open.")
    max_idle_connections_percent: int = Field(
        default=50, ge=0, le=100,
        description="Share of max_connections the proxy keeps open while idle; at most maxConnectionsPercent.",
    )
    idle_client_timeout: int = Field(default=1800, ge=1, le=28800,
                                     description="Seconds before the proxy closes an idle client connection.")


class AuroraConfig(ConfigModel):
    """Aurora PostgreSQL (`database.engine: aurora-postgresql`): a cluster with a writer and `readers`."""

    engine_version: str = Field(
        default="16.6", pattern=r"^1[4-7]\.\d{1,2}$",
        description="Aurora PostgreSQL major.minor (Aurora versions are chosen, not patched in by RDS); pausing at "
                    "0 ACU needs 14.12+, 15.7+, 16.3+ or 17.4+.",
        json_schema_extra=doc(allowed="14.x, 15.x, 16.x or 17.x"),
    )
    instance_class: str = Field(
        default=AURORA_SERVERLESS,
        description="`db.serverless` (Serverless v2, sized in ACUs) or a provisioned class for every instance.",
        json_schema_extra=doc(allowed=f"{AURORA_SERVERLESS} or {describe_rds_classes()}"),
    )
    min_capacity: float = Field(
        default=0.5, ge=0, le=256,
        description="Serverless v2 minimum ACUs, in steps of 0.5; 0 lets the instances pause when no user "
                    "connection is open (docs/data-tier.md says what that asks of the app).",
    )
    max_capacity: float = Field(default=4, ge=1, le=256,
                                description="Serverless v2 maximum ACUs, in steps of 0.5 (128 on older versions).")
    seconds_until_auto_pause: Optional[int] = Field(
        default=None, ge=300, le=86400,
        description="Idle seconds before a 0-ACU instance pauses; only with minCapacity: 0.",
        json_schema_extra=doc(default="300 with minCapacity: 0"),
    )
    readers: int = Field(default=0, ge=0, le=15,
                         description="Reader instances (DATABASE_READ_HOST is the reader endpoint), each in another AZ.")
    storage_type: Literal[AURORA_STORAGE_TYPES] = Field(  # type: ignore[valid-type]
        default="aurora",
        description="`aurora` (Standard: storage plus per-request I/O) or `aurora-iopt1` (I/O-Optimized: dearer "
                    "instances and storage, no I/O charge).",
    )

    @field_validator("instance_class")
    @classmethod
    def _known_class(cls, value: str) -> str:
        if value != AURORA_SERVERLESS and value not in RDS_POSTGRES_CLASSES:
            raise ValueError(f"not an Aurora PostgreSQL instance class this stack can create; supported: "
                             f"{AURORA_SERVERLESS}, {describe_rds_classes()}")
        return value

    @property
    def serverless(self) -> bool:
        return self.instance_class == AURORA_SERVERLESS

    @property
    def major(self) -> int:
        return int(self.engine_version.split(".")[0])

    @property
    def minor(self) -> int:
        return int(self.engine_version.split(".")[1])

    @property
    def parameter_family(self) -> str:
        return f"aurora-postgresql{self.major}"

    @property
    def auto_pause_seconds(self) -> Optional[int]:
        if not self.serverless or self.min_capacity != 0:
            return None
        return self.seconds_until_auto_pause or 300


class DatabaseConfig(ConfigModel):
    """RDS PostgreSQL (or Aurora PostgreSQL) in the isolated subnets: encrypted, TLS forced."""

    engine: Literal[DATABASE_ENGINES] = Field(  # type: ignore[valid-type]
        default="postgres",
        description="`postgres`: one RDS instance (and readReplicas); `aurora-postgresql`: an Aurora cluster "
                    "(settings under `aurora`).",
    )
    aurora: Optional[AuroraConfig] = Field(default=None, description="Aurora settings; only with engine "
                                                                     "aurora-postgresql.",
                                           json_schema_extra=doc(default="the defaults below"))

    engine_version: Literal[POSTGRES_MAJORS] = Field(  # type: ignore[valid-type]
        default="16",
        description="PostgreSQL major version only: AWS applies minor upgrades in the maintenance window without "
                    "a diff.",
    )
    instance_class: str = Field(
        default="db.t4g.micro",
        description="The instance class; the parameter group (max_connections, shared_buffers, ...) is sized to "
                    "its memory.",
        json_schema_extra=doc(allowed=describe_rds_classes()),
    )
    allocated_storage: int = Field(default=20, ge=20, le=65536, description="GiB of gp3 storage at creation.")
    max_allocated_storage: int = Field(
        default=100, ge=22, le=65536,
        description="GiB storage autoscaling may grow to; at least 10 % above allocatedStorage.",
    )
    database_name: str = Field(default="app", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,62}$",
                               description="The database created in the instance.",
                               json_schema_extra=doc(allowed="1-63 letters, digits or '_', starting with a letter"))
    master_username: str = Field(
        default="app_admin", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,15}$",
        description="RDS's master user.",
        json_schema_extra=doc(allowed="1-16 letters, digits or '_', starting with a letter; not rdsadmin, "
                                      "rds_superuser, postgres or admin"),
    )
    backup_retention_days: int = Field(default=7, ge=7, le=35, description="Days of automated backups kept.")
    backup_window: str = Field(
        default="03:00-03:30", pattern=DAILY_WINDOW,
        description="Daily backup window (UTC), at least 30 minutes, not overlapping maintenanceWindow.",
        json_schema_extra=doc(allowed=DAILY_WINDOW_RULE),
    )
    maintenance_window: str = Field(
        default="sun:04:00-sun:05:00", pattern=MAINTENANCE_WINDOW,
        description="Weekly maintenance window (UTC), at least 30 minutes.",
        json_schema_extra=doc(allowed=WEEKLY_WINDOW_RULE),
    )
    slow_query_ms: int = Field(default=500, ge=-1,
                               description="Log statements slower than this (ms); -1 turns slow-query logging off.")
    multi_az: Optional[bool] = Field(default=None, description="A standby in another AZ (automatic failover).")
    deletion_protection: Optional[bool] = Field(default=None,
                                                description="RDS refuses to delete the instance while it is on.")
    final_snapshot: Optional[bool] = Field(
        default=None,
        description="A final snapshot (`<identifier>-final-<8 hex digits>`) when the instance is deleted.",
    )
    performance_insights: Optional[bool] = Field(default=None,
                                                 description="Performance Insights (7 days, free tier).")
    enhanced_monitoring_interval: Optional[Literal[0, 1, 5, 10, 15, 30, 60]] = Field(
        default=None, description="Seconds between enhanced monitoring (OS) samples; 0 turns it off.",
    )
    protect: Optional[bool] = Field(default=None,
                                    description="Pulumi `protect` on the instance and its replicas: `pulumi destroy` "
                                                "stops at them.")
    apply_immediately: Optional[bool] = Field(default=None,
                                              description="Apply changes at once instead of in the maintenance window.")
    proxy: ProxyConfig = Field(default_factory=ProxyConfig, description="RDS Proxy.")
    read_replicas: int = Field(
        default=0, ge=0, le=5,
        description="Read replicas (DATABASE_READ_HOST); they need managedMasterPassword: false.",
    )
    replica_instance_class: Optional[str] = Field(
        default=None,
        description="The replicas' class; at least the primary's memory (a PostgreSQL replica refuses a "
                    "max_connections below the primary's).",
        json_schema_extra=doc(allowed=describe_rds_classes(), default="instanceClass"),
    )
    managed_master_password: bool = Field(
        default=True,
        description="True: RDS generates, stores and rotates the master password in Secrets Manager (then RDS "
                    "refuses read replicas). False: the program generates it and keeps it in its own Secrets "
                    "Manager secret (no automatic rotation).",
    )

    @field_validator("instance_class", "replica_instance_class")
    @classmethod
    def _known_class(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and value not in RDS_POSTGRES_CLASSES:
            raise ValueError(f"not an RDS for PostgreSQL instance class this stack can create; supported: "
                             f"{describe_rds_classes()}")
        return value

    @field_validator("master_username")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value.lower() in ("rdsadmin", "rds_superuser", "postgres", "admin"):
            raise ValueError(f"{value!r} is reserved by RDS or PostgreSQL; pick another master username")
        return value

    @property
    def parameter_family(self) -> str:
        return f"postgres{self.engine_version}"

    @property
    def is_aurora(self) -> bool:
        return self.engine == "aurora-postgresql"

    @property
    def replica_class(self) -> str:
        return self.replica_instance_class or self.instance_class

    def resolved(self, production: bool) -> "DatabaseConfig":
        """The same settings with the environment's defaults filled in (no `None` left): on in prod, off
        elsewhere (applyImmediately the reverse, enhanced monitoring 60 s in prod)."""
        def pick(value: Optional[bool], default: bool) -> bool:
            return default if value is None else value

        return self.model_copy(update={
            "aurora": (self.aurora or AuroraConfig()) if self.is_aurora else None,
            "multi_az": pick(self.multi_az, production),
            "deletion_protection": pick(self.deletion_protection, production),
            "final_snapshot": pick(self.final_snapshot, production),
            "performance_insights": pick(self.performance_insights, production),
            "enhanced_monitoring_interval": (
                (60 if production else 0) if self.enhanced_monitoring_interval is None
                else self.enhanced_monitoring_interval
            ),
            "protect": pick(self.protect, production),
            "apply_immediately": pick(self.apply_immediately, not production),
        })


def app_secrets_are_secret(app_secrets: Mapping[str, SecretStr]) -> Mapping[str, SecretStr]:
    """`webstack:appSecrets` must come from `pulumi config set --secret`, never plaintext in a stack file."""
    if app_secrets and not runtime_config.is_config_secret(APP_SECRETS_KEY):
        raise ValueError(
            f"{APP_SECRETS_KEY} holds plaintext values; set each one as a secret with "
            f"`{HOW_TO_SET_APP_SECRET.format(name='<name>')}` (the stack file then holds only `secure:` ciphertext)"
        )
    return app_secrets
