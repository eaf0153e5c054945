"""Mutation testing of the core modules with mutmut (docs/testing.md); run by scripts/mutation.sh
and scripts/ci/mutation_sample.sh with the interpreter of .venv-mutation.

    mutate.py run MODULE...       mutate each module with its tests (modules.toml), one after the other
    mutate.py report MODULE...    the score of each module, its survivors, and the verdict (exit 1 under target)
    mutate.py sample [--date D]   CI: the day's sample of mutants, run, then reported (exit 1 under target)

MODULE is a path from modules.toml ("contacts/services.py") or "all". Each module has its own
workspace, .mutation/<name>/ (symlinks to the code, mutmut's `mutants/` and its cached results), so
a second run only tries again what changed: the functions whose code changed, and every mutant that
survived or timed out last time (new tests may kill it now); --fresh starts over.

A PostgreSQL module needs DATABASE_URL (the shell scripts start a throwaway cluster); a SQLite one
is run without it whatever the environment says.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
WORK = ROOT / ".mutation"
TARGET = 95.0

# What the mutated copy of the project needs besides tests/ and pyproject.toml (which mutmut copies itself):
# every app, as the import contract lists them (a new app is picked up), and manage.py.
SOURCE_PATHS = [
    *tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"],
    "manage.py",
]

# mutmut's exit codes, by what they mean here. A timeout is a kill (the tests noticed); "no tests" is a
# survivor (no selected test reaches the function); "suspicious" and "segfault" are survivors too, to be read.
KILLED = {1, 3, 36, 24, -24, 152, 255, 37}
NOT_RUN = {None, 2, 34}


@dataclass
class Module:
    path: str
    database: str
    tests: list[str]
    in_ci: bool = True  # in the CI sample's rotation: its last full run met the target (modules.toml `ci`)
    sample: bool = False  # the CI sample works in a workspace of its own, never the full run's

    @property
    def name(self) -> str:
        return self.path.removesuffix(".py").replace("/", ".")

    @property
    def workspace(self) -> Path:
        return WORK / (f"sample.{self.name}" if self.sample else self.name)


def load_modules() -> dict[str, Module]:
    data = tomllib.loads((HERE / "modules.toml").read_text())
    return {
        m["path"]: Module(path=m["path"], database=m["database"], tests=m["tests"], in_ci=m.get("ci", True))
        for m in data["module"]
    }


def pick(names: list[str]) -> list[Module]:
    modules = load_modules()
    if not names or names == ["all"]:
        return list(modules.values())
    unknown = [n for n in names if n not in modules]
    if unknown:
        sys.exit(f"mutate: not in scripts/mutation/modules.toml: {', '.join(unknown)} (known: {', '.join(modules)})")
    return [modules[n] for n in names]


# --- the equivalent mutants, reviewed once -------------------------------------------------------


@dataclass
class Equivalent:
    module: str
    function: str
    original: str
    mutant: str
    reason: str
    used: int = 0


def load_equivalents() -> list[Equivalent]:
    data = tomllib.loads((HERE / "equivalents.toml").read_text())
    entries = []
    for e in data.get("equivalent", []):
        if not e.get("reason", "").strip():
            sys.exit(f"mutate: an equivalent of {e.get('module')} {e.get('function')} has no reason")
        entries.append(
            Equivalent(
                module=e["module"],
                function=e["function"],
                original=_lines(e["original"]),
                mutant=_lines(e["mutant"]),
                reason=e["reason"],
            )
        )
    return entries


def _lines(text: str) -> str:
    return "\n".join(line.strip() for line in text.strip().splitlines() if line.strip())


def changed_lines(diff: str) -> tuple[str, str]:
    """The lines a mutant removes and the lines it adds, stripped: how an equivalent is recognised."""
    removed, added = [], []
    for line in diff.splitlines():
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("-"):
            removed.append(line[1:])
        elif line.startswith("+"):
            added.append(line[1:])
    return _lines("\n".join(removed)), _lines("\n".join(added))


def function_of(mutant: str) -> str:
    """'contacts.services.x_contact_add__mutmut_3' -> 'contact_add'; a method -> 'Class.method'."""
    name = mutant.rpartition(".")[2].rpartition("__mutmut_")[0]
    if name.startswith("xǁ"):
        return name.removeprefix("xǁ").replace("ǁ", ".")
    return name.removeprefix("x_")


# --- running mutmut in a module's workspace ------------------------------------------------------


def prepare_workspace(module: Module, fresh: bool) -> None:
    ws = module.workspace
    if fresh and ws.exists():
        shutil.rmtree(ws)
    ws.mkdir(parents=True, exist_ok=True)
    for name in [*SOURCE_PATHS, "tests", "pyproject.toml"]:
        link = ws / name
        if not link.is_symlink():
            link.symlink_to(ROOT / name)


def child_environment(module: Module) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MUTANT_UNDER_TEST", None)
    env["DJANGO_SETTINGS_MODULE"] = "oneonone.settings"
    env.pop("REDIS_URL", None)
    if module.database == "postgres":
        if not env.get("DATABASE_URL", "").startswith("postgres"):
            sys.exit(
                f"mutate: {module.path} runs on PostgreSQL; start one (scripts/mutation.sh does) and set DATABASE_URL"
            )
    else:
        env.pop("DATABASE_URL", None)
        # In memory, one database per mutmut worker (tests/conftest.py would otherwise put the test database
        # in a file that mutmut's main process names once for every worker it forks). The `concurrent` race
        # tests need a file on SQLite and are skipped: the modules whose locks matter run on PostgreSQL.
        env["SQLITE_TEST_DATABASE"] = ":memory:"
    return env


def run_module(module: Module, *, mutants: list[str], fresh: bool, max_children: int) -> float:
    prepare_workspace(module, fresh)
    env = child_environment(module)
    if fresh:
        env["MUTATION_FRESH_STATS"] = "1"
    began = time.monotonic()
    command = [sys.executable, str(HERE / "mutate.py"), "_inner", f"--max-children={max_children}", module.path]
    log = module.workspace / "mutmut.log"
    print(f"== {module.path}: mutmut on {module.database} with {len(module.tests)} test files (log: {log})", flush=True)
    with open(log, "w") as out:
        process = subprocess.run(  # noqa: S603 (our own interpreter and script)
            [*command, *mutants],
            cwd=module.workspace,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    seconds = time.monotonic() - began
    if process.returncode != 0:
        print(log.read_text()[-4000:])
        sys.exit(f"mutate: mutmut failed on {module.path} (exit {process.returncode}); see {log}")
    (module.workspace / "seconds").write_text(f"{seconds:.0f}\n")
    print(f"   done in {seconds:.0f} s", flush=True)
    return seconds


def inner(module_path: str, mutants: list[str], max_children: int) -> None:
    """In the workspace: mutmut with this project's configuration and the decorator patch."""
    sys.path.insert(0, str(HERE))
    import mutmut_django
    from mutmut import configuration

    module = load_modules()[module_path]
    postgres = module.database == "postgres"
    settings = {
        "source_paths": SOURCE_PATHS,
        "only_mutate": [module.path],
        "pytest_add_cli_args": [
            "-p",
            "no:cacheprovider",
            # PostgreSQL: each worker its own test database, kept between mutants (mutation_slots.py)
            *(["-p", "mutation_slots", "--reuse-db"] if postgres else []),
        ],
        "pytest_add_cli_args_test_selection": module.tests,
        # A mutant is stopped (and counted killed) after (its tests' clean time + constant) x multiplier seconds.
        # mutmut's 15 lets a mutant that loops for ever hold a worker for minutes; 6 still leaves a loaded
        # machine room, and the first mutant of a PostgreSQL worker also creates its database.
        "timeout_multiplier": 6.0,
        "timeout_constant": 20.0 if postgres else 5.0,
        "use_git_change_detection": False,
        "on_dependency_change": "ignore",
    }
    configuration._config_reader = lambda: settings.get
    mutmut_django.install()

    from mutmut.__main__ import _reset_mutant_results, _run
    from mutmut.stats import status_by_exit_code
    from mutmut.workers.isolation import ForkRunner

    if os.environ.get("MUTATION_FRESH_STATS") == "1":
        # A fresh workspace (the CI sample): mutmut has just run these very tests, clean, to learn which test
        # reaches which function (and stops if one fails); its second clean run would only repeat it.
        ForkRunner.run_clean_tests = lambda self, tests: 0

    # Which test reaches which function is learned again on every run: mutmut would otherwise only profile
    # tests with new names, and a test that changed (or code that now calls a new function) would keep its
    # old map. The verdicts stay: a kill stands (--fresh forgets them too, after tests were weakened).
    Path("mutants", "mutmut-stats.json").unlink(missing_ok=True)
    # Whatever survived or timed out last time is tried again: the tests may have changed since. Not the
    # reviewed equivalents (no test can kill them; trying one runs every test that reaches its function).
    again = {"survived", "timeout", "no tests", "suspicious", "segfault"}
    reviewed = reviewed_equivalents(module)
    _reset_mutant_results(lambda key, code: status_by_exit_code[code] in again and key not in reviewed)
    _run(mutants, max_children)


