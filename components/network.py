"""Network: an awsx VPC with public, private and (optionally) isolated subnets across pinned AZs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

from components.nat_instance import NatInstance, NatInstanceArgs
from stackconfig.network import NetworkConfig

# NAT instances: awsx creates no NAT gateway and no default route; ours point at the instances' interfaces.
NAT_STRATEGIES = {"single": awsx.ec2.NatGatewayStrategy.SINGLE, "onePerAz": awsx.ec2.NatGatewayStrategy.ONE_PER_AZ,
                  "instance": awsx.ec2.NatGatewayStrategy.NONE, "instancePerAz": awsx.ec2.NatGatewayStrategy.NONE}


@dataclass(frozen=True)
class NetworkArgs:
    settings: NetworkConfig
    log_retention_days: int
    # Where the flow log lives: its role may be assumed only on behalf of this account's flow logs.
    region: str
    account_id: pulumi.Input[str]
    # With natGateways instance/instancePerAz: the tags of what the NAT instances' group launches.
    instance_tags: Mapping[str, str] = field(default_factory=dict)


class Network(pulumi.ComponentResource):
    """The VPC everything else lives in.

    Subnets are laid out explicitly (type, name, netmask) over explicit AZ names with the `Auto`
    allocation strategy and a fixed per-AZ block, so a later change (an AZ appended to the list, the
    isolated tier turned on, awsx defaults moving) never recomputes existing CIDRs and replaces subnets
    under running services (`stackconfig.network.subnet_layout` is the layout awsx computes).

    Egress from the private subnets goes through awsx's NAT gateways or, with `instance`/`instancePerAz`,
    through our NAT instances (awsx then creates no default route: ours point at the instances' fixed
    interfaces). S3 traffic never does: a gateway endpoint on the private and isolated route tables.
    """

    vpc_id: pulumi.Output[str]
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]
    isolated_subnet_ids: pulumi.Output[list[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings

        subnet_specs = [
            awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PUBLIC, name="public", cidr_mask=settings.subnet_mask),
            awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PRIVATE, name="private", cidr_mask=settings.subnet_mask),
        ]
        if settings.isolated_subnets:
            subnet_specs.append(awsx.ec2.SubnetSpecArgs(
                type=awsx.ec2.SubnetType.ISOLATED, name="isolated", cidr_mask=settings.subnet_mask
            ))
        self.vpc = awsx.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=settings.cidr,
            availability_zone_names=list(settings.availability_zones),
            # Without the per-AZ netmask awsx divides the VPC by the number of AZs, so adding an AZ would
            # move every other AZ's subnets.
            availability_zone_cidr_mask=settings.availability_zone_cidr_mask,
            subnet_strategy=awsx.ec2.SubnetAllocationStrategy.AUTO,
            subnet_specs=subnet_specs,
            nat_gateways=awsx.ec2.NatGatewayConfigurationArgs(strategy=NAT_STRATEGIES[settings.nat_gateways]),
            enable_dns_hostnames=True,
            enable_dns_support=True,
            opts=child,
        )
        self.vpc_id = self.vpc.vpc_id
        self.public_subnet_ids = self.vpc.public_subnet_ids
        self.private_subnet_ids = self.vpc.private_subnet_ids
        self.isolated_subnet_ids = (
            self.vpc.isolated_subnet_ids if settings.isolated_subnets else self.vpc.private_subnet_ids
        )

        # Adopt the VPC's default security group and strip its rules: nothing may rely on it.
        self.default_security_group = aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg", vpc_id=self.vpc.vpc_id, ingress=[], egress=[], opts=child
        )

        if settings.flow_logs:
            self._flow_logs(name, args, child)

        zones = len(args.settings.availability_zones)
        private_route_tables = [self._route_table_of(self.vpc.private_subnet_ids, zone) for zone in range(zones)]
        isolated_route_tables = [self._route_table_of(self.vpc.isolated_subnet_ids, zone)
                                 for zone in range(zones)] if args.settings.isolated_subnets else []
        self.nat_instances: list[NatInstance] = []
        if args.settings.nat_instance is not None:
            self._nat_instances(name, args, private_route_tables)
        self.s3_endpoint = aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=self.vpc.vpc_id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=private_route_tables + isolated_route_tables,
            policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: s3_endpoint_policy(account, args.region, args.settings.s3_endpoint_buckets)),
            opts=child,
        )

        self.register_outputs({
            "vpcId": self.vpc_id,
            "publicSubnetIds": self.public_subnet_ids,
            "privateSubnetIds": self.private_subnet_ids,
            "isolatedSubnetIds": self.isolated_subnet_ids,
            "s3EndpointId": self.s3_endpoint.id,
        })

    def _route_table_of(self, subnet_ids: pulumi.Output[list[str]], zone: int) -> pulumi.Output[str]:
        """The route table awsx associated with a subnet (awsx returns subnet ids, not route table ids).

        Looked up by association (DescribeRouteTables, association.subnet-id): awsx's component outputs
        resolve only after all its children, the associations included, exist.
        """
        return aws.ec2.get_route_table_output(
            subnet_id=subnet_ids.apply(lambda ids: ids[zone]), opts=pulumi.InvokeOutputOptions(parent=self)
        ).route_table_id

    def _nat_instances(self, name: str, args: NetworkArgs, private_route_tables: list[pulumi.Output[str]]) -> None:
        settings = args.settings.nat_instance
        image_id = settings.ami or aws.ec2.get_ami_output(
            owners=[settings.ami_owner],
            filters=[aws.ec2.GetAmiFilterArgs(name="name", values=[settings.ami_name]),
                     aws.ec2.GetAmiFilterArgs(name="architecture", values=[settings.architecture])],
            include_deprecated=True,  # AWS deprecates public AMIs after two years; a pinned name must still resolve
            most_recent=True,
            opts=pulumi.InvokeOutputOptions(parent=self),
        ).id
        per_zone = args.settings.nat_gateways == "instancePerAz"
        for zone in range(len(args.settings.availability_zones) if per_zone else 1):
            self.nat_instances.append(NatInstance(f"{name}-nat-{zone + 1}", NatInstanceArgs(
                vpc_id=self.vpc.vpc_id,
                vpc_cidr=args.settings.cidr,
                subnet_id=self.vpc.public_subnet_ids.apply(lambda ids, zone=zone: ids[zone]),
                image_id=image_id,
                instance_type=settings.instance_type,
                root_volume_gb=settings.root_volume_gb,
                region=args.region,
                account_id=args.account_id,
                tags=args.instance_tags,
            ), opts=pulumi.ResourceOptions(parent=self)))
        if not settings.default_routes:
            return
        for zone, route_table_id in enumerate(private_route_tables):
            nat = self.nat_instances[zone if per_zone else 0]
            aws.ec2.Route(
                f"{name}-private-{zone + 1}-default",
                route_table_id=route_table_id,
                destination_cidr_block="0.0.0.0/0",
                network_interface_id=nat.network_interface_id,
                opts=pulumi.ResourceOptions(parent=self),
            )

    def _flow_logs(self, name: str, args: NetworkArgs, child: pulumi.ResourceOptions) -> None:
        self.flow_log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs", retention_in_days=args.log_retention_days, opts=child
        )
        # AWS's documented trust policy, with the confused-deputy conditions AWS recommends: only flow
        # logs of this account and region may use the role.
        role = aws.iam.Role(
            f"{name}-flow-logs-role",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(lambda account: json.dumps({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": account},
                        "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:{args.region}:{account}:vpc-flow-log/*"},
                    },
                }],
            })),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs-write",
            role=role.id,
            policy=self.flow_log_group.arn.apply(lambda arn: json.dumps({
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                        "Resource": [arn, f"{arn}:*"],
                    },
                    # Part of the minimum AWS documents for the flow logs role; a list call without a
                    # resource of its own (it names no log data).
                    {"Effect": "Allow", "Action": ["logs:DescribeLogGroups"], "Resource": "*"},
                ],
            })),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=self.vpc.vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.flow_log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            opts=child,
        )


def s3_endpoint_policy(account_id: str, region: str, other_buckets: Sequence[str] = ()) -> str:
    """This account's buckets, ECR's image layers (AWS's documented statement) and the named buckets only."""
    statements = [
        {"Sid": "ThisAccountsBuckets", "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceAccount": account_id}}},
        # Amazon ECR user guide, "Minimum Amazon S3 bucket permissions for Amazon ECR".
        {"Sid": "Access-to-specific-bucket-only", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"],
         "Resource": [f"arn:aws:s3:::prod-{region}-starport-layer-bucket/*"]},
    ]
    if other_buckets:
        statements.append({
            "Sid": "NamedBuckets", "Effect": "Allow", "Principal": "*", "Action": "s3:*",
            "Resource": [arn for bucket in other_buckets for arn in (f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*")],
        })
    return json.dumps({"Version": "2012-10-17", "Statement": statements})
