"""Resource inventory: CSV import (all or nothing, bad rows named by row, line and column) and add/list."""

import json

import pytest
from sqlmodel import Session, SQLModel

from finops.data import db, resources
from finops.data.resources import ResourceError, ResourceImportError

HEADER = "resource_type,resource_id,name,owner,state,hourly_cost,tags,account_id,region"
GOOD = [
    'app,app-1,Sales dashboard,ana,running,0.25,"{""team"": ""sales""}",,',
    "ec2_instance,i-0abc,gpu box,bo,stopped,3.06,,123456789012,us-east-1",
]


@pytest.fixture
def s():
    engine = db.make_engine("sqlite://")  # in memory: these tests are about parsing and the transaction
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def csv_text(*rows, header=HEADER):
    return "\n".join([header, *rows]) + "\n"


def test_import_happy_path_and_upsert(s, tmp_path):
    path = tmp_path / "inventory.csv"
    path.write_text(csv_text(*GOOD), encoding="utf-8")
    assert resources.import_csv(session=s, source=path) == 2
    frame = resources.list_resources(session=s)
    assert frame["resource_id"].tolist() == ["app-1", "i-0abc"]
    app = frame.iloc[0]
    assert (app["owner"], app["state"], app["hourly_cost"], app["source"]) == ("ana", "running", 0.25, "platform")
    assert json.loads(app["tags"]) == {"team": "sales"}
    assert frame.iloc[1]["region"] == "us-east-1"
    # importing again updates by (type, id) instead of duplicating
    assert resources.import_csv(session=s, source=csv_text("app,app-1,Renamed")) == 1
    frame = resources.list_resources(session=s)
    assert len(frame) == 2 and frame.iloc[0]["name"] == "Renamed"


def test_only_required_columns(s):
    assert resources.import_csv(session=s, source="name,resource_id,resource_type\nnb,w-1,workspace\n") == 1
    row = resources.list_resources(session=s).iloc[0]
    assert (row["resource_type"], row["hourly_cost"], row["tags"]) == ("workspace", 0.0, "{}")


@pytest.mark.parametrize(
    ("bad_row", "column", "message"),
    [
        ("vm,x-1,thing,,,,,,", "resource_type", "unknown resource type 'vm'"),
        ("app,,thing,,,,,,", "resource_id", "must not be empty"),
        ("app,app-9,  ,,,,,,", "name", "must not be empty"),
        ("app,app-9,thing,,,-1,,,", "hourly_cost", "non-negative number"),
        ("app,app-9,thing,,,abc,,,", "hourly_cost", "non-negative number"),
        ("app,app-9,thing,,,nan,,,", "hourly_cost", "non-negative number"),
        ('app,app-9,thing,,,,"[1, 2]",,', "tags", "JSON object"),
        ("app,app-9,thing,,,,{not json,,", "tags", "JSON object"),
        ("app,app-1,again,,,,,,", "resource_id", "already appears on line 2"),
    ],
)
def test_bad_row_named_and_nothing_imported(s, bad_row, column, message):
    text = csv_text(*GOOD, bad_row)  # the bad row is data row 3, file line 4
    with pytest.raises(ResourceImportError, match=message) as err:
        resources.import_csv(session=s, source=text)
    assert (err.value.row, err.value.line, err.value.column) == (3, 4, column)
    assert str(err.value).startswith(f"row 3 (line 4), column {column}: ")
    assert resources.list_resources(session=s).empty


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("resource_type,name\napp,x\n", "lacks column"),
        (HEADER + ",colour\n", "unknown column 'colour'"),
        ("resource_type,resource_id,name\napp,a,b,extra\n", "more cells than header columns"),
    ],
)
def test_bad_header_or_shape(s, text, message):
    with pytest.raises(ResourceImportError, match=message):
        resources.import_csv(session=s, source=text)
    assert resources.list_resources(session=s).empty


def test_sql_and_html_stored_as_text(s):
    evil = "x'); DROP TABLE resource; --<b>"
    resources.import_csv(session=s, source=csv_text(f'app,a-1,"{evil}",,,,,,'))
    assert resources.list_resources(session=s, search="drop table")["name"].tolist() == [evil]


def test_add_resource_and_list_filters(s):
    resources.add_resource(session=s, resource_type="ml_model", resource_id="m-1", name="churn_model", tags={"a": 1})
    resources.add_resource(session=s, resource_type="asg", resource_id="web-asg", name="web", source="aws")
    assert resources.list_resources(session=s, resource_type="asg")["name"].tolist() == ["web"]
    assert resources.list_resources(session=s, search="N_M")["name"].tolist() == ["churn_model"]
    assert resources.list_resources(session=s, search="n%m").empty  # % is text, not a wildcard
    with pytest.raises(ResourceError, match="unknown resource type"):
        resources.add_resource(session=s, resource_type="vm", resource_id="x", name="x")
    with pytest.raises(ResourceError, match="name: must not be empty"):
        resources.add_resource(session=s, resource_type="app", resource_id="x", name="")
    with pytest.raises(ResourceError, match="unknown resource type"):
        resources.list_resources(session=s, resource_type="vm")
    assert set(resources.RESOURCE_TYPES) >= {"self_hosted_model", "automl", "ecs_service", "rds_instance"}
