"""Domain errors: a reason code and a plain-language message. Only the CLI maps them to exit codes."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as a person would look for it in Excel."""
    problem: str          # plain words: "quantity must be a whole number greater than 0"
    sheet: str = ""       # sheet name; "" for CSV/TSV
    row: int | None = None  # row number as Excel (or a text editor) shows it; None = whole file
    column: str = ""      # header text as it appears in the file
    value: str = ""       # the offending cell value, as text


class BatchshipError(Exception):
    """An error a user can act on. ``code`` is a stable reason code."""
    code = "error"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class ConfigError(BatchshipError):
    code = "config"


class FileRejected(BatchshipError):
    """An input file that is rejected whole; ``problems`` lists every problem found."""
    code = "file_rejected"

    def __init__(self, file: str, problems: list[Problem], code: str | None = None):
        self.file = file
        self.problems = list(problems)
        first = self.problems[0].problem if self.problems else "rejected"
        more = f" (and {len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
        super().__init__(f"{file}: {first}{more}", code)


class WorkspaceBusy(BatchshipError):
    code = "busy"
