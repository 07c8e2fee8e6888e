"""Private subnets and no internet exposure."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

from pulumi_policy import (
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import (
    ADVISORY,
    AWSX_VPC,
    EC2_VPC,
    MANDATORY,
    CACHE_CLUSTER,
    CACHE_SUBNET_GROUP,
    DEFAULT_SECURITY_GROUP,
    ECS_SERVICE,
    LEGACY_SECURITY_GROUP_RULE,
    LOAD_BALANCERS,
    MANAGED_PREFIX_LIST,
    MANAGED_PREFIX_LIST_ENTRY,
    RDS_CLUSTER,
    RDS_CLUSTER_INSTANCE,
    RDS_INSTANCE,
    RDS_PROXY,
    RDS_SUBNET_GROUP,
    REPLICATION_GROUP,
    SECURITY_GROUP,
    SECURITY_GROUP_INGRESS_RULE,
    SUBNET,
    UNKNOWN,
    StackChecker,
    as_list,
    fix,
    is_internet_cidr,
    plain,
    present,
    subnet_tiers,
    truthy,
)
from pulumi_policy.proxy import UnknownValueError

WEB_PORTS = {80, 443}

_SUBNET_ALLOWLIST_SCHEMA = PolicyConfigSchema(properties={
    "privateSubnetIds": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "Subnet ids managed outside this stack that are known to be private.",
    },
})


# Resources that launch ECS tasks with an awsvpc network configuration somewhere in their inputs.
TASK_LAUNCHERS = (ECS_SERVICE, "aws:ecs/taskSet:TaskSet", "aws:cloudwatch/eventTarget:EventTarget",
                  "aws:scheduler/schedule:Schedule", "aws:pipes/pipe:Pipe")


def _public_ip_settings(value, path: str = ""):
    """(path, value) of every `assignPublicIp` under `value`, skipping the unknown parts around it (an unknown
    `assignPublicIp` itself raises, so the SDK notes the skipped check)."""
    if isinstance(value, Mapping):
        for key in list(value.keys()):
            try:
                item = value[key]
            except UnknownValueError:
                if key == "assignPublicIp":
                    raise
                continue
            where = f"{path}.{key}" if path else key
            if key == "assignPublicIp":
                yield where, item
            else:
                yield from _public_ip_settings(item, where)
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        for index in range(len(value)):
            try:
                item = value[index]
            except UnknownValueError:
                continue
            yield from _public_ip_settings(item, f"{path}[{index}]")


def _ecs_service_no_public_ip(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in TASK_LAUNCHERS:
        return
    for where, value in _public_ip_settings(args.props):
        # A boolean for services, task sets, event targets and schedules; "ENABLED"/"DISABLED" for pipes.
        if truthy(value) or str(value).strip().upper() == "ENABLED":
            report(fix(
                f"The tasks get public IP addresses ({where}={value}).",
                "set assign_public_ip=False (\"DISABLED\" for pipes) and run the tasks in private subnets behind "
                "the load balancer; they reach the internet through the NAT gateway.",
            ))


ecs_service_no_public_ip = ResourceValidationPolicy(
    name="ecs-service-no-public-ip",
    description="ECS services (and task sets, event targets, schedules and pipes that run tasks) must not assign "
                "public IP addresses to their tasks.",
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
    """The ports a rule opens; None means every port (protocol -1/all, a wide range, or ports it cannot read)."""
    if str(protocol).strip().lower() in ("-1", "all", "-1.0"):
        return None
    if from_port is None and to_port is None:
        return None
    try:
        low, high = int(from_port if from_port is not None else to_port), int(to_port if to_port is not None else from_port)
    except (TypeError, ValueError):
        return None
    if low < 0 or high - low > 1024:
        return None
    return set(range(low, high + 1))


def _public_prefix_lists(checker: StackChecker) -> dict[str, tuple]:
    """Managed prefix lists of the stack holding an internet-wide CIDR: urn -> (resource, cidr)."""
    lists = checker.of_type(MANAGED_PREFIX_LIST)
    found = {}
    for prefix_list in lists:
        entries = checker.attempt(prefix_list, lambda: plain(prefix_list.props.get("entries")), []) or []
        for entry in entries:
            if isinstance(entry, dict) and is_internet_cidr(entry.get("cidr")):
                found[prefix_list.urn] = (prefix_list, entry["cidr"])
    for entry in checker.of_type(MANAGED_PREFIX_LIST_ENTRY):
        cidr = checker.attempt(entry, lambda: plain(entry.props.get("cidr")))
        if is_internet_cidr(cidr):
            for prefix_list in checker.linked(entry, lists, "prefixListId"):
                found[prefix_list.urn] = (prefix_list, cidr)
    return found


def _internet_sources(checker: StackChecker, holder, read, cidr_keys, prefix_key, public_lists) -> list[str]:
    """The internet-wide sources (CIDRs, or prefix lists holding one) a rule admits; [] if none or unknown."""
    cidrs = checker.attempt(holder, lambda: [c for key in cidr_keys for c in as_list(plain(read(key)))], [])
    sources = [str(c) for c in cidrs if is_internet_cidr(c)]
    if public_lists and prefix_key:
        known = checker.attempt(holder, lambda: [str(p) for p in as_list(plain(read(prefix_key)))], None)
        candidates = [entry for entry in public_lists.values()
                      if (known is None or checker.identities(entry[0]) & set(known))
                      and checker.links(holder, entry[0], prefix_key)]
        sources += [f"prefix list {pl.name} ({cidr})" for pl, cidr in candidates]
    return sources


def _public_ingress(checker: StackChecker):
    """(rule-holding resource, owning security group or None, opened ports or None, source) for internet ingress.

    Each rule's fields are read on their own, so an unknown field elsewhere (a referenced group's id
    during a first preview) does not hide a literal 0.0.0.0/0 rule next to it.
    """
    groups = checker.of_type(SECURITY_GROUP)
    public_lists = _public_prefix_lists(checker)
    for group in groups:
        count = checker.attempt(group, lambda: len(group.props.get("ingress") or []), 0)
        for index in range(count):
            rule = checker.attempt(group, lambda: group.props["ingress"][index])
            if not isinstance(rule, Mapping):
                continue
            for source in _internet_sources(checker, group, rule.get, ("cidrBlocks", "ipv6CidrBlocks"),
                                            "prefixListIds", {}):
                ports = checker.attempt(group, lambda: _port_range(
                    plain(rule.get("fromPort")), plain(rule.get("toPort")), plain(rule.get("protocol"))), UNKNOWN)
                if ports is not UNKNOWN:
                    yield group, group, ports, source
            if public_lists:
                ids = checker.attempt(group, lambda: [str(p) for p in as_list(plain(rule.get("prefixListIds")))], [])
                for prefix_list, cidr in public_lists.values():
                    if checker.identities(prefix_list) & set(ids):
                        ports = checker.attempt(group, lambda: _port_range(
                            plain(rule.get("fromPort")), plain(rule.get("toPort")), plain(rule.get("protocol"))), UNKNOWN)
                        if ports is not UNKNOWN:
                            yield group, group, ports, f"prefix list {prefix_list.name} ({cidr})"
    for rule in checker.of_type(SECURITY_GROUP_INGRESS_RULE):
        sources = _internet_sources(checker, rule, rule.props.get, ("cidrIpv4", "cidrIpv6"), "prefixListId", public_lists)
        if sources:
            ports = checker.attempt(rule, lambda: _port_range(
                plain(rule.props.get("fromPort")), plain(rule.props.get("toPort")), plain(rule.props.get("ipProtocol"))),
                UNKNOWN)
            owner = checker.linked(rule, groups, "securityGroupId")
            for source in sources if ports is not UNKNOWN else []:
                yield rule, owner[0] if len(owner) == 1 else None, ports, source
    for rule in checker.of_type(LEGACY_SECURITY_GROUP_RULE):
        kind = checker.attempt(rule, lambda: str(plain(rule.props.get("type")) or "").lower())
        if kind != "ingress":
            continue
        sources = _internet_sources(checker, rule, rule.props.get, ("cidrBlocks", "ipv6CidrBlocks"), "prefixListIds",
                                    public_lists)
        if sources:
            ports = checker.attempt(rule, lambda: _port_range(
                plain(rule.props.get("fromPort")), plain(rule.props.get("toPort")), plain(rule.props.get("protocol"))),
                UNKNOWN)
            owner = checker.linked(rule, groups, "securityGroupId")
            for source in sources if ports is not UNKNOWN else []:
                yield rule, owner[0] if len(owner) == 1 else None, ports, source


def _security_group_no_public_ingress(args: StackValidationArgs, report: ReportViolation) -> None:
    checker = StackChecker(args, report)
    groups = checker.of_type(SECURITY_GROUP)
    load_balancer_groups: set[str] = set()
    undecided_groups: set[str] = set()  # groups of a load balancer whose `internal` flag is not known yet
    for lb in checker.of_type(LOAD_BALANCERS):
        internal = checker.attempt(lb, lambda: truthy(lb.props.get("internal")), UNKNOWN)
        urns = {group.urn for group in checker.linked(lb, groups, "securityGroups")}
        if internal is UNKNOWN:
            undecided_groups |= urns
        elif not internal:
            load_balancer_groups |= urns
    for holder, owner, ports, cidr in _public_ingress(checker):
        if ports is None or not ports <= WEB_PORTS:
            opened = "every port" if ports is None else f"ports {min(ports)}-{max(ports)}"
            checker.violation(holder, fix(
                f"Ingress from {cidr} is open on {opened}.",
                "open only 80/443 to the internet, and only on the load balancer's security group; let other "
                "groups accept traffic from a referenced security group (referenced_security_group_id).",
            ))
        elif owner is not None and owner.urn in undecided_groups - load_balancer_groups:
            continue  # decided once the load balancer's `internal` flag is known (already noted as skipped)
        elif owner is None or owner.urn not in load_balancer_groups:
            checker.violation(holder, fix(
                f"Ingress from {cidr} on port(s) {sorted(ports)} is not on an internet-facing load balancer's group.",
                "only the load balancer's security group may accept 80/443 from the internet; reference that "
                "group from the services' groups instead.",
            ))
    checker.finish()


security_group_no_public_ingress = StackValidationPolicy(
    name="security-group-no-public-ingress",
    description="No security group may accept traffic from 0.0.0.0/0 or ::/0 (or another internet-wide range, "
                "directly or through a managed prefix list), except 80/443 on an internet-facing load balancer's "
                "group (inline rules, vpc.SecurityGroupIngressRule and ec2.SecurityGroupRule alike).",
    validate=_security_group_no_public_ingress,
    enforcement_level=MANDATORY,
)


# Ports of the data stores (PostgreSQL, MySQL, Redis/Valkey, Memcached, MongoDB/DocumentDB).
DATA_PORTS = {5432, 3306, 6379, 11211, 27017}
# Data stores and the properties naming their security groups.
DATA_STORE_GROUPS = {RDS_INSTANCE: "vpcSecurityGroupIds", RDS_CLUSTER: "vpcSecurityGroupIds",
                     RDS_PROXY: "vpcSecurityGroupIds", REPLICATION_GROUP: "securityGroupIds",
                     CACHE_CLUSTER: "securityGroupIds"}
AWSX_DEFAULT_VPC_CIDR = "10.0.0.0/16"


def _vpc_networks(checker: StackChecker):
    """The CIDR blocks of the stack's VPCs; None when one is not known yet."""
    networks = []
    for vpc in checker.of_type(AWSX_VPC, EC2_VPC):
        cidr = checker.attempt(vpc, lambda: plain(vpc.props.get("cidrBlock")), UNKNOWN)
        if cidr is UNKNOWN:
            return None
        networks.append(ipaddress.ip_network(cidr or AWSX_DEFAULT_VPC_CIDR, strict=False))
    return networks


