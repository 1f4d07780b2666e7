"""Type-check finops/ with mypy against a baseline that only shrinks.

    .venv/bin/python scripts/typecheck.py            # exit 1 when an error is not in the baseline
    .venv/bin/python scripts/typecheck.py --update   # rewrite the baseline; refused when it would grow

The baseline (`mypy-baseline.txt`) lists the errors the code had when the check was introduced, one per line as
`path: message  [code]` without line numbers (so editing a file does not shift them), with repeats. A change
may fix errors (the script then says the baseline can shrink) but never add one.
"""

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "mypy-baseline.txt"
LINE = re.compile(r"^(?P<path>[^:]+):\d+(?::\d+)?: error: (?P<message>.*)$")


def current_errors() -> Counter:
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "finops"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if proc.returncode not in (0, 1):  # 2: mypy itself failed (a syntax error, a bad option)
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(2)
    found = Counter()
    for line in proc.stdout.splitlines():
        match = LINE.match(line)
        if match:
            found[f"{match['path']}: {match['message']}"] += 1
    return found


def read_baseline() -> Counter:
    if not BASELINE.exists():
        return Counter()
    return Counter(line for line in BASELINE.read_text().splitlines() if line and not line.startswith("#"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--update", action="store_true", help="rewrite the baseline (it may only shrink; with no "
                        "baseline file yet, it is created)")  # fmt: skip
    args = parser.parse_args()
    found, baseline = current_errors(), read_baseline()
    new = found - baseline
    fixed = baseline - found
    if args.update and not BASELINE.exists():  # the first baseline: what the code has when the check arrives
        new = Counter()
    if new:
        sys.stderr.write(f"typecheck: {sum(new.values())} mypy error(s) not in {BASELINE.name}:\n")
        for key, count in sorted(new.items()):
            sys.stderr.write(f"  {key}" + (f"  (x{count})" if count > 1 else "") + "\n")
        sys.stderr.write("fix them (run `.venv/bin/mypy finops` for line numbers); the baseline never grows\n")
        return 1
    if args.update:
        header = "# mypy errors finops/ still has (scripts/typecheck.py); this list may only shrink\n"
        BASELINE.write_text(header + "".join(f"{key}\n" for key in sorted(found.elements())))
        print(f"typecheck: baseline rewritten: {sum(found.values())} errors ({sum(fixed.values())} fewer)")
        return 0
    print(f"typecheck: {sum(found.values())} known errors, none new", end="")
    if fixed:
        print(f"; {sum(fixed.values())} fixed: shrink the baseline with `make typecheck-baseline`")
    else:
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
