"""Config validation: each rule accepts a good value and rejects a bad one with an exact message."""

from __future__ import annotations

import copy
import json
import runpy

import pulumi
import pytest

from preflight.capture import PROGRAM, run_in_mocks
from stackconfig import validate_stack_config
from tests.conftest import stack_config


def raw(stack: str = "dev") -> dict:
    config, _ = stack_config(stack)
    values = {key.split(":", 1)[1]: value for key, value in config.items() if key.startswith("webstack:")}
    values["region"] = config["aws:region"]
    return values


def problems(values: dict) -> list[str]:
    with pytest.raises(pulumi.RunError) as caught:
        validate_stack_config(values)
    return [line.strip() for line in str(caught.value).splitlines()[1:]]


def with_change(path: str, value, stack: str = "dev") -> dict:
    values = raw(stack)
    target = values
    keys = path.split(".")
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = value
    return values


def test_committed_stacks_are_valid():
    dev = validate_stack_config(raw("dev"))
    prod = validate_stack_config(raw("prod"))
    assert not dev.is_production and prod.is_production
    assert set(prod.services) >= {"backend", "frontend"}


@pytest.mark.parametrize("cpu,memory", [(256, 512), (256, 2048), (512, 4096), (1024, 8192), (2048, 16384),
                                        (4096, 30720), (8192, 16384), (8192, 61440), (16384, 32768),
                                        (16384, 122880)])
def test_fargate_sizes_from_aws_table_are_accepted(cpu, memory):
    values = with_change("services.backend.cpu", cpu)
    values["services"]["backend"]["memory"] = memory
    assert validate_stack_config(values).services["backend"].memory == memory


def test_unknown_fargate_cpu_is_rejected():
    assert problems(with_change("services.backend.cpu", 384)) == [
        "webstack:services.backend.cpu = 384: Fargate CPU units must be one of 256, 512, 1024, 2048, 4096, 8192, 16384"
    ]


def test_initial_count_is_desired_or_min():
    # The order min <= desired <= max is a cross-field rule (tests/test_config_rules.py).
    values = with_change("services.backend.scaling", {"min": 1, "desired": 2, "max": 3})
    assert validate_stack_config(values).services["backend"].scaling.initial_count == 2
    values = with_change("services.backend.scaling", {"min": 2, "max": 3})
    assert validate_stack_config(values).services["backend"].scaling.initial_count == 2


def test_cooldowns_are_bounded():
    assert problems(with_change("services.backend.scaling.scaleInCooldown", 7200)) == [
        "webstack:services.backend.scaling.scaleInCooldown = 7200: Input should be less than or equal to 3600"
    ]


@pytest.mark.parametrize("field,value,message", [
    ("interval", 4, "Input should be greater than or equal to 5"),
    ("interval", 301, "Input should be less than or equal to 300"),
    ("healthyThreshold", 1, "Input should be greater than or equal to 2"),
    ("unhealthyThreshold", 11, "Input should be less than or equal to 10"),
])
def test_health_check_ranges(field, value, message):
    values = with_change(f"services.backend.healthCheck.{field}", value)
    assert problems(values) == [f"webstack:services.backend.healthCheck.{field} = {value}: {message}"]


def test_deregistration_delay_range():
    assert validate_stack_config(with_change("services.backend.deregistrationDelay", 0))
    assert problems(with_change("services.backend.deregistrationDelay", 3601)) == [
        "webstack:services.backend.deregistrationDelay = 3601: Input should be less than or equal to 3600"
    ]


@pytest.mark.parametrize("value,ok", [(1, True), (4000, True), (0, False), (4001, False)])
def test_alb_idle_timeout(value, ok):
    values = with_change("loadBalancer.idleTimeout", value)
    if ok:
        assert validate_stack_config(values).load_balancer.idle_timeout == value
    else:
        bound = "greater than or equal to 1" if value < 1 else "less than or equal to 4000"
        assert problems(values) == [f"webstack:loadBalancer.idleTimeout = {value}: Input should be {bound}"]


