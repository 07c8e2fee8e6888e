"""Migrations: a one-off task definition per service with `migrate`, and the exact command to run it."""

from __future__ import annotations

import shlex

import pytest

from helpers.commands import run_task_command
from tests.conftest import container_definitions, run_stack

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
DJANGO_MIGRATE = ["python", "manage.py", "migrate", "--noinput"]


def task(run, family_suffix: str):
    return next(t for t in run.of_type(TASK_DEFINITION) if t.inputs["family"].endswith(family_suffix))


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_migration_task_is_the_service_task_with_another_command(stack, dev_run, prod_run):
    run = {"dev": dev_run, "prod": prod_run}[stack]
    service_task, migrate_task = task(run, "-backend"), task(run, "-backend-migrate")
    assert migrate_task.inputs["family"] == f"webstack-{stack}-backend-migrate"
    for key in ("cpu", "memory", "executionRoleArn", "taskRoleArn", "networkMode", "requiresCompatibilities",
                "runtimePlatform"):
        assert migrate_task.inputs[key] == service_task.inputs[key], key

    [service_container] = container_definitions(run, "-backend")
    [migrate_container] = container_definitions(run, "-backend-migrate")
    assert migrate_container["command"] == DJANGO_MIGRATE
    assert "command" not in service_container
    for key in ("image", "environment", "secrets", "logConfiguration"):
        assert migrate_container[key] == service_container[key], key
    # Only services that declare `migrate` get one.
    assert [t.inputs["family"] for t in run.of_type(TASK_DEFINITION) if t.inputs["family"].endswith("-migrate")] \
        == [f"webstack-{stack}-backend-migrate"]


def test_migration_container_has_no_service_health_check():
    def with_health_command(config):
        config["webstack:services"]["backend"]["healthCheck"]["command"] = [
            "CMD-SHELL", "curl -f http://localhost:8000/api/health/ || exit 1"
        ]

    run = run_stack("dev", with_health_command)
    assert "healthCheck" in container_definitions(run, "-backend")[0]
    assert "healthCheck" not in container_definitions(run, "-backend-migrate")[0]


def test_migration_command_output_runs_in_the_service_network(prod_run):
    command = prod_run.outputs["migrationCommands"]["backend"]
    cluster = prod_run.one("aws:ecs/cluster:Cluster").outputs["name"]
    service = next(s for s in prod_run.of_type("aws:ecs/service:Service") if s.name == "backend-service")
    network = service.inputs["networkConfiguration"]
    assert command == (
        f"aws ecs run-task --cluster {cluster} --task-definition webstack-prod-backend-migrate "
        f"--launch-type FARGATE --network-configuration "
        f"'awsvpcConfiguration={{subnets=[{','.join(network['subnets'])}],"
        f"securityGroups=[{network['securityGroups'][0]}],assignPublicIp=DISABLED}}'"
    )
    assert set(prod_run.outputs["migrationCommands"]) == {"backend"}


def test_run_task_command_is_one_shell_word_per_argument():
    command = run_task_command("app", "webstack-dev-api-migrate", ["subnet-1", "subnet-2"], ["sg-1"])
    words = shlex.split(command)
    assert words[:3] == ["aws", "ecs", "run-task"]
    options = dict(zip(words[3::2], words[4::2]))
    assert options == {
        "--cluster": "app",
        "--task-definition": "webstack-dev-api-migrate",
        "--launch-type": "FARGATE",
        "--network-configuration":
            "awsvpcConfiguration={subnets=[subnet-1,subnet-2],securityGroups=[sg-1],assignPublicIp=DISABLED}",
    }


def test_migrate_needs_a_command():
    def empty(config):
        config["webstack:services"]["backend"]["migrate"] = {"command": []}

    with pytest.raises(Exception, match="migrate.command"):
        run_stack("dev", empty)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_migration_tasks_output_names_this_updates_revision_in_the_service_network(stack, dev_run, prod_run):
    """What the release runs (`aws ecs run-task`) and where it tells you to read the migration's logs."""
    run = {"dev": dev_run, "prod": prod_run}[stack]
    service = next(s for s in run.of_type("aws:ecs/service:Service") if s.name == "backend-service")
    network = service.inputs["networkConfiguration"]
    [migrate_container] = container_definitions(run, "-backend-migrate")
    logs = migrate_container["logConfiguration"]["options"]
    assert run.outputs["migrationTasks"] == {"backend": {
        "cluster": run.one("aws:ecs/cluster:Cluster").outputs["name"],
        "taskDefinition": task(run, "-backend-migrate").outputs["arn"],
        "subnets": network["subnets"],
        "securityGroups": network["securityGroups"],
        "container": migrate_container["name"],
        "logGroup": logs["awslogs-group"],
        "logStreamPrefix": logs["awslogs-stream-prefix"],
    }}
    assert network["assignPublicIp"] is False
