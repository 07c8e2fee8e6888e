"""Network: an awsx VPC with public, private and (optionally) isolated subnets across pinned AZs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

from stackconfig.network import NetworkConfig

NAT_STRATEGIES = {"single": awsx.ec2.NatGatewayStrategy.SINGLE, "onePerAz": awsx.ec2.NatGatewayStrategy.ONE_PER_AZ}


@dataclass(frozen=True)
class NetworkArgs:
    settings: NetworkConfig
    log_retention_days: int
    # Where the flow log lives: its role may be assumed only on behalf of this account's flow logs.
    region: str
    account_id: pulumi.Input[str]


class Network(pulumi.ComponentResource):
    """The VPC everything else lives in.

    Subnets are laid out explicitly (type, name, netmask) over explicit AZ names with the `Auto`
    allocation strategy and a fixed per-AZ block, so a later change (an AZ appended to the list, the
    isolated tier turned on, awsx defaults moving) never recomputes existing CIDRs and replaces subnets
    under running services (`stackconfig.network.subnet_layout` is the layout awsx computes).
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

        self.register_outputs({
            "vpcId": self.vpc_id,
            "publicSubnetIds": self.public_subnet_ids,
            "privateSubnetIds": self.private_subnet_ids,
            "isolatedSubnetIds": self.isolated_subnet_ids,
        })

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
