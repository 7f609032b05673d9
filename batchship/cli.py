"""batchship: the order back office of a cross-border seller, run from a folder of spreadsheets.

A thin layer over the library: it parses the command line, shows progress on a terminal, prints the
summary and turns the outcome into an exit code (batchship/exit_codes.py).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from . import exit_codes
from .environment import connection_lost, environment_problem
from .errors import BatchshipError, ConfigError, WorkspaceBusy
from .log_setup import configure_logging

if TYPE_CHECKING:
    from .pipeline import RunReport

# The run's modules (pandas, the store, the writers) are imported by the commands that use them:
# imported here, `--version`, `--help` and a mistyped argument took 2.3 s instead of 0.1 s.

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = exit_codes.OK, exit_codes.REJECTED, exit_codes.USAGE
EXIT_BUG, EXIT_ENVIRONMENT = exit_codes.BUG, exit_codes.ENVIRONMENT
EXIT_BUSY, EXIT_INTERRUPTED = exit_codes.BUSY, exit_codes.INTERRUPTED
EXIT_CONNECTION_LOST = exit_codes.CONNECTION_LOST


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(verbose=getattr(args, "verbose", False), quiet=getattr(args, "quiet", False),
                      log_file=getattr(args, "log_file", None))
    code, message = _guarded(args)
    if message:
        print(message, file=sys.stderr)
        logging.getLogger("batchship").info("%s (exit %d)", message, code)
        if getattr(args, "json", False):
            print(json.dumps({"exit_code": code, "error": message}))
    return code


def _guarded(args) -> tuple[int, str]:
    """Run the command; (exit code, message for stderr) for what stopped it."""
    try:
        from .io.xlsx_guard import verify_xml_safety
        verify_xml_safety()
        return args.func(args), ""
    except ConfigError as exc:
        return EXIT_USAGE, f"configuration error: {exc.message}"
    except WorkspaceBusy as exc:
        return EXIT_BUSY, exc.message
    except BatchshipError as exc:
        return EXIT_USAGE, f"error: {exc.message}"
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED, ("interrupted: nothing is lost; the next `batchship run` finishes the batch "
                                  "(its files wait in .batchship/claimed/)")
    except Exception as exc:  # cron mail must tell a bug from a rejected file, and both from a full disk
        lost = connection_lost(exc)
        if lost:
            return EXIT_CONNECTION_LOST, f"{lost}. Files taken from inbox/ wait in .batchship/claimed/."
        why = environment_problem(exc)
        if why:
            return EXIT_ENVIRONMENT, _environment_message(why)
        logging.getLogger("batchship").exception(
            "unexpected error (an uncommitted batch changed nothing; a committed one is completed by the next run)")
        return EXIT_BUG, ""


def _environment_message(why: str) -> str:
    return (f"cannot go on: {why}. Nothing is lost: files taken from inbox/ wait in .batchship/claimed/, "
            "and a batch that was committed has its outputs finished by the next run. Fix the cause and run "
            "again.")


def _exit_code(report: RunReport) -> int:
    if report.output_problems:
        return EXIT_BUG
    return EXIT_REJECTED if report.rejected or report.refused or report.unprinted else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="batchship", description=__doc__.split("\n")[0],
                                epilog=exit_codes.help_table(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}",
                   help="print batchship's version and exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND", help="what to do")

    def workspace_arg(sp):
        sp.add_argument("-w", "--workspace", type=Path, default=Path("."),
                        help="workspace folder (default: current folder)")
        sp.add_argument("-v", "--verbose", action="store_true", help="log what each step does (to stderr)")

    def log_file_arg(sp):
        sp.add_argument("--log-file", type=Path, metavar="FILE",
                        help="append a log of each step, with times, to FILE")

    sp = sub.add_parser("init", help="create a workspace: batchship.toml, folders, blank input templates")
    sp.add_argument("dir", type=Path, help="the folder to make a workspace of (created when missing)")
    sp.set_defaults(func=_cmd_init)

    sp = sub.add_parser("demo", help="write sample inputs into inbox/ and process them")
    workspace_arg(sp)
    sp.set_defaults(func=_cmd_demo)

    sp = sub.add_parser("run", help="process everything in inbox/ once (for cron)")
    workspace_arg(sp)
    sp.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                    help="wait this long for another run to finish instead of exiting")
    sp.add_argument("--json", action="store_true",
                    help="print the run's summary as one JSON object (files, orders per stage, exceptions, "
                         "outputs, timings) instead of text; no progress")
    sp.add_argument("-q", "--quiet", action="store_true",
                    help="print nothing but errors; the exit code tells the outcome")
    log_file_arg(sp)
    sp.set_defaults(func=_cmd_run)

    sp = sub.add_parser("watch", help="watch inbox/ and run a batch when files arrive")
    workspace_arg(sp)
    sp.add_argument("--polling", action="store_true", help="poll instead of file events (network shares)")
    log_file_arg(sp)
    sp.set_defaults(func=_cmd_watch)

    sp = sub.add_parser("status", help="orders per stage, hold reasons and the last runs")
    workspace_arg(sp)
    sp.set_defaults(func=_cmd_status)

    sp = sub.add_parser("report", help="write reconciliation.xlsx for a range of days (exit 1 when a ledger "
                                       "check does not hold)")
    workspace_arg(sp)
    sp.add_argument("--from", dest="start", type=_day, required=True, metavar="DATE", help="first day, YYYY-MM-DD")
    sp.add_argument("--to", dest="end", type=_day, required=True, metavar="DATE", help="last day, YYYY-MM-DD")
    sp.add_argument("--out", type=Path, help="file to write (default: outbox/reconciliation-FROM-TO.xlsx)")
    sp.set_defaults(func=_cmd_report)

    sp = sub.add_parser("rules", help="check the review and logistics rules in force, or explain one order")
    rules = sp.add_subparsers(dest="rules_command", required=True)
    rp = rules.add_parser("check", help="rules that never fire, are shadowed, or name unknown channels, "
                                        "warehouses, shops or SKUs (exit 1 when any)")
    workspace_arg(rp)
    rp.set_defaults(func=_cmd_rules_check)
    rp = rules.add_parser("explain", help="which rule matched an order, and why each earlier one did not")
    rp.add_argument("shop", help="the order's shop, as in batchship.toml")
    rp.add_argument("order_id", help="the marketplace order id")
    workspace_arg(rp)
    rp.set_defaults(func=_cmd_rules_explain)

    sp = sub.add_parser("formats", help="the column maps this workspace reads, and which read each file of the "
                                         "last run")
    workspace_arg(sp)
    sp.set_defaults(func=_cmd_formats)

    sp = sub.add_parser("db", help="the store's database: upgrade its schema, copy a workspace onto PostgreSQL")
    db = sp.add_subparsers(dest="db_command", required=True)
    dp = db.add_parser("upgrade", help="bring the database (batchship.toml's database, or the workspace's "
                                       "SQLite file) to the current schema")
    workspace_arg(dp)
    dp.set_defaults(func=_cmd_db_upgrade)
    dp = db.add_parser("resum", help="set each stock place's on hand to the sum of its ledger movements again, "
                                     "after the ledger was edited by hand (the places that change are listed)")
    workspace_arg(dp)
    dp.set_defaults(func=_cmd_db_resum)
    dp = db.add_parser("copy", help="copy the workspace's SQLite store onto an empty PostgreSQL database, "
                                    "then check the copy's ledger (exit 1 when a check fails)")
    dp.add_argument("--to", required=True, metavar="URL", help="postgresql://user@host/dbname")
    workspace_arg(dp)
    dp.set_defaults(func=_cmd_db_copy)

    sp = sub.add_parser("forwarder-sim", help="serve a simulated YunExpress-style forwarder API on 127.0.0.1")
    from .forwarder_sim.runner import add_arguments, run_from_args
    add_arguments(sp)
    sp.set_defaults(func=run_from_args)
    return p


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("batchship")
    except PackageNotFoundError:
        return "(not installed)"


def _cmd_init(args) -> int:
    from .workspace_init import init_workspace
    created = init_workspace(args.dir)
    print(f"workspace ready in {args.dir}: edit batchship.toml, drop files into {args.dir / 'inbox'}")
    for path in created:
        print(f"  {path}")
    return EXIT_OK


def _cmd_demo(args) -> int:
    import os

    from .config import CONFIG_NAME, load_config
    from .demo import DEMO_CREDENTIALS, point_demo_channel_at, write_demo_inputs
    from .forwarder_sim import running_simulator
    from .pipeline import run_batch
    from .report import format_summary
    root = args.workspace
    written = write_demo_inputs(root)
    print(f"demo inputs written to {root / 'inbox'}: {', '.join(p.name for p in written)}")
    with running_simulator() as sim:
        point_demo_channel_at(root / CONFIG_NAME, sim.url)
        for name, value in DEMO_CREDENTIALS.items():
            os.environ.setdefault(name, value)
        print(f"forwarder simulator for channel YUN-Demo: {sim.url}")
        # Files it has just written itself are complete: no need to wait for them to settle.
        report = run_batch(root, load_config(root), only=written)
    print(format_summary(report, root))
    return _exit_code(report)


def _cmd_run(args) -> int:
    from .config import load_config
    config = load_config(args.workspace)
    from .pipeline import run_batch
    from .progress import Reporter, TerminalProgress, reporting
    from .report import format_summary
    # Progress only for a person watching: never under cron, never mixed into JSON.
    shown = sys.stderr.isatty() and not (args.quiet or args.json)
    with _terminate_as_interrupt(), reporting(TerminalProgress(sys.stderr) if shown else Reporter()):
        report = run_batch(args.workspace, config, wait_seconds=args.wait)
    code = _exit_code(report)
    text = format_summary(report, args.workspace)
    logging.getLogger("batchship").info("summary (exit %d):\n%s", code, text)
    if args.json:
        from .run_json import run_json
        print(json.dumps(run_json(report, args.workspace, code), indent=2, ensure_ascii=False))
    elif not args.quiet:
        print(text)
    return code


def _cmd_watch(args) -> int:
    from dataclasses import replace

    from .config import load_config
    from .pipeline import run_batch
    from .report import format_summary
    from .watch import InboxWatcher
    root = args.workspace
    config = load_config(root)
    settings = replace(config.watch, polling=config.watch.polling or args.polling)

    busy = threading.Event()

    def batch(ready: list[Path]) -> RunReport | None:
        busy.set()
        try:
            report = run_batch(root, config, only=ready, wait_seconds=600)
        except Exception as exc:
            why = environment_problem(exc)
            if not why:
                raise
            print(_environment_message(why), file=sys.stderr, flush=True)
            return None   # the files wait; the next rescan offers them again
        finally:
            busy.clear()
        if ready or report.run_id or report.recovered:
            print(format_summary(report, root), flush=True)
        return report

    # Before waiting for events: finish a batch a kill interrupted and the files it had claimed.
    batch([])
    watcher = InboxWatcher(root / "inbox", settings, batch)
    print(f"watching {root / 'inbox'} ({'polling' if settings.polling else 'events'}); Ctrl-C to stop", flush=True)
    stop = threading.Event()
    # A service manager stops with SIGTERM (and a shell's background job may ignore SIGINT):
    # both end the watch the same way, between batches or by leaving the batch to the next start.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        watcher.run_forever(stop)
    except KeyboardInterrupt:
        stop.set()
        if busy.is_set():
            print("stopped in the middle of a batch: the next `batchship run` or `batchship watch` finishes it "
                  "(its files wait in .batchship/claimed/)", file=sys.stderr)
            return EXIT_INTERRUPTED
        print("stopped", file=sys.stderr)
    return EXIT_OK


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _terminate_as_interrupt():
    """SIGTERM (a service manager's stop) ends a run as Ctrl-C does; the caller's handler comes back
    after (main() also runs inside other programs and tests)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def _cmd_status(args) -> int:
    from .config import CONFIG_NAME
    from .report import format_status
    if not (args.workspace / CONFIG_NAME).exists():
        raise ConfigError(f"{args.workspace} is not a workspace (no {CONFIG_NAME}): "
                          f"run `batchship init {args.workspace}` to make one")
    print(format_status(args.workspace))
    return EXIT_OK


def _day(text: str):
    from datetime import date
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2026-11-30") from None


def _cmd_report(args) -> int:
    from .config import load_config
    from .reconciliation import write_report
    if args.end < args.start:
        raise ConfigError(f"--to {args.end} is before --from {args.start}")
    path, line = write_report(args.workspace, load_config(args.workspace), args.start, args.end, args.out)
    print(f"wrote {path}\n{line}")
    return EXIT_OK if "DO NOT HOLD" not in line else EXIT_REJECTED


def _cmd_rules_check(args) -> int:
    from .config import load_config
    from .rules.report import rules_check
    lines, findings = rules_check(args.workspace, load_config(args.workspace))
    print("\n".join(lines))
    return EXIT_REJECTED if findings else EXIT_OK


def _cmd_rules_explain(args) -> int:
    from .config import load_config
    from .rules.report import rules_explain
    print("\n".join(rules_explain(args.workspace, load_config(args.workspace), args.shop, args.order_id)))
    return EXIT_OK


def _cmd_formats(args) -> int:
    from .formats_report import format_formats
    print(format_formats(args.workspace))
    return EXIT_OK


def _cmd_db_upgrade(args) -> int:
    from .db_commands import db_upgrade
    print("\n".join(db_upgrade(args.workspace)))
    return EXIT_OK


def _cmd_db_resum(args) -> int:
    from .db_commands import db_resum
    print("\n".join(db_resum(args.workspace)))
    return EXIT_OK


def _cmd_db_copy(args) -> int:
    from .db_commands import db_copy
    lines, ok = db_copy(args.workspace, args.to)
    print("\n".join(lines))
    return EXIT_OK if ok else EXIT_REJECTED


if __name__ == "__main__":
    sys.exit(main())
