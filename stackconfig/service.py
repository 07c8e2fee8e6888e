"""`webstack:services.<name>`: one containerised service, behind the load balancer or not (a worker)."""

from __future__ import annotations

import re
import zoneinfo
from typing import Annotated, Literal, Optional

from pydantic import AfterValidator, Field, field_validator

from helpers.container import writable_volume_name
from helpers.fargate import CPU_UNITS
from helpers.names import has_registry_host
from stackconfig.base import ConfigModel, doc
from stackconfig.data import SecretRef
from stackconfig.edge import ECR_REPOSITORY_NAME, MigrateConfig, StorageAccess
from stackconfig.queues import QueueName

ENV_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# AWS: a listener rule has at most 5 condition values in total (path patterns + host headers), and at
# most 5 wildcards (`*`, `?`) across them.
MAX_CONDITION_VALUES = 5
MAX_CONDITION_WILDCARDS = 5
MAX_PATTERN_LENGTH = 128
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
# A Service Connect name (client alias DNS name and Cloud Map service name): one DNS label.
CONNECT_NAME = r"^[a-z][a-z0-9-]{0,62}$"
# AWS's limit on an ECS container stop timeout for Fargate.
MAX_STOP_TIMEOUT = 120
# ECS deployment configuration: bake times of 0-1440 minutes; traffic shares in steps of 0.1 %.
MAX_BAKE_MINUTES = 1440
DEFAULT_BAKE_MINUTES = 10
# Fargate's ephemeral storage: 20 GiB without a setting, 21-200 GiB with one.
MIN_EPHEMERAL_GIB, MAX_EPHEMERAL_GIB = 21, 200
WRITABLE_PATH = re.compile(r"^(/[A-Za-z0-9._-]+)+$")


def _path_pattern(path: str) -> str:
    if not path.startswith("/") or len(path) > MAX_PATTERN_LENGTH:
        raise ValueError(f"a path pattern starts with '/' and is at most {MAX_PATTERN_LENGTH} characters")
    if not PATH_PATTERN.match(path):
        raise ValueError("a path pattern may hold only letters, digits, _ - . $ / ~ \" ' @ : + &amp; and the "
                         "wildcards * and ?")
    return path


def _host_pattern(host: str) -> str:
    if len(host) > MAX_PATTERN_LENGTH or not HOST_PATTERN.match(host):
        raise ValueError(
            f"a host pattern is at most {MAX_PATTERN_LENGTH} characters of letters, digits, - . and the wildcards "
            f"* and ?, with at least one '.' and only letters after the last (e.g. api.example.com, *.example.com)"
        )
    return host


def _variable_name(name: str) -> str:
    if not ENV_VAR_NAME.match(name):
        raise ValueError(f"an environment variable name must match {ENV_VAR_NAME.pattern} "
                         f"(letters, digits, underscores; not starting with a digit)")
    return name


def _tenth_of_a_percent(percent: float) -> float:
    if abs(percent * 10 - round(percent * 10)) > 1e-9:
        raise ValueError("ECS shifts traffic in steps of 0.1 %: use a multiple of 0.1 (e.g. 5 or 12.5)")
    return percent


def _writable_path(path: str) -> str:
    if not WRITABLE_PATH.match(path) or any(part in (".", "..") for part in path.split("/")):
        raise ValueError("a writable path is an absolute directory below / (e.g. /tmp, /var/cache/nginx): letters, "
                         "digits, '.', '_' and '-' between slashes, no trailing slash, no . or ..")
    return path


def _distinct_volumes(paths: list[str]) -> list[str]:
    names: dict[str, str] = {}
    for path in paths:
        other = names.setdefault(writable_volume_name(path), path)
        if other != path:
            raise ValueError(f"{other} and {path} would share one task volume ({writable_volume_name(path)}): "
                             f"list each directory once")
    return paths


PathPattern = Annotated[str, AfterValidator(_path_pattern)]
WritablePath = Annotated[str, AfterValidator(_writable_path)]
HostPattern = Annotated[str, AfterValidator(_host_pattern)]
def _fargate_cpu(cpu: int) -> int:
    if cpu not in CPU_UNITS:
        raise ValueError(f"Fargate CPU units must be one of {', '.join(map(str, CPU_UNITS))}")
    return cpu


