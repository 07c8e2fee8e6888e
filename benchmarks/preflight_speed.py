"""How long `python -m preflight` takes: on dev and prod, and on prod grown to 10, 25 and 50 services.

Each figure is the median wall-clock time of whole `python -m preflight <stack>` processes (interpreter
start, imports, program under mocks, policy pack, cost estimate), run in a scratch copy of the project
so generated stack files never touch the work tree. The runs go round-robin (every stack once per
round) so that a burst of load from something else on the machine hits all stacks alike; the CPU
seconds of the same processes are printed too, as they move less than wall time on a shared machine.

It prints the machine, the table, the cost of one more service (a least-squares fit over the
generated stacks) and how many times prod's time the 50-service stack takes.
Usage: `make bench` or `.venv/bin/python benchmarks/preflight_speed.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COPIED = ["__main__.py", "Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"]
SKIPPED_DIRS = {".venv", ".git", "tests", "benchmarks", "node_modules", "__pycache__", ".pytest_cache", "tools"}
GENERATED = (10, 25, 50)
FIRST_LINE = re.compile(r"^Stack \S+: (\d+) resources")


@dataclass
class Stack:
    name: str
    label: str
    services: int | None = None
    resources: int = 0
    status: int = 0
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def scratch_copy(target: Path) -> None:
    for entry in ROOT.iterdir():
        if entry.name in SKIPPED_DIRS or entry.name.startswith("."):
            continue
        if entry.is_dir():
            shutil.copytree(entry, target / entry.name, ignore=shutil.ignore_patterns("__pycache__"))
        elif entry.name in COPIED or entry.suffix in (".json", ".yaml"):
            shutil.copy2(entry, target / entry.name)


def generated_stack(services: int) -> dict:
    """Prod with copies of its backend added, each on its own route, until it has `services` services.

    Prod's own services, queues and jobs stay as they are, so every reference between them still holds.
    """
    document = yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())
    shipped = document["config"]["webstack:services"]
    template = shipped["backend"]
    for index in range(services - len(shipped)):
        service = copy.deepcopy(template)
        service["routes"] = {"paths": [f"/svc{index:02d}/*"], "priority": template["routes"]["priority"] + 1 + index}
        shipped[f"svc-{index:02d}"] = service
    return document


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(workdir: Path, stack: Stack) -> None:
    cpu_before, started = children_cpu(), time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "preflight", stack.name], cwd=workdir,
                            capture_output=True, text=True)
    stack.wall.append(time.perf_counter() - started)
    stack.cpu.append(children_cpu() - cpu_before)
    if result.returncode not in (0, 1):
        raise SystemExit(f"preflight {stack.name} failed ({result.returncode}):\n{result.stderr}")
    first_line = FIRST_LINE.match(result.stdout)
    if first_line is None:
        raise SystemExit(f"preflight {stack.name}: its output does not start with the resource count")
    stack.resources, stack.status = int(first_line.group(1)), result.returncode


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{cpu_model()}, {os.cpu_count()} cores ({usable} usable), {platform.machine()}, "
            f"{platform.system()} {platform.release()}; "
            f"{platform.python_implementation()} {platform.python_version()}")


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x."""
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    return (sum((x - mean_x) * (y - mean_y) for x, y in points)
            / sum((x - mean_x) ** 2 for x, _ in points))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"load average before: {load_average()} (1, 5, 15 min); median of {args.runs} runs, round-robin")
    stacks = [Stack("dev", "dev"), Stack("prod", "prod")]
    stacks += [Stack(f"generated-{count}", f"prod, {count} services", services=count) for count in GENERATED]
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        scratch_copy(workdir)
        for stack in stacks:
            if stack.services is not None:
                (workdir / f"Pulumi.{stack.name}.yaml").write_text(yaml.safe_dump(generated_stack(stack.services)))
                # Judged like prod (same levels); the budget is prod's, so large stacks exceed it (exit 1).
                shutil.copy2(workdir / "policies/config/prod.json", workdir / f"policies/config/{stack.name}.json")
        for _ in range(args.runs):
            for stack in stacks:
                run_once(workdir, stack)
    print(f"load average after:  {load_average()}")
    print()
    print(f"{'stack':<24} {'resources':>9} {'seconds':>8} {'cpu s':>7}  exit")
    for stack in stacks:
        print(f"{stack.label:<24} {stack.resources:>9,} {statistics.median(stack.wall):>8.2f} "
              f"{statistics.median(stack.cpu):>7.2f}  {stack.status}")
    generated = [s for s in stacks if s.services is not None]
    per_service = slope([(s.services, statistics.median(s.wall)) for s in generated])
    per_resource = slope([(s.resources, statistics.median(s.wall)) for s in generated])
    resources_per_service = slope([(s.services, s.resources) for s in generated])
    prod, largest = stacks[1], generated[-1]
    print()
    print(f"per added service: {per_service:.3f} s ({resources_per_service:.0f} resources, "
          f"{per_resource * 1000:.1f} ms each), least squares over {', '.join(str(s.services) for s in generated)} "
          f"services")
    print(f"{largest.services} services / prod: {statistics.median(largest.wall) / statistics.median(prod.wall):.2f}x "
          f"wall, {statistics.median(largest.cpu) / statistics.median(prod.cpu):.2f}x cpu")


if __name__ == "__main__":
    main()
