#!/usr/bin/env bash
# Run the whole test suite: system packages if missing, a throwaway PostgreSQL server, pytest, cleanup.
# Arguments go to pytest (`make test PYTEST_ARGS="-k store -x"`). Exits with pytest's exit code.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure_system_deps.sh

pg_env=$(bash scripts/pg.sh up)
eval "$pg_env"
cleanup() { bash scripts/pg.sh down "$FINOPS_PG_DIR"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
echo "test.sh: throwaway PostgreSQL on 127.0.0.1:$FINOPS_PG_PORT ($FINOPS_PG_DIR)" >&2

set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
exit "$rc"
