"""The node types and instance classes the config accepts: kept with their AWS source, tied to the price file
and to botocore's own list, refused by name when unknown, and reported unpriced (never free) when known but
not priced yet."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import botocore
import pytest

from cost import estimate, load_prices, records_from_captured
from helpers.instance_classes import ELASTICACHE_NODE_TYPES, RDS_POSTGRES_CLASSES
from tests.conftest import run_stack
from tests.test_config import problems, with_change

ROOT = Path(__file__).resolve().parent.parent
# Left out on purpose (helpers/instance_classes.py says why): previous generation, T2, data tiering.
NOT_OFFERED = ("t1", "m1", "m2", "m3", "c1", "r3", "t2", "r6gd")


def test_every_priced_type_is_a_known_type():
    tables = load_prices().tables
    assert set(tables["elasticache.nodeHour"]["rows"]) <= set(ELASTICACHE_NODE_TYPES)
    assert set(tables["rds.postgres.instanceHour"]["rows"]) <= set(RDS_POSTGRES_CLASSES)


def test_memory_agrees_with_the_price_files_vcpus():
    for instance_class, row in load_prices().tables["rds.postgres.instanceHour"]["rows"].items():
        family = instance_class.split(".")[1]
        if family in ("t3", "t4g"):
            continue
        assert RDS_POSTGRES_CLASSES[instance_class] == row["vcpu"] * {"m": 4, "r": 8}[family[0]], instance_class


def test_botocores_current_node_types_are_all_known():
    """botocore's ElastiCache model documents the node types (a second AWS publication, older than the guide)."""
    models = Path(botocore.__file__).parent / "data" / "elasticache"
    model = json.loads(gzip.open(sorted(models.glob("*/service-2.json.gz"))[-1]).read())
    documented = set(re.findall(r"cache\.[a-z0-9]+\.[a-z0-9]+", model["shapes"]["CacheNode"]["documentation"]))
    current = {node for node in documented if node.split(".")[1] not in NOT_OFFERED}
    assert current and current <= set(ELASTICACHE_NODE_TYPES)


def test_unknown_node_type_and_instance_class_are_refused_by_key():
    values = with_change("cache.nodeType", "cache.t4g.mini")
    values["database"]["instanceClass"] = "db.m5.3xlarge"
    assert problems(values) == [
        'webstack:cache.nodeType = "cache.t4g.mini": not an ElastiCache node type this stack can create; supported: '
        "cache.t3/cache.t4g micro-medium, or large and up of cache.m8g, cache.m7g, cache.m6g, cache.m5, cache.m4, "
        "cache.r8g, cache.r7g, cache.r6g, cache.r5, cache.r4, cache.c8gn, cache.c7gn (m8g, r8g and c8gn with Valkey "
        "only)",
        'webstack:database.instanceClass = "db.m5.3xlarge": not an RDS for PostgreSQL instance class this stack can '
        "create; supported: db.t3/db.t4g micro-2xlarge, or large and up of db.m5, db.m5d, db.m6g, db.m6gd, db.m6i, "
        "db.m6id, db.m7g, db.m7i, db.m8g, db.r5, db.r5b, db.r5d, db.r6g, db.r6gd, db.r6i, db.r6id, db.r7g, db.r7i, "
        "db.r8g (each family's sizes as AWS lists them for PostgreSQL)",
    ]


@pytest.mark.parametrize("bad", ["cache.t2.micro", "cache.r6gd.xlarge", "cache.m5.8xlarge", "cache.T4G.micro"])
def test_types_aws_would_refuse_or_this_stack_cannot_run_are_refused(bad):
    assert problems(with_change("cache.nodeType", bad))[0].startswith(f'webstack:cache.nodeType = "{bad}": not an')


def test_a_known_type_without_a_price_is_reported_unpriced_not_free():
    def bigger(config):
        config["webstack:cache"]["nodeType"] = "cache.r7g.2xlarge"
        config["webstack:database"]["instanceClass"] = "db.r7g.2xlarge"

    result = estimate(records_from_captured(run_stack("dev", bigger).resources))
    reasons = {u.type: u.reason for u in result.unpriced}
    assert reasons["aws:elasticache/replicationGroup:ReplicationGroup"] == (
        "no price yet for node type 'cache.r7g.2xlarge' in policies/pricing/us-east-1.json (tables.elasticache.nodeHour)"
    )
    assert reasons["aws:rds/instance:Instance"] == (
        "no price yet for instance class 'db.r7g.2xlarge' in policies/pricing/us-east-1.json "
        "(tables.rds.postgres.instanceHour)"
    )
    assert not [line for line in result.lines if "r7g.2xlarge" in line.item]
