"""The images a stack builds from this repository, read from its `Pulumi.<stack>.yaml`.

The release's one source for "which workloads, which ECR repository, which platform":
`webstack:services.<name>.image.repository` and `.architecture`, and the same keys of `webstack:jobs.<name>`
(a job with `imageFrom` runs its service's image and builds nothing). A repository without a registry host
(`backend`) lives in the stack account's ECR as `<stack>/backend` (the program's `stack_repository_name`);
a full reference (`public.ecr.aws/nginx/nginx`) is someone else's image and is left alone. Each repository
is built once, from the directory named like the first workload that names it (services before jobs, in
stack-file order), for every platform its workloads run on: a web service and its queue worker share one.

    python .github/scripts/stack_images.py list dev
        one `<workload> <ecr-repository> <platform>` line per workload whose image is built and pushed
    python .github/scripts/stack_images.py set-tag dev acme/dev 0123abc...
        `pulumi config set --path --type string` each such workload's image tag (and drops a pinned digest)
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
JOBS_KEY = "webstack:jobs"
# Any registry name works: only "did the program put the repository under it?" matters.
_PROBE_REGISTRY = "probe.invalid"
# `<workload>.architecture` (default x86_64) -> the platform Docker builds for.
PLATFORMS = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}


class WorkloadImage(NamedTuple):
    # The config key of the workload, e.g. `webstack:services.backend` or `webstack:jobs.report`.
    key: str
    name: str
    # The ECR repository in the stack's account, e.g. `dev/backend`, and the config's name for it (`backend`).
    repository: str
    pinned_by_digest: bool
    platform: str
    config_repository: str

    @property
    def label(self) -> str:
        """`service 'backend'` or `job 'report'`, as messages name it."""
        return f"{'job' if self.key.startswith(JOBS_KEY) else 'service'} {self.name!r}"


class Build(NamedTuple):
    """One image to build or promote: a repository, the directory it is built from, its platforms."""
    repository: str
    context: str
    platforms: tuple[str, ...]
    # The workloads that run it, as messages name them (`service 'backend'`), and their config sections.
    workloads: tuple[str, ...]
    sections: tuple[str, ...]


def read_stack_file(stack: str, root: Path = REPO_ROOT) -> dict:
    document = yaml.safe_load((root / f"Pulumi.{stack}.yaml").read_text()) or {}
    return document.get("config") or {}


def own_images(config: dict, stack: str) -> list[WorkloadImage]:
    """Services' and jobs' images that live in the stack account's ECR, services first, in stack-file order."""
    images = []
    for section in (SERVICES_KEY, JOBS_KEY):
        for name, settings in (config.get(section) or {}).items():
            image = settings.get("image")
            if not image:
                continue  # a job with imageFrom
            repository = image["repository"]
            in_own_registry = image_reference(_PROBE_REGISTRY, repository, "t", None) == (
                f"{_PROBE_REGISTRY}/{repository}:t"
            )
            if in_own_registry:
                platform = PLATFORMS[settings.get("architecture", "x86_64")]
                images.append(WorkloadImage(f"{section}.{name}", name, stack_repository_name(stack, repository),
                                            "digest" in image, platform, repository))
    return images


def builds(images: list[WorkloadImage]) -> list[Build]:
    """One build per repository, from the first workload's directory, for all its workloads' platforms."""
    by_repository: dict[str, list[WorkloadImage]] = {}
    for image in images:
        by_repository.setdefault(image.repository, []).append(image)
    return [Build(repository, sharing[0].name, tuple(sorted({image.platform for image in sharing})),
                  tuple(image.label for image in sharing),
                  tuple(dict.fromkeys(image.key.split(":", 1)[1].split(".", 1)[0] for image in sharing)))
            for repository, sharing in by_repository.items()]


def set_tag_commands(images: list[WorkloadImage], pulumi_stack: str, tag: str) -> list[list[str]]:
    """`pulumi config` calls that point every image at `tag`; a digest would conflict with it."""
    commands = []
    for image in images:
        key = f"{image.key}.image"
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
    list_parser = commands.add_parser("list", help="print `<workload> <ecr-repository> <platform>` per image built here")
    list_parser.add_argument("stack", help="stack file to read, e.g. dev for Pulumi.dev.yaml")
    set_parser = commands.add_parser("set-tag", help="set every built image's tag in the stack config")
    set_parser.add_argument("stack", help="stack file to read, e.g. dev")
    set_parser.add_argument("pulumi_stack", help="stack to configure, e.g. acme/dev")
    set_parser.add_argument("tag", help="image tag, the git SHA the images were built from")
    args = parser.parse_args(argv)

    images = own_images(read_stack_file(args.stack), args.stack)
    if not images:
        print(f"Pulumi.{args.stack}.yaml has no service or job image in this account's ECR", file=sys.stderr)
        return 1
    if args.command == "list":
        for image in images:
            print(image.name, image.repository, image.platform)
        return 0
    for command in set_tag_commands(images, args.pulumi_stack, args.tag):
        subprocess.run(command, check=True, cwd=REPO_ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