@pytest.mark.parametrize("cidr,message", [
    ("10.0.0.0/33", "not a valid IPv4 CIDR block (\'10.0.0.0/33\' does not appear to be an IPv4 or IPv6 network); use e.g. 10.0.0.0/16"),
    ("10.0.0.1/16", "not a valid IPv4 CIDR block (10.0.0.1/16 has host bits set); use e.g. 10.0.0.0/16"),
    ("10.0.0.0/8", "the VPC CIDR must be IPv4 with a prefix between /16 and /24 (AWS's limits)"),
    ("8.8.0.0/16", "the VPC CIDR must be a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)"),
])
def test_vpc_cidr(cidr, message):
    assert problems(with_change("network.cidr", cidr)) == [f'webstack:network.cidr = "{cidr}": {message}']


def test_two_to_six_availability_zones():
    assert problems(with_change("network.availabilityZones", ["us-east-1a"])) == [
        'webstack:network.availabilityZones = ["us-east-1a"]: List should have at least 2 items after validation, not 1'
    ]
    seven = [f"us-east-1{letter}" for letter in "abcdefg"]
    assert "List should have at most 6 items" in problems(with_change("network.availabilityZones", seven))[0]
    assert problems(with_change("network.availabilityZones", ["us-east-1a", "us-east-1"])) == [
        'webstack:network.availabilityZones[1] = "us-east-1": not an availability zone name: a region and a letter, '
        "e.g. us-east-1a"
    ]
    # Distinct zones, in aws:region: cross-field rules (tests/test_config_rules.py).


def test_subnets_must_fit_each_availability_zones_block():
    values = with_change("network.cidr", "10.0.0.0/24")
    assert problems(values) == [
        "webstack:network.subnetMask = 21: 3 subnets of /21 (one per tier: public, private, isolated) do not fit in "
        "each AZ's /27 block of network.cidr 10.0.0.0/24 (0 fit); use a network.cidr of /23 or larger"
    ]
    values["network"]["subnetMask"] = 28
    values["network"]["isolatedSubnets"] = False
    assert validate_stack_config(values).network.subnet_mask == 28
    # 15 /20s would fit in a /16 in total, but awsx lays them out per AZ block (a /19 here): refused.
    values = with_change("network.availabilityZones", [f"us-east-1{zone}" for zone in "abcde"])
    values["network"]["subnetMask"] = 20
    assert problems(values) == [
        "webstack:network.subnetMask = 20: 3 subnets of /20 (one per tier: public, private, isolated) do not fit in "
        "each AZ's /19 block of network.cidr 10.10.0.0/16 (2 fit); use a subnetMask of 21 to 28"
    ]


def test_adding_an_availability_zone_or_the_isolated_tier_never_moves_a_subnet():
    from stackconfig.network import subnet_layout

    config = validate_stack_config(raw("dev")).network
    assert config.availability_zone_cidr_mask == 19 and config.subnet_mask == 21
    two = subnet_layout(config.cidr, 2, 3, config.subnet_mask)
    assert two == [["10.10.0.0/21", "10.10.8.0/21", "10.10.16.0/21"],
                   ["10.10.32.0/21", "10.10.40.0/21", "10.10.48.0/21"]]
    six = subnet_layout(config.cidr, 6, 3, config.subnet_mask)
    assert six[:2] == two and six[5] == ["10.10.160.0/21", "10.10.168.0/21", "10.10.176.0/21"]
    assert [zone[:2] for zone in two] == subnet_layout(config.cidr, 2, 2, config.subnet_mask)


@pytest.mark.parametrize("port,ok", [(1, True), (65535, True), (0, False), (65536, False)])
def test_container_port(port, ok):
    values = with_change("services.backend.port", port)
    if ok:
        assert validate_stack_config(values).services["backend"].port == port
    else:
        assert problems(values)[0].startswith(f"webstack:services.backend.port = {port}: Input should be")


def test_environment_variable_names():
    assert validate_stack_config(with_change("services.backend.environment", {"_OK_1": "x"}))
    assert problems(with_change("services.backend.environment", {"1BAD": "x"})) == [
        'webstack:services.backend.environment.1BAD = "1BAD": an environment variable name must match '
        "^[A-Za-z_][A-Za-z0-9_]*$ (letters, digits, underscores; not starting with a digit)"
    ]


