"""What `batchship` exits with: one code per kind of outcome, so cron mail and monitoring can tell
a rejected file from a busy workspace, a full disk or a bug. The table is printed by `--help` and
copied in the README."""
from __future__ import annotations

import textwrap

OK = 0
REJECTED = 1        # a file rejected, a scan or decision refused, a label not printable
USAGE = 2           # a mistake on the command line or in batchship.toml (argparse exits 2 too)
BUG = 3             # an unexpected error, or an output that could not be written
ENVIRONMENT = 4     # the machine failed: disk full, read-only or vanished folder, database held
CONNECTION_LOST = 5 # the PostgreSQL store unreachable or its connection lost: nothing changed
BUSY = 75           # another run holds the workspace (EX_TEMPFAIL: try again later)
INTERRUPTED = 130   # Ctrl-C or SIGTERM (the shell's code for an interrupt)

MEANINGS = (
    (OK, "every file applied, every scan and decision taken (or nothing to do)"),
    (REJECTED, "a file was rejected (its report is in failed/), a handover scan or staff decision was "
               "refused, or a label could not be printed"),
    (USAGE, "usage or configuration error (command line or batchship.toml)"),
    (BUG, "an unexpected error (please report it), or an output that could not be written; the batch "
          "itself is applied or not at all"),
    (ENVIRONMENT, "the machine failed: disk full, a read-only or vanished folder, the database held by "
                  "another program (or another site's batch)"),
    (CONNECTION_LOST, "the PostgreSQL store could not be reached or the connection was lost: nothing "
                      "changed, the next run retries"),
    (BUSY, "another run holds the workspace (use --wait SECONDS to wait for it)"),
    (INTERRUPTED, "interrupted (Ctrl-C or SIGTERM); the next run finishes the batch"),
)


def help_table() -> str:
    """The exit codes as the epilog of `batchship --help`."""
    rows = [textwrap.fill(meaning, 88, initial_indent=f"  {code:>3}  ", subsequent_indent=" " * 7)
            for code, meaning in MEANINGS]
    return "\n".join(["exit codes:", *rows, "Nothing is lost on 3, 4, 5 or 130: run again once the cause is fixed."])
