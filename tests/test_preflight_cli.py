"""`python -m preflight`: its report, its JSON and its exit codes."""

from __future__ import annotations

import json

import preflight.__main__ as cli
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
    assert report["countsByType"]["aws:ecs/service:Service"] == 2
    assert any(label.startswith("webstack:service:Service backend") for label in report["components"])
    assert report["outputs"]["url"].startswith("https://")
    assert not [v for v in report["policies"]["violations"] if v["level"] == "mandatory"]
    assert report["cost"]["monthly_max_usd"] >= report["cost"]["monthly_min_usd"] > 0
    assert any("awsx:ec2:Vpc" in note for note in report["notes"])


def test_text_report_lists_components_then_policies_then_cost(capsys):
    status, out, _ = run_cli(capsys, "dev")
    assert status == cli.EXIT_OK
    assert out.startswith("Stack dev: ")
    assert out.index("webstack:network:Network network") < out.index("Monthly cost estimate")
    assert "TOTAL per month" in out


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