def test_unknown_keys_are_errors_that_list_the_allowed_keys():
    values = with_change("services.backend.scaling.cpuTarge", 60)
    assert problems(values) == [
        "webstack:services.backend.scaling.cpuTarge = 60: unknown key; allowed keys: backlogPerTask, cpuTarget, desired, max, "
        "memoryTarget, min, requestsPerTarget, scaleInCooldown, scaleOutCooldown, schedules"
    ]


def test_all_problems_are_reported_at_once():
    values = raw()
    values["services"]["backend"]["port"] = 0
    values["services"]["frontend"]["cpu"] = 300
    values["loadBalancer"]["idleTimeout"] = 0
    assert len(problems(values)) == 3


def test_service_names_are_short_and_dns_safe():
    values = raw()
    values["services"]["Backend_API"] = copy.deepcopy(values["services"].pop("backend"))
    assert problems(values) == [
        'webstack:services.Backend_API = "Backend_API": a service name is 1-20 characters of a-z, 0-9 and \'-\', '
        "starting with a letter (it prefixes AWS names with length limits)"
    ]


def test_certificate_arn_must_be_an_acm_arn():
    assert problems(with_change("loadBalancer.certificateArn", "arn:aws:iam::123456789012:server-certificate/x")) == [
        'webstack:loadBalancer.certificateArn = "arn:aws:iam::123456789012:server-certificate/x": expected an ACM '
        "certificate ARN like arn:aws:acm:us-east-1:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef"
    ]


def test_log_retention_must_be_a_cloudwatch_value():
    assert problems(with_change("logs.retentionDays", 10))[0].startswith(
        "webstack:logs.retentionDays = 10: CloudWatch Logs accepts retention of 1, 3, 5, 7, 14, 30"
    )


def test_bad_config_stops_the_program_before_any_resource():
    config, _ = stack_config("dev")
    config["webstack:services"]["backend"]["port"] = 70000
    errors = []

    def program():
        try:
            runpy.run_path(str(PROGRAM), run_name="__main__")
        except pulumi.RunError as error:
            errors.append(str(error))

    run = run_in_mocks(program, stack="dev", config=config)
    assert "webstack:services.backend.port = 70000: Input should be less than or equal to 65535" in errors[0]
    assert run.resources == []


def test_cross_section_problems_are_reported_together():
    values = with_change("services.frontend.routes.priority", 10, stack="prod")
    values["loadBalancer"]["certificateArn"] = (
        "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
    )
    assert problems(values) == [
        "webstack:services.frontend.routes.priority = 10: services.backend.routes.priority is 10 too; listener rule "
        "priorities must be unique across services",
        'webstack:loadBalancer.certificateArn = "arn:aws:acm:us-east-1:123456789012:certificate/'
        '00000000-0000-0000-0000-000000000000": not together with webstack:domain (the stack requests and validates '
        "its own certificate for it); set one of them",
    ]


def test_service_names_reserved_for_data_tier_alarms():
    values = raw()
    values["services"]["db-primary"] = values["services"].pop("frontend")
    assert problems(values) == [
        'webstack:services.db-primary = "db-primary": a service name must not start with a prefix reserved for the '
        "data tier's alarms (db-, cache-); choose another name"
    ]


@pytest.mark.parametrize("region", ["us-gov-west-1", "cn-north-1", "", "US-EAST-1"])
def test_region_must_be_a_commercial_aws_region(region):
    values = raw()
    values["region"] = region
    assert any(line.startswith(f"aws:region = {json.dumps(region)}: set aws:region to a commercial AWS region")
               for line in problems(values))


@pytest.mark.parametrize("path,ok", [("/api/*", True), ("/a&amp;b", True), ("/x?y/$v~@:+", True),
                                     ("/a&b", False), ("/a b", False), ("/café", False)])
def test_path_patterns_hold_only_characters_elb_accepts(path, ok):
    values = with_change("services.backend.routes.paths", [path])
    if ok:
        assert validate_stack_config(values).services["backend"].routes.paths == [path]
    else:
        assert problems(values) == [
            f"webstack:services.backend.routes.paths[0] = {json.dumps(path)}: a path pattern may hold only "
            "letters, digits, _ - . $ / ~ \" ' @ : + &amp; and the wildcards * and ?"
        ]