def _iana_time_zone(timezone: str) -> str:
    # The `tzdata` package (requirements.txt) provides the names wherever the OS has none.
    if timezone not in zoneinfo.available_timezones():
        raise ValueError(f"{timezone!r} is not an IANA time zone name (e.g. UTC, Europe/Berlin, America/New_York)")
    return timezone


VariableName = Annotated[str, AfterValidator(_variable_name)]
FargateCpu = Annotated[int, AfterValidator(_fargate_cpu)]
TimeZone = Annotated[str, AfterValidator(_iana_time_zone)]


class ImageConfig(ConfigModel):
    """The container image: a repository and exactly one of `tag` or `digest`."""

    repository: str = Field(
        min_length=1,
        description="A bare name (`backend`, `team/api`) is an ECR repository this stack creates in its account; "
                    "a full reference with a registry host (`public.ecr.aws/nginx/nginx`) is pulled as is.",
        json_schema_extra=doc(allowed="an ECR repository name (2-256 lower-case letters and digits separated by "
                                      "'.', '_', '-' or '/') or an image reference with its registry host"),
    )
    tag: Optional[str] = Field(
        default=None, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$",
        description="The image tag, e.g. the git SHA. Exactly one of `tag` or `digest`.",
        json_schema_extra=doc(allowed="1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"),
    )
    digest: Optional[str] = Field(
        default=None, pattern=r"^sha256:[0-9a-f]{64}$",
        description="The image digest (`sha256:...`). Exactly one of `tag` or `digest`.",
        json_schema_extra=doc(allowed="sha256: and 64 lower-case hex digits"),
    )

    @field_validator("repository")
    @classmethod
    def _ecr_repository_name(cls, repository: str) -> str:
        # A bare name becomes an ECR repository of this stack: ECR's rules apply.
        if not has_registry_host(repository) and not ECR_REPOSITORY_NAME.match(repository):
            raise ValueError(
                f"{repository!r} is not a valid ECR repository name: 2-256 characters, lower-case letters and "
                f"digits, separated by '.', '_', '-' or '/' (e.g. backend, team/api), or a full image "
                f"reference with its registry host (e.g. public.ecr.aws/nginx/nginx)"
            )
        return repository


class RoutesConfig(ConfigModel):
    """Which requests the load balancer sends to the service: one listener rule."""

    paths: list[PathPattern] = Field(
        default_factory=list,
        description="Path patterns of the rule, e.g. `/api/*`.",
        json_schema_extra=doc(allowed=f"each starts with `/`, at most {MAX_PATTERN_LENGTH} of letters, digits, "
                                      f"`_-.$/~\"'@:+`, `&amp;` and the wildcards `*` `?`"),
    )
    hosts: list[HostPattern] = Field(
        default_factory=list,
        description="Host header patterns of the rule, e.g. `api.example.com`, `*.example.com`.",
        json_schema_extra=doc(allowed=f"each at most {MAX_PATTERN_LENGTH} of letters, digits, `-.` and the "
                                      f"wildcards `*` `?`, with at least one `.`"),
    )
    priority: int = Field(
        ge=1, le=50000,
        description="Rule order: lower numbers are evaluated first. Unique across services. Paths and hosts "
                    f"together: at least 1 and at most {MAX_CONDITION_VALUES} values, at most "
                    f"{MAX_CONDITION_WILDCARDS} wildcards.",
    )


