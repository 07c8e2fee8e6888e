"""The stack's CloudWatch alarms as plain specs: what to watch, when to fire, what to do about it.

Pure, and importing nothing above `helpers/`: the alarm settings are read through the `AlarmsConfig`
protocol below (the stack config's model satisfies it). Dimension values are passed through
untouched (strings in tests, Pulumi Outputs in the program), so every threshold and dimension is
tested without a Pulumi runtime.
`components/monitoring.py` turns each spec into an `aws.cloudwatch.MetricAlarm`.

Severity follows seed 001: P0 means users are (about to be) affected, P1 means degraded or
trending towards it. Both go to the same alert topic; the severity leads the description.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Optional, Protocol, Sequence

GIB = 1024 ** 3
MIB = 1024 ** 2

ECS = "AWS/ECS"
CONTAINER_INSIGHTS = "ECS/ContainerInsights"
ALB = "AWS/ApplicationELB"
RDS = "AWS/RDS"
ELASTICACHE = "AWS/ElastiCache"
SQS = "AWS/SQS"
WAF = "AWS/WAFV2"

Comparison = Literal[
    "GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"
]
# notBreaching: no data means nothing happened (no errors, no requests, a service scaled to zero).
# breaching: no data means the thing that should report is gone (no running tasks at all).
# missing: keep the last state; the alarm shows INSUFFICIENT_DATA if the resource stops reporting.
MissingData = Literal["notBreaching", "breaching", "missing"]


class AlarmTiming(Protocol):
    """How long a condition must last (`webstack:monitoring.alarms.<key>`, `stackconfig.monitoring.AlarmTiming`)."""

    @property
    def period(self) -> int: ...

    @property
    def evaluation_periods(self) -> int: ...

    @property
    def datapoints(self) -> int: ...


class Threshold(AlarmTiming, Protocol):
    @property
    def threshold(self) -> float: ...


class AlarmsConfig(Protocol):
    """Every alarm's threshold and timing, as `stackconfig.monitoring.AlarmsConfig` has them."""

    @property
    def service_cpu(self) -> Threshold: ...

    @property
    def service_memory(self) -> Threshold: ...

    @property
    def service_running_tasks(self) -> AlarmTiming: ...

    @property
    def target5xx_rate(self) -> Threshold: ...

    @property
    def load_balancer5xx(self) -> Threshold: ...

    @property
    def unhealthy_hosts(self) -> Threshold: ...

    @property
    def response_time_p95(self) -> Threshold: ...

    @property
    def database_cpu(self) -> Threshold: ...

    @property
    def database_connections(self) -> Threshold: ...

    @property
    def database_free_storage(self) -> Threshold: ...

    @property
    def database_freeable_memory(self) -> Threshold: ...

    @property
    def database_latency(self) -> Threshold: ...

    @property
    def cache_engine_cpu(self) -> Threshold: ...

    @property
    def cache_memory(self) -> Threshold: ...

    @property
    def cache_evictions(self) -> Threshold: ...

    @property
    def queue_oldest_message(self) -> Threshold: ...

    @property
    def queue_dead_letters(self) -> Threshold: ...

    @property
    def waf_blocked_requests(self) -> Threshold: ...


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: Mapping[str, Any]
    # Exactly one of a statistic (Average, Sum, Maximum, ...) or a percentile (p95).
    statistic: Optional[str] = None
    extended_statistic: Optional[str] = None


@dataclass(frozen=True)
class MathTerm:
    """One `metric_queries` entry: a metric (`metric`) or an expression over the others (`expression`)."""

    id: str
    label: str
    metric: Optional[Metric] = None
    expression: Optional[str] = None

    @property
    def return_data(self) -> bool:
        """CloudWatch alarms on exactly one returned series: the expression."""
        return self.expression is not None


