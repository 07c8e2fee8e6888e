"""Evaluate the CrossGuard pack in-process on a captured program run, configured like the CLI.

`PolicyPack(...)` starts a gRPC server and blocks forever, so the pack's `__main__.py` is run with
the servicer registration intercepted: we keep the analyzer servicer and stop there. Then, as the
CLI does for `pulumi preview --policy-pack policies --policy-pack-config policies/config/<stack>.json`:
`GetAnalyzerInfo`, `Configure` with the reconciled config (schema defaults, then the pack's
initial config, then the file; an entry for every policy with an explicit enforcement level),
`Analyze` for each resource and `AnalyzeStack` once.

Differences from a real run, all stated in the gate's notes: remote components (awsx) register
no children under mocks, so awsx's own resources are checked only by a real preview; stack
policies see each resource's inputs merged with the fake cloud's outputs (as at `pulumi up`).
"""

from __future__ import annotations

import json
import runpy
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional

import jsonschema
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import policy as policy_sdk
from pulumi_policy.proxy import _DictProxy

from preflight.broken_file import BrokenFileError, display_path
from preflight.capture import PROJECT_ROOT, CapturedResource, ProgramRun

POLICY_PACK_DIR = PROJECT_ROOT / "policies"
POLICY_CONFIG_DIR = POLICY_PACK_DIR / "config"

LEVEL_NAMES = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
    analyzer_pb2.DISABLED: "disabled",
}
LEVEL_VALUES = {name: value for value, name in LEVEL_NAMES.items()}


class PolicyConfigError(ValueError):
    """The stack's policy config is not one the CLI would accept."""


@dataclass(frozen=True)
class Violation:
    policy: str
    level: str
    message: str
    urn: str = ""
    resource_name: str = ""
    resource_type: str = ""


@dataclass
class GateResult:
    stack: str
    pack: str
    violations: list[Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def has_mandatory(self) -> bool:
        return any(v.level == "mandatory" for v in self.violations)

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.level == "mandatory"]

    def of_policy(self, policy: str) -> list[Violation]:
        return [v for v in self.violations if v.policy == policy]

    def to_json(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "passed": not self.has_mandatory,
            "mandatory": len(self.mandatory),
            "advisory": len(self.violations) - len(self.mandatory),
            "violations": [asdict(v) for v in self.violations],
            "notes": list(self.notes),
        }

    def render(self) -> str:
        """Violations the way `pulumi preview` lists them: level, pack, policy, resource, then the message."""
        if not self.violations:
            lines = [f"Policies: {self.pack} — no violations"]
        else:
            lines = ["Policy Violations:"]
            for v in sorted(self.violations, key=lambda v: (v.level != "mandatory", v.policy, v.resource_name)):
                target = f"({v.resource_type}: {v.resource_name})" if v.urn else "(stack)"
                lines.append(f"    [{v.level}]  {self.pack}  {v.policy}  {target}")
                lines.extend(f"    {line}" for line in v.message.splitlines())
        lines.extend(f"    note: {note}" for note in self.notes)
        return "\n".join(lines)


class _PackLoaded(Exception):
    def __init__(self, servicer):
        super().__init__("policy pack loaded")
        self.servicer = servicer


def _load_servicer(pack_dir: Path):
    """Run the pack's __main__.py until it registers its analyzer servicer, and keep that servicer."""
    def capture(servicer, _server):
        raise _PackLoaded(servicer)

    original = policy_sdk.analyzer_pb2_grpc.add_AnalyzerServicer_to_server
    policy_sdk.analyzer_pb2_grpc.add_AnalyzerServicer_to_server = capture
    try:
        runpy.run_path(str(pack_dir / "__main__.py"), run_name="__main__")
    except _PackLoaded as loaded:
        return loaded.servicer
    finally:
        policy_sdk.analyzer_pb2_grpc.add_AnalyzerServicer_to_server = original
    raise RuntimeError(f"{pack_dir / '__main__.py'} did not build a PolicyPack")


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(dict(values))
    return message


_JSON_KINDS = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number",
               type(None): "null"}


