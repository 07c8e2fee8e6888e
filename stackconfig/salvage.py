"""Schema validation that does not stop at the first bad key: every key's own problems, and what validated.

Pydantic reports every field error of a document at once, but then gives no object at all, so the
cross-field rules would have nothing to run on. `salvage` validates, and on errors drops each
failing value (the field falls back to its default, a dict loses the entry, a required field
becomes None in a lenient subclass of its model) and validates again, until what is left validates.
It returns that partial object, the problems found and the paths that failed, which the rules
consult (`Inputs.ok`) before they read a value.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Optional, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError, create_model
from pydantic.fields import FieldInfo

from stackconfig.problems import NO_VALUE, Path, Problem

_MISSING = object()
_FAILED = object()
# Pydantic marks an error in a dict key with this location part.
_KEY = "[key]"


def _unwrap_optional(annotation: Any) -> Any:
    args = [arg for arg in get_args(annotation) if arg is not type(None)]
    return args[0] if get_origin(annotation) is Union and len(args) == 1 else annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _fields(model: type[BaseModel]) -> dict[str, tuple[str, Any]]:
    """Key (alias or field name) -> (field name, FieldInfo)."""
    found = {}
    for field_name, info in model.model_fields.items():
        found[field_name] = (field_name, info)
        found[info.alias or field_name] = (field_name, info)
    return found


def allowed_keys(annotation: Any) -> Optional[list[str]]:
    annotation = _unwrap_optional(annotation)
    if _is_model(annotation):
        return sorted(info.alias or name for name, info in annotation.model_fields.items())
    return None


def _step(annotation: Any, part: Any) -> Any:
    """The annotation one step down `part` (a field alias, a dict key or a list index)."""
    annotation = _unwrap_optional(annotation)
    if _is_model(annotation):
        entry = _fields(annotation).get(part)
        return entry[1].annotation if entry else None
    if get_origin(annotation) in (dict, list):
        return get_args(annotation)[-1]
    return None


@lru_cache(maxsize=None)
def _lenient(model: type[BaseModel], missing: frozenset[str]) -> type[BaseModel]:
    """`model` with the `missing` required fields optional (None): the rest of the object still validates."""
    return create_model(  # type: ignore[call-overload]
        model.__name__, __base__=model, __module__=model.__module__,
        **{field_name: (Optional[model.model_fields[field_name].annotation], None) for field_name in missing},
    )


def problem_of(error: dict[str, Any], at: Path, annotation: Any, field: Optional[FieldInfo] = None) -> Problem:
    """A pydantic error as a Problem: the whole key path, the value, and what is allowed."""
    loc = tuple(error["loc"])
    if loc[-1:] == (_KEY,):
        # A dict key failed (a service or variable name): the entry is the key, its name the value.
        return Problem(at + loc[:-1], error["msg"].removeprefix("Value error, "), loc[-2])
    message = error["msg"].removeprefix("Value error, ")
    value = error.get("input", NO_VALUE)
    if error["type"] == "extra_forbidden":
        parent = annotation
        for part in loc[:-1]:
            parent = _step(parent, part)
        allowed = allowed_keys(parent)
        message = "unknown key" + (f"; allowed keys: {', '.join(allowed)}" if allowed else "")
    elif error["type"] == "missing":
        message, value = "required key is missing", NO_VALUE
    elif error["type"] == "string_pattern_mismatch":
        # The field's documented form reads better than its regular expression.
        allowed = _documented_allowed(field if not loc else _field_at(annotation, loc))
        message = f"expected {allowed}" if allowed else message
    return Problem(at + loc, message, value)


def _field_at(annotation: Any, loc: tuple[Any, ...]) -> Optional[FieldInfo]:
    parent = annotation
    for part in loc[:-1]:
        parent = _step(parent, part)
    parent = _unwrap_optional(parent)
    entry = _fields(parent).get(loc[-1]) if _is_model(parent) else None
    return entry[1] if entry else None


def _documented_allowed(field: Optional[FieldInfo]) -> Optional[str]:
    extra = field.json_schema_extra if field is not None else None
    return extra.get("allowed") if isinstance(extra, dict) else None


class Salvage:
    """Collects the problems and failed paths of one validation."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.failed: list[Path] = []

    def report(self, errors: list[dict[str, Any]], at: Path, annotation: Any,
               field: Optional[FieldInfo] = None) -> None:
        for error in errors:
            problem = problem_of(error, at, annotation, field)
            self.problems.append(problem)
            self.failed.append(problem.path)

    def model(self, model: type[BaseModel], data: Any, at: Path) -> Any:
        """An instance of `model` (or its lenient subclass) from what validates of `data`; _FAILED if nothing does."""
        if not isinstance(data, dict):
            try:
                return model.model_validate(data)
            except ValidationError as error:
                self.report(error.errors(), at, model)
                return _FAILED
        data, fields = dict(data), _fields(model)
        missing: set[str] = set()
        repaired: set[str] = set()
        for _ in range(2 * (len(data) + len(fields)) + 1):  # each round drops or repairs a key (at most twice)
            try:
                return (_lenient(model, frozenset(missing)) if missing else model).model_validate(data)
            except ValidationError as error:
                errors = error.errors()
            by_key: dict[Any, list[dict[str, Any]]] = {}
            for item in errors:
                if not item["loc"]:
                    self.report([item], at, model)
                    return _FAILED
                by_key.setdefault(item["loc"][0], []).append(item)
            for key, key_errors in by_key.items():
                entry = fields.get(key)
                if entry is None:  # an unknown key
                    self.report(key_errors, at, model)
                    data.pop(key, None)
                    continue
                field_name, info = entry
                if key in repaired:
                    # An error our own repair caused (e.g. a dict left empty): the key's problems are reported.
                    value = _FAILED
                else:
                    relative = [{**item, "loc": item["loc"][1:]} for item in key_errors]
                    value = self.value(info.annotation, data.get(key, _MISSING), relative, at + (key,), info)
                if value is _FAILED:
                    data.pop(key, None)
                    self.failed.append(at + (key,))
                    if info.is_required():
                        missing.add(field_name)
                else:
                    data[key] = value
                    repaired.add(key)
        self.failed.append(at)
        return _FAILED

    def value(self, annotation: Any, value: Any, errors: list[dict[str, Any]], at: Path,
              field: Optional[FieldInfo] = None) -> Any:
        """`value` repaired (failing entries dropped, nested models salvaged), or _FAILED."""
        annotation = _unwrap_optional(annotation)
        nested = value is not _MISSING and all(item["loc"] for item in errors)
        if nested and _is_model(annotation) and isinstance(value, dict):
            return self.model(annotation, value, at)
        if nested and get_origin(annotation) is dict and isinstance(value, dict):
            item_type = get_args(annotation)[1]
            repaired = dict(value)
            by_entry: dict[Any, list[dict[str, Any]]] = {}
            for item in errors:
                by_entry.setdefault(item["loc"][0], []).append(item)
            for key, entry_errors in by_entry.items():
                relative = [{**item, "loc": item["loc"][1:]} for item in entry_errors]
                if _is_model(item_type) and all(item["loc"] and item["loc"][0] != _KEY for item in relative):
                    entry = self.model(item_type, value[key], at + (key,))
                else:
                    self.report(entry_errors, at, annotation)
                    entry = _FAILED
                if entry is _FAILED:
                    repaired.pop(key, None)
                    self.failed.append(at + (key,))
                else:
                    repaired[key] = entry
            return repaired
        if nested and get_origin(annotation) is list and isinstance(value, list) and _is_model(get_args(annotation)[0]):
            # Items of a list keep their index only if none is dropped: a failed item fails the list.
            item_type, items = get_args(annotation)[0], list(value)
            by_index: dict[int, list[dict[str, Any]]] = {}
            for item in errors:
                by_index.setdefault(item["loc"][0], []).append(item)
            for index in by_index:
                items[index] = self.model(item_type, value[index], at + (index,))
            return _FAILED if any(item is _FAILED for item in items) else items
        self.report(errors, at, annotation, field)
        return _FAILED


def salvage(model: type[BaseModel], data: dict[str, Any]) -> tuple[Optional[BaseModel], list[Problem], list[Path]]:
    """What validates of `data` as `model` (None if nothing), every problem, and the paths that failed."""
    collector = Salvage()
    result = collector.model(model, data, ())
    return (None if result is _FAILED else result), collector.problems, collector.failed
