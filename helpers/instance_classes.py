"""The ElastiCache node types and RDS for PostgreSQL instance classes this stack can create. Pure data.

Kept by hand from AWS's pages (read 2026-12-01); a type AWS adds is refused until it is listed here,
so a typo (`cache.t4g.mini`) is refused before anything is declared instead of failing in `pulumi up`.
Prices are separate (`policies/pricing/<region>.json`): a listed type without a price is reported as unpriced
by the cost estimate, never counted as free.

ElastiCache: "Supported node types", Amazon ElastiCache User Guide,
https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/CacheNodes.SupportedTypes.html
(tables "Current Generation (Valkey)" and "Current Generation (Redis OSS)"). Left out: T2 (AWS no
longer creates new clusters on it) and R6gd (data tiering: CreateReplicationGroup requires
DataTieringEnabled, which this stack does not set).

RDS: "Supported DB engines for DB instance classes", Amazon RDS User Guide,
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Support.html
(the PostgreSQL column; every class here supports PostgreSQL 14-17, the majors the stack offers),
memory from "Hardware specifications for DB instance classes" (same guide). Left out: families the
page lists as deprecated for PostgreSQL (m4, r4, t2) or as Multi-AZ DB cluster only (c6gd), and the
network-optimised and high-memory families (m6in, m6idn, r6in, r6idn, x2g, x2idn, x2iedn).
"""

from __future__ import annotations

# --- ElastiCache -------------------------------------------------------------------------------

_SIZES_7 = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
_BURSTABLE_CACHE = ("micro", "small", "medium")
_ELASTICACHE_FAMILIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # family: (sizes, engines)
    "t4g": (_BURSTABLE_CACHE, ("redis", "valkey")),
    "t3": (_BURSTABLE_CACHE, ("redis", "valkey")),
    "m8g": (_SIZES_7, ("valkey",)),
    "m7g": (_SIZES_7, ("redis", "valkey")),
    "m6g": (_SIZES_7, ("redis", "valkey")),
    "m5": (("large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge"), ("redis", "valkey")),
    "m4": (("large", "xlarge", "2xlarge", "4xlarge", "10xlarge"), ("redis", "valkey")),
    "r8g": (_SIZES_7, ("valkey",)),
    "r7g": (_SIZES_7, ("redis", "valkey")),
    "r6g": (_SIZES_7, ("redis", "valkey")),
    "r5": (("large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge"), ("redis", "valkey")),
    "r4": (("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge"), ("redis", "valkey")),
    "c8gn": (_SIZES_7, ("valkey",)),
    "c7gn": (_SIZES_7, ("redis", "valkey")),
}
# Node type -> the engines that run on it.
ELASTICACHE_NODE_TYPES: dict[str, tuple[str, ...]] = {
    f"cache.{family}.{size}": engines
    for family, (sizes, engines) in _ELASTICACHE_FAMILIES.items()
    for size in sizes
}
ELASTICACHE_FAMILIES = tuple(_ELASTICACHE_FAMILIES)

# --- RDS for PostgreSQL ------------------------------------------------------------------------

# Burstable classes: GiB of memory by size.
_BURSTABLE_MEMORY_GIB = {"micro": 1, "small": 2, "medium": 4, "large": 8, "xlarge": 16, "2xlarge": 32}
# vCPUs by size of the fixed-performance families; memory is 4 GiB per vCPU (m) or 8 (r).
_VCPUS = {"large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32, "12xlarge": 48,
          "16xlarge": 64, "24xlarge": 96, "32xlarge": 128, "48xlarge": 192}
_UP_TO_16X = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
_UP_TO_24X = _UP_TO_16X + ("24xlarge",)
_UP_TO_32X = _UP_TO_24X + ("32xlarge",)
_UP_TO_48X = _UP_TO_24X + ("48xlarge",)
_RDS_FIXED_FAMILIES: dict[str, tuple[str, ...]] = {
    "m5": _UP_TO_24X, "m5d": _UP_TO_24X,
    "m6g": _UP_TO_16X, "m6gd": _UP_TO_16X,
    "m6i": _UP_TO_32X, "m6id": _UP_TO_32X,
    "m7g": _UP_TO_16X, "m7i": _UP_TO_48X, "m8g": _UP_TO_48X,
    "r5": _UP_TO_24X, "r5b": _UP_TO_24X, "r5d": _UP_TO_24X,
    "r6g": _UP_TO_16X, "r6gd": _UP_TO_16X,
    "r6i": _UP_TO_32X, "r6id": _UP_TO_32X,
    "r7g": _UP_TO_16X, "r7i": _UP_TO_48X, "r8g": _UP_TO_48X,
}
_GIB_PER_VCPU = {"m": 4, "r": 8}
# Instance class -> GiB of memory.
RDS_POSTGRES_CLASSES: dict[str, int] = {
    **{f"db.{family}.{size}": gib for family in ("t3", "t4g") for size, gib in _BURSTABLE_MEMORY_GIB.items()},
    **{
        f"db.{family}.{size}": _VCPUS[size] * _GIB_PER_VCPU[family[0]]
        for family, sizes in _RDS_FIXED_FAMILIES.items()
        for size in sizes
    },
}
RDS_FAMILIES = ("t3", "t4g", *_RDS_FIXED_FAMILIES)


def describe_rds_classes() -> str:
    """What `database.instanceClass` accepts, in one line (for error messages and the reference)."""
    return (f"db.t3/db.t4g micro-2xlarge, or large and up of {', '.join('db.' + f for f in _RDS_FIXED_FAMILIES)} "
            f"(each family's sizes as AWS lists them for PostgreSQL)")


def describe_cache_node_types() -> str:
    return (f"cache.t3/cache.t4g micro-medium, or large and up of "
            f"{', '.join('cache.' + f for f in ELASTICACHE_FAMILIES if f not in ('t3', 't4g'))} "
            f"(m8g, r8g and c8gn with Valkey only)")
