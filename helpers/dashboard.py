"""The stack's CloudWatch dashboard body (seed 001's panels), built from plain resolved names.

`components/monitoring.py` resolves the resources' names and ARN suffixes and calls
`dashboard_body`; the result is the JSON document `PutDashboard` takes. Metrics use CloudWatch's
array form: `[namespace, metric name, dimension name, dimension value, ..., {rendering options}]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

from helpers.alarms import ALB, CONTAINER_INSIGHTS, ECS, ELASTICACHE, RDS, SQS, WAF, AlarmsConfig, waf_dimensions
from helpers.names import stack_label

GRID_WIDTH = 24
PANEL_HEIGHT = 6
PERIOD = 60
# PutDashboard: A-Z, a-z, 0-9, "-" and "_", at most 255 characters; names are global to the account.
DASHBOARD_NAME_LIMIT = 255


@dataclass(frozen=True)
class WebAclPanels:
    # The web ACL's metric name: CloudWatch's `WebACL` dimension.
    metric_name: str
    # Its metrics' Region dimension: the stack's region for a REGIONAL web ACL, None for a CLOUDFRONT one (whose
    # metrics are in us-east-1, the only region a stack with one may have: stackconfig.rules).
    region_dimension: Optional[str]


def dashboard_name(project: str, stack: str) -> str:
    """`<project>-<stack>`; a '.' (allowed in Pulumi project and stack names, not in dashboard names) becomes '-'."""
    return stack_label(project, stack, DASHBOARD_NAME_LIMIT)


@dataclass(frozen=True)
class ServicePanels:
    service_name: str
    # None for a service without routes: no load balancer panels.
    target_group_arn_suffix: Optional[str]
    # The service's scaling.min: drawn on its task count panel.
    min_tasks: int
    # Blue/green, canary or linear: the second target group ECS moves traffic to, drawn beside the first.
    alternate_target_group_arn_suffix: Optional[str] = None

    @property
    def target_groups(self) -> list[tuple[str, str]]:
        """(target group ARN suffix, label suffix) of each group the service's traffic can flow through."""
        groups = [(self.target_group_arn_suffix, "")]
        if self.alternate_target_group_arn_suffix is not None:
            groups.append((self.alternate_target_group_arn_suffix, " (alternate)"))
        return groups


@dataclass(frozen=True)
class DatabasePanels:
    instance_identifier: str
    max_connections: int


@dataclass(frozen=True)
class QueuePanels:
    queue_name: str
    dead_letter_queue_name: str


def _metric(namespace: str, name: str, dimensions: Mapping[str, str], stat: str, label: str) -> list[Any]:
    row: list[Any] = [namespace, name]
    for key, value in dimensions.items():
        row += [key, value]
    return row + [{"stat": stat, "label": label}]


def _graph(title: str, region: str, metrics: list[list[Any]], width: int = 8, *,
           y_max: Optional[float] = None, lines: Sequence[tuple[str, float]] = ()) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "title": title,
        "view": "timeSeries",
        "stacked": False,
        "region": region,
        "period": PERIOD,
        "metrics": metrics,
        "yAxis": {"left": {"min": 0, **({"max": y_max} if y_max is not None else {})}},
    }
    if lines:
        properties["annotations"] = {"horizontal": [{"label": label, "value": value} for label, value in lines]}
    return {"type": "metric", "width": width, "height": PANEL_HEIGHT, "properties": properties}


def _heading(markdown: str) -> dict[str, Any]:
    return {"type": "text", "width": GRID_WIDTH, "height": 1, "properties": {"markdown": markdown}}


