"""Shell commands the stack hands to its users as outputs. Pure, so their exact text is tested."""

from __future__ import annotations

import shlex
from typing import Sequence


def run_task_command(
    cluster: str, task_definition_family: str, subnet_ids: Sequence[str], security_group_ids: Sequence[str]
) -> str:
    """`aws ecs run-task` for a one-off Fargate task in private subnets (latest revision of the family)."""
    network = (
        f"awsvpcConfiguration={{subnets=[{','.join(subnet_ids)}],"
        f"securityGroups=[{','.join(security_group_ids)}],assignPublicIp=DISABLED}}"
    )
    return (
        f"aws ecs run-task --cluster {shlex.quote(cluster)} --task-definition {shlex.quote(task_definition_family)} "
        f"--launch-type FARGATE --network-configuration {shlex.quote(network)}"
    )
