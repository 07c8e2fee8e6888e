"""`webstack:monitoring`: the seeds' defaults, partial overrides, and the exact rejection messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackconfig import validate_stack_config
from stackconfig.monitoring import ALARM_DEFAULTS, AlarmsConfig
from tests.cloudwatch_api import put_metric_alarm_rules
from tests.test_config import problems, raw, with_change


def test_defaults_are_the_seeds_numbers():
    alarms = AlarmsConfig()
    assert (alarms.service_cpu.threshold, alarms.service_memory.threshold) == (80, 85)  # seed 004
    assert (alarms.service_cpu.period, alarms.service_cpu.evaluation_periods) == (300, 2)  # seed 004 CLI
    assert alarms.target5xx_rate.threshold == 5  # seed 001 P0: ALB 5xx > 5 %
    assert alarms.unhealthy_hosts.threshold == 0  # seed 001 P0: target unhealthy > 0
    assert alarms.response_time_p95.threshold == 0.5  # seed 004: p95 > 500 ms
    assert alarms.database_cpu.threshold == 80  # seed 002
    assert alarms.database_connections.threshold == 80  # seed 004: > 80 % of max
    assert alarms.database_free_storage.threshold == 10
    assert alarms.database_freeable_memory.threshold == 500  # seed 002: < 500 MB
    assert alarms.database_latency.threshold == 0.02  # seed 002: > 20 ms
    assert alarms.cache_engine_cpu.threshold == 80  # seed 002
    assert alarms.cache_memory.threshold == 80  # seed 004
    assert alarms.cache_evictions.threshold == 0
    assert {field.alias for field in AlarmsConfig.model_fields.values()} == set(ALARM_DEFAULTS)


def test_committed_stacks_email_prod_oncall_and_nobody_in_dev():
    assert validate_stack_config(raw("prod")).monitoring.alert_emails == ["oncall@example.com"]
    assert validate_stack_config(raw("dev")).monitoring.alert_emails == []


def test_a_partial_override_keeps_that_alarms_other_defaults():
    config = validate_stack_config(with_change("monitoring.alarms.target5xxRate", {"threshold": 2}))
    rate = config.monitoring.alarms.target5xx_rate
    assert (rate.threshold, rate.period, rate.evaluation_periods, rate.datapoints) == (2, 60, 5, 3)
    assert config.monitoring.alarms.service_cpu.threshold == 80


@pytest.mark.parametrize("key,value,message", [
    ("serviceCpu", {"threshold": 0}, "Input should be greater than 0"),
    ("serviceCpu", {"threshold": 101}, "Input should be less than or equal to 100"),
    ("unhealthyHosts", {"threshold": -1}, "Input should be greater than or equal to 0"),
    ("responseTimeP95", {"threshold": 0}, "Input should be greater than 0"),
])
def test_thresholds_outside_their_unit_are_rejected(key, value, message):
    assert problems(with_change(f"monitoring.alarms.{key}", value)) == [
        f"webstack:monitoring.alarms.{key}.threshold = {value['threshold']}: {message}"
    ]


def test_a_valid_threshold_is_accepted():
    config = validate_stack_config(with_change("monitoring.alarms.serviceCpu", {"threshold": 70, "period": 60,
                                                                               "evaluationPeriods": 3}))
    cpu = config.monitoring.alarms.service_cpu
    assert (cpu.threshold, cpu.period, cpu.evaluation_periods) == (70, 60, 3)


def test_period_must_be_whole_minutes():
    assert problems(with_change("monitoring.alarms.databaseCpu", {"period": 90})) == [
        "webstack:monitoring.alarms.databaseCpu.period = 90: "
        "alarm period must be a multiple of 60 seconds (60, 120, 300, ...)"
    ]


def test_evaluation_window_is_at_most_a_day_below_hourly_periods():
    # The refusal (88,500 s with 59-minute periods): tests/test_config_rules.py.
    config = validate_stack_config(with_change("monitoring.alarms.databaseCpu", {"period": 3600,
                                                                                 "evaluationPeriods": 24}))
    assert config.monitoring.alarms.database_cpu.evaluation_periods == 24


def test_hourly_periods_may_be_evaluated_over_seven_days():
    """PutMetricAlarm: up to 604,800 s for periods of an hour or more (one day below that)."""
    config = validate_stack_config(with_change("monitoring.alarms.databaseFreeStorage",
                                               {"period": 3600, "evaluationPeriods": 168}))
    assert config.monitoring.alarms.database_free_storage.evaluation_periods == 168
    assert put_metric_alarm_rules({"MetricName": "FreeStorageSpace", "Namespace": "AWS/RDS", "Statistic": "Minimum",
                                   "Period": 3600, "EvaluationPeriods": 168}) == []
    assert put_metric_alarm_rules({"MetricName": "FreeStorageSpace", "Namespace": "AWS/RDS", "Statistic": "Minimum",
                                   "Period": 3600, "EvaluationPeriods": 169}) != []


def test_unknown_alarm_key_lists_the_known_ones():
    message = problems(with_change("monitoring.alarms.cpu", {"threshold": 80}))[0]
    assert message.startswith("webstack:monitoring.alarms.cpu: unknown key; allowed keys: cacheEngineCpu, ")


def test_alert_emails_must_be_addresses():
    assert problems(with_change("monitoring.alertEmails", ["a@example.com", "oncall"])) == [
        'webstack:monitoring.alertEmails[1] = "oncall": not an email address'
    ]
    # Distinct addresses: tests/test_config_rules.py.
    config = validate_stack_config(with_change("monitoring.alertEmails", ["ops+alerts@team.example.co.uk"]))
    assert config.monitoring.alert_emails == ["ops+alerts@team.example.co.uk"]


def test_docs_thresholds_table_matches_the_defaults():
    """docs/monitoring.md's table is what on-call reads; it must say what the code does."""
    section = (Path(__file__).resolve().parent.parent / "docs" / "monitoring.md").read_text()
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 8 and cells[0].startswith("`") and cells[0].strip("`") in ALARM_DEFAULTS:
            rows[cells[0].strip("`")] = cells
    assert set(rows) == set(ALARM_DEFAULTS)
    for key, defaults in ALARM_DEFAULTS.items():
        _, _, _, _, threshold, window, _, _ = rows[key]
        if "threshold" in defaults:
            assert float(threshold) == defaults["threshold"], key
        minutes = defaults["period"] // 60
        expected = f"{defaults['evaluationPeriods']} × {minutes} min"
        if "datapointsToAlarm" in defaults:
            expected = f"{defaults['datapointsToAlarm']} of {expected}"
        assert window == expected, key
