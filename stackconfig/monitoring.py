"""`webstack:monitoring`: who is emailed, and when an alarm fires.

Every alarm has a threshold (in the unit of its model: `PercentAlarm`, `CountAlarm`, ...), a period in seconds and
how many periods are evaluated; the defaults are the seeds' numbers. A stack overrides only what it
changes, e.g. `alarms: {serviceCpu: {threshold: 70}}` keeps the default period and evaluation periods.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Optional

from pydantic import AfterValidator, Field, create_model, field_validator
from pydantic.alias_generators import to_snake
from pydantic.fields import FieldInfo

from stackconfig.base import ConfigModel, doc

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
    "queueOldestMessage": {"threshold": 900, "period": 300, "evaluationPeriods": 1},
    "queueDeadLetters": {"threshold": 0, "period": 300, "evaluationPeriods": 1},
    # Not a seed's number: a spike above what scanners and bots cause on a small app all day.
    "wafBlockedRequests": {"threshold": 500, "period": 300, "evaluationPeriods": 1},
}


# What each alarm watches, for the reference (docs/configuration.md): one alarm per, metric, fires when, severity,
# what no data means (`helpers/alarms.py` sets `treat_missing_data` accordingly).
OK, BREACHING, MISSING = "no data counts as OK", "no data counts as breaching", "no data keeps the last state"
ALARM_DESCRIPTIONS = {
    "serviceCpu": f"Per service: AWS/ECS CPUUtilization (Average) above `threshold` %. P0; {OK}.",
    "serviceMemory": f"Per service: AWS/ECS MemoryUtilization (Average) above `threshold` %. P1; {OK}.",
    "serviceRunningTasks": f"Per service with scaling.min >= 1: Container Insights RunningTaskCount (Maximum) below "
                           f"the service's scaling.min (no threshold key). P0; {BREACHING}.",
    "target5xxRate": f"Per service: 100 x HTTPCode_Target_5XX_Count / RequestCount above `threshold` %. P0; {OK}.",
    "loadBalancer5xx": f"The load balancer: HTTPCode_ELB_5XX_Count (Sum) above `threshold` (count). P0; {OK}.",
    "unhealthyHosts": f"Per service: UnHealthyHostCount (Maximum) above `threshold` (count). P0; {OK}.",
    "responseTimeP95": f"Per service: TargetResponseTime (p95) above `threshold` seconds. P1; {OK}.",
    "databaseCpu": f"Per RDS instance: CPUUtilization (Average) above `threshold` %. P1; {MISSING}.",
    "databaseConnections": f"Per RDS instance: DatabaseConnections (Maximum) above `threshold` % of the class's "
                           f"max_connections. P0; {MISSING}.",
    "databaseFreeStorage": f"Per RDS instance: FreeStorageSpace (Minimum) below `threshold` % of the allocated "
                           f"storage. P0; {MISSING}.",
    "databaseFreeableMemory": f"Per RDS instance: FreeableMemory (Minimum) below `threshold` MiB, at most 25 % of the "
                              f"class's memory. P1; {MISSING}.",
    "databaseLatency": f"Per RDS instance: ReadLatency and WriteLatency (Average) above `threshold` seconds. P1; {OK}.",
    "cacheEngineCpu": f"Per Redis node: EngineCPUUtilization (Average) above `threshold` %. P1; {MISSING}.",
    "cacheMemory": f"Per Redis node: DatabaseMemoryUsagePercentage (Maximum) above `threshold` %. P0; {MISSING}.",
    "cacheEvictions": f"Per Redis node: Evictions (Sum) above `threshold` (count). P1; {OK}.",
    "queueOldestMessage": f"Per queue: ApproximateAgeOfOldestMessage (Maximum) above `threshold` seconds. P1; {OK}.",
    "queueDeadLetters": f"Per queue: its dead-letter queue's ApproximateNumberOfMessagesVisible (Maximum) above "
                        f"`threshold` (count). P1; {OK}.",
    "wafBlockedRequests": f"The WAF web ACL (loadBalancer.waf): BlockedRequests (Sum, all rules) above `threshold` "
                          f"(count). P1; {OK}.",
}


class AlarmTiming(ConfigModel):
    """How long a condition must last: `evaluationPeriods` periods of `period` seconds.

    `period x evaluationPeriods` may be at most one day, or seven days when `period` is an hour or more.
    """

    period: int = Field(description="Seconds per evaluated period.",
                        json_schema_extra=doc(allowed="a multiple of 60"))
    evaluation_periods: int = Field(ge=1, description="Periods evaluated.")
    datapoints_to_alarm: Optional[int] = Field(
        default=None, ge=1,
        description="Breaching periods among the evaluated ones that fire the alarm; at most evaluationPeriods.",
        json_schema_extra=doc(default="evaluationPeriods"),
    )

    @field_validator("period")
    @classmethod
    def _minute_multiple(cls, period: int) -> int:
        if period < 60 or period % 60:
            raise ValueError("alarm period must be a multiple of 60 seconds (60, 120, 300, ...)")
        return period

    @property
    def datapoints(self) -> int:
        return self.evaluation_periods if self.datapoints_to_alarm is None else self.datapoints_to_alarm


class PercentAlarm(AlarmTiming):
    unit: ClassVar[str] = "percent"
    threshold: float = Field(gt=0, le=100, description="The threshold, in %.")


class CountAlarm(AlarmTiming):
    unit: ClassVar[str] = "count"
    threshold: float = Field(ge=0, description="The threshold, a count.")


class SecondsAlarm(AlarmTiming):
    unit: ClassVar[str] = "seconds"
    threshold: float = Field(gt=0, le=60, description="The threshold, in seconds.")


class AgeAlarm(AlarmTiming):
    unit: ClassVar[str] = "seconds"
    # SQS keeps a message at most 14 days.
    threshold: float = Field(gt=0, le=1209600, description="The threshold, in seconds.")


class MebibytesAlarm(AlarmTiming):
    unit: ClassVar[str] = "MiB"
    threshold: float = Field(gt=0, description="The threshold, in MiB.")


# Alarm key -> (field name, model); each alarm's own model carries its defaults, so a partial override
# (`{threshold: 70}`) keeps the rest.
ALARMS: dict[str, tuple[str, type[AlarmTiming]]] = {
    "serviceCpu": ("service_cpu", PercentAlarm),
    "serviceMemory": ("service_memory", PercentAlarm),
    "serviceRunningTasks": ("service_running_tasks", AlarmTiming),
    "target5xxRate": ("target5xx_rate", PercentAlarm),
    "loadBalancer5xx": ("load_balancer5xx", CountAlarm),
    "unhealthyHosts": ("unhealthy_hosts", CountAlarm),
    "responseTimeP95": ("response_time_p95", SecondsAlarm),
    "databaseCpu": ("database_cpu", PercentAlarm),
    "databaseConnections": ("database_connections", PercentAlarm),
    "databaseFreeStorage": ("database_free_storage", PercentAlarm),
    "databaseFreeableMemory": ("database_freeable_memory", MebibytesAlarm),
    "databaseLatency": ("database_latency", SecondsAlarm),
    "cacheEngineCpu": ("cache_engine_cpu", PercentAlarm),
    "cacheMemory": ("cache_memory", PercentAlarm),
    "cacheEvictions": ("cache_evictions", CountAlarm),
    "queueOldestMessage": ("queue_oldest_message", AgeAlarm),
    "queueDeadLetters": ("queue_dead_letters", CountAlarm),
    "wafBlockedRequests": ("waf_blocked_requests", CountAlarm),
}


def _alarm_model(key: str, base: type[AlarmTiming]) -> type[AlarmTiming]:
    """`base` with alarm `key`'s defaults (the constraints of `base` kept)."""
    defaults = {
        to_snake(name): (base.model_fields[to_snake(name)].annotation,
                         FieldInfo.merge_field_infos(base.model_fields[to_snake(name)], default=value,
                                                   validate_default=True))
        for name, value in ALARM_DEFAULTS[key].items()
    }
    return create_model(f"{key[0].upper()}{key[1:]}Alarm", __base__=base, __module__=__name__,
                        __doc__=ALARM_DESCRIPTIONS[key], **defaults)


AlarmsConfig = create_model(
    "AlarmsConfig",
    __base__=ConfigModel,
    __module__=__name__,
    __doc__="Every alarm's threshold and timing; a stack overrides only the keys it changes.",
    **{
        field_name: (model, Field(default_factory=model, alias=key, description=ALARM_DESCRIPTIONS[key]))
        for key, (field_name, base) in ALARMS.items()
        for model in [_alarm_model(key, base)]
    },
)


def _email(email: str) -> str:
    if not EMAIL.match(email):
        raise ValueError("not an email address")
    return email


class MonitoringConfig(ConfigModel):
    """One SNS alert topic, the alarms wired to it and a CloudWatch dashboard."""

    alert_emails: list[Annotated[str, AfterValidator(_email)]] = Field(
        default_factory=list,
        description="Addresses subscribed to the alert topic (every alarm, P0 and P1); each confirms by clicking "
                    "the link AWS emails it. Distinct.",
    )
    alarms: AlarmsConfig = Field(default_factory=AlarmsConfig, description="Alarm thresholds and timing.")
