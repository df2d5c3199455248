"""The `infratest` command: run, validate, report, verify, schema, worker, demo."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from infratest import __version__
from infratest.spec.discovery import UsageError, config_path, scenario_files
from infratest.spec.problems import SpecError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _add_env_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--env", help="environment: reads configs/ENV.yaml (default: local)")
    group.add_argument("--config", metavar="FILE", help="config file to use instead of --env")


def _validate(args: argparse.Namespace) -> int:
    """Every problem and warning of every file; only problems change the exit status."""
    from infratest.spec.loader import load_config, validate_scenario

    problems: list[str] = []
    warnings: list[str] = []
    try:
        config = load_config(config_path(args.env, args.config))
    except SpecError as exc:
        print(exc, file=sys.stderr)
        print("the config is invalid; scenarios were not checked", file=sys.stderr)
        return EXIT_FAILED
    files = scenario_files(args.paths or ["scenarios"])
    for path in files:
        try:
            checked = validate_scenario(path, config)
        except SpecError as exc:
            problems += [str(p) for p in exc.problems]
            continue
        warnings += [str(w) for w in checked.warnings]
        scenario = checked.scenario
        print(f"ok  {scenario.path}: {_plural(len(scenario.assumptions), 'assumption')}")
    for line in [*problems, *warnings]:
        print(line, file=sys.stderr)
    bad = len({line.split(":", 1)[0] for line in problems})
    warned = f", {_plural(len(warnings), 'warning')}" if warnings else ""
    print(
        f"{_plural(len(files), 'file')} checked against {config.path}: "
        f"{len(files) - bad} valid, {bad} invalid, {_plural(len(problems), 'problem')}{warned}"
    )
    return EXIT_FAILED if problems or not files else EXIT_OK


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _schema(args: argparse.Namespace) -> int:
    from infratest.spec.schema import config_schema, scenario_schema

    schema = config_schema() if args.config else scenario_schema()
    print(json.dumps(schema, indent=2, ensure_ascii=False))
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    """The same run as `pytest PATH --infratest-...`, for people who don't think in pytest."""
    import pytest

    scenario_files(args.paths or ["scenarios"])  # a missing path is a usage error, not a crash
    pytest_args = [*(args.paths or ["scenarios"]), f"--infratest-inconclusive={args.inconclusive}"]
    if args.env:
        pytest_args.append(f"--infratest-env={args.env}")
    if args.config:
        pytest_args.append(f"--infratest-config={args.config}")
    for option in ("json", "html", "markdown", "evidence"):
        if getattr(args, option):
            pytest_args.append(f"--infratest-{option}={getattr(args, option)}")
    return int(pytest.main([*pytest_args, *args.pytest_args]))


