"""`python -m preflight`: its report, its JSON and its exit codes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import preflight.__main__ as cli
from preflight.capture import PROJECT_ROOT
from preflight.report import summary_line
from preflight.stack_files import SECRET_PLACEHOLDER, StackFile, load_stack_file


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    status = cli.main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_json_report_carries_inventory_policies_and_cost(capsys):
    status, out, _ = run_cli(capsys, "prod", "--json")
    report = json.loads(out)
    assert status == cli.EXIT_OK
    assert report["stack"] == "prod"
    assert report["resourceCount"] == sum(report["countsByType"].values())
    assert report["countsByType"]["aws:ecs/service:Service"] == 3  # backend, frontend, worker
    assert any(label.startswith("webstack:service:Service backend") for label in report["components"])
    assert report["outputs"]["url"].startswith("https://")
    assert not [v for v in report["policies"]["violations"] if v["level"] == "mandatory"]
    assert report["cost"]["monthly_max_usd"] >= report["cost"]["monthly_min_usd"] > 0
    assert any("awsx:ec2:Vpc" in note for note in report["notes"])
    policies, cost = report["policies"], report["cost"]
    assert report["summary"].startswith(
        f"prod: {report['resourceCount']} resources, 0 mandatory / {policies['advisory']} advisory violations, "
        f"${cost['monthly_min_usd']:,.0f}-${cost['monthly_max_usd']:,.0f} per month")


def test_text_report_lists_components_then_policies_then_cost(capsys):
    status, out, _ = run_cli(capsys, "dev")
    assert status == cli.EXIT_OK
    assert out.startswith("Stack dev: ")
    assert out.index("webstack:network:Network network") < out.index("Monthly cost estimate")
    assert "TOTAL per month" in out
    last = out.rstrip("\n").splitlines()[-1]
    assert re.fullmatch(r"dev: \d+ resources, 0 mandatory / \d+ advisory violations, \$[\d,]+-\$[\d,]+ per month"
                        r"( \(\d+ items? not priced\))?", last), last
    assert last.startswith(f"dev: {out.split()[2]} resources")  # the count of the first line ("Stack dev: N ...")


def test_summary_line_counts_resources_violations_and_the_cost_range():
    report = {"stack": "prod", "resourceCount": 118, "policies": {"mandatory": 0, "advisory": 3},
              "cost": {"monthly_min_usd": 365.65, "monthly_max_usd": 1600.66, "unpriced": []}}
    assert summary_line(report) == "prod: 118 resources, 0 mandatory / 3 advisory violations, $366-$1,601 per month"
    report["cost"]["unpriced"] = [{"resource": "app-cluster"}]
    assert summary_line(report).endswith("$366-$1,601 per month (1 item not priced)")


def test_unknown_stack_is_a_config_error(capsys):
    status, _, err = run_cli(capsys, "staging")
    assert status == cli.EXIT_BAD_CONFIG
    assert "no stack file Pulumi.staging.yaml; stacks here: dev, lean, prod" in err


def test_invalid_config_is_reported_before_anything_runs(capsys, monkeypatch):
    broken = load_stack_file("dev")
    broken.config["webstack:services"]["backend"]["cpu"] = 100
    monkeypatch.setattr(cli, "load_stack_file", lambda stack: broken)
    status, out, err = run_cli(capsys, "dev")
    assert status == cli.EXIT_BAD_CONFIG and out == ""
    assert "webstack:services.backend.cpu = 100: Fargate CPU units must be one of" in err


def test_a_stack_without_policy_config_is_refused_cleanly(capsys, monkeypatch):
    dev = load_stack_file("dev")
    staging = StackFile(stack="staging", path=dev.path.with_name("Pulumi.staging.yaml"), config=dev.config,
                        secret_keys=dev.secret_keys)
    monkeypatch.setattr(cli, "load_stack_file", lambda stack: staging)
    status, _, err = run_cli(capsys, "staging")
    assert status == cli.EXIT_BAD_CONFIG
    assert "no policy config" in err and "staging.json" in err


def test_secure_values_become_placeholders(tmp_path):
    (tmp_path / "Pulumi.demo.yaml").write_text(
        "config:\n  webstack:appSecrets:\n    jwt:\n      secure: AAABADcipher\n  webstack:owner: me\n"
    )
    stack_file = load_stack_file("demo", root=tmp_path)
    assert stack_file.config["webstack:appSecrets"] == {"jwt": SECRET_PLACEHOLDER}
    assert stack_file.secret_keys == ["webstack:appSecrets"]
    assert stack_file.config["webstack:owner"] == "me"


# --- broken files, through the real `python -m preflight` --------------------------------------
@pytest.fixture(scope="module")
def project_copy(tmp_path_factory) -> Path:
    """A copy of the project to add broken stack files to; preflight reads the files next to its own code."""
    root = tmp_path_factory.mktemp("preflight") / "webstack"
    shutil.copytree(PROJECT_ROOT, root, ignore=shutil.ignore_patterns(
        ".venv", ".git", "tests", "__pycache__", "node_modules", "docs", "benchmarks", ".github", "tools"))
    return root


def preflight(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "preflight", *args], cwd=root, capture_output=True, text=True,
                          timeout=300)


def line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if fragment in line)


def assert_refused_at(completed: subprocess.CompletedProcess, location: str, problem: str) -> None:
    """Exit 2, nothing on stdout, and one line on stderr: `preflight: <file>:<line>[:<column>]: <problem>`."""
    assert completed.returncode == cli.EXIT_BAD_CONFIG, completed.stderr
    assert "Traceback" not in completed.stderr
    assert completed.stdout == ""
    assert completed.stderr.count("\n") == 1, completed.stderr
    assert completed.stderr.startswith(f"preflight: {location}: "), completed.stderr
    assert problem in completed.stderr


DEV_YAML = (PROJECT_ROOT / "Pulumi.dev.yaml").read_text()
OWNER = "  webstack:owner: platform-team"


@pytest.mark.parametrize("mode", [(), ("--json",)], ids=["text", "json"])
def test_stack_file_with_a_yaml_syntax_error_names_its_line_and_column(project_copy, mode):
    broken = DEV_YAML.replace(OWNER, "  webstack:owner: platform: team")
    (project_copy / "Pulumi.yamlsyntax.yaml").write_text(broken)
    line, column = line_of(broken, "platform: team"), len("  webstack:owner: platform") + 1
    assert_refused_at(preflight(project_copy, "yamlsyntax", *mode), f"Pulumi.yamlsyntax.yaml:{line}:{column}",
                      "invalid YAML: mapping values are not allowed here")


def test_stack_file_indented_with_a_tab_names_the_tab(project_copy):
    broken = DEV_YAML.replace(OWNER, "\twebstack:owner: platform-team")
    (project_copy / "Pulumi.tabbed.yaml").write_text(broken)
    assert_refused_at(preflight(project_copy, "tabbed"), f"Pulumi.tabbed.yaml:{line_of(broken, 'webstack:owner')}:1",
                      "found character '\\t' that cannot start any token")


def test_stack_file_whose_top_level_is_not_a_mapping_is_refused(project_copy):
    (project_copy / "Pulumi.listed.yaml").write_text("# a list, not a stack file\n- aws:region: us-east-1\n")
    assert_refused_at(preflight(project_copy, "listed"), "Pulumi.listed.yaml:2:1",
                      "the top level must be a mapping with a `config:` key, not a list")


def test_stack_file_whose_config_is_not_a_mapping_is_refused(project_copy):
    (project_copy / "Pulumi.flat.yaml").write_text("config:\n  - aws:region=us-east-1\n")
    assert_refused_at(preflight(project_copy, "flat", "--json"), "Pulumi.flat.yaml:2:3",
                      "`config` must be a mapping of `<namespace>:<key>: value`, not a list")


def test_missing_stack_file_is_refused_with_the_stacks_there_are(project_copy):
    completed = preflight(project_copy, "staging", "--json")
    assert completed.returncode == cli.EXIT_BAD_CONFIG and completed.stdout == ""
    assert "Traceback" not in completed.stderr
    assert completed.stderr.startswith("preflight: no stack file Pulumi.staging.yaml; stacks here: ")
    assert "dev" in completed.stderr and "prod" in completed.stderr


PROD_POLICY_JSON = (PROJECT_ROOT / "policies/config/prod.json").read_text()


def with_policy_config(root: Path, stack: str, text: str) -> None:
    """A stack `stack` configured like prod, with `text` as its policy config."""
    shutil.copy2(root / "Pulumi.prod.yaml", root / f"Pulumi.{stack}.yaml")
    (root / "policies/config" / f"{stack}.json").write_text(text)


@pytest.mark.parametrize("mode", [(), ("--json",)], ids=["text", "json"])
def test_policy_config_with_a_json_syntax_error_names_its_line_and_column(project_copy, mode):
    lines = PROD_POLICY_JSON.rstrip().splitlines()
    lines[-2] += ","  # a trailing comma before the closing brace
    with_policy_config(project_copy, "trailingcomma", "\n".join(lines) + "\n")
    assert_refused_at(preflight(project_copy, "trailingcomma", *mode),
                      f"policies/config/trailingcomma.json:{len(lines)}:1",
                      "invalid JSON: Expecting property name enclosed in double quotes")


def test_policy_config_that_is_not_an_object_is_refused(project_copy):
    with_policy_config(project_copy, "policylist", '\n  ["rds-multi-az", "rds-deletion-protection"]\n')
    assert_refused_at(preflight(project_copy, "policylist"), "policies/config/policylist.json:2:3",
                      "must be a JSON object of policy name -> level")


def test_policy_config_refused_by_the_pack_schema_names_the_file_before_the_program_runs(project_copy):
    config = json.loads(PROD_POLICY_JSON)
    config["rds-backup-retention"] = {"enforcementLevel": "mandatory", "minRetentionDays": "seven"}
    with_policy_config(project_copy, "badproperty", json.dumps(config, indent=2))
    completed = preflight(project_copy, "badproperty")
    assert completed.returncode == cli.EXIT_BAD_CONFIG and completed.stdout == ""
    assert "Traceback" not in completed.stderr
    assert completed.stderr.startswith("preflight: policies/config/badproperty.json: policy pack configuration is invalid")
    assert "rds-backup-retention: 'seven' is not of type 'integer'" in completed.stderr


def test_make_preflight_passes_args_to_the_venv_python():
    completed = subprocess.run(["make", "-n", "-C", str(PROJECT_ROOT), "preflight", "STACK=prod", "ARGS=--json"],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert ".venv/bin/python -m preflight prod --json" in completed.stdout.splitlines()


def test_a_crash_exits_3_with_its_traceback_never_1(project_copy):
    program = project_copy / "__main__.py"
    original = program.read_text()
    program.write_text(original + '\nraise KeyError("a bug in the program")\n')
    try:
        completed = preflight(project_copy, "dev")
    finally:
        program.write_text(original)
    assert completed.returncode == cli.EXIT_CRASHED == 3
    assert "Traceback" in completed.stderr and "KeyError: 'a bug in the program'" in completed.stderr
