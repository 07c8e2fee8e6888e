"""Price every resource a program declares, at the stack's minimum and maximum scale.

Minimum scale runs each ECS service at its autoscaling `minCapacity`, maximum scale at `maxCapacity`
(a service without a scalable target runs `desiredCount` tasks at both). Per-task usage assumptions
(NAT GB, log GB, LCUs, egress) follow the task count, so they differ between the two; provisioned
capacity (NAT hours, database, cache nodes) does not, except RDS storage, which grows to
`maxAllocatedStorage` at maximum scale when storage autoscaling is on.

Every resource ends up in exactly one of three places: priced lines, the known-free list, or the
unpriced list (with the reason). Nothing is silently counted as zero.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .assumptions import UsageAssumptions
from .prices import PriceBook, load_prices
from .records import Record
from .schedules import runs_per_month

SCALES = ("min", "max")
SCHEDULER_FREE_INVOCATIONS = 14e6  # a month, per account (policies/pricing/us-east-1.json: scheduler.invocationsPerMillion)
STACK_COMPONENT = "(stack)"

# Types that never appear on the bill (their cost, if any, is priced on the resource that uses them).
FREE_TYPES = frozenset({
    "aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable",
    "aws:ec2/routeTableAssociation:RouteTableAssociation", "aws:ec2/route:Route",
    "aws:ec2/internetGateway:InternetGateway", "aws:ec2/securityGroup:SecurityGroup",
    "aws:ec2/securityGroupRule:SecurityGroupRule", "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl", "aws:ec2/networkAcl:NetworkAcl",
    "aws:ec2/defaultRouteTable:DefaultRouteTable",
    "aws:lb/listener:Listener", "aws:lb/listenerRule:ListenerRule", "aws:lb/targetGroup:TargetGroup",
    "aws:lb/listenerCertificate:ListenerCertificate",
    "aws:alb/listener:Listener", "aws:alb/listenerRule:ListenerRule", "aws:alb/targetGroup:TargetGroup",
    "aws:ecs/taskDefinition:TaskDefinition", "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
    "aws:ec2/launchTemplate:LaunchTemplate",
    "aws:appautoscaling/target:Target", "aws:appautoscaling/scheduledAction:ScheduledAction",
    "aws:cloudwatch/logStream:LogStream", "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
    "aws:rds/subnetGroup:SubnetGroup", "aws:rds/parameterGroup:ParameterGroup", "aws:rds/optionGroup:OptionGroup",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup",
    "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup", "aws:rds/proxyTarget:ProxyTarget",
    "aws:elasticache/subnetGroup:SubnetGroup", "aws:elasticache/parameterGroup:ParameterGroup",
    "aws:secretsmanager/secretVersion:SecretVersion", "aws:secretsmanager/secretPolicy:SecretPolicy",
    "aws:kms/alias:Alias", "aws:acm/certificate:Certificate",
    "aws:acm/certificateValidation:CertificateValidation", "aws:route53/record:Record",
    "aws:sns/topicSubscription:TopicSubscription", "aws:sns/topicPolicy:TopicPolicy",
    "aws:sqs/queuePolicy:QueuePolicy", "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy", "aws:ecr/repositoryPolicy:RepositoryPolicy",
    "aws:cloudfront/originAccessControl:OriginAccessControl", "aws:cloudfront/cachePolicy:CachePolicy",
    "aws:cloudfront/originRequestPolicy:OriginRequestPolicy",
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
    "aws:s3/bucketPolicy:BucketPolicy", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
    "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration",
    "aws:s3/bucketCorsConfigurationV2:BucketCorsConfigurationV2",
    "aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2",
    # Priced on the web ACL (its association) and its log group (its logging configuration).
    "aws:wafv2/webAclAssociation:WebAclAssociation",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
    "pulumi:pulumi:StackReference",
    # The rotation redeploy: AWS service events on the default bus and their rule deliveries are free;
    # a STANDARD state machine is billed per state transition ($0.025 per 1,000 beyond 4,000 free a
    # month) and one redeploy is about 3 + 2 x services transitions, once per rotation (weekly).
    "aws:cloudwatch/eventRule:EventRule", "aws:cloudwatch/eventTarget:EventTarget",
    "aws:sfn/stateMachine:StateMachine",
})
FREE_TYPE_PREFIXES = ("aws:iam/", "pulumi:providers:", "webstack:", "random:")


@dataclass(frozen=True)
class CostLine:
    component: str
    resource: str
    type: str
    item: str
    monthly_usd_min: float
    monthly_usd_max: float
    basis: str

    def monthly(self, scale: str) -> float:
        return self.monthly_usd_min if scale == "min" else self.monthly_usd_max


@dataclass(frozen=True)
class Unpriced:
    component: str
    resource: str
    type: str
    reason: str


@dataclass
class Estimate:
    region: str
    price_date: str
    assumptions: UsageAssumptions
    lines: list[CostLine] = field(default_factory=list)
    unpriced: list[Unpriced] = field(default_factory=list)

    def total(self, scale: str) -> float:
        return round(sum(line.monthly(scale) for line in self.lines), 2)

    def top_lines(self, scale: str, count: int = 5) -> list[CostLine]:
        return sorted(self.lines, key=lambda line: line.monthly(scale), reverse=True)[:count]

    def lines_of_type(self, type_: str) -> list[CostLine]:
        return [line for line in self.lines if line.type == type_]

    def to_json(self) -> dict[str, Any]:
        """`{"cost": {...}}`: `monthly_usd` of a line is its minimum-scale (at rest) figure."""
        return {"cost": {
            "region": self.region,
            "prices_read": self.price_date,
            "monthly_min_usd": self.total("min"),
            "monthly_max_usd": self.total("max"),
            "assumptions": self.assumptions.as_mapping(),
            "lines": [{
                "component": line.component, "resource": line.resource, "type": line.type, "item": line.item,
                "monthly_usd": round(line.monthly_usd_min, 2),
                "monthly_usd_min": round(line.monthly_usd_min, 2),
                "monthly_usd_max": round(line.monthly_usd_max, 2),
                "basis": line.basis,
            } for line in self.lines],
            "unpriced": [{"component": u.component, "resource": u.resource, "type": u.type, "reason": u.reason}
                         for u in self.unpriced],
        }}


def _number(value: Any, default: float | None = None) -> float | None:
    """A numeric property, or `default` when it is absent or unknown (preview)."""
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _usd(value: float) -> str:
    return f"${value:g}"


def _type_chain(urn: str) -> list[str]:
    parts = urn.split("::")
    return parts[2].split("$") if len(parts) >= 4 else []


@dataclass(frozen=True)
class _Scale:
    """Tasks of one ECS service at minimum and maximum scale, and the share of them on Spot."""
    tasks: dict[str, float]
    spot_tasks: dict[str, float]


def spot_tasks(strategies: list[dict[str, Any]], tasks: float) -> float:
    """How many of `tasks` a capacity provider strategy places on FARGATE_SPOT (base first, then weight)."""
    remaining, spot = tasks, 0.0
    for strategy in strategies:
        base = min(_number(strategy.get("base"), 0.0), remaining)
        remaining -= base
        if strategy.get("capacityProvider") == "FARGATE_SPOT":
            spot += base
    total_weight = sum(_number(s.get("weight"), 0.0) for s in strategies)
    if total_weight > 0:
        spot_weight = sum(_number(s.get("weight"), 0.0) for s in strategies
                          if s.get("capacityProvider") == "FARGATE_SPOT")
        spot += remaining * spot_weight / total_weight
    return spot


class _Stack:
    """The records, indexed, plus the lines and unpriced items priced from them so far."""

    def __init__(self, records: list[Record], prices: PriceBook, usage: UsageAssumptions):
        self.records = records
        self.prices = prices
        self.usage = usage
        self.hours = prices.hours_per_month
        self.by_urn = {r.urn: r for r in records}
        # Indexes, so that pricing stays linear in the number of resources (services x definitions otherwise).
        self._by_type: dict[str, list[Record]] = {}
        for record in records:
            self._by_type.setdefault(record.type, []).append(record)
        self._definitions: dict[str, Record | None] = {}
        self.lines: list[CostLine] = []
        self.unpriced: list[Unpriced] = []
        self.service_scales = {r.urn: self._service_scale(r) for r in self.of_type("aws:ecs/service:Service")}

    def of_type(self, *types: str) -> list[Record]:
        if len(types) == 1:
            return list(self._by_type.get(types[0], ()))
        return [r for r in self.records if r.type in types]

    def siblings(self, record: Record, type_: str) -> list[Record]:
        return [r for r in self.of_type(type_) if r.parent_urn == record.parent_urn]

    def component(self, record: Record) -> str:
        urn = record.parent_urn
        while urn:
            owner = self.by_urn.get(urn)
            if owner is None:
                break
            if owner.type.startswith("webstack:"):
                return f"{owner.type} {owner.name}"
            urn = owner.parent_urn
        ancestors = [t for t in _type_chain(record.urn)[:-1] if t.startswith("webstack:")]
        return ancestors[-1] if ancestors else STACK_COMPONENT

    def add(self, record: Record, item: str, monthly_min: float, monthly_max: float, basis: str) -> None:
        self.lines.append(CostLine(self.component(record), record.name, record.type, item,
                                   monthly_min, monthly_max, basis))

    def add_flat(self, record: Record, item: str, monthly: float, basis: str) -> None:
        self.add(record, item, monthly, monthly, basis)

    def not_priced(self, record: Record, reason: str) -> None:
        self.unpriced.append(Unpriced(self.component(record), record.name, record.type, reason))

    # --- ECS scale -------------------------------------------------------------------------
    def task_definition_of(self, service: Record) -> Record | None:
        if service.urn not in self._definitions:
            self._definitions[service.urn] = self.find_task_definition(service)
        return self._definitions[service.urn]

    def find_task_definition(self, user: Record, reference: Any = None) -> Record | None:
        """The definition a service (its `taskDefinition`) or a schedule (`reference`) runs: by family, else the
        only one in the same component."""
        reference = user.props.get("taskDefinition") if reference is None else reference
        if isinstance(reference, str):
            family = reference.rsplit("task-definition/", 1)[-1].split(":")[0]
            for definition in self.of_type("aws:ecs/taskDefinition:TaskDefinition"):
                if definition.props.get("family") == family:
                    return definition
        same_component = self.siblings(user, "aws:ecs/taskDefinition:TaskDefinition")
        return same_component[0] if len(same_component) == 1 else None

    def scalable_target_of(self, service: Record) -> Record | None:
        targets = [t for t in self.of_type("aws:appautoscaling/target:Target")
                   if t.props.get("scalableDimension", "ecs:service:DesiredCount") == "ecs:service:DesiredCount"]
        # The engine knows the service's `name`; a capture of an auto-named service only knows the
        # resource name, which AWS's name extends with Pulumi's 7-character random suffix.
        name = service.props.get("name")
        pattern = re.escape(name) if isinstance(name, str) else re.escape(service.name) + r"-[0-9a-z]{7}"
        for target in targets:
            resource_id = target.props.get("resourceId")
            if isinstance(resource_id, str) and resource_id.startswith("service/") \
                    and re.fullmatch(pattern, resource_id.rsplit("/", 1)[-1]):
                return target
        same_component = [t for t in targets if t.parent_urn == service.parent_urn]
        return same_component[0] if len(same_component) == 1 else None

    def launch_template_of(self, group: Record) -> Record | None:
        """The group's template: its sibling (one per component), else the one its `name` names."""
        same_component = self.siblings(group, "aws:ec2/launchTemplate:LaunchTemplate")
        if len(same_component) == 1:
            return same_component[0]
        name = (group.props.get("launchTemplate") or {}).get("name")
        named = [t for t in self.of_type("aws:ec2/launchTemplate:LaunchTemplate") if name and t.props.get("name") == name]
        return named[0] if len(named) == 1 else None

    def _default_strategies(self) -> list[dict[str, Any]]:
        for providers in self.of_type("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"):
            return list(providers.props.get("defaultCapacityProviderStrategies") or [])
        return []

    def _service_scale(self, service: Record) -> _Scale:
        desired = _number(service.props.get("desiredCount"), 1.0)
        target = self.scalable_target_of(service)
        if target is not None:
            tasks = {"min": _number(target.props.get("minCapacity"), desired),
                     "max": _number(target.props.get("maxCapacity"), desired)}
        else:
            tasks = {"min": desired, "max": desired}
        strategies = service.props.get("capacityProviderStrategies") or []
        if not strategies and not service.props.get("launchType"):
            strategies = self._default_strategies()
        return _Scale(tasks, {scale: spot_tasks(strategies, n) for scale, n in tasks.items()})

    def tasks(self, scale: str) -> float:
        return sum(s.tasks[scale] for s in self.service_scales.values())

    def tasks_of_definition(self, definition: Record, scale: str) -> float:
        return sum(self.service_scales[s.urn].tasks[scale] for s in self.of_type("aws:ecs/service:Service")
                   if self.task_definition_of(s) is definition)