@dataclass(frozen=True)
class AlarmSpec:
    key: str
    severity: Literal["P0", "P1"]
    summary: str
    action: str
    comparison: Comparison
    threshold: float
    timing: AlarmTiming
    treat_missing_data: MissingData
    metric: Optional[Metric] = None
    math: tuple[MathTerm, ...] = field(default_factory=tuple)

    @property
    def description(self) -> str:
        return f"{self.severity}: {self.summary} What to do: {self.action}"


def _window(timing: AlarmTiming) -> str:
    minutes = timing.period // 60
    if timing.datapoints == timing.evaluation_periods:
        return f"for {timing.evaluation_periods} x {minutes} min"
    return f"in {timing.datapoints} of {timing.evaluation_periods} periods of {minutes} min"


def _number(value: float) -> str:
    return f"{value:g}"


def service_alarms(service: str, cluster_name: Any, service_name: Any, min_tasks: int,
                   alarms: AlarmsConfig) -> list[AlarmSpec]:
    """CPU, memory and running tasks of one ECS service; no task alarm for a service allowed to run zero."""
    dimensions = {"ClusterName": cluster_name, "ServiceName": service_name}
    cpu, memory, tasks = alarms.service_cpu, alarms.service_memory, alarms.service_running_tasks
    specs = [
        AlarmSpec(
            key=f"{service}-cpu-high", severity="P0",
            summary=f"{service} average CPU above {_number(cpu.threshold)} % {_window(cpu)}.",
            action=f"check that autoscaling is adding tasks (not already at scaling.max); if it is at max, "
                   f"raise services.{service}.scaling.max or services.{service}.cpu; look for a hot endpoint "
                   f"in the service's logs.",
            comparison="GreaterThanThreshold", threshold=cpu.threshold, timing=cpu,
            treat_missing_data="notBreaching",
            metric=Metric(ECS, "CPUUtilization", dimensions, statistic="Average"),
        ),
        AlarmSpec(
            key=f"{service}-memory-high", severity="P1",
            summary=f"{service} average memory above {_number(memory.threshold)} % {_window(memory)}.",
            action=f"tasks are killed when they run out of memory: look for a leak in the service's logs, "
                   f"or raise services.{service}.memory.",
            comparison="GreaterThanThreshold", threshold=memory.threshold, timing=memory,
            treat_missing_data="notBreaching",
            metric=Metric(ECS, "MemoryUtilization", dimensions, statistic="Average"),
        ),
    ]
    if min_tasks > 0:
        specs.append(AlarmSpec(
            key=f"{service}-tasks-low", severity="P0",
            summary=f"{service} has had fewer than {min_tasks} running tasks (its scaling.min) {_window(tasks)}.",
            action="open the ECS service's Events tab: tasks failing health checks, crashing on start "
                   "(see the service's logs) or unable to pull the image; a failed deployment rolls back "
                   "by itself.",
            comparison="LessThanThreshold", threshold=float(min_tasks), timing=tasks,
            treat_missing_data="breaching",
            metric=Metric(CONTAINER_INSIGHTS, "RunningTaskCount", dimensions, statistic="Maximum"),
        ))
    return specs


def alarm_name(project: str, stack: str, key: str) -> str:
    """The CloudWatch name of an alarm: fixed, so an ECS service can name its deployment alarms before they exist."""
    return f"{project}-{stack}-{key}"


def deployment_alarm_keys(service: str) -> list[str]:
    """The alarms that fail (and roll back) a deployment of a service behind the load balancer."""
    return [f"{service}-5xx-rate", f"{service}-unhealthy-hosts"]


def _target_group_terms(load_balancer_arn_suffix: Any, target_group_arn_suffixes: Sequence[Any]):
    """Per target group: the dimensions and a term id suffix ("" for the only one, "1", "2" for two)."""
    numbered = len(target_group_arn_suffixes) > 1
    return [({"LoadBalancer": load_balancer_arn_suffix, "TargetGroup": suffix}, str(index + 1) if numbered else "")
            for index, suffix in enumerate(target_group_arn_suffixes)]