def _cidr_ingress(checker: StackChecker):
    """(rule holder, owning group or None, cidr, ports or None) of every CIDR-sourced ingress rule."""
    groups = checker.of_type(SECURITY_GROUP)
    for group in groups:
        for rule in checker.attempt(group, lambda: plain(group.props.get("ingress")) or [], []):
            ports = _port_range(rule.get("fromPort"), rule.get("toPort"), rule.get("protocol"))
            for cidr in as_list(rule.get("cidrBlocks")) + as_list(rule.get("ipv6CidrBlocks")):
                yield group, group, str(cidr), ports
    for type_, keys, protocol in ((SECURITY_GROUP_INGRESS_RULE, ("cidrIpv4", "cidrIpv6"), "ipProtocol"),
                                  (LEGACY_SECURITY_GROUP_RULE, ("cidrBlocks", "ipv6CidrBlocks"), "protocol")):
        for rule in checker.of_type(type_):
            props = checker.attempt(rule, lambda: {k: plain(rule.props.get(k)) for k in (
                *keys, "fromPort", "toPort", protocol, "type")})
            if not props or (type_ == LEGACY_SECURITY_GROUP_RULE and str(props.get("type")).lower() != "ingress"):
                continue
            owner = checker.linked(rule, groups, "securityGroupId")
            ports = _port_range(props.get("fromPort"), props.get("toPort"), props.get(protocol))
            for cidr in [c for key in keys for c in as_list(props.get(key))]:
                yield rule, owner[0] if len(owner) == 1 else None, str(cidr), ports


