"""ECR: a repository per image the stack builds, its settings per stack, the lifecycle policy, images from it."""

from __future__ import annotations

import json

import pulumi
import pytest

from components.registry import ImageRepository, ImageRepositoryArgs
from helpers.registry import lifecycle_policy
from preflight.capture import run_in_mocks
from stackconfig import validate_stack_config
from stackconfig.edge import RegistryConfig
from tests.conftest import container_definitions, run_stack, stack_config

REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"


@pytest.mark.parametrize("stack,mutability,force_delete", [("dev", "MUTABLE", True), ("prod", "IMMUTABLE", False)])
def test_one_repository_per_service_image_named_by_stack(stack, mutability, force_delete, dev_run, prod_run):
    run = {"dev": dev_run, "prod": prod_run}[stack]
    repositories = {r.inputs["name"]: r for r in run.of_type(REPOSITORY)}
    assert set(repositories) == {f"{stack}/backend", f"{stack}/frontend"}
    for repository in repositories.values():
        settings = repository.inputs
        assert settings["imageScanningConfiguration"] == {"scanOnPush": True}
        assert settings["imageTagMutability"] == mutability
        assert settings["encryptionConfigurations"] == [{"encryptionType": "AES256"}]
        assert settings["forceDelete"] is force_delete
        # prod's survive a rename (a replacement) or a removal from the program; `protect` would refuse both.
        assert repository.retain_on_delete is (stack == "prod")
        assert repository.protect is False
    assert run.outputs["repositoryUrls"] == {
        name: f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{stack}/{name}" for name in ("backend", "frontend")
    }


def test_dev_and_prod_repositories_never_share_a_name_in_one_account(dev_run, prod_run):
    names = {stack: {r.inputs["name"] for r in run.of_type(REPOSITORY)} for stack, run in
             (("dev", dev_run), ("prod", prod_run))}
    assert names["dev"] and names["prod"] and not names["dev"] & names["prod"]
    assert all(name.startswith("dev/") for name in names["dev"])


def test_lifecycle_policy_per_repository(prod_run):
    policies = prod_run.of_type(LIFECYCLE)
    assert sorted(p.inputs["repository"] for p in policies) == ["prod/backend", "prod/frontend"]
    rules = json.loads(policies[0].inputs["policy"])["rules"]
    untagged, tagged = sorted(rules, key=lambda rule: rule["rulePriority"])
    assert untagged["selection"] == {
        "tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7,
    }
    assert tagged["selection"] == {
        "tagStatus": "tagged", "tagPatternList": ["*"], "countType": "imageCountMoreThan", "countNumber": 30,
    }
    assert untagged["action"] == tagged["action"] == {"type": "expire"}


def test_lifecycle_rules_are_valid_for_ecr():
    rules = json.loads(lifecycle_policy(5, 3))["rules"]
    priorities = [rule["rulePriority"] for rule in rules]
    assert len(set(priorities)) == len(priorities) and all(p >= 1 for p in priorities)
    for rule in rules:
        selection = rule["selection"]
        # ECR rejects a tagged selection without a tag filter, and days only go with sinceImagePushed.
        if selection["tagStatus"] == "tagged":
            assert selection.get("tagPatternList") or selection.get("tagPrefixList")
        assert ("countUnit" in selection) == (selection["countType"] == "sinceImagePushed")
        assert selection["countNumber"] >= 1
    assert [rule["selection"]["countNumber"] for rule in rules] == [3, 5]


def test_service_image_comes_from_its_repository(prod_run):
    backend = container_definitions(prod_run, "-backend")[0]
    assert backend["image"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/prod/backend:2f1c9e0"
    task = next(t for t in prod_run.of_type("aws:ecs/taskDefinition:TaskDefinition")
                if t.inputs["family"].endswith("-backend"))
    repository = next(r for r in prod_run.of_type(REPOSITORY) if r.inputs["name"] == "prod/backend")
    assert repository.urn in task.dependencies


def test_external_images_get_no_repository_and_shared_names_one():
    digest = "sha256:" + "ab" * 32

    def change_images(config):
        services = config["webstack:services"]
        services["frontend"]["image"] = {"repository": "public.ecr.aws/nginx/nginx", "tag": "1.27"}
        services["admin"] = {**services["backend"], "image": {"repository": "backend", "digest": digest},
                             "routes": {"paths": ["/admin/*"], "priority": 20}}
        services["admin"].pop("migrate")

    run = run_stack("dev", change_images)
    assert [r.inputs["name"] for r in run.of_type(REPOSITORY)] == ["dev/backend"]
    admin = container_definitions(run, "-admin")[0]
    assert admin["image"] == f"123456789012.dkr.ecr.us-east-1.amazonaws.com/dev/backend@{digest}"
    assert container_definitions(run, "-frontend")[0]["image"] == "public.ecr.aws/nginx/nginx:1.27"


def test_repository_component_alone_with_kms():
    def build():
        repository = ImageRepository("api", ImageRepositoryArgs(
            settings=RegistryConfig(tag_mutability="IMMUTABLE", encryption="KMS", keep_tagged_images=50,
                                    untagged_expiry_days=1, force_delete=False),
            repository_name="team/api",
        ))
        pulumi.export("image", repository.image("v1.2.3", None))

    run = run_in_mocks(build)
    repository = run.one(REPOSITORY)
    assert repository.inputs["encryptionConfigurations"] == [{"encryptionType": "KMS"}]
    assert repository.parent == run.one("webstack:registry:ImageRepository").urn
    rules = json.loads(run.one(LIFECYCLE).inputs["policy"])["rules"]
    assert [rule["selection"]["countNumber"] for rule in rules] == [1, 50]
    assert run.outputs["image"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api:v1.2.3"


@pytest.mark.parametrize("registry,message", [
    ({"tagMutability": "MUTABLE"}, 'webstack:registry.tagMutability = "MUTABLE": not allowed in prod'),
    ({"forceDelete": True}, "webstack:registry.forceDelete = true: not allowed in prod"),
    ({"keepTaggedImages": 0}, "greater than or equal to 1"),
])
def test_prod_registry_guards(registry, message):
    config, _ = stack_config("prod")
    raw = {key.split(":", 1)[1]: value for key, value in config.items() if key.startswith("webstack:")}
    raw["region"] = config["aws:region"]
    raw["registry"] = registry
    with pytest.raises(pulumi.RunError, match=message):
        validate_stack_config(raw)


@pytest.mark.parametrize("repository", ["Backend", "a", "team//api", "api_", "back___end"])
def test_bare_repository_names_follow_ecr_rules(repository):
    """A bare name is created as an ECR repository; ECR refuses these, so the config does."""
    config, _ = stack_config("dev")
    raw = {key.split(":", 1)[1]: value for key, value in config.items() if key.startswith("webstack:")}
    raw["region"] = config["aws:region"]
    raw["services"]["backend"]["image"] = {"repository": repository, "tag": "v1"}
    with pytest.raises(pulumi.RunError, match="is not a valid ECR repository name"):
        validate_stack_config(raw)


@pytest.mark.parametrize("repository", ["backend", "team/api", "dev/back-end.v2", "public.ecr.aws/nginx/nginx",
                                        "ghcr.io/org/app"])
def test_valid_repository_names_and_external_references_pass(repository):
    config, _ = stack_config("dev")
    raw = {key.split(":", 1)[1]: value for key, value in config.items() if key.startswith("webstack:")}
    raw["region"] = config["aws:region"]
    raw["services"]["backend"]["image"] = {"repository": repository, "tag": "v1"}
    validate_stack_config(raw)
