"""How long `python -m preflight` takes: on prod, and on generated stacks of 10, 25 and 50 services.

Each figure is the median wall-clock time of whole `python -m preflight <stack>` processes (interpreter
start, imports, program under mocks, policy pack, cost estimate), run in a scratch copy of the project
so generated stack files never touch the work tree. Usage: `make bench` or
`.venv/bin/python benchmarks/preflight_speed.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COPIED = ["__main__.py", "Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"]
SKIPPED_DIRS = {".venv", ".git", "tests", "benchmarks", "node_modules", "__pycache__", ".pytest_cache", "tools"}


def scratch_copy(target: Path) -> None:
    for entry in ROOT.iterdir():
        if entry.name in SKIPPED_DIRS or entry.name.startswith("."):
            continue
        if entry.is_dir():
            shutil.copytree(entry, target / entry.name, ignore=shutil.ignore_patterns("__pycache__"))
        elif entry.name in COPIED or entry.suffix in (".json", ".yaml"):
            shutil.copy2(entry, target / entry.name)


def generated_stack(services: int) -> dict:
    """Prod's config with `services` copies of its backend, each with its own route."""
    document = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    template = document["config"]["webstack:services"]["backend"]
    generated = {}
    for index in range(services):
        service = copy.deepcopy(template)
        service["routes"] = {"paths": [f"/svc{index:02d}/*"], "priority": 10 + index}
        generated[f"svc-{index:02d}"] = service
    document["config"]["webstack:services"] = generated
    return document


def time_preflight(workdir: Path, stack: str, runs: int) -> tuple[float, int]:
    timings, status = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "preflight", stack], cwd=workdir,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        timings.append(time.perf_counter() - started)
        status = result.returncode
        if result.returncode not in (0, 1):
            raise SystemExit(f"preflight {stack} failed ({result.returncode}):\n{result.stderr}")
    return statistics.median(timings), status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores, "
          f"median of {args.runs} runs")
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        scratch_copy(workdir)
        rows = []
        for stack in ("dev", "prod"):
            seconds, status = time_preflight(workdir, stack, args.runs)
            rows.append((stack, seconds, status))
        for count in (10, 25, 50):
            name = f"generated-{count}"
            (workdir / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(generated_stack(count)))
            # Judged like prod (same policy levels); the budget is prod's, so large stacks exceed it (exit 1).
            shutil.copy2(workdir / "policies/config/prod.json", workdir / f"policies/config/{name}.json")
            seconds, status = time_preflight(workdir, name, args.runs)
            rows.append((f"{name} services", seconds, status))
    print(f"{'stack':<24} {'seconds':>8}  exit")
    for stack, seconds, status in rows:
        print(f"{stack:<24} {seconds:>8.2f}  {status}")


if __name__ == "__main__":
    main()
