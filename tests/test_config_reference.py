"""docs/configuration.md is generated from the config models (`make docs`): it must be current, and every key
must carry its documentation on its pydantic field."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Union, get_args, get_origin

from pydantic import BaseModel

from stackconfig.reference import TARGET, reference
from stackconfig.stack import StackConfig


def models(model: type[BaseModel], seen: set[type] | None = None) -> Iterator[type[BaseModel]]:
    """Every model reachable from `model` through its fields."""
    seen = set() if seen is None else seen
    if model in seen:
        return
    seen.add(model)
    yield model
    for field in model.model_fields.values():
        for inner in _types(field.annotation):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                yield from models(inner, seen)


def _types(annotation: Any) -> Iterator[Any]:
    yield annotation
    if get_origin(annotation) in (Union, list, dict) or hasattr(annotation, "__metadata__"):
        for arg in get_args(annotation):
            yield from _types(arg)


def test_committed_reference_is_what_make_docs_writes():
    assert TARGET == Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
    assert TARGET.read_text() == reference(), "docs/configuration.md is stale: run `make docs` and commit it"


def test_every_key_is_documented_on_its_field():
    undocumented = [f"{model.__name__}.{name}" for model in models(StackConfig)
                    for name, field in model.model_fields.items() if not (field.description or "").strip()]
    assert undocumented == []


def test_every_key_path_is_in_the_reference():
    text = reference()
    for path in ("services.<name>.routes.priority", "network.availabilityZones", "cache.maintenanceWindow",
                 "database.replicaInstanceClass", "monitoring.alarms.serviceCpu", "cost.fargateSpotDiscount",
                 "services.<name>.scaling.schedules[].timezone", "services.<name>.secrets.<VAR>.fromConfig"):
        assert f"| `{path}` |" in text, path


def test_the_reference_says_nothing_of_documents_users_do_not_have():
    assert "seed" not in reference().lower()