def target_group_alarms(service: str, load_balancer_arn_suffix: Any, target_group_arn_suffix: Any,
                        alarms: AlarmsConfig, alternate_target_group_arn_suffix: Any = None) -> list[AlarmSpec]:
    """What the load balancer sees of one service: its 5xx rate, unhealthy targets and p95 latency.

    A service with blue/green, canary or linear deployments has two target groups and ECS moves production
    traffic between them, so its 5xx rate and unhealthy hosts cover both: the new revision's errors reach the
    deployment alarms whichever group serves it. Its p95 is the slower group's (percentiles do not add up).
    """
    dimensions = {"LoadBalancer": load_balancer_arn_suffix, "TargetGroup": target_group_arn_suffix}
    groups = _target_group_terms(load_balancer_arn_suffix, [target_group_arn_suffix] + (
        [alternate_target_group_arn_suffix] if alternate_target_group_arn_suffix is not None else []))
    errors, unhealthy, latency = alarms.target5xx_rate, alarms.unhealthy_hosts, alarms.response_time_p95
    error_terms = tuple(MathTerm(f"errors{n}", f"Target 5xx{' (target group ' + n + ')' if n else ''}",
                                 metric=Metric(ALB, "HTTPCode_Target_5XX_Count", dims, statistic="Sum"))
                        for dims, n in groups)
    request_terms = tuple(MathTerm(f"requests{n}", f"Requests{' (target group ' + n + ')' if n else ''}",
                                   metric=Metric(ALB, "RequestCount", dims, statistic="Sum"))
                          for dims, n in groups)
    # FILL: a minute without any 5xx (or, in the idle group, any request) has no datapoint.
    rate = ("100 * FILL(errors, 0) / requests" if len(groups) == 1 else
            "100 * (FILL(errors1, 0) + FILL(errors2, 0)) / (FILL(requests1, 0) + FILL(requests2, 0))")
    unhealthy_metric = Metric(ALB, "UnHealthyHostCount", dimensions, statistic="Maximum") if len(groups) == 1 \
        else None
    unhealthy_math = () if len(groups) == 1 else (
        *(MathTerm(f"unhealthy{n}", f"Unhealthy hosts (target group {n})",
                   metric=Metric(ALB, "UnHealthyHostCount", dims, statistic="Maximum")) for dims, n in groups),
        MathTerm("unhealthy", "Unhealthy hosts (either target group)", expression="MAX([unhealthy1, unhealthy2])"),
    )
    latency_metric = Metric(ALB, "TargetResponseTime", dimensions, extended_statistic="p95") if len(groups) == 1 \
        else None
    latency_math = () if len(groups) == 1 else (
        *(MathTerm(f"latency{n}", f"p95 response time (target group {n})",
                   metric=Metric(ALB, "TargetResponseTime", dims, extended_statistic="p95")) for dims, n in groups),
        MathTerm("latency", "p95 response time (the slower target group)", expression="MAX([latency1, latency2])"),
    )
    return [
        AlarmSpec(
            key=deployment_alarm_keys(service)[0], severity="P0",
            summary=f"more than {_number(errors.threshold)} % of requests to {service} answered 5xx "
                    f"{_window(errors)}.",
            action=f"read the errors in {service}'s logs; if a deployment just went out, roll it back "
                   f"(redeploy the previous image tag).",
            comparison="GreaterThanThreshold", threshold=errors.threshold, timing=errors,
            treat_missing_data="notBreaching",
            math=(*error_terms, *request_terms, MathTerm("rate", "5xx % of requests", expression=rate)),
        ),
        AlarmSpec(
            key=deployment_alarm_keys(service)[1], severity="P0",
            summary=f"more than {_number(unhealthy.threshold)} of {service}'s targets failed load balancer "
                    f"health checks {_window(unhealthy)}.",
            action="check the target group's health status reasons and the service's logs; ECS replaces "
                   "unhealthy tasks, so a lasting alarm means new tasks fail too.",
            comparison="GreaterThanThreshold", threshold=unhealthy.threshold, timing=unhealthy,
            treat_missing_data="notBreaching",
            metric=unhealthy_metric,
            math=unhealthy_math,
        ),
        AlarmSpec(
            key=f"{service}-latency-p95", severity="P1",
            summary=f"{service}'s p95 response time above {_number(latency.threshold * 1000)} ms "
                    f"{_window(latency)}.",
            action="look for slow queries (RDS latency and CPU on the dashboard) and CPU saturation; add "
                   "tasks or fix the slow endpoint.",
            comparison="GreaterThanThreshold", threshold=latency.threshold, timing=latency,
            treat_missing_data="notBreaching",
            metric=latency_metric,
            math=latency_math,
        ),
    ]


