"""Egress: NAT instances (fck-nat behind a fixed interface) and the S3 gateway endpoint, config to resources."""

from __future__ import annotations

import base64
import json

import pulumi
import pytest

from components.network import Network, s3_endpoint_policy
from preflight.capture import ProgramRun, run_in_mocks
from preflight.fake_cloud import ACCOUNT_ID, FakeCloud
from stackconfig import validate_stack_config
from stackconfig.network import NatInstanceConfig
from tests.test_components import network_args
from tests.test_config import problems, with_change

FCK_NAT_NAME = "fck-nat-al2023-hvm-1.4.0-20260126-arm64-ebs"
NAT_INSTANCE = NatInstanceConfig.model_validate({"amiName": FCK_NAT_NAME})
TAGS = {"Project": "webstack", "Environment": "dev", "Owner": "platform-team"}


def network_run(preview: bool = False, **changes) -> ProgramRun:
    changes.setdefault("nat_gateways", "instance")
    if changes["nat_gateways"].startswith("instance"):
        changes.setdefault("nat_instance", NAT_INSTANCE)
    return run_in_mocks(lambda: Network("net", network_args(instance_tags=TAGS, **changes)), preview=preview)


def route_table_of(subnet_id: str) -> str:
    """The route table the fake cloud's DescribeRouteTables answers for a subnet (as AWS does for awsx's)."""
    return FakeCloud().call(pulumi.runtime.MockCallArgs(
        "aws:ec2/getRouteTable:getRouteTable", {"subnetId": subnet_id}, None))["routeTableId"]


def vpc_outputs(run: ProgramRun) -> dict:
    return run.one("awsx:ec2:Vpc").outputs


def policy_statements(run: ProgramRun, name: str) -> dict:
    policy = json.loads(run.by_name(name).inputs["policy"])
    return {statement["Sid"]: statement for statement in policy["Statement"]}


# --- config -----------------------------------------------------------------------------------------

def nat_config(mode: str = "instance", **network) -> dict:
    values = with_change("network.natGateways", mode)
    values["network"].pop("natInstance", None)  # dev's own
    values["network"].update(network)
    return values


@pytest.mark.parametrize("mode,settings", [
    ("instance", {"amiName": FCK_NAT_NAME}),
    ("instancePerAz", {"ami": "ami-0123456789abcdef0", "instanceType": "t3.micro"}),
    ("instance", {"ami": "ami-01234567", "instanceType": "t4g.small", "rootVolumeGb": 8, "defaultRoutes": False}),
])
def test_nat_instance_settings_are_accepted(mode, settings):
    network = validate_stack_config(nat_config(mode, natInstance=settings)).network
    assert network.nat_gateways == mode
    assert network.nat_instance.instance_type == settings.get("instanceType", "t4g.nano")
    assert network.nat_instance.ami_owner == "568608671756"


@pytest.mark.parametrize("network,message", [
    ({}, "webstack:network.natInstance: network.natGateways 'instance' needs network.natInstance with ami (an AMI "
         "id) or amiName (an fck-nat image name); see docs/network.md"),
    ({"natInstance": {}}, "webstack:network.natInstance: set exactly one of network.natInstance.ami (an AMI id) "
                          "and network.natInstance.amiName (an image name resolved per region); neither is set"),
    ({"natInstance": {"ami": "ami-0123456789abcdef0", "amiName": FCK_NAT_NAME}},
     f'webstack:network.natInstance.amiName = "{FCK_NAT_NAME}": set exactly one of network.natInstance.ami (an AMI '
     "id) and network.natInstance.amiName (an image name resolved per region); network.natInstance.ami is set too"),
    ({"natInstance": {"ami": "ami-123"}},
     'webstack:network.natInstance.ami = "ami-123": not an AMI id (ami- and 8 or 17 hex digits); look it up with '
     'aws ec2 describe-images (docs/network.md)'),
    ({"natInstance": {"amiName": FCK_NAT_NAME, "instanceType": "t3.nano"}},
     f'webstack:network.natInstance.amiName = "{FCK_NAT_NAME}": an arm64 image but network.natInstance.instanceType '
     "t3.nano is x86_64: the Auto Scaling group could never launch it (use t4g.* with arm64 images, t3.* with "
     "x86_64)"),
    ({"natInstance": {"amiName": FCK_NAT_NAME, "instanceType": "nano"}},
     'webstack:network.natInstance.instanceType = "nano": not an EC2 instance type (family.size, e.g. t4g.nano)'),
    ({"natInstance": {"amiName": FCK_NAT_NAME, "amiOwner": "fck-nat"}},
     'webstack:network.natInstance.amiOwner = "fck-nat": must be the 12-digit id of the account publishing the '
     "image (fck-nat's is 568608671756); a name alone would match any look-alike public image"),
    ({"natInstance": {"amiName": FCK_NAT_NAME, "rootVolumeGb": 1}},
     "webstack:network.natInstance.rootVolumeGb = 1: Input should be greater than or equal to 2"),
])
def test_nat_instance_mistakes_are_refused(network, message):
    assert problems(nat_config(**network)) == [message]