def _place(widgets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flow widgets left to right, wrapping at the grid's 24 columns."""
    x = y = row_height = 0
    for widget in widgets:
        if x + widget["width"] > GRID_WIDTH:
            x, y, row_height = 0, y + row_height, 0
        widget["x"], widget["y"] = x, y
        x += widget["width"]
        row_height = max(row_height, widget["height"])
    return widgets


def dashboard_body(
    region: str,
    cluster_name: str,
    load_balancer_arn_suffix: str,
    services: Mapping[str, ServicePanels],
    alarms: AlarmsConfig,
    databases: Mapping[str, DatabasePanels] | None = None,
    cache_cluster_ids: Sequence[str] = (),
    queues: Mapping[str, QueuePanels] | None = None,
    web_acl: WebAclPanels | None = None,
) -> dict[str, Any]:
    """ECS per service, the ALB (overall and per service), the WAF web ACL, RDS instances, Redis nodes and work
    queues, with alarm lines."""
    lb = {"LoadBalancer": load_balancer_arn_suffix}
    routed = {name: panels for name, panels in services.items() if panels.target_group_arn_suffix is not None}
    widgets: list[dict[str, Any]] = [_heading("## Load balancer")]
    widgets += [
        _graph("Requests", region, [_metric(ALB, "RequestCount", lb, "Sum", "All requests")] + [
            _metric(ALB, "RequestCount", {**lb, "TargetGroup": group}, "Sum", f"{name}{label}")
            for name, panels in routed.items() for group, label in panels.target_groups
        ], width=6),
        _graph("Target response time (s)", region, [
            _metric(ALB, "TargetResponseTime", lb, percentile, percentile) for percentile in ("p50", "p95", "p99")
        ], width=6, lines=[("p95 alarm", alarms.response_time_p95.threshold)]),
        _graph("4xx / 5xx", region, [
            _metric(ALB, metric, lb, "Sum", label) for metric, label in (
                ("HTTPCode_Target_4XX_Count", "Target 4xx"), ("HTTPCode_Target_5XX_Count", "Target 5xx"),
                ("HTTPCode_ELB_4XX_Count", "Load balancer 4xx"), ("HTTPCode_ELB_5XX_Count", "Load balancer 5xx"),
            )
        ], width=6),
        _graph("Healthy / unhealthy targets", region, [
            _metric(ALB, metric, {**lb, "TargetGroup": group}, "Minimum" if healthy
                    else "Maximum", f"{name}{label} {'healthy' if healthy else 'unhealthy'}")
            for name, panels in routed.items() for group, label in panels.target_groups
            for metric, healthy in (("HealthyHostCount", True), ("UnHealthyHostCount", False))
        ], width=6),
    ]
    if web_acl is not None:
        acl = waf_dimensions(web_acl.metric_name, web_acl.region_dimension)
        widgets.append(_graph(f"WAF web ACL {web_acl.metric_name}: requests per minute", region, [
            _metric(WAF, metric, acl, "Sum", label) for metric, label in (
                ("AllowedRequests", "Allowed"), ("BlockedRequests", "Blocked"), ("CountedRequests", "Counted only"),
            )
        ], width=24))

    for name, panels in services.items():
        ecs = {"ClusterName": cluster_name, "ServiceName": panels.service_name}
        widgets.append(_heading(f"## Service {name}"))
        widgets += [
            _graph(f"{name}: CPU and memory (%)", region, [
                _metric(ECS, "CPUUtilization", ecs, "Average", "CPU average"),
                _metric(ECS, "CPUUtilization", ecs, "Maximum", "CPU max (busiest task)"),
                _metric(ECS, "MemoryUtilization", ecs, "Average", "Memory average"),
                _metric(ECS, "MemoryUtilization", ecs, "Maximum", "Memory max (busiest task)"),
            ], width=6, y_max=100, lines=[("CPU alarm", alarms.service_cpu.threshold),
                                          ("Memory alarm", alarms.service_memory.threshold)]),
            _graph(f"{name}: tasks", region, [
                _metric(CONTAINER_INSIGHTS, metric, ecs, "Average", label) for metric, label in (
                    ("RunningTaskCount", "Running"), ("DesiredTaskCount", "Desired"), ("PendingTaskCount", "Pending"),
                )
            ], width=6, lines=[("scaling.min", panels.min_tasks)]),
        ]
        if panels.target_group_arn_suffix is None:
            continue
        widgets += [
            _graph(f"{name}: requests and errors", region, [
                _metric(ALB, metric, {**lb, "TargetGroup": group}, "Sum", f"{what}{label}")
                for group, label in panels.target_groups
                for metric, what in (("RequestCount", "Requests"), ("HTTPCode_Target_4XX_Count", "4xx"),
                                     ("HTTPCode_Target_5XX_Count", "5xx"))
            ], width=6),
            _graph(f"{name}: response time (s)", region, [
                _metric(ALB, "TargetResponseTime", {**lb, "TargetGroup": group}, percentile, f"{percentile}{label}")
                for group, label in panels.target_groups for percentile in ("p50", "p95", "p99")
            ], width=6, lines=[("p95 alarm", alarms.response_time_p95.threshold)]),
        ]

    if databases:
        instances = {label: {"DBInstanceIdentifier": panels.instance_identifier} for label, panels in databases.items()}
        widgets.append(_heading("## Database (RDS PostgreSQL)"))
        widgets += [
            _graph("RDS CPU (%)", region, [
                _metric(RDS, "CPUUtilization", dims, "Average", label) for label, dims in instances.items()
            ], width=6, y_max=100, lines=[("CPU alarm", alarms.database_cpu.threshold)]),
            _graph("RDS connections", region, [
                _metric(RDS, "DatabaseConnections", dims, "Maximum", label) for label, dims in instances.items()
            ], width=6, lines=[
                (f"{label} alarm", panels.max_connections * alarms.database_connections.threshold / 100)
                for label, panels in databases.items()
            ]),
            _graph("RDS read / write latency (s)", region, [
                _metric(RDS, metric, dims, "Average", f"{label} {operation}")
                for label, dims in instances.items()
                for metric, operation in (("ReadLatency", "read"), ("WriteLatency", "write"))
            ], width=6, lines=[("Latency alarm", alarms.database_latency.threshold)]),
            _graph("RDS free storage (bytes)", region, [
                _metric(RDS, "FreeStorageSpace", dims, "Minimum", label) for label, dims in instances.items()
            ], width=6),
        ]

    if cache_cluster_ids:
        nodes = {node: {"CacheClusterId": node} for node in cache_cluster_ids}
        widgets.append(_heading("## Cache (ElastiCache Redis)"))
        widgets += [
            _graph("Redis engine CPU (%)", region, [
                _metric(ELASTICACHE, "EngineCPUUtilization", dims, "Average", node) for node, dims in nodes.items()
            ], width=6, y_max=100, lines=[("CPU alarm", alarms.cache_engine_cpu.threshold)]),
            _graph("Redis memory used (%)", region, [
                _metric(ELASTICACHE, "DatabaseMemoryUsagePercentage", dims, "Maximum", node)
                for node, dims in nodes.items()
            ], width=6, y_max=100, lines=[("Memory alarm", alarms.cache_memory.threshold)]),
            _graph("Redis evictions", region, [
                _metric(ELASTICACHE, "Evictions", dims, "Sum", node) for node, dims in nodes.items()
            ], width=6),
            _graph("Redis connections", region, [
                _metric(ELASTICACHE, "CurrConnections", dims, "Maximum", node) for node, dims in nodes.items()
            ], width=6),
        ]

    for name, panels in (queues or {}).items():
        queue, dead = {"QueueName": panels.queue_name}, {"QueueName": panels.dead_letter_queue_name}
        widgets.append(_heading(f"## Queue {name}"))
        widgets += [
            _graph(f"{name}: messages", region, [
                _metric(SQS, "ApproximateNumberOfMessagesVisible", queue, "Maximum", "Visible (backlog)"),
                _metric(SQS, "ApproximateNumberOfMessagesNotVisible", queue, "Maximum", "In flight"),
                _metric(SQS, "NumberOfMessagesSent", queue, "Sum", "Sent"),
                _metric(SQS, "NumberOfMessagesDeleted", queue, "Sum", "Processed (deleted)"),
            ], width=8),
            _graph(f"{name}: oldest message (s)", region, [
                _metric(SQS, "ApproximateAgeOfOldestMessage", queue, "Maximum", "Oldest message age"),
            ], width=8, lines=[("Age alarm", alarms.queue_oldest_message.threshold)]),
            _graph(f"{name}: dead-letter queue", region, [
                _metric(SQS, "ApproximateNumberOfMessagesVisible", dead, "Maximum", "Dead letters"),
            ], width=8, lines=[("Dead-letter alarm", alarms.queue_dead_letters.threshold)]),
        ]

    return {"start": "-PT6H", "periodOverride": "inherit", "widgets": _place(widgets)}
