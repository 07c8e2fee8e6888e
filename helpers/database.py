"""Sizing of the data tier by instance class, and the identifiers AWS gives its pieces. Pure.

`max_connections` follows seed 002's table (about 100 connections per GiB of instance memory:
db.t3.small 200, db.t3.medium 400, db.m5.large 800, db.m5.xlarge 1600), capped at 5,000 as RDS's
own formula is. The parameter group sets exactly this value, so an alarm at a fraction of
`max_connections(instance_class)` watches the real limit.
"""

from __future__ import annotations

import hashlib
import re

from helpers.instance_classes import RDS_POSTGRES_CLASSES, describe_rds_classes

CONNECTIONS_PER_GIB = 100
RDS_MAX_CONNECTIONS_CAP = 5000
PAGE_KIB = 8  # shared_buffers and effective_cache_size are counted in 8 kB pages on RDS

RDS_IDENTIFIER_LIMIT = 63
REPLICATION_GROUP_ID_LIMIT = 40


def memory_gib(instance_class: str) -> int:
    """Memory of an RDS instance class, e.g. 4 for db.t4g.medium, 8 for db.m7g.large."""
    if instance_class not in RDS_POSTGRES_CLASSES:
        raise ValueError(f"{instance_class!r} is not an RDS for PostgreSQL instance class; supported: {describe_rds_classes()}")
    return RDS_POSTGRES_CLASSES[instance_class]


def memory_mib(instance_class: str) -> int:
    return memory_gib(instance_class) * 1024


def max_connections(instance_class: str) -> int:
    return min(RDS_MAX_CONNECTIONS_CAP, memory_gib(instance_class) * CONNECTIONS_PER_GIB)


def postgres_parameters(instance_class: str, slow_query_ms: int) -> list[tuple[str, str, str]]:
    """(name, value, apply method) of the instance's parameter group, seed 002's tuning sized to the class.

    Static parameters (`max_connections`, `shared_buffers`) only take effect on reboot, and RDS
    rejects `immediate` for them; every other one here is dynamic.
    """
    mib = memory_mib(instance_class)
    pages_per_mib = 1024 // PAGE_KIB
    maintenance_mib = min(2048, max(64, mib // 16))
    return [
        ("max_connections", str(max_connections(instance_class)), "pending-reboot"),
        ("shared_buffers", str(mib // 4 * pages_per_mib), "pending-reboot"),  # 25 % of memory
        ("effective_cache_size", str(mib * 3 // 4 * pages_per_mib), "immediate"),  # 75 % of memory
        ("work_mem", str(4 * 1024), "immediate"),  # kB per sort/hash operation
        ("maintenance_work_mem", str(maintenance_mib * 1024), "immediate"),  # kB, VACUUM and CREATE INDEX
        ("random_page_cost", "1.1", "immediate"),  # SSD storage: random reads cost about a sequential one
        ("effective_io_concurrency", "200", "immediate"),
        ("log_min_duration_statement", str(slow_query_ms), "immediate"),
        ("log_connections", "1", "immediate"),
        ("log_disconnections", "1", "immediate"),
        ("rds.force_ssl", "1", "immediate"),
    ]


def bounded_identifier(base: str, limit: int) -> str:
    """`base` as an AWS identifier (lower case, letters/digits/single hyphens) of at most `limit` characters.

    Too-long names keep their start and get a short hash of the full name, so two long stack
    names never collide.
    """
    cleaned = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", base.lower())).strip("-")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = f"x{cleaned}"
    if len(cleaned) <= limit:
        return cleaned
    digest = hashlib.sha256(cleaned.encode()).hexdigest()[:6]
    return f"{cleaned[:limit - len(digest) - 1].rstrip('-')}-{digest}"


def cache_member_cluster_ids(replication_group_id: str, node_count: int, shards: int | None = None) -> list[str]:
    """ElastiCache names a (cluster-mode disabled) group's nodes `<group id>-001`, `-002`, ...; with cluster
    mode, shard by shard, `<group id>-0001-001`, `-0001-002`, ..., `-0002-001`, ..."""
    if shards is None:
        return [f"{replication_group_id}-{index:03d}" for index in range(1, node_count + 1)]
    per_shard = node_count // shards
    return [f"{replication_group_id}-{shard:04d}-{node:03d}"
            for shard in range(1, shards + 1) for node in range(1, per_shard + 1)]


# Aurora PostgreSQL's default max_connections: LEAST(DBInstanceClassMemory / 9531392, 5000); a
# Serverless v2 instance is sized by its maximum ACUs, 2 GiB each.
AURORA_CONNECTION_BYTES = 9531392
AURORA_MAX_CONNECTIONS = 5000
ACU_GIB = 2


def aurora_max_connections(instance_class: str, max_acu: float) -> int:
    memory = (max_acu * ACU_GIB if instance_class == "db.serverless" else memory_gib(instance_class)) * 1024 ** 3
    return min(int(memory // AURORA_CONNECTION_BYTES), AURORA_MAX_CONNECTIONS)
