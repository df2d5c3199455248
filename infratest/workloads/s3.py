"""The s3 workload: upload and download throughput and time to first byte of one object.

Scratch mode (`size`) uploads `uploads` random objects under ``infratest-scratch/`` and always
deletes them again (and the bucket, if this run created it); existing-object mode (`key`) only
reads. Uploads and downloads are repeated so each throughput has an interval from the spread
between transfers; small ranged GETs give the first-byte latency. Errors name the S3 error code
and what to check, never a secret.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import math
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.session
from boto3.s3.transfer import TransferConfig
from botocore.client import BaseClient
from botocore.config import Config
from botocore.credentials import create_credential_resolver
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound
from s3transfer.exceptions import RetriesExceededError
from s3transfer.utils import ChunksizeAdjuster

from infratest.hosts import host_of
from infratest.measurements import MeasurementError, Measurements
from infratest.spec.resource_sections import S3Spec
from infratest.stats import Interval, mean_interval, quantile_interval
from infratest.units import Dimension, format_quantity
from infratest.workloads.context import WorkloadContext
from infratest.workloads.disk import chunk_throughput_interval

__all__ = ["SCRATCH_PREFIX", "run_s3", "run_s3_workload", "upload_throughput_interval"]

SCRATCH_PREFIX = "infratest-scratch/"
CONNECT_TIMEOUT_S = 3.0  # an unreachable endpoint fails in seconds, not minutes
READ_TIMEOUT_S = 30.0
UPLOAD_BUDGET_S = 120.0  # no further upload starts that would likely end past this
MIN_DOWNLOADS = 3  # enough downloads for a t interval
DOWNLOAD_TARGET_S = 5.0  # small objects: keep downloading until this much time is covered
DOWNLOAD_BUDGET_S = 120.0  # no download starts that would likely end past this
MAX_DOWNLOADS = 50
FIRST_BYTE_BUDGET_S = 60.0
FIRST_BYTE_RANGE = 1024
SERIES_MAX = 1000
RANDOM_BLOCK = 2**20
DUMMY_CREDENTIAL = "infratest-local"  # local S3 stand-ins accept any key pair
METADATA_PROVIDERS = ("container-role", "iam-role")
CREDENTIAL_CODES = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidToken",
        "TokenRefreshRequired",
        "InvalidClientTokenId",
    }
)
REGION_CODES = frozenset(
    {"PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"}
)
HEAD_CODES = {"404": "NotFound", "403": "AccessDenied", "301": "PermanentRedirect"}


@dataclass
class _Conn:
    """A client plus what error messages need: where it points and which secrets to hide."""

    client: BaseClient
    core: botocore.session.Session
    where: str
    dummy: bool


@dataclass
class _Found:
    """Raw timings of one run, before they become intervals."""

    size: int
    upload_s: list[float] = field(default_factory=list)
    download_s: list[float] = field(default_factory=list)
    first_byte_s: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- byte streams ------------------------------------------------------------------------------


class _Positioned(io.RawIOBase):
    """A seekable stream position: s3transfer seeks both the upload source and the sink."""

    _pos = 0

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def _end(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._end()}[whence]
        self._pos = max(0, base + offset)
        return self._pos


class _RandomSource(_Positioned):
    """`size` bytes of one repeated random block: seekable for s3transfer, never object-sized
    in memory, and random so no compressing link or store can flatter the figure."""

    def __init__(self, size: int) -> None:
        self._size, self._pos = size, 0
        self._block = os.urandom(RANDOM_BLOCK)

    def readable(self) -> bool:
        return True

    def _end(self) -> int:
        return self._size

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        n = max(0, min(len(view), self._size - self._pos))
        filled = 0
        while filled < n:  # each round copies > 0 bytes, so at most n / block + 1 rounds
            offset = (self._pos + filled) % RANDOM_BLOCK
            take = min(n - filled, RANDOM_BLOCK - offset)
            view[filled : filled + take] = self._block[offset : offset + take]
            filled += take
        self._pos += n
        return n


class _Sink(_Positioned):
    """A seekable write target that only counts: s3transfer writes ranged parts at offsets."""

    def __init__(self) -> None:
        self.received, self._pos = 0, 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        n = memoryview(data).nbytes
        self.received += n
        self._pos += n
        return n


# --- client ------------------------------------------------------------------------------------


def _is_loopback(endpoint_url: str | None) -> bool:
    if endpoint_url is None:
        return False
    try:
        host = host_of(endpoint_url)
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _has_local_credentials(core: botocore.session.Session) -> bool:
    """Configured credentials (env, profile, files), skipping the instance/container metadata
    services: those are slow to time out off-cloud and never meant for a local stand-in."""
    resolver = create_credential_resolver(core)
    for name in METADATA_PROVIDERS:
        resolver.remove(name)
    return resolver.load_credentials() is not None


def _connect(spec: S3Spec, endpoint_url: str | None) -> _Conn:
    """A client on the standard credential chain; dummy keys only for a loopback endpoint."""
    where = endpoint_url or f"AWS S3 ({spec.region})"
    local = _is_loopback(endpoint_url)
    core = botocore.session.Session()
    try:
        dummy = local and not _has_local_credentials(core)
        if dummy:
            core.set_credentials(DUMMY_CREDENTIAL, DUMMY_CREDENTIAL)
        config = Config(
            region_name=spec.region,
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
            retries={"max_attempts": 2, "mode": "standard"},
            s3={"addressing_style": "path"} if local else None,
        )
        session = boto3.session.Session(botocore_session=core, region_name=spec.region)
        client = session.client("s3", endpoint_url=endpoint_url, config=config)
    except ProfileNotFound as exc:
        raise MeasurementError(f"{exc}: check AWS_PROFILE and ~/.aws/config") from None
    return _Conn(client, core, where, dummy)


def _secrets(core: botocore.session.Session) -> tuple[str, ...]:
    """The secret key and session token in use, only so they can be cut out of messages."""
    with contextlib.suppress(Exception):
        creds = core.get_credentials()
        if creds is not None:
            frozen = creds.get_frozen_credentials()
            return tuple(v for v in (frozen.secret_key, frozen.token) if v and len(v) >= 4)
    return ()


def _redact(conn: _Conn, text: str) -> str:
    for secret in _secrets(conn.core):
        text = text.replace(secret, "***")
    return text


# --- errors ------------------------------------------------------------------------------------


def _code(exc: ClientError) -> str:
    """The S3 error code; HEAD responses carry none, so their status stands in for it."""
    code = str(exc.response.get("Error", {}).get("Code", "")) or "Unknown"
    return HEAD_CODES.get(code, code)


def _client_message(conn: _Conn, exc: ClientError, spec: S3Spec, action: str) -> str:
    code, where, bucket = _code(exc), conn.where, spec.bucket
    if code == "NoSuchBucket" or (code == "NotFound" and action == "checking the bucket"):
        fix = (
            "create it or set create_bucket: true"
            if spec.size is not None
            else "check the bucket name and the endpoint"
        )
        return f"bucket '{bucket}' does not exist at {where} (NoSuchBucket): {fix}"
    if code in ("NoSuchKey", "NotFound"):
        return (
            f"object '{spec.key}' does not exist in bucket '{bucket}' at {where} (NoSuchKey): "
            "check the key"
        )
    if code in CREDENTIAL_CODES:
        return (
            f"credentials were refused ({code}) while {action} at {where}: check AWS_PROFILE / "
            "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, or log in again"
        )
    if code == "AccessDenied":
        return (
            f"access denied (AccessDenied) while {action} in bucket '{bucket}' at {where}: "
            "check that this identity (AWS_PROFILE / AWS_ACCESS_KEY_ID) may do that"
        )
    if code in REGION_CODES:
        return f"bucket '{bucket}' is not in region {spec.region} ({code}): set region:"
    detail = str(exc.response.get("Error", {}).get("Message", ""))[:200]
    return f"S3 error {code} while {action} at {where}: {_redact(conn, detail)}"


def _core_message(conn: _Conn, exc: Exception, action: str) -> str:
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return (
            f"no usable AWS credentials for {conn.where} ({name}): set AWS_PROFILE, or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with an instance role"
        )
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError"):
        return f"cannot reach the S3 endpoint {conn.where}: {_redact(conn, str(exc))}"
    if name == "ReadTimeoutError":
        return f"the S3 endpoint {conn.where} stopped answering while {action} ({name})"
    return f"S3 request failed while {action} at {conn.where}: {name}: {_redact(conn, str(exc))}"


@contextlib.contextmanager
def _explained(conn: _Conn, spec: S3Spec, action: str) -> Iterator[None]:
    """Turn boto errors into a MeasurementError a person can act on (no chained traceback)."""
    try:
        yield
    except ClientError as exc:
        raise MeasurementError(_client_message(conn, exc, spec, action)) from None
    except (BotoCoreError, RetriesExceededError) as exc:
        raise MeasurementError(_core_message(conn, exc, action)) from None


# --- transfers ---------------------------------------------------------------------------------


def _transfer(spec: S3Spec) -> TransferConfig:
    part = int(spec.part_size)
    return TransferConfig(
        multipart_threshold=part,
        multipart_chunksize=part,
        max_concurrency=spec.concurrency,
        preferred_transfer_client="classic",
    )


def _download_once(conn: _Conn, spec: S3Spec, key: str, size: int) -> float:
    sink = _Sink()
    start = time.perf_counter()
    conn.client.download_fileobj(spec.bucket, key, sink, Config=_transfer(spec))
    elapsed = time.perf_counter() - start
    if sink.received != size:
        raise MeasurementError(f"download of '{key}' returned {sink.received} of {size} bytes")
    return elapsed


def _downloads(conn: _Conn, spec: S3Spec, key: str, size: int) -> list[float]:
    """At least MIN_DOWNLOADS (or DOWNLOAD_TARGET_S worth) unless that would pass the budget."""
    seconds: list[float] = []
    start = time.monotonic()
    for _ in range(MAX_DOWNLOADS):
        seconds.append(_download_once(conn, spec, key, size))
        elapsed = time.monotonic() - start
        if elapsed + seconds[-1] > DOWNLOAD_BUDGET_S:
            break
        if len(seconds) >= MIN_DOWNLOADS and elapsed >= DOWNLOAD_TARGET_S:
            break
    return seconds


def _first_byte_once(conn: _Conn, spec: S3Spec, key: str, extra: dict[str, str]) -> float:
    start = time.perf_counter()
    body = conn.client.get_object(Bucket=spec.bucket, Key=key, **extra)["Body"]
    try:
        body.read(1)
        elapsed = time.perf_counter() - start
        body.read()  # drain so the connection goes back to the pool
    finally:
        body.close()
    return elapsed


def _first_bytes(conn: _Conn, spec: S3Spec, key: str, size: int) -> tuple[list[float], str]:
    """`samples` small ranged GETs on a warm connection, bounded by FIRST_BYTE_BUDGET_S."""
    extra = {"Range": f"bytes=0-{min(size, FIRST_BYTE_RANGE) - 1}"} if size > 0 else {}
    seconds: list[float] = []
    end = time.monotonic() + FIRST_BYTE_BUDGET_S
    for _ in range(spec.samples):
        seconds.append(_first_byte_once(conn, spec, key, extra))
        if time.monotonic() > end:
            break
    note = f"first byte: {len(seconds)} GETs of bytes 0-{FIRST_BYTE_RANGE - 1}, reused connection"
    if len(seconds) < spec.samples:
        note += f" (stopped at the {FIRST_BYTE_BUDGET_S:g} s bound, {spec.samples} asked)"
    return seconds, note


def _reads(conn: _Conn, spec: S3Spec, key: str, found: _Found) -> None:
    with _explained(conn, spec, "downloading the object"):
        found.download_s = _downloads(conn, spec, key, found.size)
    with _explained(conn, spec, "timing ranged GETs"):
        found.first_byte_s, note = _first_bytes(conn, spec, key, found.size)
    found.notes.append(note)


# --- the two modes -----------------------------------------------------------------------------


def _ensure_bucket(conn: _Conn, spec: S3Spec) -> bool:
    """Whether this run created the bucket (and so must delete it again)."""
    try:
        conn.client.head_bucket(Bucket=spec.bucket)
        return False
    except ClientError as exc:
        if _code(exc) not in ("NotFound", "NoSuchBucket") or not spec.create_bucket:
            raise
    extra: dict[str, Any] = {}
    if spec.region != "us-east-1":
        extra["CreateBucketConfiguration"] = {"LocationConstraint": spec.region}
    try:
        conn.client.create_bucket(Bucket=spec.bucket, **extra)
    except ClientError as exc:
        if _code(exc) == "BucketAlreadyOwnedByYou":  # created meanwhile by someone else
            return False
        raise
    return True


def _failure_code(exc: ClientError | BotoCoreError) -> str:
    return _code(exc) if isinstance(exc, ClientError) else type(exc).__name__


def _cleanup(conn: _Conn, spec: S3Spec, keys: list[str], created: bool) -> list[str]:
    """Delete every scratch object (and a bucket this run made); problems become notes."""
    problems: list[str] = []
    for key in keys:
        try:
            conn.client.delete_object(Bucket=spec.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            problems.append(
                f"could not delete the scratch object s3://{spec.bucket}/{key} "
                f"({_failure_code(exc)}): delete it by hand"
            )
    if created:
        try:
            conn.client.delete_bucket(Bucket=spec.bucket)
        except (ClientError, BotoCoreError) as exc:
            problems.append(
                f"could not delete the bucket {spec.bucket} ({_failure_code(exc)}): "
                "delete it by hand"
            )
    return problems


def _uploads(conn: _Conn, spec: S3Spec, size: int, keys: list[str]) -> list[float]:
    """Seconds of each of `spec.uploads` uploads, each to a fresh key, unless the next would
    pass the budget. A key is listed before its upload starts, so a failed one is deleted too."""
    seconds: list[float] = []
    start = time.monotonic()
    for _ in range(spec.uploads):
        keys.append(f"{SCRATCH_PREFIX}{uuid.uuid4()}")
        began = time.perf_counter()
        conn.client.upload_fileobj(
            _RandomSource(size), spec.bucket, keys[-1], Config=_transfer(spec)
        )
        seconds.append(time.perf_counter() - began)
        if time.monotonic() - start + seconds[-1] > UPLOAD_BUDGET_S:
            break
    return seconds


def _scratch(conn: _Conn, spec: S3Spec) -> _Found:
    found = _Found(size=int(spec.size or 0))
    keys: list[str] = []
    with _explained(conn, spec, "checking the bucket"):
        created = _ensure_bucket(conn, spec)
    try:
        with _explained(conn, spec, "uploading the scratch objects"):
            found.upload_s = _uploads(conn, spec, found.size, keys)
        _reads(conn, spec, keys[0], found)
    finally:
        found.notes += _cleanup(conn, spec, keys, created)
    made = " (bucket created for this run and deleted)" if created else ""
    objects = "object" if len(keys) == 1 else "objects"
    found.notes.insert(
        0, f"{len(keys)} scratch {objects} of {_human(found.size)}, deleted afterwards{made}"
    )
    return found


def _existing(conn: _Conn, spec: S3Spec) -> _Found:
    key = str(spec.key)
    with _explained(conn, spec, "checking the bucket"):
        conn.client.head_bucket(Bucket=spec.bucket)
    with _explained(conn, spec, "reading the object's size"):
        size = int(conn.client.head_object(Bucket=spec.bucket, Key=key)["ContentLength"])
    found = _Found(size=size, notes=[f"existing object of {_human(size)}: read only"])
    _reads(conn, spec, key, found)
    return found


# --- results -----------------------------------------------------------------------------------


def _human(nbytes: float) -> str:
    return format_quantity(nbytes, Dimension.BYTES)


def _upload_notes(spec: S3Spec, found: _Found) -> list[str]:
    part = int(spec.part_size)
    notes = []
    used = ChunksizeAdjuster().adjust_chunksize(part, found.size)
    if used != part:
        notes.append(f"upload parts raised to {_human(used)} (S3's part size limits)")
    done = len(found.upload_s)
    if done == 1:
        notes.append(
            "one upload: no spread to judge, so the upload interval is unbounded and its "
            "checks are inconclusive (set uploads: 2 or more)"
        )
    else:
        notes.append(
            f"upload: {done} uploads, each a fresh object; mean of per-upload throughput, "
            "t interval from the spread between uploads"
        )
    if done < spec.uploads:
        notes.append(f"uploads stopped at the {UPLOAD_BUDGET_S:g} s bound, {spec.uploads} asked")
    return notes


def _download_note(found: _Found) -> str:
    if len(found.download_s) == 1:
        return (
            "one download (a second would pass the "
            f"{DOWNLOAD_BUDGET_S:g} s bound): no spread to judge, so the download interval "
            "has no upper end"
        )
    return (
        f"download: {len(found.download_s)} downloads, total bytes / total time, "
        "interval from the spread between downloads"
    )


def _transfer_notes(spec: S3Spec, found: _Found, conn: _Conn) -> list[str]:
    notes = [
        f"endpoint {conn.where}; parts of {_human(int(spec.part_size))} (multipart above "
        f"that), concurrency {spec.concurrency}"
    ]
    if found.upload_s:
        notes += _upload_notes(spec, found)
    notes.append(_download_note(found))
    if conn.dummy:
        notes.append("no credentials configured: dummy keys sent to the loopback endpoint")
    return notes


def _rates(size: int, seconds: list[float]) -> list[float | None]:
    """Bytes per second of each transfer (None for one too fast for the clock)."""
    return [size / s if s > 0 else None for s in seconds]


def upload_throughput_interval(size: int, seconds: list[float], confidence: float) -> Interval:
    """Mean per-upload throughput with a t interval: uploads are separate, independent
    transfers of one size. One upload gives an unbounded interval: one sample has no spread.
    """
    rates = [r for r in _rates(size, seconds) if r is not None]
    mean = mean_interval(rates, confidence)
    low = max(mean.low, 0.0) if math.isfinite(mean.low) else mean.low  # never below 0 B/s
    return Interval(mean.value, low, mean.high, mean.confidence, mean.n, "per-upload-t")


def _measurements(spec: S3Spec, found: _Found, conn: _Conn, confidence: float) -> Measurements:
    out = Measurements()
    if found.upload_s:
        out.add(
            "s3.upload.throughput",
            upload_throughput_interval(found.size, found.upload_s, confidence),
        )
    sizes = [found.size] * len(found.download_s)
    out.add(
        "s3.download.throughput", chunk_throughput_interval(sizes, found.download_s, confidence)
    )
    out.add("s3.first_byte.p99", quantile_interval(found.first_byte_s, 0.99, confidence))
    out.notes = found.notes + _transfer_notes(spec, found, conn)
    out.series["s3"] = {
        "bytes": found.size,
        "upload_s": found.upload_s,
        "uploads": _rates(found.size, found.upload_s),
        "downloads": _rates(found.size, found.download_s),
        "first_byte_s": found.first_byte_s[:SERIES_MAX],
    }
    return out


def run_s3(spec: S3Spec, confidence: float, endpoint_url: str | None) -> Measurements:
    """Measure one bucket/object at `endpoint_url` (None: AWS itself); scratch objects never
    outlive the run."""
    conn = _connect(spec, endpoint_url)
    found = _existing(conn, spec) if spec.key is not None else _scratch(conn, spec)
    return _measurements(spec, found, conn, confidence)


def run_s3_workload(ctx: WorkloadContext) -> Measurements:
    """The runner's entry point: the endpoint comes from the config target, if one is named."""
    spec = ctx.assumption.s3
    assert spec is not None
    endpoint_url = None
    if spec.target is not None:
        try:
            endpoint_url = ctx.targets.get(spec.target).url
        except KeyError as exc:
            raise MeasurementError(str(exc.args[0])) from None
    return run_s3(spec, confidence=ctx.confidence, endpoint_url=endpoint_url)
