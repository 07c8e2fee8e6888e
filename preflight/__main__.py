"""`python -m preflight <stack> [--json]`: the program, offline, with no CLI and no credentials."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import traceback

import pulumi

from cost import estimate, records_from_captured, render_table
from preflight.broken_file import BrokenFileError, display_path
from preflight.capture import run_program
from preflight.policy_gate import (POLICY_CONFIG_DIR, PolicyConfigError, evaluate_policies, load_policy_config,
                                   policy_gate)
from preflight.report import format_inventory, inventory, summary_line
from preflight.stack_files import load_stack_file
from preflight.stack_secrets import plaintext_secrets
from stackconfig.cost import CostConfig, usage_assumptions

# 3: preflight or the program crashed (a bug, with its traceback), never to be read as a violation.
EXIT_OK, EXIT_VIOLATIONS, EXIT_BAD_CONFIG, EXIT_CRASHED = 0, 1, 2, 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m preflight", description=__doc__)
    parser.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--json", action="store_true", help="machine-readable report on stdout")
    args = parser.parse_args(argv)

    # Both files are read (and the policy config checked against the pack's schemas) before the program runs.
    try:
        stack_file = load_stack_file(args.stack)
        policy_config = load_policy_config(args.stack)
    except (FileNotFoundError, BrokenFileError) as error:
        print(f"preflight: {error}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    leaked = plaintext_secrets(stack_file)
    if leaked:
        print(f"preflight: {stack_file.path.name} holds plaintext secrets:", file=sys.stderr)
        for finding in leaked:
            print(f"  {finding}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    try:
        policy_gate().reconcile(policy_config)
    except PolicyConfigError as error:
        print(f"preflight: {display_path(POLICY_CONFIG_DIR / f'{args.stack}.json')}: {error}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    try:
        run = run_program(args.stack, stack_file.config, stack_file.secret_keys)
    except pulumi.RunError as error:
        print(f"preflight: {args.stack}: {error}", file=sys.stderr)
        return EXIT_BAD_CONFIG

    policies = evaluate_policies(run, stack_file.config, policy_config)

    # The program already validated `webstack:cost` (a bad value stopped it above).
    usage = usage_assumptions(CostConfig.model_validate(stack_file.config.get("webstack:cost") or {}))
    cost = estimate(records_from_captured(run.resources), usage=usage)

    report = inventory(run)
    report["policies"] = policies.to_json()
    report.update(cost.to_json())
    report["summary"] = summary_line(report)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print(format_inventory(report))
        print(policies.render())
        print()
        print(render_table(cost))
        print()
        print(report["summary"])
    return EXIT_VIOLATIONS if policies.has_mandatory else EXIT_OK


if __name__ == "__main__":
    # One short process whose objects (outputs, futures, protobuf messages) nearly all live until it exits:
    # the cyclic collector would only walk that growing heap again and again, and each full pass visits
    # every object, so its cost grows with the square of the resources (5.7 s of 13.8 s at 50 services, 0.7 s
    # of 2.4 s for prod). Reference counting still frees everything that is not a cycle (+20 MB at 50 services).
    gc.disable()
    try:
        status = main()
    except Exception:  # a crash; Python's own status for it, 1, would read as a mandatory violation
        traceback.print_exc()
        status = EXIT_CRASHED
    # Nor the interpreter's teardown: freeing every object and module one by one took 0.6 s after prod and
    # 1.2 s after 50 services, for a process that is about to end. Nothing is left to do at exit but
    # flushing what was printed (no atexit work, no files open for writing).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
