"""Cross-field rules: every check that reads more than one config value, each naming the exact key.

A rule reads the (partially) validated `StackConfig` and yields a `Problem` per offending key, with
the key's whole path (`services.frontend.routes.priority`, `network.availabilityZones[0]`), its value
and what is allowed, naming the other keys involved by their paths too. It asks `inputs.ok(...)`
before reading a value, so it is skipped when one of its inputs failed its own validation (that key
already has its problem) and runs on everything else: all problems of a stack file come back in one run.

`RULES` lists them in the order their problems are printed; docs/configuration.md lists their summaries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional

from helpers.data_links import INJECTED_BY
from helpers.fargate import describe_memory_choices, is_valid_size
from helpers.instance_classes import ELASTICACHE_NODE_TYPES
from helpers.names import queue_url_variable
from helpers.database import max_connections, memory_gib
from policies.secret_shapes import BY_NAME, plaintext_secret
from stackconfig.data import (
    AURORA_256_ACU_FROM,
    AURORA_PAUSE_FROM,
    AURORA_SERVERLESS,
    AURORA_SERVERLESS_FROM,
    AUTH_TOKEN,
    AUTH_TOKEN_RULE,
    CACHE_FAMILIES,
    AuroraConfig,
    HOW_TO_SET_APP_SECRET,
    MANAGED_PASSWORD_BLOCKS_REPLICAS,
    daily_window,
    weekly_window,
    windows_overlap,
)
from stackconfig.edge import CLOUDFRONT_CERTIFICATE_REGION
from stackconfig.jobs import JobConfig
from stackconfig.load_balancer import rule_groups
from stackconfig.network import NAT_INSTANCE_MODES
from stackconfig.monitoring import HOUR, MAX_EVALUATION_SECONDS, MAX_EVALUATION_SECONDS_HOURLY, AlarmTiming
from stackconfig.problems import NAMESPACE, NO_VALUE, Inputs, Path, Problem, key_of, shown
from stackconfig.service import MAX_CONDITION_VALUES, MAX_CONDITION_WILDCARDS, ServiceConfig
from stackconfig.stack import StackConfig

Check = Callable[[StackConfig, Inputs], Iterator[Problem]]


@dataclass(frozen=True)
class Rule:
    summary: str
    check: Check


RULES: list[Rule] = []


def rule(summary: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        RULES.append(Rule(summary, check))
        return check
    return register


def cross_field_problems(config: StackConfig, inputs: Inputs) -> list[Problem]:
    return [problem for each in RULES for problem in each.check(config, inputs)]


def name(path: Path) -> str:
    """A key as named inside a message: `services.backend.routes.priority`, `aws:region`."""
    return key_of(path).removeprefix(f"{NAMESPACE}:")


def services(config: StackConfig) -> Iterator[tuple[str, ServiceConfig, Path]]:
    for service_name, service in (config.services or {}).items():
        yield service_name, service, ("services", service_name)


def workloads(config: StackConfig) -> Iterator[tuple[str, ServiceConfig | JobConfig, Path]]:
    """Services and scheduled jobs: both run containers with environment, secrets and `uses`."""
    yield from services(config)
    yield from jobs(config)


def configured(config: StackConfig, inputs: Inputs, section: str) -> Optional[bool]:
    """Whether an optional section is set; None when it is set but failed as a whole (unknown)."""
    if getattr(config, section) is not None:
        return True
    return False if inputs.ok((section,)) else None


# --- network ---------------------------------------------------------------------------------------

ZONES: Path = ("network", "availabilityZones")


@rule("network.availabilityZones: each zone is listed once.")
def _distinct_zones(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    if not inputs.ok(ZONES):
        return
    first: dict[str, int] = {}
    for index, zone in enumerate(config.network.availability_zones):
        if zone in first:
            yield Problem(ZONES + (index,), f"listed twice (also {name(ZONES + (first[zone],))}); list each "
                                            f"availability zone once", zone)
        first.setdefault(zone, index)


@rule("network.availabilityZones: every zone is in aws:region.")
def _zones_in_region(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    if not inputs.ok(ZONES, ("region",)):
        return
    region = config.region
    for index, zone in enumerate(config.network.availability_zones):
        if not (zone.startswith(region) and zone[len(region):].isalpha()):
            yield Problem(ZONES + (index,), f"not in aws:region {region}; use a zone of {region} such as "
                                            f"{region}a", zone)


@rule("network.subnetMask: one subnet per tier fits in each AZ's block of network.cidr (its prefix + 3).")
def _subnets_fit(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    at: Path = ("network", "subnetMask")
    if not inputs.ok(at, ("network", "cidr"), ("network", "isolatedSubnets")):
        return
    network = config.network
    tiers, fit = network.tiers, network.subnets_per_zone
    if len(tiers) <= fit:
        return
    smallest = network.smallest_fitting_subnet_mask
    largest_prefix = network.availability_zone_cidr_mask - 3 - (smallest - 28)
    allowed = (f"use a subnetMask of {smallest} to 28" if smallest <= 28
               else f"use a network.cidr of /{largest_prefix} or larger")
    yield Problem(at, f"{len(tiers)} subnets of /{network.subnet_mask} (one per tier: {', '.join(tiers)}) do not "
                      f"fit in each AZ's /{network.availability_zone_cidr_mask} block of network.cidr "
                      f"{network.cidr} ({fit} fit); {allowed}", network.subnet_mask)


NAT_INSTANCE: Path = ("network", "natInstance")


@rule("network.natInstance: set with natGateways instance or instancePerAz, and only then.")
def _nat_instance_settings(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    if not inputs.ok(("network", "natGateways"), NAT_INSTANCE):
        return
    network = config.network
    uses_instances = network.nat_gateways in NAT_INSTANCE_MODES
    if uses_instances and network.nat_instance is None:
        yield Problem(NAT_INSTANCE, f"network.natGateways {network.nat_gateways!r} needs network.natInstance with "
                                    f"ami (an AMI id) or amiName (an fck-nat image name); see docs/network.md")
    elif not uses_instances and network.nat_instance is not None:
        yield Problem(NAT_INSTANCE, f"only used with network.natGateways instance or instancePerAz, not "
                                    f"{network.nat_gateways!r}; remove it (or set natGateways: instance)")


@rule("network.natInstance: exactly one of ami and amiName; amiName's architecture matches instanceType.")
def _nat_instance_image(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    if not inputs.ok(NAT_INSTANCE) or config.network.nat_instance is None:
        return
    nat = config.network.nat_instance
    one_of = ("set exactly one of network.natInstance.ami (an AMI id) and network.natInstance.amiName (an image "
              "name resolved per region)")
    if nat.ami is None and nat.ami_name is None:
        yield Problem(NAT_INSTANCE, f"{one_of}; neither is set")
        return
    if nat.ami is not None and nat.ami_name is not None:
        yield Problem(NAT_INSTANCE + ("amiName",), f"{one_of}; network.natInstance.ami is set too", nat.ami_name)
        return
    name_architecture = next((arch for arch in ("arm64", "x86_64") if f"-{arch}-" in (nat.ami_name or "")), None)
    if name_architecture not in (None, nat.architecture):
        yield Problem(NAT_INSTANCE + ("amiName",),
                      f"an {name_architecture} image but network.natInstance.instanceType {nat.instance_type} is "
                      f"{nat.architecture}: the Auto Scaling group could never launch it (use t4g.* with arm64 "
                      f"images, t3.* with x86_64)", nat.ami_name)


# --- one service ------------------------------------------------------------------------------------

@rule("services.<name>.image: exactly one of tag or digest.")
def _tag_or_digest(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    for _, service, at in services(config):
        image = at + ("image",)
        if not inputs.ok(image + ("tag",), image + ("digest",)):
            continue
        if service.image.tag is None and service.image.digest is None:
            yield Problem(image, f"set exactly one of {name(image + ('tag',))} (e.g. the git SHA) or "
                                 f"{name(image + ('digest',))} (sha256:...); neither is set")
        elif service.image.tag is not None and service.image.digest is not None:
            yield Problem(image + ("digest",), f"set exactly one of tag or digest; {name(image + ('tag',))} is "
                                               f"set too", service.image.digest)


@rule(f"services.<name>.routes: 1-{MAX_CONDITION_VALUES} paths and hosts together, at most "
      f"{MAX_CONDITION_WILDCARDS} wildcards (one listener rule).")
def _listener_rule_conditions(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    for _, service, at in services(config):
        routes = at + ("routes",)
        if service.routes is None or not inputs.ok(routes + ("paths",), routes + ("hosts",)):
            continue
        values = service.routes.paths + service.routes.hosts
        wildcards = sum(value.count("*") + value.count("?") for value in values)
        if not values:
            yield Problem(routes, f"a route needs at least one of {name(routes + ('paths',))} or "
                                  f"{name(routes + ('hosts',))}")
        elif len(values) > MAX_CONDITION_VALUES:
            yield Problem(routes, f"{len(values)} paths and hosts in one rule; AWS allows at most "
                                  f"{MAX_CONDITION_VALUES} condition values per listener rule (split the service's "
                                  f"routes or use wildcards)")
        if wildcards > MAX_CONDITION_WILDCARDS:
            yield Problem(routes, f"{wildcards} wildcards (* and ?) in one rule's paths and hosts; AWS allows at most "
                                  f"{MAX_CONDITION_WILDCARDS} per listener rule")


@rule("services.<name>.memory: within Fargate's range for the service's cpu.")
def _fargate_size(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    for _, service, at in services(config):
        if inputs.ok(at + ("cpu",), at + ("memory",)) and not is_valid_size(service.cpu, service.memory):
            yield Problem(at + ("memory",), f"with cpu {service.cpu} Fargate accepts memory of "
                                            f"{describe_memory_choices(service.cpu)}", service.memory)


@rule("services.<name>.healthCheck.timeout: less than healthCheck.interval.")
def _timeout_below_interval(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    for _, service, at in services(config):
        check = at + ("healthCheck",)
        if not inputs.ok(check + ("timeout",), check + ("interval",)):
            continue
        if service.health_check.timeout >= service.health_check.interval:
            yield Problem(check + ("timeout",), f"must be less than {name(check + ('interval',))} "
                                                f"({service.health_check.interval} s)", service.health_check.timeout)


@rule("services.<name>.routes: needs port; stickiness and scaling.requestsPerTarget need routes (the load "
      "balancer).")
def _load_balancer_settings(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    for _, service, at in services(config):
        if service.routes is not None and service.port is None and inputs.ok(at + ("port",)):
            yield Problem(at + ("routes",), f"the load balancer needs a container port to send these requests to: "
                                            f"set {name(at + ('port',))}, or remove the routes for a service "
                                            f"that is not behind the load balancer (a worker)")
        if service.routes is not None or not inputs.ok(at + ("routes",)):
            continue
        if service.stickiness is not None:
            yield Problem(at + ("stickiness",), f"sticky sessions are a load balancer setting; this service has no "
                                                f"{name(at + ('routes',))} (remove stickiness or add routes)")
        requests = at + ("scaling", "requestsPerTarget")
        if service.scaling.requests_per_target is not None and inputs.ok(requests):
            yield Problem(requests, f"tracks the load balancer's requests per task; this service has no "
                                    f"{name(at + ('routes',))} (remove requestsPerTarget or add routes)",
                          service.scaling.requests_per_target)


@rule("services.<name>.stickiness: cookieName with type app_cookie, and only then.")
def _stickiness_cookie(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    for _, service, at in services(config):
        sticky = at + ("stickiness",)
        if service.stickiness is None or not inputs.ok(sticky + ("type",), sticky + ("cookieName",)):
            continue
        if service.stickiness.type == "app_cookie" and not service.stickiness.cookie_name:
            yield Problem(sticky + ("type",), f"needs {name(sticky + ('cookieName',))} (the application's session "
                                              f"cookie)", "app_cookie")
        if service.stickiness.type == "lb_cookie" and service.stickiness.cookie_name:
            yield Problem(sticky + ("cookieName",), f"is only used with {name(sticky + ('type',))} app_cookie "
                                                    f"(type is lb_cookie)", service.stickiness.cookie_name)


@rule("services.<name>.scaling: min <= desired <= max, scaleOutCooldown <= scaleInCooldown, schedules with "
      "unique names and min <= max.")
def _scaling(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    for _, service, at in services(config):
        scaling, counts = service.scaling, at + ("scaling",)
        low, high, desired = counts + ("min",), counts + ("max",), counts + ("desired",)
        if inputs.ok(low, high) and scaling.min > scaling.max:
            yield Problem(low, f"must not exceed {name(high)} ({scaling.max})", scaling.min)
        elif inputs.ok(low, high, desired) and scaling.desired is not None \
                and not scaling.min <= scaling.desired <= scaling.max:
            yield Problem(desired, f"must be between {name(low)} ({scaling.min}) and {name(high)} ({scaling.max})",
                          scaling.desired)
        out, back = counts + ("scaleOutCooldown",), counts + ("scaleInCooldown",)
        if inputs.ok(out, back) and scaling.scale_out_cooldown > scaling.scale_in_cooldown:
            yield Problem(out, f"longer than {name(back)} ({scaling.scale_in_cooldown} s) makes the service slow to "
                               f"grow and quick to shrink; keep scale-out at most scale-in", scaling.scale_out_cooldown)
        schedules = counts + ("schedules",)
        first: dict[str, int] = {}
        for index, schedule in enumerate(scaling.schedules):
            item = schedules + (index,)
            if inputs.ok(item + ("name",)):
                if schedule.name in first:
                    yield Problem(item + ("name",), f"used by {name(schedules + (first[schedule.name],))} too; "
                                                    f"schedule names are unique within a service", schedule.name)
                first.setdefault(schedule.name, index)
            if inputs.ok(item + ("min",), item + ("max",)) and schedule.min > schedule.max:
                yield Problem(item + ("min",), f"must not exceed {name(item + ('max',))} ({schedule.max})",
                              schedule.min)


@rule("services.<name>.deployment: maximumPercent differs from minimumHealthyPercent.")
def _room_to_deploy(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    for _, service, at in services(config):
        deployment = at + ("deployment",)
        low, high = deployment + ("minimumHealthyPercent",), deployment + ("maximumPercent",)
        if inputs.ok(low, high) and service.deployment.minimum_healthy_percent == service.deployment.maximum_percent:
            yield Problem(high, f"equals {name(low)} ({service.deployment.minimum_healthy_percent}): ECS could "
                                f"neither start a new task nor stop an old one, so no deployment would ever progress; "
                                f"raise maximumPercent (e.g. 200) or lower minimumHealthyPercent",
                          service.deployment.maximum_percent)


def _one_of(choices: tuple[str, ...]) -> str:
    return choices[0] if len(choices) == 1 else f"{', '.join(choices[:-1])} or {choices[-1]}"


@rule("services.<name>.deployment: blueGreen, canary and linear need routes and keep their alarms; bakeTimeMinutes, "
      "testTraffic, canary and linear only with a strategy that uses them; alarms need routes.")
def _deployment_strategy(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    for _, service, at in services(config):
        deployment, at_deployment = service.deployment, at + ("deployment",)
        strategy = at_deployment + ("strategy",)
        if not inputs.ok(strategy, at + ("routes",)):
            continue
        if deployment.shifts_traffic and service.routes is None:
            yield Problem(strategy, f"shifts load balancer traffic between two target groups; this service has no "
                                    f"{name(at + ('routes',))} (use rolling, or add routes)", deployment.strategy)
        for key, strategies in (("canary", ("canary",)), ("linear", ("linear",)),
                                ("bakeTimeMinutes", ("blueGreen", "canary", "linear")),
                                ("testTraffic", ("blueGreen", "canary", "linear"))):
            value = getattr(deployment, {"bakeTimeMinutes": "bake_time_minutes",
                                         "testTraffic": "test_traffic"}.get(key, key))
            if value is not None and deployment.strategy not in strategies and inputs.ok(at_deployment + (key,)):
                yield Problem(at_deployment + (key,), f"is only used with {name(strategy)} "
                                                      f"{_one_of(strategies)} (strategy is {deployment.strategy})",
                              value.model_dump(by_alias=True) if hasattr(value, "model_dump") else value)
        alarms = at_deployment + ("alarms",)
        if deployment.alarms is False and deployment.shifts_traffic and inputs.ok(alarms):
            yield Problem(alarms, f"{deployment.strategy} has no circuit breaker: its deployment alarms (with the "
                                  f"bake time) are its only automatic rollback; keep alarms on, or use rolling",
                          False)
        if deployment.alarms and service.routes is None and inputs.ok(alarms):
            yield Problem(alarms, f"the deployment alarms are the load balancer's 5xx-rate and unhealthy-hosts alarms "
                                  f"of this service; it has no {name(at + ('routes',))} (remove alarms or add "
                                  f"routes)", True)


@rule("services.<name>.deployment.testTraffic: priority below routes.priority (evaluated first); the header fits "
      f"the {MAX_CONDITION_VALUES} condition values of a listener rule.")
def _test_route(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    for _, service, at in services(config):
        test, at_test = service.deployment.test_traffic, at + ("deployment", "testTraffic")
        if test is None or service.routes is None or not inputs.ok(at_test, at + ("routes",)):
            continue
        priority = at + ("routes", "priority")
        if test.priority >= service.routes.priority:
            yield Problem(at_test + ("priority",), f"must be lower than {name(priority)} "
                                                   f"({service.routes.priority}): the load balancer evaluates lower "
                                                   f"numbers first, so the production rule would take the test "
                                                   f"requests", test.priority)
        # Behind a static frontend the test rule also requires CloudFront's origin header, like every rule.
        behind_frontend = configured(config, inputs, "frontend") is True
        values = len(service.routes.paths) + len(service.routes.hosts) + 1 + behind_frontend
        if values > MAX_CONDITION_VALUES:
            yield Problem(at_test + ("header",), f"the test rule repeats {name(at + ('routes',))}' paths and hosts"
                                                 f"{', requires the frontend origin header' if behind_frontend else ''}"
                                                 f" and adds this header: {values} condition values, AWS allows at "
                                                 f"most {MAX_CONDITION_VALUES} per listener rule", test.header)


@rule("services.<name>.enableExec: only with readOnlyRootFilesystem false (ECS Exec does not support a read-only "
      "root filesystem).")
def _exec_needs_writable_root(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    for _, service, at in services(config):
        read_only = at + ("readOnlyRootFilesystem",)
        if service.enable_exec and service.read_only_root_filesystem and inputs.ok(at + ("enableExec",), read_only):
            yield Problem(at + ("enableExec",), f"ECS Exec does not support a read-only root filesystem (its agent "
                                                f"writes into the container): set {name(read_only)} to false as "
                                                f"well, or turn enableExec off", True)


@rule("services.<name>.spot: only with architecture x86_64 (Fargate Spot has no ARM64 capacity).")
def _spot_runs_x86_only(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    for _, service, at in services(config):
        if inputs.ok(at + ("spot",), at + ("architecture",)) and service.spot and service.architecture == "arm64":
            yield Problem(at + ("spot",), f"cannot run with {name(at + ('architecture',))} arm64: Fargate Spot has "
                                          f"no ARM64 capacity; choose one (ARM is ~20 % cheaper on demand, Spot up to "
                                          f"~70 % cheaper on x86_64)", True)


@rule("services.<name>.environment and jobs.<name>.environment: no name or value that looks like a secret (those go under secrets).")
def _no_plaintext_secrets(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    # Entries that failed their own validation are not in the dict: every entry here validated.
    for _, service, at in workloads(config):
        for variable, value in service.environment.items():
            found = plaintext_secret(variable, value)
            if found is None:
                continue
            reason = "its name looks like a secret" if found == BY_NAME else f"its value holds {found}"
            # The value is never echoed.
            yield Problem(at + ("environment", variable), (
                f"must not be plaintext ({reason}); declare it under secrets instead: "
                f"`secrets: {{{variable}: {{secretsManagerArn: arn:aws:secretsmanager:<region>:<account>:secret:"
                f"<name>-AbCdEf}}}}` for an existing secret, or `secrets: {{{variable}: {{fromConfig: <key>}}}}` "
                f"after `{HOW_TO_SET_APP_SECRET.format(name='<key>')}`"
            ))


@rule("services.<name>.secrets and jobs.<name>.secrets: a variable is not also in environment; each names exactly one source.")
def _secret_references(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    for _, service, at in workloads(config):
        for variable, ref in service.secrets.items():
            entry = at + ("secrets", variable)
            if inputs.ok(entry) and (ref.secrets_manager_arn is None) == (ref.from_config is None):
                yield Problem(entry, "set exactly one of secretsManagerArn or fromConfig")
            if variable in service.environment:
                yield Problem(entry, f"{variable} is set in {name(at + ('environment',))} too; keep one (secrets for "
                                     f"anything sensitive)")


@rule("services.<name>.uses: each data store once.")
def _distinct_stores(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    for _, service, at in services(config):
        if not inputs.ok(at + ("uses",)):
            continue
        first: dict[str, int] = {}
        for index, store in enumerate(service.uses):
            if store in first:
                yield Problem(at + ("uses", index), f"listed twice (also {name(at + ('uses', first[store]))}); list "
                                                    f"each data store once", store)
            first.setdefault(store, index)


# --- across services and sections ---------------------------------------------------------------

@rule("services.<name>.routes.priority and deployment.testTraffic.priority: unique across services (one "
      "listener).")
def _unique_priorities(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    owners: dict[int, Path] = {}
    for _, service, at in services(config):
        priority = at + ("routes", "priority")
        if service.routes is None or not inputs.ok(priority):
            continue
        test = service.deployment.test_traffic
        claims = [(priority, service.routes.priority)]
        if test is not None and inputs.ok(at + ("deployment", "testTraffic")):
            claims.append((at + ("deployment", "testTraffic", "priority"), test.priority))
        for key, value in claims:
            owner = owners.setdefault(value, key)
            if owner != key:
                yield Problem(key, f"{name(owner)} is {value} too; listener rule priorities must be unique across "
                                   f"services", value)


@rule("services.<name>.deployment.minimumHealthyPercent: 100 in prod.")
def _prod_keeps_running_tasks(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    if not inputs.ok(("environment",)) or not config.is_production:
        return
    for _, service, at in services(config):
        minimum = at + ("deployment", "minimumHealthyPercent")
        if inputs.ok(minimum) and service.deployment.minimum_healthy_percent < 100:
            yield Problem(minimum, "must be 100 in prod: a deploy would otherwise stop running tasks before their "
                                   "replacements are healthy", service.deployment.minimum_healthy_percent)


@rule("services.<name>.uses: only data stores the stack configures (webstack:database, webstack:cache).")
def _used_stores_exist(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    for _, service, at in services(config):
        if not inputs.ok(at + ("uses",)):
            continue
        for index, store in enumerate(service.uses):
            if configured(config, inputs, store) is False:
                yield Problem(at + ("uses", index), f"{NAMESPACE}:{store} is not configured; add it or remove "
                                                    f"{store} from {name(at + ('uses',))}", store)


@rule("services.<name> and jobs.<name> environment/secrets: none of the variables the data stores it uses inject.")
def _injected_names_left_alone(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    for _, service, at in workloads(config):
        if not inputs.ok(at + ("uses",)):
            continue
        for section, variables in (("environment", service.environment), ("secrets", service.secrets)):
            for variable in variables:
                store = next((store for store in service.uses if variable in INJECTED_BY[store]), None)
                if store is not None:
                    kind = "service" if at[0] == "services" else "job"
                    yield Problem(at + (section, variable), f"is set by the {store} the {kind} uses "
                                                            f"({name(at + ('uses',))}); remove it from {section}")


@rule("services.<name> and jobs.<name> secrets.<VAR>.fromConfig, and cache.authTokenFromConfig: the webstack:appSecrets entry "
      "exists (and is a valid AUTH token).")
def _app_secret_references(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    if not inputs.ok(("appSecrets",)):
        return
    for _, service, at in workloads(config):
        for variable, ref in service.secrets.items():
            if ref.from_config is not None and ref.from_config not in config.app_secrets:
                yield Problem(at + ("secrets", variable, "fromConfig"), (
                    f"{NAMESPACE}:appSecrets has no {ref.from_config!r}; set it with "
                    f"`{HOW_TO_SET_APP_SECRET.format(name=ref.from_config)}`"
                ), ref.from_config)
    token: Path = ("cache", "authTokenFromConfig")
    entry = config.cache.auth_token_from_config if config.cache is not None and inputs.ok(token) else None
    if entry is None:
        return
    if entry not in config.app_secrets:
        yield Problem(token, f"{NAMESPACE}:appSecrets has no {entry!r}; set it with "
                             f"`{HOW_TO_SET_APP_SECRET.format(name=entry)}`", entry)
    elif not AUTH_TOKEN.match(config.app_secrets[entry].get_secret_value()):
        yield Problem(token, f"{NAMESPACE}:appSecrets.{entry} is not a valid AUTH token (ElastiCache takes "
                             f"{AUTH_TOKEN_RULE})", entry)


@rule("loadBalancer.certificateArn: not together with webstack:domain.")
def _one_certificate(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    at: Path = ("loadBalancer", "certificateArn")
    if inputs.ok(at) and config.load_balancer.certificate_arn is not None and configured(config, inputs, "domain"):
        yield Problem(at, f"not together with {NAMESPACE}:domain (the stack requests and validates its own "
                          f"certificate for it); set one of them", config.load_balancer.certificate_arn)


WAF: Path = ("loadBalancer", "waf")


@rule("loadBalancer.waf.ruleOverrides: only rule groups the web ACL runs (AWSManagedRulesSQLiRuleSet with "
      "sqlInjectionRules).")
def _waf_overrides_of_used_groups(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    if not inputs.ok(WAF, ("database",)):
        return
    waf = config.load_balancer.waf
    runs = rule_groups(waf.sql_injection_rules if waf.sql_injection_rules is not None else config.database is not None)
    for group in waf.rule_overrides:
        if group not in runs:
            yield Problem(WAF + ("ruleOverrides", group), f"the web ACL does not run this rule group: "
                                                          f"loadBalancer.waf.sqlInjectionRules is off (unset, it is on "
                                                          f"only with {NAMESPACE}:database); it runs "
                                                          f"{', '.join(runs)}")


@rule(f"loadBalancer.waf.enabled: with webstack:frontend (a CLOUDFRONT web ACL, in {CLOUDFRONT_CERTIFICATE_REGION}) "
      f"only in aws:region {CLOUDFRONT_CERTIFICATE_REGION}.")
def _cloudfront_waf_region(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    at = WAF + ("enabled",)
    if not inputs.ok(at, ("region",), ("environment",)) or not configured(config, inputs, "frontend"):
        return
    enabled = config.load_balancer.waf.enabled
    if (config.is_production if enabled is None else enabled) and config.region != CLOUDFRONT_CERTIFICATE_REGION:
        yield Problem(at, f"with {NAMESPACE}:frontend the web ACL protects the CloudFront distribution, so it, its "
                          f"metrics and its blocked-requests alarm live in {CLOUDFRONT_CERTIFICATE_REGION}, and an "
                          f"alarm cannot notify the alert topic in aws:region {config.region}; set false (and keep "
                          f"alb-waf-attached advisory) or deploy in {CLOUDFRONT_CERTIFICATE_REGION}",
                      enabled if enabled is not None else NO_VALUE)


@rule("services.<name>.storage: only with webstack:storage (the bucket).")
def _storage_users_have_a_bucket(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    if configured(config, inputs, "storage") is not False:
        return
    for _, service, at in services(config):
        if inputs.ok(at + ("storage",)) and service.storage is not None:
            yield Problem(at + ("storage",), f"the stack has no media bucket; add {NAMESPACE}:storage (e.g. {{}})",
                          service.storage)


@rule("storage.accessLogs: true only with accessLogs.enabled (the bucket the logs go to); storage.accessLogsPrefix "
      "outside accessLogs.prefix.")
def _media_access_logs(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    if not configured(config, inputs, "storage") or not inputs.ok(("accessLogs",), ("environment",)):
        return
    storage, logs = config.storage, config.access_logs.resolved(config.is_production)
    at = ("storage", "accessLogs")
    if inputs.ok(at) and storage.access_logs and not logs.enabled:
        yield Problem(at, "the server access logs go to the access-log bucket, which accessLogs.enabled "
                          f"{'false' if config.access_logs.enabled is False else 'unset outside prod'} leaves out; "
                          "set accessLogs.enabled: true, or storage.accessLogs: false", True)
    prefix = ("storage", "accessLogsPrefix")
    if inputs.ok(prefix) and storage.access_logs_prefix.startswith(f"{logs.prefix}/"):
        yield Problem(prefix, f"inside accessLogs.prefix {shown(logs.prefix)}, where the load balancer writes; "
                              f"give the bucket's logs a prefix of their own (e.g. \"media/\")",
                      storage.access_logs_prefix)


@rule("registry.tagMutability and registry.forceDelete: not MUTABLE / true in prod.")
def _prod_registry(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    if not inputs.ok(("environment",)) or not config.is_production:
        return
    if inputs.ok(("registry", "tagMutability")) and config.registry.tag_mutability == "MUTABLE":
        yield Problem(("registry", "tagMutability"), "not allowed in prod: a deployed tag must always name the same "
                                                     "image (rollbacks, audits); use IMMUTABLE", "MUTABLE")
    if inputs.ok(("registry", "forceDelete")) and config.registry.force_delete:
        yield Problem(("registry", "forceDelete"), "not allowed in prod: it deletes every image with the stack", True)


# --- data tier ---------------------------------------------------------------------------------------

def _window_problems(section: str, service: str, daily_key: str, maintenance: str, daily: str,
                     minimum_minutes: int, inputs: Inputs) -> Iterator[Problem]:
    """What AWS refuses in a maintenance window and its daily backup/snapshot window."""
    weekly_path, daily_path = (section, "maintenanceWindow"), (section, daily_key)
    weekly_ok, daily_ok = inputs.ok(weekly_path), inputs.ok(daily_path)
    if weekly_ok and weekly_window(maintenance)[1] < minimum_minutes:
        yield Problem(weekly_path, f"lasts {weekly_window(maintenance)[1]} minutes; {service} needs at least "
                                   f"{minimum_minutes}", maintenance)
    if daily_ok and daily_window(daily)[1] < minimum_minutes:
        yield Problem(daily_path, f"lasts {daily_window(daily)[1]} minutes; {service} needs at least "
                                  f"{minimum_minutes}", daily)
    if weekly_ok and daily_ok and windows_overlap(maintenance, daily):
        yield Problem(weekly_path, f"overlaps {name(daily_path)} {daily!r}; {service} refuses overlapping windows",
                      maintenance)


@rule("cache.engineVersion: a version of cache.engine; cache.nodeType: one that runs cache.engine.")
def _cache_engine(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    cache = config.cache
    if cache is None or not inputs.ok(("cache", "engine")):
        return
    if inputs.ok(("cache", "engineVersion")) and (cache.engine, cache.version) not in CACHE_FAMILIES:
        versions = sorted(version for engine, version in CACHE_FAMILIES if engine == cache.engine)
        yield Problem(("cache", "engineVersion"), f"not a {cache.engine} version this stack supports; allowed: "
                                                  f"{', '.join(versions)}", cache.engine_version)
    if inputs.ok(("cache", "nodeType")) and cache.engine not in ELASTICACHE_NODE_TYPES[cache.node_type]:
        yield Problem(("cache", "nodeType"), f"does not run {cache.engine} (only "
                                             f"{', '.join(ELASTICACHE_NODE_TYPES[cache.node_type])}); pick another "
                                             f"node type or cache.engine", cache.node_type)


@rule("cache.multiAz: needs cache.replicas >= 1.")
def _cache_multi_az(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    cache = config.cache
    if cache is not None and inputs.ok(("cache", "multiAz"), ("cache", "replicas")) \
            and cache.multi_az and cache.replicas == 0 and cache.shards is None:
        yield Problem(("cache", "multiAz"), "needs cache.replicas of at least 1 (AWS fails over to a replica in "
                                            "another AZ); replicas is 0", True)


@rule("cache.maintenanceWindow and cache.snapshotWindow: each at least 60 minutes, not overlapping.")
def _cache_windows(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    # Checked even without snapshots: ElastiCache keeps a snapshot window and refuses one that
    # overlaps the maintenance window either way.
    if config.cache is not None:
        yield from _window_problems("cache", "ElastiCache", "snapshotWindow", config.cache.maintenance_window,
                                    config.cache.snapshot_window, 60, inputs)


@rule("cache.shards: replicas is cluster mode disabled's setting (use cache.replicasPerShard); cluster mode needs "
      "automatic failover, so each shard a replica.")
def _cache_cluster_mode(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    cache = config.cache
    if cache is None or cache.shards is None or not inputs.ok(("cache", "shards"), ("cache", "replicas"),
                                                               ("cache", "replicasPerShard")):
        return
    if "replicas" in cache.model_fields_set:
        yield Problem(("cache", "replicas"), "not with cache.shards (cluster mode): set cache.replicasPerShard instead",
                      cache.replicas)
    if cache.replicas_per_shard == 0:
        yield Problem(("cache", "replicasPerShard"), "cluster mode requires automatic failover, which needs a replica "
                      "in every shard: 1 to 5", cache.replicas_per_shard)


@rule("database.maintenanceWindow and database.backupWindow: each at least 30 minutes, not overlapping.")
def _database_windows(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    if config.database is not None:
        yield from _window_problems("database", "RDS", "backupWindow", config.database.maintenance_window,
                                    config.database.backup_window, 30, inputs)


@rule("database.proxy.maxIdleConnectionsPercent: at most database.proxy.maxConnectionsPercent.")
def _proxy_idle_within_max(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    idle, most = ("database", "proxy", "maxIdleConnectionsPercent"), ("database", "proxy", "maxConnectionsPercent")
    if config.database is None or not inputs.ok(idle, most):
        return
    proxy = config.database.proxy
    if proxy.max_idle_connections_percent > proxy.max_connections_percent:
        yield Problem(idle, f"must not exceed {name(most)} ({proxy.max_connections_percent})",
                      proxy.max_idle_connections_percent)


@rule("database.readReplicas: needs database.managedMasterPassword: false.")
def _managed_password_blocks_replicas(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    # AWS: no read replica of an instance whose master password Secrets Manager manages (all engines
    # but SQL Server); CreateDBInstanceReadReplica fails with InvalidParameterValue once the primary exists.
    database = config.database
    if database is not None and inputs.ok(("database", "readReplicas"), ("database", "managedMasterPassword")) \
            and database.read_replicas > 0 and database.managed_master_password:
        yield Problem(("database", "readReplicas"), MANAGED_PASSWORD_BLOCKS_REPLICAS, database.read_replicas)


@rule("database.replicaInstanceClass: at least database.instanceClass's memory.")
def _replica_class_large_enough(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    # A PostgreSQL standby needs max_connections at least the primary's, and ours follows memory.
    database, at = config.database, ("database", "replicaInstanceClass")
    if database is None or not inputs.ok(at, ("database", "instanceClass"), ("database", "readReplicas")):
        return
    replica, primary = database.replica_class, database.instance_class
    if database.read_replicas and memory_gib(replica) < memory_gib(primary):
        yield Problem(at, (
            f"has less memory ({memory_gib(replica)} GiB) than database.instanceClass {primary} "
            f"({memory_gib(primary)} GiB): its max_connections ({max_connections(replica)}) would be below the "
            f"primary's ({max_connections(primary)}), which PostgreSQL replicas refuse (RDS marks them "
            f"incompatible-parameters); pick a class at least as large"
        ), replica)


@rule("database.maxAllocatedStorage: at least 10 % above database.allocatedStorage.")
def _storage_ceiling(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    # RDS: the autoscaling ceiling must be at least 10 % above the allocated storage.
    database, at = config.database, ("database", "maxAllocatedStorage")
    if database is None or not inputs.ok(at, ("database", "allocatedStorage")):
        return
    if database.max_allocated_storage * 10 < database.allocated_storage * 11:
        least = math.ceil(database.allocated_storage * 11 / 10)
        yield Problem(at, f"must be at least 10 % above database.allocatedStorage ({database.allocated_storage} "
                          f"GiB) for storage autoscaling: {least} or more", database.max_allocated_storage)


def _aurora(config: StackConfig) -> Optional[AuroraConfig]:
    database = config.database
    if database is None or not database.is_aurora:
        return None
    return database.aurora or AuroraConfig()


@rule("database.aurora: only with database.engine: aurora-postgresql; allocatedStorage, maxAllocatedStorage and "
      "readReplicas are RDS-instance settings Aurora refuses.")
def _aurora_settings_belong_to_aurora(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    database = config.database
    if database is None or not inputs.ok(("database", "engine")):
        return
    if not database.is_aurora:
        if database.aurora is not None:
            yield Problem(("database", "aurora"), "only with database.engine: aurora-postgresql (it is postgres)",
                          database.aurora.model_dump(by_alias=True, exclude_unset=True))
        return
    for field, key, instead in (
        ("allocated_storage", "allocatedStorage", "Aurora storage grows by itself; remove it"),
        ("max_allocated_storage", "maxAllocatedStorage", "Aurora storage grows by itself (up to 128 TiB); remove it"),
    ):
        if field in database.model_fields_set:
            yield Problem(("database", key), f"not with database.engine: aurora-postgresql: {instead}",
                          getattr(database, field))
    if database.read_replicas:
        yield Problem(("database", "readReplicas"), "not with database.engine: aurora-postgresql: readers are "
                      "database.aurora.readers", database.read_replicas)


def _versions(first: dict[int, int]) -> str:
    return ", ".join(f"{major}.{minor}" for major, minor in first.items())


@rule(f"database.aurora.minCapacity and maxCapacity: steps of 0.5, min at most max, max within the version's limit "
      f"(256 ACU from {_versions(AURORA_256_ACU_FROM)}; else 128); minCapacity 0 needs "
      f"{_versions(AURORA_PAUSE_FROM)} or later and no proxy; secondsUntilAutoPause only with minCapacity 0; "
      f"db.serverless from {_versions(AURORA_SERVERLESS_FROM)}.")
def _aurora_capacity(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    aurora, at = _aurora(config), ("database", "aurora")
    if aurora is None or not inputs.ok(at):
        return
    if aurora.serverless and aurora.minor < AURORA_SERVERLESS_FROM[aurora.major]:
        yield Problem((*at, "engineVersion"), f"Aurora Serverless v2 (instanceClass {AURORA_SERVERLESS}) runs on "
                      f"Aurora PostgreSQL {aurora.major}.{AURORA_SERVERLESS_FROM[aurora.major]} or later; choose "
                      f"a later {aurora.major}.x or a provisioned database.aurora.instanceClass",
                      aurora.engine_version)
        return
    for key, value in (("minCapacity", aurora.min_capacity), ("maxCapacity", aurora.max_capacity)):
        if (value * 2) % 1:
            yield Problem((*at, key), "Aurora Serverless v2 capacity goes in steps of 0.5 ACU (0, 0.5, 1, 1.5, ...)",
                          value)
    if aurora.min_capacity > aurora.max_capacity:
        yield Problem((*at, "minCapacity"), f"must not exceed database.aurora.maxCapacity ({aurora.max_capacity:g})",
                      aurora.min_capacity)
    limit = 256 if aurora.minor >= AURORA_256_ACU_FROM[aurora.major] else 128
    if aurora.max_capacity > limit:
        yield Problem((*at, "maxCapacity"), f"Aurora PostgreSQL {aurora.engine_version} allows at most {limit} ACU "
                      f"(256 needs {aurora.major}.{AURORA_256_ACU_FROM[aurora.major]} or later)", aurora.max_capacity)
    if aurora.min_capacity == 0:
        first = AURORA_PAUSE_FROM[aurora.major]
        if aurora.minor < first:
            yield Problem((*at, "minCapacity"), f"0 ACU (auto-pause) needs Aurora PostgreSQL {aurora.major}.{first} or "
                          f"later; database.aurora.engineVersion is {aurora.engine_version}", aurora.min_capacity)
        if config.database.proxy.enabled and inputs.ok(("database", "proxy")):
            yield Problem((*at, "minCapacity"), "0 ACU never pauses behind database.proxy.enabled: true (RDS Proxy "
                          "keeps its own connections to the instances open); set minCapacity 0.5 or more, or turn "
                          "the proxy off", aurora.min_capacity)
    elif aurora.seconds_until_auto_pause is not None:
        yield Problem((*at, "secondsUntilAutoPause"), "only with database.aurora.minCapacity: 0 (nothing pauses "
                      f"at {aurora.min_capacity:g} ACU)", aurora.seconds_until_auto_pause)


# --- domain and monitoring ------------------------------------------------------------------------

@rule("domain: exactly one of zoneName or zoneId; recordName and alternativeNames distinct and in the zone.")
def _domain_names(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    domain = config.domain
    if domain is None:
        return
    zone_name, zone_id = ("domain", "zoneName"), ("domain", "zoneId")
    if inputs.ok(zone_name, zone_id):
        if domain.zone_name is None and domain.zone_id is None:
            yield Problem(("domain",), "set exactly one of domain.zoneName (e.g. example.com) or domain.zoneId "
                                       "(e.g. Z0123456789ABC)")
        elif domain.zone_name is not None and domain.zone_id is not None:
            yield Problem(zone_id, "set exactly one of domain.zoneName or domain.zoneId; zoneName is set too",
                          domain.zone_id)
    record, alternatives = ("domain", "recordName"), ("domain", "alternativeNames")
    if not inputs.ok(record, alternatives):
        return
    named: list[tuple[Path, str]] = [(record, domain.record_name)] + [
        (alternatives + (index,), alternative) for index, alternative in enumerate(domain.alternative_names)
    ]
    first: dict[str, Path] = {}
    for path, host in named:
        if host in first:
            yield Problem(path, f"repeats {name(first[host])}; every name once", host)
        first.setdefault(host, path)
    if inputs.ok(zone_name) and domain.zone_name is not None:
        for path, host in named:
            if host != domain.zone_name and not host.endswith("." + domain.zone_name):
                yield Problem(path, f"not in domain.zoneName {domain.zone_name}; validation and alias records can "
                                    f"only be created in that zone", host)


@rule("monitoring.alarms.<alarm>: period x evaluationPeriods within CloudWatch's range, datapointsToAlarm at most "
      "evaluationPeriods.")
def _alarm_timing(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    if config.monitoring is None or config.monitoring.alarms is None:
        return
    alarms = config.monitoring.alarms
    for field_name, info in type(alarms).model_fields.items():
        at: Path = ("monitoring", "alarms", info.alias or field_name)
        timing: Any = getattr(alarms, field_name, None)
        if not isinstance(timing, AlarmTiming):
            continue
        periods = at + ("evaluationPeriods",)
        if inputs.ok(at + ("period",), periods):
            window = timing.period * timing.evaluation_periods
            if timing.period < HOUR and window > MAX_EVALUATION_SECONDS:
                yield Problem(periods, f"{name(at + ('period',))} x evaluationPeriods = {window} s; with a period "
                                       f"under an hour CloudWatch evaluates at most {MAX_EVALUATION_SECONDS} s (one "
                                       f"day)", timing.evaluation_periods)
            elif window > MAX_EVALUATION_SECONDS_HOURLY:
                yield Problem(periods, f"{name(at + ('period',))} x evaluationPeriods = {window} s; CloudWatch "
                                       f"evaluates at most {MAX_EVALUATION_SECONDS_HOURLY} s (seven days)",
                              timing.evaluation_periods)
        datapoints = at + ("datapointsToAlarm",)
        if inputs.ok(datapoints, periods) and timing.datapoints_to_alarm is not None \
                and timing.datapoints_to_alarm > timing.evaluation_periods:
            yield Problem(datapoints, f"must not exceed {name(periods)} ({timing.evaluation_periods})",
                          timing.datapoints_to_alarm)


@rule("monitoring.alertEmails: each address once (case-insensitive).")
def _distinct_emails(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    at: Path = ("monitoring", "alertEmails")
    if config.monitoring is None or not inputs.ok(at):
        return
    first: dict[str, int] = {}
    for index, email in enumerate(config.monitoring.alert_emails):
        if email.lower() in first:
            yield Problem(at + (index,), f"the same address as {name(at + (first[email.lower()],))}; list each "
                                         f"address once", email)
        first.setdefault(email.lower(), index)


# --- scheduled jobs ---------------------------------------------------------------------------------

def jobs(config: StackConfig) -> Iterator[tuple[str, JobConfig, Path]]:
    for job_name, job in (config.jobs or {}).items():
        yield job_name, job, ("jobs", job_name)


@rule("jobs.<name>: exactly one of image or imageFrom; imageFrom names a service of the stack.")
def _job_image(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    for _, job, at in jobs(config):
        image, image_from = at + ("image",), at + ("imageFrom",)
        if not inputs.ok(image, image_from):
            continue
        if job.image is None and job.image_from is None:
            yield Problem(at, f"set exactly one of {name(image)} or {name(image_from)} (a service whose image the "
                              f"job runs, e.g. backend); neither is set")
        elif job.image is not None and job.image_from is not None:
            yield Problem(image_from, f"set exactly one of image or imageFrom; {name(image)} is set too",
                          job.image_from)
        elif job.image_from is not None and inputs.ok(("services",)) \
                and job.image_from not in (config.services or {}):
            known = ", ".join(sorted(config.services or {})) or "none"
            yield Problem(image_from, f"is not a service of this stack (services: {known})", job.image_from)
        elif job.image is not None and inputs.ok(image + ("tag",), image + ("digest",)) \
                and (job.image.tag is None) == (job.image.digest is None):
            yield Problem(image, f"set exactly one of {name(image + ('tag',))} (e.g. the git SHA) or "
                                 f"{name(image + ('digest',))} (sha256:...)")


@rule("jobs.<name>.memory: within Fargate's range for the job's cpu.")
def _job_fargate_size(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    for _, job, at in jobs(config):
        if inputs.ok(at + ("cpu",), at + ("memory",)) and not is_valid_size(job.cpu, job.memory):
            yield Problem(at + ("memory",), f"with cpu {job.cpu} Fargate accepts memory of "
                                            f"{describe_memory_choices(job.cpu)}", job.memory)


@rule("jobs.<name>.uses: only data stores the stack configures (webstack:database, webstack:cache), each once.")
def _job_stores(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    for _, job, at in jobs(config):
        if not inputs.ok(at + ("uses",)):
            continue
        first: dict[str, int] = {}
        for index, store in enumerate(job.uses):
            if store in first:
                yield Problem(at + ("uses", index), f"listed twice (also {name(at + ('uses', first[store]))}); list "
                                                    f"each data store once", store)
            elif configured(config, inputs, store) is False:
                yield Problem(at + ("uses", index), f"{NAMESPACE}:{store} is not configured; add it or remove "
                                                    f"{store} from {name(at + ('uses',))}", store)
            first.setdefault(store, index)


# --- static frontend --------------------------------------------------------------------------------

FRONTEND: Path = ("frontend",)


@rule("frontend: needs webstack:domain; outside us-east-1 also frontend.certificateArn; originRecordName in the "
      "zone and not one of the domain's names.")
def _frontend_domain(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    frontend = config.frontend
    if frontend is None:
        return
    domain = configured(config, inputs, "domain")
    if domain is False:
        yield Problem(FRONTEND, f"a static frontend needs {NAMESPACE}:domain: CloudFront answers viewers on "
                                f"domain.recordName and reaches the load balancer over HTTPS on a name of the "
                                f"stack's certificate (frontend.originRecordName)")
        return
    certificate = FRONTEND + ("certificateArn",)
    if inputs.ok(("region",), certificate) and frontend.certificate_arn is None \
            and config.region != CLOUDFRONT_CERTIFICATE_REGION:
        yield Problem(certificate, f"needed with aws:region {config.region}: CloudFront uses ACM certificates from "
                                   f"{CLOUDFRONT_CERTIFICATE_REGION} only and the stack's own certificate is in "
                                   f"{config.region}; request one in {CLOUDFRONT_CERTIFICATE_REGION} for "
                                   f"domain.recordName (+ alternativeNames) and set its ARN here")
    origin = FRONTEND + ("originRecordName",)
    if not domain or not inputs.ok(origin, ("domain", "recordName"), ("domain", "alternativeNames"),
                                   ("domain", "zoneName")):
        return
    origin_name = frontend.origin_name(config.domain)
    if origin_name in config.domain.names:
        yield Problem(origin, "is one of domain.recordName/alternativeNames, which point at CloudFront; the "
                              "load balancer needs a name of its own (e.g. origin.app.example.com)", origin_name)
    zone = config.domain.zone_name
    if zone is not None and origin_name != zone and not origin_name.endswith("." + zone):
        yield Problem(origin, f"not in domain.zoneName {zone}; its alias and validation records can only be "
                              f"created in that zone", origin_name)


@rule(f"services.<name>.routes with a frontend: paths under frontend.apiPaths, no hosts, at most "
      f"{MAX_CONDITION_VALUES - 1} values (the origin header takes one).")
def _routes_behind_frontend(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    if config.frontend is None or not inputs.ok(FRONTEND + ("apiPaths",)):
        return
    api_paths = config.frontend.api_paths
    for _, service, at in services(config):
        routes = at + ("routes",)
        if service.routes is None or not inputs.ok(routes + ("paths",), routes + ("hosts",)):
            continue
        for index, path in enumerate(service.routes.paths):
            if not config.frontend.serves_api_path(path):
                yield Problem(routes + ("paths", index),
                              f"is served by the static frontend: CloudFront sends only frontend.apiPaths "
                              f"{shown(api_paths)} to the load balancer; route the service under one of them or "
                              f"add the path to frontend.apiPaths", path)
        for index, host in enumerate(service.routes.hosts):
            yield Problem(routes + ("hosts", index),
                          "never matches behind the static frontend: CloudFront calls the load balancer on "
                          "frontend.originRecordName, not the viewer's Host; route by routes.paths", host)
        values = len(service.routes.paths) + len(service.routes.hosts)
        if values > MAX_CONDITION_VALUES - 1:
            yield Problem(routes, f"{values} paths and hosts in one rule; behind the static frontend the rule "
                                  f"also requires CloudFront's origin header, so at most "
                                  f"{MAX_CONDITION_VALUES - 1} remain of AWS's {MAX_CONDITION_VALUES} condition "
                                  f"values per listener rule")
# --- queues ------------------------------------------------------------------------------------------

def queues_known(config: StackConfig, inputs: Inputs) -> Optional[set[str]]:
    """The stack's queue names; None when `queues` failed as a whole (unknown)."""
    return set(config.queues or {}) if inputs.ok(("queues",)) else None