def load_balancer_alarms(load_balancer_arn_suffix: Any, alarms: AlarmsConfig) -> list[AlarmSpec]:
    """5xx the load balancer generates itself (502/503/504: no healthy target, target reset or timed out)."""
    errors = alarms.load_balancer5xx
    return [AlarmSpec(
        key="alb-5xx", severity="P0",
        summary=f"the load balancer itself answered more than {_number(errors.threshold)} requests with 5xx "
                f"{_window(errors)}.",
        action="503: a route has no healthy targets (see the unhealthy-hosts and tasks-low alarms); "
               "502/504: targets reset connections or exceeded the idle timeout.",
        comparison="GreaterThanThreshold", threshold=errors.threshold, timing=errors,
        treat_missing_data="notBreaching",
        metric=Metric(ALB, "HTTPCode_ELB_5XX_Count", {"LoadBalancer": load_balancer_arn_suffix}, statistic="Sum"),
    )]


# AWS's recommended FreeableMemory alarm: available memory should not stay below 25 % of the total.
# The configured MiB is capped there, so a small class (db.t4g.micro: 1 GiB, a quarter of it shared
# buffers) is not in ALARM all day at 500 MiB.
FREEABLE_MEMORY_MAX_SHARE = 0.25


def database_alarms(label: str, instance_identifier: Any, max_connections: int, allocated_storage_gib: int,
                    alarms: AlarmsConfig, memory_mib: Optional[int] = None) -> list[AlarmSpec]:
    """One RDS instance (the primary or a read replica). Connections, storage and memory are relative to its size."""
    dimensions = {"DBInstanceIdentifier": instance_identifier}
    cpu, connections = alarms.database_cpu, alarms.database_connections
    storage, memory, latency = alarms.database_free_storage, alarms.database_freeable_memory, alarms.database_latency
    connection_limit = max_connections * connections.threshold / 100
    free_storage_bytes = allocated_storage_gib * GIB * storage.threshold / 100
    freeable_mib = memory.threshold if memory_mib is None else min(memory.threshold,
                                                                   memory_mib * FREEABLE_MEMORY_MAX_SHARE)
    specs = [
        AlarmSpec(
            key=f"{label}-cpu-high", severity="P1",
            summary=f"database {label} average CPU above {_number(cpu.threshold)} % {_window(cpu)}.",
            action="find the expensive queries (Performance Insights, pg_stat_statements); add indexes or a "
                   "read replica, or move to a larger database.instanceClass.",
            comparison="GreaterThanThreshold", threshold=cpu.threshold, timing=cpu,
            treat_missing_data="missing",
            metric=Metric(RDS, "CPUUtilization", dimensions, statistic="Average"),
        ),
        AlarmSpec(
            key=f"{label}-connections-high", severity="P0",
            summary=f"database {label} has more than {_number(connection_limit)} connections "
                    f"({_number(connections.threshold)} % of its {max_connections} max_connections) "
                    f"{_window(connections)}.",
            action="new connections are refused at the limit: check for leaked connections and per-task "
                   "pool sizes x running tasks; add RDS Proxy or a larger instance class.",
            comparison="GreaterThanThreshold", threshold=connection_limit, timing=connections,
            treat_missing_data="missing",
            metric=Metric(RDS, "DatabaseConnections", dimensions, statistic="Maximum"),
        ),
        AlarmSpec(
            key=f"{label}-storage-low", severity="P0",
            summary=f"database {label} has less than {_number(storage.threshold)} % of its "
                    f"{allocated_storage_gib} GiB allocated storage free {_window(storage)}.",
            action="raise database.allocatedStorage (storage can only grow) and look for table or WAL bloat; "
                   "at 0 bytes free the database stops accepting writes.",
            comparison="LessThanThreshold", threshold=free_storage_bytes, timing=storage,
            treat_missing_data="missing",
            metric=Metric(RDS, "FreeStorageSpace", dimensions, statistic="Minimum"),
        ),
        AlarmSpec(
            key=f"{label}-memory-low", severity="P1",
            summary=f"database {label} has less than {_number(freeable_mib)} MiB freeable memory "
                    f"{_window(memory)}.",
            action="the cache hit rate drops and the instance may swap: move to an instance class with more "
                   "memory or reduce work_mem x connections.",
            comparison="LessThanThreshold", threshold=freeable_mib * MIB, timing=memory,
            treat_missing_data="missing",
            metric=Metric(RDS, "FreeableMemory", dimensions, statistic="Minimum"),
        ),
    ]
    for operation, metric_name in (("read", "ReadLatency"), ("write", "WriteLatency")):
        specs.append(AlarmSpec(
            key=f"{label}-{operation}-latency", severity="P1",
            summary=f"database {label} average {operation} latency above "
                    f"{_number(latency.threshold * 1000)} ms {_window(latency)}.",
            action="check for slow queries and storage throughput (gp3 IOPS/throughput) on the dashboard; "
                   "tune the queries or raise the storage's IOPS.",
            comparison="GreaterThanThreshold", threshold=latency.threshold, timing=latency,
            treat_missing_data="notBreaching",
            metric=Metric(RDS, metric_name, dimensions, statistic="Average"),
        ))
    return specs