PRICERS: dict[str, Callable[[_Stack, Record], None]] = {}


def prices(*types: str):
    def register(function):
        for type_ in types:
            PRICERS[type_] = function
        return function
    return register


# --- compute -------------------------------------------------------------------------------------
def _fargate_size(stack: _Stack, definition: Record) -> tuple[str, float, float, float] | None:
    """(architecture, vCPU, GB, on-demand $ per task-hour incl. ephemeral storage above 20 GB) of a definition."""
    vcpu = _number(definition.props.get("cpu"))
    memory_mib = _number(definition.props.get("memory"))
    if vcpu is None or memory_mib is None:
        return None
    vcpu, gb = vcpu / 1024, memory_mib / 1024
    architecture = (definition.props.get("runtimePlatform") or {}).get("cpuArchitecture") or "X86_64"
    arch = "arm" if architecture == "ARM64" else "x86"
    task_hour = vcpu * stack.prices.rate(f"fargate.{arch}.vcpuHour") + gb * stack.prices.rate(f"fargate.{arch}.gbHour")
    storage_gb = _number((definition.props.get("ephemeralStorage") or {}).get("sizeInGib"), 20.0)
    if storage_gb > 20:
        task_hour += (storage_gb - 20) * stack.prices.rate("fargate.ephemeralStorageGbHour")
    return arch, vcpu, gb, task_hour


