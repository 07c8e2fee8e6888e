"""Names and labels AWS derives from our resources. Pure, so they are tested without Pulumi."""

from __future__ import annotations

import re

# One `/`-separated part of an ECR repository name (ECR CreateRepository's pattern), and the whole name's limit.
_ECR_NAME_PART = re.compile(r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*")
ECR_REPOSITORY_NAME_LIMIT = 256


def request_count_resource_label(load_balancer_arn_suffix: str, target_group_arn_suffix: str) -> str:
    """`ALBRequestCountPerTarget` resource label: `app/<lb>/<id>/targetgroup/<tg>/<id>`."""
    if not load_balancer_arn_suffix.startswith("app/"):
        raise ValueError(f"not an application load balancer ARN suffix: {load_balancer_arn_suffix!r}")
    if not target_group_arn_suffix.startswith("targetgroup/"):
        raise ValueError(f"not a target group ARN suffix: {target_group_arn_suffix!r}")
    return f"{load_balancer_arn_suffix}/{target_group_arn_suffix}"


def ecs_service_resource_id(cluster_name: str, service_name: str) -> str:
    """Application Auto Scaling resource id of an ECS service."""
    return f"service/{cluster_name}/{service_name}"


# WAF: web ACL names and metric names are 1-128 of A-Z a-z 0-9 _ -; the provider appends 26 characters to a
# name_prefix; WAF delivers logs only to log groups named aws-waf-logs-*.
WEB_ACL_NAME_LIMIT = 128
NAME_PREFIX_SUFFIX_LENGTH = 26
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"


def stack_label(project: str, stack: str, limit: int) -> str:
    """`<project>-<stack>` in names of A-Z a-z 0-9 _ - (dashboards, web ACL metrics): a '.' (allowed in Pulumi
    project and stack names) becomes '-'; cut at `limit`."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"{project}-{stack}")[:limit]


def web_acl_metric_name(project: str, stack: str) -> str:
    """The web ACL's CloudWatch metric name, its metrics' `WebACL` dimension."""
    return stack_label(project, stack, WEB_ACL_NAME_LIMIT)


def web_acl_name_prefix(metric_name: str) -> str:
    """The web ACL's name prefix: its metric name and '-', short enough for the provider's suffix."""
    return metric_name[:WEB_ACL_NAME_LIMIT - NAME_PREFIX_SUFFIX_LENGTH - 1] + "-"


def web_acl_log_group_prefix(metric_name: str) -> str:
    """The log group's name prefix (the provider appends a unique suffix): `aws-waf-logs-<metric name>-`."""
    return f"{WAF_LOG_GROUP_PREFIX}{metric_name}-"


def log_group_name(project: str, stack: str, component: str) -> str:
    """One log group per component per stack, grouped by project: `/webstack/prod/backend`."""
    return f"/{project}/{stack}/{component}"


def has_registry_host(repository: str) -> bool:
    """`public.ecr.aws/nginx/nginx` or `localhost:5000/app` name their registry; `backend`, `team/api` do not."""
    first = repository.split("/", 1)[0]
    return "/" in repository and ("." in first or ":" in first)


def image_reference(registry: str, repository: str, tag: str | None, digest: str | None) -> str:
    """`<registry>/<repository>:<tag>` or `...@sha256:...`; a repository with its own registry host is kept."""
    base = repository if has_registry_host(repository) else f"{registry}/{repository}"
    return f"{base}@{digest}" if digest else f"{base}:{tag}"


def stack_repository_name(stack: str, repository: str) -> str:
    """The ECR repository a stack pushes `repository`'s images to: `<stack>/<repository>` (`dev/backend`).

    Repository names are unique per account and region, so two stacks in one account never share a
    repository, and a dev stack's `forceDelete` can only ever delete dev's images.
    """
    prefix = stack.lower()
    if not _ECR_NAME_PART.fullmatch(prefix):
        raise ValueError(
            f"stack name {stack!r} cannot prefix an ECR repository name: ECR allows lower-case letters and "
            f"digits, separated by single `.` or `_`, `__`, or dashes; rename the stack (e.g. `dev`, `prod-eu`)"
        )
    name = f"{prefix}/{repository}"
    if len(name) > ECR_REPOSITORY_NAME_LIMIT:
        raise ValueError(f"ECR repository name {name!r} is longer than {ECR_REPOSITORY_NAME_LIMIT} characters")
    return name


def ecr_registry(account_id: str, region: str) -> str:
    return f"{account_id}.dkr.ecr.{region}.amazonaws.com"


def task_family(project: str, stack: str, service: str) -> str:
    """ECS task definition family `<project>-<stack>-<service>`; ECS allows only letters, digits, `-` and `_`
    (Pulumi stack names may also hold `.`), at most 255 characters."""
    raw = f"{project}-{stack}-{service}"
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_") else "-" for ch in raw)[:255]


def queue_url_variable(queue: str) -> str:
    """The container variable holding a queue's URL, for its producers and its consumer: `tasks` -> `TASKS_QUEUE_URL`."""
    return f"{queue.upper().replace('-', '_')}_QUEUE_URL"
