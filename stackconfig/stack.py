"""The whole stack's config: one validated object, built before any resource is declared."""

from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import Field, SecretStr, field_validator, model_validator

from stackconfig.base import LOG_RETENTION_DAYS, ConfigModel
from stackconfig.cost import CostConfig
from stackconfig.data import CacheConfig, DatabaseConfig, check_app_secrets_are_secret, data_tier_problems
from stackconfig.edge import AccessLogsConfig, DomainConfig, RegistryConfig, StorageConfig
from stackconfig.load_balancer import LoadBalancerConfig
from stackconfig.monitoring import MonitoringConfig
from stackconfig.network import NetworkConfig
from stackconfig.service import ServiceConfig

SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
# Monitoring names the database's and cache's alarms `db-<label>-…` and `cache-<n>-…`.
RESERVED_SERVICE_PREFIXES = ("db-", "cache-")


class LogsConfig(ConfigModel):
    retention_days: int = 30

    @field_validator("retention_days")
    @classmethod
    def _cloudwatch_retention(cls, days: int) -> int:
        if days not in LOG_RETENTION_DAYS:
            raise ValueError(f"CloudWatch Logs accepts retention of {', '.join(map(str, LOG_RETENTION_DAYS))} days")
        return days


class ClusterConfig(ConfigModel):
    # "enhanced" adds per-task and per-container metrics at a higher CloudWatch cost.
    container_insights: Literal["enabled", "enhanced"] = "enabled"


class StackConfig(ConfigModel):
    environment: Literal["dev", "staging", "prod"]
    owner: str = Field(min_length=1, max_length=256)
    region: str
    network: NetworkConfig
    logs: LogsConfig = Field(default_factory=LogsConfig)
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    load_balancer: LoadBalancerConfig = Field(default_factory=LoadBalancerConfig)
    services: dict[str, ServiceConfig] = Field(min_length=1)
    cache: Optional[CacheConfig] = None
    database: Optional[DatabaseConfig] = None
    # Values services reference with `fromConfig`; only ever set with `pulumi config set --secret`.
    app_secrets: dict[str, SecretStr] = Field(default_factory=dict)
    cost: CostConfig = Field(default_factory=CostConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    domain: Optional[DomainConfig] = None
    registry: RegistryConfig = Field(default_factory=RegistryConfig)
    storage: Optional[StorageConfig] = None
    access_logs: AccessLogsConfig = Field(default_factory=AccessLogsConfig)

    @field_validator("region")
    @classmethod
    def _commercial_region(cls, region: str) -> str:
        """IAM ARNs here are written for the `aws` partition; GovCloud and China use other partitions."""
        if not re.fullmatch(r"[a-z]{2}-[a-z]+-\d", region) or region.startswith("cn-"):
            raise ValueError("set aws:region to a commercial AWS region such as us-east-1 or eu-west-1 "
                             "(GovCloud and China regions are not supported)")
        return region

    @field_validator("app_secrets")
    @classmethod
    def _app_secrets_encrypted(cls, app_secrets: dict[str, SecretStr]) -> dict[str, SecretStr]:
        check_app_secrets_are_secret(app_secrets)
        return app_secrets

    @property
    def is_production(self) -> bool:
        return self.environment == "prod"

    @field_validator("services")
    @classmethod
    def _service_names(cls, services: dict[str, ServiceConfig]) -> dict[str, ServiceConfig]:
        for name in services:
            if not SERVICE_NAME.match(name):
                raise ValueError(
                    f"service name {name!r} must be 1-20 characters of a-z, 0-9 and '-', starting with a letter "
                    f"(it prefixes AWS names with length limits)"
                )
            if name.startswith(RESERVED_SERVICE_PREFIXES):
                raise ValueError(
                    f"service name {name!r} starts with a prefix reserved for the data tier's alarms "
                    f"({', '.join(RESERVED_SERVICE_PREFIXES)}); choose another name"
                )
        return services

    @model_validator(mode="after")
    def _cross_checks(self) -> "StackConfig":
        """Checks across sections, all reported together (one validator, so none hides another)."""
        problems = (
            self._routing_and_network_problems()
            + data_tier_problems(self.services, self.cache, self.database, self.app_secrets)
            + self._edge_problems()
            + self._production_service_problems()
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _routing_and_network_problems(self) -> list[str]:
        problems = []
        priorities: dict[int, str] = {}
        for name, service in self.services.items():
            other = priorities.setdefault(service.routes.priority, name)
            if other != name:
                problems.append(
                    f"services {other} and {name} share routes.priority {service.routes.priority}; "
                    f"listener rule priorities must be unique"
                )
        for zone in self.network.availability_zones:
            if not zone.startswith(self.region):
                problems.append(f"availability zone {zone} is not in region {self.region}")
        try:
            self.network.check_fits()
        except ValueError as error:
            problems.append(f"network: {error}")
        return problems

    def _production_service_problems(self) -> list[str]:
        """Prod deploys never drop below the running count (a rolling deploy starts new tasks first)."""
        if not self.is_production:
            return []
        return [
            f"services.{name}.deployment.minimumHealthyPercent {service.deployment.minimum_healthy_percent} is not "
            f"allowed in prod: a deploy would stop running tasks before their replacements are healthy (use 100)"
            for name, service in self.services.items() if service.deployment.minimum_healthy_percent < 100
        ]

    def _edge_problems(self) -> list[str]:
        problems = []
        if self.domain is not None and self.load_balancer.certificate_arn is not None:
            problems.append(
                "set either domain (the stack requests and validates its own certificate) or "
                "loadBalancer.certificateArn (an existing certificate), not both"
            )
        if self.storage is None:
            users = [name for name, service in self.services.items() if service.storage is not None]
            if users:
                problems.append(f"services {', '.join(users)} set storage but the stack has no storage bucket; "
                                f"add webstack:storage (e.g. {{}})")
        if self.is_production and self.registry.tag_mutability == "MUTABLE":
            problems.append("registry.tagMutability MUTABLE is not allowed in prod: a deployed tag must always "
                            "name the same image (rollbacks, audits)")
        if self.is_production and self.registry.force_delete:
            problems.append("registry.forceDelete is not allowed in prod: it deletes every image with the stack")
        return problems
