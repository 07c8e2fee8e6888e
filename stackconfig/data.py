"""`webstack:cache`, `webstack:database`, `webstack:appSecrets` and how a service refers to a secret.

Settings whose right value differs between environments (Multi-AZ, deletion protection, snapshots,
`protect`, ...) default to `None`, meaning "on in prod, off elsewhere"; `for_environment()` fills
them in before a component sees them, so components only ever read plain booleans and numbers.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal, Mapping, Optional

from pulumi.runtime import config as runtime_config
from pydantic import Field, SecretStr, field_validator, model_validator

from helpers.data_links import INJECTED_BY
from helpers.database import max_connections, memory_gib
from helpers.instance_classes import (
    ELASTICACHE_NODE_TYPES,
    RDS_POSTGRES_CLASSES,
    describe_cache_node_types,
    describe_rds_classes,
)
from stackconfig.base import ConfigModel

if TYPE_CHECKING:
    from stackconfig.service import ServiceConfig

APP_SECRETS_KEY = "webstack:appSecrets"
SECRET_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
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
    "readReplicas: {replicas} with managedMasterPassword: true is not possible: RDS cannot create a read replica "
    "of a PostgreSQL instance whose master password is managed by RDS in Secrets Manager (AWS refuses it with "
    "InvalidParameterValue after the primary exists); either set database.managedMasterPassword: false (the "
    "program then generates the master password and keeps it in its own Secrets Manager secret; the "
    "`rds-managed-master-password` policy will report it — set that policy to advisory for this stack in "
    "policies/config/<stack>.json if you accept the trade-off), or use no read replicas"
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


def window_problems(
    service: str, maintenance: str, daily_name: str, daily: str, minimum_minutes: int
) -> list[str]:
    """What AWS would refuse in a maintenance window and its daily backup/snapshot window."""
    problems = []
    if weekly_window(maintenance)[1] < minimum_minutes:
        problems.append(f"maintenanceWindow {maintenance!r} is shorter than the {minimum_minutes} minutes {service} needs")
    if daily_window(daily)[1] < minimum_minutes:
        problems.append(f"{daily_name} {daily!r} is shorter than the {minimum_minutes} minutes {service} needs")
    if windows_overlap(maintenance, daily):
        problems.append(f"maintenanceWindow {maintenance!r} overlaps {daily_name} {daily!r}; {service} refuses "
                        f"overlapping windows")
    return problems


class SecretRef(ConfigModel):
    """Where a container's secret comes from: an existing secret, or a Pulumi secret the program stores.

    `{secretsManagerArn: arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf[:<json-key>::]}`
    or `{fromConfig: <name>}`, the value of `webstack:appSecrets.<name>` (set with `--secret`).
    """

    secrets_manager_arn: Optional[str] = None
    from_config: Optional[str] = Field(default=None, pattern=SECRET_NAME.pattern)

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

    @model_validator(mode="after")
    def _exactly_one_source(self) -> "SecretRef":
        if (self.secrets_manager_arn is None) == (self.from_config is None):
            raise ValueError("set exactly one of secretsManagerArn or fromConfig")
        return self


class CacheConfig(ConfigModel):
    engine: Literal["redis", "valkey"] = "redis"
    # major.minor; AWS applies patch releases within it (autoMinorVersionUpgrade).
    engine_version: Optional[str] = None
    node_type: str = "cache.t4g.micro"
    # Read replicas besides the primary; one or more turn on automatic failover.
    replicas: int = Field(default=0, ge=0, le=5)
    # Primary and replicas in different AZs; needs a replica. None: on whenever there is one.
    multi_az: Optional[bool] = None
    maxmemory_policy: Literal[MAXMEMORY_POLICIES] = "allkeys-lru"  # type: ignore[valid-type]
    # Daily snapshots kept; None: 7 in prod, none elsewhere (a cache can be rebuilt).
    snapshot_retention_days: Optional[int] = Field(default=None, ge=0, le=35)
    snapshot_window: str = Field(default="03:00-04:00", pattern=DAILY_WINDOW)
    maintenance_window: str = Field(default="sun:05:00-sun:06:00", pattern=MAINTENANCE_WINDOW)
    # None: changes wait for the maintenance window in prod and apply at once elsewhere.
    apply_immediately: Optional[bool] = None
    # Name of a `webstack:appSecrets` entry to use as the AUTH token; unset: the program generates one.
    auth_token_from_config: Optional[str] = Field(default=None, pattern=SECRET_NAME.pattern)

    @field_validator("node_type")
    @classmethod
    def _known_node_type(cls, node_type: str) -> str:
        if node_type not in ELASTICACHE_NODE_TYPES:
            raise ValueError(f"not an ElastiCache node type this stack can create; supported: "
                             f"{describe_cache_node_types()}")
        return node_type

    @model_validator(mode="after")
    def _consistent(self) -> "CacheConfig":
        if (self.engine, self.version) not in CACHE_FAMILIES:
            versions = sorted(version for engine, version in CACHE_FAMILIES if engine == self.engine)
            raise ValueError(f"{self.engine} engineVersion must be one of {', '.join(versions)}")
        if self.multi_az and self.replicas == 0:
            raise ValueError("multiAz needs at least one replica (AWS fails over to a replica in another AZ)")
        # Checked even without snapshots: ElastiCache keeps a snapshot window and refuses one that
        # overlaps the maintenance window either way.
        problems = window_problems(
            "ElastiCache", self.maintenance_window, "snapshotWindow", self.snapshot_window, minimum_minutes=60
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def version(self) -> str:
        return self.engine_version or DEFAULT_CACHE_VERSION[self.engine]

    @property
    def parameter_family(self) -> str:
        return CACHE_FAMILIES[(self.engine, self.version)]

    @property
    def node_count(self) -> int:
        return 1 + self.replicas

    def for_environment(self, production: bool) -> "CacheConfig":
        return self.model_copy(update={
            "multi_az": self.replicas > 0 if self.multi_az is None else self.multi_az,
            "snapshot_retention_days": (
                (7 if production else 0) if self.snapshot_retention_days is None else self.snapshot_retention_days
            ),
            "apply_immediately": (not production) if self.apply_immediately is None else self.apply_immediately,
        })


class ProxyConfig(ConfigModel):
    """RDS Proxy: connection pooling in front of the primary (seed 002: from ~1,000 rooms / 10+ tasks)."""

    enabled: bool = False
    # Share of the database's max_connections the proxy may open.
    max_connections_percent: int = Field(default=90, ge=1, le=100)
    max_idle_connections_percent: int = Field(default=50, ge=0, le=100)
    idle_client_timeout: int = Field(default=1800, ge=1, le=28800)

    @model_validator(mode="after")
    def _idle_within_max(self) -> "ProxyConfig":
        if self.max_idle_connections_percent > self.max_connections_percent:
            raise ValueError("maxIdleConnectionsPercent must not exceed maxConnectionsPercent")
        return self


class DatabaseConfig(ConfigModel):
    # Major version only: AWS applies minor upgrades in the maintenance window without a diff.
    engine_version: Literal[POSTGRES_MAJORS] = "16"  # type: ignore[valid-type]
    instance_class: str = "db.t4g.micro"
    # GiB of gp3 storage at creation, and the ceiling storage autoscaling may grow it to.
    allocated_storage: int = Field(default=20, ge=20, le=65536)
    max_allocated_storage: int = Field(default=100, ge=22, le=65536)
    database_name: str = Field(default="app", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
    # RDS: 1-16 letters, digits or underscores, starting with a letter.
    master_username: str = Field(default="app_admin", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,15}$")
    backup_retention_days: int = Field(default=7, ge=7, le=35)
    backup_window: str = Field(default="03:00-03:30", pattern=DAILY_WINDOW)
    maintenance_window: str = Field(default="sun:04:00-sun:05:00", pattern=MAINTENANCE_WINDOW)
    # Log statements slower than this (ms); -1 turns slow-query logging off.
    slow_query_ms: int = Field(default=500, ge=-1)
    # None for each of these: on in prod, off elsewhere (apply_immediately: the reverse).
    multi_az: Optional[bool] = None
    deletion_protection: Optional[bool] = None
    final_snapshot: Optional[bool] = None
    performance_insights: Optional[bool] = None
    # Seconds between enhanced monitoring (OS) samples; 0 turns it off. None: 60 in prod, 0 elsewhere.
    enhanced_monitoring_interval: Optional[Literal[0, 1, 5, 10, 15, 30, 60]] = None
    protect: Optional[bool] = None
    apply_immediately: Optional[bool] = None
    proxy: ProxyConfig = Field(default_factory=ProxyConfig)
    read_replicas: int = Field(default=0, ge=0, le=5)
    # Defaults to the primary's class.
    replica_instance_class: Optional[str] = None
    # True: RDS generates, stores and rotates the master password in Secrets Manager. RDS then refuses
    # read replicas (`managed_password_blocks_replicas`); false: the program generates the password and
    # keeps it in its own Secrets Manager secret (no automatic rotation).
    managed_master_password: bool = True

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

    @model_validator(mode="after")
    def _windows(self) -> "DatabaseConfig":
        problems = window_problems(
            "RDS", self.maintenance_window, "backupWindow", self.backup_window, minimum_minutes=30
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _managed_password_blocks_replicas(self) -> "DatabaseConfig":
        # AWS: no read replica of an instance whose master password Secrets Manager manages (all engines
        # but SQL Server); CreateDBInstanceReadReplica fails with InvalidParameterValue once the primary exists.
        if self.read_replicas > 0 and self.managed_master_password:
            raise ValueError(MANAGED_PASSWORD_BLOCKS_REPLICAS.format(replicas=self.read_replicas))
        return self

    @model_validator(mode="after")
    def _replica_class_large_enough(self) -> "DatabaseConfig":
        # A PostgreSQL standby needs max_connections at least the primary's, and ours follows memory.
        if self.read_replicas and memory_gib(self.replica_class) < memory_gib(self.instance_class):
            raise ValueError(
                f"replicaInstanceClass {self.replica_class} has less memory than instanceClass "
                f"{self.instance_class}: its max_connections ({max_connections(self.replica_class)}) would be "
                f"below the primary's ({max_connections(self.instance_class)}), which PostgreSQL replicas refuse "
                f"(RDS marks them incompatible-parameters); pick a class at least as large"
            )
        return self

    @model_validator(mode="after")
    def _storage_ceiling(self) -> "DatabaseConfig":
        # RDS: the autoscaling ceiling must be at least 10 % above the allocated storage.
        if self.max_allocated_storage * 10 < self.allocated_storage * 11:
            raise ValueError(
                f"maxAllocatedStorage ({self.max_allocated_storage} GiB) must be at least 10 % above "
                f"allocatedStorage ({self.allocated_storage} GiB) for storage autoscaling"
            )
        return self

    @property
    def parameter_family(self) -> str:
        return f"postgres{self.engine_version}"

    @property
    def replica_class(self) -> str:
        return self.replica_instance_class or self.instance_class

    def for_environment(self, production: bool) -> "DatabaseConfig":
        def pick(value: Optional[bool], default: bool) -> bool:
            return default if value is None else value

        return self.model_copy(update={
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


def check_app_secrets_are_secret(app_secrets: Mapping[str, SecretStr]) -> None:
    """`webstack:appSecrets` must come from `pulumi config set --secret`, never plaintext in a stack file."""
    if app_secrets and not runtime_config.is_config_secret(APP_SECRETS_KEY):
        raise ValueError(
            f"{APP_SECRETS_KEY} holds plaintext values; set each one as a secret with "
            f"`{HOW_TO_SET_APP_SECRET.format(name='<name>')}` (the stack file then holds only `secure:` ciphertext)"
        )


def data_tier_problems(
    services: Mapping[str, "ServiceConfig"],
    cache: Optional[CacheConfig],
    database: Optional[DatabaseConfig],
    app_secrets: Mapping[str, SecretStr],
) -> list[str]:
    """Cross-section checks: what a service uses exists, secret references resolve, names do not clash."""
    problems = []
    configured = {"cache": cache is not None, "database": database is not None}
    for name, service in services.items():
        for store in service.uses:
            if not configured[store]:
                problems.append(f"services.{name} uses {store} but webstack:{store} is not configured")
        for variable, ref in service.secrets.items():
            if ref.from_config is not None and ref.from_config not in app_secrets:
                problems.append(
                    f"services.{name}.secrets.{variable}: webstack:appSecrets has no {ref.from_config!r}; set it "
                    f"with `{HOW_TO_SET_APP_SECRET.format(name=ref.from_config)}`"
                )
        linked = {variable for store in service.uses for variable in INJECTED_BY[store]}
        for variable in sorted(linked & (set(service.environment) | set(service.secrets))):
            problems.append(
                f"services.{name}: {variable} is set by the data tier the service uses; remove it from "
                f"environment/secrets"
            )
    token_name = cache.auth_token_from_config if cache is not None else None
    if token_name and token_name not in app_secrets:
        problems.append(
            f"cache.authTokenFromConfig: webstack:appSecrets has no {token_name!r}; set it "
            f"with `{HOW_TO_SET_APP_SECRET.format(name=token_name)}`"
        )
    elif token_name and not AUTH_TOKEN.match(app_secrets[token_name].get_secret_value()):
        problems.append(
            f"cache.authTokenFromConfig: webstack:appSecrets.{token_name} is not a valid AUTH token "
            f"(ElastiCache takes {AUTH_TOKEN_RULE})"
        )
    return problems
