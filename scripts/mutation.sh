#!/usr/bin/env bash
# Mutation testing with mutmut (not in CI: slow).  Each target names the code it mutates and the tests that
# must kill its mutants; the run happens in a throw-away copy of the tree, so the work tree is never touched.
#
#   bash scripts/mutation.sh checker        # solver/checker.py against the checker's tests (minutes)
#   bash scripts/mutation.sh all            # every target, one after another (an hour or more)
#   MUTATION_KEEP=1 bash scripts/mutation.sh rules   # keep the copy to inspect survivors (`mutmut show NAME`)
#
# Targets: checker, rules, guards, importer, season (the last only once staffing/season.py exists).
# It prints mutmut's summary and the score (killed / (killed + survived)); benchmarks/README.md records them.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

target_files() {
    case "$1" in
        checker)  echo "solver/checker.py" ;;
        rules)    echo "staffing/rules.py solver/policy.py" ;;
        guards)   echo "web/deps.py web/api.py web/pages.py" ;;
        importer) echo "staffing/bundle.py staffing/validation.py staffing/store.py" ;;
        season)   echo "staffing/season.py" ;;
        *) return 1 ;;
    esac
}

target_tests() {
    case "$1" in
        checker)  echo "tests/test_checker.py tests/test_checker_violations.py" ;;
        rules)    echo "tests/test_rules_table.py tests/test_solver_rules.py tests/test_checker_violations.py tests/test_oracle.py" ;;
        guards)   echo "tests/test_access_guards.py tests/test_web.py" ;;
        importer) echo "tests/test_bundle.py tests/test_store_and_services.py tests/test_seed.py" ;;
        season)   ls tests/test_season*.py 2>/dev/null | tr '\n' ' ' ;;
    esac
}

run_target() {
    local name=$1 files tests work
    files=$(target_files "$name") || { echo "unknown target $name: checker, rules, guards, importer, season or all" >&2; exit 2; }
    for f in $files; do
        if [ ! -f "$f" ]; then echo "target $name: $f does not exist on this branch, skipped" >&2; return 0; fi
    done
    tests=$(target_tests "$name")
    if [ -z "$tests" ]; then echo "target $name: no tests found, skipped" >&2; return 0; fi
    work=$(mktemp -d "${TMPDIR:-/tmp}/mutation-$name.XXXXXX")
    # the tracked files only (no .venv, no databases), and ../shared beside the copy as beside the tree
    git ls-files -z | xargs -0 cp --parents -t "$work"
    [ -d "$root/../shared" ] && ln -s "$(cd "$root/../shared" && pwd)" "$(dirname "$work")/shared" 2>/dev/null || true
    {
        echo
        echo "[tool.mutmut]"
        echo 'source_paths = ["solver", "staffing", "web"]'
        printf 'only_mutate = [%s]\n' "$(printf '"%s", ' $files | sed 's/, $//')"
        printf 'pytest_add_cli_args_test_selection = [%s]\n' "$(printf '"%s", ' $tests | sed 's/, $//')"
        echo 'pytest_add_cli_args = ["-p", "no:randomly", "-q", "-x"]'
        echo 'also_copy = ["seed_data", "scripts", "benchmarks"]'
    } >> "$work/pyproject.toml"
    echo "== mutation target $name: mutating $files; tests $tests (copy in $work)"
    (cd "$work" && "$root/.venv/bin/mutmut" run --max-children "${MUTATION_JOBS:-2}" >"$work/mutmut.log" 2>&1) || true
    (cd "$work" && "$root/.venv/bin/mutmut" results --all true >"$work/results.txt" 2>&1) || true
    "$root/.venv/bin/python" - "$work/results.txt" "$name" <<'EOF'
import collections, sys
counts = collections.Counter()
survivors = []
for line in open(sys.argv[1]):
    name, _, status = line.strip().rpartition(": ")
    if name:
        counts[status] += 1
        if status == "survived":
            survivors.append(name)
killed, survived = counts["killed"], counts["survived"]
print(f"target {sys.argv[2]}: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
if killed + survived:
    print(f"score {killed}/{killed + survived} = {100 * killed / (killed + survived):.1f} % killed")
for name in survivors:
    print("  survived:", name)
EOF
    if [ -z "${MUTATION_KEEP:-}" ]; then rm -rf "$work"; else echo "kept $work"; fi
}

bash scripts/setup.sh "test,mutation" >/dev/null
[ $# -ge 1 ] || { echo "usage: $0 checker|rules|guards|importer|season|all" >&2; exit 2; }
if [ "$1" = all ]; then
    for t in checker rules guards importer season; do run_target "$t"; done
else
    for t in "$@"; do run_target "$t"; done
fi
