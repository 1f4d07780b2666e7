"""Settings are checked when read: one line naming each bad variable; private files are created 0600 at once."""

import os
import stat
import threading

import pytest

from finops.settings import InvalidSettings, Settings, create_private_file, get_settings


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env file from the checkout
    for key in list(os.environ):
        if key.startswith("FINOPS_"):
            monkeypatch.delenv(key)
    get_settings.cache_clear()

    def setenv(**values):
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()

    yield setenv
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("FINOPS_AWS_REGIONS", '["us-east-1"', 'must be a JSON list such as ["us-east-1","eu-west-1"]'),
        ("FINOPS_AWS_REGIONS", '{"a": 1}', "is not an AWS region name"),
        ("FINOPS_AWS_REGIONS", "[]", "must list at least one region"),
        ("FINOPS_AWS_REGIONS", "us-east-1,Mars", "'Mars' is not an AWS region name"),
        ("FINOPS_REFRESH_CRON", "61 * * * *", "must be a crontab line of 5 fields"),
        ("FINOPS_REFRESH_CRON", "every day", "must be a crontab line of 5 fields"),
        ("FINOPS_HEARTBEAT_SECONDS", "0", "greater than or equal to 1"),
        ("FINOPS_HEARTBEAT_SECONDS", "86400", "less than or equal to 300"),
        ("FINOPS_REQUEST_POLL_SECONDS", "0", "greater than or equal to 1"),
        ("FINOPS_DISCOVERY_MINUTES", "0", "greater than or equal to 1"),
        ("FINOPS_MODELS_POLL_SECONDS", "1", "greater than or equal to 5"),
        ("FINOPS_PORT", "70000", "less than or equal to 65535"),
        ("FINOPS_PORT", "web", "valid integer"),
        ("FINOPS_SOURCE", "azure", "'auto', 'aws' or 'demo'"),
        ("FINOPS_DATABASE_URL", "mysql://root:pw@db/finops", "must be an SQLAlchemy URL of SQLite or PostgreSQL"),
        ("FINOPS_PLATFORM_URL", "platform.internal", "must be empty or an http(s):// URL"),
        ("FINOPS_COOKIE_KEY", "short", "at least 32 characters"),
        ("FINOPS_COOKIE_NAME", "a cookie", "letters, digits"),
        ("FINOPS_COOKIE_EXPIRY_DAYS", "0", "greater than 0"),
        ("FINOPS_FORECAST_HOLIDAYS_COUNTRY", "Atlantis", "a country code the holidays package knows"),
        ("FINOPS_FORECAST_HOLIDAYS_COUNTRY", "XX", "a country code the holidays package knows"),
        ("FINOPS_FORECAST_PROPHET_SERIES", "-1", "greater than or equal to 0"),
        ("FINOPS_API_PORT", "0", "greater than or equal to 1"),
        ("FINOPS_API_PORT", "api", "valid integer"),
        ("FINOPS_API_HOST", "", "at least 1 character"),
        ("FINOPS_API_WORKERS", "0", "greater than or equal to 1"),
        ("FINOPS_API_CACHE_ENTRIES", "-1", "greater than or equal to 0"),
        ("FINOPS_EXECUTIONS_IN_BILL", "maybe", "valid boolean"),
        ("FINOPS_FOCUS_PATHS", '["s3://bills/focus"', 'must be a JSON list such as ["s3://bills/focus/"'),
        ("FINOPS_FOCUS_PATHS", '["s3://bills", 3]', "must be a list of folders, files or s3://bucket/prefix"),
        ("FINOPS_FOCUS_PATHS", "s3://Bills_2024/focus", "'Bills_2024' is not an S3 bucket name"),
        ("FINOPS_FOCUS_PATHS", "s3://", "'' is not an S3 bucket name"),
        ("FINOPS_FOCUS_PATHS", "https://bills.example/focus", "only s3:// locations and local paths are read"),
        ("FINOPS_FOCUS_PATHS", "/srv/a,/srv/a", "names a location twice"),
        ("FINOPS_FOCUS_POLL_MINUTES", "4", "greater than or equal to 5"),
        ("FINOPS_FOCUS_POLL_MINUTES", "1441", "less than or equal to 1440"),
        ("FINOPS_FOCUS_POLL_MINUTES", "hourly", "valid integer"),
        ("FINOPS_FOCUS_S3_ENDPOINT_URL", "minio:9000", "must be empty or an http(s):// URL"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(env, variable, value, message):
    env(**{variable: value})
    with pytest.raises(InvalidSettings) as err:
        get_settings()
    text = str(err.value)
    assert text.startswith(f"{variable}: ") and message in text and "\n" not in text
    if variable in ("FINOPS_DATABASE_URL", "FINOPS_COOKIE_KEY"):
        assert value not in text  # secrets are never echoed back


def test_several_bad_settings_are_all_named(env):
    env(FINOPS_PORT="0", FINOPS_HEARTBEAT_SECONDS="-1")
    with pytest.raises(InvalidSettings, match="FINOPS_PORT: .*; FINOPS_HEARTBEAT_SECONDS: "):
        get_settings()


@pytest.mark.parametrize(
    ("value", "regions"),
    [
        ('["us-east-1", "eu-west-1"]', ["us-east-1", "eu-west-1"]),
        ("us-east-1, eu-west-1", ["us-east-1", "eu-west-1"]),
        ("us-gov-west-1", ["us-gov-west-1"]),
    ],
)
def test_regions_as_json_or_a_comma_list(env, value, regions):
    env(FINOPS_AWS_REGIONS=value)
    assert get_settings().aws_regions == regions


@pytest.mark.parametrize(
    ("value", "paths"),
    [
        ('["s3://bills/focus/", "/srv/azure"]', ["s3://bills/focus/", "/srv/azure"]),
        ("s3://bills.example-1/aws, exports/oci ", ["s3://bills.example-1/aws", "exports/oci"]),
        ("s3://bills", ["s3://bills"]),
        ("", []),
    ],
)
def test_focus_paths_as_json_or_a_comma_list(env, value, paths):
    env(FINOPS_FOCUS_PATHS=value, FINOPS_FOCUS_S3_ENDPOINT_URL=" http://127.0.0.1:9000 ")
    settings = get_settings()
    assert settings.focus_paths == paths
    assert settings.focus_s3_endpoint_url == "http://127.0.0.1:9000"


def test_defaults_are_valid_and_listen_on_loopback(env):
    settings = get_settings()
    assert (settings.host, settings.port, settings.owner_tag) == ("127.0.0.1", 8501, "owner")
    assert (settings.api_host, settings.api_port, settings.executions_in_bill) == ("127.0.0.1", 8000, False)
    assert (settings.focus_paths, settings.focus_poll_minutes, settings.focus_s3_endpoint_url) == ([], 60, "")


def test_the_generated_cookie_key_is_private_and_the_first_writer_wins(tmp_path):
    keys = []
    settings = Settings(data_dir=tmp_path / "data")
    threads = [threading.Thread(target=lambda: keys.append(settings.signing_key())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    path = tmp_path / "data" / "cookie_key"
    assert len(set(keys)) == 1 and keys[0] == path.read_text() and len(keys[0]) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["cookie_key"]  # no temp file left behind


def test_create_private_file_never_replaces_an_existing_file(tmp_path):
    path = tmp_path / "secret"
    create_private_file(path, "first")
    create_private_file(path, "second")
    assert path.read_text() == "first" and stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(("value", "expected"), [("", ""), ("de", "DE"), (" US ", "US"), ("GB", "GB")])
def test_holidays_country_is_a_known_code_in_upper_case(env, value, expected):
    env(FINOPS_FORECAST_HOLIDAYS_COUNTRY=value)
    assert get_settings().forecast_holidays_country == expected
