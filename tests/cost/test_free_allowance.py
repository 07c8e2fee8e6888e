"""CloudWatch's always-free allowance: a separate, labelled credit line, only when a stack claims it."""

from __future__ import annotations

import pytest

from cost import UsageAssumptions, estimate
from cost.estimator import CLOUDFRONT_FREE_TIER_TYPE, FREE_TIER_TYPE
from stackconfig.cost import CostConfig
from tests.cost.test_estimator import rec


def monitoring_records(standard_alarms: int = 12, high_resolution_alarms: int = 0, dashboards: int = 1):
    alarms = [rec("aws:cloudwatch/metricAlarm:MetricAlarm", f"alarm-{i}", {"period": 60}) for i in range(standard_alarms)]
    alarms += [rec("aws:cloudwatch/metricAlarm:MetricAlarm", f"fast-{i}", {"period": 10})
               for i in range(high_resolution_alarms)]
    tracking = [rec("aws:appautoscaling/policy:Policy", "cpu", {"policyType": "TargetTrackingScaling",
                                                                 "targetTrackingScalingPolicyConfiguration": {}})]
    boards = [rec("aws:cloudwatch/dashboard:Dashboard", f"board-{i}", {}) for i in range(dashboards)]
    return alarms + tracking + boards


def allowance(result):
    return [line for line in result.lines if line.type == FREE_TIER_TYPE]


def test_no_credit_unless_the_stack_claims_the_allowance():
    assert allowance(estimate(monitoring_records())) == []


def test_a_stack_alone_in_its_account_is_credited_ten_alarms_and_its_dashboards():
    usage = UsageAssumptions.from_mapping({"cloudwatchFreeTierShare": 1})
    result = estimate(monitoring_records(), usage=usage)
    [line] = allowance(result)
    # 12 alarms + 2 from target tracking: 10 free x $0.10; 1 dashboard of 3 free x $3.00
    assert line.monthly_usd_min == line.monthly_usd_max == pytest.approx(-4.0)
    assert (line.component, line.resource, line.item) == (
        "(stack)", "cloudwatch-always-free", "per account: 10 alarms, 3 dashboards")
    assert line.basis == ("-1 (cloudwatchFreeTierShare) x (min(10, 14 alarm metrics) x $0.1 + min(3, 1 dashboards) "
                          "x $3): free once per account, so credit it to one stack only")
    charged = sum(l.monthly_usd_min for l in result.lines if l.type != FREE_TIER_TYPE)
    assert result.total("min") == pytest.approx(charged - 4.0)


def test_high_resolution_alarms_are_not_free_and_a_share_scales_the_credit():
    usage = UsageAssumptions.from_mapping({"cloudwatchFreeTierShare": 0.5})
    [line] = allowance(estimate(monitoring_records(standard_alarms=3, high_resolution_alarms=5, dashboards=4),
                                usage=usage))
    # 3 + 2 standard alarm metrics (the fast ones do not count), 3 of 4 dashboards: 0.5 x (0.5 + 9)
    assert line.monthly_usd_min == pytest.approx(-4.75)


def test_the_share_is_a_fraction():
    with pytest.raises(ValueError, match="cloudwatchFreeTierShare must be at most 1.0, got 2"):
        UsageAssumptions.from_mapping({"cloudwatchFreeTierShare": 2})
    with pytest.raises(ValueError, match="less than or equal to 1"):
        CostConfig.model_validate({"cloudwatchFreeTierShare": 1.5})
    assert CostConfig.model_validate({"cloudwatchFreeTierShare": 1}).cloudwatch_free_tier_share == 1


# --- CloudFront's always-free allowance -------------------------------------------------------------

def cloudfront_records(distributions: int = 1, functions: int = 1):
    return [rec("aws:cloudfront/distribution:Distribution", f"cdn-{i}", {}) for i in range(distributions)] + [
        rec("aws:cloudfront/function:Function", f"fn-{i}", {}) for i in range(functions)]


def cloudfront_allowance(result):
    return [line for line in result.lines if line.type == CLOUDFRONT_FREE_TIER_TYPE]


def test_no_cloudfront_credit_unless_claimed_or_without_a_distribution():
    assert cloudfront_allowance(estimate(cloudfront_records())) == []
    usage = UsageAssumptions.from_mapping({"cloudfrontFreeTierShare": 1})
    assert cloudfront_allowance(estimate(cloudfront_records(distributions=0), usage=usage)) == []


def test_a_stack_alone_in_its_account_is_credited_what_it_uses_of_cloudfronts_allowance():
    usage = UsageAssumptions.from_mapping({"cloudfrontFreeTierShare": 1})
    result = estimate(cloudfront_records(), usage=usage)
    [line] = cloudfront_allowance(result)
    charged = sum(line.monthly_usd_min for line in result.lines if line.type.startswith("aws:cloudfront/"))
    # 50 GB x $0.085 + 1 M requests x $0.01/10k + 1 M invocations x $0.10: all within 1 TB, 10 M and 2 M.
    assert line.monthly_usd_min == line.monthly_usd_max == pytest.approx(-(4.25 + 1.0 + 0.10)) == -charged
    assert line.resource == "cloudfront-always-free"


def test_the_cloudfront_credit_stops_at_the_allowance():
    usage = UsageAssumptions.from_mapping({"cloudfrontFreeTierShare": 0.5, "cloudfrontGbMonth": 3000,
                                           "cloudfrontRequestsMillionsMonth": 40})
    [line] = cloudfront_allowance(estimate(cloudfront_records(), usage=usage))
    assert line.monthly_usd_min == pytest.approx(-0.5 * (1000 * 0.085 + 10 * 100 * 0.01 + 2 * 0.10))
