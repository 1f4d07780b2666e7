"""FOCUS files from S3 (a moto server, real boto3) and the sidecar's polling of FINOPS_FOCUS_PATHS, on SQLite and
PostgreSQL: S3 imports what a local import of the same files does; a poll imports only what changed; a refused
or unreachable location is named, changes nothing and is tried again at the next poll."""

import gzip
import json
import os
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from sqlmodel import Session

from finops.cli import main
from finops.data import focus_imports, focus_sources
from finops.data.sources import focus_s3
from finops.data.sources.focus import FocusError
from finops.data.tables import FocusSource
from finops.jobs import tasks
from finops.settings import get_settings
from tests.conftest import use_store
from tests.store.test_focus_import import assert_matches, parquet_copy, read_rows, snapshot, write_rows

BUCKET = "bills"
PREFIX = "focus/"
LOCATION = f"s3://{BUCKET}/{PREFIX}"


def export_folder(folder: Path) -> dict[str, Path]:
    """The sample split by provider into the three formats: AWS as CSV, Microsoft as CSV.gz, Oracle as Parquet."""
    header, rows = read_rows()
    folder.mkdir(parents=True, exist_ok=True)
    aws = write_rows(folder / "aws.csv", header, [r for r in rows if r["ProviderName"] == "AWS"])
    azure_csv = write_rows(folder.parent / "azure.csv", header, [r for r in rows if r["ProviderName"] == "Microsoft"])
    azure = folder / "azure.csv.gz"
    azure.write_bytes(gzip.compress(azure_csv.read_bytes()))
    oracle_csv = write_rows(folder.parent / "oracle.csv", header, [r for r in rows if r["ProviderName"] == "Oracle"])
    oracle = parquet_copy(oracle_csv, folder / "oracle.parquet")
    return {"aws.csv": aws, "azure.csv.gz": azure, "oracle.parquet": oracle}