def test_nat_instance_settings_without_nat_instances_are_refused():
    assert problems(nat_config("single", natInstance={"amiName": FCK_NAT_NAME})) == [
        "webstack:network.natInstance: only used with network.natGateways instance or instancePerAz, not "
        "'single'; remove it (or set natGateways: instance)"]


def test_s3_endpoint_buckets_must_be_bucket_names():
    accepted = validate_stack_config(with_change("network.s3EndpointBuckets", ["partner-exports.eu", "abc"]))
    assert accepted.network.s3_endpoint_buckets == ["partner-exports.eu", "abc"]
    assert problems(with_change("network.s3EndpointBuckets", ["Partner_Exports"])) == [
        'webstack:network.s3EndpointBuckets = ["Partner_Exports"]: \'Partner_Exports\' is not an S3 bucket name '
        "(3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit)"]


# --- the NAT instance's wiring ----------------------------------------------------------------------

def test_vpc_has_no_nat_gateway_strategy_with_nat_instances():
    run = network_run()
    assert run.one("awsx:ec2:Vpc").inputs["natGateways"] == {"strategy": "None"}
    assert run.of_type("aws:ec2/natGateway:NatGateway") == []


def test_nat_instance_is_an_auto_scaling_group_of_one_in_the_first_public_subnet():
    run = network_run()
    public = vpc_outputs(run)["publicSubnetIds"]
    [group] = run.of_type("aws:autoscaling/group:Group")
    template = run.one("aws:ec2/launchTemplate:LaunchTemplate")
    assert (group.inputs["minSize"], group.inputs["maxSize"], group.inputs["desiredCapacity"]) == (1, 1, 1)
    assert group.inputs["vpcZoneIdentifiers"] == [public[0]]
    assert group.inputs["healthCheckType"] == "EC2"
    assert group.inputs["launchTemplate"] == {"id": template.id, "version": "1"}
    # A new template version (AMI, size) replaces the instance: terminate first, the ENI attaches to one only.
    assert group.inputs["instanceRefresh"] == {
        "strategy": "Rolling", "preferences": {"minHealthyPercentage": 0, "maxHealthyPercentage": 100}}
    policy = run.by_name("net-nat-1-interface")
    assert {policy.urn, run.by_name("net-nat-1-ssm").urn} <= set(group.dependencies)


def test_launch_template_requires_imdsv2_encrypts_the_root_volume_and_has_no_key_pair():
    run = network_run()
    template = run.one("aws:ec2/launchTemplate:LaunchTemplate").inputs
    assert template["instanceType"] == "t4g.nano"
    assert template["metadataOptions"] == {"httpEndpoint": "enabled", "httpTokens": "required",
                                           "httpPutResponseHopLimit": 1}
    assert template["blockDeviceMappings"] == [{"deviceName": "/dev/xvda", "ebs": {
        "volumeType": "gp3", "volumeSize": 4, "encrypted": "true", "deleteOnTermination": "true"}}]
    assert "keyName" not in template
    sg = run.by_name("net-nat-1-sg")
    assert template["networkInterfaces"] == [{"deviceIndex": 0, "associatePublicIpAddress": "true",
                                              "deleteOnTermination": "true", "securityGroups": [sg.id]}]
    profile = run.one("aws:iam/instanceProfile:InstanceProfile")
    assert template["iamInstanceProfile"] == {"arn": profile.outputs["arn"]}
    assert {spec["resourceType"] for spec in template["tagSpecifications"]} == {"instance", "volume", "network-interface"}
    assert all(spec["tags"] == {**TAGS, "Name": "net-nat-1"} for spec in template["tagSpecifications"])


