"""What makes preflight fast keeps its verdicts: the pack still runs in pulumi_policy's own analyzer."""

from __future__ import annotations

import contextlib

from google.protobuf import json_format
from pulumi_policy import policy as policy_sdk
from pulumi_policy.deserialize import deserialize_properties

import preflight.policy_gate as gate_module
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


def test_converting_each_message_once_changes_no_verdict_and_saves_most_conversions(dev_run, prod_run, monkeypatch):
    calls = counting_conversions(monkeypatch)
    for stack, run in (("dev", dev_run), ("prod", prod_run)):
        config = load_stack_file(stack).config
        calls[0] = 0
        once = evaluate_policies(run, config)
        converted_once = calls[0]
        with monkeypatch.context() as plain:
            plain.setattr(gate_module, "_each_struct_converted_once", contextlib.nullcontext)
            calls[0] = 0
            every_time = evaluate_policies(run, config)
            converted_every_time = calls[0]
        assert verdicts(once) == verdicts(every_time)
        assert once.violations, "the comparison needs violations to compare"
        # Each resource's properties and provider once per analyzer call instead of once per policy (the
        # rest is reading the pack's schemas to reconcile its config).
        analyzed = 4 * len(run.resources)  # properties and provider, in Analyze and in AnalyzeStack
        assert analyzed <= converted_once <= analyzed + 3 * len(policy_gate().policies)
        assert converted_every_time > 10 * converted_once
    assert policy_sdk.json_format is json_format  # put back after every call


def test_pulumi_policy_hands_each_policy_its_own_copy_of_the_converted_properties():
    """Why sharing one conversion is safe: deserialize_properties rebuilds every dict and list."""
    converted = {"a": {"b": [1, {"c": "d"}]}, "e": "f"}
    copy = deserialize_properties(converted)
    assert copy == converted
    assert copy is not converted and copy["a"] is not converted["a"]
    assert copy["a"]["b"] is not converted["a"]["b"] and copy["a"]["b"][1] is not converted["a"]["b"][1]

