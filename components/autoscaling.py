"""Autoscaling: a scalable target for an ECS service and its target-tracking, step and scheduled policies.

CPU tracking is always on; memory and ALB requests-per-target tracking are optional. A queue consumer
also tracks its backlog per task, AWS's metric-math pattern: the queue's ApproximateNumberOfMessagesVisible
divided by the service's running tasks (Container Insights RunningTaskCount). At zero tasks that
quotient has no value and target tracking does nothing, so a consumer with `min: 0` gets a step
policy too: an alarm on a visible message while no task runs sets the count to exactly one (idempotent
while the alarm re-invokes it each minute; never scales a running fleet in). With several policies,
Application Auto Scaling scales out on whichever asks for more and scales in only when all of them
allow it.

A blue/green, canary or linear service has two target groups and ECS moves production traffic between
them, so `ALBRequestCountPerTarget` (one target group) would go quiet after the first deployment: its
requests per task are metric math instead, both groups' RequestCount over the running tasks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_aws as aws

from helpers.alarms import ALB, CONTAINER_INSIGHTS, SQS
from helpers.names import ecs_service_resource_id
from stackconfig.service import ScalingConfig

SCALABLE_DIMENSION = "ecs:service:DesiredCount"


@dataclass(frozen=True)
class ConsumedQueue:
    name: str
    sqs_name: pulumi.Input[str]


@dataclass(frozen=True)
class ShiftedTargetGroups:
    """The two target groups ECS moves a blue/green, canary or linear service's production traffic between."""
    load_balancer_arn_suffix: pulumi.Input[str]
    target_group_arn_suffixes: tuple[pulumi.Input[str], pulumi.Input[str]]


@dataclass(frozen=True)
class AutoscalingArgs:
    settings: ScalingConfig
    cluster_name: pulumi.Input[str]
    service_name: pulumi.Input[str]
    # `<alb arn suffix>/<target group arn suffix>`; required when requestsPerTarget is set.
    request_count_label: Optional[pulumi.Input[str]] = None
    # With a traffic-shifting deployment strategy: requests per task count both target groups.
    shifted_target_groups: Optional[ShiftedTargetGroups] = None
    # The queue the service consumes (its config name and SQS name); required when backlogPerTask is set.
    queue: Optional[ConsumedQueue] = None


