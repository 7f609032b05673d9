"""Finding and reading a template file: the workspace's own templates/<folder>/ first, so a user adds
a forwarder or a warehouse layout without touching the code, then the bundled one."""
from __future__ import annotations

import tomllib
from pathlib import Path

from .errors import ConfigError
from .paths import TEMPLATES_DIR


def template_dirs(folder: str, workspace: Path | None) -> list[Path]:
    return ([workspace / "templates" / folder] if workspace else []) + [TEMPLATES_DIR / folder]


def find_template(folder: str, name: str, workspace: Path | None, what: str) -> Path:
    """``what``: how the error names the file, such as "forwarder 'yunexpress': no mapping file"."""
    for directory in template_dirs(folder, workspace):
        path = directory / f"{name}.toml"
        if path.is_file():
            return path
    searched = ", ".join(str(d) for d in template_dirs(folder, workspace))
    raise ConfigError(f"{what} {name}.toml in {searched}")


def read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read as TOML: {exc}")
