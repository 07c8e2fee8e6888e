"""Cluster: an ECS cluster for Fargate with Container Insights and both Fargate capacity providers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from stackconfig.stack import ClusterConfig

CAPACITY_PROVIDERS = ["FARGATE", "FARGATE_SPOT"]


@dataclass(frozen=True)
class ClusterArgs:
    settings: ClusterConfig


class Cluster(pulumi.ComponentResource):
    cluster_name: pulumi.Output[str]
    cluster_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ClusterArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:cluster:Cluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value=args.settings.container_insights)],
            opts=child,
        )
        # Services choose their own strategy; the default keeps every task on on-demand Fargate.
        self.capacity_providers = aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity-providers",
            cluster_name=self.cluster.name,
            capacity_providers=CAPACITY_PROVIDERS,
            default_capacity_provider_strategies=[
                aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(
                    capacity_provider="FARGATE", base=1, weight=1
                )
            ],
            opts=child,
        )
        self.cluster_name = self.cluster.name
        self.cluster_arn = self.cluster.arn
        self.register_outputs({"clusterName": self.cluster_name, "clusterArn": self.cluster_arn})