def _not_a_queue(queue: str, known: set[str]) -> str:
    listed = ", ".join(sorted(known)) or "none"
    return f"is not a queue of this stack (queues: {listed}); declare it under {NAMESPACE}:queues.{queue}"


@rule("services.<name>.produces and consumes: queues of webstack:queues, each produced to once.")
def _queues_exist(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    known = queues_known(config, inputs)
    if known is None:
        return
    for _, service, at in services(config):
        if inputs.ok(at + ("produces",)):
            first: dict[str, int] = {}
            for index, queue in enumerate(service.produces):
                if queue in first:
                    yield Problem(at + ("produces", index), f"listed twice (also "
                                                            f"{name(at + ('produces', first[queue]))}); list each "
                                                            f"queue once", queue)
                elif queue not in known:
                    yield Problem(at + ("produces", index), _not_a_queue(queue, known), queue)
                first.setdefault(queue, index)
        if inputs.ok(at + ("consumes",)) and service.consumes is not None and service.consumes not in known:
            yield Problem(at + ("consumes",), _not_a_queue(service.consumes, known), service.consumes)


@rule("queues.<name>: consumed by exactly one service (services.<name>.consumes).")
def _one_consumer_per_queue(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    if queues_known(config, inputs) is None:
        return
    consumers: dict[str, Path] = {}
    complete = True
    for _, service, at in services(config):
        if not inputs.ok(at + ("consumes",)):
            complete = False
            continue
        if service.consumes is None:
            continue
        owner = consumers.setdefault(service.consumes, at + ("consumes",))
        if owner != at + ("consumes",):
            yield Problem(at + ("consumes",), f"{name(owner)} is {service.consumes} too; a queue has one consuming "
                                              f"service (it scales on that queue's backlog per task)",
                          service.consumes)
    if not complete or not inputs.ok(("services",)):
        return
    for queue in config.queues:
        if queue not in consumers:
            yield Problem(("queues", queue), f"no service consumes it: its messages would wait until "
                                             f"queues.{queue}.retention deletes them; set "
                                             f"services.<worker>.consumes: {queue}, or remove the queue")


@rule("queues.<name>.deadLetterRetention: at least queues.<name>.retention.")
def _dead_letters_outlive_messages(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    # SQS: a standard queue's message keeps its original enqueue time in the dead-letter queue, so a
    # dead-letter retention below the source's deletes messages as soon as they arrive.
    for queue, settings in (config.queues or {}).items():
        at: Path = ("queues", queue)
        if inputs.ok(at + ("retention",), at + ("deadLetterRetention",)) \
                and settings.dead_letter_retention < settings.retention:
            yield Problem(at + ("deadLetterRetention",), f"is shorter than {name(at + ('retention',))} "
                                                         f"({settings.retention} s): a message keeps its first "
                                                         f"enqueue time in the dead-letter queue and could expire "
                                                         f"there on arrival; set at least {settings.retention}",
                          settings.dead_letter_retention)


@rule("services.<name>.scaling.backlogPerTask: only with consumes; scaling.min 0 on a consumer only outside prod.")
def _queue_scaling(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    for _, service, at in services(config):
        if not inputs.ok(at + ("consumes",)):
            continue
        backlog, low = at + ("scaling", "backlogPerTask"), at + ("scaling", "min")
        if service.consumes is None:
            if inputs.ok(backlog) and service.scaling.backlog_per_task is not None:
                yield Problem(backlog, f"tracks the backlog of the queue the service consumes; it has no "
                                       f"{name(at + ('consumes',))} (remove backlogPerTask or set consumes)",
                              service.scaling.backlog_per_task)
        elif inputs.ok(low, ("environment",)) and config.is_production and service.scaling.min == 0:
            yield Problem(low, "0 is not allowed in prod for a queue consumer: a message would wait for the "
                               "scale-from-zero alarm (a minute or more) before a task even starts; keep at least "
                               "1 (min: 0 is for dev and staging)", 0)


@rule("services.<name> environment/secrets: not the <QUEUE>_QUEUE_URL variables of the queues it produces to or "
      "consumes.")
def _queue_variables_left_alone(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    for _, service, at in services(config):
        if not inputs.ok(at + ("produces",), at + ("consumes",)):
            continue
        queues = [*service.produces, *([service.consumes] if service.consumes else [])]
        injected = {queue_url_variable(queue): queue for queue in queues}
        for section, variables in (("environment", service.environment), ("secrets", service.secrets)):
            for variable in variables:
                if variable in injected:
                    yield Problem(at + (section, variable), f"is set to queues.{injected[variable]}'s URL for the "
                                                            f"service ({name(at + ('produces',))}/consumes); "
                                                            f"remove it from {section}")


# --- service-to-service calls (Service Connect) -------------------------------------------------------

@rule("services.<name>.connect: needs port; connect.name unique across services.")
def _connect_settings(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    owners: dict[str, Path] = {}
    for service_name, service, at in services(config):
        connect = at + ("connect",)
        if service.connect is None or not inputs.ok(connect):
            continue
        if service.port is None and inputs.ok(at + ("port",)):
            yield Problem(connect, f"Service Connect makes the container port reachable by name: set "
                                   f"{name(at + ('port',))}, or remove connect")
        connect_name = service.connect.name or service_name
        owner = owners.setdefault(connect_name, connect + ("name",))
        if owner != connect + ("name",):
            yield Problem(connect + ("name",), f"{name(owner)} is {connect_name!r} too (a service's connect name "
                                               f"defaults to the service's name); Service Connect names are unique "
                                               f"in the stack's namespace", connect_name)


@rule("services.<name>.calls: other services of the stack that have connect, each once, no cycle.")
def _calls(config: StackConfig, inputs: Inputs) -> Iterator[Problem]:
    if not inputs.ok(("services",)):
        return
    known = config.services or {}
    for service_name, service, at in services(config):
        calls = at + ("calls",)
        if not inputs.ok(calls):
            continue
        first: dict[str, int] = {}
        for index, callee in enumerate(service.calls):
            item = calls + (index,)
            if callee in first:
                yield Problem(item, f"listed twice (also {name(calls + (first[callee],))}); list each service once",
                              callee)
            elif callee == service_name:
                yield Problem(item, "a service does not call itself through Service Connect (it reaches its own "
                                    "port on localhost); remove it", callee)
            elif callee not in known:
                yield Problem(item, f"is not a service of this stack (services: {', '.join(sorted(known))})", callee)
            elif known[callee].connect is None and inputs.ok(("services", callee, "connect")):
                yield Problem(item, f"{name(('services', callee))} is not reachable by name: add "
                                    f"`connect: {{}}` to {name(('services', callee))} (it needs a port), or remove "
                                    f"{callee} from {name(calls)}", callee)
            else:
                back = _call_path(known, callee, service_name)
                if back is not None:
                    yield Problem(item, f"{' -> '.join([service_name, *back])} is a cycle: ECS cannot deploy either "
                                        f"side first, and a client only resolves names that were in the namespace "
                                        f"when its tasks started; let one side reach the other another way (e.g. "
                                        f"a queue)", callee)
            first.setdefault(callee, index)


def _call_path(known: dict[str, ServiceConfig], start: str, goal: str) -> Optional[list[str]]:
    """The services `start` reaches through `calls` up to `goal` (start ... goal), or None."""
    path, seen = [start], {start}

    def walk(current: str) -> bool:
        if current == goal:
            return True
        for callee in known[current].calls if current in known else ():
            if callee not in seen:
                seen.add(callee)
                path.append(callee)
                if walk(callee):
                    return True
                path.pop()
        return False

    return path if walk(start) else None