def load_policy_config(stack: str, config_dir: Path = POLICY_CONFIG_DIR) -> dict[str, Any]:
    """The stack's `--policy-pack-config` file: FileNotFoundError if missing, BrokenFileError if not a JSON object."""
    path = config_dir / f"{stack}.json"
    if not path.exists():
        raise FileNotFoundError(f"no policy config {display_path(path)}; every stack needs one (see docs/policies.md)")
    try:
        text = path.read_text(encoding="utf-8")
        document = json.loads(text)
    except UnicodeDecodeError as error:
        raise BrokenFileError(path, "not UTF-8 text", error.object[:error.start].count(b"\n") + 1) from None
    except json.JSONDecodeError as error:
        raise BrokenFileError(path, f"invalid JSON: {error.msg}", error.lineno, error.colno) from None
    except OSError as error:
        raise BrokenFileError(path, f"cannot be read: {error.strerror}") from None
    if not isinstance(document, dict):
        start = len(text) - len(text.lstrip())
        line = text.count("\n", 0, start) + 1
        raise BrokenFileError(
            path, f"must be a JSON object of policy name -> level or {{\"enforcementLevel\": ..., <property>: ...}}, "
                  f"not {_JSON_KINDS.get(type(document), 'that')}",
            line, start - (text.rfind("\n", 0, start) + 1) + 1)
    return document


class _StructsConvertedOnce:
    """`google.protobuf.json_format` as pulumi_policy's analyzer sees it during one call, converting each message once.

    The servicer's `Analyze` converts the request's properties (and its provider's) from protobuf once per
    policy, and `AnalyzeStack` every resource once per stack policy: pure-Python `MessageToDict` on the same
    messages, most of the pack's time on a large stack. Within one call the request does not change, so
    the first conversion of a message is handed out again; this is safe because pulumi_policy builds every
    policy's own copy from it (`deserialize_properties`: new dicts and lists) before a policy sees anything.
    Messages are kept (so their ids stay theirs) until the call ends.
    """

    def __init__(self) -> None:
        self._converted: dict[int, tuple[Any, dict[str, Any]]] = {}

    def MessageToDict(self, message, **options):  # json_format's own name, looked up by the analyzer
        if options:
            return json_format.MessageToDict(message, **options)
        entry = self._converted.get(id(message))
        if entry is None:
            entry = self._converted[id(message)] = (message, json_format.MessageToDict(message))
        return entry[1]

    def __getattr__(self, name: str) -> Any:
        return getattr(json_format, name)


class _PropertiesOnFirstRead(_DictProxy):
    """A policy's `props` (or its provider's), built by pulumi_policy's own code when the policy first reads it.

    For every policy and resource the analyzer deserializes the properties and wraps them in its
    unknown-checking proxy (`deserialize_properties`, then `unknown_checking_proxy`: a new dict, list and
    proxy for every value), though most policies look at the resource type and return. Here
    `deserialize_properties` hands back this stand-in, which `unknown_checking_proxy` passes through
    unchanged (it wraps only real dicts and lists); on its first read it builds exactly what the
    analyzer would have, for this policy alone, and then is that proxy. Nothing is shared between
    policies, so one policy writing into its props changes no other policy's.
    """

    def __init__(self, converted: Mapping[str, Any]) -> None:  # the proxy's own fields are set on first read
        self._converted: Optional[Mapping[str, Any]] = converted

    def _built(self) -> None:
        if self._converted is not None:
            proxy = _real_unknown_checking_proxy(_real_deserialize_properties(self._converted))
            self._DictProxy__target = proxy._DictProxy__target
            self._DictProxy__props_acc = proxy._DictProxy__props_acc
            self._converted = None

    def __getitem__(self, key):
        self._built()
        return super().__getitem__(key)

    def __setitem__(self, key, value):
        self._built()
        super().__setitem__(key, value)

    def __len__(self):
        self._built()
        return super().__len__()

    def __iter__(self):
        self._built()
        return super().__iter__()

    def __repr__(self) -> str:
        self._built()
        return f"{type(self).__name__}({self._DictProxy__target!r})"


_real_deserialize_properties = policy_sdk.deserialize_properties
_real_unknown_checking_proxy = policy_sdk.unknown_checking_proxy


def _deserialized_on_first_read(props: Mapping[str, Any], proxy_secrets: bool = False):
    """`deserialize_properties` as the analyzer sees it during one call (remediation's secret-keeping path unchanged)."""
    if proxy_secrets:
        return _real_deserialize_properties(props, proxy_secrets)
    return _PropertiesOnFirstRead(props)


_CONVERSION_LOCK = threading.Lock()


