"""What makes preflight fast keeps its verdicts: the pack still runs in pulumi_policy's own analyzer."""

from __future__ import annotations

import contextlib
import importlib.util
import sys

import pytest
from google.protobuf import json_format
from pulumi.runtime.proto import source_pb2
from pulumi_policy import policy as policy_sdk
from pulumi_policy.deserialize import deserialize_properties

import preflight.policy_gate as gate_module
from preflight.capture import PROJECT_ROOT
from preflight.policy_gate import evaluate_policies, policy_gate
from preflight.stack_files import load_stack_file


def verdicts(result) -> tuple[list, list]:
    return sorted((v.policy, v.level, v.urn, v.message) for v in result.violations), sorted(result.notes)


def counting_conversions(monkeypatch) -> list[int]:
    """Count protobuf -> dict conversions made with the real json_format.MessageToDict."""
    calls = [0]
    real = json_format.MessageToDict

    def counted(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)
    monkeypatch.setattr(json_format, "MessageToDict", counted)
    return calls


def test_the_pack_is_served_by_pulumi_policys_own_analyzer():
    assert type(policy_gate()._servicer) is policy_sdk._PolicyAnalyzerServicer


def counting_deserializations(monkeypatch) -> list[int]:
    """Count the analyzer's real deserialize_properties calls (each builds one policy's copy of a resource)."""
    calls = [0]
    real = gate_module._real_deserialize_properties

    def counted(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)
    monkeypatch.setattr(gate_module, "_real_deserialize_properties", counted)
    monkeypatch.setattr(policy_sdk, "deserialize_properties", counted)
    return calls


def test_the_lean_analyzer_call_changes_no_verdict_and_saves_most_conversions(
        dev_run, lean_run, prod_run, scale_run, monkeypatch):
    calls = counting_conversions(monkeypatch)
    deserialized = counting_deserializations(monkeypatch)
    for stack, run in (("dev", dev_run), ("lean", lean_run), ("prod", prod_run), ("scale", scale_run)):
        config = load_stack_file(stack).config
        calls[0] = deserialized[0] = 0
        once = evaluate_policies(run, config)
        converted_once, deserialized_on_read = calls[0], deserialized[0]
        with monkeypatch.context() as plain:
            plain.setattr(gate_module, "_lean_analyzer_call", contextlib.nullcontext)
            calls[0] = deserialized[0] = 0
            every_time = evaluate_policies(run, config)
            converted_every_time, deserialized_every_time = calls[0], deserialized[0]
        assert verdicts(once) == verdicts(every_time)
        # Only the policies that read a resource (or its provider) build their copy of it.
        assert 0 < deserialized_on_read < deserialized_every_time / 10
        assert once.violations, "the comparison needs violations to compare"
        # Each resource's properties and provider once per analyzer call instead of once per policy (the
        # rest is reading the pack's schemas to reconcile its config).
        analyzed = 4 * len(run.resources)  # properties and provider, in Analyze and in AnalyzeStack
        assert analyzed <= converted_once <= analyzed + 3 * len(policy_gate().policies)
        assert converted_every_time > 10 * converted_once
    assert policy_sdk.json_format is json_format  # put back after every call
    assert policy_sdk.deserialize_properties is gate_module._real_deserialize_properties