def reviewed_equivalents(module: Module) -> set[str]:
    """The cached survivors of the module (in the workspace) that match a reviewed equivalent."""
    meta = Path("mutants") / (module.path + ".meta")
    if not meta.exists():
        return set()
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    equivalents = [e for e in load_equivalents() if e.module == module.path]
    found = set()
    for mutant, code in json.loads(meta.read_text())["exit_code_by_key"].items():
        if code != 0:
            continue
        removed, added = changed_lines(get_diff_for_mutant(mutant, path=module.path))
        if any(e.function == function_of(mutant) and (e.original, e.mutant) == (removed, added) for e in equivalents):
            found.add(mutant)
    return found


# --- reading the results -------------------------------------------------------------------------


@dataclass
class Result:
    module: Module
    total: int = 0
    killed: int = 0
    timeouts: int = 0
    not_run: int = 0
    survivors: list[tuple[str, str, str]] = field(default_factory=list)  # (mutant, status, diff)
    equivalent: list[tuple[str, Equivalent]] = field(default_factory=list)
    skipped_functions: list[str] = field(default_factory=list)

    @property
    def scored(self) -> int:
        return self.total - len(self.equivalent) - self.not_run

    @property
    def score(self) -> float:
        return 100.0 * self.killed / self.scored if self.scored else 100.0


