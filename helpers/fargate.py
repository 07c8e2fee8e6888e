"""Fargate task sizes: the CPU/memory pairs AWS accepts (RegisterTaskDefinition rejects the rest)."""

from __future__ import annotations

GIB = 1024

# CPU units -> (min MiB, max MiB, step MiB), from AWS's "Task CPU and memory" table for Fargate.
_MEMORY_RANGES: dict[int, tuple[int, int, int]] = {
    256: (512, 2 * GIB, 0),  # 512, 1024, 2048 only
    512: (1 * GIB, 4 * GIB, 1 * GIB),
    1024: (2 * GIB, 8 * GIB, 1 * GIB),
    2048: (4 * GIB, 16 * GIB, 1 * GIB),
    4096: (8 * GIB, 30 * GIB, 1 * GIB),
    8192: (16 * GIB, 60 * GIB, 4 * GIB),
    16384: (32 * GIB, 120 * GIB, 8 * GIB),
}

CPU_UNITS = tuple(_MEMORY_RANGES)


def memory_choices(cpu: int) -> list[int]:
    """Every memory size (MiB) Fargate accepts with `cpu` units; empty for an unknown cpu."""
    if cpu not in _MEMORY_RANGES:
        return []
    low, high, step = _MEMORY_RANGES[cpu]
    if step == 0:
        return [512, 1024, 2048]
    return list(range(low, high + 1, step))


def describe_memory_choices(cpu: int) -> str:
    """Human wording of the valid memory sizes for `cpu`, for error messages."""
    low, high, step = _MEMORY_RANGES[cpu]
    if step == 0:
        return "512, 1024 or 2048 MiB"
    return f"{low}-{high} MiB in steps of {step} MiB"


def is_valid_size(cpu: int, memory: int) -> bool:
    return memory in memory_choices(cpu)
