"""Workflow rehearsal: the real release (`.github/scripts/release.py`, and the deploy jobs' shell steps from
deploy.yml run with bash) against recording stand-ins for `pulumi`, `aws` and `docker` first on PATH.

The stand-ins (tests/release_standin.py) answer from canned AWS/Pulumi responses; the stack outputs are
the program's own, from its run under mocks. Asserted: the order of calls (policy gate, repositories
before any push, each image built for its service's platform, the push before the `up` that leaves the
services alone, migrations run, polled until STOPPED and checked before the full `up`, the rollout
verified after it, the cache AUTH token completed last) and every way a release must stop.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / ".github" / "scripts"
STANDIN = Path(__file__).with_name("release_standin.py")
SHA = "0123456789abcdef0123456789abcdef01234567"
ACCOUNT = "123456789012"
REGISTRY = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
MIGRATION_TASK = "arn:aws:ecs:us-east-1:123456789012:task/app-cluster/0f3c1e2d4b5a69788796a5b4c3d2e1f0"
TOKEN = "n3wT0kenF0rTheCache0123456789abcdef"
OLD_VERSION, NEW_VERSION = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
STORED_AT = "2026-09-01T10:00:00+00:00"
NOT_FOUND = {"exit": 254, "stderr": "An error occurred (ImageNotFoundException) when calling the DescribeImages "
                                     "operation: The image with imageId {imageTag:'x'} does not exist"}


def load_release():
    spec = importlib.util.spec_from_file_location("release", SCRIPTS / "release.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


release = load_release()


# --- the stand-ins ----------------------------------------------------------------------------------

@dataclass
class Result:
    returncode: int
    output: str
    calls: list[dict]

    def index(self, predicate: Callable[[dict], bool], start: int = 0) -> int:
        return next(i for i, call in enumerate(self.calls) if i >= start and predicate(call))

    def find(self, predicate: Callable[[dict], bool]) -> list[dict]:
        return [call for call in self.calls if predicate(call)]


def cli(tool: str, *words: str) -> Callable[[dict], bool]:
    return lambda call: call["tool"] == tool and call["argv"][:len(words)] == list(words)


def full_up(call: dict) -> bool:
    return cli("pulumi", "up")(call) and not {"--target", "--exclude"} & set(call["argv"])


def up_with(flag: str) -> Callable[[dict], bool]:
    return lambda call: cli("pulumi", "up")(call) and flag in call["argv"]


def values_of(call: dict, flag: str) -> list[str]:
    argv = call["argv"]
    return [argv[i + 1] for i, word in enumerate(argv) if word == flag]


def described_task(status: str, **fields) -> dict:
    return {"stdout": {"tasks": [{"taskArn": MIGRATION_TASK, "lastStatus": status, **fields}], "failures": []}}


STOPPED_OK = described_task("STOPPED", stopCode="EssentialContainerExited",
                            containers=[{"name": "backend", "lastStatus": "STOPPED", "exitCode": 0}])


class Rehearsal:
    """A project directory (the stack files, Dockerfiles, scripts) and stand-ins that answer as AWS would."""

    def __init__(self, tmp_path: Path, run, stack: str = "dev", mutate: Optional[Callable[[dict], None]] = None):
        self.project, self.calls_dir, self.bin = tmp_path / "project", tmp_path / "standin", tmp_path / "bin"
        for directory in (self.project, self.calls_dir, self.bin):
            directory.mkdir()
        shutil.copy(ROOT / "Pulumi.yaml", self.project)
        for name in ("dev", "prod", "lean"):
            document = yaml.safe_load((ROOT / f"Pulumi.{name}.yaml").read_text())
            if name == stack and mutate is not None:
                mutate(document["config"])
            (self.project / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(document))
            for workload in [*document["config"]["webstack:services"], *document["config"].get("webstack:jobs", {})]:
                (self.project / workload).mkdir(exist_ok=True)
                (self.project / workload / "Dockerfile").write_text("FROM scratch\n")
        # What the workflow's steps run, relative to the checkout: the scripts and the helpers they import.
        shutil.copytree(SCRIPTS, self.project / ".github" / "scripts")
        shutil.copytree(ROOT / "helpers", self.project / "helpers")
        (self.project / ".venv").symlink_to(ROOT / ".venv")
        for tool in ("pulumi", "aws", "docker"):
            wrapper = self.bin / tool
            wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{STANDIN}" {tool} "$@"\n')
            wrapper.chmod(0o755)
        self.stack, self.outputs = stack, copy.deepcopy(run.outputs)
        self.task_definitions = {
            task.outputs["arn"]: json.loads(task.inputs["containerDefinitions"])
            for task in run.of_type("aws:ecs/taskDefinition:TaskDefinition")}
        self.rules: list[dict] = []
        self.migration = [described_task("PROVISIONING"), described_task("RUNNING"), STOPPED_OK]
        self.token_versions = [OLD_VERSION, OLD_VERSION]
        self.tasks_created = ["2026-09-01T10:05:00+00:00"]
        self.previous_outputs: dict = self.outputs

    def rule(self, tool: str, prefix: list[str], *responses: dict, contains: tuple[str, ...] = ()) -> None:
        self.rules.append({"tool": tool, "prefix": prefix, "contains": list(contains), "responses": list(responses)})

    def answers(self) -> list[dict]:
        """The specific rules first (added by a test), then the defaults of a healthy account."""
        outputs = self.outputs
        services = [{"serviceName": outputs["serviceNames"][name], "deployments": [
            {"status": "PRIMARY", "taskDefinition": arn, "rolloutState": "COMPLETED"}]}
            for name, arn in outputs["taskDefinitionArns"].items()]
        defaults = [
            {"tool": "pulumi", "prefix": ["stack", "output"],
             "responses": [{"stdout": self.previous_outputs}, {"stdout": outputs}]},
            {"tool": "aws", "prefix": ["sts", "get-caller-identity"], "responses": [{"stdout": f"{ACCOUNT}\n"}]},
            {"tool": "aws", "prefix": ["ecr", "get-login-password"], "responses": [{"stdout": "ecr-password\n"}]},
            {"tool": "aws", "prefix": ["ecr", "describe-images"], "responses": [NOT_FOUND]},
            {"tool": "aws", "prefix": ["ecs", "run-task"],
             "responses": [{"stdout": {"tasks": [{"taskArn": MIGRATION_TASK}], "failures": []}}]},
            {"tool": "aws", "prefix": ["ecs", "describe-tasks"], "contains": [MIGRATION_TASK],
             "responses": self.migration},
            {"tool": "aws", "prefix": ["ecs", "describe-services"],
             "responses": [{"stdout": {"services": services, "failures": []}}]},
            {"tool": "aws", "prefix": ["secretsmanager", "describe-secret"],
             "responses": [{"stdout": {"VersionIdsToStages": {version: ["AWSCURRENT"]}}}
                           for version in self.token_versions]},
            {"tool": "aws", "prefix": ["secretsmanager", "list-secret-version-ids"], "responses": [{"stdout": {
                "Versions": [{"VersionId": NEW_VERSION, "CreatedDate": STORED_AT},
                             {"VersionId": OLD_VERSION, "CreatedDate": "2026-08-01T10:00:00+00:00"}]}}]},
            {"tool": "aws", "prefix": ["secretsmanager", "get-secret-value"],
             "responses": [{"stdout": {"SecretString": TOKEN, "VersionId": NEW_VERSION}}]},
            *({"tool": "aws", "prefix": ["ecs", "describe-task-definition"], "contains": [arn],
               "responses": [{"stdout": {"taskDefinition": {"taskDefinitionArn": arn, "containerDefinitions": c}}}]}
              for arn, c in self.task_definitions.items()),
            {"tool": "aws", "prefix": ["ecs", "list-tasks"], "responses": [{"stdout": {"taskArns": [
                "arn:aws:ecs:us-east-1:123456789012:task/app-cluster/aaaa"]}}]},
            {"tool": "aws", "prefix": ["ecs", "describe-tasks"], "responses": [
                {"stdout": {"tasks": [{"taskArn": "arn:aws:ecs:us-east-1:123456789012:task/app-cluster/aaaa",
                                       "lastStatus": "RUNNING", "createdAt": created}]}}
                for created in self.tasks_created]},
        ]
        return self.rules + defaults

    def environment(self, **extra: str) -> dict:
        return {**os.environ, "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
                "STANDIN_DIR": str(self.calls_dir), "AWS_REGION": "us-east-1", **extra}

    def result(self, process: subprocess.CompletedProcess) -> Result:
        log = self.calls_dir / "calls.jsonl"
        calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        return Result(process.returncode, process.stdout + process.stderr, calls)

    def release(self, *options: str) -> Result:
        """The script itself, as `make deploy` runs it."""
        (self.calls_dir / "rules.json").write_text(json.dumps(self.answers()))
        process = subprocess.run(
            [sys.executable, str(self.project / ".github" / "scripts" / "release.py"), self.stack, "--tag", SHA,
             "--poll-interval", "0", *options],
            capture_output=True, text=True, cwd=self.project, env=self.environment(), timeout=120)
        return self.result(process)

    def workflow_job(self, job_id: str, **env: str) -> Result:
        """The job's `run` steps from deploy.yml, with bash as GitHub runs them (`bash -eo pipefail`).
        `make venv` is left out: the stand-in checkout uses this repository's virtualenv."""
        # Answered at once: the script's 15 s between polls is rehearsed by the direct runs above.
        self.migration[:] = [STOPPED_OK]
        (self.calls_dir / "rules.json").write_text(json.dumps(self.answers()))
        workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
        job = workflow["jobs"][job_id]
        base = {"MIGRATION_TIMEOUT": "1800", "PULUMI_BACKEND_URL": "", "RUNNER_TEMP": str(self.calls_dir),
                "GITHUB_SHA": SHA, **{k: v for k, v in job["env"].items() if not v.startswith("${{")}, **env}
        output, returncode = "", 0
        for step in job["steps"]:
            if "run" not in step or step["run"] == "make venv":
                continue
            step_env = {**base, **{k: v for k, v in step.get("env", {}).items() if not v.startswith("${{")}}
            process = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                                     capture_output=True, text=True, cwd=self.project,
                                     env=self.environment(**step_env), timeout=120)
            output += process.stdout + process.stderr
            if process.returncode != 0:
                returncode = process.returncode
                break
        return self.result(subprocess.CompletedProcess([], returncode, output, ""))


