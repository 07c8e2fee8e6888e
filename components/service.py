"""Service: one ECS Fargate service, behind the load balancer or not.

Task definition, log group, execution and task roles, a security group and the ECS service in private
subnets. With `routes`: the security group admits the container port from the load balancer, an `ip`
target group and the listener rule that routes to it. Without (a queue worker): egress only, no target
group, no listener rule, no health check grace period. The running count belongs to autoscaling:
`desiredCount` is set once and then ignored.

Deployments: `rolling` with the circuit breaker, or ECS's own blue/green, canary or linear strategy, for
which the service gets a second (alternate) target group, the role ECS assumes to shift the listener
rule's weights, and listener rules whose actions are left to ECS. Deployment alarms (on by default in
prod) name the Monitoring component's 5xx-rate and unhealthy-hosts alarms by their fixed names: the
alarms read this service's target groups, so the service cannot wait for them, and ECS only reads the
alarms' state during a deployment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws

from components.fargate_task import fargate_task_definition, resolved, task_roles
from helpers.alarms import alarm_name, deployment_alarm_keys
from helpers.container import container_definition, port_name
from helpers.names import task_family
from stackconfig.service import ServiceConfig

# ECS Exec: the SSM agent in the task opens these channels (AWS documents no narrower resource).
EXEC_ACTIONS = [
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
]
# The role ECS assumes to move a blue/green, canary or linear service's traffic (AWS's managed policy:
# describe and modify listeners, rules and target groups, register and deregister targets).
LOAD_BALANCER_INFRASTRUCTURE_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
ECS_STRATEGIES = {"rolling": "ROLLING", "blueGreen": "BLUE_GREEN", "canary": "CANARY", "linear": "LINEAR"}


def ecs_infrastructure_trust(account_id: str) -> str:
    """Only ECS acting for this account may assume the role (the confused-deputy condition)."""
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "ecs.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }],
    })


@dataclass(frozen=True)
class ServiceArgs:
    settings: ServiceConfig
    image: pulumi.Input[str]
    region: str
    log_retention_days: int
    cluster_arn: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[str]]
    load_balancer_security_group_id: pulumi.Input[str]
    listener_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    # Plain variables added to the container's environment (endpoints of the stores it uses).
    linked_environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # Variable name -> Secrets Manager ARN (optionally `:json-key::`); the execution role may read exactly these.
    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # Resources the ECS service must wait for, e.g. the cluster's capacity provider association.
    service_depends_on: Sequence[pulumi.Resource] = ()
    # IAM statements the application itself needs (e.g. on its bucket), granted on the task role.
    task_role_statements: Optional[pulumi.Input[Sequence[dict]]] = None
    # Behind CloudFront: (header name, value) the listener rule also requires (`LoadBalancer.origin_header`).
    required_header: Optional[tuple[str, pulumi.Input[str]]] = None
    # The stack's Service Connect namespace, for a service with `connect` (resolved: name and port set) or
    # `calls`; None for a service that takes no part in Service Connect.
    service_connect_namespace_arn: Optional[pulumi.Input[str]] = None


class Service(pulumi.ComponentResource):
    service_name: pulumi.Output[str]
    service_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    # None for a service without routes (not behind the load balancer).
    target_group_arn: Optional[pulumi.Output[str]]
    target_group_arn_suffix: Optional[pulumi.Output[str]]
    # The second target group of a blue/green, canary or linear service; None otherwise.
    alternate_target_group_arn_suffix: Optional[pulumi.Output[str]]
    task_role_arn: pulumi.Output[str]
    task_role_name: pulumi.Output[str]
    log_group_name: pulumi.Output[str]

    def __init__(self, name: str, args: ServiceArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:service:Service", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings
        self._name, self._settings = name, settings

        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", retention_in_days=args.log_retention_days, opts=child
        )
        self.execution_role, self.task_role = task_roles(name, args.region, args.account_id, args.secrets, child)
        if settings.enable_exec:
            aws.iam.RolePolicy(
                f"{name}-task-exec",
                role=self.task_role.id,
                policy=json.dumps({
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": EXEC_ACTIONS, "Resource": "*"}],
                }),
                opts=child,
            )

        if args.task_role_statements is not None:
            aws.iam.RolePolicy(
                f"{name}-task-access",
                role=self.task_role.id,
                policy=pulumi.Output.from_input(args.task_role_statements).apply(
                    lambda statements: json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
                ),
                opts=child,
            )

        family = task_family(pulumi.get_project(), pulumi.get_stack(), name)
        self.task_definition = self._task_definition(
            f"{name}-task", family, settings, self._container_definitions(name, args), child
        )
        # Same image, environment, secrets, roles, logs and size; only the command differs, and there is
        # no container health check (a one-off task exits when done).
        self.migration_family = f"{family}-migrate" if settings.migrate is not None else None
        if settings.migrate is not None:
            self.migration_task_definition = self._task_definition(
                f"{name}-migrate", self.migration_family, settings,
                self._container_definitions(name, args, command=settings.migrate.command, health_check=False),
                child,
            )

        # Rules are separate resources only: mixing inline rules with rule resources on one group
        # makes the provider fight over them.
        behind_load_balancer = settings.routes is not None
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=(f"{name} tasks: the container port from the load balancer only" if behind_load_balancer
                         else f"{name} tasks: egress only"),
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-egress",
            security_group_id=self.security_group.id,
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
            description="Image pulls, AWS APIs and data stores",
            opts=child,
        )
        self.target_group = None
        self.alternate_target_group = None
        self.listener_rule = None
        self.test_listener_rule = None
        self.traffic_role = None
        if behind_load_balancer:
            self._load_balancer_attachment(name, args, child)
        deployment = settings.deployment

        self.service = aws.ecs.Service(
            f"{name}-service",
            cluster=args.cluster_arn,
            task_definition=self.task_definition.arn,
            desired_count=settings.scaling.initial_count,
            capacity_provider_strategies=self._capacity_strategy(settings.spot),
            platform_version="LATEST",
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=args.subnet_ids, security_groups=[self.security_group.id], assign_public_ip=False
            ),
            load_balancers=[aws.ecs.ServiceLoadBalancerArgs(
                target_group_arn=self.target_group.arn, container_name=name, container_port=settings.port,
                advanced_configuration=self._advanced_configuration(),
            )] if behind_load_balancer else None,
            # The circuit breaker works for rolling deployments only; the other strategies roll back on their
            # alarms. Off explicitly: a block left out would keep the breaker a rolling service had on.
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(
                enable=not deployment.shifts_traffic, rollback=not deployment.shifts_traffic,
            ),
            deployment_configuration=self._deployment_configuration(deployment),
            # ECS's own controller runs blue/green, canary and linear deployments (the provider's default;
            # left unset on rolling services, as they always were).
            deployment_controller=aws.ecs.ServiceDeploymentControllerArgs(type="ECS")
            if deployment.shifts_traffic else None,
            alarms=aws.ecs.ServiceAlarmsArgs(
                enable=True, rollback=True,
                alarm_names=[alarm_name(pulumi.get_project(), pulumi.get_stack(), key)
                             for key in deployment_alarm_keys(name)],
            ) if deployment.alarms else None,
            deployment_minimum_healthy_percent=settings.deployment.minimum_healthy_percent,
            deployment_maximum_percent=settings.deployment.maximum_percent,
            # ECS accepts a grace period only for a service with a load balancer.
            health_check_grace_period_seconds=settings.health_check.grace_period if behind_load_balancer else None,
            service_connect_configuration=self._service_connect(name, args)
            if args.service_connect_namespace_arn is not None else None,
            enable_execute_command=settings.enable_exec,
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            # `pulumi up` returns once ECS accepts the new task definition. Waiting would not reveal a failed
            # rollout either: after the circuit breaker's rollback the service is "steady" again and the
            # provider reports success (terraform-provider-aws #20858), so check the rollout instead
            # (docs/architecture.md, "Design notes": a deploy is done when the PRIMARY deployment is COMPLETED).
            wait_for_steady_state=False,
            # The provider refuses to change `capacity_provider_strategies` (flipping `spot`) on an existing
            # service unless this is set ("force_new_deployment should be true when capacity_provider_strategy
            # is being updated": terraform-provider-aws internal/service/ecs/service.go,
            # capacityProviderStrategyCustomizeDiff; older providers replaced the service instead). It only
            # takes effect on an update that changes something: ECS then starts a new rolling deployment,
            # which a changed task definition starts anyway.
            force_new_deployment=True,
            opts=pulumi.ResourceOptions(
                parent=self,
                # Autoscaling owns the running count; a deploy must not reset it to the initial value.
                ignore_changes=["desiredCount"],
                # A target group must be attached to a listener before a service can register into it,
                # and a capacity provider must be associated with the cluster before a service uses it.
                # ECS needs its traffic role's permissions when it creates a blue/green service.
                depends_on=[*([self.listener_rule] if behind_load_balancer else []),
                            *([self.test_listener_rule] if self.test_listener_rule is not None else []),
                            *([self.traffic_role_policy] if self.traffic_role is not None else []),
                            *args.service_depends_on],
            ),
        )

        self.service_name = self.service.name
        self.service_arn = self.service.arn
        self.security_group_id = self.security_group.id
        self.target_group_arn = self.target_group.arn if behind_load_balancer else None
        self.target_group_arn_suffix = self.target_group.arn_suffix if behind_load_balancer else None
        self.alternate_target_group_arn_suffix = self.alternate_target_group.arn_suffix \
            if self.alternate_target_group is not None else None
        self.task_role_arn = self.task_role.arn
        self.task_role_name = self.task_role.name
        self.log_group_name = self.log_group.name
        self.register_outputs({
            "serviceName": self.service_name,
            "serviceArn": self.service_arn,
            "securityGroupId": self.security_group_id,
            "targetGroupArn": self.target_group_arn,
            "targetGroupArnSuffix": self.target_group_arn_suffix,
            "alternateTargetGroupArnSuffix": self.alternate_target_group_arn_suffix,
            "taskDefinitionArn": self.task_definition.arn,
            "taskRoleArn": self.task_role_arn,
            "logGroupName": self.log_group_name,
        })

    def admit_caller(self, caller: str, security_group_id: pulumi.Input[str]) -> None:
        """Let one Service Connect client (another service's security group) reach this service's port.

        The caller's proxy connects to the task's own address on the container port (Fargate's default
        ingress port for Service Connect), so that is the port to open.
        """
        aws.vpc.SecurityGroupIngressRule(
            f"{self._name}-from-{caller}",
            security_group_id=self.security_group.id,
            referenced_security_group_id=security_group_id,
            ip_protocol="tcp",
            from_port=self._settings.port,
            to_port=self._settings.port,
            description=f"Service Connect from {caller}",
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _service_connect(self, name: str, args: ServiceArgs) -> aws.ecs.ServiceServiceConnectConfigurationArgs:
        """A client of the namespace; with `connect`, also a server under its name. The proxy logs to the
        service's log group."""
        connect = args.settings.connect
        return aws.ecs.ServiceServiceConnectConfigurationArgs(
            enabled=True,
            namespace=args.service_connect_namespace_arn,
            services=[aws.ecs.ServiceServiceConnectConfigurationServiceArgs(
                port_name=port_name(name),
                discovery_name=connect.name,
                client_alias=[aws.ecs.ServiceServiceConnectConfigurationServiceClientAliasArgs(
                    port=connect.port, dns_name=connect.name,
                )],
            )] if connect is not None else None,
            log_configuration=aws.ecs.ServiceServiceConnectConfigurationLogConfigurationArgs(
                log_driver="awslogs",
                options={
                    "awslogs-group": self.log_group.name,
                    "awslogs-region": args.region,
                    "awslogs-stream-prefix": "service-connect",
                },
            ),
        )

    def _load_balancer_attachment(self, name: str, args: ServiceArgs, child) -> None:
        """The container port from the load balancer, the target group and the listener rule to it."""
        settings = args.settings
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-from-alb",
            security_group_id=self.security_group.id,
            referenced_security_group_id=args.load_balancer_security_group_id,
            ip_protocol="tcp",
            from_port=settings.port,
            to_port=settings.port,
            description="Container port from the load balancer",
            opts=child,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-alb-to-tasks",
            security_group_id=args.load_balancer_security_group_id,
            referenced_security_group_id=self.security_group.id,
            ip_protocol="tcp",
            from_port=settings.port,
            to_port=settings.port,
            description=f"Load balancer to {name} tasks",
            opts=child,
        )

        self.target_group = self._target_group(f"{name}-tg", args, child)
        if not settings.deployment.shifts_traffic:
            self.listener_rule = aws.lb.ListenerRule(
                f"{name}-route",
                listener_arn=args.listener_arn,
                priority=settings.routes.priority,
                actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=self.target_group.arn)],
                conditions=self._conditions(settings, args.required_header),
                opts=child,
            )
            return

        # Blue/green, canary, linear: ECS registers the new revision in whichever group is idle and shifts
        # the rules' forward weights between the two (AWS's "Application Load Balancer resources for
        # blue/green, linear, and canary deployments"). It rewrites those weights, so `pulumi up` must not
        # set them back: the rules' actions are ECS's after creation.
        self.alternate_target_group = self._target_group(f"{name}-tg-alt", args, child)
        ecs_owns_actions = pulumi.ResourceOptions(parent=self, ignore_changes=["actions"])
        self.listener_rule = aws.lb.ListenerRule(
            f"{name}-route",
            listener_arn=args.listener_arn,
            priority=settings.routes.priority,
            actions=[self._weighted_forward()],
            conditions=self._conditions(settings, args.required_header),
            opts=ecs_owns_actions,
        )
        test = settings.deployment.test_traffic
        if test is not None:
            self.test_listener_rule = aws.lb.ListenerRule(
                f"{name}-test-route",
                listener_arn=args.listener_arn,
                priority=test.priority,
                actions=[self._weighted_forward()],
                conditions=[*self._conditions(settings, args.required_header), aws.lb.ListenerRuleConditionArgs(
                    http_header=aws.lb.ListenerRuleConditionHttpHeaderArgs(
                        http_header_name=test.header, values=[test.value]),
                )],
                opts=ecs_owns_actions,
            )
        self.traffic_role = aws.iam.Role(
            f"{name}-traffic",
            description=f"ECS shifts {name}'s traffic between its target groups",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(ecs_infrastructure_trust),
            opts=child,
        )
        self.traffic_role_policy = aws.iam.RolePolicyAttachment(
            f"{name}-traffic-managed", role=self.traffic_role.name,
            policy_arn=LOAD_BALANCER_INFRASTRUCTURE_POLICY_ARN, opts=child,
        )

    def _weighted_forward(self) -> aws.lb.ListenerRuleActionArgs:
        """All traffic to the primary group, none to the alternate: where ECS starts a deployment from."""
        return aws.lb.ListenerRuleActionArgs(type="forward", forward=aws.lb.ListenerRuleActionForwardArgs(
            target_groups=[
                aws.lb.ListenerRuleActionForwardTargetGroupArgs(arn=self.target_group.arn, weight=100),
                aws.lb.ListenerRuleActionForwardTargetGroupArgs(arn=self.alternate_target_group.arn, weight=0),
            ],
        ))

    def _advanced_configuration(self) -> Optional[aws.ecs.ServiceLoadBalancerAdvancedConfigurationArgs]:
        if self.alternate_target_group is None:
            return None
        return aws.ecs.ServiceLoadBalancerAdvancedConfigurationArgs(
            alternate_target_group_arn=self.alternate_target_group.arn,
            production_listener_rule=self.listener_rule.arn,
            test_listener_rule=self.test_listener_rule.arn if self.test_listener_rule is not None else None,
            role_arn=self.traffic_role.arn,
        )

    @staticmethod
    def _deployment_configuration(deployment) -> Optional[aws.ecs.ServiceDeploymentConfigurationArgs]:
        """The strategy and its bake times (strings in pulumi-aws 7.x); nothing for rolling, ECS's default."""
        if not deployment.shifts_traffic:
            return None
        canary, linear = deployment.canary, deployment.linear
        return aws.ecs.ServiceDeploymentConfigurationArgs(
            strategy=ECS_STRATEGIES[deployment.strategy],
            bake_time_in_minutes=str(deployment.bake_time_minutes),
            canary_configuration=aws.ecs.ServiceDeploymentConfigurationCanaryConfigurationArgs(
                canary_percent=canary.percent, canary_bake_time_in_minutes=str(canary.bake_minutes),
            ) if deployment.strategy == "canary" else None,
            linear_configuration=aws.ecs.ServiceDeploymentConfigurationLinearConfigurationArgs(
                step_percent=linear.step_percent, step_bake_time_in_minutes=str(linear.step_bake_minutes),
            ) if deployment.strategy == "linear" else None,
        )

    def _task_definition(self, resource_name: str, family: str, settings: ServiceConfig,
                         container_definitions: pulumi.Output[str], child) -> aws.ecs.TaskDefinition:
        return fargate_task_definition(
            resource_name, family, cpu=settings.cpu, memory=settings.memory, architecture=settings.architecture,
            execution_role=self.execution_role, task_role=self.task_role,
            container_definitions=container_definitions, child=child,
            writable_paths=settings.writable_paths, ephemeral_storage_gib=settings.ephemeral_storage_gib,
        )

    def _container_definitions(self, name: str, args: ServiceArgs, command: Optional[Sequence[str]] = None,
                               health_check: bool = True) -> pulumi.Output[str]:
        settings = args.settings
        return pulumi.Output.all(args.image, self.log_group.name, resolved(args.linked_environment),
                                 resolved(args.secrets)).apply(
            lambda values: json.dumps([container_definition(
                name=name,
                image=values[0],
                port=settings.port,
                log_group=values[1],
                region=args.region,
                environment={**settings.environment, **values[2]},
                secrets=values[3],
                stop_timeout=settings.stop_timeout,
                command=command or settings.command,
                health_command=settings.health_check.command if health_check else None,
                health_interval=settings.health_check.interval,
                health_timeout=settings.health_check.timeout,
                health_retries=settings.health_check.unhealthy_threshold,
                health_start_period=settings.health_check.grace_period,
                init_process=settings.enable_exec,
                read_only_root=settings.read_only_root_filesystem,
                writable_paths=settings.writable_paths,
            )])
        )

    def _target_group(self, resource_name: str, args: ServiceArgs, child) -> aws.lb.TargetGroup:
        settings = args.settings
        health = settings.health_check
        stickiness = None
        if settings.stickiness is not None:
            stickiness = aws.lb.TargetGroupStickinessArgs(
                enabled=True,
                type=settings.stickiness.type,
                cookie_duration=settings.stickiness.duration,
                cookie_name=settings.stickiness.cookie_name,
            )
        # Auto-named (no `name`), so a change that forces replacement can create the new group first.
        return aws.lb.TargetGroup(
            resource_name,
            target_type="ip",
            protocol="HTTP",
            port=settings.port,
            vpc_id=args.vpc_id,
            deregistration_delay=settings.deregistration_delay,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                protocol="HTTP",
                path=health.path,
                port="traffic-port",
                interval=health.interval,
                timeout=health.timeout,
                healthy_threshold=health.healthy_threshold,
                unhealthy_threshold=health.unhealthy_threshold,
                matcher=health.matcher,
            ),
            stickiness=stickiness,
            opts=child,
        )

    @staticmethod
    def _conditions(settings: ServiceConfig, required_header: Optional[tuple[str, pulumi.Input[str]]] = None
                    ) -> list[aws.lb.ListenerRuleConditionArgs]:
        conditions = []
        if settings.routes.paths:
            conditions.append(aws.lb.ListenerRuleConditionArgs(
                path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=settings.routes.paths)
            ))
        if settings.routes.hosts:
            conditions.append(aws.lb.ListenerRuleConditionArgs(
                host_header=aws.lb.ListenerRuleConditionHostHeaderArgs(values=settings.routes.hosts)
            ))
        if required_header is not None:
            header_name, value = required_header
            conditions.append(aws.lb.ListenerRuleConditionArgs(
                http_header=aws.lb.ListenerRuleConditionHttpHeaderArgs(http_header_name=header_name, values=[value])
            ))
        return conditions

    @staticmethod
    def _capacity_strategy(spot: bool) -> list[aws.ecs.ServiceCapacityProviderStrategyArgs]:
        """On-demand only, or one on-demand task as a floor and every task above it on Spot."""
        if not spot:
            return [aws.ecs.ServiceCapacityProviderStrategyArgs(capacity_provider="FARGATE", weight=1)]
        return [
            aws.ecs.ServiceCapacityProviderStrategyArgs(capacity_provider="FARGATE", base=1, weight=0),
            aws.ecs.ServiceCapacityProviderStrategyArgs(capacity_provider="FARGATE_SPOT", weight=1),
        ]
