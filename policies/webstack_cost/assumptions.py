"""Usage assumptions: the traffic-driven quantities a list price needs (GB, LCUs, requests).

Resources say how much capacity is provisioned; they cannot say how many GB go through a NAT
gateway. These defaults model seed 000's small web app and are meant to be overridden, from the
stack config (`webstack:cost`, read by preflight) or from the budget policy's config (`usage`).
Per-task figures scale with the number of running tasks, so they differ at minimum and maximum scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Mapping


def _assumption(default: float | None, doc: str, maximum: float | None = None) -> Any:
    return field(default=default, metadata={"doc": doc, "maximum": maximum})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@dataclass(frozen=True)
class UsageAssumptions:
    nat_gb_per_task_month: float = _assumption(
        5.0, "GB each running task sends or pulls through NAT per month (image pulls, API calls).")
    s3_gb_per_task_month: float = _assumption(
        3.0, "Of natGbPerTaskMonth, GB that are S3 traffic (ECR image layers, the app's buckets): an S3 gateway "
        "endpoint takes them off the NAT (free).")
    log_gb_per_task_month: float = _assumption(
        1.0, "GB of container logs each running task writes to CloudWatch Logs per month.")
    other_log_group_gb_month: float = _assumption(
        0.5, "GB ingested per month by a log group no task writes to and no flow log targets.")
    flow_log_gb_month: float = _assumption(
        2.0, "GB of VPC flow log records delivered per flow log per month.")
    unlimited_retention_months: float = _assumption(
        12.0, "Months of logs kept (for storage) by a log group without a retention period.")
    alb_lcu_per_task: float = _assumption(
        0.25, "Average ALB load balancer capacity units (LCUs) per running task.")
    alb_min_lcu: float = _assumption(
        1.0, "Average LCUs a load balancer uses whatever the task count.")
    internet_egress_gb_per_task_month: float = _assumption(
        5.0, "GB each running task serves to the internet through the load balancer per month.")
    interface_endpoint_gb_month: float = _assumption(
        5.0, "GB processed per interface VPC endpoint per month.")
    s3_gb_per_bucket: float = _assumption(10.0, "GB stored per S3 bucket (Standard class).")
    s3_put_thousands_per_bucket_month: float = _assumption(
        10.0, "Thousands of PUT/COPY/POST/LIST requests per bucket per month.")
    s3_get_thousands_per_bucket_month: float = _assumption(
        100.0, "Thousands of GET requests per bucket per month.")
    cloudfront_gb_month: float = _assumption(50.0, "GB served by each CloudFront distribution per month.")
    cloudfront_requests_millions_month: float = _assumption(
        1.0, "Millions of HTTPS requests to each CloudFront distribution per month.")
    waf_requests_millions_per_task_month: float = _assumption(
        2.0, "Millions of requests a load balancer's WAF web ACL inspects per running task per month (about 0.8 a "
        "second per task); a CloudFront web ACL inspects cloudfrontRequestsMillionsMonth instead.")
    ecr_gb_per_repository: float = _assumption(2.0, "GB of images kept per ECR repository.")
    sns_publishes_per_topic_month: float = _assumption(10000.0, "Messages published per SNS topic per month.")
    sqs_requests_millions_per_queue_month: float = _assumption(
        1.0, "Millions of SQS requests (send, receive, delete, change visibility; each 64 KB chunk of a message "
        "counts) per work queue per month: a consumer long-polling an idle queue alone makes about 0.13 M per "
        "task; a dead-letter queue is counted as ~0. The first 1 M requests a month per account are free (not "
        "subtracted).")
    rds_backup_gb_beyond_free: float = _assumption(
        0.0, "GB of RDS backups beyond the free allowance (100 % of provisioned storage) per instance.")
    aurora_awake_hours_month: float = _assumption(
        200.0, "Hours per month an Aurora Serverless v2 instance that may pause (minCapacity 0) is awake, at "
        "0.5 ACU, at minimum scale (200: business hours plus the 5-10 idle minutes before each pause); maximum "
        "scale runs every instance at maxCapacity all month. Never 0: any connection wakes it.", maximum=744.0)
    aurora_storage_gb: float = _assumption(20.0, "GB stored per Aurora cluster (billed as used, no allocation).")
    aurora_io_millions_month: float = _assumption(
        5.0, "Millions of I/O requests per Aurora Standard cluster per month (I/O-Optimized: included); 5 is a small "
        "app whose working set fits in memory (about 2 I/Os a second); raise it for write-heavy or larger data.")
    cloudwatch_free_tier_share: float = _assumption(
        0.0, "Share of CloudWatch's always-free allowance per account (10 standard alarm metrics, 3 dashboards) "
        "credited to this stack, as a separate line: 1 when it is alone in its account, 0 when others use it.",
        maximum=1.0)
    cloudfront_free_tier_share: float = _assumption(
        0.0, "Share of CloudFront's always-free allowance per account (1 TB out, 10 million HTTPS requests, 2 million "
        "CloudFront Functions invocations a month) credited to this stack, as a separate line: 1 when it is alone "
        "in its account, 0 when others use it.", maximum=1.0)
    job_run_minutes: float = _assumption(
        10.0, "Minutes each run of a scheduled job takes (Fargate bills per second, at least 1 minute).",
        maximum=1440.0)
    fargate_spot_discount: float | None = _assumption(
        None, "Fraction Fargate Spot costs less than on-demand (AWS: 50-70 %); unset: the price file's "
        "fargate.spotDiscount.", maximum=0.9)

    @classmethod
    def documented(cls) -> list[tuple[str, float | None, str]]:
        """(camelCase key, default, meaning) for every assumption: the docs/cost.md table and config schema."""
        return [(_camel(f.name), f.default, f.metadata["doc"]) for f in fields(cls)]

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any] | None) -> "UsageAssumptions":
        """Defaults overridden by camelCase keys; unknown keys and out-of-range values are errors."""
        by_key = {_camel(f.name): f for f in fields(cls)}
        problems, overrides = [], {}
        for key, value in (values or {}).items():
            spec = by_key.get(key)
            if spec is None:
                problems.append(f"unknown usage assumption {key!r} (known: {', '.join(sorted(by_key))})")
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                problems.append(f"{key} must be a number >= 0, got {value!r}")
            elif spec.metadata["maximum"] is not None and value > spec.metadata["maximum"]:
                problems.append(f"{key} must be at most {spec.metadata['maximum']}, got {value!r}")
            else:
                overrides[spec.name] = float(value)
        if problems:
            raise ValueError("; ".join(problems))
        return replace(cls(), **overrides)

    def as_mapping(self) -> dict[str, float | None]:
        return {_camel(f.name): getattr(self, f.name) for f in fields(self)}
