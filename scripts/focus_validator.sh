#!/usr/bin/env bash
# Run the official FOCUS validator (focus-validator 2.2.1, Python 3.12) on one file and write its JUnit XML.
# Usage: bash scripts/focus_validator.sh FILE.csv|FILE.parquet REPORT.xml [FOCUS_VERSION, default 1.2]
# The validator lives in .venv-fv (FINOPS_FV_VENV: elsewhere), made on the first run (30 s to 2 min); a stamp file
# skips the install afterwards, and a lock keeps two runs from installing at once.
# Its exit status is 0 even when rules fail: read the XML. This script exits non-zero only when it cannot run it.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 FILE.csv|FILE.parquet REPORT.xml [VERSION]" >&2; exit 2; }
[ -f "$1" ] || { echo "focus_validator: no such file: $1" >&2; exit 2; }
data=$(realpath "$1")  # before the cd below: the paths are the caller's
report=$(realpath -m "$2")
version=${3:-1.2}
cd "$(dirname "$0")/.."
root=$(pwd)

VENV=${FINOPS_FV_VENV:-$root/.venv-fv}
PINS="focus-validator==2.2.1 pyarrow<16"  # pyarrow 16+ needs NumPy 2, the validator pins NumPy 1
STAMP="$VENV/.stamp-fv"

find_python() {
    local pyenv_root cand
    pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
    # python3.12 may be a pyenv shim that fails outside a pyenv-managed folder: prefer the real binary
    for cand in "$pyenv_root"/versions/3.12*/bin/python3.12 "$(command -v python3.12 || true)"; do
        [ -n "$cand" ] && [ -x "$cand" ] && "$cand" -c 'import sys; assert sys.version_info[:2] == (3, 12)' \
            2>/dev/null && { echo "$cand"; return 0; }
    done
    return 1
}

lock="${TMPDIR:-/tmp}/finops-focus-validator-$(printf %s "$VENV" | cksum | cut -d' ' -f1).lock"
exec 9>"$lock"
flock 9
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$PINS" ]; then
    py=$(find_python) || {
        echo "focus_validator: Python 3.12 not found (looked in \$(pyenv root)/versions/3.12*/ and PATH);" \
             "focus-validator 2.2.1 needs it: install it (pyenv install 3.12) and run again" >&2
        exit 3
    }
    echo "focus_validator: installing $PINS into $VENV with $py ..." >&2
    rm -rf "$VENV"
    "$py" -m venv "$VENV"
    log=$(mktemp -t finops-fv.XXXXXX)
    if ! "$VENV/bin/pip" install -q focus-validator==2.2.1 >"$log" 2>&1 \
        || ! "$VENV/bin/pip" install -q "pyarrow<16" >>"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "focus_validator: FAILED to install $PINS (log above)" >&2
        exit 3
    fi
    rm -f "$log"
    echo "$PINS" >"$STAMP"
fi
flock -u 9

# The validator opens focus_validator/rules/currency_codes.csv relative to its working directory and writes
# focus_validator_detailed.log there: run it in a temporary folder holding a copy of that file.
work=$(mktemp -d -t finops-fv-run.XXXXXX)
trap 'rm -rf "$work"' EXIT
pkg=$("$VENV/bin/python" -c 'import focus_validator, os; print(os.path.dirname(focus_validator.__file__))')
mkdir -p "$work/focus_validator/rules"
cp "$pkg/rules/currency_codes.csv" "$work/focus_validator/rules/"
mkdir -p "$(dirname "$report")"
rm -f "$report"
(cd "$work" && "$VENV/bin/focus-validator" --data-file "$data" --validate-version "$version" --block-download \
    --output-type unittest --output-destination "$report") >"$work/console.txt" 2>&1 || {
    cat "$work/console.txt" >&2
    echo "focus_validator: the validator failed to run" >&2
    exit 4
}
[ -s "$report" ] || { cat "$work/console.txt" >&2; echo "focus_validator: no report written" >&2; exit 4; }
totals=$(grep -o '<testsuites [^>]*>' "$report" | grep -o '\(tests\|failures\|errors\|skipped\)="[0-9]*"' | tr '\n' ' ')
echo "focus_validator: ${totals}-> $report" >&2
