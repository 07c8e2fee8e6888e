"""Set the policy pack's version (policies/PulumiPolicy.yaml) from a release tag: `policy-v1.4.0` -> `1.4.0`.

Pulumi Cloud refuses to publish a version twice, so each publish is a new tag; the tag, not a hand edit,
is the version (docs/policies.md: Publishing). Only the `version:` line changes; comments stay.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

PACK_PROJECT = Path(__file__).resolve().parents[2] / "policies" / "PulumiPolicy.yaml"
TAG = re.compile(r"^policy-v(?P<version>(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?)$")


def set_version(tag: str, project: Path = PACK_PROJECT) -> str:
    match = TAG.match(tag)
    if not match:
        raise SystemExit(f"tag {tag!r} is not policy-v<major>.<minor>.<patch> (e.g. policy-v1.4.0)")
    version = match["version"]
    text, count = re.subn(r"(?m)^version: .*$", f"version: {version}", project.read_text())
    if count != 1:
        raise SystemExit(f"{project} has no single top-level `version:` line")
    project.write_text(text)
    return version


if __name__ == "__main__":
    print(f"policy pack version {set_version(sys.argv[1])}")