# Aurora Serverless v2: an instance near its maximum ACUs has no room left to scale.
ACU_HIGH_PERCENT = 90
REPLICA_LAG_MS = 1000


def aurora_alarms(label: str, instance_identifier: Any, max_connections: int, max_acu: Optional[float],
                  reader: bool, alarms: AlarmsConfig) -> list[AlarmSpec]:
    """One Aurora instance: CPU, connections, freeable memory; with Serverless v2 its ACUs; a reader's lag.

    A paused (0 ACU) instance publishes nothing: missing data leaves each alarm's state as it was.
    """
    dimensions = {"DBInstanceIdentifier": instance_identifier}
    cpu, connections, memory = alarms.database_cpu, alarms.database_connections, alarms.database_freeable_memory
    connection_limit = max_connections * connections.threshold / 100
    specs = [
        AlarmSpec(
            key=f"{label}-cpu-high", severity="P1",
            summary=f"Aurora instance {label} average CPU above {_number(cpu.threshold)} % {_window(cpu)}.",
            action="find the expensive queries (Performance Insights); add indexes or readers, or raise "
                   "database.aurora.maxCapacity / instanceClass.",
            comparison="GreaterThanThreshold", threshold=cpu.threshold, timing=cpu, treat_missing_data="missing",
            metric=Metric(RDS, "CPUUtilization", dimensions, statistic="Average"),
        ),
        AlarmSpec(
            key=f"{label}-connections-high", severity="P0",
            summary=f"Aurora instance {label} has more than {_number(connection_limit)} connections "
                    f"({_number(connections.threshold)} % of its {max_connections} max_connections) "
                    f"{_window(connections)}.",
            action="new connections are refused at the limit: check pool sizes x running tasks; add the proxy or "
                   "raise maxCapacity.",
            comparison="GreaterThanThreshold", threshold=connection_limit, timing=connections,
            treat_missing_data="missing",
            metric=Metric(RDS, "DatabaseConnections", dimensions, statistic="Maximum"),
        ),
        AlarmSpec(
            key=f"{label}-memory-low", severity="P1",
            summary=f"Aurora instance {label} has less than {_number(memory.threshold)} MiB freeable memory "
                    f"{_window(memory)}.",
            action="raise database.aurora.minCapacity (more memory at the floor) or the instance class.",
            comparison="LessThanThreshold", threshold=memory.threshold * MIB, timing=memory,
            treat_missing_data="missing",
            metric=Metric(RDS, "FreeableMemory", dimensions, statistic="Minimum"),
        ),
    ]
    if max_acu is not None:
        specs += [
            AlarmSpec(
                key=f"{label}-acu-high", severity="P1",
                summary=f"Aurora instance {label} uses more than {ACU_HIGH_PERCENT} % of its maximum ACUs "
                        f"{_window(cpu)}.",
                action="it cannot scale further: raise database.aurora.maxCapacity or add readers.",
                comparison="GreaterThanThreshold", threshold=ACU_HIGH_PERCENT, timing=cpu,
                treat_missing_data="missing",
                metric=Metric(RDS, "ACUUtilization", dimensions, statistic="Average"),
            ),
            AlarmSpec(
                key=f"{label}-capacity-at-max", severity="P1",
                summary=f"Aurora instance {label} runs at more than {ACU_HIGH_PERCENT} % of {_number(max_acu)} ACU "
                        f"{_window(cpu)}.",
                action="ServerlessDatabaseCapacity is near database.aurora.maxCapacity: raise it (cost grows with it).",
                comparison="GreaterThanThreshold", threshold=max_acu * ACU_HIGH_PERCENT / 100, timing=cpu,
                treat_missing_data="missing",
                metric=Metric(RDS, "ServerlessDatabaseCapacity", dimensions, statistic="Average"),
            ),
        ]
    if reader:
        specs.append(AlarmSpec(
            key=f"{label}-replica-lag", severity="P1",
            summary=f"Aurora reader {label} lags the writer by more than {REPLICA_LAG_MS} ms {_window(cpu)}.",
            action="reads from DATABASE_READ_HOST are stale: check the writer's write load and the reader's size.",
            comparison="GreaterThanThreshold", threshold=REPLICA_LAG_MS, timing=cpu, treat_missing_data="missing",
            metric=Metric(RDS, "AuroraReplicaLag", dimensions, statistic="Maximum"),
        ))
    return specs


