"""ScheduledJob: a Fargate task EventBridge Scheduler runs on a schedule, in private subnets without a public IP.

Its own task definition family, execution and task roles (as a service's), log group and egress-only
security group; an `aws.scheduler.Schedule` with an ECS target, a retry policy and an encrypted
standard dead-letter queue (Scheduler does not support FIFO dead-letter queues); the scheduler's role
may only run this family, pass this job's two roles to ECS tasks, tag the tasks it starts and send to
its dead-letter queue. A failed run (a stopped task with a non-zero container exit code) reaches the
alert topic through an EventBridge rule; a message in the dead-letter queue (a run Scheduler could not
start) raises an alarm.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_aws as aws

from components.fargate_task import fargate_task_definition, resolved, task_roles
from helpers.container import container_definition
from helpers.names import task_family
from stackconfig.jobs import JobConfig

# A standard queue keeps a message at most 14 days: time to look at a run that never started.
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
JOB_STOP_TIMEOUT = 30


def scheduler_trust(account_id: str) -> str:
    """Only EventBridge Scheduler, on behalf of schedules of this account, may assume the role."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "scheduler.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }],
    })


def scheduler_policy(*, region: str, account_id: str, family: str, cluster_name: str, role_arns: list[str],
                     queue_arn: str) -> dict:
    """RunTask on this family only, PassRole on the job's two roles to ECS tasks, tags on the tasks it
    starts, and the dead-letter queue."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "RunThisJobsTasks",
                "Effect": "Allow",
                "Action": ["ecs:RunTask"],
                "Resource": [f"arn:aws:ecs:{region}:{account_id}:task-definition/{family}:*"],
            },
            {
                "Sid": "PassThisJobsRoles",
                "Effect": "Allow",
                "Action": ["iam:PassRole"],
                "Resource": sorted(role_arns),
                "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            },
            {
                "Sid": "TagTheTasksItStarts",
                "Effect": "Allow",
                "Action": ["ecs:TagResource"],
                "Resource": [f"arn:aws:ecs:{region}:{account_id}:task/{cluster_name}/*"],
                "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}},
            },
            {
                "Sid": "DeadLetters",
                "Effect": "Allow",
                "Action": ["sqs:SendMessage"],
                "Resource": [queue_arn],
            },
        ],
    }


def failure_pattern(region: str, account_id: str, family: str) -> dict:
    """ECS Task State Change of a stopped task of this family with a container exit code other than 0."""
    return {
        "source": ["aws.ecs"],
        "detail-type": ["ECS Task State Change"],
        "detail": {
            "lastStatus": ["STOPPED"],
            "taskDefinitionArn": [{"prefix": f"arn:aws:ecs:{region}:{account_id}:task-definition/{family}:"}],
            "containers": {"exitCode": [{"anything-but": 0}]},
        },
    }


@dataclass(frozen=True)
class ScheduledJobArgs:
    settings: JobConfig
    image: pulumi.Input[str]
    region: str
    account_id: pulumi.Input[str]
    log_retention_days: int
    cluster_arn: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[str]]
    alert_topic_arn: pulumi.Input[str]
    # Plain variables (endpoints of the stores it uses) and Secrets Manager references, as for a service.
    linked_environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)


class ScheduledJob(pulumi.ComponentResource):
    security_group_id: pulumi.Output[str]
    task_definition_arn: pulumi.Output[str]
    family: str

    def __init__(self, name: str, args: ScheduledJobArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:job:ScheduledJob", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings
        prefix = f"{pulumi.get_project()}-{pulumi.get_stack()}"
        account = pulumi.Output.from_input(args.account_id)
        self.family = task_family(pulumi.get_project(), pulumi.get_stack(), f"job-{name}")

        self.log_group = aws.cloudwatch.LogGroup(f"{name}-logs", retention_in_days=args.log_retention_days,
                                                 opts=child)
        self.execution_role, self.task_role = task_roles(name, args.region, args.account_id, args.secrets, child)
        self.task_definition = fargate_task_definition(
            f"{name}-task", self.family, cpu=settings.cpu, memory=settings.memory,
            architecture=settings.architecture, execution_role=self.execution_role, task_role=self.task_role,
            container_definitions=pulumi.Output.all(
                args.image, self.log_group.name, resolved(args.linked_environment), resolved(args.secrets)
            ).apply(
                lambda values: json.dumps([container_definition(
                    name=name, image=values[0], port=None, log_group=values[1], region=args.region,
                    environment={**settings.environment, **values[2]}, secrets=values[3],
                    stop_timeout=JOB_STOP_TIMEOUT, command=settings.command,
                    read_only_root=settings.read_only_root_filesystem, writable_paths=settings.writable_paths,
                )])
            ),
            child=child,
            writable_paths=settings.writable_paths, ephemeral_storage_gib=settings.ephemeral_storage_gib,
        )

        self.security_group = aws.ec2.SecurityGroup(f"{name}-sg", vpc_id=args.vpc_id,
                                                    description=f"{name} job tasks: egress only", opts=child)
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-egress", security_group_id=self.security_group.id, ip_protocol="-1", cidr_ipv4="0.0.0.0/0",
            description="Image pulls, AWS APIs and data stores", opts=child,
        )

        # A standard queue: Scheduler does not support FIFO dead-letter queues.
        self.dead_letter_queue = aws.sqs.Queue(
            f"{name}-dlq", sqs_managed_sse_enabled=True, message_retention_seconds=DLQ_RETENTION_SECONDS, opts=child,
        )
        self.scheduler_role = aws.iam.Role(f"{name}-scheduler", assume_role_policy=account.apply(scheduler_trust),
                                           opts=child)
        scheduler_permissions = aws.iam.RolePolicy(
            f"{name}-scheduler-run",
            role=self.scheduler_role.id,
            policy=pulumi.Output.all(account, args.cluster_name, self.task_role.arn, self.execution_role.arn,
                                     self.dead_letter_queue.arn).apply(
                lambda v: json.dumps(scheduler_policy(region=args.region, account_id=v[0], family=self.family,
                                                      cluster_name=v[1], role_arns=[v[2], v[3]], queue_arn=v[4]))
            ),
            opts=child,
        )
        self.schedule = aws.scheduler.Schedule(
            f"{name}-schedule",
            description=f"{prefix}: job {name}",
            schedule_expression=settings.schedule,
            schedule_expression_timezone=settings.timezone,
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            state="ENABLED",
            target=aws.scheduler.ScheduleTargetArgs(
                arn=args.cluster_arn,
                role_arn=self.scheduler_role.arn,
                dead_letter_config=aws.scheduler.ScheduleTargetDeadLetterConfigArgs(arn=self.dead_letter_queue.arn),
                retry_policy=aws.scheduler.ScheduleTargetRetryPolicyArgs(
                    maximum_retry_attempts=settings.retry.maximum_retry_attempts,
                    maximum_event_age_in_seconds=settings.retry.maximum_event_age,
                ),
                ecs_parameters=aws.scheduler.ScheduleTargetEcsParametersArgs(
                    task_definition_arn=self.task_definition.arn,
                    launch_type="FARGATE",
                    platform_version="LATEST",
                    task_count=1,
                    enable_ecs_managed_tags=True,
                    propagate_tags="TASK_DEFINITION",
                    network_configuration=aws.scheduler.ScheduleTargetEcsParametersNetworkConfigurationArgs(
                        subnets=args.subnet_ids, security_groups=[self.security_group.id], assign_public_ip=False,
                    ),
                ),
            ),
            # The role's policy must exist before Scheduler first assumes it.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[scheduler_permissions]),
        )

        self.failure_rule = aws.cloudwatch.EventRule(
            f"{name}-failed",
            description=f"{prefix}: a run of job {name} stopped with a non-zero exit code",
            event_pattern=account.apply(lambda a: json.dumps(failure_pattern(args.region, a, self.family))),
            opts=child,
        )
        aws.cloudwatch.EventTarget(f"{name}-failed-alert", rule=self.failure_rule.name, arn=args.alert_topic_arn,
                                   opts=child)
        self.dead_letter_alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-dlq-alarm",
            name=f"{prefix}-job-{name}-dlq",
            alarm_description=(f"P1: Scheduler could not start job {name}: a run is in its dead-letter queue. What to "
                               f"do: read the message's error (aws sqs receive-message) and the RunTask reason, fix "
                               f"the cause, run the job by hand (docs/workloads.md), then purge the queue."),
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": self.dead_letter_queue.name},
            statistic="Maximum",
            period=300,
            evaluation_periods=1,
            threshold=0,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            actions_enabled=True,
            alarm_actions=[args.alert_topic_arn],
            ok_actions=[args.alert_topic_arn],
            # A fixed name: a replacement created first would be overwritten in place, then deleted.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )

        self.security_group_id = self.security_group.id
        self.task_definition_arn = self.task_definition.arn
        self.register_outputs({
            "taskDefinitionArn": self.task_definition_arn,
            "family": self.family,
            "securityGroupId": self.security_group_id,
            "scheduleArn": self.schedule.arn,
            "deadLetterQueueUrl": self.dead_letter_queue.url,
        })
