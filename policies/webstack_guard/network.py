"""Private subnets and no internet exposure."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import (
    CACHE_CLUSTER,
    CACHE_SUBNET_GROUP,
    DEFAULT_SECURITY_GROUP,
    ECS_SERVICE,
    LEGACY_SECURITY_GROUP_RULE,
    LOAD_BALANCERS,
    RDS_CLUSTER,
    RDS_CLUSTER_INSTANCE,
    RDS_INSTANCE,
    RDS_PROXY,
    RDS_SUBNET_GROUP,
    REPLICATION_GROUP,
    SECURITY_GROUP,
    SECURITY_GROUP_INGRESS_RULE,
    SUBNET,
    StackChecker,
    as_list,
    fix,
    is_internet_cidr,
    plain,
    present,
    subnet_tiers,
    truthy,
)

WEB_PORTS = {80, 443}
MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

_SUBNET_ALLOWLIST_SCHEMA = PolicyConfigSchema(properties={
    "privateSubnetIds": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "Subnet ids managed outside this stack that are known to be private.",
    },
})


def _ecs_service_no_public_ip(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != ECS_SERVICE:
        return
    network = args.props.get("networkConfiguration") or {}
    if truthy(network.get("assignPublicIp")):
        report(fix(
            "The service's tasks get public IP addresses (networkConfiguration.assignPublicIp=true).",
            "set assign_public_ip=False and run the tasks in private subnets behind the load balancer; "
            "they reach the internet through the NAT gateway.",
        ))


ecs_service_no_public_ip = ResourceValidationPolicy(
    name="ecs-service-no-public-ip",
    description="ECS services must not assign public IP addresses to their tasks.",
    validate=_ecs_service_no_public_ip,
    enforcement_level=MANDATORY,
)


def _check_subnets_private(checker: StackChecker, resource, subnet_ids, private, public, complete, what) -> None:
    allowlisted = set(checker.config.get("privateSubnetIds") or [])
    for subnet_id in subnet_ids:
        if subnet_id in public:
            checker.violation(resource, fix(
                f"{what} uses public subnet {subnet_id}.",
                "pass the VPC's private (or isolated) subnet ids, e.g. vpc.private_subnet_ids.",
            ))
        elif subnet_id not in private and subnet_id not in allowlisted and complete:
            checker.violation(resource, fix(
                f"{what} uses subnet {subnet_id}, which no VPC of this stack declares private.",
                "use a private/isolated subnet of the stack's VPC, or list an externally managed private "
                "subnet under this policy's `privateSubnetIds` config.",
            ))


def _ecs_service_private_subnets(args: StackValidationArgs, report: ReportViolation) -> None:
    checker = StackChecker(args, report)
    private, public, complete = subnet_tiers(checker)
    for service in checker.of_type(ECS_SERVICE):
        subnets = checker.attempt(service, lambda: plain((service.props.get("networkConfiguration") or {}).get("subnets")))
        if subnets is not None:
            _check_subnets_private(checker, service, as_list(subnets), private, public, complete, "The ECS service")
    checker.finish()


ecs_service_private_subnets_only = StackValidationPolicy(
    name="ecs-service-private-subnets-only",
    description="ECS services must run only in private subnets of the stack's VPC.",
    validate=_ecs_service_private_subnets,
    enforcement_level=MANDATORY,
    config_schema=_SUBNET_ALLOWLIST_SCHEMA,
)


def _data_subnets_private(args: StackValidationArgs, report: ReportViolation) -> None:
    checker = StackChecker(args, report)
    private, public, complete = subnet_tiers(checker)
    for group in checker.of_type(RDS_SUBNET_GROUP, CACHE_SUBNET_GROUP):
        subnets = checker.attempt(group, lambda: plain(group.props.get("subnetIds")))
        if subnets is not None:
            _check_subnets_private(checker, group, as_list(subnets), private, public, complete, "The subnet group")
    for proxy in checker.of_type(RDS_PROXY):
        subnets = checker.attempt(proxy, lambda: plain(proxy.props.get("vpcSubnetIds")))
        if subnets is not None:
            _check_subnets_private(checker, proxy, as_list(subnets), private, public, complete, "The RDS proxy")
    checker.finish()


data_subnets_private_only = StackValidationPolicy(
    name="data-subnets-private-only",
    description="Database and cache subnet groups (and RDS proxies) must use only private or isolated subnets.",
    validate=_data_subnets_private,
    enforcement_level=MANDATORY,
    config_schema=_SUBNET_ALLOWLIST_SCHEMA,
)


def _rds_not_public(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in (RDS_INSTANCE, RDS_CLUSTER_INSTANCE, RDS_CLUSTER):
        return
    if truthy(args.props.get("publiclyAccessible")):
        report(fix("The database is publicly accessible (publiclyAccessible=true).",
                   "set publicly_accessible=False; reach it from the services through security groups."))
    is_replica = present(args.props, "replicateSourceDb") or present(args.props, "replicationSourceIdentifier")
    if args.resource_type != RDS_CLUSTER_INSTANCE and not is_replica and not present(args.props, "dbSubnetGroupName"):
        report(fix("The database has no DB subnet group, so AWS places it in the default VPC.",
                   "create an aws.rds.SubnetGroup over the private/isolated subnets and pass db_subnet_group_name."))


rds_not_publicly_accessible = ResourceValidationPolicy(
    name="rds-not-publicly-accessible",
    description="RDS databases must not be publicly accessible and must live in a DB subnet group.",
    validate=_rds_not_public,
    enforcement_level=MANDATORY,
)


def _elasticache_in_subnet_group(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == CACHE_CLUSTER and present(args.props, "replicationGroupId"):
        return  # a member of a replication group inherits the group's subnet group
    if args.resource_type in (REPLICATION_GROUP, CACHE_CLUSTER) and not present(args.props, "subnetGroupName"):
        report(fix("The cache has no subnet group, so AWS places it in the default VPC.",
                   "create an aws.elasticache.SubnetGroup over private subnets and pass subnet_group_name."))


elasticache_in_subnet_group = ResourceValidationPolicy(
    name="elasticache-in-subnet-group",
    description="ElastiCache clusters must be placed in a cache subnet group.",
    validate=_elasticache_in_subnet_group,
    enforcement_level=MANDATORY,
)


def _port_range(from_port, to_port, protocol) -> set[int] | None:
    """The ports a rule opens; None means every port (protocol -1/all, or a wide range)."""
    if str(protocol).lower() in ("-1", "all"):
        return None
    if from_port is None and to_port is None:
        return None
    low, high = int(from_port if from_port is not None else to_port), int(to_port if to_port is not None else from_port)
    if low < 0 or high - low > 1024:
        return None
    return set(range(low, high + 1))


def _public_ingress(checker: StackChecker):
    """(rule-holding resource, owning security group or None, opened ports or None, cidr) for internet ingress."""
    groups = checker.of_type(SECURITY_GROUP)
    for group in groups:
        for rule in checker.attempt(group, lambda: plain(group.props.get("ingress")), []) or []:
            for cidr in as_list(rule.get("cidrBlocks")) + as_list(rule.get("ipv6CidrBlocks")):
                if is_internet_cidr(cidr):
                    yield group, group, _port_range(rule.get("fromPort"), rule.get("toPort"), rule.get("protocol")), cidr
    rule_fields = ("cidrIpv4", "cidrIpv6", "fromPort", "toPort", "ipProtocol", "type", "cidrBlocks",
                   "ipv6CidrBlocks", "protocol")
    for rule in checker.of_type(SECURITY_GROUP_INGRESS_RULE):
        props = checker.attempt(rule, lambda: {k: plain(rule.props.get(k)) for k in rule_fields}, {})
        for cidr in (props.get("cidrIpv4"), props.get("cidrIpv6")):
            if cidr and is_internet_cidr(cidr):
                owner = checker.linked(rule, groups, "securityGroupId")
                yield rule, owner[0] if len(owner) == 1 else None, _port_range(
                    props.get("fromPort"), props.get("toPort"), props.get("ipProtocol")), cidr
    for rule in checker.of_type(LEGACY_SECURITY_GROUP_RULE):
        props = checker.attempt(rule, lambda: {k: plain(rule.props.get(k)) for k in rule_fields}, {})
        if props.get("type") != "ingress":
            continue
        for cidr in as_list(props.get("cidrBlocks")) + as_list(props.get("ipv6CidrBlocks")):
            if is_internet_cidr(cidr):
                owner = checker.linked(rule, groups, "securityGroupId")
                yield rule, owner[0] if len(owner) == 1 else None, _port_range(
                    props.get("fromPort"), props.get("toPort"), props.get("protocol")), cidr


def _security_group_no_public_ingress(args: StackValidationArgs, report: ReportViolation) -> None:
    checker = StackChecker(args, report)
    groups = checker.of_type(SECURITY_GROUP)
    internet_facing = [lb for lb in checker.of_type(LOAD_BALANCERS)
                       if not checker.attempt(lb, lambda: truthy(lb.props.get("internal")), True)]
    load_balancer_groups = {group.urn for lb in internet_facing for group in checker.linked(lb, groups, "securityGroups")}
    for holder, owner, ports, cidr in _public_ingress(checker):
        if ports is None or not ports <= WEB_PORTS:
            opened = "every port" if ports is None else f"ports {min(ports)}-{max(ports)}"
            checker.violation(holder, fix(
                f"Ingress from {cidr} is open on {opened}.",
                "open only 80/443 to the internet, and only on the load balancer's security group; let other "
                "groups accept traffic from a referenced security group (referenced_security_group_id).",
            ))
        elif owner is None or owner.urn not in load_balancer_groups:
            checker.violation(holder, fix(
                f"Ingress from {cidr} on port(s) {sorted(ports)} is not on an internet-facing load balancer's group.",
                "only the load balancer's security group may accept 80/443 from the internet; reference that "
                "group from the services' groups instead.",
            ))
    checker.finish()


security_group_no_public_ingress = StackValidationPolicy(
    name="security-group-no-public-ingress",
    description="No security group may accept traffic from 0.0.0.0/0 or ::/0, except 80/443 on an "
                "internet-facing load balancer's group (inline rules, vpc.SecurityGroupIngressRule and "
                "ec2.SecurityGroupRule alike).",
    validate=_security_group_no_public_ingress,
    enforcement_level=MANDATORY,
)


def _default_security_group_closed(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != DEFAULT_SECURITY_GROUP:
        return
    if as_list(args.props.get("ingress")) or as_list(args.props.get("egress")):
        report(fix("The VPC's default security group keeps rules.",
                   "manage it with ingress=[] and egress=[] so nothing can rely on it."))


default_security_group_closed = ResourceValidationPolicy(
    name="default-security-group-closed",
    description="The VPC default security group must have no ingress and no egress rules.",
    validate=_default_security_group_closed,
    enforcement_level=MANDATORY,
)


def _subnet_no_auto_public_ip(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == SUBNET and truthy(args.props.get("mapPublicIpOnLaunch")):
        report(fix("The subnet gives every network interface a public IP (mapPublicIpOnLaunch=true).",
                   "set map_public_ip_on_launch=False; the load balancer and NAT gateway get their own addresses."))


subnet_no_auto_public_ip = ResourceValidationPolicy(
    name="subnet-no-auto-public-ip",
    description="Subnets should not auto-assign public IP addresses.",
    validate=_subnet_no_auto_public_ip,
    enforcement_level=ADVISORY,
)


POLICIES = [
    ecs_service_no_public_ip,
    ecs_service_private_subnets_only,
    data_subnets_private_only,
    rds_not_publicly_accessible,
    elasticache_in_subnet_group,
    security_group_no_public_ingress,
    default_security_group_closed,
    subnet_no_auto_public_ip,
]
