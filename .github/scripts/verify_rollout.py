"""After `pulumi up`: did every ECS service really roll out the task definition Pulumi registered?

`pulumi up` returns once ECS accepted the new task definition. If the new tasks then fail their
health checks, the deployment circuit breaker rolls the service back to the previous revision and
the service looks healthy again, so the deploy would go green with the old code running; a
deployment alarm (the service's 5xx-rate or unhealthy-hosts alarm, on in prod) rolls it back the
same way. This waits for the services to settle and fails unless each one's PRIMARY deployment runs
the task definition from the stack outputs and its rollout COMPLETED. A blue/green, canary or linear
deployment stays IN_PROGRESS through its bake time (longer than `services-stable` waits), so the
check keeps polling while a rollout is in progress, up to `--max-wait-minutes`.

    python .github/scripts/verify_rollout.py <pulumi-stack>

Reads the stack outputs `clusterName`, `serviceNames` and `taskDefinitionArns` (`pulumi stack output`)
and calls `aws ecs wait services-stable` and `aws ecs describe-services`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Callable, Mapping

# `aws ecs describe-services` takes at most 10 services per call.
DESCRIBE_BATCH = 10
POLL_SECONDS = 30
# Long enough for the default bake time (10 minutes) and canary/linear steps on top of a rollout, and well inside
# deploy.yml's 90-minute job (a killed job would print no ::error:: line).
DEFAULT_MAX_WAIT_MINUTES = 30


def rollout_problems(described: Mapping, expected: Mapping[str, str]) -> list[str]:
    """Problems found in `describe-services` output; `expected` maps ECS service name -> task definition ARN."""
    problems = []
    services = {service["serviceName"]: service for service in described.get("services", [])}
    for failure in described.get("failures", []):
        problems.append(f"{failure.get('arn')}: {failure.get('reason')}")
    for name, task_definition in sorted(expected.items()):
        service = services.get(name)
        if service is None:
            problems.append(f"{name}: not found in the cluster")
            continue
        primary = next((d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), None)
        if primary is None:
            problems.append(f"{name}: no PRIMARY deployment")
        elif primary.get("taskDefinition") != task_definition:
            problems.append(
                f"{name}: runs {primary.get('taskDefinition')}, not {task_definition}: the deployment circuit "
                f"breaker or a deployment alarm rolled it back (see the service's events, the new tasks' stopped "
                f"reasons and the service's 5xx-rate and unhealthy-hosts alarms)"
            )
        elif primary.get("rolloutState") != "COMPLETED":
            problems.append(f"{name}: rollout {primary.get('rolloutState')}: {primary.get('rolloutStateReason', '')}")
    return problems


def in_progress(described: Mapping) -> bool:
    """Is any service's PRIMARY deployment still rolling out (or baking)?"""
    return any(deployment.get("status") == "PRIMARY" and deployment.get("rolloutState") == "IN_PROGRESS"
               for service in described.get("services", []) for deployment in service.get("deployments", []))


def settled(describe: Callable[[], Mapping], deadline: float, clock: Callable[[], float] = time.monotonic,
            sleep: Callable[[float], None] = time.sleep) -> Mapping:
    """`describe-services` output once no rollout is in progress, or the last one at the deadline."""
    while True:
        described = describe()
        if not in_progress(described) or clock() >= deadline:
            return described
        sleep(POLL_SECONDS)


def _json(command: list[str]) -> object:
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack", help="the Pulumi stack, e.g. acme/dev")
    parser.add_argument("--max-wait-minutes", type=float, default=DEFAULT_MAX_WAIT_MINUTES,
                        help="how long to keep polling a rollout in progress (a blue/green bake time)")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + args.max_wait_minutes * 60

    outputs = _json(["pulumi", "stack", "output", "--json", "--stack", args.stack])
    cluster = outputs["clusterName"]
    expected = {
        outputs["serviceNames"][service]: task_definition
        for service, task_definition in outputs["taskDefinitionArns"].items()
    }
    names = sorted(expected)
    problems = []
    for start in range(0, len(names), DESCRIBE_BATCH):
        batch = names[start:start + DESCRIBE_BATCH]
        # Waits up to 10 minutes; a service still deploying then is reported below, not hidden.
        subprocess.run(["aws", "ecs", "wait", "services-stable", "--cluster", cluster, "--services", *batch])
        described = settled(
            lambda: _json(["aws", "ecs", "describe-services", "--cluster", cluster, "--services", *batch]), deadline)
        problems += rollout_problems(described, {name: expected[name] for name in batch})
    for problem in problems:
        print(f"::error::{problem}")
    if not problems:
        print(f"{len(names)} services run the task definitions of this deploy")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