def arm64_backend(config: dict) -> None:
    # Fargate Spot has no ARM64 capacity, so an arm64 service runs on-demand; the committed worker runs the
    # backend's image, so it moves to arm64 with it.
    for service in ("backend", "worker"):
        config["webstack:services"][service].update(architecture="arm64", spot=False)


# --- one release, in order --------------------------------------------------------------------------

def test_release_runs_every_step_in_order_and_builds_each_image_for_its_platform(tmp_path, dev_run):
    result = Rehearsal(tmp_path, dev_run, mutate=arm64_backend).release()
    assert result.returncode == 0, result.output

    gate = result.index(cli("pulumi", "preview"))
    repositories = result.index(up_with("--target"))
    builds = {call["argv"][-1]: result.calls.index(call) for call in result.find(cli("docker", "buildx", "build"))}
    tags = result.index(cli("pulumi", "config", "set"))
    but_services = result.index(up_with("--exclude"))
    run_task = result.index(cli("aws", "ecs", "run-task"))
    polls = [i for i, call in enumerate(result.calls)
             if cli("aws", "ecs", "describe-tasks")(call) and MIGRATION_TASK in call["argv"]]
    everything = result.index(full_up)
    rollout = result.index(cli("aws", "ecs", "describe-services"))
    assert gate < repositories < min(builds.values()) <= max(builds.values()) < tags < but_services
    assert but_services < run_task < polls[0] and polls[-1] < everything < rollout
    # Polled until STOPPED (PROVISIONING, RUNNING, STOPPED): no waiter that gives up after 10 minutes.
    assert len(polls) == 3 and not result.find(cli("aws", "ecs", "wait", "tasks-stopped"))
    assert "backend: migration done (exit code 0)" in result.output

    backend, frontend = (result.calls[builds[service]]["argv"] for service in ("backend", "frontend"))
    assert backend == ["buildx", "build", "--platform", "linux/arm64", "--pull",
                       "--label", f"org.opencontainers.image.revision={SHA}",
                       "--tag", f"{REGISTRY}/dev/backend:{SHA}", "--push", "backend"]
    assert frontend[:4] == ["buildx", "build", "--platform", "linux/amd64"]
    assert values_of(result.calls[builds["frontend"]], "--tag") == [f"{REGISTRY}/dev/frontend:{SHA}"]