def test_the_ami_is_looked_up_by_its_pinned_name_and_owner_or_taken_as_given():
    by_name = network_run().one("aws:ec2/launchTemplate:LaunchTemplate").inputs["imageId"]
    assert by_name.startswith("ami-")
    given = NatInstanceConfig.model_validate({"ami": "ami-0123456789abcdef0"})
    assert network_run(nat_instance=given).one("aws:ec2/launchTemplate:LaunchTemplate").inputs["imageId"] \
        == "ami-0123456789abcdef0"


def test_user_data_hands_fck_nat_the_fixed_interface():
    run = network_run()
    eni = run.one("aws:ec2/networkInterface:NetworkInterface")
    script = base64.b64decode(run.one("aws:ec2/launchTemplate:LaunchTemplate").inputs["userData"]).decode()
    assert script == f'#!/bin/bash\necho "eni_id={eni.id}" > /etc/fck-nat.conf\nservice fck-nat restart\n'


def test_fixed_interface_forwards_traffic_in_the_public_subnet():
    run = network_run()
    eni = run.one("aws:ec2/networkInterface:NetworkInterface").inputs
    assert eni["sourceDestCheck"] is False
    assert eni["subnetId"] == vpc_outputs(run)["publicSubnetIds"][0]
    assert eni["securityGroups"] == [run.by_name("net-nat-1-sg").id]


def test_security_group_admits_only_the_vpc():
    sg = network_run().by_name("net-nat-1-sg").inputs
    assert sg["ingress"] == [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["10.0.0.0/16"],
                              "description": "the VPC only"}]
    assert sg["egress"] == [{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"],
                             "description": "the internet"}]


def test_instance_role_is_ssm_plus_the_interface_calls_fck_nat_makes_scoped_to_this_nat():
    run = network_run()
    trust = json.loads(run.by_name("net-nat-1-role").inputs["assumeRolePolicy"])
    assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                   "Action": "sts:AssumeRole"}]
    assert run.by_name("net-nat-1-ssm").inputs["policyArn"] == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    eni = run.one("aws:ec2/networkInterface:NetworkInterface")
    profile = run.one("aws:iam/instanceProfile:InstanceProfile").outputs
    statements = policy_statements(run, "net-nat-1-interface")
    assert statements == {
        "AttachTheNatInterface": {"Sid": "AttachTheNatInterface", "Effect": "Allow",
                                  "Action": "ec2:AttachNetworkInterface", "Resource": eni.outputs["arn"]},
        "ToTheNatInstanceOnly": {"Sid": "ToTheNatInstanceOnly", "Effect": "Allow",
                                 "Action": "ec2:AttachNetworkInterface",
                                 "Resource": f"arn:aws:ec2:eu-west-1:{ACCOUNT_ID}:instance/*",
                                 "Condition": {"ArnEquals": {"ec2:InstanceProfile": profile["arn"]}}},
        "SourceDestCheckOfItsOwnInterface": {
            "Sid": "SourceDestCheckOfItsOwnInterface", "Effect": "Allow",
            "Action": "ec2:ModifyNetworkInterfaceAttribute",
            "Resource": f"arn:aws:ec2:eu-west-1:{ACCOUNT_ID}:network-interface/*",
            "Condition": {"StringEquals": {"aws:ResourceTag/Name": "net-nat-1"}}},
    }
    assert eni.outputs["arn"] == f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:network-interface/{eni.id}"


def test_every_private_route_table_sends_0_0_0_0_to_the_interface():
    run = network_run()
    eni = run.one("aws:ec2/networkInterface:NetworkInterface").id
    routes = sorted(run.of_type("aws:ec2/route:Route"), key=lambda r: r.name)
    private = vpc_outputs(run)["privateSubnetIds"]
    assert [(r.name, r.inputs) for r in routes] == [
        (f"net-private-{zone + 1}-default", {"routeTableId": route_table_of(subnet),
                                             "destinationCidrBlock": "0.0.0.0/0", "networkInterfaceId": eni})
        for zone, subnet in enumerate(private)]