class Autoscaling(pulumi.ComponentResource):
    def __init__(self, name: str, args: AutoscalingArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:autoscaling:Autoscaling", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings

        resource_id = pulumi.Output.all(args.cluster_name, args.service_name).apply(
            lambda names: ecs_service_resource_id(*names)
        )
        self.target = aws.appautoscaling.Target(
            f"{name}-target",
            service_namespace="ecs",
            scalable_dimension=SCALABLE_DIMENSION,
            resource_id=resource_id,
            min_capacity=settings.min,
            max_capacity=settings.max,
            # What webstack-guard's ecs-service-min-tasks accepts as a floor of 0 where the stack allows it.
            tags={"ScalesFromZeroOn": args.queue.name} if self._starts_from_zero(settings, args) else None,
            opts=child,
        )
        self.policies = [
            self._tracking(name, "cpu", "ECSServiceAverageCPUUtilization", settings.cpu_target, settings, None, child)
        ]
        if settings.memory_target is not None:
            self.policies.append(self._tracking(
                name, "memory", "ECSServiceAverageMemoryUtilization", settings.memory_target, settings, None, child
            ))
        if settings.requests_per_target is not None and args.shifted_target_groups is not None:
            self.policies.append(self._requests_over_both_groups(name, settings, args, child))
        elif settings.requests_per_target is not None:
            if args.request_count_label is None:
                raise ValueError(f"{name}: requestsPerTarget needs the load balancer's request count label")
            self.policies.append(self._tracking(
                name, "requests", "ALBRequestCountPerTarget", settings.requests_per_target, settings,
                args.request_count_label, child,
            ))
        if settings.backlog_per_task is not None:
            if args.queue is None:
                raise ValueError(f"{name}: backlogPerTask needs the consumed queue's name")
            self.policies.append(self._backlog_tracking(name, settings, args, child))
            if self._starts_from_zero(settings, args):
                self.policies.append(self._start_from_zero(name, settings, args, child))
        for schedule in settings.schedules:
            aws.appautoscaling.ScheduledAction(
                f"{name}-{schedule.name}",
                name=schedule.name,
                service_namespace=self.target.service_namespace,
                scalable_dimension=self.target.scalable_dimension,
                resource_id=self.target.resource_id,
                schedule=schedule.schedule,
                timezone=schedule.timezone,
                scalable_target_action=aws.appautoscaling.ScheduledActionScalableTargetActionArgs(
                    min_capacity=schedule.min, max_capacity=schedule.max
                ),
                # Named within its scalable target: a replacement must delete the old action first.
                opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
            )

        self.register_outputs({
            "resourceId": self.target.resource_id,
            "minCapacity": settings.min,
            "maxCapacity": settings.max,
            "policyArns": [policy.arn for policy in self.policies],
        })

    @staticmethod
    def _starts_from_zero(settings: ScalingConfig, args: AutoscalingArgs) -> bool:
        return settings.min == 0 and settings.backlog_per_task is not None and args.queue is not None

    def _backlog_tracking(self, name: str, settings: ScalingConfig, args: AutoscalingArgs,
                          child) -> aws.appautoscaling.Policy:
        """Backlog per task = visible messages / running tasks, kept at `backlogPerTask`."""
        visible = _math_metric("visible", SQS, "ApproximateNumberOfMessagesVisible",
                               {"QueueName": args.queue.sqs_name}, "Sum")
        return self._per_task_tracking(f"{name}-backlog", settings.backlog_per_task, settings, args, [visible],
                                       "backlog", "Messages visible per running task", "visible / tasks", child)

    def _requests_over_both_groups(self, name: str, settings: ScalingConfig, args: AutoscalingArgs,
                                   child) -> aws.appautoscaling.Policy:
        """Requests per running task over both target groups, kept at `requestsPerTarget` (a minute's requests,
        as ALBRequestCountPerTarget counts them); the idle group has no datapoints, so FILL counts it as 0."""
        groups = args.shifted_target_groups
        requests = [
            _math_metric(f"requests{index}", ALB, "RequestCount",
                         {"LoadBalancer": groups.load_balancer_arn_suffix, "TargetGroup": suffix}, "Sum")
            for index, suffix in enumerate(groups.target_group_arn_suffixes, start=1)
        ]
        return self._per_task_tracking(f"{name}-requests", settings.requests_per_target, settings, args, requests,
                                       "perTask", "Requests per running task (both target groups)",
                                       "(FILL(requests1, 0) + FILL(requests2, 0)) / tasks", child)

    def _per_task_tracking(self, resource_name: str, target: float, settings: ScalingConfig, args: AutoscalingArgs,
                           metrics: list, expression_id: str, label: str, expression: str,
                           child) -> aws.appautoscaling.Policy:
        """Target tracking on `expression` over `metrics` and the service's running tasks (`tasks`)."""
        tasks = _math_metric("tasks", CONTAINER_INSIGHTS, "RunningTaskCount",
                             {"ClusterName": args.cluster_name, "ServiceName": args.service_name}, "Average")
        return aws.appautoscaling.Policy(
            resource_name,
            policy_type="TargetTrackingScaling",
            service_namespace=self.target.service_namespace,
            scalable_dimension=self.target.scalable_dimension,
            resource_id=self.target.resource_id,
            target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                target_value=float(target),
                scale_out_cooldown=settings.scale_out_cooldown,
                scale_in_cooldown=settings.scale_in_cooldown,
                customized_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationArgs(
                    metrics=[
                        *metrics,
                        tasks,
                        aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricArgs(
                            id=expression_id, label=label, expression=expression, return_data=True,
                        ),
                    ],
                ),
            ),
            opts=child,
        )

    def _start_from_zero(self, name: str, settings: ScalingConfig, args: AutoscalingArgs,
                         child) -> aws.appautoscaling.Policy:
        """0 -> 1 task when a message is visible and no task runs (target tracking cannot divide by zero tasks)."""
        policy = aws.appautoscaling.Policy(
            f"{name}-from-zero",
            policy_type="StepScaling",
            service_namespace=self.target.service_namespace,
            scalable_dimension=self.target.scalable_dimension,
            resource_id=self.target.resource_id,
            step_scaling_policy_configuration=aws.appautoscaling.PolicyStepScalingPolicyConfigurationArgs(
                adjustment_type="ExactCapacity",
                cooldown=settings.scale_out_cooldown,
                metric_aggregation_type="Maximum",
                step_adjustments=[aws.appautoscaling.PolicyStepScalingPolicyConfigurationStepAdjustmentArgs(
                    metric_interval_lower_bound="0", scaling_adjustment=1,
                )],
            ),
            opts=child,
        )
        prefix = f"{pulumi.get_project()}-{pulumi.get_stack()}"
        aws.cloudwatch.MetricAlarm(
            f"{name}-from-zero",
            name=f"{prefix}-{name}-from-zero",
            alarm_description=f"Scaling, not an alert: a message is waiting and no {name} task runs; sets the "
                              f"count to 1 (target tracking on the backlog per task takes over from there).",
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=1,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            treat_missing_data="notBreaching",
            actions_enabled=True,
            alarm_actions=[policy.arn],
            metric_queries=[
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="visible", return_data=False,
                    metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                        namespace=SQS, metric_name="ApproximateNumberOfMessagesVisible",
                        dimensions={"QueueName": args.queue.sqs_name}, stat="Maximum", period=60,
                    ),
                ),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="tasks", return_data=False,
                    metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                        namespace=CONTAINER_INSIGHTS, metric_name="RunningTaskCount",
                        dimensions={"ClusterName": args.cluster_name, "ServiceName": args.service_name},
                        stat="Maximum", period=60,
                    ),
                ),
                # A service that reports no task count runs none: FILL counts it as 0.
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="waiting", label="Messages visible while no task runs", return_data=True,
                    expression="IF(FILL(tasks, 0) < 1, visible, 0)",
                ),
            ],
            # A fixed name: created first, a replacement would be overwritten in place, then deleted.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
        return policy

    def _tracking(self, name: str, label: str, metric: str, target: float, settings: ScalingConfig,
                  resource_label: Optional[pulumi.Input[str]], child) -> aws.appautoscaling.Policy:
        return aws.appautoscaling.Policy(
            f"{name}-{label}",
            policy_type="TargetTrackingScaling",
            service_namespace=self.target.service_namespace,
            scalable_dimension=self.target.scalable_dimension,
            resource_id=self.target.resource_id,
            target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                target_value=float(target),
                scale_out_cooldown=settings.scale_out_cooldown,
                scale_in_cooldown=settings.scale_in_cooldown,
                predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type=metric, resource_label=resource_label
                ),
            ),
            opts=child,
        )


def _math_metric(id_: str, namespace: str, metric_name: str, dimensions: dict[str, Any], stat: str):
    """One metric of a target tracking policy's metric math (not returned: an expression over it is)."""
    autoscaling = aws.appautoscaling
    return autoscaling.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricArgs(
        id=id_,
        return_data=False,
        metric_stat=autoscaling.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricMetricStatArgs(
            stat=stat,
            metric=autoscaling.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricMetricStatMetricArgs(
                namespace=namespace,
                metric_name=metric_name,
                dimensions=[
                    autoscaling.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricMetricStatMetricDimensionArgs(
                        name=key, value=value,
                    ) for key, value in dimensions.items()
                ],
            ),
        ),
    )
