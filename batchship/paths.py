"""Where the data files that ship with batchship live.

In a checkout (and an editable install) they are the repository's templates/;
a wheel installs them under <prefix>/share/batchship/templates.
"""
import os
import sys
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent / "templates"
_INSTALLED = Path(sys.prefix) / "share" / "batchship" / "templates"
TEMPLATES_DIR = _CHECKOUT if (_CHECKOUT / "formats").is_dir() else _INSTALLED

# The canonical input schemas as data (batchship/schema_files.py writes them): the
# repository's schemas/, or <prefix>/share/batchship/schemas in a wheel.
_CHECKOUT_SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
SCHEMAS_DIR = _CHECKOUT_SCHEMAS if _CHECKOUT_SCHEMAS.is_dir() else Path(sys.prefix) / "share" / "batchship" / "schemas"


def cache_home() -> Path:
    """batchship's folder for what it keeps between runs to save time (never state): under
    XDG_CACHE_HOME, else ~/.cache. Anything in it may be deleted at any time."""
    base = os.environ.get("XDG_CACHE_HOME", "") or str(Path.home() / ".cache")
    return Path(base) / "batchship"