def cache_alarms(label: str, cache_cluster_id: Any, alarms: AlarmsConfig) -> list[AlarmSpec]:
    """One Redis node. ElastiCache publishes these per CacheClusterId (a replication group member)."""
    dimensions = {"CacheClusterId": cache_cluster_id}
    cpu, memory, evictions = alarms.cache_engine_cpu, alarms.cache_memory, alarms.cache_evictions
    return [
        AlarmSpec(
            key=f"{label}-engine-cpu-high", severity="P1",
            summary=f"Redis {label} engine CPU above {_number(cpu.threshold)} % {_window(cpu)}.",
            action="Redis runs commands on one thread: look for slow commands (SLOWLOG, KEYS, large "
                   "collections) or move to a larger cache.nodeType.",
            comparison="GreaterThanThreshold", threshold=cpu.threshold, timing=cpu,
            treat_missing_data="missing",
            metric=Metric(ELASTICACHE, "EngineCPUUtilization", dimensions, statistic="Average"),
        ),
        AlarmSpec(
            key=f"{label}-memory-high", severity="P0",
            summary=f"Redis {label} uses more than {_number(memory.threshold)} % of its memory "
                    f"{_window(memory)}.",
            action="evictions are next: check key TTLs and growth, or move to a larger cache.nodeType.",
            comparison="GreaterThanThreshold", threshold=memory.threshold, timing=memory,
            treat_missing_data="missing",
            metric=Metric(ELASTICACHE, "DatabaseMemoryUsagePercentage", dimensions, statistic="Maximum"),
        ),
        AlarmSpec(
            key=f"{label}-evictions", severity="P1",
            summary=f"Redis {label} evicted more than {_number(evictions.threshold)} keys {_window(evictions)}.",
            action="Redis is full and dropping keys (sessions, channel layers): move to a larger "
                   "cache.nodeType or shorten TTLs.",
            comparison="GreaterThanThreshold", threshold=evictions.threshold, timing=evictions,
            treat_missing_data="notBreaching",
            metric=Metric(ELASTICACHE, "Evictions", dimensions, statistic="Sum"),
        ),
    ]


