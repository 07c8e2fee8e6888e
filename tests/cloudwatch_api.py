"""Captured CloudWatch resources as the API calls AWS would receive, checked against botocore's model.

botocore's `ParamValidator` checks types, required members and minimums; the model also carries
enums and maximum lengths/sizes, which `model_problems` checks. `put_metric_alarm_rules` adds the
rules PutMetricAlarm documents in prose (one metric source, period multiples, the one-day window
(seven days for hourly periods), a single returned series in metric math).
"""

from __future__ import annotations

import re
from typing import Any

import botocore.session
from botocore.model import Shape
from botocore.validate import ParamValidator

CLOUDWATCH = botocore.session.get_session().get_service_model("cloudwatch")
TREAT_MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")
PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d+)?|100)$")
QUERY_ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")


def _dimensions(values: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    if not values:
        return None
    return [{"Name": name, "Value": value} for name, value in values.items()]


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _query(query: dict[str, Any]) -> dict[str, Any]:
    metric = query.get("metric")
    return _drop_none({
        "Id": query.get("id"),
        "Expression": query.get("expression"),
        "Label": query.get("label"),
        "ReturnData": query.get("returnData"),
        "Period": query.get("period"),
        "AccountId": query.get("accountId"),
        "MetricStat": _drop_none({
            "Metric": _drop_none({
                "Namespace": metric.get("namespace"),
                "MetricName": metric.get("metricName"),
                "Dimensions": _dimensions(metric.get("dimensions")),
            }),
            "Period": metric.get("period"),
            "Stat": metric.get("stat"),
            "Unit": metric.get("unit"),
        }) if metric else None,
    })


def put_metric_alarm_params(inputs: dict[str, Any]) -> dict[str, Any]:
    """A captured `aws:cloudwatch/metricAlarm:MetricAlarm`'s inputs as PutMetricAlarm parameters."""
    return _drop_none({
        "AlarmName": inputs.get("name"),
        "AlarmDescription": inputs.get("alarmDescription"),
        "ActionsEnabled": inputs.get("actionsEnabled"),
        "OKActions": inputs.get("okActions"),
        "AlarmActions": inputs.get("alarmActions"),
        "InsufficientDataActions": inputs.get("insufficientDataActions"),
        "MetricName": inputs.get("metricName"),
        "Namespace": inputs.get("namespace"),
        "Statistic": inputs.get("statistic"),
        "ExtendedStatistic": inputs.get("extendedStatistic"),
        "Dimensions": _dimensions(inputs.get("dimensions")),
        "Period": inputs.get("period"),
        "Unit": inputs.get("unit"),
        "EvaluationPeriods": inputs.get("evaluationPeriods"),
        "DatapointsToAlarm": inputs.get("datapointsToAlarm"),
        "Threshold": inputs.get("threshold"),
        "ComparisonOperator": inputs.get("comparisonOperator"),
        "TreatMissingData": inputs.get("treatMissingData"),
        "Metrics": [_query(query) for query in inputs["metricQueries"]] if inputs.get("metricQueries") else None,
    })


def model_problems(value: Any, shape: Shape, path: str = "") -> list[str]:
    """Enums and maximums of the service model, which botocore's validator does not check."""
    problems = []
    metadata = shape.metadata
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                problems += model_problems(value[name], member, f"{path}.{name}")
    elif shape.type_name == "list" and isinstance(value, list):
        if "max" in metadata and len(value) > metadata["max"]:
            problems.append(f"{path}: {len(value)} items, at most {metadata['max']}")
        for index, item in enumerate(value):
            problems += model_problems(item, shape.member, f"{path}[{index}]")
    elif shape.type_name == "string" and isinstance(value, str):
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} is not one of {shape.enum}")
        if "max" in metadata and len(value) > metadata["max"]:
            problems.append(f"{path}: {len(value)} characters, at most {metadata['max']}")
    elif shape.type_name == "integer" and isinstance(value, int) and "max" in metadata and value > metadata["max"]:
        problems.append(f"{path}: {value} above {metadata['max']}")
    return problems


def validate(operation: str, params: dict[str, Any]) -> list[str]:
    """Every problem botocore's model finds in `params` for `operation` (empty when AWS would accept it)."""
    shape = CLOUDWATCH.operation_model(operation).input_shape
    report = ParamValidator().validate(params, shape)
    problems = [report.generate_report()] if report.has_errors() else []
    return problems + model_problems(params, shape)


def _period_ok(period: int) -> bool:
    return period in (10, 20, 30) or (period >= 60 and period % 60 == 0)


