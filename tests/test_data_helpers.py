"""Data-tier sizing and identifiers: pure functions, checked against seed 002's table and AWS's limits."""

from __future__ import annotations

import pytest

from helpers.database import (
    bounded_identifier,
    cache_member_cluster_ids,
    max_connections,
    memory_gib,
    memory_mib,
    postgres_parameters,
)


@pytest.mark.parametrize("instance_class,connections", [
    # Seed 002, "RDS PostgreSQL Connection Limits".
    ("db.t3.small", 200), ("db.t3.medium", 400), ("db.m5.large", 800), ("db.m5.xlarge", 1600),
])
def test_max_connections_follow_seed_002(instance_class, connections):
    assert max_connections(instance_class) == connections


@pytest.mark.parametrize("instance_class,gib", [
    ("db.t4g.micro", 1), ("db.t4g.medium", 4), ("db.m7g.large", 8), ("db.r6g.large", 16),
    ("db.m6i.4xlarge", 64), ("db.r7g.2xlarge", 64),
])
def test_memory_by_class(instance_class, gib):
    assert memory_gib(instance_class) == gib
    assert memory_mib(instance_class) == gib * 1024


def test_connections_capped_like_rds():
    assert max_connections("db.r6g.16xlarge") == 5000


@pytest.mark.parametrize("bad", ["t4g.micro", "db.t4g.huge", "db.z9.large", "db.m5.3xlarge", "db.m5.micro"])
def test_unknown_classes_are_refused(bad):
    with pytest.raises(ValueError):
        memory_gib(bad)


def test_parameters_sized_to_db_t3_medium_as_in_seed_002():
    parameters = {name: (value, method) for name, value, method in postgres_parameters("db.t3.medium", 500)}
    assert parameters["max_connections"] == ("400", "pending-reboot")
    assert parameters["shared_buffers"] == (str(1024 * 1024 // 8), "pending-reboot")  # 1 GB in 8 kB pages
    assert parameters["effective_cache_size"] == (str(3 * 1024 * 1024 // 8), "immediate")  # 3 GB
    assert parameters["work_mem"] == ("4096", "immediate")  # 4 MB
    assert parameters["maintenance_work_mem"] == (str(256 * 1024), "immediate")  # 256 MB
    assert parameters["random_page_cost"] == ("1.1", "immediate")
    assert parameters["effective_io_concurrency"] == ("200", "immediate")
    assert parameters["log_min_duration_statement"] == ("500", "immediate")
    assert parameters["log_connections"] == ("1", "immediate")
    assert parameters["rds.force_ssl"] == ("1", "immediate")


def test_bounded_identifier_keeps_aws_rules():
    assert bounded_identifier("webstack-prod-cache", 40) == "webstack-prod-cache"
    assert bounded_identifier("WebStack_Prod--cache", 40) == "webstack-prod-cache"
    long_name = bounded_identifier("webstack-" + "x" * 60 + "-cache", 40)
    assert len(long_name) == 40 and long_name.startswith("webstack-xxx") and "--" not in long_name
    assert long_name != bounded_identifier("webstack-" + "x" * 61 + "-cache", 40)
    assert bounded_identifier("1st-stack", 40) == "x1st-stack"


def test_member_cluster_ids():
    assert cache_member_cluster_ids("webstack-prod-cache", 2) == ["webstack-prod-cache-001", "webstack-prod-cache-002"]