@prices("aws:ecs/service:Service")
def _fargate_service(stack: _Stack, service: Record) -> None:
    definition = stack.task_definition_of(service)
    if definition is None:
        stack.not_priced(service, "its task definition is not among the declared resources (cpu/memory unknown)")
        return
    size = _fargate_size(stack, definition)
    if size is None:
        stack.not_priced(service, "task definition has no task-level cpu/memory")
        return
    arch, vcpu, gb, task_hour = size
    discount = stack.usage.fargate_spot_discount
    if discount is None:
        discount = stack.prices.rate("fargate.spotDiscount")
    scale = stack.service_scales[service.urn]
    monthly = {s: (scale.tasks[s] - scale.spot_tasks[s] * discount) * task_hour * stack.hours for s in SCALES}
    spot_note = ""
    if scale.spot_tasks["max"]:
        spot_note = (f", Spot {scale.spot_tasks['min']:g}/{scale.spot_tasks['max']:g} tasks at "
                     f"{discount:.0%} off")
    on_spot = " (Spot)" if scale.spot_tasks["max"] else ""
    extra_storage = _number((definition.props.get("ephemeralStorage") or {}).get("sizeInGib"), 20.0) - 20
    storage_note = (f" + {extra_storage:g} GB ephemeral storage above 20 x "
                    f"{_usd(stack.prices.rate('fargate.ephemeralStorageGbHour'))}") if extra_storage > 0 else ""
    stack.add(service, f"Fargate {arch} {vcpu:g} vCPU/{gb:g} GB x {scale.tasks['min']:g}-"
              f"{scale.tasks['max']:g} tasks{on_spot}", monthly["min"], monthly["max"],
              f"tasks x ({vcpu:g} vCPU x {_usd(stack.prices.rate(f'fargate.{arch}.vcpuHour'))} + {gb:g} GB x "
              f"{_usd(stack.prices.rate(f'fargate.{arch}.gbHour'))}{storage_note}) x {stack.hours:g} h{spot_note}")
    if stack.scalable_target_of(service) is None and any(
            t.props.get("resourceId") is None for t in stack.of_type("aws:appautoscaling/target:Target")):
        stack.not_priced(service, "maximum scale unknown: a scalable target's resourceId is not known yet "
                                  "(first preview), so both scales use desiredCount")
    if (service.props.get("networkConfiguration") or {}).get("assignPublicIp"):
        rate = stack.prices.rate("publicIpv4.hour")
        stack.add(service, "public IPv4 per task", scale.tasks["min"] * rate * stack.hours,
                  scale.tasks["max"] * rate * stack.hours, f"tasks x {_usd(rate)}/h x {stack.hours:g} h")


@prices("aws:scheduler/schedule:Schedule")
def _scheduled_task(stack: _Stack, schedule: Record) -> None:
    """A scheduled job: its runs a month x the assumed run time, billed by Fargate per second (1 minute minimum)."""
    expression = str(schedule.props.get("scheduleExpression"))
    runs = runs_per_month(expression)
    ecs = (schedule.props.get("target") or {}).get("ecsParameters") or {}
    definition = stack.find_task_definition(schedule, ecs.get("taskDefinitionArn") or "")
    size = None if definition is None else _fargate_size(stack, definition)
    if runs is None or size is None:
        stack.not_priced(schedule, f"runs a month of {expression!r} unknown" if runs is None
                         else "the task definition it runs is not among the declared resources (cpu/memory unknown)")
        return
    arch, vcpu, gb, task_hour = size
    tasks = _number(ecs.get("taskCount"), 1.0)
    minutes = max(stack.usage.job_run_minutes, 1.0)
    stack.add_flat(schedule, f"Fargate {arch} {vcpu:g} vCPU/{gb:g} GB, {runs:.0f} runs x {minutes:g} min",
                   runs * tasks * minutes / 60 * task_hour,
                   f"{runs:.4g} runs/month ({expression}) x {tasks:g} task x {minutes:g} min (jobRunMinutes) x "
                   f"{_usd(task_hour)}/task-hour")
    rate = stack.prices.rate("scheduler.invocationsPerMillion")
    billable = max(runs - SCHEDULER_FREE_INVOCATIONS, 0.0)
    stack.add_flat(schedule, "Scheduler invocations", billable / 1e6 * rate,
                   f"{runs:.4g} a month, within Scheduler's 14 million free invocations a month (then "
                   f"{_usd(rate)}/million)")


@prices("aws:servicediscovery/httpNamespace:HttpNamespace")
def _service_connect_namespace(stack: _Stack, namespace: Record) -> None:
    """Cloud Map bills each registered instance: a running task of a service others call by name."""
    servers = [s for s in stack.of_type("aws:ecs/service:Service")
               if ((s.props.get("serviceConnectConfiguration") or {}).get("services"))]
    tasks = {scale: sum(stack.service_scales[s.urn].tasks[scale] for s in servers) for scale in SCALES}
    rate = stack.prices.rate("cloudMap.registeredInstanceMonth")
    stack.add(namespace, f"Cloud Map instances ({tasks['min']:g}-{tasks['max']:g} tasks reachable by name)",
              tasks["min"] * rate, tasks["max"] * rate, f"running tasks of services with connect x {_usd(rate)}/month")


@prices("aws:ecs/cluster:Cluster")
def _cluster(stack: _Stack, cluster: Record) -> None:
    settings = cluster.props.get("settings")
    # On a first preview the list, or any entry of it, may still be unknown.
    entries = settings if isinstance(settings, list) else []
    insights = {s.get("name"): s.get("value") for s in entries if isinstance(s, dict)}.get("containerInsights")
    if insights in ("enabled", "enhanced"):
        stack.not_priced(cluster, f"Container Insights ({insights}) bills CloudWatch metrics per task and "
                                  "service; not estimated")


# --- network -------------------------------------------------------------------------------------
def _nat_gb_per_task(stack: _Stack) -> tuple[float, str]:
    """GB per task through NAT, and how: S3 traffic bypasses NAT when an S3 gateway endpoint exists."""
    usage = stack.usage
    through_endpoint = any(
        e.props.get("vpcEndpointType", "Gateway") == "Gateway" and str(e.props.get("serviceName", "")).endswith(".s3")
        for e in stack.of_type("aws:ec2/vpcEndpoint:VpcEndpoint"))
    if not through_endpoint:
        return usage.nat_gb_per_task_month, f"{usage.nat_gb_per_task_month:g} GB (natGbPerTaskMonth)"
    gb = max(usage.nat_gb_per_task_month - usage.s3_gb_per_task_month, 0.0)
    return gb, (f"max(0, {usage.nat_gb_per_task_month:g} natGbPerTaskMonth - {usage.s3_gb_per_task_month:g} "
                f"s3GbPerTaskMonth via the S3 gateway endpoint) = {gb:g} GB")


def _nat_lines(stack: _Stack, owner: Record, count: int, price_ipv4: bool, share: float) -> None:
    """Hours and IPv4 for `count` NATs; `share` of the stack's NAT traffic goes through them."""
    hour, gb_rate = stack.prices.rate("nat.hour"), stack.prices.rate("nat.gbProcessed")
    stack.add_flat(owner, f"NAT gateway hours x {count}", count * hour * stack.hours,
                   f"{count} x {_usd(hour)}/h x {stack.hours:g} h")
    per_task, how = _nat_gb_per_task(stack)
    stack.add(owner, "NAT data processed", stack.tasks("min") * per_task * share * gb_rate,
              stack.tasks("max") * per_task * share * gb_rate,
              f"tasks x {how} x {share:.2g} share x {_usd(gb_rate)}/GB")
    if price_ipv4:
        rate = stack.prices.rate("publicIpv4.hour")
        stack.add_flat(owner, f"public IPv4 for NAT x {count}", count * rate * stack.hours,
                       f"{count} x {_usd(rate)}/h x {stack.hours:g} h")


@prices("aws:ec2/natGateway:NatGateway")
def _nat_gateway(stack: _Stack, nat: Record) -> None:
    share = 1 / len(stack.of_type("aws:ec2/natGateway:NatGateway"))
    # A public NAT uses an Elastic IP; when the Eip resources are visible they carry the IPv4 charge.
    public = nat.props.get("connectivityType", "public") == "public"
    _nat_lines(stack, nat, 1, price_ipv4=public and not stack.of_type("aws:ec2/eip:Eip"), share=share)


