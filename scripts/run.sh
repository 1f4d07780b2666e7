#!/usr/bin/env bash
# Start the sidecar (`python -m finops.jobs`) and the Streamlit UI together.
# Ctrl-C or SIGTERM stops both; when either one exits, the other is stopped too.
# Both run as children of this script (the UI's output in this terminal), so the script can notice either exit.
set -uo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}

"$PY" -m finops.jobs &
sidecar=$!
"$PY" -m finops ui &  # streamlit on FINOPS_HOST:FINOPS_PORT (127.0.0.1:8501 unless set)
ui=$!

alive() { kill -0 "$1" 2>/dev/null; }

stop() {
    trap '' INT TERM
    kill -TERM "$sidecar" "$ui" 2>/dev/null
    for _ in $(seq 1 100); do  # up to 10 s for a clean shutdown, then force
        alive "$sidecar" || alive "$ui" || break
        sleep 0.1
    done
    kill -KILL "$sidecar" "$ui" 2>/dev/null
    wait 2>/dev/null
}

trap 'echo "run.sh: stopping sidecar and UI" >&2; stop; exit 130' INT
trap 'echo "run.sh: stopping sidecar and UI" >&2; stop; exit 143' TERM

wait -n "$sidecar" "$ui"
rc=$?
if alive "$sidecar"; then
    echo "run.sh: the UI exited ($rc); stopping the sidecar" >&2
else
    echo "run.sh: the sidecar exited ($rc); stopping the UI" >&2
fi
stop
exit "$rc"
