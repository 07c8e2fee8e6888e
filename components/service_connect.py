"""ServiceConnectNamespace: the stack's Cloud Map HTTP namespace, in which services find each other by name.

ECS Service Connect registers each service that declares `connect` in it and gives every client
(a service with `calls`) a proxy that resolves those names. Only ECS services take part: tasks
started with RunTask (the migration task, scheduled jobs) cannot use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class ServiceConnectNamespaceArgs:
    # Which stack the namespace serves (`<project>-<stack>`), for its description.
    stack_label: str


class ServiceConnectNamespace(pulumi.ComponentResource):
    namespace_arn: pulumi.Output[str]
    namespace_name: pulumi.Output[str]

    def __init__(self, name: str, args: ServiceConnectNamespaceArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:service_connect:ServiceConnectNamespace", name, None, opts)
        # An HTTP namespace: names resolve through the Service Connect proxy (Cloud Map API), not in a
        # Route 53 zone, so nothing outside the stack's ECS services can look them up. Auto-named: a
        # replacement (name and description force one) creates the new namespace before the services move.
        self.namespace = aws.servicediscovery.HttpNamespace(
            f"{name}-namespace",
            description=f"Service Connect names of {args.stack_label}",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.namespace_arn = self.namespace.arn
        self.namespace_name = self.namespace.name
        self.register_outputs({"namespaceArn": self.namespace_arn, "namespaceName": self.namespace_name})
