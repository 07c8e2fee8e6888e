"""`webstack:monitoring`: who is emailed, and when an alarm fires.

Every alarm has a threshold (in the unit its key names, see `ALARM_UNITS`), a period in seconds and
how many periods are evaluated; the defaults are the seeds' numbers. A stack overrides only what it
changes, e.g. `alarms: {serviceCpu: {threshold: 70}}` keeps the default period and evaluation periods.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Optional

from pydantic import Field, field_validator, model_validator

from stackconfig.base import ConfigModel

EMAIL = re.compile(r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
# CloudWatch (PutMetricAlarm): a standard-resolution alarm period is a multiple of 60 s, and
# period x evaluation periods may cover at most one day, or seven days for periods of an hour or more.
MAX_EVALUATION_SECONDS = 86400
MAX_EVALUATION_SECONDS_HOURLY = 7 * 86400
HOUR = 3600

# Seeds: 004 (CPU 80 %, memory 85 %, p95 500 ms, DB connections 80 % of max, Redis memory 80 %),
# 001 (ALB 5xx > 5 %, unhealthy targets > 0), 002 (RDS CPU 80 %, latency 20 ms, freeable memory
# 500 MB, Redis engine CPU 80 %), 002/004 (periods of 5 min evaluated twice).
ALARM_DEFAULTS: dict[str, dict[str, Any]] = {
    "serviceCpu": {"threshold": 80, "period": 300, "evaluationPeriods": 2},
    "serviceMemory": {"threshold": 85, "period": 300, "evaluationPeriods": 2},
    "serviceRunningTasks": {"period": 60, "evaluationPeriods": 5},
    "target5xxRate": {"threshold": 5, "period": 60, "evaluationPeriods": 5, "datapointsToAlarm": 3},
    "loadBalancer5xx": {"threshold": 10, "period": 300, "evaluationPeriods": 1},
    "unhealthyHosts": {"threshold": 0, "period": 60, "evaluationPeriods": 2},
    "responseTimeP95": {"threshold": 0.5, "period": 300, "evaluationPeriods": 2},
    "databaseCpu": {"threshold": 80, "period": 300, "evaluationPeriods": 2},
    "databaseConnections": {"threshold": 80, "period": 300, "evaluationPeriods": 2},
    "databaseFreeStorage": {"threshold": 10, "period": 300, "evaluationPeriods": 1},
    "databaseFreeableMemory": {"threshold": 500, "period": 300, "evaluationPeriods": 2},
    "databaseLatency": {"threshold": 0.02, "period": 300, "evaluationPeriods": 2},
    "cacheEngineCpu": {"threshold": 80, "period": 300, "evaluationPeriods": 2},
    "cacheMemory": {"threshold": 80, "period": 300, "evaluationPeriods": 2},
    "cacheEvictions": {"threshold": 0, "period": 300, "evaluationPeriods": 1},
}


class AlarmTiming(ConfigModel):
    """How long a condition must last: `evaluationPeriods` periods of `period` seconds."""

    period: int
    evaluation_periods: int = Field(ge=1)
    # Breaching periods among the evaluated ones that fire the alarm; all of them when unset.
    datapoints_to_alarm: Optional[int] = Field(default=None, ge=1)

    @field_validator("period")
    @classmethod
    def _minute_multiple(cls, period: int) -> int:
        if period < 60 or period % 60:
            raise ValueError("alarm period must be a multiple of 60 seconds (60, 120, 300, ...)")
        return period

    @model_validator(mode="after")
    def _fits_the_evaluation_range(self) -> "AlarmTiming":
        window = self.period * self.evaluation_periods
        if self.period < HOUR and window > MAX_EVALUATION_SECONDS:
            raise ValueError(
                f"period x evaluationPeriods = {window} s; with a period under an hour "
                f"CloudWatch evaluates at most {MAX_EVALUATION_SECONDS} s (one day)"
            )
        if window > MAX_EVALUATION_SECONDS_HOURLY:
            raise ValueError(
                f"period x evaluationPeriods = {window} s; "
                f"CloudWatch evaluates at most {MAX_EVALUATION_SECONDS_HOURLY} s (seven days)"
            )
        if self.datapoints_to_alarm is not None and self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError(
                f"datapointsToAlarm ({self.datapoints_to_alarm}) must not exceed "
                f"evaluationPeriods ({self.evaluation_periods})"
            )
        return self

    @property
    def datapoints(self) -> int:
        return self.evaluation_periods if self.datapoints_to_alarm is None else self.datapoints_to_alarm


class PercentAlarm(AlarmTiming):
    unit: ClassVar[str] = "percent"
    threshold: float = Field(gt=0, le=100)


class CountAlarm(AlarmTiming):
    unit: ClassVar[str] = "count"
    threshold: float = Field(ge=0)


class SecondsAlarm(AlarmTiming):
    unit: ClassVar[str] = "seconds"
    threshold: float = Field(gt=0, le=60)


class MebibytesAlarm(AlarmTiming):
    unit: ClassVar[str] = "MiB"
    threshold: float = Field(gt=0)


def _default(model: type[AlarmTiming], key: str):
    """The field for alarm `key` (also its YAML key): the seeds' default unless the stack overrides it."""
    return Field(default_factory=lambda: model.model_validate(ALARM_DEFAULTS[key]), alias=key)