def worker_and_report_job(config: dict) -> None:
    """A queue worker on the backend's image (for arm64) and a job with an image of its own."""
    config["webstack:services"]["worker"] = {**config["webstack:services"]["backend"], "architecture": "arm64",
                                             "spot": False}
    config["webstack:jobs"]["report"] = {"image": {"repository": "reports", "tag": "old"},
                                         "command": ["python", "report.py"], "schedule": "cron(0 6 * * ? *)"}


def test_an_image_is_built_once_for_all_who_run_it_and_jobs_images_are_built_too(tmp_path, dev_run):
    result = Rehearsal(tmp_path, dev_run, mutate=worker_and_report_job).release()
    assert result.returncode == 0, result.output
    builds = {values_of(call, "--tag")[0]: call["argv"] for call in result.find(cli("docker", "buildx", "build"))}
    assert sorted(builds) == [f"{REGISTRY}/dev/{repository}:{SHA}" for repository in ("backend", "frontend",
                                                                                     "reports")]
    assert values_of({"argv": builds[f"{REGISTRY}/dev/backend:{SHA}"]}, "--platform") == ["linux/amd64,linux/arm64"]
    assert builds[f"{REGISTRY}/dev/backend:{SHA}"][-1] == "backend"
    assert builds[f"{REGISTRY}/dev/reports:{SHA}"][-1] == "report"
    tagged = [call["argv"][-2] for call in result.find(cli("pulumi", "config", "set"))]
    assert {"webstack:services.worker.image.tag", "webstack:jobs.report.image.tag"} <= set(tagged)


def test_the_partial_ups_name_the_programs_own_urns(tmp_path, dev_run):
    result = Rehearsal(tmp_path, dev_run).release()
    assert result.returncode == 0, result.output
    [repositories] = result.find(up_with("--target"))
    [but_services] = result.find(up_with("--exclude"))
    expected = {
        "urn:pulumi:dev::webstack::webstack:registry:ImageRepository::backend",
        "urn:pulumi:dev::webstack::webstack:registry:ImageRepository$aws:ecr/repository:Repository::backend-repo",
        "urn:pulumi:dev::webstack::webstack:registry:ImageRepository$aws:ecr/lifecyclePolicy:LifecyclePolicy"
        "::backend-lifecycle",
    }
    assert expected <= set(values_of(repositories, "--target"))
    assert len(values_of(repositories, "--target")) == 6
    assert set(values_of(but_services, "--exclude")) == {
        f"urn:pulumi:dev::webstack::webstack:service:Service$aws:ecs/service:Service::{name}-service"
        for name in ("backend", "frontend", "worker")}
    assert "--exclude-dependents" in but_services["argv"]
    for call in (repositories, but_services):
        assert call["argv"][:6] == ["up", "--stack", "dev", "--yes", "--non-interactive", "--message"]
        assert "--skip-preview" in call["argv"] and "--policy-pack" not in call["argv"]
    [everything] = result.find(full_up)
    assert everything["argv"] == ["up", "--stack", "dev", "--yes", "--non-interactive", "--message",
                                  f"release {SHA}: everything", "--policy-pack", "policies",
                                  "--policy-pack-config", "policies/config/dev.json"]
    [gate] = result.find(cli("pulumi", "preview"))
    assert gate["argv"][-4:] == ["--policy-pack", "policies", "--policy-pack-config", "policies/config/dev.json"]