def queue_alarms(queue: str, queue_name: Any, dead_letter_queue_name: Any, consumer: str,
                 alarms: AlarmsConfig) -> list[AlarmSpec]:
    """One work queue: its oldest message waits too long (the consumer is stuck or too small), and messages
    its consumer kept failing on reached the dead-letter queue."""
    age, dead = alarms.queue_oldest_message, alarms.queue_dead_letters
    return [
        AlarmSpec(
            key=f"queue-{queue}-oldest-message", severity="P1",
            summary=f"the oldest message in queue {queue} has waited more than {_number(age.threshold)} s "
                    f"{_window(age)}.",
            action=f"check that {consumer} is running and not at services.{consumer}.scaling.max (raise it, or "
                   f"scaling.backlogPerTask lower); look for a slow or failing task in {consumer}'s logs.",
            comparison="GreaterThanThreshold", threshold=age.threshold, timing=age,
            treat_missing_data="notBreaching",
            metric=Metric(SQS, "ApproximateAgeOfOldestMessage", {"QueueName": queue_name}, statistic="Maximum"),
        ),
        AlarmSpec(
            key=f"queue-{queue}-dead-letters", severity="P1",
            summary=f"more than {_number(dead.threshold)} messages of queue {queue} are in its dead-letter queue "
                    f"{_window(dead)}: {consumer} failed on each of them queues.{queue}.maxReceiveCount times.",
            action=f"read a message (aws sqs receive-message on the dead-letter queue) and the errors in {consumer}'s "
                   f"logs; after the fix, move them back with the console's or CLI's redrive (start-message-move-task).",
            comparison="GreaterThanThreshold", threshold=dead.threshold, timing=dead,
            treat_missing_data="notBreaching",
            metric=Metric(SQS, "ApproximateNumberOfMessagesVisible", {"QueueName": dead_letter_queue_name},
                          statistic="Maximum"),
        ),
    ]


def waf_dimensions(metric_name: Any, region: Optional[str]) -> dict[str, Any]:
    """A web ACL's metrics, all rules together, keyed by its metric name: a REGIONAL ACL's carry its Region, a
    CLOUDFRONT ACL's (in us-east-1) do not (`region` None)."""
    return {"WebACL": metric_name, "Rule": "ALL", **({"Region": region} if region is not None else {})}


def waf_alarms(metric_name: Any, region: Optional[str], alarms: AlarmsConfig) -> list[AlarmSpec]:
    """Blocked requests spike: an attack or scan under way, or a rule blocking real users (a false positive)."""
    blocked = alarms.waf_blocked_requests
    return [AlarmSpec(
        key="waf-blocked-requests", severity="P1",
        summary=f"the web ACL blocked more than {_number(blocked.threshold)} requests {_window(blocked)}.",
        action="open the aws-waf-logs-... log group: many client IPs on one rule with ordinary requests is a false "
               "positive (set loadBalancer.waf.ruleOverrides.<group>.<rule>: count); a few IPs or the rate rule is "
               "an attack the ACL is stopping (lower loadBalancer.waf.rateLimit if it gets through).",
        comparison="GreaterThanThreshold", threshold=blocked.threshold, timing=blocked,
        treat_missing_data="notBreaching",
        metric=Metric(WAF, "BlockedRequests", waf_dimensions(metric_name, region), statistic="Sum"),
    )]
