"""The task parts a service and a scheduled job build alike (building blocks, not a component).

Each function declares resources under the caller's component (`child` options), with the caller's
resource names, so a service's or a job's URNs are those it would have with its own copy.
"""

from __future__ import annotations

import json
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

from helpers.container import secret_arn_of, writable_volume_name

EXECUTION_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
ECS_TASKS_TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }],
})
CPU_ARCHITECTURES = {"x86_64": "X86_64", "arm64": "ARM64"}


def task_role_trust(region: str, account_id: str) -> str:
    """The application's role: only ECS tasks of this account and region may assume it (the confused-deputy
    conditions of AWS's task IAM role guide)."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "ArnLike": {"aws:SourceArn": f"arn:aws:ecs:{region}:{account_id}:*"},
                "StringEquals": {"aws:SourceAccount": account_id},
            },
        }],
    })


def task_roles(name: str, region: str, account_id: pulumi.Input[str], secrets: Mapping[str, pulumi.Input[str]],
               child: pulumi.ResourceOptions) -> tuple[aws.iam.Role, aws.iam.Role]:
    """The execution role (pulls the image, writes logs, reads exactly the referenced secrets, by ARN) and the
    task role (the application's own identity: nothing until the caller grants it something)."""
    execution_role = aws.iam.Role(f"{name}-execution", assume_role_policy=ECS_TASKS_TRUST, opts=child)
    aws.iam.RolePolicyAttachment(
        f"{name}-execution-managed", role=execution_role.name, policy_arn=EXECUTION_POLICY_ARN, opts=child
    )
    if secrets:
        arns = pulumi.Output.all(*secrets.values()).apply(
            lambda values: sorted({secret_arn_of(value) for value in values})
        )
        aws.iam.RolePolicy(
            f"{name}-execution-secrets",
            role=execution_role.id,
            policy=arns.apply(lambda resources: json.dumps({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Action": ["secretsmanager:GetSecretValue"],
                    "Resource": resources,
                }],
            })),
            opts=child,
        )
    task_role = aws.iam.Role(
        f"{name}-task",
        assume_role_policy=pulumi.Output.from_input(account_id).apply(
            lambda account: task_role_trust(region, account)
        ),
        opts=child,
    )
    return execution_role, task_role


def fargate_task_definition(resource_name: str, family: str, *, cpu: int, memory: int, architecture: str,
                            execution_role: aws.iam.Role, task_role: aws.iam.Role,
                            container_definitions: pulumi.Input[str],
                            child: pulumi.ResourceOptions, writable_paths: Sequence[str] = (),
                            ephemeral_storage_gib: Optional[int] = None) -> aws.ecs.TaskDefinition:
    """A Fargate task definition; each writable path is a volume without a host path, which on Fargate is an
    empty bind mount on the task's ephemeral storage, scoped to the task (the container mounts it)."""
    return aws.ecs.TaskDefinition(
        resource_name,
        family=family,
        requires_compatibilities=["FARGATE"],
        network_mode="awsvpc",
        cpu=str(cpu),
        memory=str(memory),
        runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
            operating_system_family="LINUX", cpu_architecture=CPU_ARCHITECTURES[architecture]
        ),
        execution_role_arn=execution_role.arn,
        task_role_arn=task_role.arn,
        container_definitions=container_definitions,
        volumes=[aws.ecs.TaskDefinitionVolumeArgs(name=writable_volume_name(path)) for path in writable_paths]
        or None,
        ephemeral_storage=aws.ecs.TaskDefinitionEphemeralStorageArgs(size_in_gib=ephemeral_storage_gib)
        if ephemeral_storage_gib is not None else None,
        opts=child,
    )


def resolved(values: Mapping[str, pulumi.Input[str]]) -> pulumi.Output[dict]:
    """A mapping of inputs as one output of a plain dict (empty when there is nothing to wait for)."""
    return pulumi.Output.all(**dict(values)) if values else pulumi.Output.from_input({})
