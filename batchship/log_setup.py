"""Where the log goes: warnings to stderr (errors only with --quiet, every step with --verbose), and with
--log-file every step, with its time, appended to that file as well."""
from __future__ import annotations

import logging
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(verbose: bool = False, quiet: bool = False, log_file: Path | None = None) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    console = logging.StreamHandler()
    console.setLevel(logging.ERROR if quiet else logging.INFO if verbose else logging.WARNING)
    console.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(console)
    level = console.level
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        to_file = logging.FileHandler(log_file, encoding="utf-8")
        to_file.setLevel(logging.INFO)
        to_file.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(to_file)
        level = logging.INFO
    root.setLevel(min(level, console.level))
    # Libraries' chatter (HTTP requests, font subsetting) stays out of the batch's own log.
    for noisy in ("httpx", "httpcore", "fontTools", "fpdf", "PIL", "pypdf"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
