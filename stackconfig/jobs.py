"""`webstack:jobs.<name>`: a scheduled job, a Fargate task EventBridge Scheduler runs on a schedule."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field

from helpers.fargate import CPU_UNITS
from stackconfig.base import ConfigModel, doc
from stackconfig.data import SecretRef
from stackconfig.service import (
    SCHEDULE_EXPRESSION, ContainerFilesystem, FargateCpu, ImageConfig, TimeZone, VariableName,
)

# EventBridge Scheduler's retry policy: MaximumRetryAttempts 0-185, MaximumEventAgeInSeconds 60-86400.
MAX_RETRY_ATTEMPTS = 185
MIN_EVENT_AGE, MAX_EVENT_AGE = 60, 86400


class RetryConfig(ConfigModel):
    """How often Scheduler retries a run it could not start (RunTask failed), before the dead-letter queue."""

    maximum_retry_attempts: int = Field(default=3, ge=0, le=MAX_RETRY_ATTEMPTS,
                                        description="Retries of a run ECS refused to start.")
    maximum_event_age: int = Field(default=3600, ge=MIN_EVENT_AGE, le=MAX_EVENT_AGE,
                                   description="Seconds Scheduler keeps retrying a run before it goes to the "
                                               "dead-letter queue.")


class JobConfig(ContainerFilesystem):
    """One scheduled job: a task definition of its own, run by EventBridge Scheduler in the private subnets."""

    image: Optional[ImageConfig] = Field(
        default=None, description="The container image; exactly one of `image` or `imageFrom`.",
    )
    image_from: Optional[str] = Field(
        default=None,
        description="Run the image of this service (a key of `services`), e.g. `backend`; exactly one of `image` "
                    "or `imageFrom`.",
        json_schema_extra=doc(allowed="the name of a service of this stack"),
    )
    command: list[str] = Field(min_length=1, description="The container command, e.g. "
                                                         '`["python", "manage.py", "clearsessions"]`.')
    schedule: str = Field(
        pattern=SCHEDULE_EXPRESSION,
        description="When it runs (EventBridge Scheduler): `cron(m h dom mon dow year)`, `rate(1 day)` or "
                    "`at(2030-01-01T06:00:00)`.",
        json_schema_extra=doc(allowed="cron(...) with six fields (minutes hours day-of-month month day-of-week "
                                      "year), rate(<n> minute(s)|hour(s)|day(s)) with n >= 1, or "
                                      "at(yyyy-mm-ddThh:mm:ss)"),
    )
    timezone: TimeZone = Field(default="UTC", description="IANA time zone the cron and at times are read in.",
                               json_schema_extra=doc(allowed="an IANA time zone name, e.g. Europe/Berlin"))
    cpu: FargateCpu = Field(default=256, description="Task CPU units (1024 = 1 vCPU).",
                            json_schema_extra=doc(allowed=", ".join(map(str, CPU_UNITS))))
    memory: int = Field(default=512, description="Task memory in MiB, within Fargate's range for `cpu` (as for a "
                                                 "service).")
    architecture: Literal["x86_64", "arm64"] = Field(default="x86_64", description="CPU architecture of the image.")
    environment: dict[VariableName, str] = Field(default_factory=dict,
                                                 description="Plain, non-secret container variables.")
    secrets: dict[VariableName, SecretRef] = Field(
        default_factory=dict,
        description="Container variables read from Secrets Manager at task start, as for a service.",
    )
    uses: list[Literal["database", "cache"]] = Field(
        default_factory=list,
        description="Data stores the job connects to, as for a service: endpoints and credentials are injected and "
                    "the store's security group admits the job.",
    )
    retry: RetryConfig = Field(default_factory=RetryConfig, description="Scheduler's retry policy.")


