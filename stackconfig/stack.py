"""The whole stack's config: one validated object, built before any resource is declared."""

from __future__ import annotations

import graphlib
import re
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, Field, PrivateAttr, SecretStr, field_validator

from stackconfig.base import LOG_RETENTION_DAYS, ConfigModel, doc
from stackconfig.cost import CostConfig
from stackconfig.data import CacheConfig, DatabaseConfig, app_secrets_are_secret
from stackconfig.jobs import JobConfig
from stackconfig.edge import AccessLogsConfig, DomainConfig, FrontendConfig, RegistryConfig, StorageConfig
from stackconfig.load_balancer import LoadBalancerConfig
from stackconfig.monitoring import MonitoringConfig
from stackconfig.network import NetworkConfig
from stackconfig.queues import QueueConfig, QueueName
from stackconfig.service import ServiceConfig

SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
# Monitoring names the database's and cache's alarms `db-<label>-…` and `cache-<n>-…`.
RESERVED_SERVICE_PREFIXES = ("db-", "cache-")
# The backlog per task a queue consumer keeps when scaling.backlogPerTask is not set.
DEFAULT_BACKLOG_PER_TASK = 10
# Days a deleted secret (app secrets, the cache's AUTH token, a generated master password) can be restored.
SECRET_RECOVERY_DAYS = {"prod": 30, "other": 7}


def _service_name(name: str) -> str:
    if not SERVICE_NAME.match(name):
        raise ValueError("a service name is 1-20 characters of a-z, 0-9 and '-', starting with a letter "
                         "(it prefixes AWS names with length limits)")
    if name.startswith(RESERVED_SERVICE_PREFIXES):
        raise ValueError(f"a service name must not start with a prefix reserved for the data tier's alarms "
                         f"({', '.join(RESERVED_SERVICE_PREFIXES)}); choose another name")
    return name


def _commercial_region(region: str) -> str:
    """IAM ARNs here are written for the `aws` partition; GovCloud and China use other partitions."""
    if not re.fullmatch(r"[a-z]{2}-[a-z]+-\d", region) or region.startswith("cn-"):
        raise ValueError("set aws:region to a commercial AWS region such as us-east-1 or eu-west-1 "
                         "(GovCloud and China regions are not supported)")
    return region


ServiceName = Annotated[str, AfterValidator(_service_name)]


class LogsConfig(ConfigModel):
    """CloudWatch Logs."""

    retention_days: int = Field(
        default=30,
        description="Retention of every log group the stack creates (containers, VPC flow logs, RDS exports).",
        json_schema_extra=doc(allowed=f"a CloudWatch retention value: {', '.join(map(str, LOG_RETENTION_DAYS))}"),
    )

    @field_validator("retention_days")
    @classmethod
    def _cloudwatch_retention(cls, days: int) -> int:
        if days not in LOG_RETENTION_DAYS:
            raise ValueError(f"CloudWatch Logs accepts retention of {', '.join(map(str, LOG_RETENTION_DAYS))} days")
        return days


class ClusterConfig(ConfigModel):
    """The ECS cluster."""

    container_insights: Literal["enabled", "enhanced"] = Field(
        default="enabled",
        description="Container Insights level; `enhanced` adds per-task and per-container metrics at a higher "
                    "CloudWatch cost.",
    )