def read_result(module: Module, equivalents: list[Equivalent], only: set[str] | None = None) -> Result:
    sys.path.insert(0, str(HERE))
    import mutmut_django

    result = Result(module=module, skipped_functions=mutmut_django.skipped_functions((ROOT / module.path).read_text()))
    meta = module.workspace / "mutants" / (module.path + ".meta")
    if not meta.exists():
        return result
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    codes = json.loads(meta.read_text())["exit_code_by_key"]
    cwd = os.getcwd()
    os.chdir(module.workspace)
    try:
        for mutant, code in sorted(codes.items(), key=lambda item: _natural(item[0])):
            if only is not None and mutant not in only:
                continue
            result.total += 1
            if code in NOT_RUN:
                result.not_run += 1
                continue
            if code in KILLED:
                result.killed += 1
                result.timeouts += status_by_exit_code[code] == "timeout"
                continue
            diff = get_diff_for_mutant(mutant, path=module.path)
            removed, added = changed_lines(diff)
            match = next(
                (
                    e
                    for e in equivalents
                    if e.module == module.path
                    and e.function == function_of(mutant)
                    and e.original == removed
                    and e.mutant == added
                ),
                None,
            )
            if match:
                match.used += 1
                result.equivalent.append((mutant, match))
            else:
                result.survivors.append((mutant, status_by_exit_code[code], diff))
    finally:
        os.chdir(cwd)
    return result


def _natural(mutant: str) -> tuple[str, int]:
    base, _, number = mutant.rpartition("__mutmut_")
    return base, int(number) if number.isdigit() else 0


def report(results: list[Result], equivalents: list[Equivalent], *, check_stale: bool) -> bool:
    ok = True
    for r in results:
        if r.survivors:
            print(
                f"\n== survivors in {r.module.path} (kill them, or review them into scripts/mutation/equivalents.toml)"
            )
            for mutant, status, diff in r.survivors:
                print(f"-- {mutant} ({status})")
                print("\n".join(line for line in diff.splitlines()[2:] if line.startswith(("-", "+", "@"))))
        if r.skipped_functions:
            print(f"\n== not mutated in {r.module.path} (a decorator mutmut_django.py does not handle)")
            for name in r.skipped_functions:
                print(f"   {name}")
    if check_stale:
        stale = [e for e in equivalents if e.used == 0 and e.module in {r.module.path for r in results}]
        if stale:
            print("\n== equivalents that matched no survivor (the code or the tests changed: remove or update them)")
            for e in stale:
                print(f"   {e.module} {e.function}: {e.original!r} -> {e.mutant!r}")
    print(f"\n== mutation score (killed / (mutants - equivalent); target >= {TARGET:.0f} % per module)")
    header = ("mutants", "killed", "survived", "equiv.", "not run", "score")
    print(f"{'module':<28} " + " ".join(f"{h:>8}" for h in header) + "  seconds")
    for r in results:
        seconds = (
            (r.module.workspace / "seconds").read_text().strip() if (r.module.workspace / "seconds").exists() else "-"
        )
        verdict = (
            "  <- not run"
            if not r.total or (r.not_run and r.score >= TARGET)
            else "  <- under target"
            if r.score < TARGET
            else ""
        )
        print(
            f"{r.module.path:<28} {r.total:>8} {r.killed:>8} {len(r.survivors):>8} {len(r.equivalent):>8} "
            f"{r.not_run:>8} {r.score:>7.1f}%  {seconds}{verdict}"
        )
        ok = ok and r.score >= TARGET and r.not_run == 0 and r.total > 0
    return ok


