"""Switching a live stack between NAT gateways and NAT instances, rehearsed under mocks (docs/network.md).

A route table holds one route per destination: AWS refuses a second 0.0.0.0/0 (RouteAlreadyExists).
In one `pulumi up` the engine creates and updates what the program declares, and deletes what it no
longer declares only at the end. So a step may create a default route on a table only if no default
route is on that table when the step starts; a route kept under the same name is updated in place
(ReplaceRoute). awsx's own default routes are children of the remote VPC component, invisible under
mocks: they exist, one per private route table, whenever its NAT gateway strategy is not None.
"""

from __future__ import annotations

import pytest

from preflight.capture import ProgramRun
from tests.conftest import run_stack
from tests.test_network_egress import route_table_of

AMI_NAME = "fck-nat-al2023-hvm-1.4.0-20260126-arm64-ebs"
GATEWAY = {"natGateways": "single"}
INSTANCE = {"natGateways": "instance", "natInstance": {"amiName": AMI_NAME}}
INSTANCE_UNROUTED = {"natGateways": "instance", "natInstance": {"amiName": AMI_NAME, "defaultRoutes": False}}
INSTANCE_PER_AZ = {"natGateways": "instancePerAz", "natInstance": {"amiName": AMI_NAME}}


def dev_with(network: dict) -> ProgramRun:
    def mutate(config):
        config["webstack:network"].pop("natInstance", None)
        config["webstack:network"].update(network)
    return run_stack("dev", mutate)


def default_routes(run: ProgramRun) -> dict[str, set[str]]:
    """Route table id -> the names of the 0.0.0.0/0 routes on it (awsx's named by awsx's child names)."""
    vpc = run.one("awsx:ec2:Vpc")
    tables = {route_table_of(subnet): set() for subnet in vpc.outputs["privateSubnetIds"]}
    if vpc.inputs["natGateways"]["strategy"] != "None":
        for zone, table in enumerate(tables, start=1):
            tables[table].add(f"awsx:{vpc.name}-private-{zone}")
    for route in run.of_type("aws:ec2/route:Route"):
        if route.inputs["destinationCidrBlock"] == "0.0.0.0/0":
            tables[route.inputs["routeTableId"]].add(route.name)
    return tables


def conflicts(before: ProgramRun, after: ProgramRun) -> list[str]:
    """Route tables on which the step would create a default route while another is still there."""
    old, new = default_routes(before), default_routes(after)
    return [f"{table}: creates {sorted(new[table] - old[table])} while {sorted(old[table])} still exist"
            for table in new if new[table] - old[table] and old[table]]


def rehearse(*steps: dict) -> list[ProgramRun]:
    runs = [dev_with(step) for step in steps]
    for before, after in zip(runs, runs[1:]):
        assert conflicts(before, after) == []
        assert all(len(names) <= 1 for names in default_routes(after).values())
    return runs


def test_switching_in_one_step_would_create_a_second_default_route():
    gateway, instance = dev_with(GATEWAY), dev_with(INSTANCE)
    assert len(conflicts(gateway, instance)) == 2  # both private route tables
    assert len(conflicts(instance, gateway)) == 2


def test_nat_gateway_to_instance_in_two_steps():
    gateway, unrouted, routed = rehearse(GATEWAY, INSTANCE_UNROUTED, INSTANCE)
    # Step 1: awsx drops its NAT gateway and routes; the NAT instance boots, nothing routes to it yet.
    assert unrouted.one("awsx:ec2:Vpc").inputs["natGateways"] == {"strategy": "None"}
    assert unrouted.of_type("aws:ec2/route:Route") == [] and unrouted.of_type("aws:autoscaling/group:Group")
    assert not any(default_routes(unrouted).values())
    # Step 2: our routes to the instance's interface, on tables that have none.
    eni = routed.one("aws:ec2/networkInterface:NetworkInterface").id
    assert {r.inputs["networkInterfaceId"] for r in routed.of_type("aws:ec2/route:Route")} == {eni}
    # The instance was not replaced between the steps: same interface, same template.
    assert unrouted.one("aws:ec2/networkInterface:NetworkInterface").inputs == \
        routed.one("aws:ec2/networkInterface:NetworkInterface").inputs


def test_nat_instance_back_to_gateways_in_two_steps():
    routed, unrouted, gateway = rehearse(INSTANCE, INSTANCE_UNROUTED, GATEWAY)
    assert unrouted.of_type("aws:ec2/route:Route") == []
    assert gateway.of_type("webstack:network:NatInstance") == []
    assert all(len(names) == 1 and next(iter(names)).startswith("awsx:") for names in default_routes(gateway).values())


def test_one_instance_to_one_per_az_updates_the_routes_in_place():
    single, per_az = rehearse(INSTANCE, INSTANCE_PER_AZ)
    before = {r.name: r.inputs["networkInterfaceId"] for r in single.of_type("aws:ec2/route:Route")}
    after = {r.name: r.inputs["networkInterfaceId"] for r in per_az.of_type("aws:ec2/route:Route")}
    assert set(before) == set(after) == {"network-private-1-default", "network-private-2-default"}
    assert after["network-private-1-default"] == before["network-private-1-default"]  # zone 1 keeps its NAT
    assert after["network-private-2-default"] != before["network-private-2-default"]


@pytest.mark.parametrize("steps", [(GATEWAY, {"natGateways": "onePerAz"}), ({"natGateways": "onePerAz"}, GATEWAY)])
def test_between_gateway_strategies_awsx_updates_its_own_routes(steps):
    rehearse(*steps)
