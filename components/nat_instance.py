"""NatInstance: one self-healing NAT instance (the fck-nat AMI) behind a fixed network interface."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Mapping, Optional

import pulumi
import pulumi_aws as aws

# AMI device name of the Amazon Linux 2023 root volume the fck-nat images are built on.
ROOT_DEVICE = "/dev/xvda"
SSM_MANAGED_INSTANCE_POLICY = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"


def fck_nat_user_data(network_interface_id: str) -> str:
    """fck-nat's high-availability setup: attach the fixed interface at boot (fck-nat docs, "Configuration")."""
    script = (
        "#!/bin/bash\n"
        f'echo "eni_id={network_interface_id}" > /etc/fck-nat.conf\n'
        "service fck-nat restart\n"
    )
    return base64.b64encode(script.encode()).decode()


@dataclass(frozen=True)
class NatInstanceArgs:
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    # A public subnet: the instance reaches the internet through the internet gateway.
    subnet_id: pulumi.Input[str]
    image_id: pulumi.Input[str]
    instance_type: str
    root_volume_gb: int
    region: str
    account_id: pulumi.Input[str]
    # Cost-allocation tags for what the launch template creates (provider default tags never reach instances
    # an Auto Scaling group launches).
    tags: Mapping[str, str] = field(default_factory=dict)


class NatInstance(pulumi.ComponentResource):
    """A NAT instance that replaces itself: an Auto Scaling group of one whose instance attaches a fixed ENI.

    Routes point at the fixed network interface (`network_interface_id`), never at an instance, so a
    replacement (failed status check, AMI or size change through an instance refresh) needs no route change:
    the new instance attaches the interface at boot. No key pair and no SSH: SSM Session Manager only.
    """

    network_interface_id: pulumi.Output[str]
    security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: NatInstanceArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("webstack:network:NatInstance", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        named = {**args.tags, "Name": name}

        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            description="NAT instance: forwards traffic from the VPC to the internet",
            vpc_id=args.vpc_id,
            ingress=[aws.ec2.SecurityGroupIngressArgs(
                protocol="-1", from_port=0, to_port=0, cidr_blocks=[args.vpc_cidr], description="the VPC only",
            )],
            egress=[aws.ec2.SecurityGroupEgressArgs(
                protocol="-1", from_port=0, to_port=0, cidr_blocks=["0.0.0.0/0"], description="the internet",
            )],
            opts=child,
        )
        # The address the private route tables point at; it forwards traffic that is not its own.
        self.network_interface = aws.ec2.NetworkInterface(
            f"{name}-eni",
            subnet_id=args.subnet_id,
            security_groups=[self.security_group.id],
            source_dest_check=False,
            description=f"{name}: target of the private subnets' default route",
            tags={"Name": name},
            opts=child,
        )

        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                               "Action": "sts:AssumeRole"}],
            }),
            opts=child,
        )
        ssm = aws.iam.RolePolicyAttachment(
            f"{name}-ssm", role=role.name, policy_arn=SSM_MANAGED_INSTANCE_POLICY, opts=child
        )
        self.instance_profile = aws.iam.InstanceProfile(f"{name}-profile", role=role.name, opts=child)
        interface_policy = aws.iam.RolePolicy(
            f"{name}-interface",
            role=role.id,
            policy=pulumi.Output.all(
                self.network_interface.arn, self.instance_profile.arn, pulumi.Output.from_input(args.account_id)
            ).apply(lambda values: self._interface_policy(name, args.region, *values)),
            opts=child,
        )

        self.launch_template = aws.ec2.LaunchTemplate(
            f"{name}-lt",
            image_id=args.image_id,
            instance_type=args.instance_type,
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=self.instance_profile.arn),
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1,
            ),
            block_device_mappings=[aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name=ROOT_DEVICE,
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_type="gp3", volume_size=args.root_volume_gb, encrypted="true",
                    delete_on_termination="true",
                ),
            )],
            # The instance's own interface, in the public subnet with a public IPv4 of its own.
            network_interfaces=[aws.ec2.LaunchTemplateNetworkInterfaceArgs(
                device_index=0, associate_public_ip_address="true", delete_on_termination="true",
                security_groups=[self.security_group.id],
            )],
            user_data=self.network_interface.id.apply(fck_nat_user_data),
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=named)
                for kind in ("instance", "volume", "network-interface")
            ],
            update_default_version=True,
            opts=child,
        )
        # A new launch template version (AMI, size, user data) rolls the instance: terminate, then launch,
        # because the fixed interface can only be attached to one instance at a time.
        self.group = aws.autoscaling.Group(
            f"{name}-asg",
            min_size=1,
            max_size=1,
            desired_capacity=1,
            vpc_zone_identifiers=[args.subnet_id],
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(
                id=self.launch_template.id, version=self.launch_template.latest_version.apply(str),
            ),
            health_check_type="EC2",
            health_check_grace_period=120,
            instance_refresh=aws.autoscaling.GroupInstanceRefreshArgs(
                strategy="Rolling",
                preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
                    min_healthy_percentage=0, max_healthy_percentage=100,
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[ssm, interface_policy]),
        )

        self.network_interface_id = self.network_interface.id
        self.security_group_id = self.security_group.id
        self.register_outputs({
            "networkInterfaceId": self.network_interface_id,
            "securityGroupId": self.security_group_id,
            "autoScalingGroupName": self.group.name,
        })

    @staticmethod
    def _interface_policy(name: str, region: str, interface_arn: str, profile_arn: str, account: str) -> str:
        """What fck-nat calls at boot: attach the fixed interface, turn off its own interface's source/dest check.

        Attaching is allowed for that one interface and only to instances running with this instance profile;
        the attribute change only on interfaces this launch template tagged with the NAT's name.
        """
        return json.dumps({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "AttachTheNatInterface", "Effect": "Allow", "Action": "ec2:AttachNetworkInterface",
                 "Resource": interface_arn},
                {"Sid": "ToTheNatInstanceOnly", "Effect": "Allow", "Action": "ec2:AttachNetworkInterface",
                 "Resource": f"arn:aws:ec2:{region}:{account}:instance/*",
                 "Condition": {"ArnEquals": {"ec2:InstanceProfile": profile_arn}}},
                {"Sid": "SourceDestCheckOfItsOwnInterface", "Effect": "Allow",
                 "Action": "ec2:ModifyNetworkInterfaceAttribute",
                 "Resource": f"arn:aws:ec2:{region}:{account}:network-interface/*",
                 "Condition": {"StringEquals": {"aws:ResourceTag/Name": name}}},
            ],
        })