@pytest.mark.parametrize("host,ok", [("api.example.com", True), ("*.example.com", True), ("example.*", True),
                                     ("localhost", False), ("api.example.com:443", False), ("ex_ample.com", False)])
def test_host_patterns_are_what_elb_accepts(host, ok):
    values = with_change("services.backend.routes.hosts", [host])
    if ok:
        assert validate_stack_config(values).services["backend"].routes.hosts == [host]
    else:
        assert problems(values) == [
            f"webstack:services.backend.routes.hosts[0] = {json.dumps(host)}: a host pattern is at most "
            "128 characters of letters, digits, - . and the wildcards * and ?, with at least one '.' and only "
            "letters after the last (e.g. api.example.com, *.example.com)"
        ]


@pytest.mark.parametrize("matcher,ok", [("200", True), ("200-299", True), ("200,302", True), ("499", True),
                                        ("500", False), ("199", False), ("200-500", False), ("299-200", False)])
def test_health_check_matcher_is_an_alb_code_range(matcher, ok):
    values = with_change("services.backend.healthCheck.matcher", matcher)
    if ok:
        assert validate_stack_config(values).services["backend"].health_check.matcher == matcher
    else:
        assert problems(values) == [
            f'webstack:services.backend.healthCheck.matcher = "{matcher}": {matcher!r}: an Application Load '
            "Balancer's health check matches HTTP codes 200-499 (e.g. 200, 200-299 or 200,302)"
        ]


def test_health_check_path_at_most_1024_characters():
    assert validate_stack_config(with_change("services.backend.healthCheck.path", "/" + "a" * 1023))
    assert problems(with_change("services.backend.healthCheck.path", "/" + "a" * 1024))[0].endswith(
        "String should have at most 1024 characters"
    )


def test_app_cookie_name_may_not_take_the_load_balancers_own_names():
    values = with_change("services.backend.stickiness", {"type": "app_cookie", "cookieName": "AWSALBAPP-0"})
    assert problems(values) == [
        'webstack:services.backend.stickiness.cookieName = "AWSALBAPP-0": names starting with AWSALB are reserved '
        "for the load balancer's own cookies (AWSALB, AWSALBAPP, AWSALBTG); use the application's session cookie"
    ]


def schedule(**changes) -> dict:
    return {"name": "night", "schedule": "cron(0 22 ? * MON-FRI *)", "min": 0, "max": 0,
            "timezone": "Europe/Berlin", **changes}


@pytest.mark.parametrize("expression,ok", [
    ("cron(0 22 ? * MON-FRI *)", True), ("rate(30 minutes)", True), ("at(2030-01-01T06:00:00)", True),
    ("cron(0 22 * * *)", False), ("rate(0 hours)", False), ("rate(1 week)", False), ("at(tomorrow)", False),
])
def test_schedule_expressions(expression, ok):
    values = with_change("services.backend.scaling.schedules", [schedule(schedule=expression)])
    if ok:
        assert validate_stack_config(values).services["backend"].scaling.schedules[0].schedule == expression
    else:
        assert problems(values) == [
            f'webstack:services.backend.scaling.schedules[0].schedule = "{expression}": expected cron(...) with six '
            "fields (minutes hours day-of-month month day-of-week year), rate(<n> minute(s)|hour(s)|day(s)) with "
            "n >= 1, or at(yyyy-mm-ddThh:mm:ss)"
        ]


def test_schedule_time_zone_is_an_iana_name():
    assert validate_stack_config(with_change("services.backend.scaling.schedules",
                                             [schedule(timezone="Europe/Berlin")]))
    values = with_change("services.backend.scaling.schedules", [schedule(timezone="CET+1")])
    assert problems(values) == [
        'webstack:services.backend.scaling.schedules[0].timezone = "CET+1": \'CET+1\' is not an IANA time zone '
        "name (e.g. UTC, Europe/Berlin, America/New_York)"
    ]