def put_metric_alarm_rules(params: dict[str, Any]) -> list[str]:
    """The documented PutMetricAlarm rules that are not part of the model."""
    problems = []
    metrics = params.get("Metrics")
    if (metrics is None) == ("MetricName" not in params):
        problems.append("exactly one of MetricName or Metrics")
    if "MetricName" in params:
        if ("Statistic" in params) == ("ExtendedStatistic" in params):
            problems.append("exactly one of Statistic or ExtendedStatistic")
        if "ExtendedStatistic" in params and not PERCENTILE.match(params["ExtendedStatistic"]):
            problems.append(f"ExtendedStatistic {params['ExtendedStatistic']!r} is not a percentile like p95")
        if "Namespace" not in params or "Period" not in params:
            problems.append("a single-metric alarm needs Namespace and Period")
        periods = [params.get("Period", 0)]
    else:
        returned = [query["Id"] for query in metrics if query.get("ReturnData", True)]
        if len(returned) != 1:
            problems.append(f"metric math alarms return exactly one series, got {returned}")
        for query in metrics:
            if not QUERY_ID.match(query["Id"]):
                problems.append(f"metric query id {query['Id']!r} must start with a lower-case letter")
            if ("Expression" in query) == ("MetricStat" in query):
                problems.append(f"metric query {query['Id']} needs exactly one of Expression or MetricStat")
        periods = [query["MetricStat"]["Period"] for query in metrics if "MetricStat" in query]
        for query in metrics:
            # Functions (FILL, IF, ...) are upper case; every lower-case word is another query's id.
            for other in re.findall(r"\b[a-z][A-Za-z0-9_]*\b", query.get("Expression", "")):
                if other not in {q["Id"] for q in metrics}:
                    problems.append(f"expression {query['Expression']!r} refers to unknown id {other!r}")
    for period in periods:
        if not _period_ok(period):
            problems.append(f"period {period} is not 10, 20, 30 or a multiple of 60")
        elif period * params["EvaluationPeriods"] > (86400 if period < 3600 else 7 * 86400):
            # One day, or seven days for periods of an hour or more (PutMetricAlarm's Period).
            problems.append(f"period {period} x {params['EvaluationPeriods']} evaluation periods exceeds "
                            f"CloudWatch's evaluation range")
    if params.get("DatapointsToAlarm", 0) > params["EvaluationPeriods"]:
        problems.append("DatapointsToAlarm exceeds EvaluationPeriods")
    if params.get("TreatMissingData", "missing") not in TREAT_MISSING_DATA:
        problems.append(f"TreatMissingData {params['TreatMissingData']!r} not in {TREAT_MISSING_DATA}")
    return problems


# --- PutDashboard's body (CloudWatch-Dashboard-Body-Structure) ------------------------------------

DASHBOARD_TOP_LEVEL = {"widgets", "start", "end", "periodOverride", "variables"}
WIDGET_TYPES = {"metric", "text", "log", "alarm", "explorer", "custom"}
METRIC_VIEWS = {"timeSeries", "singleValue", "gauge", "bar", "pie", "table"}
METRIC_OPTIONS = {"accountId", "color", "id", "label", "period", "region", "stat", "visible", "yAxis", "expression"}
ANNOTATION_KEYS = {"value", "label", "color", "fill", "visible", "yAxis"}
DASHBOARD_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


def _dashboard_period_ok(period: Any) -> bool:
    return isinstance(period, int) and (period in (1, 5, 10, 30) or (period >= 60 and period % 60 == 0))


def dashboard_body_problems(body: dict[str, Any]) -> list[str]:
    """What CloudWatch's documented dashboard body structure rejects (or silently ignores)."""
    problems = [f"unknown top-level key {key!r}" for key in set(body) - DASHBOARD_TOP_LEVEL]
    if body.get("periodOverride", "auto") not in ("auto", "inherit"):
        problems.append(f"periodOverride {body['periodOverride']!r}")
    for index, widget in enumerate(body.get("widgets", [])):
        where = f"widgets[{index}]"
        if widget.get("type") not in WIDGET_TYPES:
            problems.append(f"{where}: type {widget.get('type')!r}")
        for key, low, high in (("x", 0, 23), ("y", 0, None), ("width", 1, 24), ("height", 1, 1000)):
            value = widget.get(key)
            if not isinstance(value, int) or value < low or (high is not None and value > high):
                problems.append(f"{where}: {key} = {value!r}")
        properties = widget.get("properties")
        if not isinstance(properties, dict):
            problems.append(f"{where}: properties missing")
            continue
        if widget.get("type") == "text" and not isinstance(properties.get("markdown"), str):
            problems.append(f"{where}: a text widget needs properties.markdown")
        if widget.get("type") != "metric":
            continue
        if not properties.get("region"):
            problems.append(f"{where}: a metric widget needs properties.region")
        if properties.get("view", "timeSeries") not in METRIC_VIEWS:
            problems.append(f"{where}: view {properties['view']!r}")
        if "period" in properties and not _dashboard_period_ok(properties["period"]):
            problems.append(f"{where}: period {properties['period']!r}")
        metrics = properties.get("metrics")
        if not isinstance(metrics, list) or not metrics or len(metrics) > 500:
            problems.append(f"{where}: metrics must be a list of 1-500 rows")
            metrics = []
        for row in metrics:
            names = row[:-1] if row and isinstance(row[-1], dict) else row
            options = row[-1] if row and isinstance(row[-1], dict) else {}
            # [Namespace, MetricName, DimensionName, DimensionValue, ...]; "." repeats the row above.
            if len(names) < 2 or len(names) % 2 or not all(isinstance(n, str) and n for n in names):
                problems.append(f"{where}: metric row {row!r}")
            problems += [f"{where}: unknown metric option {key!r}" for key in set(options) - METRIC_OPTIONS]
        for line in properties.get("annotations", {}).get("horizontal", []):
            if not isinstance(line.get("value"), (int, float)) or set(line) - ANNOTATION_KEYS:
                problems.append(f"{where}: horizontal annotation {line!r}")
    return problems
