"""`webstack:services.<name>`: one containerised service behind the load balancer."""

from __future__ import annotations

import re
import zoneinfo
from typing import Literal, Optional

from pydantic import Field, ValidationInfo, field_validator, model_validator

from helpers.fargate import CPU_UNITS, describe_memory_choices, is_valid_size
from policies.secret_shapes import secret_value_shape
from stackconfig.base import ConfigModel, looks_secret
from stackconfig.data import HOW_TO_SET_APP_SECRET, SecretRef
from helpers.names import has_registry_host
from stackconfig.edge import ECR_REPOSITORY_NAME, MigrateConfig, StorageAccess

ENV_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# AWS: a listener rule has at most 5 condition values in total (path patterns + host headers), and at
# most 5 wildcards (`*`, `?`) across them.
MAX_CONDITION_VALUES = 5
MAX_CONDITION_WILDCARDS = 5
# The characters ELB accepts in a path pattern (`&` only as `&amp;`) and in a host header pattern
# (at least one dot, only letters after the last one).
PATH_PATTERN = re.compile(r"^/[A-Za-z0-9_\-.$/~\"'@:+*?]*(&amp;[A-Za-z0-9_\-.$/~\"'@:+*?]*)*$")
HOST_PATTERN = re.compile(r"^[A-Za-z0-9\-.*?]*\.[A-Za-z*?]+$")
# ELB's target group health check: a path of at most 1024 characters; HTTP codes 200-499 for an ALB.
MAX_HEALTH_CHECK_PATH = 1024
HEALTH_CODES = range(200, 500)
# Application Auto Scaling schedules: cron() takes six fields (minutes hours day-of-month month
# day-of-week year), rate() a positive number and a unit, at() a date and time without zone.
SCHEDULE_EXPRESSION = (
    r"^(cron\(\S+( \S+){5}\)|rate\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\)"
    r"|at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\))$"
)
# Cookie names the load balancer keeps for itself (AWSALB, AWSALBAPP, AWSALBTG, ...).
RESERVED_COOKIE_PREFIX = "AWSALB"
# AWS's limit on an ECS container stop timeout for Fargate.
MAX_STOP_TIMEOUT = 120