def test_migration_runs_this_releases_revision_in_the_service_network(tmp_path, dev_run):
    result = Rehearsal(tmp_path, dev_run).release()
    assert result.returncode == 0, result.output
    task = dev_run.outputs["migrationTasks"]["backend"]
    [run_task] = result.find(cli("aws", "ecs", "run-task"))
    assert values_of(run_task, "--cluster") == [task["cluster"]]
    assert values_of(run_task, "--task-definition") == [task["taskDefinition"]]
    assert values_of(run_task, "--launch-type") == ["FARGATE"]
    [network] = values_of(run_task, "--network-configuration")
    assert json.loads(network) == {"awsvpcConfiguration": {
        "subnets": task["subnets"], "securityGroups": task["securityGroups"], "assignPublicIp": "DISABLED"}}


def test_the_first_release_into_an_empty_stack_runs_the_same_steps(tmp_path, dev_run):
    rehearsal = Rehearsal(tmp_path, dev_run)
    rehearsal.previous_outputs = {}
    result = rehearsal.release()
    assert result.returncode == 0, result.output
    steps = [next(i for i, c in enumerate(result.calls) if p(c)) for p in (
        cli("pulumi", "preview"), up_with("--target"), cli("docker", "buildx", "build"), up_with("--exclude"),
        cli("aws", "ecs", "run-task"), full_up, cli("aws", "ecs", "describe-services"))]
    assert steps == sorted(steps)
    # No previous token: creating the cache is not a rotation.
    assert not result.find(cli("aws", "elasticache"))


def test_an_image_already_in_ecr_is_kept_when_built_for_the_services_platform(tmp_path, dev_run):
    rehearsal = Rehearsal(tmp_path, dev_run)
    rehearsal.rule("aws", ["ecr", "describe-images"], {"stdout": {"imageDetails": [{}]}}, contains=("dev/backend",))
    rehearsal.rule("docker", ["buildx", "imagetools", "inspect"],
                   {"stdout": {"linux/amd64": {"architecture": "amd64"}, "unknown/unknown": {}}})
    result = rehearsal.release()
    assert result.returncode == 0, result.output
    assert [call["argv"][-1] for call in result.find(cli("docker", "buildx", "build"))] == ["frontend"]
    assert f"{REGISTRY}/dev/backend:{SHA} is already in ECR; keeping it" in result.output


def test_login_passes_the_registry_password_on_stdin_only(tmp_path, dev_run):
    result = Rehearsal(tmp_path, dev_run).release("--login")
    assert result.returncode == 0, result.output
    [login] = result.find(cli("docker", "login"))
    assert login["argv"] == ["login", "--username", "AWS", "--password-stdin", REGISTRY]
    assert login["stdin"] == "ecr-password"
    assert result.index(cli("docker", "login")) < result.index(cli("docker", "buildx", "build"))


# --- a migration that fails stops the release before any service rolls -----------------------------

def assert_stopped_before_services(result: Result) -> None:
    assert result.returncode == 1
    assert not result.find(full_up), "the services must not roll after a failed migration"
    assert not result.find(cli("aws", "ecs", "describe-services"))
    assert result.find(up_with("--exclude"))


def test_a_migration_exiting_non_zero_stops_the_release(tmp_path, dev_run):
    rehearsal = Rehearsal(tmp_path, dev_run)
    rehearsal.migration[-1] = described_task("STOPPED", stopCode="EssentialContainerExited",
                                             containers=[{"name": "backend", "exitCode": 1}])
    result = rehearsal.release()
    assert_stopped_before_services(result)
    task = dev_run.outputs["migrationTasks"]["backend"]
    assert (f"::error::backend: migration failed, container 'backend' exited with code 1; no service was updated; "
            f"read its output: aws logs tail {task['logGroup']} --log-stream-names "
            f"backend/backend/0f3c1e2d4b5a69788796a5b4c3d2e1f0 --since 1h") in result.output


def test_a_migration_that_failed_to_start_stops_the_release(tmp_path, dev_run):
    rehearsal = Rehearsal(tmp_path, dev_run)
    rehearsal.migration[-1] = described_task(
        "STOPPED", stopCode="TaskFailedToStart",
        stoppedReason="CannotPullContainerError: pull image manifest has been retried 5 time(s)",
        containers=[{"name": "backend", "lastStatus": "STOPPED"}])
    result = rehearsal.release()
    assert_stopped_before_services(result)
    assert ("backend: migration failed, the task failed to start: CannotPullContainerError: pull image manifest "
            "has been retried 5 time(s)") in result.output


def test_a_migration_without_an_exit_code_stops_the_release(tmp_path, dev_run):
    rehearsal = Rehearsal(tmp_path, dev_run)
    rehearsal.migration[-1] = described_task(
        "STOPPED", stopCode="SpotInterruption", stoppedReason="Your Spot Task was interrupted.",
        containers=[{"name": "backend", "lastStatus": "STOPPED"}])
    result = rehearsal.release()
    assert_stopped_before_services(result)
    assert "container 'backend' stopped without an exit code: Your Spot Task was interrupted." in result.output


