"""The s3 workload against a real moto server subprocess on loopback."""

from __future__ import annotations

import http.client
import json
import math
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from infratest import load_config
from infratest.measurements import MeasurementError, Measurements
from infratest.spec.resource_sections import S3Spec
from infratest.verdict import Verdict, decide
from infratest.workloads.s3 import SCRATCH_PREFIX, run_s3
from tests.support.assumptions import run_assumption
from tests.support.servers import RunningServer, free_port, start_server

pytestmark = pytest.mark.usefixtures("no_leftover_processes")

CONF = 0.95
METRICS = ("s3.upload.throughput", "s3.download.throughput", "s3.first_byte.p99")
CREDENTIAL_VARS = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)


@pytest.fixture(scope="module")
def moto() -> Iterator[RunningServer]:
    """One real moto server for the module; stopped and reaped at the end."""
    with start_server([], module="moto.server", ready_path=None) as server:
        yield server


@pytest.fixture(autouse=True)
def no_configured_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hermetic: no env keys, no ~/.aws files, no metadata service lookups."""
    for name in CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def s3(moto: RunningServer) -> BaseClient:
    """A plain client to arrange and inspect the server's state (moto accepts any keys)."""
    return boto3.client(
        "s3",
        endpoint_url=moto.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def _bucket() -> str:
    return f"infratest-{uuid.uuid4().hex[:12]}"


def _scratch_left(s3: BaseClient, bucket: str) -> int:
    return s3.list_objects_v2(Bucket=bucket, Prefix=SCRATCH_PREFIX)["KeyCount"]


def _bucket_exists(s3: BaseClient, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        return False
    return True


def _scratch_spec(bucket: str, create: bool = True, uploads: int = 3) -> S3Spec:
    return S3Spec(
        bucket=bucket,
        size="4MB",
        part_size="1MB",
        concurrency=4,
        samples=30,
        create_bucket=create,
        uploads=uploads,
    )


def _check_metrics(m: Measurements, names: tuple[str, ...]) -> None:
    assert sorted(m.values) == sorted(names)
    for name in names:
        assert m.values[name].value > 0, name


def test_scratch_mode_creates_measures_and_removes_its_bucket(
    moto: RunningServer, s3: BaseClient
) -> None:
    bucket = _bucket()
    m = run_s3(_scratch_spec(bucket), CONF, moto.url)
    _check_metrics(m, METRICS)
    upload = m.values["s3.upload.throughput"]
    assert upload.method == "per-upload-t" and upload.n == 3
    assert 0 <= upload.low <= upload.value <= upload.high < math.inf
    download = m.values["s3.download.throughput"]
    assert download.n >= 3 and download.low <= download.value <= download.high
    assert m.values["s3.first_byte.p99"].n == 30
    assert not any(iv.method == "exact" for iv in m.values.values())
    series = m.series["s3"]
    assert len(series["upload_s"]) == 3 and all(s > 0 for s in series["upload_s"])
    assert upload.value == pytest.approx(sum(series["uploads"]) / 3)
    assert len(series["downloads"]) == download.n
    assert len(series["first_byte_s"]) == 30
    assert m.notes[0].startswith("3 scratch objects of 4")
    assert any(note.startswith("upload: 3 uploads, each a fresh object") for note in m.notes)
    assert any("dummy keys" in note for note in m.notes)
    assert not _bucket_exists(s3, bucket)


def test_scratch_mode_in_an_existing_bucket_leaves_no_scratch_objects(
    moto: RunningServer, s3: BaseClient
) -> None:
    bucket = _bucket()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="keep.txt", Body=b"kept")
    m = run_s3(_scratch_spec(bucket, create=False, uploads=4), CONF, moto.url)
    _check_metrics(m, METRICS)
    assert len(m.series["s3"]["upload_s"]) == 4
    assert _scratch_left(s3, bucket) == 0
    assert s3.head_object(Bucket=bucket, Key="keep.txt")["ContentLength"] == 4


def test_existing_object_mode_reads_only(moto: RunningServer, s3: BaseClient) -> None:
    bucket = _bucket()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="models/m.bin", Body=b"\x01" * 3_000_000)
    spec = S3Spec(bucket=bucket, key="models/m.bin", part_size="1MB", samples=20)
    m = run_s3(spec, CONF, moto.url)
    _check_metrics(m, ("s3.download.throughput", "s3.first_byte.p99"))
    assert m.series["s3"]["upload_s"] == [] and m.series["s3"]["uploads"] == []
    assert m.series["s3"]["bytes"] == 3_000_000
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["models/m.bin"]


