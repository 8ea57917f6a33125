"""Where uploaded bytes live: a content-addressed store, so the same photo sent twice is kept once.

The local directory is the default; S3-compatible object storage is a setting (FIELDOPS_BLOB_URL).
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit


class BlobStore(Protocol):
    def put(self, data: bytes) -> str:
        """Store `data`; return its key (the SHA-256 of the bytes). The same bytes again: a no-op."""
        ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError("not a blob key")
        return self.root / key[:2] / key[2:4] / key

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        if path.exists():
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write aside, then rename: a crash never leaves a half file under a valid key.
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        Path(tmp.name).replace(path)
        return key

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).exists()


class S3BlobStore:
    """S3-compatible object storage (AWS, MinIO, Ceph, OSS…): `s3://bucket/prefix?endpoint=…&region=…`.

    Credentials come the standard way (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or the instance role).
    """

    def __init__(self, url: str) -> None:
        import boto3

        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"not an s3://bucket/prefix URL: {url!r}")
        query = dict(parse_qsl(parts.query))
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        self.client: Any = boto3.client(
            "s3", endpoint_url=query.get("endpoint"), region_name=query.get("region", "us-east-1")
        )

    def _key(self, key: str) -> str:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError("not a blob key")
        name = f"{key[:2]}/{key[2:4]}/{key}"
        return f"{self.prefix}/{name}" if self.prefix else name

    def put(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        if not self.exists(key):
            # The store checks the bytes against their hash on arrival: a torn upload is refused.
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._key(key),
                Body=data,
                ChecksumSHA256=base64.b64encode(bytes.fromhex(key)).decode(),
            )
        return key

    def get(self, key: str) -> bytes:
        data: bytes = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        return data

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True


def blob_store_for(url: str, default_root: Path) -> BlobStore:
    """The store a setting names: empty → a local directory; s3://… → object storage."""
    if not url:
        return LocalBlobStore(default_root)
    if url.startswith("s3://"):
        return S3BlobStore(url)
    if url.startswith("file://"):
        return LocalBlobStore(Path(urlsplit(url).path))
    raise ValueError(f"FIELDOPS_BLOB_URL must be empty, file:///dir or s3://bucket/prefix, not {url!r}")