def test_a_migration_still_running_at_the_timeout_stops_the_release(tmp_path, dev_run):
    rehearsal = Rehearsal(tmp_path, dev_run)
    rehearsal.migration[:] = [described_task("RUNNING")]
    result = rehearsal.release("--migration-timeout", "0.5", "--poll-interval", "0.05")
    assert_stopped_before_services(result)
    assert len(result.find(cli("aws", "ecs", "describe-tasks"))) >= 2
    assert f"backend: migration task {MIGRATION_TASK} still RUNNING after 0.5s (--migration-timeout)" in result.output
    assert f"aws ecs stop-task --cluster {dev_run.outputs['clusterName']} --task {MIGRATION_TASK}" in result.output


def test_a_failed_rollout_fails_the_release(tmp_path, dev_run):
    rehearsal = Rehearsal(tmp_path, dev_run)
    rehearsal.rule("aws", ["ecs", "describe-services"], {"stdout": {"services": [], "failures": []}})
    result = rehearsal.release()
    assert result.returncode == 1
    assert "does not run this release's task definition" in result.output
    assert not result.find(cli("aws", "elasticache"))


# --- the cache AUTH token ---------------------------------------------------------------------------

def test_a_changed_cache_token_is_set_after_the_services_run_with_it(tmp_path, dev_run):
    rehearsal = Rehearsal(tmp_path, dev_run)
    rehearsal.token_versions = [OLD_VERSION, NEW_VERSION]
    result = rehearsal.release()
    assert result.returncode == 0, result.output
    [modify] = result.find(cli("aws", "elasticache", "modify-replication-group"))
    assert result.index(cli("aws", "ecs", "describe-services")) < result.calls.index(modify)
    assert result.index(cli("aws", "elasticache", "wait", "replication-group-available")) > result.calls.index(modify)
    [(path, request)] = modify["files"].items()
    assert modify["argv"][:3] == ["elasticache", "modify-replication-group", "--cli-input-json"]
    assert modify["argv"][3] == f"file://{path}"
    assert request["mode"] == "0o600"
    assert json.loads(request["content"]) == {
        "ReplicationGroupId": dev_run.outputs["cacheReplicationGroupId"], "AuthToken": TOKEN,
        "AuthTokenUpdateStrategy": "SET", "ApplyImmediately": True}
    assert not Path(path).exists()
    assert not [call for call in result.calls if any(TOKEN in word for word in call["argv"])]
    assert TOKEN not in result.output
    # The version read is the new AWSCURRENT one; the services checked are the ones reading the secret.
    [read] = result.find(cli("aws", "secretsmanager", "get-secret-value"))
    assert values_of(read, "--version-id") == [NEW_VERSION]
    # The backend and the worker both use the cache.
    assert [values_of(c, "--service-name") for c in result.find(cli("aws", "ecs", "list-tasks"))] == [
        [dev_run.outputs["serviceNames"]["backend"]], [dev_run.outputs["serviceNames"]["worker"]]]
    assert not result.find(cli("aws", "ecs", "update-service"))


def test_an_unchanged_cache_token_is_left_alone(tmp_path, dev_run):
    result = Rehearsal(tmp_path, dev_run).release()
    assert result.returncode == 0, result.output
    assert len(result.find(cli("aws", "secretsmanager", "describe-secret"))) == 2
    assert not result.find(cli("aws", "elasticache"))
    assert not result.find(cli("aws", "secretsmanager", "get-secret-value"))
    assert "the cache AUTH token did not change: nothing to complete" in result.output


def test_tasks_started_with_the_old_token_are_replaced_before_set(tmp_path, dev_run):
    rehearsal = Rehearsal(tmp_path, dev_run)
    rehearsal.token_versions = [OLD_VERSION, NEW_VERSION]
    rehearsal.tasks_created = ["2026-09-01T09:59:59+00:00", "2026-09-01T10:07:00+00:00"]
    result = rehearsal.release()
    assert result.returncode == 0, result.output
    [replace] = result.find(cli("aws", "ecs", "update-service"))
    assert values_of(replace, "--service") == [dev_run.outputs["serviceNames"]["backend"]]
    assert "--force-new-deployment" in replace["argv"]
    rollouts = [i for i, c in enumerate(result.calls) if cli("aws", "ecs", "describe-services")(c)]
    modify = result.index(cli("aws", "elasticache", "modify-replication-group"))
    assert rollouts[0] < result.calls.index(replace) < rollouts[-1] < modify


def test_set_is_refused_while_a_service_still_holds_the_old_token(tmp_path, dev_run):
    rehearsal = Rehearsal(tmp_path, dev_run)
    rehearsal.token_versions = [OLD_VERSION, NEW_VERSION]
    rehearsal.tasks_created = ["2026-09-01T09:00:00+00:00"]
    result = rehearsal.release()
    assert result.returncode == 1
    assert not result.find(cli("aws", "elasticache"))
    assert not result.find(cli("aws", "secretsmanager", "get-secret-value"))
    names = dev_run.outputs["serviceNames"]
    assert (f"{names['backend']}, {names['worker']} still run tasks started before the new cache AUTH token; "
            f"both tokens stay valid (ROTATE)") in result.output
    assert "release.py dev --complete-cache-rotation" in result.output


