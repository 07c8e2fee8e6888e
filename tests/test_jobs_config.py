"""`webstack:jobs.<name>`: accepted jobs and refused ones, each message naming the whole key path and value."""

from __future__ import annotations

import pytest

from stackconfig import validate_stack_config
from tests.test_config import problems, with_change


def job(**changes) -> dict:
    return {"imageFrom": "backend", "command": ["python", "manage.py", "clearsessions"],
            "schedule": "cron(0 3 * * ? *)", "timezone": "Europe/Berlin", "uses": ["database"], **changes}


def test_a_nightly_job_is_accepted_with_its_defaults():
    config = validate_stack_config(with_change("jobs", {"clearsessions": job()}))
    cleared = config.jobs["clearsessions"]
    assert (cleared.image_from, cleared.schedule, cleared.timezone) == ("backend", "cron(0 3 * * ? *)",
                                                                        "Europe/Berlin")
    assert (cleared.cpu, cleared.memory, cleared.uses) == (256, 512, ["database"])
    assert (cleared.retry.maximum_retry_attempts, cleared.retry.maximum_event_age) == (3, 3600)


@pytest.mark.parametrize("expression", ["cron(0 3 * * ? *)", "rate(1 day)", "rate(30 minutes)",
                                        "at(2030-01-01T06:00:00)"])
def test_scheduler_expressions_are_accepted(expression):
    assert validate_stack_config(with_change("jobs", {"j": job(schedule=expression)})).jobs["j"].schedule == expression


EXPECTED = ("expected cron(...) with six fields (minutes hours day-of-month month day-of-week year), "
            "rate(<n> minute(s)|hour(s)|day(s)) with n >= 1, or at(yyyy-mm-ddThh:mm:ss)")
REFUSED = [
    ({"schedule": "cron(0 3 * * *)"}, 'webstack:jobs.clearsessions.schedule = "cron(0 3 * * *)": ' + EXPECTED),
    ({"schedule": "rate(0 days)"}, 'webstack:jobs.clearsessions.schedule = "rate(0 days)": ' + EXPECTED),
    ({"timezone": "Mars/Olympus"}, 'webstack:jobs.clearsessions.timezone = "Mars/Olympus": \'Mars/Olympus\' is not '
                                   'an IANA time zone name (e.g. UTC, Europe/Berlin, America/New_York)'),
    ({"imageFrom": "mailer"}, 'webstack:jobs.clearsessions.imageFrom = "mailer": is not a service of this stack '
                              '(services: backend, frontend, worker)'),
    ({"imageFrom": None}, "webstack:jobs.clearsessions: set exactly one of jobs.clearsessions.image or "
                          "jobs.clearsessions.imageFrom (a service whose image the job runs, e.g. backend); neither "
                          "is set"),
    ({"cpu": 300}, "webstack:jobs.clearsessions.cpu = 300: Fargate CPU units must be one of 256, 512, 1024, 2048, "
                   "4096, 8192, 16384"),
    ({"memory": 4096}, "webstack:jobs.clearsessions.memory = 4096: with cpu 256 Fargate accepts memory of 512, 1024 "
                       "or 2048 MiB"),
    ({"uses": ["database", "database"]}, 'webstack:jobs.clearsessions.uses[1] = "database": listed twice (also '
                                         'jobs.clearsessions.uses[0]); list each data store once'),
    ({"retry": {"maximumRetryAttempts": 186}}, "webstack:jobs.clearsessions.retry.maximumRetryAttempts = 186: Input should be less than or "
                                                "equal to 185"),
    ({"retry": {"maximumEventAge": 59}}, "webstack:jobs.clearsessions.retry.maximumEventAge = 59: Input should be greater than or "
                                           "equal to 60"),
    # The service rules on secrets, plaintext and injected names hold for jobs too.
    ({"secrets": {"API_KEY": {"fromConfig": "missingKey"}}},
     'webstack:jobs.clearsessions.secrets.API_KEY.fromConfig = "missingKey": webstack:appSecrets has no '
     "'missingKey'; set it with `pulumi config set --secret --path 'webstack:appSecrets.missingKey' <value>`"),
    ({"environment": {"DJANGO_SECRET_KEY": "abc"}},
     "webstack:jobs.clearsessions.environment.DJANGO_SECRET_KEY: must not be plaintext (its name looks like a "
     "secret); declare it under secrets instead: `secrets: {DJANGO_SECRET_KEY: {secretsManagerArn: "
     "arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf}}` for an existing secret, or `secrets: "
     "{DJANGO_SECRET_KEY: {fromConfig: <key>}}` after `pulumi config set --secret --path "
     "'webstack:appSecrets.<key>' <value>`"),
    ({"environment": {"DATABASE_HOST": "localhost"}},
     "webstack:jobs.clearsessions.environment.DATABASE_HOST: is set by the database the job uses "
     "(jobs.clearsessions.uses); remove it from environment"),
]


@pytest.mark.parametrize(("changes", "expected"), REFUSED)
def test_a_bad_job_is_refused_naming_the_key_and_value(changes, expected):
    found = problems(with_change("jobs", {"clearsessions": job(**changes)}))
    assert found == [expected]