def _data_ports_within_vpc(args: StackValidationArgs, report: ReportViolation) -> None:
    checker = StackChecker(args, report)
    networks = _vpc_networks(checker)
    groups = checker.of_type(SECURITY_GROUP)
    data_groups = {group.urn for store in checker.of_type(*DATA_STORE_GROUPS)
                   for group in checker.linked(store, groups, DATA_STORE_GROUPS[store.resource_type])}
    for holder, owner, cidr, ports in _cidr_ingress(checker) if networks else []:
        try:
            source = ipaddress.ip_network(cidr.strip(), strict=False)
        except ValueError:
            continue
        if is_internet_cidr(cidr) or any(source.version == n.version and source.subnet_of(n) for n in networks):
            continue  # the internet is security-group-no-public-ingress' to report; inside the VPC is fine
        data = (owner is not None and owner.urn in data_groups) or ports is None or bool(ports & DATA_PORTS)
        if data:
            opened = "every port" if ports is None else f"port(s) {sorted(ports & DATA_PORTS) or sorted(ports)}"
            checker.violation(holder, fix(
                f"A data-store rule admits {cidr} on {opened}, wider than the VPC "
                f"({', '.join(str(n) for n in networks)}).",
                "admit the clients' security group instead (referenced_security_group_id / "
                "source_security_group_id), or a CIDR inside the VPC."))
    checker.finish()


