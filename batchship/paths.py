"""Where the data files that ship with batchship live.

In a checkout (and an editable install) they are the repository's templates/;
a wheel installs them under <prefix>/share/batchship/templates.
"""
import sys
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent / "templates"
_INSTALLED = Path(sys.prefix) / "share" / "batchship" / "templates"
TEMPLATES_DIR = _CHECKOUT if (_CHECKOUT / "formats").is_dir() else _INSTALLED
