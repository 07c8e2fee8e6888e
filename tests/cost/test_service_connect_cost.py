"""Service Connect's cost: Cloud Map bills each registered instance, a running task of a service called by name."""

from __future__ import annotations

import pytest

from cost import estimate
from tests.cost.test_estimator import only_line, rec, service_records


def test_each_task_of_a_service_reachable_by_name_is_a_registered_instance():
    records = service_records(minimum=2, maximum=10)
    service = records[2]
    service.props["serviceConnectConfiguration"] = {"enabled": True, "namespace": "arn:ns", "services": [
        {"portName": "http", "clientAlias": {"port": 8000, "dnsName": "backend"}}]}
    records.append(rec("aws:servicediscovery/httpNamespace:HttpNamespace", "service-connect-namespace"))
    line = only_line(estimate(records), "aws:servicediscovery/httpNamespace:HttpNamespace")
    assert (line.monthly_usd_min, line.monthly_usd_max) == pytest.approx((2 * 0.10, 10 * 0.10))


def test_clients_register_nothing():
    records = service_records(minimum=2, maximum=10)
    records[2].props["serviceConnectConfiguration"] = {"enabled": True, "namespace": "arn:ns"}
    records.append(rec("aws:servicediscovery/httpNamespace:HttpNamespace", "service-connect-namespace"))
    line = only_line(estimate(records), "aws:servicediscovery/httpNamespace:HttpNamespace")
    assert line.monthly_usd_max == 0