def test_props_built_on_first_read_are_the_analyzers_own_proxy_and_each_policys_own():
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, _DictProxy, unknown_checking_proxy
    converted = {"tags": {"Name": "web"}, "ports": [80, 443], "arn": UNKNOWN_STRING_VALUE}
    first, second = (gate_module._deserialized_on_first_read(converted) for _ in range(2))
    assert unknown_checking_proxy(first) is first  # the analyzer's next step passes it through unbuilt
    assert first._converted is converted
    real = unknown_checking_proxy(deserialize_properties(converted))
    assert isinstance(first, _DictProxy)
    assert {k: type(v) for k, v in first["__target"].items()} == {k: type(v) for k, v in real["__target"].items()}
    assert list(first) == list(real) and len(first) == len(real)
    assert dict(first["tags"]) == {"Name": "web"} and list(first["ports"]) == [80, 443]
    with pytest.raises(UnknownValueError) as unknown:
        first["arn"]
    with pytest.raises(UnknownValueError) as unknown_real:
        real["arn"]
    assert unknown.value.message == unknown_real.value.message == "string value at .arn can't be known during preview"
    first["tags"]["Name"] = "changed"
    first["extra"] = 1
    assert dict(second["tags"]) == {"Name": "web"} and "extra" not in second
    assert converted == {"tags": {"Name": "web"}, "ports": [80, 443], "arn": UNKNOWN_STRING_VALUE}
    # Remediation asks for secrets kept as such: that path gets the real function's result.
    assert not isinstance(gate_module._deserialized_on_first_read({"a": 1}, True), gate_module._PropertiesOnFirstRead)


def test_pulumi_policy_hands_each_policy_its_own_copy_of_the_converted_properties():
    """Why sharing one conversion is safe: deserialize_properties rebuilds every dict and list."""
    converted = {"a": {"b": [1, {"c": "d"}]}, "e": "f"}
    copy = deserialize_properties(converted)
    assert copy == converted
    assert copy is not converted and copy["a"] is not converted["a"]
    assert copy["a"]["b"] is not converted["a"]["b"] and copy["a"]["b"][1] is not converted["a"]["b"][1]


def load_benchmark():
    spec = importlib.util.spec_from_file_location("preflight_speed", PROJECT_ROOT / "benchmarks/preflight_speed.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # its dataclasses look their module up
    spec.loader.exec_module(sys.modules[spec.name])
    return sys.modules[spec.name]


def test_benchmark_fits_the_cost_of_one_more_service():
    bench = load_benchmark()
    assert bench.slope([(10, 5.0), (25, 8.0), (50, 13.0)]) == pytest.approx(0.2)


def test_benchmark_stacks_are_prod_with_copies_of_its_backend_on_their_own_routes():
    bench = load_benchmark()
    prod = load_stack_file("prod").config
    generated = bench.generated_stack(len(prod["webstack:services"]) + 3)["config"]
    services = generated["webstack:services"]
    assert list(services) == [*prod["webstack:services"], "svc-00", "svc-01", "svc-02"]
    backend = prod["webstack:services"]["backend"]
    priority = backend["routes"]["priority"]
    assert [services[f"svc-0{i}"]["routes"] for i in range(3)] == [
        {"paths": [f"/svc0{i}/*"], "priority": priority + 1 + i} for i in range(3)]
    assert {k: v for k, v in services["svc-01"].items() if k != "routes"} == \
        {k: v for k, v in backend.items() if k != "routes"}
    # Prod's own services, queues and jobs are kept, so their references to each other still hold.
    assert {k: v for k, v in generated.items() if k != "webstack:services"} == \
        {k: v for k, v in prod.items() if k != "webstack:services"}
    assert {name: services[name] for name in prod["webstack:services"]} == prod["webstack:services"]


def test_benchmark_stacks_are_valid_stack_files():
    from stackconfig import stack_config_problems
    config = load_benchmark().generated_stack(50)["config"]
    raw = {key.partition(":")[2]: value for key, value in config.items() if key.startswith("webstack:")}
    problems, resolved = stack_config_problems({**raw, "region": config["aws:region"]})
    assert problems == [] and len(resolved.services) == 50


def test_registrations_under_mocks_skip_the_stack_walk_and_the_sdk_gets_it_back():
    from pulumi.runtime import resource as runtime_resource

    from preflight.capture import run_in_mocks
    original = runtime_resource._get_stack_trace  # a rename in a new SDK fails here, not silently
    seen = []
    run_in_mocks(lambda: seen.append(runtime_resource._get_stack_trace()))
    assert seen == [source_pb2.StackTrace()]
    assert runtime_resource._get_stack_trace is original
