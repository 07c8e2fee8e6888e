"""`egress-through-nat-gateways`: NAT instances pass in dev, are refused (mandatory) in prod."""

from __future__ import annotations

import pytest

from preflight.policy_gate import evaluate_policies
from tests.conftest import run_stack
from tests.policies.conftest import evaluate
from tests.policies.test_pack import with_resource

POLICY = "egress-through-nat-gateways"
FIX = ("How to fix: keep managed NAT gateways in this stack (webstack: network.natGateways onePerAz; in code an awsx "
       "VPC with NatGatewayStrategy.ONE_PER_AZ): no instance to patch, no burst limits, no egress gap while a "
       "replacement boots. NAT instances are for dev and cost-optimised stacks (docs/network.md).")
NAT_INSTANCE = {"amiName": "fck-nat-al2023-hvm-1.4.0-20260126-arm64-ebs"}


@pytest.mark.parametrize("type_,inputs", [
    ("aws:ec2/route:Route", {"routeTableId": "rtb-1", "destinationCidrBlock": "0.0.0.0/0", "natGatewayId": "nat-1"}),
    ("aws:ec2/route:Route", {"routeTableId": "rtb-1", "destinationCidrBlock": "10.50.0.0/16",
                             "networkInterfaceId": "eni-1"}),
    ("aws:ec2/networkInterface:NetworkInterface", {"subnetId": "subnet-1", "sourceDestCheck": True}),
    ("aws:ec2/networkInterface:NetworkInterface", {"subnetId": "subnet-1"}),
])
def test_nat_gateway_routes_and_ordinary_interfaces_pass(secure_run, type_, inputs):
    assert evaluate(with_resource(secure_run, type_, "extra", inputs)).of_policy(POLICY) == []


@pytest.mark.parametrize("type_,inputs,problem", [
    ("aws:ec2/instance:Instance", {"instanceType": "t4g.nano", "sourceDestCheck": "false"},
     "Source/destination check is off: this forwards other hosts' traffic (a NAT instance)."),
    ("aws:ec2/route:Route", {"routeTableId": "rtb-1", "destinationCidrBlock": "0.0.0.0/0", "instanceId": "i-1"},
     "The route to 0.0.0.0/0 goes to an EC2 instanceId (a NAT instance), not a NAT gateway."),
])
def test_nat_instances_are_refused_in_prod_with_the_fix(secure_run, type_, inputs, problem):
    [violation] = evaluate(with_resource(secure_run, type_, "extra", inputs)).of_policy(POLICY)
    assert (violation.resource_name, violation.level) == ("extra", "mandatory")
    assert violation.message.splitlines()[-1] == f"{problem} {FIX}"


def test_prod_configured_with_a_nat_instance_is_blocked():
    def nat_instance(config):
        config["webstack:network"].update(natGateways="instance", natInstance=NAT_INSTANCE)
    run = run_stack("prod", nat_instance)
    result = evaluate_policies(run)
    blocked = {(v.resource_name, v.level) for v in result.of_policy(POLICY)}
    assert blocked == {("network-nat-1-eni", "mandatory")} | {
        (f"network-private-{zone}-default", "mandatory") for zone in (1, 2, 3)}
    assert result.has_mandatory


def test_prod_as_committed_keeps_nat_gateways_per_az(prod_run):
    assert prod_run.one("awsx:ec2:Vpc").inputs["natGateways"] == {"strategy": "OnePerAz"}
    assert evaluate_policies(prod_run).of_policy(POLICY) == []
