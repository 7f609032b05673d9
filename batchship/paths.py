"""Where the data files that ship with batchship live."""
from pathlib import Path

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