def _report(args: argparse.Namespace) -> int:
    """Render a saved results file again, without measuring anything."""
    from infratest.results.contract import read
    from infratest.results.render import write_reports

    if not (args.html or args.markdown):
        raise UsageError("say what to write: --html PATH and/or --markdown PATH")
    try:
        doc = read(args.results)
    except FileNotFoundError:
        raise UsageError(f"no such results file: {args.results}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        print(f"infratest: {args.results} is not a results document: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if not isinstance(doc, dict) or "assumptions" not in doc:
        print(
            f"infratest: {args.results} is not a results document (no 'assumptions')",
            file=sys.stderr,
        )
        return EXIT_FAILED
    write_reports(doc, args.html, args.markdown)
    for path in (args.html, args.markdown):
        if path:
            print(f"wrote {path}")
    return EXIT_OK


def _verify(args: argparse.Namespace) -> int:
    """Check an evidence bundle against its SHA256SUMS; every difference is named."""
    from pathlib import Path

    from infratest.evidence.verify import verify

    folder = Path(args.bundle)
    if not folder.is_dir():
        raise UsageError(f"no such bundle folder: {args.bundle}")
    result = verify(folder)
    for line in result.lines():
        print(f"infratest verify: {line}", file=sys.stderr)
    if not result.ok:
        print(f"{args.bundle}: FAILED verification", file=sys.stderr)
        return EXIT_FAILED
    print(f"{args.bundle}: OK, {_plural(result.checked, 'file')} match SHA256SUMS")
    return EXIT_OK


def _worker(args: argparse.Namespace) -> int:
    """Join a master's load runs from this machine (see infratest.remote_worker)."""
    from infratest.remote_worker import master_address, serve
    from infratest.spec.loader import load_config

    master = master_address(args.master)
    try:
        config = load_config(config_path(args.env, args.config))
    except SpecError as exc:
        print(exc, file=sys.stderr)
        return EXIT_FAILED
    return serve(master, config, runs=args.runs)


def _add_run(commands: argparse._SubParsersAction) -> None:
    """`infratest run`: the options it passes on to the pytest plugin."""
    run = commands.add_parser(
        "run",
        help="check the assumptions (runs pytest on them)",
        epilog="Anything after -- goes to pytest, e.g. infratest run -- -k latency -x",
    )
    run.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or folders (default: scenarios/)"
    )
    _add_env_options(run)
    run.add_argument("--json", metavar="PATH", help="write the results document here")
    run.add_argument("--html", metavar="PATH", help="write the HTML report here")
    run.add_argument("--markdown", metavar="PATH", help="write the Markdown summary here")
    run.add_argument(
        "--evidence", metavar="DIR", help="write an evidence bundle (see `infratest verify`)"
    )
    run.add_argument(
        "--inconclusive",
        choices=("fail", "pass"),
        default="fail",
        help="whether inconclusive and error verdicts fail the run (default: fail)",
    )
    run.set_defaults(handler=_run)


def build_parser() -> argparse.ArgumentParser:
    """The command line, one sub-command per job."""
    parser = argparse.ArgumentParser(
        prog="infratest",
        description="Check the infrastructure assumptions of an ML system, written in YAML.",
    )
    parser.add_argument("--version", action="version", version=f"infratest {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="check scenario files without running them")
    validate.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or folders (default: scenarios/)"
    )
    _add_env_options(validate)
    validate.set_defaults(handler=_validate)

    _add_run(commands)

    report = commands.add_parser("report", help="render a saved results file as HTML/Markdown")
    report.add_argument("results", metavar="RESULTS.json")
    report.add_argument("--html", metavar="PATH", help="write the HTML report here")
    report.add_argument("--markdown", metavar="PATH", help="write the Markdown summary here")
    report.set_defaults(handler=_report)

    verify = commands.add_parser(
        "verify", help="check an evidence bundle against its SHA256SUMS manifest"
    )
    verify.add_argument("bundle", metavar="DIR")
    verify.set_defaults(handler=_verify)

    worker = commands.add_parser(
        "worker", help="join a master's load runs from this machine (a Locust worker)"
    )
    worker.add_argument("--master", required=True, metavar="HOST:PORT", help="the master")
    worker.add_argument(
        "--runs", type=int, default=None, help="leave after this many runs (default: until Ctrl-C)"
    )
    _add_env_options(worker)
    worker.set_defaults(handler=_worker)

    commands.add_parser("demo", help="serve the embedded demo model over HTTP (see demo -h)")

    schema = commands.add_parser("schema", help="print the JSON Schema of scenario files")
    schema.add_argument("--config", action="store_true", help="the schema of config files")
    schema.set_defaults(handler=_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["demo"]:  # the demo server has its own options
        from infratest.demo import main as demo_main

        return demo_main(argv[1:])
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    args = build_parser().parse_args(argv)
    args.pytest_args = extra
    try:
        return int(args.handler(args))
    except UsageError as exc:
        print(f"infratest: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `infratest schema | head`: the reader left, nothing to report
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt:
        print("infratest: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