# --- the deploy jobs' shell steps -------------------------------------------------------------------

def test_deploy_dev_job_steps_run_the_release_in_order(tmp_path, dev_run):
    result = Rehearsal(tmp_path, dev_run, mutate=arm64_backend).workflow_job("deploy-dev", STACK_NAME="dev")
    assert result.returncode == 0, result.output
    assert result.calls[0] == {"tool": "pulumi", "argv": ["login", "--non-interactive"]}
    order = [result.index(p) for p in (up_with("--target"), cli("docker", "buildx", "build"), up_with("--exclude"),
                                       cli("aws", "ecs", "run-task"), full_up, cli("aws", "ecs", "describe-services"))]
    assert order == sorted(order)
    [backend] = [c for c in result.find(cli("docker", "buildx", "build")) if c["argv"][-1] == "backend"]
    assert values_of(backend, "--platform") == ["linux/arm64"]
    assert values_of(backend, "--tag") == [f"{REGISTRY}/dev/backend:{SHA}"]
    [tag] = [c for c in result.find(cli("pulumi", "config", "set"))
             if "webstack:services.backend.image.tag" in c["argv"]]
    assert tag["argv"][-1] == SHA


@pytest.fixture
def prod_checkout(tmp_path):
    """deploy-prod checks the commit is on main: a repository whose origin/main holds it."""
    def commit(project: Path) -> str:
        git = ["git", "-c", "user.name=ci", "-c", "user.email=ci@example.com", "-C", str(project)]
        subprocess.run([*git, "init", "-q"], check=True)
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run([*git, "commit", "-q", "-m", "release"], check=True)
        subprocess.run([*git, "update-ref", "refs/remotes/origin/main", "HEAD"], check=True)
        return subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    return commit


def dev_image(platform: str) -> dict:
    return {"stdout": {platform: {"architecture": platform.split("/")[1], "os": "linux"}, "unknown/unknown": {}}}


def test_deploy_prod_job_promotes_devs_images_by_digest_then_releases(tmp_path, prod_run, prod_checkout):
    rehearsal = Rehearsal(tmp_path, prod_run, stack="prod")
    rehearsal.rule("docker", ["buildx", "imagetools", "inspect"], dev_image("linux/amd64"))
    sha = prod_checkout(rehearsal.project)
    result = rehearsal.workflow_job("deploy-prod", STACK_NAME="prod", DEPLOY_SHA=sha, DEV_AWS_ACCOUNT_ID="")
    assert result.returncode == 0, result.output
    assert not result.find(cli("docker", "buildx", "build")), "prod never rebuilds"
    creates = result.find(cli("docker", "buildx", "imagetools", "create"))
    assert [c["argv"][3:] for c in creates] == [
        ["--tag", f"{REGISTRY}/prod/{service}:{sha}", f"{REGISTRY}/dev/{service}:{sha}"]
        for service in ("backend", "frontend")]
    inspected = [c["argv"][3] for c in result.find(cli("docker", "buildx", "imagetools", "inspect"))]
    assert inspected == [f"{REGISTRY}/dev/backend:{sha}", f"{REGISTRY}/dev/frontend:{sha}"]
    order = [result.index(p) for p in (up_with("--target"), cli("docker", "buildx", "imagetools", "create"),
                                       up_with("--exclude"), cli("aws", "ecs", "run-task"), full_up)]
    assert order == sorted(order)
    [everything] = result.find(full_up)
    assert values_of(everything, "--policy-pack-config") == ["policies/config/prod.json"]


def test_deploy_prod_job_pulls_from_devs_account_when_it_is_another(tmp_path, prod_run, prod_checkout):
    rehearsal = Rehearsal(tmp_path, prod_run, stack="prod")
    rehearsal.rule("docker", ["buildx", "imagetools", "inspect"], dev_image("linux/amd64"))
    sha = prod_checkout(rehearsal.project)
    result = rehearsal.workflow_job("deploy-prod", STACK_NAME="prod", DEPLOY_SHA=sha, DEV_AWS_ACCOUNT_ID="210987654321")
    assert result.returncode == 0, result.output
    sources = [c["argv"][-1] for c in result.find(cli("docker", "buildx", "imagetools", "create"))]
    assert sources[0] == f"210987654321.dkr.ecr.us-east-1.amazonaws.com/dev/backend:{sha}"


def test_a_dev_image_for_another_platform_is_never_promoted(tmp_path, prod_run, prod_checkout):
    rehearsal = Rehearsal(tmp_path, prod_run, stack="prod", mutate=arm64_backend)
    rehearsal.rule("docker", ["buildx", "imagetools", "inspect"], dev_image("linux/amd64"))
    sha = prod_checkout(rehearsal.project)
    result = rehearsal.workflow_job("deploy-prod", STACK_NAME="prod", DEPLOY_SHA=sha, DEV_AWS_ACCOUNT_ID="")
    assert result.returncode == 1
    assert (f"::error::{REGISTRY}/dev/backend:{sha} is built for linux/amd64, but prod's service 'backend', service "
            f"'worker' run on linux/arm64 (services.<name>.architecture)") in result.output
    assert not result.find(cli("docker", "buildx", "imagetools", "create"))
    assert not result.find(up_with("--exclude")) and not result.find(full_up)