class HealthCheckConfig(ConfigModel):
    """The target group's health check (and optionally the container's own)."""

    path: str = Field(default="/", pattern=r"^/", max_length=MAX_HEALTH_CHECK_PATH,
                      description="Path the load balancer requests on each task.",
                      json_schema_extra=doc(allowed=f"a path starting with /, at most {MAX_HEALTH_CHECK_PATH} "
                                                    f"characters"))
    interval: int = Field(default=30, ge=5, le=300, description="Seconds between checks.")
    # 60 s is the most both the target group and an ECS container health check accept.
    timeout: int = Field(default=5, ge=2, le=60, description="Seconds to wait for an answer; less than `interval`.")
    healthy_threshold: int = Field(default=2, ge=2, le=10,
                                   description="Consecutive successes before a task receives traffic.")
    unhealthy_threshold: int = Field(default=3, ge=2, le=10,
                                     description="Consecutive failures before a task is taken out of service.")
    matcher: str = Field(
        default="200-399", pattern=r"^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$",
        description="HTTP codes that count as healthy.",
        json_schema_extra=doc(allowed="codes or ranges of 200-499: `200`, `200-299`, `200,302`"),
    )
    grace_period: int = Field(
        default=60, ge=0, le=2147483647,
        description="Seconds ECS ignores failing load balancer health checks after a task starts.",
    )
    command: Optional[list[str]] = Field(
        default=None,
        description='An optional container-level check, e.g. `["CMD-SHELL", "curl -f http://localhost:8000/health '
                    '|| exit 1"]`.',
        json_schema_extra=doc(allowed='a list starting with "CMD" or "CMD-SHELL"'),
    )

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
    """Sticky sessions: a client keeps reaching the same task (WebSockets, in-memory sessions)."""

    type: Literal["app_cookie", "lb_cookie"] = Field(
        default="lb_cookie",
        description="`lb_cookie`: the load balancer's own cookie (AWSALB); `app_cookie`: follow the application's "
                    "session cookie named `cookieName`.",
    )
    duration: int = Field(default=3600, ge=1, le=604800, description="Seconds a client stays on its task.")
    cookie_name: Optional[str] = Field(
        default=None,
        description="The application's session cookie; `app_cookie` only.",
        json_schema_extra=doc(allowed=f"not starting with {RESERVED_COOKIE_PREFIX}"),
    )

    @field_validator("cookie_name")
    @classmethod
    def _not_the_load_balancers(cls, cookie_name: Optional[str]) -> Optional[str]:
        if cookie_name and cookie_name.startswith(RESERVED_COOKIE_PREFIX):
            raise ValueError(
                f"names starting with {RESERVED_COOKIE_PREFIX} are reserved for the load balancer's own cookies "
                f"(AWSALB, AWSALBAPP, AWSALBTG); use the application's session cookie"
            )
        return cookie_name


class ScheduleConfig(ConfigModel):
    """A scheduled change of the task count range, e.g. dev scaled to zero at night."""

    name: str = Field(pattern=r"^[a-z0-9-]{1,40}$", description="Unique within the service.",
                      json_schema_extra=doc(allowed="1-40 of a-z, 0-9 and -"))
    schedule: str = Field(
        pattern=SCHEDULE_EXPRESSION,
        description="When: `cron(m h dom mon dow year)`, `rate(30 minutes)` or `at(2030-01-01T06:00:00)`.",
        json_schema_extra=doc(allowed="cron(...) with six fields (minutes hours day-of-month month day-of-week "
                                      "year), rate(<n> minute(s)|hour(s)|day(s)) with n >= 1, or "
                                      "at(yyyy-mm-ddThh:mm:ss)"),
    )
    min: int = Field(ge=0, le=5000, description="Minimum tasks from then on; at most `max`.")
    max: int = Field(ge=0, le=5000, description="Maximum tasks from then on.")
    timezone: TimeZone = Field(default="UTC", description="IANA time zone the cron and at times are read in.",
                               json_schema_extra=doc(allowed="an IANA time zone name, e.g. Europe/Berlin"))


class ScalingConfig(ConfigModel):
    """Task count and target tracking (Application Auto Scaling owns the count after the first deploy)."""

    min: int = Field(default=2, ge=0, le=5000, description="Fewest running tasks (the running-tasks alarm fires "
                                                            "below it).")
    max: int = Field(default=10, ge=1, le=5000, description="Most running tasks; at least `min`.")
    desired: Optional[int] = Field(
        default=None, ge=0,
        description="Tasks at the first deploy; autoscaling owns the count afterwards. Between `min` and `max`.",
        json_schema_extra=doc(default="`min`"),
    )
    cpu_target: float = Field(default=70, gt=0, le=100, description="Average CPU % target tracking keeps.")
    memory_target: Optional[float] = Field(default=None, gt=0, le=100,
                                           description="Average memory % target tracking keeps; none without it.")
    requests_per_target: Optional[int] = Field(
        default=None, ge=1,
        description="Target of ALBRequestCountPerTarget (requests per task per minute); none without it.",
    )
    backlog_per_task: Optional[int] = Field(
        default=None, ge=1, le=1000000,
        description="Target of the consumed queue's backlog per task (ApproximateNumberOfMessagesVisible / running "
                    "tasks): about how many messages one task works off in the latency you accept. A service with "
                    "`consumes` only.",
        json_schema_extra=doc(default="10 for a service with `consumes`, else none"),
    )
    scale_out_cooldown: int = Field(default=60, ge=0, le=3600,
                                    description="Seconds after a scale-out before the next; at most scaleInCooldown.")
    scale_in_cooldown: int = Field(default=300, ge=0, le=3600, description="Seconds after a scale-in before the next.")
    schedules: list[ScheduleConfig] = Field(default_factory=list,
                                            description="Scheduled changes of `min`/`max`, e.g. dev scaled to zero "
                                                        "at night.")

    @property
    def initial_count(self) -> int:
        return self.min if self.desired is None else self.desired


