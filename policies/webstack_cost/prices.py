"""The price book: list prices read from `policies/pricing/<region>.json`, each with its unit, date and source.

A price that is missing is an error, never a zero: the estimator reports an unpriced item instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

PRICING_DIR = Path(__file__).resolve().parent.parent / "pricing"  # policies/pricing, shipped with the pack
DEFAULT_REGION = "us-east-1"
REQUIRED_FIGURE_KEYS = ("usd", "unit", "dateRead", "source")


@dataclass(frozen=True)
class RdsClassPrice:
    single_az_hour: float
    multi_az_hour: float
    vcpu: int


@dataclass(frozen=True)
class PriceBook:
    region: str
    hours_per_month: float
    date_read: str
    figures: Mapping[str, Mapping[str, Any]]
    tables: Mapping[str, Mapping[str, Any]]

    def rate(self, key: str) -> float:
        try:
            return float(self.figures[key]["usd"])
        except KeyError:
            raise KeyError(f"no price {key!r} in policies/pricing/{self.region}.json") from None

    def cache_node_hour(self, node_type: str, engine: str) -> float | None:
        """Hourly price of one ElastiCache node; Valkey nodes cost `valkeyDiscount` less than Redis OSS."""
        table = self.tables["elasticache.nodeHour"]
        redis_price = table["rows"].get(node_type)
        if redis_price is None:
            return None
        if engine == "valkey":
            return redis_price * (1 - float(table["valkeyDiscount"]))
        return float(redis_price)

    def ec2_instance_hour(self, instance_type: str) -> float | None:
        price = self.tables["ec2.instanceHour"]["rows"].get(instance_type)
        return None if price is None else float(price)

    def rds_class(self, instance_class: str) -> RdsClassPrice | None:
        row = self.tables["rds.postgres.instanceHour"]["rows"].get(instance_class)
        if row is None:
            return None
        return RdsClassPrice(float(row["singleAz"]), float(row["multiAz"]), int(row["vcpu"]))


def _check(document: Mapping[str, Any], path: Path) -> None:
    problems = []
    for key, figure in document["figures"].items():
        missing = [k for k in REQUIRED_FIGURE_KEYS if k not in figure]
        if missing:
            problems.append(f"figure {key}: missing {', '.join(missing)}")
        elif not isinstance(figure["usd"], (int, float)) or figure["usd"] <= 0:
            problems.append(f"figure {key}: usd must be a positive number, got {figure['usd']!r}")
    for key, table in document["tables"].items():
        missing = [k for k in ("unit", "dateRead", "source", "rows") if k not in table]
        if missing:
            problems.append(f"table {key}: missing {', '.join(missing)}")
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))


def load_prices(region: str = DEFAULT_REGION, directory: Path = PRICING_DIR) -> PriceBook:
    path = directory / f"{region}.json"
    if not path.exists():
        raise FileNotFoundError(f"no price data for region {region!r} ({path} is missing)")
    document = json.loads(path.read_text())
    _check(document, path)
    dates = {figure["dateRead"] for figure in document["figures"].values()}
    return PriceBook(
        region=document["region"],
        hours_per_month=float(document["hoursPerMonth"]),
        date_read=max(dates),
        figures=document["figures"],
        tables=document["tables"],
    )
