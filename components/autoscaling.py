"""Autoscaling: a scalable target for an ECS service and its target-tracking and scheduled policies.

CPU tracking is always on; memory and ALB requests-per-target tracking are optional. With several
policies, Application Auto Scaling scales out on whichever asks for more and scales in only when
all of them allow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from helpers.names import ecs_service_resource_id
from stackconfig.service import ScalingConfig

SCALABLE_DIMENSION = "ecs:service:DesiredCount"


@dataclass(frozen=True)
class AutoscalingArgs:
    settings: ScalingConfig
    cluster_name: pulumi.Input[str]
    service_name: pulumi.Input[str]
    # `<alb arn suffix>/<target group arn suffix>`; required when requestsPerTarget is set.
    request_count_label: Optional[pulumi.Input[str]] = None


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
            opts=child,
        )
        self.policies = [
            self._tracking(name, "cpu", "ECSServiceAverageCPUUtilization", settings.cpu_target, settings, None, child)
        ]
        if settings.memory_target is not None:
            self.policies.append(self._tracking(
                name, "memory", "ECSServiceAverageMemoryUtilization", settings.memory_target, settings, None, child
            ))
        if settings.requests_per_target is not None:
            if args.request_count_label is None:
                raise ValueError(f"{name}: requestsPerTarget needs the load balancer's request count label")
            self.policies.append(self._tracking(
                name, "requests", "ALBRequestCountPerTarget", settings.requests_per_target, settings,
                args.request_count_label, child,
            ))
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
