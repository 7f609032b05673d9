"""The rules in force: a kind's last rules workbook when one was dropped, else batchship.toml's."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..config import Config
from ..schemas import RuleRow, Source
from .model import LOGISTICS, REVIEW, SETTINGS, Rule, rule_from_table


@dataclass(frozen=True)
class RulesInForce:
    review: tuple[Rule, ...]
    logistics: tuple[Rule, ...]


def rules_in_force(store, config: Config) -> RulesInForce:
    return RulesInForce(review=_kind(store, REVIEW, config.review_rules),
                        logistics=_kind(store, LOGISTICS, config.logistics))


def _kind(store, kind: str, configured: tuple[Rule, ...]) -> tuple[Rule, ...]:
    stored = store.rules_in_force(kind)
    if stored is None:
        return configured
    source_file, rows = stored
    return rules_of_rows(rows, kind, source_file)


def blacklist_in_force(store, config: Config) -> pd.DataFrame:
    """field, value: batchship.toml's [blacklist] and the last blacklist sheet's entries."""
    configured = pd.DataFrame(config.blacklist.entries(), columns=["field", "value"])
    return pd.concat([configured, store.blacklist()], ignore_index=True) if store else configured


def rules_of_rows(rows: list[dict], kind: str, source_file: str) -> tuple[Rule, ...]:
    """Rules from a workbook's rows of one kind (as ``workbook_rows`` keeps them), in row order."""
    return tuple(rule_from_table({k: v for k, v in row.items() if k in SETTINGS and v.strip()}, kind, n,
                                 f"{source_file} row {row[Source.row]}")
                 for n, row in enumerate(rows, start=1))


def workbook_rows(frame: pd.DataFrame) -> dict[str, list[dict]]:
    """A rules workbook's canonical frame as rows per kind: only kinds the workbook holds."""
    out: dict[str, list[dict]] = {}
    for kind in (REVIEW, LOGISTICS):
        mine = frame[frame[RuleRow.rule_type] == kind]
        if len(mine):
            out[kind] = [{**{k: str(r[k]) for k in SETTINGS}, Source.row: int(r[Source.row])}
                         for _, r in mine.iterrows()]
    return out
