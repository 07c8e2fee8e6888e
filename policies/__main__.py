"""The webstack-guard CrossGuard pack: `pulumi preview --policy-pack policies --policy-pack-config policies/config/<stack>.json`.

Rules live in `webstack_guard/` (one module per concern); this file only builds the pack. The
pack directory goes on sys.path so the rules import the same way when the CLI runs this file and
when preflight loads it in-process.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from budget import stack_monthly_budget
from webstack_guard import ALL_POLICIES

PolicyPack(
    name="webstack-guard",
    description="webstack guardrails: private networking, secrets only in secret stores, encryption, "
                "resilience, least privilege, observability and cost-allocation tags.",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[*ALL_POLICIES, stack_monthly_budget],
)