def test_instance_per_az_puts_one_nat_in_each_public_subnet_and_routes_each_zone_to_its_own():
    run = network_run(nat_gateways="instancePerAz")
    outputs = vpc_outputs(run)
    groups = sorted(run.of_type("aws:autoscaling/group:Group"), key=lambda g: g.name)
    assert [g.inputs["vpcZoneIdentifiers"] for g in groups] == [[subnet] for subnet in outputs["publicSubnetIds"]]
    interfaces = {r.name: r.id for r in run.of_type("aws:ec2/networkInterface:NetworkInterface")}
    routes = {r.name: r.inputs for r in run.of_type("aws:ec2/route:Route")}
    for zone, subnet in enumerate(outputs["privateSubnetIds"], start=1):
        assert routes[f"net-private-{zone}-default"]["networkInterfaceId"] == interfaces[f"net-nat-{zone}-eni"]
        assert routes[f"net-private-{zone}-default"]["routeTableId"] == route_table_of(subnet)


def test_nat_instance_children_are_parented_to_it_and_it_to_the_network():
    run = network_run()
    network, nat = run.one("webstack:network:Network"), run.one("webstack:network:NatInstance")
    assert nat.parent == network.urn
    for resource in run.resources:
        if resource.name.startswith("net-nat-1-"):
            assert resource.parent == nat.urn, resource.name
        elif resource.custom:
            assert resource.parent == network.urn, resource.name


def test_without_default_routes_the_instance_stays_and_no_route_is_declared():
    run = network_run(nat_instance=NatInstanceConfig.model_validate({"amiName": FCK_NAT_NAME, "defaultRoutes": False}))
    assert run.of_type("aws:ec2/route:Route") == []
    assert len(run.of_type("aws:autoscaling/group:Group")) == 1


def test_nat_gateways_declare_no_instance_and_no_route_of_ours():
    run = network_run(nat_gateways="single")
    assert run.one("awsx:ec2:Vpc").inputs["natGateways"] == {"strategy": "Single"}
    for type_ in ("webstack:network:NatInstance", "aws:ec2/route:Route", "aws:autoscaling/group:Group"):
        assert run.of_type(type_) == []


def test_first_preview_declares_the_same_resources_with_unknown_ids():
    known, preview = network_run(), network_run(preview=True)
    assert sorted(r.name for r in preview.resources) == sorted(r.name for r in known.resources)
    route = preview.by_name("net-private-1-default").inputs
    assert route["destinationCidrBlock"] == "0.0.0.0/0"


# --- the S3 gateway endpoint ------------------------------------------------------------------------

@pytest.mark.parametrize("nat_gateways", ["single", "instance"])
def test_s3_gateway_endpoint_is_on_the_private_and_isolated_route_tables(nat_gateways):
    run = network_run(nat_gateways=nat_gateways)
    endpoint = run.one("aws:ec2/vpcEndpoint:VpcEndpoint").inputs
    outputs = vpc_outputs(run)
    assert endpoint["vpcEndpointType"] == "Gateway"
    assert endpoint["serviceName"] == "com.amazonaws.eu-west-1.s3"
    assert endpoint["vpcId"] == outputs["vpcId"]
    assert endpoint["routeTableIds"] == [route_table_of(subnet)
                                         for subnet in outputs["privateSubnetIds"] + outputs["isolatedSubnetIds"]]
    assert len(set(endpoint["routeTableIds"])) == 4


def test_s3_gateway_endpoint_without_the_isolated_tier_is_on_the_private_route_tables():
    run = network_run(isolated_subnets=False)
    outputs = vpc_outputs(run)
    assert run.one("aws:ec2/vpcEndpoint:VpcEndpoint").inputs["routeTableIds"] == [
        route_table_of(subnet) for subnet in outputs["privateSubnetIds"]]