class CanaryConfig(ConfigModel):
    """`canary`: a share of production traffic goes to the new revision first, the rest after a bake time."""

    percent: Annotated[float, AfterValidator(_tenth_of_a_percent)] = Field(
        default=5.0, ge=0.1, le=100,
        description="Share of production traffic shifted to the new revision first.",
        json_schema_extra=doc(allowed="0.1-100, in steps of 0.1"),
    )
    bake_minutes: int = Field(default=10, ge=0, le=MAX_BAKE_MINUTES,
                              description="Minutes at that share before the remaining traffic shifts.")


class LinearConfig(ConfigModel):
    """`linear`: production traffic shifts to the new revision in equal steps with a bake time between them."""

    step_percent: Annotated[float, AfterValidator(_tenth_of_a_percent)] = Field(
        default=10.0, ge=3, le=100,
        description="Share of production traffic shifted per step.",
        json_schema_extra=doc(allowed="3-100, in steps of 0.1"),
    )
    step_bake_minutes: int = Field(default=6, ge=0, le=MAX_BAKE_MINUTES,
                                   description="Minutes between steps (none after the last).")


class DeploymentTestRoute(ConfigModel):
    """A test listener rule: requests carrying this header reach the new revision before production traffic does."""

    header: str = Field(
        default="X-Deployment-Test", pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,40}$",
        description="The HTTP header name that selects the test route (not a secret: anyone sending it reaches "
                    "the new revision while it is tested).",
        json_schema_extra=doc(allowed="1-40 characters of an HTTP header name"),
    )
    value: str = Field(min_length=1, max_length=128, pattern=r"^[ -~]+$",
                       description="The header value the test route matches.",
                       json_schema_extra=doc(allowed="1-128 printable ASCII characters"))
    priority: int = Field(
        ge=1, le=50000,
        description="The test rule's priority: lower than `routes.priority` (evaluated first), unique across "
                    "services.",
    )


class DeploymentConfig(ConfigModel):
    """How ECS replaces tasks on a deploy: a rolling update, or ECS's blue/green, canary or linear traffic shift."""

    strategy: Literal["rolling", "blueGreen", "canary", "linear"] = Field(
        default="rolling",
        description="`rolling`: new tasks replace old ones behind the same target group (circuit breaker and "
                    "deployment alarms roll back). `blueGreen`, `canary`, `linear`: ECS starts the new revision "
                    "in a second target group and shifts the listener rule's traffic to it all at once, a share "
                    "first, or in steps; the deployment alarms and the bake time roll it back. Those three need "
                    "`routes` (docs/releases.md, \"Deployment strategies\").",
    )
    alarms: Optional[bool] = Field(
        default=None,
        description="Deployment alarms: ECS fails and rolls back a deployment while the service's 5xx-rate or "
                    "unhealthy-hosts alarm fires. Services with `routes` only.",
        json_schema_extra=doc(default="on in prod and with blueGreen, canary or linear (services with routes); "
                                      "off otherwise"),
    )
    bake_time_minutes: Optional[int] = Field(
        default=None, ge=0, le=MAX_BAKE_MINUTES,
        description="Minutes both revisions keep running after all traffic shifted (the alarms can still roll "
                    "back); blueGreen, canary and linear only.",
        json_schema_extra=doc(default=f"{DEFAULT_BAKE_MINUTES} with blueGreen, canary or linear"),
    )
    canary: Optional[CanaryConfig] = Field(default=None, description="Canary steps; strategy canary only.",
                                           json_schema_extra=doc(default="5 % for 10 minutes with strategy canary"))
    linear: Optional[LinearConfig] = Field(default=None, description="Linear steps; strategy linear only.",
                                           json_schema_extra=doc(default="10 % every 6 minutes with strategy "
                                                                         "linear"))
    test_traffic: Optional[DeploymentTestRoute] = Field(
        default=None,
        description="A test listener rule for the new revision before it gets production traffic; blueGreen, "
                    "canary and linear only. None without it.",
    )

    minimum_healthy_percent: int = Field(
        default=100, ge=0, le=100,
        description="Share of the running count kept healthy during a deploy; prod requires 100.",
    )
    maximum_percent: int = Field(
        default=200, ge=100, le=200,
        description="Share of the running count allowed during a deploy (new tasks start before old ones stop); "
                    "not equal to minimumHealthyPercent.",
    )

    @property
    def shifts_traffic(self) -> bool:
        """blueGreen, canary or linear: ECS moves the listener rule's traffic between two target groups."""
        return self.strategy != "rolling"

    def resolved(self, production: bool, behind_load_balancer: bool = True) -> "DeploymentConfig":
        """Alarms on by default in prod and wherever they are the only automatic rollback; a bake time and
        the strategy's steps where the strategy uses them."""
        alarms = self.alarms
        if alarms is None:
            alarms = behind_load_balancer and (production or self.shifts_traffic)
        return self.model_copy(update={
            "alarms": alarms,
            "bake_time_minutes": self.bake_time_minutes if self.bake_time_minutes is not None or not
            self.shifts_traffic else DEFAULT_BAKE_MINUTES,
            "canary": self.canary or (CanaryConfig() if self.strategy == "canary" else None),
            "linear": self.linear or (LinearConfig() if self.strategy == "linear" else None),
        })