@pytest.fixture
def s3(engine, moto_env, tmp_path, monkeypatch):
    """A bucket holding the sample's three files under focus/ (and a manifest-free README), settings on `engine`."""
    use_store(monkeypatch, tmp_path, url=engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("FINOPS_AWS_MAX_ATTEMPTS", "1")
    get_settings.cache_clear()
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    for name, path in export_folder(tmp_path / "export").items():
        client.upload_file(str(path), BUCKET, PREFIX + name)
    client.put_object(Bucket=BUCKET, Key=PREFIX + "README.txt", Body=b"not a billing file")
    client.put_object(Bucket=BUCKET, Key="elsewhere/other.csv", Body=b"outside the prefix")
    return client


def store_client():
    return focus_s3.make_client(get_settings())


def import_s3(engine, location: str = LOCATION) -> focus_imports.FocusImport:
    with Session(engine) as s:
        return focus_imports.import_location(s, location, client=store_client())


def poll(engine, locations: list[str]) -> list[focus_sources.Outcome]:
    with Session(engine) as s:
        return focus_sources.poll(s, locations, store_client)


def source_row(engine, location: str) -> FocusSource:
    with Session(engine) as s:
        row = s.get(FocusSource, location)
        assert row is not None
        s.expunge(row)
        return row


def doubled(rows: list[dict]) -> list[dict]:
    return [
        {**r, "BilledCost": str(Decimal(r["BilledCost"]) * 2), "EffectiveCost": str(Decimal(r["EffectiveCost"]) * 2)}
        for r in rows
    ]


def test_an_s3_import_equals_the_local_import_of_the_same_files(engine, s3, tmp_path):
    _, rows = read_rows()
    with Session(engine) as s:
        focus_imports.import_focus(s, tmp_path / "export")
    local = snapshot(engine)
    done = import_s3(engine)
    assert sorted(str(f) for f in done.files) == ["focus/aws.csv", "focus/azure.csv.gz", "focus/oracle.parquet"]
    assert done.rows_read == 1000
    from_s3 = snapshot(engine)
    assert [len(from_s3.pop("refresh_run")), len(local.pop("refresh_run"))] == [2, 1]
    assert from_s3 == local  # the S3 import replaced the same windows with the same rows
    assert_matches(engine, "cost_daily", rows)
    assert_matches(engine, "cost_resource_daily", rows)


def test_the_cli_imports_from_s3_through_the_endpoint_setting(engine, s3, moto_url, monkeypatch, capsys):
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # only FINOPS_FOCUS_S3_ENDPOINT_URL points boto3 at moto now
    monkeypatch.setenv("FINOPS_FOCUS_S3_ENDPOINT_URL", moto_url)
    get_settings.cache_clear()
    assert main(["import", "focus", LOCATION]) == 0
    out, err = capsys.readouterr()
    assert err == "" and "imported 1,000 rows from 3 file(s)" in out and "AWS [2024-09-01, 2024-10-01)" in out


@pytest.mark.parametrize(
    ("case", "code", "named"),
    [
        ("not_focus", 2, f"s3://{BUCKET}/{PREFIX}notes.csv: row 0 (header)"),
        ("no_bucket", 2, "NoSuchBucket"),
        ("empty_prefix", 2, f"s3://{BUCKET}/nothing/: no .csv, .csv.gz or .parquet object"),
        ("manifest_names_a_missing_file", 2, f"s3://{BUCKET}/{PREFIX}gone.csv: NoSuchKey"),
        ("server_unreachable", 1, "S3 did not answer"),
    ],
)
def test_an_unreadable_location_is_named_and_nothing_is_imported(engine, s3, monkeypatch, capsys, case, code, named):
    assert main(["import", "focus", LOCATION]) == 0
    capsys.readouterr()
    before = snapshot(engine)
    location = LOCATION
    if case == "not_focus":
        s3.put_object(Bucket=BUCKET, Key=PREFIX + "notes.csv", Body=b"a,b,c\n1,2,3\n")
    elif case == "no_bucket":
        location = "s3://no-such-bucket/focus/"
    elif case == "empty_prefix":
        location = f"s3://{BUCKET}/nothing/"
    elif case == "manifest_names_a_missing_file":
        manifest = {"dataFiles": [f"s3://{BUCKET}/{PREFIX}aws.csv", f"s3://{BUCKET}/{PREFIX}gone.csv"]}
        s3.put_object(Bucket=BUCKET, Key=PREFIX + "metadata/x-Manifest.json", Body=json.dumps(manifest).encode())
    else:
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
        get_settings.cache_clear()
    assert main(["import", "focus", location]) == code
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and named in err, err
    assert "finops-focus-" not in err  # the object is named, never its temporary copy
    assert snapshot(engine) == before


def test_every_page_of_the_listing_is_read(engine, s3):
    client = store_client()
    calls = []
    client.meta.events.register("before-call.s3.ListObjectsV2", lambda **kw: calls.append(kw))
    objects = focus_s3.list_objects(client, LOCATION, page_size=2)
    assert len(calls) == 2  # README.txt, aws.csv, azure.csv.gz, oracle.parquet: two pages of two
    assert [o.key for o in objects] == [
        f"{PREFIX}{n}" for n in ("README.txt", "aws.csv", "azure.csv.gz", "oracle.parquet")
    ]
    assert all(o.etag and o.size > 0 for o in objects)
    listing = focus_imports.look(LOCATION, client)
    assert [name for name, _, _ in listing.entries] == [
        f"{PREFIX}{n}" for n in ("aws.csv", "azure.csv.gz", "oracle.parquet")
    ]


def test_access_denied_is_named_and_refused(engine, s3, monkeypatch):
    def denied(*_args, **_kwargs):
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetObject")

    client = store_client()
    monkeypatch.setattr(client, "get_object", denied)
    before = snapshot(engine)
    with Session(engine) as s, pytest.raises(focus_s3.S3Refused, match=r"s3://bills/focus/aws.csv: AccessDenied"):
        focus_imports.import_location(s, LOCATION, client=client)
    assert snapshot(engine) == before


def test_data_exports_manifests_pick_the_current_delivery(engine, s3, tmp_path):
    """Two deliveries of one period under data/BILLING_PERIOD=2024-09/: only the one the manifest names counts."""
    header, rows = read_rows()
    aws = [r for r in rows if r["ProviderName"] == "AWS"]
    base = "exports/focus1/"
    first = write_rows(tmp_path / "first.csv", header, aws)
    second = write_rows(tmp_path / "second.csv", header, doubled(aws))
    s3.upload_file(str(first), BUCKET, base + "data/BILLING_PERIOD=2024-09/run-1/focus1-00001.csv")
    s3.upload_file(str(second), BUCKET, base + "data/BILLING_PERIOD=2024-09/run-2/focus1-00001.csv")
    manifest = {
        "exportName": "focus1",
        "billingPeriod": {"start": "2024-09-01T00:00:00.000Z", "end": "2024-10-01T00:00:00.000Z"},
        "dataFiles": [f"s3://{BUCKET}/{base}data/BILLING_PERIOD=2024-09/run-2/focus1-00001.csv"],
    }
    s3.put_object(
        Bucket=BUCKET, Key=base + "metadata/BILLING_PERIOD=2024-09/focus1-Manifest.json", Body=json.dumps(manifest)
    )
    done = import_s3(engine, f"s3://{BUCKET}/{base}")
    assert [str(f) for f in done.files] == [f"{base}data/BILLING_PERIOD=2024-09/run-2/focus1-00001.csv"]
    assert_matches(engine, "cost_daily", doubled(aws))


def test_a_poll_imports_only_what_changed_and_a_redelivery_replaces(engine, s3, tmp_path, monkeypatch):
    header, rows = read_rows()
    local = tmp_path / "local"
    local.mkdir()
    others = [r for r in rows if r["ProviderName"] != "AWS"]
    # S3 delivers AWS only; the local folder the others
    s3.delete_object(Bucket=BUCKET, Key=PREFIX + "azure.csv.gz")
    s3.delete_object(Bucket=BUCKET, Key=PREFIX + "oracle.parquet")
    write_rows(local / "others.csv", header, others)
    locations = [LOCATION, str(local)]

    first = poll(engine, locations)
    assert [o.status for o in first] == ["imported", "imported"]
    assert_matches(engine, "cost_daily", rows)
    after_first = snapshot(engine)
    etag = s3.head_object(Bucket=BUCKET, Key=PREFIX + "aws.csv")["ETag"].strip('"')
    assert source_row(engine, LOCATION).status == "ok" and source_row(engine, LOCATION).files == 1

    # nothing changed: nothing imported, no new run (no new data version)
    again = poll(engine, locations)
    assert [o.status for o in again] == ["unchanged", "unchanged"]
    assert snapshot(engine) == after_first

    # AWS re-delivers the period with new amounts (new content, new ETag): replaced, never added
    aws = [r for r in rows if r["ProviderName"] == "AWS"]
    s3.upload_file(str(write_rows(tmp_path / "aws2.csv", header, doubled(aws))), BUCKET, PREFIX + "aws.csv")
    assert s3.head_object(Bucket=BUCKET, Key=PREFIX + "aws.csv")["ETag"].strip('"') != etag
    monkeypatch.setenv("FINOPS_FOCUS_PATHS", json.dumps(locations))
    get_settings.cache_clear()
    tasks.import_focus_files()  # the sidecar's job this time
    assert [source_row(engine, loc).status for loc in locations] == ["ok", "unchanged"]
    assert_matches(engine, "cost_daily", [*doubled(aws), *others])
    assert_matches(engine, "cost_resource_daily", [*doubled(aws), *others])
    assert len(snapshot(engine)["refresh_run"]) == len(after_first["refresh_run"]) + 1

    # a local file re-written (new modification time): the local location is imported again, same rows
    stat = (local / "others.csv").stat()
    os.utime(local / "others.csv", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert [o.status for o in poll(engine, locations)] == ["unchanged", "imported"]
    assert_matches(engine, "cost_daily", [*doubled(aws), *others])


def test_a_failed_poll_keeps_the_data_records_why_and_retries(engine, s3, monkeypatch):
    assert [o.status for o in poll(engine, [LOCATION])] == ["imported"]
    before = snapshot(engine)
    good = source_row(engine, LOCATION)
    s3.put_object(Bucket=BUCKET, Key=PREFIX + "late.csv", Body=b"a,b\n1,2\n")
    for _ in range(2):  # refused, and tried again at the next poll
        (outcome,) = poll(engine, [LOCATION])
        assert outcome.status == "failed" and f"s3://{BUCKET}/{PREFIX}late.csv" in outcome.message
        row = source_row(engine, LOCATION)
        assert row.status == "failed" and "late.csv" in row.error and "\n" not in row.error
        assert (row.digest, row.run_id) == (good.digest, good.run_id)  # the last import is still what is held
        assert snapshot(engine) == before
    # the sidecar's job logs and records the same, and never raises
    monkeypatch.setenv("FINOPS_FOCUS_PATHS", LOCATION)
    get_settings.cache_clear()
    tasks.import_focus_files()
    assert source_row(engine, LOCATION).status == "failed"
    # the bad file goes away: the location holds what was imported last, so nothing is imported
    s3.delete_object(Bucket=BUCKET, Key=PREFIX + "late.csv")
    tasks.import_focus_files()
    row = source_row(engine, LOCATION)
    assert (row.status, row.error, row.run_id) == ("unchanged", "", good.run_id)
    assert snapshot(engine) == before


def test_the_job_does_nothing_without_locations(engine, s3):
    assert get_settings().focus_paths == []
    tasks.import_focus_files()
    with Session(engine) as s:
        assert s.get(FocusSource, LOCATION) is None


def test_a_missing_local_folder_is_a_recorded_failure(engine, s3, tmp_path):
    (outcome,) = poll(engine, [str(tmp_path / "nowhere")])
    assert outcome.status == "failed" and "no such file or folder" in outcome.message
    with pytest.raises(FocusError):
        focus_imports.look(str(tmp_path / "nowhere"))
