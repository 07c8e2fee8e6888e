"""The images a stack builds from this repository, read from its `Pulumi.<stack>.yaml`.

The release's one source for "which services, which ECR repository, which platform":
`webstack:services.<name>.image.repository` and `.architecture`. A repository without a registry host
(`backend`) lives in the stack account's ECR as `<stack>/backend` (the program's `stack_repository_name`)
and is built here from the directory named like the service; a full reference
(`public.ecr.aws/nginx/nginx`) is someone else's image and is left alone.

    python .github/scripts/stack_images.py list dev
        one `<service> <ecr-repository> <platform>` line per image to build and push
    python .github/scripts/stack_images.py set-tag dev acme/dev 0123abc...
        `pulumi config set --path --type string` each service's image tag (and drops a pinned digest)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

# The program's own rules for registry hosts and repository names.
from helpers.names import image_reference, stack_repository_name

SERVICES_KEY = "webstack:services"
# Any registry name works: only "did the program put the repository under it?" matters.
_PROBE_REGISTRY = "probe.invalid"
# `services.<name>.architecture` (default x86_64) -> the platform Docker builds for.
PLATFORMS = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}


class ServiceImage(NamedTuple):
    service: str
    # The ECR repository in the stack's account, e.g. `dev/backend`.
    repository: str
    pinned_by_digest: bool
    platform: str


def read_stack_file(stack: str, root: Path = REPO_ROOT) -> dict:
    document = yaml.safe_load((root / f"Pulumi.{stack}.yaml").read_text()) or {}
    return document.get("config") or {}


def read_services(stack: str, root: Path = REPO_ROOT) -> dict:
    return read_stack_file(stack, root).get(SERVICES_KEY) or {}


def own_images(services: dict, stack: str) -> list[ServiceImage]:
    """Services whose image lives in the stack account's ECR, in stack-file order."""
    images = []
    for service, settings in services.items():
        image = settings["image"]
        repository = image["repository"]
        in_own_registry = image_reference(_PROBE_REGISTRY, repository, "t", None) == (
            f"{_PROBE_REGISTRY}/{repository}:t"
        )
        if in_own_registry:
            platform = PLATFORMS[settings.get("architecture", "x86_64")]
            images.append(ServiceImage(service, stack_repository_name(stack, repository), "digest" in image, platform))
    return images


def set_tag_commands(images: list[ServiceImage], pulumi_stack: str, tag: str) -> list[list[str]]:
    """`pulumi config` calls that point every image at `tag`; a digest would conflict with it."""
    commands = []
    for image in images:
        key = f"{SERVICES_KEY}.{image.service}.image"
        # `--type string`: with `--path`, an all-digit value (a short SHA such as 1234567) would be
        # stored as a number, which the program's config validation rejects as an image tag.
        commands.append(["pulumi", "config", "set", "--stack", pulumi_stack, "--path", "--type", "string",
                         f"{key}.tag", tag])
        if image.pinned_by_digest:
            commands.append(["pulumi", "config", "rm", "--stack", pulumi_stack, "--path", f"{key}.digest"])
    return commands


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    list_parser = commands.add_parser("list", help="print `<service> <ecr-repository> <platform>` per image built here")
    list_parser.add_argument("stack", help="stack file to read, e.g. dev for Pulumi.dev.yaml")
    set_parser = commands.add_parser("set-tag", help="set every built image's tag in the stack config")
    set_parser.add_argument("stack", help="stack file to read, e.g. dev")
    set_parser.add_argument("pulumi_stack", help="stack to configure, e.g. acme/dev")
    set_parser.add_argument("tag", help="image tag, the git SHA the images were built from")
    args = parser.parse_args(argv)

    images = own_images(read_services(args.stack), args.stack)
    if not images:
        print(f"Pulumi.{args.stack}.yaml has no service image in this account's ECR", file=sys.stderr)
        return 1
    if args.command == "list":
        for image in images:
            print(image.service, image.repository, image.platform)
        return 0
    for command in set_tag_commands(images, args.pulumi_stack, args.tag):
        subprocess.run(command, check=True, cwd=REPO_ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