def test_one_upload_has_an_unbounded_interval_and_says_why(
    moto: RunningServer, s3: BaseClient
) -> None:
    bucket = _bucket()
    m = run_s3(_scratch_spec(bucket, uploads=1), CONF, moto.url)
    upload = m.values["s3.upload.throughput"]
    assert upload.value > 0 and upload.n == 1 and upload.method == "per-upload-t"
    assert upload.low == -math.inf and upload.high == math.inf
    assert decide(upload, ">", 1.0) == Verdict.INCONCLUSIVE
    assert decide(upload, "<", 1e15) == Verdict.INCONCLUSIVE
    assert any("one upload" in note and "uploads: 2 or more" in note for note in m.notes)
    assert not _bucket_exists(s3, bucket)


class _FailingProxy(ThreadingHTTPServer):
    """A loopback proxy to moto that refuses the `fail_at`-th scratch upload with
    AccessDenied (the PUT itself, or every part of a multipart one), so a run fails half-way
    through its uploads."""

    def __init__(self, upstream: str, fail_at: int) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.upstream = upstream.removeprefix("http://")
        self.fail_at, self.uploads_started = fail_at, 0
        self.refused_key: str | None = None
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(BaseHTTPRequestHandler):
    server: _FailingProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet in test output
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() != "chunked":
            return self.rfile.read(int(self.headers.get("Content-Length", 0)))
        raw = b""
        while True:  # pass the chunked body on as it came, trailers included
            line = self.rfile.readline()
            raw += line
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                break
            raw += self.rfile.read(size + 2)
        while (line := self.rfile.readline()) not in (b"\r\n", b""):
            raw += line
        return raw + b"\r\n"

    def _refused(self) -> bool:
        key, _, query = self.path.partition("?")
        if SCRATCH_PREFIX not in key:
            return False
        single = self.command == "PUT" and "uploadId=" not in query
        multipart = self.command == "POST" and query.startswith("uploads")
        with self.server.lock:
            if single or multipart:
                self.server.uploads_started += 1
                if self.server.uploads_started == self.server.fail_at:
                    self.server.refused_key = key
                    return single  # a multipart upload starts, then its parts are refused
            return "partNumber=" in query and key == self.server.refused_key

    def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        length = dict((k.lower(), v) for k, v in headers).get("content-length")
        self.send_header("Content-Length", length if self.command == "HEAD" else str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _forward(self) -> None:
        body = self._body()
        if self._refused():
            error = b"<Error><Code>AccessDenied</Code><Message>refused</Message></Error>"
            self._reply(403, [("Content-Type", "application/xml")], error)
            return
        upstream = http.client.HTTPConnection(self.server.upstream, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
            upstream.request(self.command, self.path, body=body or None, headers=headers)
            answer = upstream.getresponse()
            self._reply(answer.status, answer.getheaders(), answer.read())
        finally:
            upstream.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward


@pytest.fixture
def failing_proxy(moto: RunningServer) -> Iterator[_FailingProxy]:
    proxy = _FailingProxy(moto.url, fail_at=2)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize("part_size", ["8MB", "1MB"], ids=["single-put", "multipart"])
def test_a_failed_upload_still_deletes_every_scratch_object(
    failing_proxy: _FailingProxy, s3: BaseClient, part_size: str
) -> None:
    bucket = _bucket()
    s3.create_bucket(Bucket=bucket)
    spec = S3Spec(bucket=bucket, size="2MB", part_size=part_size, uploads=3, samples=5)
    with pytest.raises(MeasurementError, match="AccessDenied") as err:
        run_s3(spec, CONF, failing_proxy.url)
    assert "uploading the scratch objects" in str(err.value)
    assert failing_proxy.uploads_started == 2  # the first upload landed, the second was refused
    assert _scratch_left(s3, bucket) == 0
    uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert uploads == []


def test_missing_bucket_names_the_bucket_and_the_fix(moto: RunningServer) -> None:
    bucket = _bucket()
    with pytest.raises(MeasurementError) as err:
        run_s3(_scratch_spec(bucket, create=False), CONF, moto.url)
    text = str(err.value)
    assert "NoSuchBucket" in text and bucket in text and moto.url in text
    assert "create_bucket: true" in text


def test_missing_key_is_no_such_key(moto: RunningServer, s3: BaseClient) -> None:
    bucket = _bucket()
    s3.create_bucket(Bucket=bucket)
    with pytest.raises(MeasurementError, match=r"'absent\.bin'.*NoSuchKey"):
        run_s3(S3Spec(bucket=bucket, key="absent.bin"), CONF, moto.url)


def test_unreachable_endpoint_fails_fast() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # bound and released: nothing listens
    start = time.monotonic()
    with pytest.raises(MeasurementError, match="cannot reach the S3 endpoint") as err:
        run_s3(_scratch_spec(_bucket()), CONF, endpoint)
    assert time.monotonic() - start < 10
    assert endpoint in str(err.value)


def test_no_dummy_credentials_for_a_non_loopback_endpoint() -> None:
    # TEST-NET-1 address: signing fails for want of credentials before any packet is sent
    with pytest.raises(MeasurementError, match="no usable AWS credentials"):
        run_s3(S3Spec(bucket="models", key="m.bin"), CONF, "http://192.0.2.1:9000")


def _texts(m: Measurements) -> str:
    values = {k: asdict(v) for k, v in m.values.items()}
    return json.dumps([values, m.series, m.notes, m.error, m.untrusted], default=str)


def test_secrets_never_appear_in_results_or_errors(
    moto: RunningServer, s3: BaseClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret, token = f"secret-{uuid.uuid4().hex}", f"token-{uuid.uuid4().hex}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAINFRATESTEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    bucket = _bucket()
    m = run_s3(_scratch_spec(bucket), CONF, moto.url)
    assert not any("dummy keys" in note for note in m.notes)  # the configured keys were used
    seen = [_texts(m)]
    failing = [
        (S3Spec(bucket=_bucket(), key="k"), moto.url),
        (S3Spec(bucket=bucket, size="1kB", create_bucket=False), moto.url),
        (S3Spec(bucket="models", key="k"), f"http://127.0.0.1:{free_port()}"),
    ]
    for spec, endpoint in failing:
        with pytest.raises(MeasurementError) as err:
            run_s3(spec, CONF, endpoint)
        seen.append(str(err.value))
    for text in seen:
        assert secret not in text and token not in text


def test_through_the_runner_with_a_managed_moto_target(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(
        textwrap.dedent("""\
        targets:
          store:
            url: http://127.0.0.1:{port}
            launch: ["{python}", -m, moto.server, -H, 127.0.0.1, -p, "{port}"]
            ready_timeout: 20s
        """)
    )
    config = load_config(tmp_path / "c.yaml")
    # samples: 300, since a p99 upper bound at 95% needs at least 299
    result = run_assumption(
        tmp_path,
        config,
        """\
        s3: {target: store, bucket: models, size: 2MB, samples: 300, create_bucket: true}
        expect: {s3.download.throughput: "> 1MB/s", s3.first_byte.p99: "< 30s"}
    """,
        header="scenario: store",
    )
    assert result.measurements.error is None, result.measurements.error
    assert result.outcome.verdict == Verdict.PASS, result.outcome.reason