class StackConfig(ConfigModel):
    """Every `webstack:*` key of a stack file (and `aws:region`)."""

    environment: Literal["dev", "staging", "prod"] = Field(
        description="`prod` turns on the production defaults (deletion protection, Multi-AZ, snapshots, "
                    "`protect`, immutable image tags, ...); `dev` and `staging` get the cheaper ones.",
    )
    owner: str = Field(min_length=1, max_length=256, description="`Owner` tag on every resource.")
    region: Annotated[str, AfterValidator(_commercial_region)] = Field(
        description="Where everything is created (the key is `aws:region`); the cost estimate uses us-east-1's "
                    "prices.",
        json_schema_extra=doc(allowed="a commercial AWS region (not GovCloud or China: IAM ARNs use the `aws` "
                                      "partition)"),
    )
    network: NetworkConfig = Field(description="The VPC.")
    logs: LogsConfig = Field(default_factory=LogsConfig, description="CloudWatch Logs.")
    cluster: ClusterConfig = Field(default_factory=ClusterConfig, description="The ECS cluster.")
    load_balancer: LoadBalancerConfig = Field(default_factory=LoadBalancerConfig, description="The load balancer.")
    services: dict[ServiceName, ServiceConfig] = Field(
        min_length=1,
        description="The Fargate services, by name (1-20 of a-z, 0-9 and '-', starting with a letter, not "
                    "starting with db- or cache-).",
    )
    jobs: dict[ServiceName, JobConfig] = Field(
        default_factory=dict,
        description="Scheduled jobs (EventBridge Scheduler runs a Fargate task), by name (same rules as a service "
                    "name).",
    )
    queues: dict[QueueName, QueueConfig] = Field(
        default_factory=dict,
        description="SQS queues, by name (1-40 of a-z, 0-9 and '-', starting with a letter): each with a dead-letter "
                    "queue, sent to by the services that list it in `produces`, worked off by the one that "
                    "`consumes` it.",
    )
    cache: Optional[CacheConfig] = Field(default=None, description="A Redis/Valkey cache; none without it.")
    database: Optional[DatabaseConfig] = Field(default=None, description="A PostgreSQL database; none without it.")
    app_secrets: Annotated[dict[str, SecretStr], AfterValidator(app_secrets_are_secret)] = Field(
        default_factory=dict,
        description="Values services reference with `secrets.<VAR>.fromConfig` (and cache.authTokenFromConfig); "
                    "only ever set with `pulumi config set --secret --path 'webstack:appSecrets.<name>' <value>`.",
    )
    cost: CostConfig = Field(default_factory=CostConfig, description="Usage assumptions of the cost estimate.")
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig, description="Alerts and alarms.")
    domain: Optional[DomainConfig] = Field(
        default=None, description="A custom domain with its own certificate; none without it (the load balancer's "
                                  "DNS name).",
    )
    registry: RegistryConfig = Field(default_factory=RegistryConfig, description="ECR repositories.")
    storage: Optional[StorageConfig] = Field(default=None, description="The media bucket; none without it.")
    access_logs: AccessLogsConfig = Field(default_factory=AccessLogsConfig,
                                          description="Load balancer access logs.")
    frontend: Optional[FrontendConfig] = Field(
        default=None,
        description="A static frontend on S3 + CloudFront in front of the load balancer; none without it (the "
                    "load balancer faces the internet).",
    )
    # Set by `resolved()`: not a key.
    _secret_recovery_days: int = PrivateAttr(default=SECRET_RECOVERY_DAYS["prod"])

    @property
    def is_production(self) -> bool:
        return self.environment == "prod"

    @property
    def web_acl_scope(self) -> Literal["REGIONAL", "CLOUDFRONT"]:
        """Where a WAF web ACL belongs: on the CloudFront distribution (CLOUDFRONT scope, created in us-east-1)
        when one is in front of the load balancer, which then only sees CloudFront's addresses; else on the
        load balancer (REGIONAL)."""
        return "CLOUDFRONT" if self.frontend is not None else "REGIONAL"

    @property
    def secret_recovery_days(self) -> int:
        """Days a deleted secret can be restored: 30 in prod, 7 elsewhere (Secrets Manager's range is 7-30)."""
        return self._secret_recovery_days

    @property
    def uses_service_connect(self) -> bool:
        return any(service.connect is not None or service.calls for service in self.services.values())

    def call_order(self) -> list[str]:
        """The service names, each after the services it `calls` (the rules refuse cycles): a client's tasks
        resolve only the names already in the namespace when they start."""
        order = graphlib.TopologicalSorter({name: service.calls for name, service in self.services.items()})
        return list(order.static_order())

    @staticmethod
    def _resolved_service(name: str, service: ServiceConfig, production: bool) -> ServiceConfig:
        """Deployment alarms on in prod (and wherever they are the only rollback) and a strategy's defaults; a
        queue consumer scales on its backlog per task; a service reachable by name answers to its own name on its
        own port unless `connect` says otherwise."""
        update = {"deployment": service.deployment.resolved(production, service.routes is not None)}
        if service.consumes is not None:
            update["scaling"] = service.scaling.model_copy(update={
                "backlog_per_task": service.scaling.backlog_per_task or DEFAULT_BACKLOG_PER_TASK})
        if service.connect is not None:
            update["connect"] = service.connect.model_copy(update={
                "name": service.connect.name or name, "port": service.connect.port or service.port})
        return service.model_copy(update=update)

    def resolved(self) -> "StackConfig":
        """The config with every environment-dependent default filled in, once: what components read."""
        production = self.is_production
        resolved = self.model_copy(update={
            "load_balancer": self.load_balancer.resolved(production, self.database is not None),
            "cache": self.cache.resolved(production) if self.cache is not None else None,
            "database": self.database.resolved(production) if self.database is not None else None,
            "registry": self.registry.resolved(production),
            "storage": self.storage.resolved(production, log_bucket=self.access_logs.resolved(production).enabled)
            if self.storage is not None else None,
            "access_logs": self.access_logs.resolved(production),
            "frontend": self.frontend.resolved(production) if self.frontend is not None else None,
            "services": {name: self._resolved_service(name, service, production)
                         for name, service in self.services.items()},
            # A job with `imageFrom` runs that service's image.
            "jobs": {name: job.model_copy(update={"image": job.image or self.services[job.image_from].image})
                     for name, job in self.jobs.items()},
        })
        resolved._secret_recovery_days = SECRET_RECOVERY_DAYS["prod" if production else "other"]
        return resolved
