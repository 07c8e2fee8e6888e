"""The one secret detector (policies/secret_shapes.py) on real-world variable names, both directions, and the
three places that use it agreeing row for row: the stack config's `environment` check, preflight's
stack-file check and the pack's `container-env-no-secrets`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from policies.secret_shapes import BY_NAME, plaintext_secret
from preflight.stack_files import load_stack_file
from preflight.stack_secrets import plaintext_secrets
from tests.policies.conftest import change, edit_containers, evaluate
from tests.test_config import problems, with_change

SECRET, PLAIN = True, False
# (name, value, holds a secret): names as they appear in Django, Rails, Laravel, Node, Go and Python apps.
TABLE = [
    ("DJANGO_SECRET_KEY", "k7x!q2-django-insecure-0123456789abcdef", SECRET),
    ("SECRET_KEY_BASE", "9f2c4b1d7e6a5f3c8b0d1e2f3a4b5c6d7e8f9a0b", SECRET),
    ("DB_PASSWORD", "hunter2", SECRET),
    ("DB_PWD", "hunter2", SECRET),
    ("PGPASSWORD", "hunter2", SECRET),
    ("MYSQL_ROOT_PASSWORD", "root", SECRET),
    ("SMTP_PASSWORD", "mailpass", SECRET),
    ("SIGNING_KEY", "abc", SECRET),
    ("JWT_SECRET", "change-me", SECRET),
    ("SESSION_SECRET", "s3ss10n", SECRET),
    ("WEBHOOK_SECRET", "whsec_123", SECRET),
    ("OAUTH_CLIENT_SECRET", "abc", SECRET),
    ("STRIPE_API_KEY", "sk_test_abc", SECRET),
    ("STRIPE_SECRET_KEY", "sk_live_" + "a1B2c3D4e5F6g7H8i9J0k1L2", SECRET),
    ("OPENAI_API_KEY", "sk-proj-abc", SECRET),
    ("GITHUB_TOKEN", "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", SECRET),
    ("NPM_TOKEN", "npm_abc", SECRET),
    ("SLACK_BOT_TOKEN", "xoxb-123456789012-abcdefghij", SECRET),
    ("TWILIO_AUTH_TOKEN", "abc", SECRET),
    ("ACCESS_TOKEN", "abc", SECRET),
    ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", SECRET),
    ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE", SECRET),
    ("ENCRYPTION_KEY", "abc", SECRET),
    ("MASTER_KEY", "abc", SECRET),
    ("PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----\nMIIE", SECRET),
    ("FERNET_KEY", "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=", SECRET),
    ("HMAC_KEY", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", SECRET),
    ("LICENSE_KEY", "ABCD1-EFGH2-IJKL3-MNOP4", SECRET),
    ("GOOGLE_MAPS_KEY", "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", SECRET),
    ("SENTRY_DSN", "https://0123456789abcdef@o123.ingest.sentry.io/456", SECRET),
    ("DATABASE_URL", "postgres://app:hunter2@db.internal:5432/app", SECRET),
    ("REDIS_URL", "rediss://:t0ken@cache.internal:6379/0", SECRET),
    ("JDBC_URL", "jdbc:postgresql://db.internal/app?user=app&password=hunter2", SECRET),
    ("BEARER", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", SECRET),
    ("TOKENIZERS_PARALLELISM", "false", PLAIN),
    ("AUTHOR_NAME", "Ada Lovelace", PLAIN),
    ("CACHE_KEY_PREFIX", "webstack:v2", PLAIN),
    ("CACHE_KEY", "v2", PLAIN),
    ("SORT_KEY", "created_at", PLAIN),
    ("S3_KEY", "uploads/avatars/default.png", PLAIN),
    ("PUBLIC_KEY", "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE", PLAIN),
    ("JWT_PUBLIC_KEY", "-----BEGIN PUBLIC KEY-----\nMFkw", PLAIN),
    ("STRIPE_PUBLISHABLE_KEY", "pk_live_" + "a1B2c3D4e5F6g7H8i9J0k1L2", PLAIN),
    ("RECAPTCHA_SITE_KEY", "6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI", PLAIN),
    ("API_KEY_HEADER", "X-Api-Key", PLAIN),
    ("IDEMPOTENCY_KEY_HEADER", "Idempotency-Key", PLAIN),
    ("KMS_KEY_ID", "alias/app", PLAIN),
    ("AUTH0_CLIENT_ID", "dQw4w9WgXcQ", PLAIN),
    ("JWT_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:jwt-AbCdEf", PLAIN),
    ("DB_SECRET_NAME", "prod/orders-db", PLAIN),
    ("SECRET_KEY_FILE", "/run/secrets/django", PLAIN),
    ("PASSWORD_MIN_LENGTH", "12", PLAIN),
    ("ACCESS_TOKEN_LIFETIME", "300", PLAIN),
    ("TOKEN_EXPIRY", "3600", PLAIN),
    ("MAX_TOKENS", "4096", PLAIN),
    ("USE_SECRET_MANAGER", "true", PLAIN),
    ("PGPASSFILE_PASSWORD", "${PGPASSWORD}", PLAIN),
    ("SESSION_COOKIE_AGE", "1209600", PLAIN),
    ("CSRF_COOKIE_SECURE", "true", PLAIN),
    ("LOG_LEVEL", "INFO", PLAIN),
    ("DJANGO_SETTINGS_MODULE", "app.settings.prod", PLAIN),
    ("SENTRY_ENVIRONMENT", "prod", PLAIN),
    ("REPLICA_DSN", "postgresql://replica.internal:5432/app", PLAIN),
    ("CACHE_URL", "rediss://cache.internal:6379/0", PLAIN),
    ("PUBLIC_URL", "https://app.example.com/path", PLAIN),
    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4317", PLAIN),
    ("GUNICORN_WORKERS", "4", PLAIN),
    ("AWS_REGION", "us-east-1", PLAIN),
]
SECRET_NAMES = sorted(name for name, _, secret in TABLE if secret)
ENVIRONMENT = {name: value for name, value, _ in TABLE}


def test_the_table_is_large_unique_and_goes_both_ways():
    assert len(ENVIRONMENT) == len(TABLE) >= 40
    assert 20 <= len(SECRET_NAMES) <= len(TABLE) - 20


@pytest.mark.parametrize("name,value,secret", TABLE, ids=[row[0] for row in TABLE])
def test_detector(name, value, secret):
    assert (plaintext_secret(name, value) is not None) == secret


def test_the_detector_says_what_gave_it_away():
    assert plaintext_secret("DB_PWD", "hunter2") == BY_NAME
    assert plaintext_secret("SENTRY_DSN", "https://k3y@o1.ingest.sentry.io/1") == BY_NAME
    assert plaintext_secret("UPLOADS", "AKIAIOSFODNN7EXAMPLE") == "an AWS access key id"
    assert plaintext_secret("DB_PASSWORD", "") is None  # nothing to leak
    assert plaintext_secret("DB_PASSWORD", None) is None


def test_config_refuses_exactly_the_secret_rows():
    found = [line for line in problems(with_change("services.backend.environment", ENVIRONMENT))
             if "must not be plaintext" in line]
    refused = sorted(line.split(": must not", 1)[0].rsplit(".", 1)[1] for line in found)
    assert refused == SECRET_NAMES
    assert not any(value in "\n".join(found) for value, secret in ((v, s) for _, v, s in TABLE) if secret)


@pytest.mark.parametrize("name,value,reason", [
    ("DB_PWD", "hunter2", "its name looks like a secret"),
    ("SIGNING_KEY", "abc", "its name looks like a secret"),
    ("FERNET_KEY", "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=", "its name looks like a secret"),
    ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE", "its value holds an AWS access key id"),
])
def test_config_refusal_messages(name, value, reason):
    assert problems(with_change("services.backend.environment", {name: value})) == [
        f"webstack:services.backend.environment.{name}: must not be plaintext ({reason}); declare it under secrets "
        f"instead: `secrets: {{{name}: {{secretsManagerArn: arn:aws:secretsmanager:<region>:<account>:secret:"
        f"<name>-AbCdEf}}}}` for an existing secret, or `secrets: {{{name}: {{fromConfig: <key>}}}}` after "
        "`pulumi config set --secret --path 'webstack:appSecrets.<key>' <value>`"
    ]


def test_config_accepts_the_plain_rows():
    plain = {name: value for name, value, secret in TABLE if not secret}
    found = [line for line in problems(with_change("services.backend.environment", {**plain, "DB_PWD": "x"}))
             if "must not be plaintext" in line]
    assert [line.split(": must not", 1)[0] for line in found] == ["webstack:services.backend.environment.DB_PWD"]


def stack_file(tmp_path: Path, body: str):
    (tmp_path / "Pulumi.x.yaml").write_text("config:\n  aws:region: us-east-1\n" + body)
    return load_stack_file("x", root=tmp_path)


def test_preflight_refuses_exactly_the_secret_rows(tmp_path: Path):
    body = f"  webstack:services:\n    backend:\n      environment: {json.dumps(ENVIRONMENT)}\n"
    found = sorted(finding.path.rsplit(".", 1)[1] for finding in plaintext_secrets(stack_file(tmp_path, body)))
    assert found == SECRET_NAMES


def test_preflight_accepts_the_documented_cache_auth_token_option(tmp_path: Path):
    """`cache.authTokenFromConfig` names a `webstack:appSecrets` entry; the entry itself must be `secure:`."""
    accepted = stack_file(tmp_path, "  webstack:cache:\n    authTokenFromConfig: redisToken\n"
                                    "  webstack:appSecrets:\n    redisToken:\n      secure: AAABAMlbC1cQ\n")
    assert plaintext_secrets(accepted) == []
    refused = stack_file(tmp_path, "  webstack:cache:\n    authTokenFromConfig: redisToken\n"
                                   "  webstack:appSecrets:\n    redisToken: s3cr3t-t0ken-value\n")
    assert [str(finding) for finding in plaintext_secrets(refused)] == [
        "webstack:appSecrets.redisToken: secret-looking key holds a plaintext value; store it encrypted with "
        "`pulumi config set --secret --path 'webstack:appSecrets.redisToken' <value>`"
    ]


def test_the_pack_reports_exactly_the_secret_rows(secure_run):
    def add_table(container):
        container["environment"] = [{"name": name, "value": value} for name, value in ENVIRONMENT.items()]
    result = evaluate(change(secure_run, "app-task", edit_containers(add_table)))
    messages = [v.message for v in result.of_policy("container-env-no-secrets")]
    reported = {message.split(" passes ", 1)[1].split(" ", 1)[0] for message in messages}
    assert sorted(reported) == SECRET_NAMES