# --- the CI sample -------------------------------------------------------------------------------


def module_of_day(day: datetime.date, modules: list[Module]) -> Module:
    """The day's module: the rotation goes through `modules` one a day (UTC)."""
    return modules[day.toordinal() % len(modules)]


def sample_for(day: datetime.date, modules: list[Module], size: int) -> tuple[Module, list[str]]:
    """The day's module (module_of_day), and `size` of its mutants chosen by a hash of the day and each
    mutant's name: the same sample all day, another one tomorrow."""
    module = module_of_day(day, modules)
    names = mutant_names(module)
    if len(names) <= size:
        return module, names
    return module, sorted(names, key=lambda n: hashlib.sha256(f"{day.isoformat()} {n}".encode()).hexdigest())[:size]


def mutant_names(module: Module) -> list[str]:
    """Every mutant of the module, as mutmut names them (generated, not run)."""
    prepare_workspace(module, fresh=False)
    out = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, str(HERE / "mutate.py"), "_names", module.path],
        cwd=module.workspace,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def names_inner(module_path: str) -> None:
    sys.path.insert(0, str(HERE))
    import mutmut_django
    from mutmut import configuration

    configuration._config_reader = lambda: {"source_paths": SOURCE_PATHS, "only_mutate": [module_path]}.get
    mutmut_django.install()
    from mutmut.mutation.file_mutation import mutate_file_contents

    mutated = mutate_file_contents(module_path, Path(module_path).read_text())
    prefix = module_path.removesuffix(".py").replace("/", ".")
    print(json.dumps([f"{prefix}.{name}" for name in mutated.mutant_names]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run")
    run.add_argument("modules", nargs="*")
    run.add_argument("--fresh", action="store_true", help="forget the cached results and start over")
    run.add_argument("--max-children", type=int, default=2)
    rep = commands.add_parser("report")
    rep.add_argument("modules", nargs="*")
    sample = commands.add_parser("sample")
    sample.add_argument("--date", type=datetime.date.fromisoformat, default=datetime.datetime.now(datetime.UTC).date())
    sample.add_argument("--size", type=int, default=int(os.environ.get("MUTATION_SAMPLE_SIZE", "40")))
    sample.add_argument("--max-children", type=int, default=2)
    sample.add_argument("--module", help="this module instead of the day's")
    sample.add_argument("--dry-run", action="store_true", help="only say which module and mutants")
    sample.add_argument("--needs-postgres", action="store_true", help="exit 0 if the day's module runs on PostgreSQL")
    needs = commands.add_parser("needs-postgres", help="exit 0 if one of the modules runs on PostgreSQL")
    needs.add_argument("modules", nargs="*")
    inner_parser = commands.add_parser("_inner")
    inner_parser.add_argument("module")
    inner_parser.add_argument("mutants", nargs="*")
    inner_parser.add_argument("--max-children", type=int, default=2)
    names_parser = commands.add_parser("_names")
    names_parser.add_argument("module")
    args = parser.parse_args()

    if args.command == "_inner":
        inner(args.module, args.mutants, args.max_children)
    elif args.command == "_names":
        names_inner(args.module)
    elif args.command == "run":
        for module in pick(args.modules):
            run_module(module, mutants=[], fresh=args.fresh, max_children=args.max_children)
    elif args.command == "report":
        equivalents = load_equivalents()
        results = [read_result(m, equivalents) for m in pick(args.modules)]
        sys.exit(0 if report(results, equivalents, check_stale=True) else 1)
    elif args.command == "needs-postgres":
        sys.exit(0 if any(m.database == "postgres" for m in pick(args.modules)) else 1)
    elif args.command == "sample":
        # The rotation: the modules whose full run met the target; the sample guards them against regressions.
        modules = pick([args.module]) if args.module else [m for m in pick([]) if m.in_ci]
        if args.needs_postgres:
            sys.exit(0 if module_of_day(args.date, modules).database == "postgres" else 1)
        module, names = sample_for(args.date, [dataclasses.replace(m, sample=True) for m in modules], args.size)
        print(f"== the sample of {args.date}: {len(names)} mutants of {module.path}")
        if args.dry_run:
            print("\n".join(names))
            return
        # A fresh workspace: the sample is judged on this checkout alone, never on a cached verdict.
        run_module(module, mutants=names, fresh=True, max_children=args.max_children)
        equivalents = load_equivalents()
        result = read_result(module, equivalents, only=set(names))
        sys.exit(0 if report([result], equivalents, check_stale=False) else 1)


if __name__ == "__main__":
    main()