@prices("awsx:ec2:Vpc")
def _awsx_vpc(stack: _Stack, vpc: Record) -> None:
    """Only under mocks (children invisible): price the NATs the strategy will create, never both."""
    if stack.of_type("aws:ec2/natGateway:NatGateway"):
        return
    strategy = (vpc.props.get("natGateways") or {}).get("strategy", "OnePerAz")
    zones = vpc.props.get("availabilityZoneNames")
    zone_count = len(zones) if isinstance(zones, list) else int(_number(vpc.props.get("numberOfAvailabilityZones"), 3))
    count = {"None": 0, "Single": 1, "OnePerAz": zone_count}.get(strategy)
    if count is None:
        stack.not_priced(vpc, f"unknown NAT gateway strategy {strategy!r}")
    elif count:
        _nat_lines(stack, vpc, count, price_ipv4=True, share=1 / len(stack.of_type("awsx:ec2:Vpc")))


@prices("aws:ec2/networkInterface:NetworkInterface")
def _network_interface(stack: _Stack, interface: Record) -> None:
    """An interface is free; one that forwards traffic (a NAT instance's) carries the NAT data line, at $0."""
    if interface.props.get("sourceDestCheck") is not False:
        return
    forwarding = [i for i in stack.of_type("aws:ec2/networkInterface:NetworkInterface")
                  if i.props.get("sourceDestCheck") is False]
    per_task, how = _nat_gb_per_task(stack)
    share = 1 / len(forwarding)
    stack.add(interface, "NAT instance data: no per-GB charge", 0.0, 0.0,
              f"tasks x {how} x {share:.2g} share x $0/GB: EC2 bills no NAT processing (the instance's hours, volume "
              f"and IPv4 are on its Auto Scaling group); inbound transfer is free, outbound to the internet is not "
              f"priced (as for NAT gateways); min {stack.tasks('min') * per_task * share:g} GB, "
              f"max {stack.tasks('max') * per_task * share:g} GB")


@prices("aws:autoscaling/group:Group")
def _auto_scaling_group(stack: _Stack, group: Record) -> None:
    """EC2 on-demand hours, EBS and public IPv4 of the instances a group keeps running (its launch template's)."""
    template = stack.launch_template_of(group)
    if template is None:
        stack.not_priced(group, "its launch template is not among the declared resources (instance type unknown)")
        return
    if group.props.get("mixedInstancesPolicy"):
        stack.not_priced(group, "mixed instances policies (Spot, several types) are not priced")
        return
    instances = {"min": _number(group.props.get("desiredCapacity"), _number(group.props.get("minSize"), 0.0)),
                 "max": _number(group.props.get("maxSize"), 0.0)}
    instance_type = template.props.get("instanceType")
    hourly = stack.prices.ec2_instance_hour(str(instance_type))
    counted = f"{instances['min']:g}-{instances['max']:g}" if instances["min"] != instances["max"] \
        else f"{instances['min']:g}"
    if hourly is None:
        stack.not_priced(group, f"instance type {instance_type!r} is not in policies/pricing/{stack.prices.region}.json")
    else:
        burst = ", burstable: surplus CPU credits not priced" if str(instance_type).startswith("t") else ""
        stack.add(group, f"EC2 {instance_type} x {counted} (on-demand)", instances["min"] * hourly * stack.hours,
                  instances["max"] * hourly * stack.hours,
                  f"instances x {_usd(hourly)}/h x {stack.hours:g} h{burst}")
    for mapping in template.props.get("blockDeviceMappings") or []:
        ebs = mapping.get("ebs") or {}
        size, volume_type = _number(ebs.get("volumeSize")), ebs.get("volumeType") or "gp2"
        key = f"ebs.{volume_type}.gbMonth"
        if size is None:
            stack.not_priced(group, f"{mapping.get('deviceName')}: volume size comes from the AMI's snapshot")
        elif key not in stack.prices.figures:
            stack.not_priced(group, f"{mapping.get('deviceName')}: EBS {volume_type} is not priced")
        else:
            rate = stack.prices.rate(key)
            stack.add(group, f"EBS {volume_type} {size:g} GB x {counted}", instances["min"] * size * rate,
                      instances["max"] * size * rate, f"instances x {size:g} GB x {_usd(rate)}/GB-month")
    interfaces = template.props.get("networkInterfaces") or []
    if any(truthy_flag(i.get("associatePublicIpAddress")) for i in interfaces):
        rate = stack.prices.rate("publicIpv4.hour")
        stack.add(group, f"public IPv4 x {counted}", instances["min"] * rate * stack.hours,
                  instances["max"] * rate * stack.hours, f"instances x {_usd(rate)}/h x {stack.hours:g} h")


def truthy_flag(value: Any) -> bool:
    """Launch template flags are strings ("true") in the provider's schema."""
    return value is True or str(value).strip().lower() == "true"


@prices("aws:ec2/eip:Eip")
def _elastic_ip(stack: _Stack, eip: Record) -> None:
    rate = stack.prices.rate("publicIpv4.hour")
    stack.add_flat(eip, "public IPv4 address", rate * stack.hours, f"{_usd(rate)}/h x {stack.hours:g} h")


@prices("aws:ec2/vpcEndpoint:VpcEndpoint")
def _vpc_endpoint(stack: _Stack, endpoint: Record) -> None:
    if endpoint.props.get("vpcEndpointType", "Gateway") != "Interface":
        return  # gateway endpoints (S3, DynamoDB) are free
    subnets = endpoint.props.get("subnetIds")
    zones = len(subnets) if isinstance(subnets, list) and subnets else 2
    hour, gb_rate = stack.prices.rate("interfaceEndpoint.azHour"), stack.prices.rate("interfaceEndpoint.gbProcessed")
    gb = stack.usage.interface_endpoint_gb_month
    stack.add_flat(endpoint, f"interface endpoint x {zones} AZ", zones * hour * stack.hours + gb * gb_rate,
                   f"{zones} AZ x {_usd(hour)}/h x {stack.hours:g} h + {gb:g} GB x {_usd(gb_rate)}")


