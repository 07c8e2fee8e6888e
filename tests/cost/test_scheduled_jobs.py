"""A scheduled job's cost: runs a month of its Scheduler expression x the assumed run time x the Fargate rate."""

from __future__ import annotations

import pytest

from cost import UsageAssumptions, estimate
from cost.schedules import DAYS_PER_MONTH, WEEKS_PER_MONTH, runs_per_month
from tests.cost.test_estimator import component_urn, only_line, rec

JOB = component_urn("webstack:job:ScheduledJob", "clearsessions")


@pytest.mark.parametrize("expression, runs", [
    ("rate(1 day)", DAYS_PER_MONTH),
    ("rate(6 hours)", 4 * DAYS_PER_MONTH),
    ("rate(15 minutes)", 96 * DAYS_PER_MONTH),
    ("cron(0 3 * * ? *)", DAYS_PER_MONTH),                  # nightly
    ("cron(0/15 * * * ? *)", 4 * 24 * DAYS_PER_MONTH),      # every 15 minutes
    ("cron(0 9 ? * MON-FRI *)", 5 * WEEKS_PER_MONTH),       # weekdays
    ("cron(0 9,17 ? * 2,4,6 *)", 2 * 3 * WEEKS_PER_MONTH),  # twice a day, three days a week
    ("cron(30 2 1 * ? *)", 1),                              # first of the month
    ("cron(0 0 L * ? *)", 1),                               # last day of the month
    ("cron(0 6 1 1,7 ? *)", 2 / 12),                        # twice a year
    ("at(2030-01-01T06:00:00)", 1),
])
def test_runs_per_month(expression, runs):
    assert runs_per_month(expression) == pytest.approx(runs)


def test_an_expression_scheduler_does_not_read_has_no_count():
    assert runs_per_month("every night") is None


def job_records(expression="cron(0 3 * * ? *)", cpu="256", memory="512"):
    return [
        rec("aws:ecs/taskDefinition:TaskDefinition", "clearsessions-task",
            {"family": "webstack-dev-clearsessions", "cpu": cpu, "memory": memory,
             "runtimePlatform": {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"}}, JOB),
        rec("aws:scheduler/schedule:Schedule", "clearsessions-schedule", {
            "scheduleExpression": expression,
            "target": {"arn": "arn:aws:ecs:us-east-1:123456789012:cluster/app", "ecsParameters": {
                "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/webstack-dev-clearsessions:1",
                "taskCount": 1}}}, JOB),
    ]


def test_nightly_job_costs_its_runs_times_the_run_time():
    line = only_line(estimate(job_records()), "aws:scheduler/schedule:Schedule", "Fargate")
    # 0.25 vCPU x 0.04048 + 0.5 GB x 0.004445 = 0.0123425 $/task-hour; 30.4167 runs x 10 min = 5.0694 h
    assert line.monthly_usd_min == line.monthly_usd_max == pytest.approx(DAYS_PER_MONTH * 10 / 60 * 0.0123425)
    assert "jobRunMinutes" in line.basis


def test_run_time_is_an_assumption_and_fargate_bills_at_least_a_minute():
    usage = UsageAssumptions.from_mapping({"jobRunMinutes": 0.1})
    line = only_line(estimate(job_records("rate(1 hour)"), usage=usage), "aws:scheduler/schedule:Schedule",
                     "Fargate")
    assert line.monthly_usd_min == pytest.approx(24 * DAYS_PER_MONTH * 1 / 60 * 0.0123425)


def test_scheduler_invocations_are_within_the_free_tier():
    line = only_line(estimate(job_records()), "aws:scheduler/schedule:Schedule", "invocations")
    assert line.monthly_usd_max == 0 and "14 million free" in line.basis


def test_a_schedule_whose_task_definition_is_unknown_is_reported_not_priced():
    result = estimate(job_records()[1:])
    assert not result.lines_of_type("aws:scheduler/schedule:Schedule")
    assert "task definition" in next(u.reason for u in result.unpriced if u.resource == "clearsessions-schedule")