class ImageConfig(ConfigModel):
    # An ECR repository of this account (`backend`) or a full image reference (`public.ecr.aws/nginx/nginx`).
    repository: str = Field(min_length=1)
    tag: Optional[str] = Field(default=None, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
    digest: Optional[str] = Field(default=None, pattern=r"^sha256:[0-9a-f]{64}$")

    @field_validator("repository")
    @classmethod
    def _ecr_repository_name(cls, repository: str) -> str:
        # A bare name becomes an ECR repository of this stack (README "Images and deploys"): ECR's rules apply.
        if not has_registry_host(repository) and not ECR_REPOSITORY_NAME.match(repository):
            raise ValueError(
                f"{repository!r} is not a valid ECR repository name: 2-256 characters, lower-case letters and "
                f"digits, separated by '.', '_', '-' or '/' (e.g. backend, team/api), or a full image "
                f"reference with its registry host (e.g. public.ecr.aws/nginx/nginx)"
            )
        return repository

    @model_validator(mode="after")
    def _tag_or_digest(self) -> "ImageConfig":
        if (self.tag is None) == (self.digest is None):
            raise ValueError("set exactly one of tag (e.g. the git SHA) or digest (sha256:...)")
        return self


class RoutesConfig(ConfigModel):
    paths: list[str] = Field(default_factory=list)
    hosts: list[str] = Field(default_factory=list)
    # Lower numbers are evaluated first; unique across services.
    priority: int = Field(ge=1, le=50000)

    @field_validator("paths")
    @classmethod
    def _paths_start_with_slash(cls, paths: list[str]) -> list[str]:
        for path in paths:
            if not path.startswith("/") or len(path) > 128:
                raise ValueError(f"path pattern {path!r} must start with '/' and be at most 128 characters")
            if not PATH_PATTERN.match(path):
                raise ValueError(
                    f"path pattern {path!r} may hold only letters, digits, _ - . $ / ~ \" ' @ : + &amp; "
                    f"and the wildcards * and ?"
                )
        return paths

    @field_validator("hosts")
    @classmethod
    def _host_patterns(cls, hosts: list[str]) -> list[str]:
        for host in hosts:
            if len(host) > 128 or not HOST_PATTERN.match(host):
                raise ValueError(
                    f"host pattern {host!r} must be at most 128 characters of letters, digits, - . and the "
                    f"wildcards * and ?, with at least one '.' and only letters after the last (e.g. "
                    f"api.example.com, *.example.com)"
                )
        return hosts

    @model_validator(mode="after")
    def _condition_values(self) -> "RoutesConfig":
        count = len(self.paths) + len(self.hosts)
        if count == 0:
            raise ValueError("a route needs at least one path or host")
        if count > MAX_CONDITION_VALUES:
            raise ValueError(
                f"{count} paths and hosts in one rule; AWS allows at most {MAX_CONDITION_VALUES} condition "
                f"values per listener rule (split the service's routes or use wildcards)"
            )
        wildcards = sum(value.count("*") + value.count("?") for value in self.paths + self.hosts)
        if wildcards > MAX_CONDITION_WILDCARDS:
            raise ValueError(
                f"{wildcards} wildcards (* and ?) in one rule's paths and hosts; AWS allows at most "
                f"{MAX_CONDITION_WILDCARDS} per listener rule"
            )
        return self


class HealthCheckConfig(ConfigModel):
    path: str = Field(default="/", pattern=r"^/", max_length=MAX_HEALTH_CHECK_PATH)
    interval: int = Field(default=30, ge=5, le=300)
    # 60 s is the most both the target group and an ECS container health check accept.
    timeout: int = Field(default=5, ge=2, le=60)
    healthy_threshold: int = Field(default=2, ge=2, le=10)
    unhealthy_threshold: int = Field(default=3, ge=2, le=10)
    matcher: str = Field(default="200-399", pattern=r"^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$")
    # Seconds ECS ignores failing load balancer health checks after a task starts.
    grace_period: int = Field(default=60, ge=0, le=2147483647)
    # Optional container-level check, e.g. ["CMD-SHELL", "curl -f http://localhost:8000/health || exit 1"].
    command: Optional[list[str]] = None

    @model_validator(mode="after")
    def _timeout_below_interval(self) -> "HealthCheckConfig":
        if self.timeout >= self.interval:
            raise ValueError(
                f"timeout ({self.timeout} s) must be less than interval ({self.interval} s)"
            )
        return self

    @field_validator("matcher")
    @classmethod
    def _alb_health_codes(cls, matcher: str) -> str:
        for part in matcher.split(","):
            low, _, high = part.partition("-")
            codes = (int(low), int(high or low))
            if not all(code in HEALTH_CODES for code in codes) or codes[0] > codes[1]:
                raise ValueError(
                    f"{part!r}: an Application Load Balancer's health check matches HTTP codes 200-499 "
                    f"(e.g. 200, 200-299 or 200,302)"
                )
        return matcher

    @field_validator("command")
    @classmethod
    def _docker_health_command(cls, command: Optional[list[str]]) -> Optional[list[str]]:
        if command is not None and (len(command) < 2 or command[0] not in ("CMD", "CMD-SHELL")):
            raise ValueError('a container health check command starts with "CMD" or "CMD-SHELL"')
        return command


class StickinessConfig(ConfigModel):
    # app_cookie follows the application's own session cookie; lb_cookie uses AWSALB.
    type: Literal["app_cookie", "lb_cookie"] = "lb_cookie"
    duration: int = Field(default=3600, ge=1, le=604800)
    cookie_name: Optional[str] = None

    @model_validator(mode="after")
    def _app_cookie_needs_name(self) -> "StickinessConfig":
        if self.type == "app_cookie" and not self.cookie_name:
            raise ValueError("stickiness type app_cookie needs cookieName (the application's cookie)")
        if self.type == "lb_cookie" and self.cookie_name:
            raise ValueError("cookieName is only used with type app_cookie")
        if self.cookie_name and self.cookie_name.startswith(RESERVED_COOKIE_PREFIX):
            raise ValueError(
                f"cookieName {self.cookie_name!r}: names starting with {RESERVED_COOKIE_PREFIX} are reserved for the "
                f"load balancer's own cookies (AWSALB, AWSALBAPP, AWSALBTG); use the application's session cookie"
            )
        return self


class ScheduleConfig(ConfigModel):
    name: str = Field(pattern=r"^[a-z0-9-]{1,40}$")
    # Application Auto Scaling expression: cron(...) with 6 fields, rate(<n> <unit>) or at(yyyy-mm-ddThh:mm:ss).
    schedule: str = Field(pattern=SCHEDULE_EXPRESSION)
    min: int = Field(ge=0, le=5000)
    max: int = Field(ge=0, le=5000)
    # An IANA time zone name (e.g. Europe/Berlin); cron and at times are read in it.
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _iana_time_zone(cls, timezone: str) -> str:
        # The `tzdata` package (requirements.txt) provides the names wherever the OS has none.
        if timezone not in zoneinfo.available_timezones():
            raise ValueError(f"{timezone!r} is not an IANA time zone name (e.g. UTC, Europe/Berlin, America/New_York)")
        return timezone

    @model_validator(mode="after")
    def _min_below_max(self) -> "ScheduleConfig":
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        return self


class ScalingConfig(ConfigModel):
    min: int = Field(default=2, ge=0, le=5000)
    max: int = Field(default=10, ge=1, le=5000)
    # Tasks at first deploy; autoscaling owns the count afterwards. Defaults to min.
    desired: Optional[int] = Field(default=None, ge=0)
    cpu_target: float = Field(default=70, gt=0, le=100)
    memory_target: Optional[float] = Field(default=None, gt=0, le=100)
    # Target of ALBRequestCountPerTarget (requests per target per minute).
    requests_per_target: Optional[int] = Field(default=None, ge=1)
    scale_out_cooldown: int = Field(default=60, ge=0, le=3600)
    scale_in_cooldown: int = Field(default=300, ge=0, le=3600)
    schedules: list[ScheduleConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered_counts(self) -> "ScalingConfig":
        desired = self.initial_count
        if not self.min <= desired <= self.max:
            raise ValueError(
                f"tasks must satisfy min <= desired <= max; got min {self.min}, desired {desired}, max {self.max}"
            )
        if self.scale_out_cooldown > self.scale_in_cooldown:
            raise ValueError(
                f"scaleOutCooldown ({self.scale_out_cooldown} s) longer than scaleInCooldown "
                f"({self.scale_in_cooldown} s) makes the service slow to grow and quick to shrink; "
                f"keep scale-out faster"
            )
        names = [schedule.name for schedule in self.schedules]
        if len(set(names)) != len(names):
            raise ValueError("schedule names must be unique")
        return self

    @property
    def initial_count(self) -> int:
        return self.min if self.desired is None else self.desired


class DeploymentConfig(ConfigModel):
    minimum_healthy_percent: int = Field(default=100, ge=0, le=100)
    maximum_percent: int = Field(default=200, ge=100, le=200)

    @model_validator(mode="after")
    def _room_to_deploy(self) -> "DeploymentConfig":
        if self.minimum_healthy_percent == self.maximum_percent:
            raise ValueError(
                f"minimumHealthyPercent and maximumPercent both {self.maximum_percent}: ECS could neither start a "
                f"new task nor stop an old one, so no deployment would ever progress; raise maximumPercent "
                f"(e.g. 200) or lower minimumHealthyPercent"
            )
        return self


class ServiceConfig(ConfigModel):
    image: ImageConfig
    port: int = Field(ge=1, le=65535)
    cpu: int = 256
    memory: int = 512
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    command: Optional[list[str]] = None
    routes: RoutesConfig
    health_check: HealthCheckConfig = Field(default_factory=HealthCheckConfig)
    deregistration_delay: int = Field(default=30, ge=0, le=3600)
    stickiness: Optional[StickinessConfig] = None
    scaling: ScalingConfig = Field(default_factory=ScalingConfig)
    deployment: DeploymentConfig = Field(default_factory=DeploymentConfig)
    # Run tasks beyond the first on FARGATE_SPOT (up to 70 % cheaper, may be interrupted).
    spot: bool = False
    stop_timeout: int = Field(default=30, ge=2, le=MAX_STOP_TIMEOUT)
    enable_exec: bool = False
    environment: dict[str, str] = Field(default_factory=dict)
    # A one-off migrations task with this command, e.g. ["python", "manage.py", "migrate", "--noinput"].
    migrate: Optional[MigrateConfig] = None
    # Access to the stack's media bucket through the task role (none without it).
    storage: Optional[StorageAccess] = None
    # Container variables read from Secrets Manager at task start (never plaintext in the task definition).
    secrets: dict[str, SecretRef] = Field(default_factory=dict)
    # Data stores the service connects to: their endpoints and credentials are injected.
    uses: list[Literal["database", "cache"]] = Field(default_factory=list)

    @field_validator("cpu")
    @classmethod
    def _fargate_cpu(cls, cpu: int) -> int:
        if cpu not in CPU_UNITS:
            raise ValueError(f"Fargate CPU units must be one of {', '.join(map(str, CPU_UNITS))}")
        return cpu

    @field_validator("memory")
    @classmethod
    def _fargate_memory(cls, memory: int, info: ValidationInfo) -> int:
        cpu = info.data.get("cpu")
        if cpu is not None and not is_valid_size(cpu, memory):
            raise ValueError(f"with cpu {cpu} Fargate accepts memory of {describe_memory_choices(cpu)}")
        return memory

    @field_validator("environment", "secrets")
    @classmethod
    def _variable_names(cls, variables: dict) -> dict:
        for name in variables:
            if not ENV_VAR_NAME.match(name):
                raise ValueError(
                    f"environment variable name {name!r} must match {ENV_VAR_NAME.pattern} "
                    f"(letters, digits, underscores; not starting with a digit)"
                )
        return variables

    @field_validator("environment")
    @classmethod
    def _no_plaintext_secrets(cls, environment: dict[str, str]) -> dict[str, str]:
        """A task definition is readable by anyone with ecs:Describe*; credentials go in `secrets`."""
        for name, value in environment.items():
            if looks_secret(name):
                reason = "its name looks like a secret"
            else:
                shape = secret_value_shape(value)
                if shape is None:
                    continue
                reason = f"its value holds {shape}"
            raise ValueError(
                f"environment variable {name} must not be plaintext ({reason}); declare it under secrets instead: "
                f"`secrets: {{{name}: {{secretsManagerArn: arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf}}}}` "
                f"for an existing secret, or `secrets: {{{name}: {{fromConfig: <key>}}}}` after "
                f"`{HOW_TO_SET_APP_SECRET.format(name='<key>')}`"
            )
        return environment

    @field_validator("uses")
    @classmethod
    def _unique_stores(cls, uses: list[str]) -> list[str]:
        if len(set(uses)) != len(uses):
            raise ValueError("list each data store once")
        return uses

    @model_validator(mode="after")
    def _spot_runs_x86_only(self) -> "ServiceConfig":
        if self.spot and self.architecture == "arm64":
            raise ValueError(
                "spot: true with architecture: arm64 cannot run: Fargate Spot has no ARM64 capacity; "
                "choose one (ARM is ~20 % cheaper on demand, Spot up to ~70 % cheaper on x86_64)"
            )
        return self

    @model_validator(mode="after")
    def _environment_and_secrets_disjoint(self) -> "ServiceConfig":
        both = sorted(set(self.environment) & set(self.secrets))
        if both:
            raise ValueError(f"{', '.join(both)} set both as plain environment and as secret; keep one")
        return self
