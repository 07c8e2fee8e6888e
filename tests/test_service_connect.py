"""Service-to-service calls under mocks: the Cloud Map namespace, Service Connect on servers and clients, and
security groups that admit exactly the callers."""

from __future__ import annotations

import pytest

from preflight.capture import ProgramRun
from tests.conftest import container_definitions, run_stack
from tests.test_config_rules import JOB, problems_of

SERVICE = "aws:ecs/service:Service"
NAMESPACE = "aws:servicediscovery/httpNamespace:HttpNamespace"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SCHEDULE = "aws:scheduler/schedule:Schedule"


def resource(run: ProgramRun, type_: str, name: str):
    return next(r for r in run.of_type(type_) if r.name == name)


def ingress_into(run: ProgramRun, security_group: str) -> list:
    group_id = resource(run, "aws:ec2/securityGroup:SecurityGroup", security_group).id
    return [rule for rule in run.of_type(INGRESS) if rule.inputs["securityGroupId"] == group_id]


@pytest.fixture(params=["dev", "prod"])
def connect_run(request) -> ProgramRun:
    return request.getfixturevalue(f"{request.param}_run")


@pytest.fixture(scope="module")
def internal_run() -> ProgramRun:
    """dev with an internal service: a port reachable by name, no route; the backend calls it."""
    def mutate(config):
        config["webstack:services"]["search"] = {
            "image": {"repository": "backend", "tag": "2f1c9e0"}, "port": 9000, "connect": {"name": "search-api"},
            "command": ["gunicorn", "search.wsgi", "--bind", "0.0.0.0:9000"], "scaling": {"min": 1, "max": 2},
        }
        config["webstack:services"]["backend"]["calls"] = ["search"]
    return run_stack("dev", mutate)


def test_the_stack_has_one_auto_named_cloud_map_http_namespace(connect_run):
    namespace = connect_run.one(NAMESPACE)
    # Name and description force a replacement: auto-named, the new one is created before the old goes.
    assert "name" not in namespace.inputs and not namespace.delete_before_replace
    assert namespace.inputs["description"] == f"Service Connect names of webstack-{connect_run.stack}"
    assert namespace.parent.endswith("webstack:service_connect:ServiceConnectNamespace::service-connect")


def test_the_backend_serves_its_port_by_name_and_logs_its_proxy_to_its_log_group(connect_run):
    namespace = connect_run.one(NAMESPACE)
    connect = resource(connect_run, SERVICE, "backend-service").inputs["serviceConnectConfiguration"]
    assert connect["enabled"] is True
    assert connect["namespace"] == namespace.outputs["arn"]
    [served] = connect["services"]
    [mapping] = container_definitions(connect_run, "-backend")[0]["portMappings"]
    assert served["portName"] == mapping["name"] == "backend-http"
    assert served["discoveryName"] == "backend"
    assert served["clientAlias"] == [{"dnsName": "backend", "port": 8000}]
    log_group = resource(connect_run, "aws:cloudwatch/logGroup:LogGroup", "backend-logs").outputs["name"]
    assert connect["logConfiguration"] == {"logDriver": "awslogs", "options": {
        "awslogs-group": log_group, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "service-connect",
    }}


def test_the_frontend_is_a_client_only_and_waits_for_the_backend(connect_run):
    frontend = resource(connect_run, SERVICE, "frontend-service")
    connect = frontend.inputs["serviceConnectConfiguration"]
    assert connect["enabled"] is True
    assert connect["namespace"] == connect_run.one(NAMESPACE).outputs["arn"]
    assert "services" not in connect
    # A client resolves only the names in the namespace when its tasks start: the backend is updated first.
    assert resource(connect_run, SERVICE, "backend-service").urn in frontend.dependencies


def test_the_backend_admits_the_load_balancer_and_its_caller_only_on_its_port(connect_run):
    rules = {rule.name: rule.inputs for rule in ingress_into(connect_run, "backend-sg")}
    assert set(rules) == {"backend-from-alb", "backend-from-frontend"}
    frontend_sg = resource(connect_run, "aws:ec2/securityGroup:SecurityGroup", "frontend-sg").id
    caller = rules["backend-from-frontend"]
    assert caller["referencedSecurityGroupId"] == frontend_sg
    assert (caller["ipProtocol"], caller["fromPort"], caller["toPort"]) == ("tcp", 8000, 8000)
    assert not any(key.startswith("cidr") for key in caller)
    # Nothing calls the frontend: only the load balancer reaches it.
    assert [rule.name for rule in ingress_into(connect_run, "frontend-sg")] == ["frontend-from-alb"]


def test_no_service_or_job_gets_a_public_ip(connect_run):
    services, schedules = connect_run.of_type(SERVICE), connect_run.of_type(SCHEDULE)
    assert services and schedules
    assert all(s.inputs["networkConfiguration"]["assignPublicIp"] is False for s in services)
    assert all(s.inputs["target"]["ecsParameters"]["networkConfiguration"]["assignPublicIp"] is False
               for s in schedules)


def test_the_namespace_and_the_endpoints_are_stack_outputs(connect_run):
    assert connect_run.outputs["serviceConnectNamespace"] == connect_run.one(NAMESPACE).outputs["name"]
    assert connect_run.outputs["serviceConnectEndpoints"] == {"backend": "http://backend:8000"}


@pytest.mark.parametrize("stack", ["lean", "scale"])
def test_a_stack_without_calls_has_no_namespace_and_no_service_connect(stack, request):
    run = request.getfixturevalue(f"{stack}_run")
    assert run.of_type(NAMESPACE) == []
    assert all("serviceConnectConfiguration" not in s.inputs for s in run.of_type(SERVICE))
    assert "serviceConnectEndpoints" not in run.outputs


def test_an_internal_service_is_reachable_by_name_only_from_its_caller(internal_run):
    search = resource(internal_run, SERVICE, "search-service")
    assert "loadBalancers" not in search.inputs
    assert not [tg for tg in internal_run.of_type("aws:lb/targetGroup:TargetGroup") if tg.name == "search-tg"]
    [served] = search.inputs["serviceConnectConfiguration"]["services"]
    assert served["portName"] == "search-http"
    assert served["clientAlias"] == [{"dnsName": "search-api", "port": 9000}]
    [rule] = ingress_into(internal_run, "search-sg")
    backend_sg = resource(internal_run, "aws:ec2/securityGroup:SecurityGroup", "backend-sg").id
    assert rule.name == "search-from-backend"
    assert (rule.inputs["referencedSecurityGroupId"], rule.inputs["fromPort"], rule.inputs["toPort"]) == \
        (backend_sg, 9000, 9000)
    # The backend serves the frontend and calls search: both under one configuration, after search.
    backend = resource(internal_run, SERVICE, "backend-service")
    assert [s["discoveryName"] for s in backend.inputs["serviceConnectConfiguration"]["services"]] == ["backend"]
    assert search.urn in backend.dependencies
    assert internal_run.outputs["serviceConnectEndpoints"] == {
        "backend": "http://backend:8000", "search": "http://search-api:9000",
    }


def test_a_job_cannot_declare_calls_it_is_no_service_connect_client():
    assert problems_of("dev", {"jobs.nightly": JOB | {"calls": ["backend"]}}) == [
        'webstack:jobs.nightly.calls = ["backend"]: unknown key; allowed keys: architecture, command, cpu, '
        "environment, ephemeralStorageGiB, image, imageFrom, memory, readOnlyRootFilesystem, retry, schedule, "
        "secrets, timezone, uses, writablePaths",
    ]