class ContainerFilesystem(ConfigModel):
    """The container's filesystem, for services and jobs alike."""

    read_only_root_filesystem: bool = Field(
        default=True,
        description="The container cannot write to its image's filesystem; it writes only to `writablePaths`. "
                    "Turn off for an image that cannot run that way, and for a service with `enableExec` (ECS Exec "
                    "does not support a read-only root filesystem).",
    )
    writable_paths: Annotated[list[WritablePath], AfterValidator(_distinct_volumes)] = Field(
        default_factory=list,
        description="Directories the container writes to, e.g. `/tmp`: each is an empty task-scoped volume "
                    "(Fargate ephemeral storage, gone when the task stops) mounted read-write over the image's "
                    "directory.",
        json_schema_extra=doc(allowed="absolute directories such as /tmp or /var/cache/nginx, each once"),
    )
    ephemeral_storage_gib: Optional[int] = Field(
        default=None, ge=MIN_EPHEMERAL_GIB, le=MAX_EPHEMERAL_GIB, alias="ephemeralStorageGiB",
        description="Fargate ephemeral storage per task in GiB (image layers and `writablePaths` share it); "
                    "Fargate's 20 GiB without it.",
    )


class ConnectConfig(ConfigModel):
    """The service's `port` reachable by name from the stack's other services (ECS Service Connect).

    Callers list the service in their `calls`; its security group admits exactly those callers, on
    `port`. Clients reach it at `http://<name>:<port>` (this block's `name` and `port`).
    """

    name: Optional[str] = Field(
        default=None, pattern=CONNECT_NAME,
        description="The name callers use (`http://<name>:<port>`), also the Cloud Map service's name; unique "
                    "across the stack's services.",
        json_schema_extra=doc(default="the service's name", allowed="1-63 of a-z, 0-9 and '-', starting with a "
                                                                    "letter"),
    )
    port: Optional[int] = Field(
        default=None, ge=1, le=65535,
        description="The port callers use in the URL; the proxy forwards to the container's `port` either way.",
        json_schema_extra=doc(default="the service's `port`"),
    )


