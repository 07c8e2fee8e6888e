"""The ECS container definition of a service, as the RegisterTaskDefinition API takes it."""

from __future__ import annotations

import re
from typing import Mapping, Optional, Sequence


def secret_arn_of(value_from: str) -> str:
    """The secret an ECS `valueFrom` reads: Secrets Manager references may carry `:json-key:stage:version`."""
    if value_from.startswith("arn:") and ":secretsmanager:" in value_from:
        return ":".join(value_from.split(":")[:7])
    return value_from


def writable_volume_name(path: str) -> str:
    """The task volume mounted at a writable path: `/var/cache/nginx` -> `writable-var-cache-nginx` (ECS volume
    names: letters, digits, hyphens and underscores)."""
    return "writable-" + re.sub(r"[^A-Za-z0-9_-]", "-", path.strip("/").replace("/", "-"))


def pinned_secret_reference(secret_arn: str, version_id: str, json_key: str = "") -> str:
    """An ECS `valueFrom` that reads one version of a secret (`<arn>:<json-key>:<version-stage>:<version-id>`).

    ECS's format ("Pass Secrets Manager secrets through Amazon ECS environment variables"): a version
    id and a version stage exclude each other, so the stage stays empty. A new value is a new version
    id, so the task definition changes and ECS replaces the running tasks; without the pin they would
    keep the old value until something restarted them.
    """
    if not version_id:
        raise ValueError(f"no version id to pin {secret_arn} to")
    return f"{secret_arn}:{json_key}::{version_id}"


def port_name(container: str) -> str:
    """The name of a container's port mapping, which Service Connect refers to (`portName`)."""
    return f"{container}-http"


def container_definition(
    *,
    name: str,
    image: str,
    port: Optional[int],
    log_group: str,
    region: str,
    environment: Mapping[str, str],
    secrets: Mapping[str, str],
    stop_timeout: int,
    command: Optional[Sequence[str]] = None,
    health_command: Optional[Sequence[str]] = None,
    health_interval: int = 30,
    health_timeout: int = 5,
    health_retries: int = 3,
    health_start_period: int = 60,
    init_process: bool = False,
    read_only_root: bool = True,
    writable_paths: Sequence[str] = (),
) -> dict:
    """One essential container: port mapping (none without a port), awslogs, plain env vars and secrets by
    reference only, a read-only root filesystem unless told otherwise, with a task volume at each writable path
    (the task definition declares them: `writable_volume_name`)."""
    definition: dict = {
        "name": name,
        "image": image,
        "essential": True,
        "environment": [{"name": key, "value": value} for key, value in sorted(environment.items())],
        "secrets": [{"name": key, "valueFrom": value} for key, value in sorted(secrets.items())],
        "stopTimeout": stop_timeout,
        "readonlyRootFilesystem": read_only_root,
        "mountPoints": [
            {"sourceVolume": writable_volume_name(path), "containerPath": path, "readOnly": False}
            for path in writable_paths
        ],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": region,
                "awslogs-stream-prefix": name,
                # A slow log pipeline must never block the application's stdout.
                "mode": "non-blocking",
                "max-buffer-size": "25m",
            },
        },
    }
    if port is not None:
        definition["portMappings"] = [
            {"name": port_name(name), "containerPort": port, "hostPort": port, "protocol": "tcp"}
        ]
    if command:
        definition["command"] = list(command)
    if health_command:
        definition["healthCheck"] = {
            "command": list(health_command),
            "interval": health_interval,
            "timeout": health_timeout,
            "retries": health_retries,
            # ECS caps a container's start period at 300 s; the load balancer grace period may be longer.
            "startPeriod": min(health_start_period, 300),
        }
    if init_process:
        # ECS Exec needs an init process to reap the SSM agent's children.
        definition["linuxParameters"] = {"initProcessEnabled": True}
    return definition
