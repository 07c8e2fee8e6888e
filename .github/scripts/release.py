"""Release a stack: the same ordered steps on the first deploy into an empty account and on every later one.

    python .github/scripts/release.py dev                      # what `make deploy STACK=dev` runs
    python .github/scripts/release.py dev --stack acme/dev --tag <sha>
    python .github/scripts/release.py prod --stack acme/prod --tag <sha> --promote-from dev
    python .github/scripts/release.py dev --complete-cache-rotation   # only step 9, e.g. after a failed one

Steps (docs/releases.md says why each one is where it is):
 0. policy gate: `pulumi preview` of the whole stack with the policy pack, before anything changes
 1. the stack's ECR repositories: `pulumi up --target` (their components, repositories, lifecycle policies)
 2. images: `docker buildx build --platform linux/<arch> --push` per service, or, with --promote-from,
    the promoted stack's image copied by digest (`docker buildx imagetools create`), never rebuilt
 3. the stack's image tags (`stack_images.set_tag_commands`)
 4. everything except the ECS services: `pulumi up --exclude <services> --exclude-dependents`, so the
    data tier and this release's migration task definitions exist before any service rolls
 5. each service's migration task (`migrationTasks` output), waited for and checked
 6. the full `pulumi up` with the policy pack and `policies/config/<stack>.json`
 7. the rollout check (`verify_rollout.py`)
 8. a static frontend (`webstack:frontend`): its build command, `aws s3 sync` of its build directory to the
    `frontendBucket` output (assets first, then the HTML with `no-cache`), a CloudFront invalidation, waited for
 9. a changed cache AUTH token is completed with `SET` once every service runs with the new one
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, Optional

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import stack_images
import verify_rollout
from helpers.names import ecr_registry

# Types and resource names as the program declares them (`__main__.py`, components/): the URNs steps 1 and 4 name.
REPOSITORY_COMPONENT = "webstack:registry:ImageRepository"
REPOSITORY_CHILDREN = (
    ("aws:ecr/repository:Repository", "repo"), ("aws:ecr/lifecyclePolicy:LifecyclePolicy", "lifecycle"))
SERVICE_COMPONENT = "webstack:service:Service"
ECS_SERVICE = "aws:ecs/service:Service"
DEFAULT_MIGRATION_TIMEOUT = 30 * 60
DEFAULT_POLL_INTERVAL = 15.0
# FrontendConfig.build_dir's default (stackconfig/edge.py).
DEFAULT_FRONTEND_BUILD_DIR = "frontend/dist"
# `aws ecs describe-tasks` takes at most 100 tasks per call.
DESCRIBE_TASKS_BATCH = 100


class ReleaseError(Exception):
    """A step failed; the message says what happened and what to read or do next."""


def urn(stack: str, project: str, type_: str, name: str, parent_type: Optional[str] = None) -> str:
    """A resource URN as the engine builds it: a child of the root stack has no parent type in its URN."""
    qualified = f"{parent_type}${type_}" if parent_type else type_
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def repository_urns(stack: str, project: str, repositories: list[str]) -> list[str]:
    """Each ImageRepository component with its children: a targeted create needs its parent targeted too."""
    urns = []
    for repository in repositories:
        urns.append(urn(stack, project, REPOSITORY_COMPONENT, repository))
        urns += [urn(stack, project, type_, f"{repository}-{suffix}", REPOSITORY_COMPONENT)
                 for type_, suffix in REPOSITORY_CHILDREN]
    return urns


def service_urns(stack: str, project: str, services: list[str]) -> list[str]:
    return [urn(stack, project, ECS_SERVICE, f"{service}-service", SERVICE_COMPONENT) for service in services]


def migration_problem(task: Mapping, container: str) -> Optional[str]:
    """Why a STOPPED migration task failed, or None when its container exited 0."""
    if task.get("stopCode") == "TaskFailedToStart":
        return f"the task failed to start: {task.get('stoppedReason', 'no reason given')}"
    found = next((c for c in task.get("containers", []) if c.get("name") == container), None)
    if found is None:
        return f"the task has no container {container!r}"
    if found.get("exitCode") is None:
        reason = found.get("reason") or task.get("stoppedReason") or "no reason given"
        return f"container {container!r} stopped without an exit code: {reason}"
    if found["exitCode"] != 0:
        return f"container {container!r} exited with code {found['exitCode']}"
    return None


def image_platforms(inspected: object) -> set[str]:
    """Platforms in `docker buildx imagetools inspect --format '{{json .Image}}'`: one image config, or a map
    of platform -> config for an index (attestation manifests are `unknown/unknown`)."""
    if isinstance(inspected, dict) and "architecture" in inspected:
        return {f"{inspected.get('os', 'linux')}/{inspected['architecture']}"}
    return {platform for platform in (inspected or {}) if platform != "unknown/unknown"}


def runs_on(platforms: set[str], platform: str) -> bool:
    return any(found == platform or found.startswith(f"{platform}/") for found in platforms)


def parse_timestamp(value: object) -> datetime:
    """AWS CLI v2 prints ISO 8601 (its default `cli_timestamp_format`); v1 prints epoch seconds."""
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    return datetime.fromisoformat(str(value))


def reads_secret(task_definition: Mapping, secret_arn: str) -> bool:
    """Whether a container gets `secret_arn` (whole, or `:json-key:stage:version`) from ECS."""
    return any(secret["valueFrom"] == secret_arn or secret["valueFrom"].startswith(f"{secret_arn}:")
               for container in task_definition.get("containerDefinitions", [])
               for secret in container.get("secrets", []))


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def run(*command: str, capture: bool = False, check: bool = True, stdin: Optional[str] = None
        ) -> subprocess.CompletedProcess:
    """Run one command, printed first (no secret is ever an argument: they go through stdin or a 0600 file)."""
    print("+ " + shlex.join(command), flush=True)
    result = subprocess.run(command, text=True, capture_output=capture, input=stdin)
    if check and result.returncode != 0:
        detail = f": {result.stderr.strip()}" if capture and result.stderr else ""
        raise ReleaseError(f"`{shlex.join(command[:3])} …` failed with exit code {result.returncode}{detail}")
    return result


def run_json(*command: str) -> object:
    return json.loads(run(*command, capture=True).stdout or "null")


@dataclass
class Release:
    stack: str
    pulumi_stack: str
    tag: str
    root: Path
    promote_from: Optional[str] = None
    source_account: Optional[str] = None
    migration_timeout: float = DEFAULT_MIGRATION_TIMEOUT
    poll_interval: float = DEFAULT_POLL_INTERVAL
    login: bool = False

    def __post_init__(self) -> None:
        self.config = stack_images.read_stack_file(self.stack, self.root)
        self.services = self.config.get(stack_images.SERVICES_KEY) or {}
        self.images = stack_images.own_images(self.config, self.stack)
        self.project = (yaml.safe_load((self.root / "Pulumi.yaml").read_text()) or {}).get("name")
        if not self.project:
            raise ReleaseError("Pulumi.yaml names no project")
        if "aws:region" not in self.config:
            raise ReleaseError(f"Pulumi.{self.stack}.yaml sets no aws:region")
        self.region = self.config["aws:region"]
        self.policy_config = f"policies/config/{self.stack}.json"
        self.frontend = self.config.get("webstack:frontend")

    # --- helpers -------------------------------------------------------------------------------------

    def outputs(self) -> dict:
        return run_json("pulumi", "stack", "output", "--json", "--stack", self.pulumi_stack) or {}

    def up(self, message: str, *options: str) -> None:
        run("pulumi", "up", "--stack", self.pulumi_stack, "--yes", "--non-interactive",
            "--message", f"release {self.tag}: {message}", *options)

    def policy_options(self) -> tuple[str, ...]:
        return ("--policy-pack", "policies", "--policy-pack-config", self.policy_config)

    def token_version(self, outputs: Mapping, strict: bool = True) -> Optional[str]:
        """The AWSCURRENT version of the cache AUTH token's secret; None without a cache. Not `strict`: also
        None for a value that is no ARN yet (outputs of an earlier release that stopped half-way)."""
        arn = outputs.get("cacheAuthTokenSecretArn")
        if arn is None:
            return None
        if not (isinstance(arn, str) and arn.startswith("arn:")):
            if not strict:
                return None
            raise ReleaseError(f"stack output cacheAuthTokenSecretArn is {arn!r}, not a secret's ARN")
        described = run_json("aws", "secretsmanager", "describe-secret", "--secret-id", arn, "--output", "json")
        stages = described.get("VersionIdsToStages") or {}
        return next((version for version, labels in stages.items() if "AWSCURRENT" in labels), None)

    def image_exists(self, repository: str) -> bool:
        found = run("aws", "ecr", "describe-images", "--repository-name", repository,
                    "--image-ids", f"imageTag={self.tag}", "--output", "json", capture=True, check=False)
        if found.returncode == 0:
            return True
        if "ImageNotFoundException" in found.stderr:
            return False
        raise ReleaseError(f"cannot tell whether {repository}:{self.tag} is in ECR: {found.stderr.strip()}")

    def check_platform(self, reference: str, build: stack_images.Build, what: str) -> None:
        inspected = run("docker", "buildx", "imagetools", "inspect", reference, "--format", "{{json .Image}}",
                        capture=True, check=False)
        if inspected.returncode != 0:
            raise ReleaseError(f"cannot read {reference}: {inspected.stderr.strip()}")
        built_for = image_platforms(json.loads(inspected.stdout))
        missing = [platform for platform in build.platforms if not runs_on(built_for, platform)]
        if missing:
            runs = "runs" if len(build.workloads) == 1 else "run"
            keys = ", ".join(f"{section}.<name>.architecture" for section in build.sections)
            raise ReleaseError(f"{reference} is built for {', '.join(sorted(built_for)) or 'no platform'}, "
                               f"but {what} {runs} on {', '.join(missing)} ({keys})")

    # --- steps ---------------------------------------------------------------------------------------

    def policy_gate(self) -> None:
        step("0/9 policy gate: preview the whole stack with the policy pack")
        run("pulumi", "preview", "--stack", self.pulumi_stack, "--non-interactive", *self.policy_options())

    def repositories(self) -> None:
        step("1/9 ECR repositories")
        bare = sorted({image.config_repository for image in self.images})
        if not bare:
            print("no image of this stack lives in its ECR", flush=True)
            return
        targets = repository_urns(self.stack, self.project, bare)
        # The explicit `aws` provider is targeted implicitly, like every provider (pulumi/pulumi#13591).
        self.up("repositories", "--skip-preview", *(option for target in targets for option in ("--target", target)))

    def push_images(self, registry: str) -> None:
        step(f"2/9 images {self.tag}" + (f" promoted from {self.promote_from}" if self.promote_from else ""))
        source_registry, source_builds = self.source()
        for build in stack_images.builds(self.images):
            reference = f"{registry}/{build.repository}:{self.tag}"
            users = ", ".join(build.workloads)
            if self.image_exists(build.repository):
                self.check_platform(reference, build, users)
                print(f"{reference} is already in ECR; keeping it", flush=True)
            elif self.promote_from:
                source = source_builds.get(build.repository.split("/", 1)[1])
                if source is None:
                    raise ReleaseError(f"{users}: no image of {build.repository.split('/', 1)[1]!r} in "
                                       f"Pulumi.{self.promote_from}.yaml to promote")
                source_reference = f"{source_registry}/{source.repository}:{self.tag}"
                self.check_platform(source_reference, build, f"{self.stack}'s {users}")
                run("docker", "buildx", "imagetools", "create", "--tag", reference, source_reference)
            else:
                if not (self.root / build.context / "Dockerfile").is_file():
                    raise ReleaseError(f"{users}: no {build.context}/Dockerfile to build {build.repository} from")
                run("docker", "buildx", "build", "--platform", ",".join(build.platforms), "--pull",
                    "--label", f"org.opencontainers.image.revision={self.tag}",
                    "--tag", reference, "--push", build.context)

    def source(self) -> tuple[Optional[str], dict]:
        """The promoted stack's registry and builds by config repository (same account unless --source-account)."""
        if not self.promote_from:
            return None, {}
        config = stack_images.read_stack_file(self.promote_from, self.root)
        account = self.source_account or self.account
        images = stack_images.own_images(config, self.promote_from)
        by_name = {image.repository: image.config_repository for image in images}
        return ecr_registry(account, config["aws:region"]), {
            by_name[build.repository]: build for build in stack_images.builds(images)}

    def set_tags(self) -> None:
        step(f"3/9 image tags {self.tag}")
        for command in stack_images.set_tag_commands(self.images, self.pulumi_stack, self.tag):
            run(*command)

    def everything_but_services(self) -> None:
        step("4/9 everything except the ECS services (data tier, migration task definitions)")
        excludes = service_urns(self.stack, self.project, list(self.services))
        self.up("all but services", "--skip-preview",
                *(option for exclude in excludes for option in ("--exclude", exclude)), "--exclude-dependents")

    def migrations(self) -> None:
        step("5/9 migrations")
        tasks = self.outputs().get("migrationTasks") or {}
        if not tasks:
            print("no service declares `migrate`", flush=True)
        for service in (name for name in self.services if name in tasks):
            self.migrate(service, tasks[service])

    def migrate(self, service: str, task: Mapping) -> None:
        network = {"awsvpcConfiguration": {
            "subnets": task["subnets"], "securityGroups": task["securityGroups"], "assignPublicIp": "DISABLED"}}
        started = run_json("aws", "ecs", "run-task", "--cluster", task["cluster"],
                           "--task-definition", task["taskDefinition"], "--launch-type", "FARGATE",
                           "--platform-version", "LATEST", "--started-by", "webstack-release",
                           "--network-configuration", json.dumps(network), "--output", "json")
        if started.get("failures") or not started.get("tasks"):
            raise ReleaseError(f"{service}: ECS did not start the migration task: {started.get('failures')}")
        task_arn = started["tasks"][0]["taskArn"]
        stream = f"{task['logStreamPrefix']}/{task['container']}/{task_arn.rsplit('/', 1)[-1]}"
        logs = f"read its output: aws logs tail {task['logGroup']} --log-stream-names {stream} --since 1h"
        # Polled here: the `tasks-stopped` waiter gives up after 10 minutes while the task runs on.
        deadline = time.monotonic() + self.migration_timeout
        while True:
            described = run_json("aws", "ecs", "describe-tasks", "--cluster", task["cluster"],
                                 "--tasks", task_arn, "--output", "json")
            found = described.get("tasks") or []
            if not found:
                raise ReleaseError(f"{service}: migration task {task_arn} not found: {described.get('failures')}")
            if found[0].get("lastStatus") == "STOPPED":
                break
            if time.monotonic() >= deadline:
                raise ReleaseError(
                    f"{service}: migration task {task_arn} still {found[0].get('lastStatus')} after "
                    f"{self.migration_timeout:g}s (--migration-timeout); it keeps running: {logs}; stop it with "
                    f"aws ecs stop-task --cluster {task['cluster']} --task {task_arn}")
            time.sleep(self.poll_interval)
        problem = migration_problem(found[0], task["container"])
        if problem:
            raise ReleaseError(f"{service}: migration failed, {problem}; no service was updated; {logs}")
        print(f"{service}: migration done (exit code 0)", flush=True)

    def full_up(self) -> None:
        step("6/9 pulumi up: everything, with the policy pack")
        self.up("everything", *self.policy_options())

    def rollout(self) -> None:
        step("7/9 rollout check")
        if verify_rollout.main([self.pulumi_stack]) != 0:
            raise ReleaseError("a service does not run this release's task definition (see the errors above)")

    def static_frontend(self) -> None:
        """After the services roll, so the new frontend never calls an API that is not deployed yet. Assets go
        first and the HTML last, so a viewer never gets a page naming files not uploaded yet; nothing is deleted
        (an open tab may still load the previous release's hashed assets; the bucket's versions expire)."""
        step("8/9 static frontend")
        if not self.frontend:
            print("no webstack:frontend", flush=True)
            return
        command = self.frontend.get("buildCommand") or []
        if command:
            run(*command)
        build_dir = self.frontend.get("buildDir", DEFAULT_FRONTEND_BUILD_DIR)
        built = Path(build_dir)
        if not (built / "index.html").is_file():
            raise ReleaseError(f"the static frontend's build has no {build_dir}/index.html (frontend.buildDir): build "
                               f"it first or set frontend.buildCommand; the services are released, the previous "
                               f"frontend keeps serving")
        outputs = self.outputs()
        bucket, distribution = outputs.get("frontendBucket"), outputs.get("frontendDistributionId")
        if not bucket or not distribution:
            raise ReleaseError("the stack exports no frontendBucket/frontendDistributionId (webstack:frontend)")
        target = f"s3://{bucket}/"
        run("aws", "s3", "sync", build_dir, target, "--exclude", "*.html", "--no-progress")
        run("aws", "s3", "sync", build_dir, target, "--exclude", "*", "--include", "*.html",
            "--cache-control", "no-cache", "--no-progress")
        invalidation = run_json("aws", "cloudfront", "create-invalidation", "--distribution-id", distribution,
                                "--paths", "/*", "--output", "json")
        invalidation_id = (invalidation or {}).get("Invalidation", {}).get("Id")
        if not invalidation_id:
            raise ReleaseError(f"CloudFront answered no invalidation id for {distribution}: {invalidation}")
        run("aws", "cloudfront", "wait", "invalidation-completed", "--distribution-id", distribution,
            "--id", invalidation_id)
        print(f"{build_dir} is live on {distribution}", flush=True)

    def cache_token(self, before: Optional[str]) -> None:
        step("9/9 cache AUTH token")
        outputs = self.outputs()
        after = self.token_version(outputs)
        if after is None or before is None or after == before:
            print("the cache AUTH token did not change: nothing to complete", flush=True)
            return
        self.complete_cache_rotation(outputs, after)

    def complete_cache_rotation(self, outputs: Mapping, version: str) -> None:
        """ElastiCache accepts the old and the new token since `ROTATE`; `SET` drops the old one, which is safe
        only once no running task holds it: every task of a service reading the secret started after the
        new version was stored (tasks read secrets when they start). Older ones are replaced first."""
        arn, group = outputs["cacheAuthTokenSecretArn"], outputs["cacheReplicationGroupId"]
        versions = run_json("aws", "secretsmanager", "list-secret-version-ids", "--secret-id", arn, "--output", "json")
        created = next((v["CreatedDate"] for v in versions.get("Versions", []) if v["VersionId"] == version), None)
        if created is None:
            raise ReleaseError(f"{arn} lists no version {version}")
        stored = parse_timestamp(created)
        stale = self.services_started_before(outputs, arn, stored)
        if stale:
            print(f"still running tasks started with the old token: {', '.join(sorted(stale))}; replacing them",
                  flush=True)
            for service in sorted(stale):
                run("aws", "ecs", "update-service", "--cluster", outputs["clusterName"], "--service", service,
                    "--force-new-deployment", "--output", "json", capture=True)
            self.rollout()
            stale = self.services_started_before(outputs, arn, stored)
            if stale:
                raise ReleaseError(f"{', '.join(sorted(stale))} still run tasks started before the new cache AUTH "
                                   f"token; both tokens stay valid (ROTATE). Once they are replaced, run "
                                   f"`release.py {self.stack} --complete-cache-rotation`")
        secret = run_json("aws", "secretsmanager", "get-secret-value", "--secret-id", arn,
                          "--version-id", version, "--output", "json")
        descriptor, path = tempfile.mkstemp(prefix="cache-auth-", suffix=".json")  # mode 0600
        try:
            with os.fdopen(descriptor, "w") as request:
                json.dump({"ReplicationGroupId": group, "AuthToken": secret["SecretString"],
                           "AuthTokenUpdateStrategy": "SET", "ApplyImmediately": True}, request)
            run("aws", "elasticache", "modify-replication-group", "--cli-input-json", f"file://{path}",
                "--output", "json", capture=True)
        finally:
            os.unlink(path)
        run("aws", "elasticache", "wait", "replication-group-available", "--replication-group-id", group)
        print(f"{group}: only the new AUTH token is accepted now", flush=True)

    def services_started_before(self, outputs: Mapping, secret_arn: str, stored: datetime) -> set[str]:
        """ECS services that read the secret and still run a task created before `stored`."""
        cluster, stale = outputs["clusterName"], set()
        for service, task_definition in outputs["taskDefinitionArns"].items():
            definition = run_json("aws", "ecs", "describe-task-definition", "--task-definition", task_definition,
                                  "--output", "json")["taskDefinition"]
            if not reads_secret(definition, secret_arn):
                continue
            name = outputs["serviceNames"][service]
            arns = run_json("aws", "ecs", "list-tasks", "--cluster", cluster, "--service-name", name,
                            "--desired-status", "RUNNING", "--output", "json").get("taskArns") or []
            for start in range(0, len(arns), DESCRIBE_TASKS_BATCH):
                described = run_json("aws", "ecs", "describe-tasks", "--cluster", cluster,
                                     "--tasks", *arns[start:start + DESCRIBE_TASKS_BATCH], "--output", "json")
                if any(parse_timestamp(task["createdAt"]) <= stored for task in described.get("tasks", [])):
                    stale.add(name)
        return stale

    # --- the release ---------------------------------------------------------------------------------

    def log_in(self, registries: list[str]) -> None:
        password = run("aws", "ecr", "get-login-password", capture=True).stdout.strip()
        for registry in registries:
            run("docker", "login", "--username", "AWS", "--password-stdin", registry, stdin=password)

    def release(self) -> None:
        self.account = run("aws", "sts", "get-caller-identity", "--query", "Account", "--output", "text",
                           capture=True).stdout.strip()
        registry = ecr_registry(self.account, self.region)
        if self.login:
            self.log_in(sorted({registry} | ({self.source()[0]} if self.promote_from else set())))
        token_before = self.token_version(self.outputs(), strict=False)
        self.policy_gate()
        self.repositories()
        self.push_images(registry)
        self.set_tags()
        self.everything_but_services()
        try:
            self.migrations()
            self.full_up()
            self.rollout()
            self.static_frontend()
        except ReleaseError as error:
            token_after = self.token_version(self.outputs(), strict=False) if token_before else None
            if token_after not in (None, token_before):
                raise ReleaseError(f"{error}. This release also changed the cache AUTH token (old and new stay "
                                   f"valid): once a release succeeds, run `release.py {self.stack} "
                                   f"--complete-cache-rotation`") from error
            raise
        self.cache_token(token_before)
        step(f"released {self.tag} to {self.pulumi_stack}")


