"""A recording stand-in for the `pulumi`, `aws` and `docker` CLIs (tests/test_release_rehearsal.py).

    python release_standin.py <tool> <argv...>

Appends one JSON line per call to `$STANDIN_DIR/calls.jsonl`: the tool, its argv, the text it got on stdin
(for `--password-stdin`) and, for each `file://` argument, that file's mode and content as they were
during the call. Answers from `$STANDIN_DIR/rules.json`: the first rule whose `tool` matches, whose
`prefix` starts the argv and whose `contains` strings are all arguments gives the next of its
`responses` (the last one repeats); no rule: exit 0, no output.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main() -> int:
    tool, argv = sys.argv[1], sys.argv[2:]
    directory = Path(os.environ["STANDIN_DIR"])
    call: dict = {"tool": tool, "argv": argv}
    if "--password-stdin" in argv:
        call["stdin"] = sys.stdin.read()
    files = {}
    for argument in argv:
        if argument.startswith("file://"):
            path = Path(argument[len("file://"):])
            files[str(path)] = {"mode": oct(path.stat().st_mode & 0o777), "content": path.read_text()}
    if files:
        call["files"] = files
    with (directory / "calls.jsonl").open("a") as log:
        log.write(json.dumps(call) + "\n")

    rules = json.loads((directory / "rules.json").read_text())
    state_path = directory / "state.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    for index, rule in enumerate(rules):
        prefix = rule.get("prefix", [])
        if rule["tool"] == tool and argv[:len(prefix)] == prefix and all(c in argv for c in rule.get("contains", [])):
            used = state.get(str(index), 0)
            state[str(index)] = used + 1
            state_path.write_text(json.dumps(state))
            response = rule["responses"][min(used, len(rule["responses"]) - 1)]
            stdout = response.get("stdout", "")
            sys.stdout.write(stdout if isinstance(stdout, str) else json.dumps(stdout))
            sys.stderr.write(response.get("stderr", ""))
            return response.get("exit", 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
