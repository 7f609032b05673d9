"""The shape of batchship.toml, checked by pydantic before anything is read from it.

Every table is a model that forbids unknown keys, so a typo never passes silently; every value has
its type. All mistakes are reported at once, one per line, each with its line and column in the file
(config_locations.py) and in words staff can act on ("unknown setting 'label_sise' (known: ...)").
What depends on other settings (a label size and format, a booking's fields, a timezone) is checked
afterwards by batchship.config, which builds the settings from the checked tables.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Literal

from pydantic import (BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError,
                      create_model)

from .config_locations import describe, locate
from .errors import ConfigError


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SenderTable(_Table):
    name: StrictStr = ""
    company: StrictStr = ""
    address: StrictStr = ""
    country: StrictStr = "CN"
    phone: StrictStr = ""


class WarehouseTable(_Table):
    name: StrictStr
    kind: StrictStr = "own"
    outbound_format: StrictStr = ""
    outbound_file: StrictStr = "xlsx"
    sender: SenderTable | None = None


class ShopTable(_Table):
    name: StrictStr
    platform: StrictStr
    marketplace: StrictStr = ""
    notify_customer: StrictBool = True
    currency: StrictStr = ""
    country: StrictStr = ""
    timezone: StrictStr = ""
    upload_tracking: Any = "on_waybill"        # checked with its reason in batchship.config
    packing_slips: StrictBool = False
    sender: SenderTable | None = None


class ChannelTable(_Table):
    name: StrictStr
    # Label and booking settings depend on each other: batchship.config checks them with their reasons.
    label_size: Any = "100x150"
    label_format: Any = "pdf"
    zpl_dpi: Any = 203
    label_cut_marks: Any = False
    carriers: dict[str, StrictStr] = {}
    tracking_url: StrictStr = ""
    source: Any = "pool"
    forwarder: Any = None
    product_code: Any = None
    credentials: Any = None
    base_url: StrictStr = ""
    concurrency: Any = 16
    timeout_seconds: Any = 30.0
    retries: Any = 3
    options: Any = None


class LabelsTable(_Table):
    customs_category: StrictStr = "Sale of goods"
    cjk_font: StrictStr = ""
    sort: Literal["paid", "shelf", "sku"] = "paid"
    single_item_first: StrictBool = False
    max_orders_per_wave: StrictInt = Field(default=0, ge=0)
    zone_order: list[StrictStr] = []


class RateZoneTable(_Table):
    name: StrictStr
    countries: list[StrictStr] = []
    first: StrictStr | StrictInt | StrictFloat
    additional: StrictStr | StrictInt | StrictFloat = 0


class RateCardTable(_Table):
    channel: StrictStr
    currency: StrictStr
    first_weight_g: StrictInt = Field(ge=1)
    step_g: StrictInt = Field(ge=1)
    per_parcel: StrictStr | StrictInt | StrictFloat = 0
    zones: list[RateZoneTable] = Field(min_length=1)


def settings_table(cls) -> type[BaseModel]:
    """A model for a settings dataclass: each value of the type of its default, numbers 0 or more."""
    fields = {}
    for f in dataclasses.fields(cls):
        default = f.default
        if isinstance(default, bool):
            kind: Any = StrictBool
        elif isinstance(default, int):
            kind = StrictInt
        elif isinstance(default, float):
            kind = StrictFloat              # strict, yet a whole number is a number too
        elif isinstance(default, tuple):
            kind = list[StrictStr]
        else:
            kind = StrictStr
        number = isinstance(default, (int, float)) and not isinstance(default, bool)
        fields[f.name] = (kind, Field(default=list(default) if isinstance(default, tuple) else default,
                                      **({"ge": 0} if number else {})))
    return create_model(f"{cls.__name__}Table", __base__=_Table, **fields)


def config_table(sections: dict[str, type]) -> type[BaseModel]:
    """The whole file: shops, channels, rule lists (each rule read by rules/model.py) and the
    settings sections, ``sections`` naming each section's dataclass."""
    fields: dict[str, Any] = {
        "shops": (list[ShopTable], []),
        "channels": (list[ChannelTable], []),
        "warehouses": (list[WarehouseTable], []),
        "logistics": (list[dict[str, Any]], []),
        "review_rules": (list[dict[str, Any]], []),
        "labels": (LabelsTable, LabelsTable()),
        # The store's database URL (batchship/database.py); the workspace's SQLite file when unset.
        "database": (StrictStr, ""),
        "rate_cards": (list[RateCardTable], []),
    }
    for name, cls in sections.items():
        table = settings_table(cls)
        fields[name] = (table, table())
    return create_model("ConfigTable", __base__=_Table, **fields)


def check_shape(model: type[BaseModel], data: dict, where: str, text: str = "") -> BaseModel:
    """``data`` checked against ``model``; ConfigError listing every mistake otherwise. ``text``
    (the file's contents) gives each mistake its line and column."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            position = locate(text, loc) if text else None
            at = f"line {position[0]}, column {position[1]}: " if position else ""
            table = describe(loc, data)
            lines.append(f"{where}: {at}{table + ': ' if table else ''}{_words(error, model, loc)}")
        raise ConfigError("\n".join(dict.fromkeys(lines)))


def _words(error: dict, model: type[BaseModel], loc: tuple) -> str:
    kind, value = error["type"], error.get("input")
    key = str(loc[-1]) if loc else ""
    if kind == "extra_forbidden":
        return f"unknown setting {key!r} (known: {', '.join(sorted(_fields_at(model, loc[:-1])))})"
    if kind == "missing":
        return f"missing {key!r}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{key} must be a whole number{' of grams' if key.endswith('_g') else ''}, not {value!r}"
    if kind in ("float_type", "float_parsing"):
        return f"{key} must be a number, not {value!r}"
    if kind == "bool_type":
        return f"{key} must be true or false, not {value!r}"
    if kind == "string_type":
        return f"{key} must be a text in quotes, not {value!r}"
    if kind == "greater_than_equal":
        return f"{key} must be a number of 0 or more, not {value!r}"
    if kind == "literal_error":
        return f"{key} must be one of {error['ctx']['expected']}, not {value!r}"
    if kind == "list_type":
        return f"{key} must be a list, such as [\"A\", \"B\"] or [[{key}]] tables, not {value!r}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a table of settings, found {value!r}"
    return error["msg"]


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys the table at ``loc`` knows."""
    for part in loc:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation
        inner = getattr(annotation, "__args__", None)
        model = inner[0] if inner and isinstance(inner[0], type) and issubclass(inner[0], BaseModel) else annotation
    return list(model.model_fields)
