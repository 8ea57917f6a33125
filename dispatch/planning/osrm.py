"""Travel times from an OSRM-compatible `/table` service: I/O at the edge, before the optimizer runs.

OSRM limits how many coordinates one table request may carry (`--max-table-size`, 100 by
default), so large matrices are fetched block by block: each request carries one block of
sources and one of destinations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

from dispatch.optimizer.model import Location
from dispatch.optimizer.travel import TravelMatrix

# A pair the road network cannot connect gets this (7 days): large enough that no plan uses it,
# small enough that sums of them stay far from int64 overflow.
UNREACHABLE_SECONDS = 7 * 24 * 3600
UNREACHABLE_METRES = 10_000_000


class OsrmError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class OsrmTravel:
    base_url: str  # e.g. "http://osrm:5000"
    profile: str = "driving"
    max_table_size: int = 100  # coordinates per request, as configured on the server
    timeout_s: float = 30.0

    def matrix(self, points: Sequence[Location]) -> TravelMatrix:
        n = len(points)
        durations = np.zeros((n, n), dtype=np.int64)
        distances = np.zeros((n, n), dtype=np.int64)
        block = max(1, self.max_table_size // 2)
        with httpx.Client(base_url=self.base_url, timeout=self.timeout_s) as client:
            for src0 in range(0, n, block):
                src = range(src0, min(n, src0 + block))
                for dst0 in range(0, n, block):
                    dst = range(dst0, min(n, dst0 + block))
                    dur, dist = self._table(client, points, src, dst)
                    durations[src0 : src.stop, dst0 : dst.stop] = dur
                    distances[src0 : src.stop, dst0 : dst.stop] = dist
        np.fill_diagonal(durations, 0)
        np.fill_diagonal(distances, 0)
        return TravelMatrix(durations=durations, distances=distances)

    def _table(
        self, client: httpx.Client, points: Sequence[Location], src: range, dst: range
    ) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.int64]]]:
        # The same block on both sides is sent once; otherwise sources then destinations.
        same = src == dst
        coords = [points[i] for i in src] if same else [points[i] for i in (*src, *dst)]
        path = ";".join(f"{p.lon:.6f},{p.lat:.6f}" for p in coords)
        src_idx = ";".join(str(i) for i in range(len(src)))
        dst_off = 0 if same else len(src)
        dst_idx = ";".join(str(dst_off + i) for i in range(len(dst)))
        # The query is written out rather than passed as params: OSRM expects literal ';' and ','.
        resp = client.get(
            f"/table/v1/{self.profile}/{path}?sources={src_idx}&destinations={dst_idx}"
            "&annotations=duration,distance"
        )
        if resp.status_code != 200:
            raise OsrmError(f"OSRM table request failed: HTTP {resp.status_code}: {resp.text[:200]}")
        body = resp.json()
        if body.get("code") != "Ok":
            raise OsrmError(f"OSRM table error: {body.get('code')}: {body.get('message', '')}")
        return (
            _as_int(body["durations"], UNREACHABLE_SECONDS, (len(src), len(dst))),
            _as_int(body["distances"], UNREACHABLE_METRES, (len(src), len(dst))),
        )


def _as_int(
    rows: list[list[float | None]], missing: int, shape: tuple[int, int]
) -> np.ndarray[Any, np.dtype[np.int64]]:
    arr = np.array([[missing if v is None else v for v in row] for row in rows], dtype=np.float64)
    if arr.shape != shape:
        raise OsrmError(f"OSRM table has shape {arr.shape}, expected {shape}")
    return np.rint(arr).astype(np.int64)