def test_s3_endpoint_policy_admits_this_accounts_buckets_and_ecr_layers_only():
    statements = policy_statements(network_run(), "net-s3")
    assert statements == {
        "ThisAccountsBuckets": {"Sid": "ThisAccountsBuckets", "Effect": "Allow", "Principal": "*", "Action": "s3:*",
                                "Resource": "*", "Condition": {"StringEquals": {"aws:ResourceAccount": ACCOUNT_ID}}},
        # As AWS's ECR user guide gives it ("Minimum Amazon S3 bucket permissions for Amazon ECR").
        "Access-to-specific-bucket-only": {
            "Sid": "Access-to-specific-bucket-only", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"],
            "Resource": ["arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/*"]},
    }


def test_s3_endpoint_policy_names_other_buckets_when_configured():
    statements = policy_statements(network_run(s3_endpoint_buckets=("partner-exports",)), "net-s3")
    assert statements["NamedBuckets"] == {
        "Sid": "NamedBuckets", "Effect": "Allow", "Principal": "*", "Action": "s3:*",
        "Resource": ["arn:aws:s3:::partner-exports", "arn:aws:s3:::partner-exports/*"]}
    assert json.loads(s3_endpoint_policy(ACCOUNT_ID, "us-east-1"))["Version"] == "2012-10-17"


# --- acceptance (issue 17): the committed stacks ----------------------------------------------------

@pytest.mark.parametrize("stack", ["dev", "lean"])
def test_dev_and_lean_egress_through_one_nat_instance(stack, request):
    run = request.getfixturevalue(f"{stack}_run")
    vpc = run.one("awsx:ec2:Vpc")
    assert vpc.inputs["natGateways"] == {"strategy": "None"}
    [group] = run.of_type("aws:autoscaling/group:Group")
    assert (group.inputs["minSize"], group.inputs["maxSize"]) == (1, 1)
    template = run.one("aws:ec2/launchTemplate:LaunchTemplate")
    assert group.inputs["launchTemplate"]["id"] == template.id
    assert template.inputs["metadataOptions"]["httpTokens"] == "required"
    assert template.inputs["instanceType"] == "t4g.nano"
    eni = run.one("aws:ec2/networkInterface:NetworkInterface")
    assert eni.inputs["sourceDestCheck"] is False
    private = [route_table_of(subnet) for subnet in vpc.outputs["privateSubnetIds"]]
    routes = run.of_type("aws:ec2/route:Route")
    assert sorted((r.inputs["routeTableId"], r.inputs["destinationCidrBlock"], r.inputs["networkInterfaceId"])
                  for r in routes) == sorted((table, "0.0.0.0/0", eni.id) for table in private)
    endpoint = run.one("aws:ec2/vpcEndpoint:VpcEndpoint").inputs
    assert (endpoint["vpcEndpointType"], endpoint["serviceName"]) == ("Gateway", "com.amazonaws.us-east-1.s3")
    isolated = [route_table_of(subnet) for subnet in vpc.outputs["isolatedSubnetIds"]]
    assert endpoint["routeTableIds"] == private + isolated


def test_prod_keeps_a_nat_gateway_per_az_and_gets_the_s3_endpoint_too(prod_run):
    vpc = prod_run.one("awsx:ec2:Vpc")
    assert vpc.inputs["natGateways"] == {"strategy": "OnePerAz"} and len(vpc.inputs["availabilityZoneNames"]) == 3
    for type_ in ("webstack:network:NatInstance", "aws:autoscaling/group:Group", "aws:ec2/route:Route"):
        assert prod_run.of_type(type_) == []
    endpoint = prod_run.one("aws:ec2/vpcEndpoint:VpcEndpoint").inputs
    assert endpoint["routeTableIds"] == [route_table_of(subnet) for subnet in
                                         vpc.outputs["privateSubnetIds"] + vpc.outputs["isolatedSubnetIds"]]


def test_lean_preflight_is_clean_and_costs_at_most_75_a_month(capsys):
    from preflight.__main__ import main as preflight_main
    assert preflight_main(["lean", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["cost"]["monthly_min_usd"] <= 75
    # the always-free CloudWatch allowance it claims is its own line, labelled, never silent
    [free] = [line for line in report["cost"]["lines"] if line["resource"] == "cloudwatch-always-free"]
    assert free["monthly_usd"] == -4.0 and free["type"] == "aws:cloudwatch (always-free allowance)"
