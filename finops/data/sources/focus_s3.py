"""FOCUS files in S3 (s3://bucket/prefix): list what is there, pick the billing files, download them to a folder.

Nothing here touches the store: `finops/data/focus_imports.py` reads the folder with the FOCUS reader. Credentials
and region come from boto3's own chain; FINOPS_FOCUS_S3_ENDPOINT_URL points it at an S3-compatible store.
An object that cannot be read is S3Refused (the CLI's exit 2: access, a missing bucket or key); a server or
network failure is S3Unavailable (exit 1: retrying later may work).
"""

import json
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from finops.data.sources.focus import SUFFIXES, FocusError

SCHEME = "s3://"
# Errors that name a problem with the object, the bucket or the caller's access (not a server failure).
REFUSED_CODES = {
    "AccessDenied",
    "AllAccessDisabled",
    "InvalidAccessKeyId",
    "InvalidBucketName",
    "InvalidObjectState",
    "NoSuchBucket",
    "NoSuchKey",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "403",
    "404",
    "NotFound",
}


class S3Refused(FocusError):
    """An S3 location or object the import refuses (no access, no such bucket or key); one line naming it."""


class S3Unavailable(RuntimeError):
    """S3 did not answer (server error, network, timeout); one line naming the location. Retry later."""


@dataclass(frozen=True)
class S3Object:
    """One billing file in S3: its key, ETag (changes with the content) and size."""

    key: str
    etag: str
    size: int


def is_s3(location: str | Path) -> bool:
    return str(location).lower().startswith(SCHEME)


def split(location: str) -> tuple[str, str]:
    """(bucket, prefix) of s3://bucket/prefix."""
    bucket, _, prefix = location[len(SCHEME) :].partition("/")
    return bucket, prefix


def make_client(settings):
    """An S3 client: boto3's credentials and region, FINOPS_FOCUS_S3_ENDPOINT_URL when set, the retry settings."""
    import boto3
    from botocore.config import Config

    retries = {"mode": settings.aws_retry_mode, "total_max_attempts": settings.aws_max_attempts}
    endpoint = settings.focus_s3_endpoint_url or None
    return boto3.Session().client("s3", endpoint_url=endpoint, config=Config(retries=retries))


def _fail(exc: Exception, what: str) -> Exception:
    """The one-line error for a boto3 failure on `what`: refused (exit 2) or unavailable (exit 1)."""
    from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return S3Refused(f"{what}: no AWS credentials found ({exc})")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        message = error.get("Message") or code
        if code in REFUSED_CODES or 400 <= int(status or 0) < 500:
            return S3Refused(f"{what}: {code}: {message}")
        return S3Unavailable(f"{what}: S3 failed: {code or status}: {message}")
    return S3Unavailable(f"{what}: S3 did not answer: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")


def _is_billing_file(key: str) -> bool:
    return key.lower().endswith(SUFFIXES) and not key.endswith("/")


def _is_manifest(key: str) -> bool:
    """An AWS Data Exports (or CUR) manifest: <export>-Manifest.json under metadata/BILLING_PERIOD=.../"""
    return key.lower().endswith("manifest.json")


def list_objects(client, location: str, page_size: int | None = None) -> list[S3Object]:
    """Every object under the prefix, every page (sorted by key); S3Refused/S3Unavailable when the listing fails."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = split(location)
    found = []
    try:
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size} if page_size else {}
        )
        for page in pages:
            for item in page.get("Contents", []):
                found.append(S3Object(item["Key"], item.get("ETag", "").strip('"'), int(item.get("Size", 0))))
    except (ClientError, BotoCoreError) as exc:
        raise _fail(exc, location) from exc
    return sorted(found, key=lambda o: o.key)


def _manifest_keys(client, bucket: str, manifests: list[S3Object]) -> set[str]:
    """The data files the manifests name (Data Exports: `dataFiles` as s3:// URIs; CUR: `reportKeys` as keys)."""
    from botocore.exceptions import BotoCoreError, ClientError

    keys: set[str] = set()
    for manifest in manifests:
        what = f"{SCHEME}{bucket}/{manifest.key}"
        try:
            body = client.get_object(Bucket=bucket, Key=manifest.key)["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise _fail(exc, what) from exc
        try:
            document = json.loads(body)
        except ValueError:
            raise S3Refused(f"{what}: a manifest that is not JSON") from None
        names = (document.get("dataFiles") or document.get("reportKeys") or []) if isinstance(document, dict) else None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise S3Refused(f"{what}: dataFiles is not a list of files")
        for name in names:
            if is_s3(name):
                named_bucket, key = split(name)
                if named_bucket != bucket:
                    raise S3Refused(f"{what}: names a file in another bucket: {name}")
                name = key
            keys.add(name)
    return keys


def billing_objects(client, location: str) -> list[S3Object]:
    """The billing files under `location`: when AWS Data Exports manifests are there, the files they name (the
    current delivery of each billing period); otherwise every .csv, .csv.gz and .parquet object."""
    bucket, _ = split(location)
    objects = list_objects(client, location)
    manifests = [o for o in objects if _is_manifest(o.key)]
    if manifests:
        wanted = _manifest_keys(client, bucket, manifests)
        by_key = {o.key: o for o in objects}
        missing = sorted(wanted - set(by_key))
        if missing:  # a manifest written before its files, or files deleted: wait for the next delivery
            raise S3Refused(f"{SCHEME}{bucket}/{missing[0]}: NoSuchKey: named by a manifest but not in the bucket")
        files = [by_key[k] for k in sorted(wanted) if _is_billing_file(k)]
    else:
        files = [o for o in objects if _is_billing_file(o.key)]
    if not files:
        raise S3Refused(f"{location}: no .csv, .csv.gz or .parquet object under this prefix")
    return files


def download(client, location: str, objects: list[S3Object], folder: Path) -> list[Path]:
    """Download `objects` into `folder`/<key>; each only if its ETag is still the listed one (IfMatch), so what is
    imported is what was listed. S3Refused/S3Unavailable naming the object that failed."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _ = split(location)
    paths = []
    for obj in objects:
        target = folder.joinpath(*PurePosixPath(obj.key).parts)
        if folder.resolve() not in target.resolve().parents:  # a key such as ../x must not leave the folder
            raise S3Refused(f"{SCHEME}{bucket}/{obj.key}: a key that cannot be a file name")
        target.parent.mkdir(parents=True, exist_ok=True)
        what = f"{SCHEME}{bucket}/{obj.key}"
        try:
            extra = {"IfMatch": f'"{obj.etag}"'} if obj.etag else {}
            body = client.get_object(Bucket=bucket, Key=obj.key, **extra)["Body"]
            with target.open("wb") as fh:
                shutil.copyfileobj(body, fh, 1 << 20)  # streamed: a billing file may be far larger than memory
        except (ClientError, BotoCoreError) as exc:
            error = _fail(exc, what)
            if "PreconditionFailed" in str(error):  # re-delivered while we read it: the next look takes it
                error = S3Unavailable(f"{what}: changed while it was downloaded; try again")
            raise error from exc
        paths.append(target)
    return paths