def test_deploy_prod_refuses_a_commit_not_on_main_before_touching_anything(tmp_path, prod_run, prod_checkout):
    rehearsal = Rehearsal(tmp_path, prod_run, stack="prod")
    prod_checkout(rehearsal.project)
    result = rehearsal.workflow_job("deploy-prod", STACK_NAME="prod", DEPLOY_SHA="f" * 40, DEV_AWS_ACCOUNT_ID="")
    assert result.returncode != 0
    assert result.calls == []


# --- the pieces, alone ------------------------------------------------------------------------------

def test_release_urns_are_the_programs(dev_run):
    """The URNs steps 1 and 4 name. The engine leaves the root stack out of a top-level resource's URN
    (pkg/resource/deploy/deployment.go, generateURN); the mock monitor keeps it, so it is dropped here."""
    def engine_urn(resource) -> str:
        return resource.urn.replace("::pulumi:pulumi:Stack$", "::")
    program = {engine_urn(r) for r in dev_run.resources
               if r.type in ("aws:ecr/repository:Repository", "aws:ecr/lifecyclePolicy:LifecyclePolicy",
                             "webstack:registry:ImageRepository")}
    assert set(release.repository_urns("dev", "webstack", ["backend", "frontend"])) == program
    services = {engine_urn(r) for r in dev_run.of_type("aws:ecs/service:Service")}
    assert set(release.service_urns("dev", "webstack", ["backend", "frontend", "worker"])) == services


def test_the_program_exports_what_the_release_reads(dev_run, prod_run):
    for run in (dev_run, prod_run):
        assert set(run.outputs["migrationTasks"]) == {"backend"}
        assert run.outputs["cacheReplicationGroupId"] == run.one(
            "aws:elasticache/replicationGroup:ReplicationGroup").inputs["replicationGroupId"]
        assert run.outputs["cacheAuthTokenSecretArn"].startswith("arn:aws:secretsmanager:")


@pytest.mark.parametrize("task,problem", [
    ({"stopCode": "EssentialContainerExited", "containers": [{"name": "api", "exitCode": 0}]}, None),
    ({"stopCode": "EssentialContainerExited", "containers": [{"name": "api", "exitCode": 3}]},
     "container 'api' exited with code 3"),
    ({"stopCode": "TaskFailedToStart", "stoppedReason": "ResourceInitializationError: unable to pull secrets",
      "containers": [{"name": "api"}]},
     "the task failed to start: ResourceInitializationError: unable to pull secrets"),
    ({"stopCode": "UserInitiated", "stoppedReason": "Task stopped by user", "containers": [{"name": "api"}]},
     "container 'api' stopped without an exit code: Task stopped by user"),
    ({"containers": [{"name": "sidecar", "exitCode": 0}]}, "the task has no container 'api'"),
])
def test_migration_problem(task, problem):
    assert release.migration_problem(task, "api") == problem


def test_image_platforms_reads_an_index_and_a_single_image():
    assert release.image_platforms({"architecture": "arm64", "os": "linux"}) == {"linux/arm64"}
    assert release.image_platforms({"linux/amd64": {}, "linux/arm64": {}, "unknown/unknown": {}}) == {
        "linux/amd64", "linux/arm64"}
    assert release.runs_on({"linux/arm64/v8"}, "linux/arm64") and not release.runs_on({"linux/amd64"}, "linux/arm64")


def test_timestamps_from_cli_v1_and_v2_compare():
    assert release.parse_timestamp("2026-09-01T10:00:00+00:00") == release.parse_timestamp(1788256800)
    assert release.parse_timestamp("2026-09-01T10:00:00.5+00:00") > release.parse_timestamp(1788256800)


def test_reads_secret_matches_the_whole_secret_or_one_of_its_keys_only():
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cache-auth-AbCdEf"
    definition = {"containerDefinitions": [{"secrets": [{"name": "REDIS_AUTH_TOKEN", "valueFrom": f"{arn}:::v1"}]}]}
    assert release.reads_secret(definition, arn)
    assert not release.reads_secret(definition, arn[:-1])
    assert not release.reads_secret({"containerDefinitions": [{"name": "web"}]}, arn)


def test_release_refuses_a_pulumi_stack_of_another_stack_file(capsys):
    assert release.main(["dev", "--stack", "acme/prod", "--tag", SHA]) == 1
    assert capsys.readouterr().out.strip() == "::error::--stack acme/prod is not the stack of Pulumi.dev.yaml"


def test_a_failed_release_that_changed_the_token_says_how_to_complete_it(tmp_path, dev_run):
    rehearsal = Rehearsal(tmp_path, dev_run)
    rehearsal.token_versions = [OLD_VERSION, NEW_VERSION]
    rehearsal.migration[-1] = described_task("STOPPED", containers=[{"name": "backend", "exitCode": 2}])
    result = rehearsal.release()
    assert_stopped_before_services(result)
    assert not result.find(cli("aws", "elasticache"))
    assert ("This release also changed the cache AUTH token (old and new stay valid): once a release succeeds, "
            "run `release.py dev --complete-cache-rotation`") in result.output


