"""preflight's stack-file check: plaintext under secret-looking keys or with secret-shaped values is refused."""

from __future__ import annotations

from pathlib import Path

from preflight.stack_files import load_stack_file
from preflight.stack_secrets import plaintext_secrets

STACK_FILE = """\
config:
  aws:region: us-east-1
  webstack:dbPassword: hunter2
  webstack:apiToken:
    secure: AAABAMlbC1cQ
  webstack:services:
    backend:
      environment:
        DJANGO_SETTINGS_MODULE: app.settings.prod
        CACHE_URL: redis://default:pa55word@cache:6379/0
        TOKEN_LIFETIME_SECONDS: "3600"
      secrets:
        DJANGO_SECRET_KEY: {secretsManagerArn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:django-AbCdEf"}
  webstack:alerts:
    emails: [ops@example.com]
    privateKey: "-----BEGIN PRIVATE KEY-----"
"""


def test_plaintext_secrets_are_found_and_references_are_not(tmp_path: Path):
    (tmp_path / "Pulumi.x.yaml").write_text(STACK_FILE)
    found = {finding.path: finding.reason for finding in plaintext_secrets(load_stack_file("x", root=tmp_path))}
    assert found == {
        "webstack:dbPassword": "secret-looking key holds a plaintext value",
        "webstack:services.backend.environment.CACHE_URL": "plaintext value holds a URL with an embedded password",
        "webstack:alerts.privateKey": "plaintext value holds a private key",
    }


def test_committed_stack_files_hold_no_plaintext_secret():
    assert plaintext_secrets(load_stack_file("dev")) == []
    assert plaintext_secrets(load_stack_file("prod")) == []
