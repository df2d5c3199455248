"""Evidence bundle parts on real files: the manifest and its verification, lineage digests of
a file and a folder, the version fetch against a loopback server, and redaction."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infratest.evidence.bundle import BundleError, BundleParts, Input, Staging, write_bundle
from infratest.evidence.lineage import MAX_VERSION_BYTES, artifact_digest, fetch_version
from infratest.evidence.manifest import ManifestError, parse, render
from infratest.evidence.redact import redact, secret_values
from infratest.evidence.verify import verify

DOC = {"assumptions": [], "summary": {}, "config": "c.yaml", "complete": True}


def _bundle(tmp_path: Path, **extra: object) -> Path:
    scenario = tmp_path / "src" / "scenarios" / "a.yaml"
    scenario.parent.mkdir(parents=True)
    scenario.write_bytes(b"assumptions: []  # ${TOKEN}\n\xff")
    parts = BundleParts(
        document={**DOC, **extra},
        junit=None,
        inputs=[Input(scenario, "scenario")],
        environment={"python": "3"},
        lineage={"targets": {}},
        secrets={"s3cr3t-token": "${TOKEN}"},
    )
    return write_bundle(Staging(tmp_path / "out" / "bundle"), parts, tmp_path / "src")


def test_a_bundle_verifies_and_its_copies_are_byte_exact(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, reason="sent s3cr3t-token")
    result = verify(bundle)
    assert result.ok and result.checked == 7, result.lines()
    assert (bundle / "files/scenarios/a.yaml").read_bytes().endswith(b"${TOKEN}\n\xff")
    assert "s3cr3t-token" not in (bundle / "results.json").read_text()
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["bundle"]  # no staging left


def test_one_changed_byte_a_missing_and_an_extra_file_are_each_named(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    copy = bundle / "files/scenarios/a.yaml"
    data = bytearray(copy.read_bytes())
    data[0] ^= 1
    copy.write_bytes(bytes(data))
    (bundle / "summary.md").unlink()
    (bundle / "files" / "added.txt").write_text("x")
    result = verify(bundle)
    assert not result.ok
    assert result.changed == ["files/scenarios/a.yaml"]
    assert result.missing == ["summary.md"]
    assert result.extra == ["files/added.txt"]


def test_a_bad_manifest_line_is_named_and_paths_may_not_leave(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"SHA256SUMS:2: not"):
        parse(f"{'0' * 64}  a\nnonsense\n")
    with pytest.raises(ManifestError, match="leaves the bundle"):
        parse(f"{'0' * 64}  ../etc/passwd\n")
    assert "no SHA256SUMS" in (verify(tmp_path).problem or "")


def test_only_an_earlier_bundle_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    with pytest.raises(BundleError, match="not an evidence bundle"):
        Staging(tmp_path / "mine")
    first = _bundle(tmp_path)
    (first / "results.json").write_text("old")
    second = write_bundle(Staging(first), BundleParts(DOC, None, [], {}, {"targets": {}}), tmp_path)
    assert verify(second).ok and "old" not in (second / "results.json").read_text()


names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1).filter(
    lambda name: ".." not in name and not name.startswith("/")
)


@given(st.dictionaries(names, st.binary(min_size=32, max_size=32).map(lambda b: b.hex())))
def test_the_manifest_reads_back_what_it_wrote(digests: dict[str, str]) -> None:
    entries = parse(render(digests))
    assert {e.name: e.sha256 for e in entries} == digests


def test_lineage_of_a_file_and_of_a_folder(tmp_path: Path) -> None:
    model = tmp_path / "model.bin"
    model.write_bytes(b"weights")
    single = artifact_digest(model, "model.bin")
    assert single["kind"] == "file" and single["size"] == 7
    assert single["sha256"] == hashlib.sha256(b"weights").hexdigest()
    folder = tmp_path / "m"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "b.bin").write_bytes(b"b")
    (folder / "a.json").write_bytes(b"a")
    many = artifact_digest(folder, "m")
    assert [f["path"] for f in many["files"]] == ["a.json", "sub/b.bin"]
    listing = "".join(
        f"{hashlib.sha256(x).hexdigest()}  {n}\n"
        for x, n in [(b"a", "a.json"), (b"b", "sub/b.bin")]
    )
    assert many["sha256"] == hashlib.sha256(listing.encode()).hexdigest()
    assert "cannot read" in artifact_digest(tmp_path / "gone", "gone")["error"]


@pytest.fixture
def version_server() -> Iterator[str]:
    bodies = {"/json": b'{"model": "m-7"}', "/text": b"v" * (MAX_VERSION_BYTES + 10)}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = bodies.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_version_is_json_or_truncated_text_and_errors_are_recorded(version_server: str) -> None:
    allow = ("127.0.0.1",)
    assert fetch_version(version_server, "/json", allow)["json"] == {"model": "m-7"}
    text = fetch_version(version_server, "/text", allow)
    assert text["truncated"] is True and len(text["text"]) == MAX_VERSION_BYTES
    assert fetch_version(version_server, "/nope", allow)["error"] == "HTTP 404"
    assert "allow.hosts" in fetch_version("http://10.9.9.9", "/v", allow)["error"]
    port = version_server.rsplit(":", 1)[1]
    assert "error" in fetch_version(
        f"http://127.0.0.1:{port}", "http://localhost:1/v", ("localhost",)
    )


def test_referenced_values_are_redacted_in_every_written_form() -> None:
    secrets = secret_values(
        ["a: ${TOKEN}", "b: $${NOT_A_REF}", "c: ${SHORT}"],
        {"TOKEN": 'to"k<en', "SHORT": "1", "NOT_A_REF": "zzzzzz"},
    )
    assert secrets == {'to"k<en': "${TOKEN}"}
    text = 'raw to"k<en, json ' + json.dumps('to"k<en') + ", html to&quot;k&lt;en"
    assert "k<en" not in redact(text, secrets) and "k&lt;en" not in redact(text, secrets)
    assert redact(text, secrets).count("${TOKEN}") == 3
