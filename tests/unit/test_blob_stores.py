"""Both blob stores keep bytes under their SHA-256, once: the local directory and S3-compatible storage
(against a real S3 protocol server on localhost, moto's standalone server)."""

from __future__ import annotations

import contextlib
import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldwork.storage import BlobStore, LocalBlobStore, S3BlobStore, blob_store_for


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"s3://photos/site-media?endpoint=http://127.0.0.1:{port}&region=eu-central-1"
    finally:
        server.stop()


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    s3 = S3BlobStore(request.getfixturevalue("s3_url"))
    # The bucket may be there from an earlier test against the same server.
    with contextlib.suppress(s3.client.exceptions.BucketAlreadyOwnedByYou):
        s3.client.create_bucket(
            Bucket="photos", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
        )
    return s3


def test_bytes_are_kept_once_under_their_hash(store: BlobStore) -> None:
    data = b"\xff\xd8\xff" + bytes(range(256)) * 100
    key = store.put(data)
    assert key == hashlib.sha256(data).hexdigest()
    assert store.exists(key) and store.get(key) == data
    assert store.put(data) == key
    assert not store.exists(hashlib.sha256(b"other").hexdigest())


def test_keys_that_are_not_hashes_are_refused(store: BlobStore) -> None:
    with pytest.raises(ValueError, match="not a blob key"):
        store.get("../../etc/passwd")


def test_the_setting_picks_the_store(tmp_path: Path) -> None:
    assert isinstance(blob_store_for("", tmp_path), LocalBlobStore)
    assert isinstance(blob_store_for(f"file://{tmp_path}/x", tmp_path), LocalBlobStore)
    with pytest.raises(ValueError, match="FIELDOPS_BLOB_URL"):
        blob_store_for("ftp://nope", tmp_path)
