"""NAT instances and the S3 gateway endpoint in the estimate, against figures computed by hand (730 h)."""

from __future__ import annotations

import pytest

from cost import Record, UsageAssumptions, estimate, load_prices
from tests.cost.test_estimator import STACK, component_urn, only_line, rec, service_records

NAT = component_urn("webstack:network:NatInstance", "network-nat-1")
GROUP = "aws:autoscaling/group:Group"
INTERFACE = "aws:ec2/networkInterface:NetworkInterface"


def nat_records(instance_type="t4g.nano", volume_gb=4, public_ip="true", minimum=1, maximum=1):
    ebs = {"volumeType": "gp3", "encrypted": "true", **({"volumeSize": volume_gb} if volume_gb else {})}
    return [
        Record("webstack:network:NatInstance", NAT, "network-nat-1", {}, STACK),
        rec("aws:ec2/launchTemplate:LaunchTemplate", "network-nat-1-lt", {
            "instanceType": instance_type, "imageId": "ami-0123456789abcdef0",
            "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": ebs}],
            "networkInterfaces": [{"deviceIndex": 0, "associatePublicIpAddress": public_ip}]}, NAT),
        rec(GROUP, "network-nat-1-asg", {"minSize": minimum, "maxSize": maximum, "desiredCapacity": minimum}, NAT),
        rec(INTERFACE, "network-nat-1-eni", {"subnetId": "subnet-1", "sourceDestCheck": False}, NAT),
        rec("aws:ec2/route:Route", "network-private-1-default",
            {"destinationCidrBlock": "0.0.0.0/0", "networkInterfaceId": "eni-1", "routeTableId": "rtb-1"}),
        rec("awsx:ec2:Vpc", "network-vpc", {"natGateways": {"strategy": "None"}, "availabilityZoneNames": ["a1", "b1"]}),
    ]


S3_ENDPOINT = rec("aws:ec2/vpcEndpoint:VpcEndpoint", "network-s3",
                  {"vpcEndpointType": "Gateway", "serviceName": "com.amazonaws.us-east-1.s3"})


def test_price_file_has_ec2_hours_and_ebs_gp3():
    book = load_prices()
    assert book.ec2_instance_hour("t4g.nano") == 0.0042 and book.ec2_instance_hour("t3.micro") == 0.0104
    assert book.ec2_instance_hour("c7gn.16xlarge") is None
    assert book.rate("ebs.gp3.gbMonth") == 0.08


def test_nat_instance_hours_volume_and_public_ipv4():
    result = estimate(nat_records())
    hours = only_line(result, GROUP, "EC2")
    assert hours.item == "EC2 t4g.nano x 1 (on-demand)"
    assert hours.monthly_usd_min == hours.monthly_usd_max == pytest.approx(0.0042 * 730)  # 3.066
    assert "surplus CPU credits not priced" in hours.basis
    assert only_line(result, GROUP, "EBS").monthly_usd_min == pytest.approx(4 * 0.08)  # 0.32
    assert only_line(result, GROUP, "IPv4").monthly_usd_min == pytest.approx(0.005 * 730)  # 3.65
    assert hours.component == "webstack:network:NatInstance network-nat-1"
    # awsx with strategy None declares no NAT gateway, so none is priced; the template and route are free
    assert not [line for line in result.lines if "NAT gateway" in line.item]
    assert result.unpriced == []


def test_nat_instance_data_is_a_zero_line_that_states_its_egress_assumption():
    result = estimate([*nat_records(), *service_records(minimum=2, maximum=10), S3_ENDPOINT])
    line = only_line(result, INTERFACE)
    assert (line.item, line.monthly_usd_min, line.monthly_usd_max) == ("NAT instance data: no per-GB charge", 0, 0)
    assert line.basis.startswith("tasks x max(0, 5 natGbPerTaskMonth - 3 s3GbPerTaskMonth via the S3 gateway "
                                 "endpoint) = 2 GB x 1 share x $0/GB")
    assert line.basis.endswith("min 4 GB, max 20 GB")


def test_an_ordinary_interface_is_free_and_not_listed():
    result = estimate([rec(INTERFACE, "eni", {"subnetId": "subnet-1"})])
    assert result.lines == [] and result.unpriced == []


def test_s3_gateway_endpoint_takes_image_layers_off_the_nat_gateway_bill():
    gateway = [rec("awsx:ec2:Vpc", "vpc", {"natGateways": {"strategy": "Single"}, "availabilityZoneNames": ["a1", "b1"]}),
               *service_records(minimum=2, maximum=10)]
    without = only_line(estimate(gateway), "awsx:ec2:Vpc", "data processed")
    with_endpoint = only_line(estimate([*gateway, S3_ENDPOINT]), "awsx:ec2:Vpc", "data processed")
    assert without.monthly_usd_min == pytest.approx(2 * 5 * 0.045)  # 0.45
    assert with_endpoint.monthly_usd_min == pytest.approx(2 * 2 * 0.045)  # 0.18
    assert with_endpoint.monthly_usd_max == pytest.approx(10 * 2 * 0.045)  # 0.90
    usage = UsageAssumptions.from_mapping({"natGbPerTaskMonth": 2, "s3GbPerTaskMonth": 3})
    capped = only_line(estimate([*gateway, S3_ENDPOINT], usage=usage), "awsx:ec2:Vpc", "data processed")
    assert capped.monthly_usd_max == 0 and "= 0 GB" in capped.basis


def test_unknown_instance_type_and_snapshot_sized_volume_are_listed_unpriced():
    result = estimate(nat_records(instance_type="c7gn.16xlarge", volume_gb=None))
    reasons = sorted(u.reason for u in result.unpriced)
    assert reasons == ["/dev/xvda: volume size comes from the AMI's snapshot",
                       "instance type 'c7gn.16xlarge' is not in policies/pricing/us-east-1.json"]
    assert only_line(result, GROUP, "IPv4").monthly_usd_min == pytest.approx(3.65)


def test_instances_without_a_public_address_pay_no_ipv4_and_groups_scale_between_min_and_max():
    result = estimate(nat_records(public_ip="false", minimum=1, maximum=3))
    assert not [line for line in result.lines if "IPv4" in line.item]
    hours = only_line(result, GROUP, "EC2")
    assert hours.item == "EC2 t4g.nano x 1-3 (on-demand)"
    assert hours.monthly_usd_max == pytest.approx(3 * 0.0042 * 730)