@contextmanager
def _lean_analyzer_call() -> Iterator[None]:
    """Run one analyzer call (the pack's code and pulumi_policy's, unchanged) converting each message once
    (`_StructsConvertedOnce`) and building a policy's props only if it reads them (`_PropertiesOnFirstRead`)."""
    with _CONVERSION_LOCK:
        policy_sdk.json_format = _StructsConvertedOnce()
        policy_sdk.deserialize_properties = _deserialized_on_first_read
        try:
            yield
        finally:
            policy_sdk.json_format = json_format
            policy_sdk.deserialize_properties = _real_deserialize_properties


class PolicyGate:
    """One loaded pack; `evaluate` configures it for a stack and analyzes a captured run."""

    def __init__(self, pack_dir: Path = POLICY_PACK_DIR):
        self.pack_dir = pack_dir
        self._servicer = _load_servicer(pack_dir)
        self.info = self._servicer.GetAnalyzerInfo(empty_pb2.Empty(), None)
        version = (yaml.safe_load((pack_dir / "PulumiPolicy.yaml").read_text()) or {}).get("version", self.info.version)
        self.pack = f"{self.info.name}@v{version}"
        self.policies = {p.name: p for p in self.info.policies}
        self._configured: Optional[str] = None

    # --- configuration, as the CLI reconciles it ---------------------------------------
    def reconcile(self, file_config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """Schema defaults, then the pack's initial config, then `file_config`; validated by schema."""
        result: dict[str, dict[str, Any]] = {}
        for name, info in self.policies.items():
            schema = json_format.MessageToDict(info.configSchema).get("properties", {})
            result[name] = {
                "enforcementLevel": LEVEL_NAMES[info.enforcementLevel],
                "properties": {k: v["default"] for k, v in schema.items() if "default" in v},
            }
        initial = {k: {"enforcementLevel": LEVEL_NAMES[v.enforcementLevel], **json_format.MessageToDict(v.properties)}
                   for k, v in self.info.initialConfig.items()}
        for layer in (initial, dict(file_config)):
            self._apply(result, layer)
        errors = []
        for name, info in self.policies.items():
            schema = json_format.MessageToDict(info.configSchema)
            if schema:
                validator = jsonschema.Draft7Validator({"type": "object", **schema})
                errors += [f"{name}: {e.message}" for e in validator.iter_errors(result[name]["properties"])]
        if errors:
            raise PolicyConfigError("policy pack configuration is invalid:\n  " + "\n  ".join(errors))
        return result

    @staticmethod
    def _apply(result: dict[str, dict[str, Any]], layer: Mapping[str, Any]) -> None:
        entries = {}
        for name, value in layer.items():
            if not isinstance(value, (str, Mapping)):  # as the CLI: a level string or an object
                raise PolicyConfigError(f"{name}: {value!r} is not a valid value; must be a string or object")
            entries[name] = {"enforcementLevel": value} if isinstance(value, str) else dict(value)
        if "all" in entries and entries["all"].get("enforcementLevel"):
            for current in result.values():
                current["enforcementLevel"] = entries["all"]["enforcementLevel"]
        for name, given in entries.items():
            if name == "all":
                continue
            level = given.pop("enforcementLevel", None)
            if level is not None and (not isinstance(level, str) or level not in LEVEL_VALUES):
                raise PolicyConfigError(f"{name}: {level!r} is not a valid enforcement level")
            current = result.setdefault(name, {"enforcementLevel": None, "properties": {}})
            current["enforcementLevel"] = level or current["enforcementLevel"]
            current["properties"].update(given)

    def configure(self, file_config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        reconciled = self.reconcile(file_config)
        fingerprint = json.dumps(reconciled, sort_keys=True)
        if fingerprint != self._configured:
            request = analyzer_pb2.ConfigureAnalyzerRequest()
            for name, entry in reconciled.items():
                request.policyConfig[name].CopyFrom(analyzer_pb2.PolicyConfig(
                    enforcementLevel=LEVEL_VALUES[entry["enforcementLevel"] or "advisory"],
                    properties=_struct(entry["properties"]),
                ))
            self._servicer.Configure(request, None)
            self._configured = fingerprint
        return reconciled

    # --- analysis -----------------------------------------------------------------------
    def evaluate(self, run: ProgramRun, file_config: Mapping[str, Any],
                 stack_config: Optional[Mapping[str, Any]] = None) -> GateResult:
        self.configure(file_config)
        by_urn = {r.urn: r for r in run.resources}
        default_provider = _default_aws_provider(run.stack, stack_config or {})
        result = GateResult(stack=run.stack, pack=self.pack)
        stack_request = analyzer_pb2.AnalyzeStackRequest()
        for resource in run.resources:
            provider = self._provider_of(resource, by_urn, default_provider)
            options = analyzer_pb2.AnalyzerResourceOptions(
                protect=resource.protect,
                ignoreChanges=list(resource.ignore_changes),
                deleteBeforeReplace=resource.delete_before_replace,
                parent=resource.parent,
            )
            request = analyzer_pb2.AnalyzeRequest(
                type=resource.type, urn=resource.urn, name=resource.name,
                properties=_struct(resource.inputs), options=options,
            )
            if provider is not None:
                request.provider.CopyFrom(provider)
            with _lean_analyzer_call():
                response = self._servicer.Analyze(request, None)
            self._collect(result, response, by_urn, default_urn=resource.urn)
            stack_resource = stack_request.resources.add(
                type=resource.type, urn=resource.urn, name=resource.name,
                properties=_struct(_state_of(resource)), options=options, parent=resource.parent,
                dependencies=list(resource.dependencies),
            )
            for key, urns in resource.property_dependencies.items():
                stack_resource.propertyDependencies[key].urns.extend(urns)
            if provider is not None:
                stack_resource.provider.CopyFrom(provider)
        with _lean_analyzer_call():
            response = self._servicer.AnalyzeStack(stack_request, None)
        self._collect(result, response, by_urn, default_urn="")
        remote = sorted({r.type for r in run.resources if r.remote})
        if remote:
            result.notes.append(
                f"remote components ({', '.join(remote)}) register no children under mocks: their own resources "
                "are checked only by a real `pulumi preview --policy-pack policies`."
            )
        return result

    def _collect(self, result: GateResult, response, by_urn: dict[str, CapturedResource], default_urn: str) -> None:
        for diagnostic in response.diagnostics:
            if diagnostic.message.startswith(f"can't run policy '{diagnostic.policyName}'"):
                result.notes.append(diagnostic.message)
                continue
            urn = diagnostic.urn or default_urn
            resource = by_urn.get(urn)
            result.violations.append(Violation(
                policy=diagnostic.policyName,
                level=LEVEL_NAMES.get(diagnostic.enforcementLevel, "advisory"),
                message=diagnostic.message,
                urn=urn,
                resource_name=resource.name if resource else "",
                resource_type=resource.type if resource else "",
            ))

    @staticmethod
    def _provider_of(resource: CapturedResource, by_urn: dict[str, CapturedResource],
                     default_provider: analyzer_pb2.AnalyzerProviderResource):
        provider = by_urn.get(resource.provider_urn)
        if provider is not None:
            return analyzer_pb2.AnalyzerProviderResource(
                type=provider.type, urn=provider.urn, name=provider.name, properties=_struct(provider.inputs))
        if resource.type.startswith("aws:") and resource.custom:
            return default_provider
        return None


def _state_of(resource: CapturedResource) -> dict[str, Any]:
    """What `pulumi up` shows stack policies: the outputs (which include the inputs) and the id."""
    state = {**resource.inputs, **resource.outputs}
    if resource.id and resource.custom:
        state.setdefault("id", resource.id)
    return state


def _default_aws_provider(stack: str, stack_config: Mapping[str, Any]) -> analyzer_pb2.AnalyzerProviderResource:
    """The default aws provider the engine would create from the stack's `aws:*` config."""
    properties = {}
    for key, value in stack_config.items():
        if key.startswith("aws:"):
            properties[key[len("aws:"):]] = value if isinstance(value, str) else json.dumps(value)
    return analyzer_pb2.AnalyzerProviderResource(
        type="pulumi:providers:aws", name="default", properties=_struct(properties),
        urn=f"urn:pulumi:{stack}::webstack::pulumi:providers:aws::default",
    )


_GATE: Optional[PolicyGate] = None
_GATE_LOCK = threading.Lock()


def policy_gate() -> PolicyGate:
    """The process's one loaded pack (loading costs far more than evaluating)."""
    global _GATE
    with _GATE_LOCK:
        if _GATE is None:
            _GATE = PolicyGate()
        return _GATE


def evaluate_policies(run: ProgramRun, stack_config: Optional[Mapping[str, Any]] = None,
                      policy_config: Optional[Mapping[str, Any]] = None) -> GateResult:
    """Evaluate `run` with its stack's policy config (policies/config/<stack>.json unless given)."""
    config = policy_config if policy_config is not None else load_policy_config(run.stack)
    return policy_gate().evaluate(run, config, stack_config)