def head_commit(root: Path, build_contexts: list[str]) -> str:
    """The checked-out commit, refusing uncommitted changes in what would be built under its name."""
    if build_contexts:
        changed = subprocess.run(["git", "status", "--porcelain", "--", *build_contexts], cwd=root,
                                 capture_output=True, text=True, check=True).stdout
        if changed.strip():
            raise ReleaseError(f"uncommitted changes in {', '.join(build_contexts)} would be built as HEAD's "
                               f"image: commit them, or pass --tag")
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                          check=True).stdout.strip()


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack", help="stack file to release, e.g. dev for Pulumi.dev.yaml")
    parser.add_argument("--stack", dest="pulumi_stack", help="the Pulumi stack, e.g. acme/dev (default: STACK)")
    parser.add_argument("--tag", help="image tag: the full commit SHA the images are built from (default: HEAD)")
    parser.add_argument("--promote-from", help="copy the images this stack built for the tag instead of building "
                                               "(default: dev for a stack with environment prod)")
    parser.add_argument("--source-account", help="AWS account of --promote-from's registry (default: this one)")
    parser.add_argument("--migration-timeout", type=float, default=DEFAULT_MIGRATION_TIMEOUT,
                        help="seconds each migration task may run (default: %(default)s)")
    parser.add_argument("--poll-interval", type=float, default=DEFAULT_POLL_INTERVAL, help=argparse.SUPPRESS)
    parser.add_argument("--login", action="store_true", help="log docker in to the ECR registries first")
    parser.add_argument("--complete-cache-rotation", action="store_true",
                        help="only step 8: drop the old cache AUTH token once every service runs the new one")
    parser.add_argument("--project-dir", type=Path, default=stack_images.REPO_ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    pulumi_stack = args.pulumi_stack or args.stack
    root = args.project_dir.resolve()
    try:
        if pulumi_stack.rsplit("/", 1)[-1] != args.stack:
            raise ReleaseError(f"--stack {pulumi_stack} is not the stack of Pulumi.{args.stack}.yaml")
        config = stack_images.read_stack_file(args.stack, root)
        promote_from = args.promote_from or ("dev" if config.get("webstack:environment") == "prod" else None)
        built = [] if promote_from else [build.context for build in stack_images.builds(
            stack_images.own_images(config, args.stack))]
        tag = args.tag or ("" if args.complete_cache_rotation else head_commit(root, built))
        release = Release(args.stack, pulumi_stack, tag, root, promote_from, args.source_account,
                          args.migration_timeout, args.poll_interval, args.login)
        # Every command runs in the project; the stack's region wins over a profile's.
        os.chdir(root)
        os.environ["AWS_REGION"] = release.region
        if args.complete_cache_rotation:
            outputs = release.outputs()
            version = release.token_version(outputs)
            if version is None:
                raise ReleaseError(f"{pulumi_stack} has no cache AUTH token (output cacheAuthTokenSecretArn)")
            release.complete_cache_rotation(outputs, version)
        else:
            release.release()
    except ReleaseError as error:
        print(f"::error::{error}", flush=True)
        return 1
    except (OSError, yaml.YAMLError) as error:
        reason = " ".join(str(error).split())  # YAML errors span lines; an annotation is one
        print(f"::error::cannot read the project's Pulumi.yaml or Pulumi.{args.stack}.yaml: {reason}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