def test_complete_cache_rotation_alone_checks_the_services_then_sets(tmp_path, dev_run):
    rehearsal = Rehearsal(tmp_path, dev_run)
    rehearsal.previous_outputs = rehearsal.outputs
    rehearsal.token_versions = [NEW_VERSION]
    result = rehearsal.release("--complete-cache-rotation")
    assert result.returncode == 0, result.output
    assert not result.find(cli("pulumi", "up")) and not result.find(cli("docker"))
    modify = result.index(cli("aws", "elasticache", "modify-replication-group"))
    assert result.index(cli("aws", "ecs", "list-tasks")) < modify


def test_a_token_secret_output_that_is_no_arn_fails_instead_of_skipping_set(tmp_path, dev_run):
    rehearsal = Rehearsal(tmp_path, dev_run)
    # Before: what an earlier release that stopped half-way may have left (Pulumi's unknown value).
    rehearsal.previous_outputs = {**rehearsal.outputs,
                                  "cacheAuthTokenSecretArn": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}
    rehearsal.outputs["cacheAuthTokenSecretArn"] = "[secret]"
    result = rehearsal.release()
    assert result.returncode == 1
    assert "::error::stack output cacheAuthTokenSecretArn is '[secret]', not a secret's ARN" in result.output


def test_release_refuses_an_unreadable_stack_file_in_one_line(tmp_path, capsys):
    (tmp_path / "Pulumi.dev.yaml").write_text("config: [unclosed\n")
    assert release.main(["dev", "--tag", SHA, "--project-dir", str(tmp_path)]) == 1
    output = capsys.readouterr().out.strip()
    assert output.startswith("::error::cannot read the project's Pulumi.yaml or Pulumi.dev.yaml: ")
    assert "\n" not in output


# --- the static frontend (lean) ---------------------------------------------------------------------

INVALIDATION = "I2J0EXAMPLE7Q3"
BUILD = ["sh", "-c", "mkdir -p frontend/dist/assets && echo '<html></html>' > frontend/dist/index.html "
                     "&& echo 'app()' > frontend/dist/assets/app.js"]


def built_frontend(config: dict) -> None:
    config["webstack:frontend"]["buildCommand"] = BUILD


def lean_rehearsal(tmp_path, lean_run, mutate=None) -> Rehearsal:
    """Lean is a prod environment: its release promotes dev's image (built for arm64 too) instead of building."""
    rehearsal = Rehearsal(tmp_path, lean_run, stack="lean", mutate=mutate)
    rehearsal.rule("docker", ["buildx", "imagetools", "inspect"], {"stdout": {
        "linux/amd64": {"architecture": "amd64"}, "linux/arm64": {"architecture": "arm64"}}})
    return rehearsal


def test_lean_release_syncs_the_frontend_after_the_services_roll_then_invalidates(tmp_path, lean_run):
    rehearsal = lean_rehearsal(tmp_path, lean_run, built_frontend)
    rehearsal.rule("aws", ["cloudfront", "create-invalidation"],
                   {"stdout": {"Invalidation": {"Id": INVALIDATION, "Status": "InProgress"}}})
    result = rehearsal.release()
    assert result.returncode == 0, result.output
    bucket, distribution = lean_run.outputs["frontendBucket"], lean_run.outputs["frontendDistributionId"]
    # The build command ran in the project before the sync: its files are where the sync reads them.
    assert (rehearsal.project / "frontend" / "dist" / "index.html").is_file()
    assets, pages = result.find(cli("aws", "s3", "sync"))
    assert assets["argv"] == ["s3", "sync", "frontend/dist", f"s3://{bucket}/", "--exclude", "*.html", "--no-progress"]
    assert pages["argv"] == ["s3", "sync", "frontend/dist", f"s3://{bucket}/", "--exclude", "*", "--include", "*.html",
                             "--cache-control", "no-cache", "--no-progress"]
    [invalidate] = result.find(cli("aws", "cloudfront", "create-invalidation"))
    assert values_of(invalidate, "--distribution-id") == [distribution] and values_of(invalidate, "--paths") == ["/*"]
    [wait] = result.find(cli("aws", "cloudfront", "wait", "invalidation-completed"))
    assert values_of(wait, "--distribution-id") == [distribution] and values_of(wait, "--id") == [INVALIDATION]
    everything, rollout = result.index(full_up), result.index(cli("aws", "ecs", "describe-services"))
    assert everything < rollout < result.calls.index(assets) < result.calls.index(pages) \
        < result.calls.index(invalidate) < result.calls.index(wait)
    assert f"frontend/dist is live on {distribution}" in result.output


def test_a_missing_frontend_build_fails_the_release_before_any_sync(tmp_path, lean_run):
    def no_build(config: dict) -> None:
        del config["webstack:frontend"]["buildCommand"]

    result = lean_rehearsal(tmp_path, lean_run, no_build).release()
    assert result.returncode == 1
    assert "::error::the static frontend's build has no frontend/dist/index.html (frontend.buildDir)" in result.output
    assert result.find(full_up)  # the services are released; the previous frontend keeps serving
    assert not result.find(cli("aws", "s3", "sync")) and not result.find(cli("aws", "cloudfront"))


def test_a_stack_without_a_frontend_syncs_nothing(tmp_path, dev_run):
    result = Rehearsal(tmp_path, dev_run).release()
    assert result.returncode == 0, result.output
    assert "no webstack:frontend" in result.output
    assert not result.find(cli("aws", "s3")) and not result.find(cli("aws", "cloudfront"))
