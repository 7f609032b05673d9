"""schemas/ holds the canonical input schemas as data; they must agree with the code."""
import pandera.pandas as pa
import pytest
import yaml

from batchship import schema_files
from batchship.importers.templates import blank_headers as template_headers
from batchship.paths import SCHEMAS_DIR
from batchship.schemas import KINDS, frame_schema
from batchship.workspace_init import INPUT_KINDS, init_workspace


def test_the_files_in_schemas_are_what_the_code_writes():
    assert schema_files.stale_files(SCHEMAS_DIR) == [], "run: python -m batchship.schema_files"
    assert schema_files.main(["--check"]) == 0


def test_regenerating_writes_identical_files(tmp_path):
    schema_files.write_all(tmp_path)
    for path in sorted(SCHEMAS_DIR.glob("*.yaml")):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in SCHEMAS_DIR.glob("*.yaml"))


def test_a_changed_file_is_reported(tmp_path):
    schema_files.write_all(tmp_path)
    (tmp_path / "stock.yaml").write_text("schema_type: dataframe\n", encoding="utf-8")
    (tmp_path / "leftover.yaml").write_text("", encoding="utf-8")
    assert schema_files.stale_files(tmp_path) == ["stock.yaml", "leftover.yaml"]
    assert schema_files.main(["--check", "--dir", str(tmp_path)]) == 1


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_yaml_reads_back_with_the_models_columns_in_order(kind):
    back = pa.DataFrameSchema.from_yaml((SCHEMAS_DIR / f"{kind}.yaml").read_text(encoding="utf-8"))
    model = frame_schema(kind)
    assert list(back.columns) == list(model.columns) == [*KINDS[kind].columns]
    assert back.strict == model.strict
    for name, column in model.columns.items():
        assert [type(c) for c in back.columns[name].checks] or not column.checks
        assert len(back.columns[name].checks) == len(column.checks), (kind, name)


@pytest.mark.parametrize("kind", list(KINDS))
def test_headers_files_carry_english_and_chinese_names(kind):
    data = yaml.safe_load((SCHEMAS_DIR / f"{kind}.headers.yaml").read_text(encoding="utf-8"))
    assert data["kind"] == kind and data["columns"]
    for row in data["columns"]:
        assert row["en"] == row["aliases"][0]
        assert row["zh"] == "" or row["zh"] in row["aliases"]
    if kind == "stock":
        assert {r["column"]: r["zh"] for r in data["columns"]}["warehouse"] == "仓库"


@pytest.mark.parametrize("kind", INPUT_KINDS)
def test_blank_templates_keep_the_headers_they_had(kind):
    # init used to take the headers from templates/formats; reading them from schemas/ is the same list
    assert schema_files.blank_headers(kind) == template_headers(kind)


def test_init_writes_blank_templates_from_schemas(tmp_path):
    from openpyxl import load_workbook
    init_workspace(tmp_path)
    for kind in INPUT_KINDS:
        sheet = load_workbook(tmp_path / "templates" / f"{kind}.xlsx").worksheets[0]
        assert [c.value for c in next(sheet.iter_rows(max_row=1))] == template_headers(kind)