@prices("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
def _load_balancer(stack: _Stack, balancer: Record) -> None:
    if balancer.props.get("loadBalancerType", "application") != "application":
        stack.not_priced(balancer, f"{balancer.props.get('loadBalancerType')} load balancers are not priced")
        return
    hour, lcu_rate = stack.prices.rate("alb.hour"), stack.prices.rate("alb.lcuHour")
    stack.add_flat(balancer, "ALB hours", hour * stack.hours, f"{_usd(hour)}/h x {stack.hours:g} h")
    share = 1 / len(stack.of_type("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"))
    usage = stack.usage
    lcus = {s: max(usage.alb_min_lcu, stack.tasks(s) * share * usage.alb_lcu_per_task) for s in SCALES}
    stack.add(balancer, f"ALB LCUs ({lcus['min']:g}-{lcus['max']:g})", lcus["min"] * lcu_rate * stack.hours,
              lcus["max"] * lcu_rate * stack.hours,
              f"max(albMinLcu {usage.alb_min_lcu:g}, tasks x albLcuPerTask {usage.alb_lcu_per_task:g}) x "
              f"{_usd(lcu_rate)}/LCU-h x {stack.hours:g} h")
    egress_rate = stack.prices.rate("dataTransfer.internetOutGb")
    per_task = usage.internet_egress_gb_per_task_month
    stack.add(balancer, "data transfer out to the internet",
              stack.tasks("min") * share * per_task * egress_rate, stack.tasks("max") * share * per_task * egress_rate,
              f"tasks x {per_task:g} GB (internetEgressGbPerTaskMonth) x {_usd(egress_rate)}/GB")
    if balancer.props.get("internal"):
        return
    subnets = balancer.props.get("subnets") or balancer.props.get("subnetMappings")
    if isinstance(subnets, list) and subnets:
        zones, how = len(subnets), "one per subnet AZ"
    else:
        vpc_zones = [v.props.get("availabilityZoneNames") for v in stack.of_type("awsx:ec2:Vpc")]
        known = [z for z in vpc_zones if isinstance(z, list)]
        zones, how = (len(known[0]), "one per VPC AZ") if len(known) == 1 else (2, "subnets unknown: 2 AZ minimum")
    rate = stack.prices.rate("publicIpv4.hour")
    stack.add_flat(balancer, f"public IPv4 x {zones} ({how})", zones * rate * stack.hours,
                   f"{zones} x {_usd(rate)}/h x {stack.hours:g} h")


# --- data tier -----------------------------------------------------------------------------------
@prices("aws:elasticache/replicationGroup:ReplicationGroup", "aws:elasticache/cluster:Cluster")
def _cache(stack: _Stack, cache: Record) -> None:
    if cache.type.endswith("Cluster") and cache.props.get("replicationGroupId"):
        return  # a member of a replication group, priced there
    node_type = cache.props.get("nodeType")
    engine = str(cache.props.get("engine") or "redis").lower()
    if cache.type.endswith("Cluster"):
        nodes = int(_number(cache.props.get("numCacheNodes"), 1))
    elif _number(cache.props.get("numNodeGroups")):
        nodes = int(_number(cache.props.get("numNodeGroups")) * (_number(cache.props.get("replicasPerNodeGroup"), 0) + 1))
    else:
        nodes = int(_number(cache.props.get("numCacheClusters"), 1))
    if engine not in ("redis", "valkey"):
        stack.not_priced(cache, f"engine {engine!r} is not priced (Redis OSS and Valkey are)")
        return
    hourly = stack.prices.cache_node_hour(str(node_type), engine)
    if hourly is None:
        stack.not_priced(cache, f"no price yet for node type {node_type!r} in policies/pricing/{stack.prices.region}.json "
                                f"(tables.elasticache.nodeHour)")
        return
    stack.add_flat(cache, f"ElastiCache {engine} {node_type} x {nodes} nodes", nodes * hourly * stack.hours,
                   f"{nodes} x {_usd(round(hourly, 5))}/h x {stack.hours:g} h")


@prices("aws:rds/instance:Instance")
def _rds_instance(stack: _Stack, db: Record) -> None:
    props = db.props
    multi_az = bool(props.get("multiAz"))
    deployment = "Multi-AZ" if multi_az else "Single-AZ"
    replica = bool(props.get("replicateSourceDb"))
    engine = props.get("engine") or ("postgres" if replica else None)
    instance_class = props.get("instanceClass")
    class_price = stack.prices.rds_class(str(instance_class))
    role = "read replica" if replica else "instance"
    if engine != "postgres":
        stack.not_priced(db, f"engine {engine!r}: only PostgreSQL instance prices are in the price data")
    elif class_price is None:
        stack.not_priced(db, f"no price yet for instance class {instance_class!r} in "
                             f"policies/pricing/{stack.prices.region}.json (tables.rds.postgres.instanceHour)")
    else:
        hourly = class_price.multi_az_hour if multi_az else class_price.single_az_hour
        stack.add_flat(db, f"RDS PostgreSQL {role} {instance_class} {deployment}", hourly * stack.hours,
                       f"{_usd(hourly)}/h x {stack.hours:g} h")

    storage_type = props.get("storageType") or ("io1" if props.get("iops") else "gp2")
    allocated = _number(props.get("allocatedStorage"))
    if allocated is None and replica:
        # A replica usually leaves allocatedStorage unset: RDS gives it the source's size, billed again.
        source = next((i for i in stack.of_type("aws:rds/instance:Instance")
                       if i is not db and i.props.get("identifier") == props.get("replicateSourceDb")), None)
        allocated = _number(source.props.get("allocatedStorage")) if source is not None else None
    key = f"rds.{storage_type}.gbMonth.{'multiAz' if multi_az else 'singleAz'}"
    if allocated is None:
        stack.not_priced(db, "allocatedStorage unknown" + (" (and the source instance's)" if replica else ""))
    elif key not in stack.prices.figures:
        stack.not_priced(db, f"storage type {storage_type!r} is not priced")
    else:
        rate = stack.prices.rate(key)
        grown = max(_number(props.get("maxAllocatedStorage"), allocated), allocated)
        stack.add(db, f"RDS storage {storage_type} {allocated:g}-{grown:g} GB {deployment}", allocated * rate,
                  grown * rate, f"GB x {_usd(rate)}/GB-month (max scale: maxAllocatedStorage)")

    if _number(props.get("backupRetentionPeriod"), 1) > 0 and stack.usage.rds_backup_gb_beyond_free > 0:
        rate, gb = stack.prices.rate("rds.backupStorage.gbMonth"), stack.usage.rds_backup_gb_beyond_free
        stack.add_flat(db, "RDS backup storage beyond the free allowance", gb * rate,
                       f"{gb:g} GB (rdsBackupGbBeyondFree) x {_usd(rate)}/GB-month")

    if props.get("performanceInsightsEnabled"):
        retention = _number(props.get("performanceInsightsRetentionPeriod"), 7)
        if retention <= 7:
            stack.add_flat(db, "Performance Insights, 7-day retention", 0.0, "free tier (7 days of history)")
        elif class_price is not None:
            vcpus = class_price.vcpu * (2 if multi_az else 1)
            rate = stack.prices.rate("rds.databaseInsightsAdvanced.vcpuHour")
            stack.add_flat(db, f"Performance Insights, {retention:g}-day retention", vcpus * rate * stack.hours,
                           f"{vcpus} vCPU x {_usd(rate)}/vCPU-h x {stack.hours:g} h")
        else:
            stack.not_priced(db, "Performance Insights long retention: vCPUs of the class unknown")

    if props.get("manageMasterUserPassword"):
        rate = stack.prices.rate("secretsManager.secretMonth")
        stack.add_flat(db, "RDS-managed master user secret", rate, f"1 secret x {_usd(rate)}/month")


def _aurora_tier(cluster: Record | None) -> tuple[str, str]:
    """(price key suffix, label) of a cluster's storage configuration."""
    if cluster is not None and cluster.props.get("storageType") == "aurora-iopt1":
        return "ioOptimized", "I/O-Optimized"
    return "standard", "Standard"


def _aurora_cluster_of(stack: _Stack, instance: Record) -> Record | None:
    clusters = stack.of_type("aws:rds/cluster:Cluster")
    return next((c for c in clusters if instance.props.get("clusterIdentifier") in
                 (c.props.get("clusterIdentifier"), c.props.get("id"))), clusters[0] if len(clusters) == 1 else None)


def _serverless_range(cluster: Record | None) -> tuple[float, float] | None:
    scaling = (cluster.props.get("serverlessv2ScalingConfiguration") if cluster is not None else None) or {}
    if _number(scaling.get("maxCapacity")) is None:
        return None
    return _number(scaling.get("minCapacity"), 0.0), _number(scaling.get("maxCapacity"))


@prices("aws:rds/cluster:Cluster")
def _aurora_cluster(stack: _Stack, cluster: Record) -> None:
    tier, label = _aurora_tier(cluster)
    gb = stack.usage.aurora_storage_gb
    rate = stack.prices.rate(f"aurora.storage.gbMonth.{tier}")
    stack.add_flat(cluster, f"Aurora {label} storage", gb * rate, f"{gb:g} GB (auroraStorageGb) x {_usd(rate)}/GB-month")
    if tier == "standard":
        millions, io_rate = stack.usage.aurora_io_millions_month, stack.prices.rate("aurora.io.millionRequests.standard")
        stack.add_flat(cluster, "Aurora Standard I/O requests", millions * io_rate,
                       f"{millions:g} million (auroraIoMillionsMonth) x {_usd(io_rate)}/million")
    if _number(cluster.props.get("backupRetentionPeriod"), 1) > 0 and stack.usage.rds_backup_gb_beyond_free > 0:
        backup, gb_beyond = stack.prices.rate("rds.backupStorage.gbMonth"), stack.usage.rds_backup_gb_beyond_free
        stack.add_flat(cluster, "Aurora backup storage beyond the free allowance", gb_beyond * backup,
                       f"{gb_beyond:g} GB (rdsBackupGbBeyondFree) x {_usd(backup)}/GB-month")
    if cluster.props.get("manageMasterUserPassword"):
        secret = stack.prices.rate("secretsManager.secretMonth")
        stack.add_flat(cluster, "RDS-managed master user secret", secret, f"1 secret x {_usd(secret)}/month")


@prices("aws:rds/clusterInstance:ClusterInstance")
def _aurora_instance(stack: _Stack, instance: Record) -> None:
    cluster = _aurora_cluster_of(stack, instance)
    tier, label = _aurora_tier(cluster)
    capacity = _serverless_range(cluster)
    if instance.props.get("instanceClass") != "db.serverless" or capacity is None:
        stack.not_priced(instance, f"provisioned Aurora class {instance.props.get('instanceClass')!r}: only Serverless "
                                   "v2 (db.serverless) is in the price data")
        return
    low, high = capacity
    rate = stack.prices.rate(f"aurora.serverlessV2.acuHour.{tier}")
    if low == 0:
        hours, floor = stack.usage.aurora_awake_hours_month, 0.5
        basis_min = f"{hours:g} awake h (auroraAwakeHoursMonth) x 0.5 ACU, paused the rest"
    else:
        hours, floor = stack.hours, low
        basis_min = f"{low:g} ACU x {stack.hours:g} h"
    stack.add(instance, f"Aurora Serverless v2 {label} {low:g}-{high:g} ACU", hours * floor * rate,
              stack.hours * high * rate, f"min: {basis_min}; max: {high:g} ACU x {stack.hours:g} h; x {_usd(rate)}/ACU-h")
    if instance.props.get("performanceInsightsEnabled"):
        stack.add_flat(instance, "Performance Insights, 7-day retention", 0.0, "free tier (7 days of history)")


def _aurora_proxy(stack: _Stack, proxy: Record, cluster: Record) -> None:
    capacity = _serverless_range(cluster)
    if capacity is None:
        stack.not_priced(proxy, "a proxy in front of provisioned Aurora is not priced")
        return
    instances = len(stack.of_type("aws:rds/clusterInstance:ClusterInstance")) or 1
    minimum, rate = stack.prices.rate("rds.proxy.minimumAcu"), stack.prices.rate("rds.proxy.acuHour")
    low = max(capacity[0] * instances, minimum)
    high = max(capacity[1] * instances, minimum)
    stack.add(proxy, f"RDS Proxy (Aurora Serverless v2, {low:g}-{high:g} ACU)", low * rate * stack.hours,
              high * rate * stack.hours, f"ACU (at least {minimum:g}) x {_usd(rate)}/ACU-h x {stack.hours:g} h")


@prices("aws:rds/proxy:Proxy")
def _rds_proxy(stack: _Stack, proxy: Record) -> None:
    clusters = stack.of_type("aws:rds/cluster:Cluster")
    if clusters and not stack.of_type("aws:rds/instance:Instance"):
        _aurora_proxy(stack, proxy, clusters[0])
        return
    instances = {i.props.get("identifier"): i for i in stack.of_type("aws:rds/instance:Instance")}
    target = None
    for link in stack.of_type("aws:rds/proxyTarget:ProxyTarget"):
        if link.props.get("dbProxyName") in (proxy.props.get("name"), proxy.name):
            target = instances.get(link.props.get("dbInstanceIdentifier"))
    if target is None:
        primaries = [i for i in instances.values() if not i.props.get("replicateSourceDb")]
        target = primaries[0] if len(primaries) == 1 else None
    class_price = stack.prices.rds_class(str(target.props.get("instanceClass"))) if target else None
    if class_price is None:
        stack.not_priced(proxy, "the target instance (and so its vCPUs) could not be identified or priced")
        return
    minimum = int(stack.prices.rate("rds.proxy.minimumVcpu"))
    vcpus = max(class_price.vcpu, minimum)
    rate = stack.prices.rate("rds.proxy.vcpuHour")
    stack.add_flat(proxy, f"RDS Proxy ({vcpus} vCPU of {target.props.get('instanceClass')})",
                   vcpus * rate * stack.hours, f"{vcpus} vCPU x {_usd(rate)}/vCPU-h x {stack.hours:g} h")


# --- observability -------------------------------------------------------------------------------
def _container_log_groups(definition: Record) -> set[str]:
    containers = definition.props.get("containerDefinitions")
    if isinstance(containers, str):
        try:
            containers = json.loads(containers)
        except ValueError:
            return set()
    groups = set()
    for container in containers if isinstance(containers, list) else []:
        config = container.get("logConfiguration") or {}
        group = (config.get("options") or {}).get("awslogs-group")
        if config.get("logDriver") == "awslogs" and isinstance(group, str):
            groups.add(group)
    return groups


def _flow_log_targets(stack: _Stack, group: Record) -> list[Record]:
    name = group.props.get("name")
    targets = []
    for flow_log in stack.of_type("aws:ec2/flowLog:FlowLog"):
        destination = flow_log.props.get("logDestination") or flow_log.props.get("logGroupName") or ""
        if isinstance(name, str) and isinstance(destination, str) and \
                (destination == name or destination.rstrip(":*").endswith(f":log-group:{name}")):
            targets.append(flow_log)
        elif not isinstance(name, str) and flow_log.parent_urn == group.parent_urn:
            targets.append(flow_log)
    return targets


@prices("aws:cloudwatch/logGroup:LogGroup")
def _log_group(stack: _Stack, group: Record) -> None:
    usage = stack.usage
    name = group.props.get("name")
    definitions = stack.of_type("aws:ecs/taskDefinition:TaskDefinition")
    writers = [d for d in definitions if isinstance(name, str) and name in _container_log_groups(d)]
    if not writers and not isinstance(name, str):
        writers = [d for d in stack.siblings(group, "aws:ecs/taskDefinition:TaskDefinition") if _container_log_groups(d)]
    flow_logs = _flow_log_targets(stack, group)
    ingest_rate, storage_rate = stack.prices.rate("logs.ingestGb"), stack.prices.rate("logs.storageGbMonth")
    retention_days = _number(group.props.get("retentionInDays"), 0)
    months_kept = retention_days / 30 if retention_days else usage.unlimited_retention_months
    if writers:
        gb = {s: sum(stack.tasks_of_definition(d, s) for d in writers) * usage.log_gb_per_task_month for s in SCALES}
        stack.add(group, "log ingestion (container logs)", gb["min"] * ingest_rate, gb["max"] * ingest_rate,
                  f"tasks x {usage.log_gb_per_task_month:g} GB (logGbPerTaskMonth) x {_usd(ingest_rate)}/GB")
    elif flow_logs:
        gb = {s: len(flow_logs) * usage.flow_log_gb_month for s in SCALES}  # ingestion priced on the flow log
    else:
        gb = {s: usage.other_log_group_gb_month for s in SCALES}
        stack.add_flat(group, "log ingestion", gb["min"] * ingest_rate,
                       f"{usage.other_log_group_gb_month:g} GB (otherLogGroupGbMonth) x {_usd(ingest_rate)}/GB")
    stack.add(group, f"log storage ({'%g days' % retention_days if retention_days else 'never expires'})",
              gb["min"] * months_kept * storage_rate, gb["max"] * months_kept * storage_rate,
              f"monthly GB x {months_kept:.3g} months kept x {_usd(storage_rate)}/GB-month (uncompressed, upper bound)")


@prices("aws:ec2/flowLog:FlowLog")
def _flow_log(stack: _Stack, flow_log: Record) -> None:
    if flow_log.props.get("logDestinationType", "cloud-watch-logs") != "cloud-watch-logs":
        stack.not_priced(flow_log, f"flow logs to {flow_log.props.get('logDestinationType')} are not priced")
        return
    rate, gb = stack.prices.rate("logs.vendedIngestGb"), stack.usage.flow_log_gb_month
    stack.add_flat(flow_log, "VPC flow logs delivered to CloudWatch Logs", gb * rate,
                   f"{gb:g} GB (flowLogGbMonth) x {_usd(rate)}/GB")


def _alarm_metrics(alarm: Record) -> tuple[int, bool]:
    """(metrics an alarm is billed for, whether it is high resolution)."""
    queries = alarm.props.get("metricQueries") or []
    metrics = [q for q in queries if q.get("metric")] if queries else [alarm.props]
    periods = [_number(q["metric"].get("period"), 60) for q in metrics if q.get("metric")] if queries \
        else [_number(alarm.props.get("period"), 60)]
    return max(len(metrics), 1), any(p < 60 for p in periods)


@prices("aws:cloudwatch/metricAlarm:MetricAlarm")
def _metric_alarm(stack: _Stack, alarm: Record) -> None:
    count, high_resolution = _alarm_metrics(alarm)
    rate = stack.prices.rate("alarm.highResolutionMonth" if high_resolution else "alarm.standardMonth")
    stack.add_flat(alarm, f"CloudWatch alarm ({count} metric{'s' if count > 1 else ''}"
                          f"{', high resolution' if high_resolution else ''})", count * rate,
                   f"{count} x {_usd(rate)}/alarm metric-month")


@prices("aws:cloudwatch/compositeAlarm:CompositeAlarm")
def _composite_alarm(stack: _Stack, alarm: Record) -> None:
    rate = stack.prices.rate("alarm.compositeMonth")
    stack.add_flat(alarm, "CloudWatch composite alarm", rate, f"{_usd(rate)}/month")


def _tracking_alarm_metrics(policy: Record) -> int:
    """Alarm metrics target tracking creates: 2 alarms (1 without scale-in), each billed per metric it reads
    (a metric-math spec reads each of its `metricStat` metrics)."""
    config = policy.props.get("targetTrackingScalingPolicyConfiguration") or {}
    alarms = 1 if config.get("disableScaleIn") else 2
    metrics = (config.get("customizedMetricSpecification") or {}).get("metrics") or []
    return alarms * max(1, sum(1 for metric in metrics if metric.get("metricStat")))


@prices("aws:appautoscaling/policy:Policy")
def _scaling_policy(stack: _Stack, policy: Record) -> None:
    if policy.props.get("policyType") != "TargetTrackingScaling":
        return  # step scaling uses alarms declared (and priced) separately
    count = _tracking_alarm_metrics(policy)
    rate = stack.prices.rate("alarm.standardMonth")
    stack.add_flat(policy, f"alarm metrics target tracking creates x {count}", count * rate,
                   f"{count} x {_usd(rate)}/alarm metric-month (scale-out and scale-in alarms)")


@prices("aws:sqs/queue:Queue")
def _queue(stack: _Stack, queue: Record) -> None:
    if not queue.props.get("redrivePolicy"):
        # A dead-letter queue (ours, or a scheduled job's): requests only when a message fails.
        stack.add_flat(queue, "SQS dead-letter queue", 0.0, "requests only for failed messages (~$0)")
        return
    fifo = bool(queue.props.get("fifoQueue"))
    rate = stack.prices.rate("sqs.fifoRequestsPerMillion" if fifo else "sqs.standardRequestsPerMillion")
    millions = stack.usage.sqs_requests_millions_per_queue_month
    stack.add_flat(queue, f"SQS {'FIFO' if fifo else 'standard'} requests", millions * rate,
                   f"{millions:g} M requests (sqsRequestsMillionsPerQueueMonth) x {_usd(rate)}/million")


@prices("aws:cloudwatch/dashboard:Dashboard")
def _dashboard(stack: _Stack, dashboard: Record) -> None:
    rate = stack.prices.rate("dashboard.month")
    stack.add_flat(dashboard, "CloudWatch dashboard", rate, f"{_usd(rate)}/month")


@prices("aws:sns/topic:Topic")
def _topic(stack: _Stack, topic: Record) -> None:
    rate, publishes = stack.prices.rate("sns.publishPerMillion"), stack.usage.sns_publishes_per_topic_month
    stack.add_flat(topic, "SNS publishes", publishes / 1e6 * rate,
                   f"{publishes:g} (snsPublishesPerTopicMonth) x {_usd(rate)}/million")


# --- security, DNS, storage, edge ----------------------------------------------------------------
@prices("aws:secretsmanager/secret:Secret")
def _secret(stack: _Stack, secret: Record) -> None:
    rate = stack.prices.rate("secretsManager.secretMonth")
    stack.add_flat(secret, "Secrets Manager secret", rate, f"{_usd(rate)}/month")


@prices("aws:kms/key:Key")
def _kms_key(stack: _Stack, key: Record) -> None:
    rate = stack.prices.rate("kms.keyMonth")
    stack.add_flat(key, "KMS customer managed key", rate, f"{_usd(rate)}/month")


@prices("aws:route53/zone:Zone")
def _zone(stack: _Stack, zone: Record) -> None:
    rate = stack.prices.rate("route53.hostedZoneMonth")
    stack.add_flat(zone, "Route 53 hosted zone", rate, f"{_usd(rate)}/month")


@prices("aws:ecr/repository:Repository")
def _repository(stack: _Stack, repository: Record) -> None:
    rate, gb = stack.prices.rate("ecr.storageGbMonth"), stack.usage.ecr_gb_per_repository
    stack.add_flat(repository, "ECR image storage", gb * rate, f"{gb:g} GB (ecrGbPerRepository) x {_usd(rate)}/GB-month")


@prices("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
def _bucket(stack: _Stack, bucket: Record) -> None:
    usage, p = stack.usage, stack.prices
    storage = usage.s3_gb_per_bucket * p.rate("s3.standardGbMonth")
    requests = (usage.s3_put_thousands_per_bucket_month * p.rate("s3.putPer1000")
                + usage.s3_get_thousands_per_bucket_month * p.rate("s3.getPer1000"))
    stack.add_flat(bucket, "S3 storage and requests", storage + requests,
                   f"{usage.s3_gb_per_bucket:g} GB x {_usd(p.rate('s3.standardGbMonth'))} + "
                   f"{usage.s3_put_thousands_per_bucket_month:g}k PUT x {_usd(p.rate('s3.putPer1000'))} + "
                   f"{usage.s3_get_thousands_per_bucket_month:g}k GET x {_usd(p.rate('s3.getPer1000'))}")


@prices("aws:cloudfront/distribution:Distribution")
def _distribution(stack: _Stack, distribution: Record) -> None:
    usage, p = stack.usage, stack.prices
    data = usage.cloudfront_gb_month * p.rate("cloudfront.dataOutGb")
    requests = usage.cloudfront_requests_millions_month * 100 * p.rate("cloudfront.httpsRequestsPer10k")
    stack.add_flat(distribution, "CloudFront data out and requests", data + requests,
                   f"{usage.cloudfront_gb_month:g} GB x {_usd(p.rate('cloudfront.dataOutGb'))} + "
                   f"{usage.cloudfront_requests_millions_month:g} M requests x "
                   f"{_usd(p.rate('cloudfront.httpsRequestsPer10k'))}/10k")


@prices("aws:cloudfront/function:Function")
def _cloudfront_function(stack: _Stack, function: Record) -> None:
    """A viewer-request function runs on every request of its behaviour: counted as every request of the
    distribution (an upper bound; API paths do not run it)."""
    usage, p = stack.usage, stack.prices
    stack.add_flat(function, "CloudFront Functions invocations",
                   usage.cloudfront_requests_millions_month * p.rate("cloudfront.functionInvocationsPerMillion"),
                   f"{usage.cloudfront_requests_millions_month:g} M invocations x "
                   f"{_usd(p.rate('cloudfront.functionInvocationsPerMillion'))}/M")


@prices("aws:wafv2/webAcl:WebAcl")
def _web_acl(stack: _Stack, acl: Record) -> None:
    """The web ACL, a rule-month per rule (a managed rule group is one rule) and its inspected requests."""
    p, usage = stack.prices, stack.usage
    rules = len(acl.props.get("rules") or [])
    stack.add_flat(acl, f"WAF web ACL and {rules} rules", p.rate("waf.webAclMonth") + rules * p.rate("waf.ruleMonth"),
                   f"{_usd(p.rate('waf.webAclMonth'))}/month + {rules} x {_usd(p.rate('waf.ruleMonth'))}/rule-month")
    rate = p.rate("waf.requestsPerMillion")
    if acl.props.get("scope") == "CLOUDFRONT":
        millions = {s: usage.cloudfront_requests_millions_month for s in SCALES}
        basis = f"{usage.cloudfront_requests_millions_month:g} M (cloudfrontRequestsMillionsMonth) x {_usd(rate)}/M"
    else:
        millions = {s: stack.tasks(s) * usage.waf_requests_millions_per_task_month for s in SCALES}
        basis = f"tasks x {usage.waf_requests_millions_per_task_month:g} M (wafRequestsMillionsPerTaskMonth) x {_usd(rate)}/M"
    stack.add(acl, "WAF requests inspected", millions["min"] * rate, millions["max"] * rate, basis)


# CloudWatch's always-free tier, per account and month (aws.amazon.com/cloudwatch/pricing, "Free tier").
FREE_ALARM_METRICS, FREE_DASHBOARDS = 10, 3
FREE_TIER_TYPE = "aws:cloudwatch (always-free allowance)"


def _cloudwatch_free_tier(stack: _Stack) -> None:
    """A separate, labelled credit line, only when the stack claims a share of its account's allowance."""
    share = stack.usage.cloudwatch_free_tier_share
    if not share:
        return
    alarms = sum(count for count, high in map(_alarm_metrics, stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"))
                 if not high)
    for policy in stack.of_type("aws:appautoscaling/policy:Policy"):
        if policy.props.get("policyType") == "TargetTrackingScaling":
            alarms += _tracking_alarm_metrics(policy)
    dashboards = len(stack.of_type("aws:cloudwatch/dashboard:Dashboard"))
    alarm_rate, dashboard_rate = stack.prices.rate("alarm.standardMonth"), stack.prices.rate("dashboard.month")
    credit = share * (min(FREE_ALARM_METRICS, alarms) * alarm_rate + min(FREE_DASHBOARDS, dashboards) * dashboard_rate)
    if credit:
        stack.lines.append(CostLine(
            STACK_COMPONENT, "cloudwatch-always-free", FREE_TIER_TYPE,
            f"per account: {FREE_ALARM_METRICS} alarms, {FREE_DASHBOARDS} dashboards", -credit, -credit,
            f"-{share:g} (cloudwatchFreeTierShare) x (min({FREE_ALARM_METRICS}, {alarms} alarm metrics) x "
            f"{_usd(alarm_rate)} + min({FREE_DASHBOARDS}, {dashboards} dashboards) x {_usd(dashboard_rate)}): "
            f"free once per account, so credit it to one stack only"))


FREE_CLOUDFRONT_GB, FREE_CLOUDFRONT_REQUESTS_MILLIONS, FREE_FUNCTION_INVOCATIONS_MILLIONS = 1000.0, 10.0, 2.0
CLOUDFRONT_FREE_TIER_TYPE = "aws:cloudfront (always-free allowance)"


def _cloudfront_free_tier(stack: _Stack) -> None:
    """CloudFront's always-free allowance, as a separate credit line when the stack claims a share of it."""
    share = stack.usage.cloudfront_free_tier_share
    distributions = len(stack.of_type("aws:cloudfront/distribution:Distribution"))
    if not share or not distributions:
        return
    usage, p = stack.usage, stack.prices
    gb = min(FREE_CLOUDFRONT_GB, distributions * usage.cloudfront_gb_month)
    requests = min(FREE_CLOUDFRONT_REQUESTS_MILLIONS, distributions * usage.cloudfront_requests_millions_month)
    functions = len(stack.of_type("aws:cloudfront/function:Function"))
    invocations = min(FREE_FUNCTION_INVOCATIONS_MILLIONS, functions * usage.cloudfront_requests_millions_month)
    credit = share * (gb * p.rate("cloudfront.dataOutGb") + requests * 100 * p.rate("cloudfront.httpsRequestsPer10k")
                      + invocations * p.rate("cloudfront.functionInvocationsPerMillion"))
    stack.lines.append(CostLine(
        STACK_COMPONENT, "cloudfront-always-free", CLOUDFRONT_FREE_TIER_TYPE,
        f"per account: {FREE_CLOUDFRONT_GB:g} GB, {FREE_CLOUDFRONT_REQUESTS_MILLIONS:g} M requests, "
        f"{FREE_FUNCTION_INVOCATIONS_MILLIONS:g} M function runs", -credit, -credit,
        f"-{share:g} (cloudfrontFreeTierShare) x ({gb:g} GB x {_usd(p.rate('cloudfront.dataOutGb'))} + {requests:g} M "
        f"requests x {_usd(p.rate('cloudfront.httpsRequestsPer10k'))}/10k + {invocations:g} M invocations x "
        f"{_usd(p.rate('cloudfront.functionInvocationsPerMillion'))}/M): free once per account, so credit it to one "
        f"stack only"))


def is_free(type_: str) -> bool:
    return type_ in FREE_TYPES or type_.startswith(FREE_TYPE_PREFIXES)


def estimate(records: Iterable[Record], price_book: PriceBook | None = None,
             usage: UsageAssumptions | None = None) -> Estimate:
    """Price `records`; resources of a type neither priced nor known to be free are listed as unpriced."""
    price_book = price_book or load_prices()
    usage = usage or UsageAssumptions()
    stack = _Stack(list(records), price_book, usage)
    for record in stack.records:
        pricer = PRICERS.get(record.type)
        if pricer is not None:
            pricer(stack, record)
        elif record.type.startswith("awsx:"):
            if not any(r.parent_urn == record.urn for r in stack.records):
                stack.not_priced(record, "remote awsx component whose children are not visible here "
                                         "(they are priced in a real preview)")
        elif not is_free(record.type):
            stack.not_priced(record, "no price model for this resource type")
    _cloudwatch_free_tier(stack)
    _cloudfront_free_tier(stack)
    unpriced = sorted(stack.unpriced, key=lambda u: (u.component, u.resource, u.reason))
    return Estimate(price_book.region, price_book.date_read, usage, stack.lines, unpriced)