data_ports_within_vpc = StackValidationPolicy(
    name="data-ports-within-vpc",
    description="Data-store ports (PostgreSQL, MySQL, Redis, Memcached, MongoDB) and data stores' security groups must "
                "not admit a CIDR wider than the stack's VPC (such as 10.0.0.0/8); reference security groups instead.",
    validate=_data_ports_within_vpc,
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


NETWORK_INTERFACE = "aws:ec2/networkInterface:NetworkInterface"
EC2_INSTANCE = "aws:ec2/instance:Instance"
ROUTE = "aws:ec2/route:Route"
_NAT_GATEWAYS_FIX = ("keep managed NAT gateways in this stack (webstack: network.natGateways onePerAz; in code an awsx "
                     "VPC with NatGatewayStrategy.ONE_PER_AZ): no instance to patch, no burst limits, no egress gap "
                     "while a replacement boots. NAT instances are for dev and cost-optimised stacks (docs/network.md).")


def _is_false(value) -> bool:
    return value is False or str(value).strip().lower() == "false"


def _egress_through_nat_gateways(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type in (NETWORK_INTERFACE, EC2_INSTANCE) and _is_false(args.props.get("sourceDestCheck")):
        report(fix("Source/destination check is off: this forwards other hosts' traffic (a NAT instance).",
                   _NAT_GATEWAYS_FIX))
    elif args.resource_type == ROUTE and is_internet_cidr(args.props.get("destinationCidrBlock")):
        targets = [key for key in ("networkInterfaceId", "instanceId") if present(args.props, key)]
        if targets:
            report(fix(f"The route to {args.props.get('destinationCidrBlock')} goes to an EC2 {targets[0]} "
                       f"(a NAT instance), not a NAT gateway.", _NAT_GATEWAYS_FIX))


egress_through_nat_gateways = ResourceValidationPolicy(
    name="egress-through-nat-gateways",
    description="Private subnets must reach the internet through managed NAT gateways, not NAT instances (no "
                "network interface or instance with source/destination check off, no internet route to one).",
    validate=_egress_through_nat_gateways,
    enforcement_level=MANDATORY,
)


POLICIES = [
    ecs_service_no_public_ip,
    ecs_service_private_subnets_only,
    data_subnets_private_only,
    rds_not_publicly_accessible,
    elasticache_in_subnet_group,
    security_group_no_public_ingress,
    data_ports_within_vpc,
    default_security_group_closed,
    subnet_no_auto_public_ip,
    egress_through_nat_gateways,
]