class ServiceConfig(ContainerFilesystem):
    """One Fargate service: task definition, autoscaling and, with `routes`, a target group and listener rule.

    Without `routes` (a queue worker) the service has no target group, listener rule, load balancer
    ingress or load balancer alarms; its container health check (`healthCheck.command`) is its health
    signal.
    """

    image: ImageConfig = Field(description="The container image.")
    port: Optional[int] = Field(
        default=None, ge=1, le=65535,
        description="The container port the load balancer sends traffic to; none for a service that listens on "
                    "no port (a queue worker). Required with `routes`.",
    )
    cpu: FargateCpu = Field(default=256, description="Task CPU units (1024 = 1 vCPU).",
                            json_schema_extra=doc(allowed=", ".join(map(str, CPU_UNITS))))
    memory: int = Field(
        default=512,
        description="Task memory in MiB, within Fargate's range for `cpu`.",
        json_schema_extra=doc(allowed="256: 512-2048; 512: 1024-4096; 1024: 2048-8192; 2048: 4096-16384; 4096: "
                                      "8192-30720 (1024 steps); 8192: 16384-61440 (4096 steps); 16384: "
                                      "32768-122880 (8192 steps)"),
    )
    architecture: Literal["x86_64", "arm64"] = Field(
        default="x86_64", description="CPU architecture of the image; ARM is ~20 % cheaper if the image supports it.",
    )
    command: Optional[list[str]] = Field(default=None, description="The container command; the image's without it.")
    routes: Optional[RoutesConfig] = Field(
        default=None,
        description="Which requests reach the service through the load balancer; without it the service is not "
                    "behind the load balancer (no target group, listener rule or load balancer alarms).",
    )
    health_check: HealthCheckConfig = Field(default_factory=HealthCheckConfig, description="Health checks.")
    deregistration_delay: int = Field(default=30, ge=0, le=3600,
                                      description="Seconds a stopping task keeps serving open connections (draining).")
    stickiness: Optional[StickinessConfig] = Field(default=None, description="Sticky sessions; off without it.")
    scaling: ScalingConfig = Field(default_factory=ScalingConfig, description="Task counts and autoscaling.")
    deployment: DeploymentConfig = Field(default_factory=DeploymentConfig,
                                         description="Deployment strategy, alarms and rolling update limits.")
    spot: bool = Field(
        default=False,
        description="Run tasks beyond the first on FARGATE_SPOT (up to 70 % cheaper, may be interrupted); "
                    "x86_64 only.",
    )
    stop_timeout: int = Field(default=30, ge=2, le=MAX_STOP_TIMEOUT,
                              description="Seconds between SIGTERM and SIGKILL (graceful shutdown).")
    enable_exec: bool = Field(default=False, description="ECS Exec (`aws ecs execute-command`) into running tasks; "
                                                         "needs `readOnlyRootFilesystem: false`.")
    environment: dict[VariableName, str] = Field(
        default_factory=dict,
        description="Plain, non-secret container variables. A name or value that looks like a secret is refused: "
                    "those go under `secrets`.",
        json_schema_extra=doc(allowed="names of letters, digits and '_', not starting with a digit; no name or "
                                      "value that looks like a secret (password, token, api key, a URL with a "
                                      "password, a private key, an AWS access key, ...)"),
    )
    migrate: Optional[MigrateConfig] = Field(
        default=None,
        description="A one-off task definition with this command, e.g. Django's migrate (stack output "
                    "`migrationCommands`).",
    )
    storage: Optional[StorageAccess] = Field(
        default=None,
        description="Access to the stack's media bucket through the task role; none without it (needs `storage`).",
    )
    secrets: dict[VariableName, SecretRef] = Field(
        default_factory=dict,
        description="Container variables read from Secrets Manager at task start (never plaintext in the task "
                    "definition).",
    )
    connect: Optional[ConnectConfig] = Field(
        default=None,
        description="Make `port` reachable by name from the services that list this one in `calls` (ECS Service "
                    "Connect, docs/workloads.md); `{}` for the defaults. Not reachable by name without it.",
    )
    calls: list[str] = Field(
        default_factory=list,
        description="Services this one calls by name (each with `connect`): it becomes a Service Connect client "
                    "and their security groups admit it on their port. Scheduled jobs and the migration task "
                    "are not clients.",
        json_schema_extra=doc(allowed="names of other services of this stack that have `connect`, each once, "
                                      "no cycle"),
    )
    uses: list[Literal["database", "cache"]] = Field(
        default_factory=list,
        description="Data stores the service connects to: their endpoints (environment) and credentials (ECS "
                    "secrets) are injected (see below, \"What a service that uses a data store receives\"); the "
                    "store's security group admits the service.",
    )
    produces: list[QueueName] = Field(
        default_factory=list,
        description="Queues (keys of `queues`) the service sends to: it gets `<QUEUE>_QUEUE_URL` (e.g. "
                    "`TASKS_QUEUE_URL`) and may only send to them (sqs:SendMessage, sqs:GetQueueAttributes).",
    )
    consumes: Optional[QueueName] = Field(
        default=None,
        description="The queue (a key of `queues`) the service works off, a worker: it gets `<QUEUE>_QUEUE_URL`, "
                    "may receive, delete and change the visibility of its messages, and scales on its backlog per "
                    "task (`scaling.backlogPerTask`); with `scaling.min: 0` (not in prod) a first message starts "
                    "one task.",
    )

