"""Who may import whom: the stack config never loads the policy pack, `helpers/` and `policies/` import
nothing of `stackconfig`, and the config modules import each other without a circle."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_validating_config_loads_neither_the_pack_nor_pulumi_policy():
    script = (
        "import sys; import stackconfig; "
        "loaded = sorted(m for m in sys.modules if m.startswith(('pulumi_policy', 'policies.webstack_guard', "
        "'webstack_guard'))); print(loaded)"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
