"""Pure helpers, tested without Pulumi."""

from __future__ import annotations

import pytest

from helpers.alarms import alarm_name, deployment_alarm_keys, target_group_alarms
from helpers.container import container_definition, secret_arn_of, writable_volume_name
from helpers.fargate import describe_memory_choices, is_valid_size, memory_choices
from helpers.names import ecs_service_resource_id, image_reference, request_count_resource_label
from stackconfig.monitoring import AlarmsConfig


def test_fargate_table_edges():
    assert memory_choices(256) == [512, 1024, 2048]
    assert memory_choices(512)[0] == 1024 and memory_choices(512)[-1] == 4096
    assert memory_choices(4096)[-1] == 30 * 1024
    assert memory_choices(8192) == list(range(16384, 61441, 4096))
    assert memory_choices(16384) == list(range(32768, 122881, 8192))
    assert memory_choices(128) == []
    assert is_valid_size(1024, 2048) and not is_valid_size(1024, 1024) and not is_valid_size(256, 1536)
    assert describe_memory_choices(256) == "512, 1024 or 2048 MiB"


def test_request_count_label():
    assert request_count_resource_label("app/web/50dc6c495c0c9188", "targetgroup/api/73e2d6bc24d8a067") == \
        "app/web/50dc6c495c0c9188/targetgroup/api/73e2d6bc24d8a067"
    with pytest.raises(ValueError, match="not an application load balancer"):
        request_count_resource_label("net/web/1", "targetgroup/api/2")
    with pytest.raises(ValueError, match="not a target group"):
        request_count_resource_label("app/web/1", "loadbalancer/api/2")


def test_resource_ids_and_images():
    assert ecs_service_resource_id("c", "s") == "service/c/s"
    registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    assert image_reference(registry, "backend", "2f1c9e0", None) == f"{registry}/backend:2f1c9e0"
    assert image_reference(registry, "backend", None, "sha256:" + "0" * 64) == f"{registry}/backend@sha256:" + "0" * 64
    assert image_reference(registry, "public.ecr.aws/nginx/nginx", "1.27", None) == "public.ecr.aws/nginx/nginx:1.27"
    assert image_reference(registry, "team/backend", "1", None) == f"{registry}/team/backend:1"


def test_secret_arn_of_strips_json_key_stage_and_version():
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1-AbCdEf"
    assert secret_arn_of(f"{arn}:password::") == arn
    assert secret_arn_of(arn) == arn
    assert secret_arn_of("arn:aws:ssm:us-east-1:123456789012:parameter/app/key") == \
        "arn:aws:ssm:us-east-1:123456789012:parameter/app/key"


def test_task_family_is_what_ecs_accepts():
    from helpers.names import task_family

    assert task_family("webstack", "prod", "backend") == "webstack-prod-backend"
    assert task_family("webstack", "acme.prod", "api") == "webstack-acme-prod-api"
    assert len(task_family("p", "s" * 300, "api")) == 255


def test_stack_repository_name_scopes_each_repository_to_its_stack():
    from helpers.names import stack_repository_name

    assert stack_repository_name("dev", "backend") == "dev/backend"
    assert stack_repository_name("prod", "team/api") == "prod/team/api"
    # Pulumi stack names may use upper case; ECR names may not.
    assert stack_repository_name("Prod-EU", "backend") == "prod-eu/backend"
    assert len(stack_repository_name("dev", "a" * 252)) == 256


@pytest.mark.parametrize("stack", ["dev_", "qa..1", ".dev", "dev.", "a_-b"])
def test_stack_repository_name_refuses_stacks_ecr_cannot_name(stack):
    from helpers.names import stack_repository_name

    with pytest.raises(ValueError) as refused:
        stack_repository_name(stack, "backend")
    assert str(refused.value) == (
        f"stack name {stack!r} cannot prefix an ECR repository name: ECR allows lower-case letters and digits, "
        f"separated by single `.` or `_`, `__`, or dashes; rename the stack (e.g. `dev`, `prod-eu`)")


def test_stack_repository_name_refuses_names_over_ecrs_limit():
    from helpers.names import stack_repository_name

    with pytest.raises(ValueError, match="longer than 256 characters"):
        stack_repository_name("dev", "a" * 253)


def test_writable_paths_become_ecs_volume_names():
    assert writable_volume_name("/tmp") == "writable-tmp"
    assert writable_volume_name("/var/cache/nginx") == "writable-var-cache-nginx"
    assert writable_volume_name("/home/app/.cache") == "writable-home-app--cache"


def test_a_container_is_read_only_unless_told_and_mounts_its_writable_paths():
    common = dict(name="app", image="app:1", port=None, log_group="/g", region="us-east-1", environment={},
                  secrets={}, stop_timeout=30)
    definition = container_definition(**common, writable_paths=["/tmp"])
    assert definition["readonlyRootFilesystem"] is True
    assert definition["mountPoints"] == [{"sourceVolume": "writable-tmp", "containerPath": "/tmp", "readOnly": False}]
    assert container_definition(**common, read_only_root=False)["readonlyRootFilesystem"] is False


def test_deployment_alarms_are_the_target_group_alarms_by_their_fixed_names():
    keys = {spec.key for spec in target_group_alarms("api", "app/lb/1", "targetgroup/tg/2", AlarmsConfig())}
    assert set(deployment_alarm_keys("api")) <= keys
    assert alarm_name("webstack", "prod", "api-5xx-rate") == "webstack-prod-api-5xx-rate"
