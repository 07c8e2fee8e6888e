"""The pure alarm and dashboard builders, without a Pulumi runtime."""

from __future__ import annotations

from helpers.alarms import cache_alarms, database_alarms, service_alarms, target_group_alarms
from helpers.dashboard import GRID_WIDTH, DatabasePanels, ServicePanels, dashboard_body, dashboard_name
from stackconfig.monitoring import AlarmsConfig

DEFAULTS = AlarmsConfig()


def test_descriptions_state_the_condition_and_what_to_do():
    cpu, memory, tasks = service_alarms("backend", "app", "backend-svc", 2, DEFAULTS)
    assert cpu.description.startswith("P0: backend average CPU above 80 % for 2 x 5 min. What to do: ")
    assert tasks.description.startswith(
        "P0: backend has had fewer than 2 running tasks (its scaling.min) for 5 x 1 min.")
    rate = target_group_alarms("backend", "app/lb/1", "targetgroup/tg/2", DEFAULTS)[0]
    assert rate.description.startswith(
        "P0: more than 5 % of requests to backend answered 5xx in 3 of 5 periods of 1 min.")
    for spec in (cpu, memory, tasks, rate):
        assert len(spec.description) <= 1024  # PutMetricAlarm's AlarmDescription limit


def test_no_running_task_alarm_for_a_service_that_may_scale_to_zero():
    assert [spec.key for spec in service_alarms("worker", "app", "worker-svc", 0, DEFAULTS)] == [
        "worker-cpu-high", "worker-memory-high"]


def test_database_thresholds_are_converted_to_the_metrics_units():
    specs = {spec.key: spec for spec in database_alarms("db-primary", "db-1", 800, 200, DEFAULTS)}
    assert specs["db-primary-connections-high"].threshold == 640  # 80 % of db.m5.large's 800 (seed 002)
    assert specs["db-primary-storage-low"].threshold == 20 * 1024 ** 3  # 10 % of 200 GiB, bytes
    assert specs["db-primary-memory-low"].threshold == 500 * 1024 ** 2  # MiB -> bytes
    assert specs["db-primary-write-latency"].metric.name == "WriteLatency"


def test_freeable_memory_alarm_is_capped_at_a_quarter_of_the_class_memory():
    """500 MiB on a 1 GiB db.t4g.micro (a quarter of it shared buffers) would sit in ALARM all day."""
    def memory_low(memory_mib):
        specs = database_alarms("db-primary", "db-1", 100, 20, DEFAULTS, memory_mib=memory_mib)
        return next(spec for spec in specs if spec.key == "db-primary-memory-low")
    micro = memory_low(1024)
    assert micro.threshold == 256 * 1024 ** 2
    assert "less than 256 MiB freeable memory" in micro.description
    assert memory_low(4096).threshold == 500 * 1024 ** 2  # db.t4g.medium: the seed's 500 MB


def test_cache_alarms_use_the_member_cluster_dimension():
    specs = cache_alarms("cache-1", "webstack-prod-redis-001", DEFAULTS)
    assert {spec.metric.name for spec in specs} == {"EngineCPUUtilization", "DatabaseMemoryUsagePercentage",
                                                    "Evictions"}
    assert all(spec.metric.dimensions == {"CacheClusterId": "webstack-prod-redis-001"} for spec in specs)


def test_widgets_flow_within_the_grid_without_overlapping():
    services = {name: ServicePanels(f"{name}-svc", f"targetgroup/{name}/1", 1) for name in ("a", "b", "c")}
    body = dashboard_body("eu-west-1", "app", "app/lb/1", services, DEFAULTS,
                          databases={"primary": DatabasePanels("db-1", 400)}, cache_cluster_ids=["redis-001"])
    cells = set()
    for widget in body["widgets"]:
        assert widget["x"] + widget["width"] <= GRID_WIDTH
        covered = {(x, y) for x in range(widget["x"], widget["x"] + widget["width"])
                   for y in range(widget["y"], widget["y"] + widget["height"])}
        assert not cells & covered
        cells |= covered
    regions = {w["properties"]["region"] for w in body["widgets"] if w["type"] == "metric"}
    assert regions == {"eu-west-1"}


def test_no_data_tier_panels_without_a_data_tier():
    body = dashboard_body("us-east-1", "app", "app/lb/1", {"web": ServicePanels("web-svc", "targetgroup/w/1", 1)},
                          DEFAULTS)
    titles = [w["properties"].get("title", "") for w in body["widgets"]]
    assert not [title for title in titles if title.startswith(("RDS", "Redis"))]


def test_a_service_without_routes_has_task_panels_and_no_load_balancer_panels():
    body = dashboard_body("us-east-1", "app", "app/lb/1", {"web": ServicePanels("web-svc", "targetgroup/w/1", 1),
                                                           "worker": ServicePanels("worker-svc", None, 1)}, DEFAULTS)
    titles = [w["properties"].get("title", "") for w in body["widgets"]]
    assert "worker: tasks" in titles and "worker: CPU and memory (%)" in titles
    assert "worker: requests and errors" not in titles and "worker: response time (s)" not in titles
    dimensions = [metric[2:] for w in body["widgets"] if w["type"] == "metric" for metric in w["properties"]["metrics"]]
    assert not [d for d in dimensions if None in d]
    assert "web: requests and errors" in titles


def test_dashboard_name_uses_only_the_characters_put_dashboard_accepts():
    # Pulumi allows '.' in project and stack names; PutDashboard allows only A-Z a-z 0-9 - _.
    assert dashboard_name("webstack", "prod") == "webstack-prod"
    assert dashboard_name("web.stack", "prod.eu_1") == "web-stack-prod-eu_1"
    assert len(dashboard_name("webstack", "s" * 300)) == 255