WRITABLE_PATH_RULE = ("a writable path is an absolute directory below / (e.g. /tmp, /var/cache/nginx): letters, digits, "
                      "'.', '_' and '-' between slashes, no trailing slash, no . or ..")


@pytest.mark.parametrize("paths,message", [
    (["/tmp", "/var/cache/nginx", "/home/app/.cache"], None),
    (["tmp"], f'webstack:services.backend.writablePaths[0] = "tmp": {WRITABLE_PATH_RULE}'),
    (["/tmp/"], f'webstack:services.backend.writablePaths[0] = "/tmp/": {WRITABLE_PATH_RULE}'),
    (["/"], f'webstack:services.backend.writablePaths[0] = "/": {WRITABLE_PATH_RULE}'),
    (["/var/../etc"], f'webstack:services.backend.writablePaths[0] = "/var/../etc": {WRITABLE_PATH_RULE}'),
    (["/var/cache", "/var-cache"], 'webstack:services.backend.writablePaths = ["/var/cache", "/var-cache"]: '
                                   "/var/cache and /var-cache would share one task volume (writable-var-cache): list "
                                   "each directory once"),
])
def test_writable_paths_are_absolute_directories_with_a_volume_each(paths, message):
    values = with_change("services.backend.writablePaths", paths)
    if message is None:
        assert validate_stack_config(values).services["backend"].writable_paths == paths
    else:
        assert problems(values) == [message]


@pytest.mark.parametrize("size,ok", [(21, True), (200, True), (20, False), (201, False)])
def test_ephemeral_storage_is_fargates_range(size, ok):
    values = with_change("jobs", {"nightly": {"imageFrom": "backend", "command": ["true"], "schedule": "rate(1 day)",
                                              "ephemeralStorageGiB": size}})
    if ok:
        assert validate_stack_config(values).jobs["nightly"].ephemeral_storage_gib == size
    else:
        bound = "greater than or equal to 21" if size < 21 else "less than or equal to 200"
        assert problems(values) == [f"webstack:jobs.nightly.ephemeralStorageGiB = {size}: Input should be {bound}"]


@pytest.mark.parametrize("canary,message", [
    ({"percent": 12.5}, None),
    ({"percent": 5.05}, "webstack:services.backend.deployment.canary.percent = 5.05: ECS shifts traffic in steps of "
                        "0.1 %: use a multiple of 0.1 (e.g. 5 or 12.5)"),
    ({"percent": 0.05}, "webstack:services.backend.deployment.canary.percent = 0.05: Input should be greater than or "
                        "equal to 0.1"),
    ({"bakeMinutes": 1441}, "webstack:services.backend.deployment.canary.bakeMinutes = 1441: Input should be less "
                            "than or equal to 1440"),
])
def test_canary_steps_are_what_ecs_accepts(canary, message):
    values = with_change("services.backend.deployment", {"strategy": "canary", "canary": canary})
    if message is None:
        assert validate_stack_config(values).services["backend"].deployment.canary.percent == canary["percent"]
    else:
        assert problems(values) == [message]


def test_linear_steps_are_at_least_three_percent():
    values = with_change("services.backend.deployment", {"strategy": "linear", "linear": {"stepPercent": 2.9}})
    assert problems(values) == ["webstack:services.backend.deployment.linear.stepPercent = 2.9: Input should be "
                                "greater than or equal to 3"]


def test_deployment_defaults_resolve_once_per_environment():
    prod = validate_stack_config(raw("prod")).services
    assert prod["backend"].deployment.alarms is True and prod["frontend"].deployment.alarms is True
    dev = validate_stack_config(raw("dev")).services
    assert dev["backend"].deployment.alarms is False
    blue_green = validate_stack_config(with_change("services.backend.deployment", {"strategy": "blueGreen"}))
    assert blue_green.services["backend"].deployment.alarms is True  # its only automatic rollback, even in dev
    assert blue_green.services["backend"].deployment.bake_time_minutes == 10
    canary = validate_stack_config(with_change("services.backend.deployment", {"strategy": "canary"}))
    assert canary.services["backend"].deployment.canary.model_dump() == {"percent": 5.0, "bake_minutes": 10}
