#!/usr/bin/env bash
# Mutation testing of the core modules (docs/testing.md): mutmut changes the code one small thing at
# a time (a `<` for a `<=`, `True` for `False`, a dropped argument) and runs the tests that reach
# the changed function; a mutant that no test notices "survived". Prints each module's score
# (killed / (mutants - reviewed equivalents), target >= 95 %) and every survivor with its diff;
# exits 1 if a module is under target.
#
# Usage: scripts/mutation.sh [--fresh] [MODULE...]   (default: every module in scripts/mutation/modules.toml)
#   --fresh          forget the cached results (.mutation/) and start over
#   MUTATION_JOBS=N  mutants tried at once (default 2; the machine has 2 cores)
#   MUTATION_NICE=N  niceness of the run (default 10: it is CPU-heavy and shares the machine)
#
# mutmut runs in its own venv (.venv-mutation, requirements-mutation.txt); the modules whose locks
# matter run on a throwaway PostgreSQL started here, the others on SQLite. A second run only tries
# again what changed and what survived; the full run takes about an hour on an idle 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ci/serve_lib.sh

fresh=()
modules=()
for arg in "$@"; do
  case "$arg" in
  --fresh) fresh=(--fresh) ;;
  -h | --help)
    sed -n '2,15p' "$0"
    exit 0
    ;;
  *) modules+=("$arg") ;;
  esac
done

mutation_venv
mutate=(nice -n "${MUTATION_NICE:-10}" .venv-mutation/bin/python scripts/mutation/mutate.py)

PG_TMPDIR=""
trap '[ -z "$PG_TMPDIR" ] || scripts/pg-throwaway.sh stop "$PG_TMPDIR"' EXIT
trap 'exit 130' INT TERM
if "${mutate[@]}" needs-postgres "${modules[@]}"; then
  unset DATABASE_URL
  start_pg
fi

started=$SECONDS
"${mutate[@]}" run "${fresh[@]}" --max-children "${MUTATION_JOBS:-2}" "${modules[@]}"
status=0
"${mutate[@]}" report "${modules[@]}" || status=$?
echo "mutation: $((SECONDS - started)) s"
exit "$status"
