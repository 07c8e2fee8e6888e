"""Run the Pulumi program in-process under Pulumi's mock runtime and capture what it declares.

Every `RegisterResource` call is recorded as a `CapturedResource`: its type, name, parent, plain
inputs (secrets unwrapped, resource references downgraded to their id, unknowns kept as the
engine's unknown sentinel) and the resource options that only the raw request carries (`protect`,
`ignoreChanges`, `deleteBeforeReplace`). The policy gate and the cost estimator both read this.
"""

from __future__ import annotations

import json
import runpy
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as runtime_resource
from pulumi.runtime import rpc, settings
from pulumi.runtime.proto import source_pb2

from preflight.fake_cloud import FakeCloud

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROGRAM = PROJECT_ROOT / "__main__.py"
PROJECT_NAME = "webstack"

# The engine's sentinel for a value not known until apply (pulumi.runtime.rpc.UNKNOWN).
UNKNOWN = rpc.UNKNOWN


@dataclass(frozen=True)
class CapturedResource:
    """One resource registration, as the engine (and so a policy pack) would see it."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    remote: bool
    provider: str
    inputs: dict[str, Any]
    protect: bool = False
    ignore_changes: tuple[str, ...] = ()
    replace_on_changes: tuple[str, ...] = ()
    delete_before_replace: bool = False
    retain_on_delete: bool = False
    dependencies: tuple[str, ...] = ()
    # Input property -> the URNs its value came from (what a real preview sends policies to link resources).
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # What the (fake) cloud answered: the resource's id and its outputs, as `pulumi up` would record them.
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def provider_urn(self) -> str:
        """Provider references are `<urn>::<id>`; the URN part names the provider resource."""
        return self.provider.rsplit("::", 1)[0] if self.provider else ""


@dataclass
class ProgramRun:
    """Everything one run of the program declared."""

    stack: str
    resources: list[CapturedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[CapturedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str) -> CapturedResource:
        found = self.of_type(type_)
        if len(found) != 1:
            raise AssertionError(f"expected exactly one {type_}, found {len(found)}")
        return found[0]

    def by_name(self, name: str) -> CapturedResource:
        for resource in self.resources:
            if resource.name == name:
                return resource
        raise KeyError(name)


def plain_value(value: Any) -> Any:
    """Turn a protobuf-JSON property value into plain data the way the policy engine sees it."""
    if isinstance(value, dict):
        signature = value.get(rpc._special_sig_key)
        if signature == rpc._special_secret_sig:
            return plain_value(value.get("value"))
        if signature == rpc._special_resource_sig:
            return value.get("id") or value.get("urn")
        if signature == rpc._special_output_value_sig:
            return plain_value(value["value"]) if "value" in value else UNKNOWN
        if signature in (rpc._special_asset_sig, rpc._special_archive_sig):
            return {k: v for k, v in value.items() if k != rpc._special_sig_key}
        return {k: plain_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class CapturingMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that also keeps the raw request of each registration, options included."""

    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.captured: list[CapturedResource] = []

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.captured.append(
                CapturedResource(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent=request.parent,
                    custom=bool(request.custom),
                    remote=bool(request.remote),
                    provider=request.provider,
                    inputs=plain_value(json_format.MessageToDict(request.object)),
                    protect=bool(request.protect),
                    ignore_changes=tuple(request.ignoreChanges),
                    replace_on_changes=tuple(request.replaceOnChanges),
                    delete_before_replace=bool(request.deleteBeforeReplace),
                    retain_on_delete=bool(request.retainOnDelete),
                    dependencies=tuple(request.dependencies),
                    property_dependencies={
                        key: tuple(value.urns) for key, value in request.propertyDependencies.items()
                    },
                    id=response.id,
                    outputs=plain_value(json_format.MessageToDict(response.object)),
                )
            )
        return response


def config_for_runtime(values: Mapping[str, Any]) -> dict[str, str]:
    """Config as the CLI hands it to a program: every value a string, objects as JSON."""
    as_strings: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, str):
            as_strings[key] = value
        elif isinstance(value, bool):
            as_strings[key] = "true" if value else "false"
        else:
            as_strings[key] = json.dumps(value)
    return as_strings


@contextmanager
def _without_stack_traces() -> Iterator[None]:
    """Registrations without the Python stack the SDK walks for each one (every frame, its source line, a URI).

    It becomes the request's `stackTrace`/`sourcePosition`, which the engine keeps for error messages and
    which nothing offline reads: the mock monitor drops it. A sixth of a registration's time otherwise.
    """
    original = runtime_resource._get_stack_trace
    runtime_resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        runtime_resource._get_stack_trace = original


def run_in_mocks(
    build: Callable[[], Any],
    stack: str = "test",
    config: Mapping[str, Any] | None = None,
    secret_keys: list[str] | None = None,
    preview: bool = False,
) -> ProgramRun:
    """Run `build` (a program, or a single component) under fresh mocks and capture what it declares.

    Each call starts from a new root stack, so runs in one process never leak into each other.
    """
    config = dict(config or {})
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    cloud = FakeCloud(config.get("aws:region", "us-east-1"), preview=preview)
    monitor = CapturingMonitor(cloud)
    outputs: dict[str, Any] = {}
    settings.ROOT.set(None)
    pulumi.runtime.set_all_config(config_for_runtime(config), secret_keys or [])
    pulumi.runtime.set_mocks(cloud, project=PROJECT_NAME, stack=stack, preview=preview, monitor=monitor)

    @pulumi.runtime.test
    def _run():
        build()
        exported = settings.get_root_resource().outputs
        resolved = pulumi.Output.all(**{k: pulumi.Output.from_input(v) for k, v in exported.items()})
        return resolved.apply(outputs.update)

    try:
        with _without_stack_traces():
            _run()
    finally:
        settings.ROOT.set(None)
    return ProgramRun(stack=stack, resources=list(monitor.captured), outputs=outputs)


def run_program(
    stack: str,
    config: Mapping[str, Any],
    secret_keys: list[str] | None = None,
    preview: bool = False,
    program: Path = PROGRAM,
) -> ProgramRun:
    """Run the Pulumi program (`__main__.py`) with `config` (fully-qualified keys) and capture it all.

    Raises whatever the program raises (a bad config surfaces as `pulumi.RunError`).
    """
    return run_in_mocks(
        lambda: runpy.run_path(str(program), run_name="__main__"),
        stack=stack, config=config, secret_keys=secret_keys, preview=preview,
    )