class AlarmsConfig(ConfigModel):
    # ECS, per service (AWS/ECS and Container Insights). Running tasks fire below the service's scaling.min.
    service_cpu: PercentAlarm = _default(PercentAlarm, "serviceCpu")
    service_memory: PercentAlarm = _default(PercentAlarm, "serviceMemory")
    service_running_tasks: AlarmTiming = _default(AlarmTiming, "serviceRunningTasks")
    # ALB: 5xx answered by targets as % of requests (per service), 5xx from the load balancer itself
    # (count), unhealthy targets (count), p95 target response time (seconds).
    target5xx_rate: PercentAlarm = _default(PercentAlarm, "target5xxRate")
    load_balancer5xx: CountAlarm = _default(CountAlarm, "loadBalancer5xx")
    unhealthy_hosts: CountAlarm = _default(CountAlarm, "unhealthyHosts")
    response_time_p95: SecondsAlarm = _default(SecondsAlarm, "responseTimeP95")
    # RDS, per instance: connections as % of the class's max_connections, free storage as % of the
    # allocated storage, freeable memory in MiB, read and write latency in seconds.
    database_cpu: PercentAlarm = _default(PercentAlarm, "databaseCpu")
    database_connections: PercentAlarm = _default(PercentAlarm, "databaseConnections")
    database_free_storage: PercentAlarm = _default(PercentAlarm, "databaseFreeStorage")
    database_freeable_memory: MebibytesAlarm = _default(MebibytesAlarm, "databaseFreeableMemory")
    database_latency: SecondsAlarm = _default(SecondsAlarm, "databaseLatency")
    # ElastiCache Redis, per node.
    cache_engine_cpu: PercentAlarm = _default(PercentAlarm, "cacheEngineCpu")
    cache_memory: PercentAlarm = _default(PercentAlarm, "cacheMemory")
    cache_evictions: CountAlarm = _default(CountAlarm, "cacheEvictions")

    @model_validator(mode="before")
    @classmethod
    def _start_from_defaults(cls, data: Any) -> Any:
        """A partial override (`{threshold: 70}`) keeps the rest of that alarm's defaults."""
        if not isinstance(data, dict):
            return data
        return {
            key: {**ALARM_DEFAULTS[key], **value} if key in ALARM_DEFAULTS and isinstance(value, dict) else value
            for key, value in data.items()
        }


class MonitoringConfig(ConfigModel):
    # Addresses subscribed to the alert topic; each confirms by clicking the link AWS emails it.
    alert_emails: list[str] = Field(default_factory=list)
    alarms: AlarmsConfig = Field(default_factory=AlarmsConfig)

    @field_validator("alert_emails")
    @classmethod
    def _email_addresses(cls, emails: list[str]) -> list[str]:
        for email in emails:
            if not EMAIL.match(email):
                raise ValueError(f"{email!r} is not an email address")
        if len({email.lower() for email in emails}) != len(emails):
            raise ValueError("alert email addresses must be distinct")
        return emails
