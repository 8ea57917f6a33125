"""The OSRM `/table` adapter against a tiny real HTTP server speaking that API (no mock)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from dispatch.optimizer import Engineer, HaversineTravel, Job, Location, TimeWindow, solve, validate_plan
from dispatch.planning.config import PlanningConfig
from dispatch.planning.osrm import UNREACHABLE_SECONDS, OsrmError, OsrmTravel
from tests.dispatch.instances import at, quick

ROADS = HaversineTravel(circuity=1.4, speed_kmh=25)
ISLAND = Location(30.0, 122.9)  # no road reaches it: OSRM answers null


class FakeOsrm(BaseHTTPRequestHandler):
    requests: list[int] = []  # coordinates per request

    def do_GET(self) -> None:
        url = urlsplit(self.path)  # not urlparse: it would take ";" for path parameters
        parts = url.path.split("/")
        if parts[1:4] != ["table", "v1", "driving"]:
            self._send(400, {"code": "InvalidUrl", "message": url.path})
            return
        coords = [tuple(map(float, c.split(","))) for c in parts[4].split(";")]
        FakeOsrm.requests.append(len(coords))
        if len(coords) > 4:
            self._send(400, {"code": "TooBig", "message": "Too many table coordinates"})
            return
        q = parse_qs(url.query)
        src = [int(i) for i in q["sources"][0].split(";")]
        dst = [int(i) for i in q["destinations"][0].split(";")]
        points = [Location(lat, lon) for lon, lat in coords]
        m = ROADS.matrix(points)

        def cell(table: np.ndarray, i: int, j: int) -> float | None:
            if (points[i] == ISLAND) != (points[j] == ISLAND):  # one side on the island
                return None
            return float(table[i, j]) + 0.4  # OSRM answers in fractional seconds/metres

        body = {
            "code": "Ok",
            "durations": [[cell(m.durations, i, j) for j in dst] for i in src],
            "distances": [[cell(m.distances, i, j) for j in dst] for i in src],
        }
        self._send(200, body)

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def osrm() -> Iterator[str]:
    FakeOsrm.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOsrm)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


POINTS = [Location(31.2 + 0.01 * k, 121.4 + 0.013 * k) for k in range(7)]


def test_a_large_table_is_fetched_in_blocks_the_server_accepts(osrm: str) -> None:
    m = OsrmTravel(osrm, max_table_size=4).matrix(POINTS)
    expected = ROADS.matrix(POINTS)
    assert np.array_equal(m.durations, expected.durations)
    assert np.array_equal(m.distances, expected.distances)
    assert FakeOsrm.requests and max(FakeOsrm.requests) <= 4
    assert len(FakeOsrm.requests) == 16  # 4 source blocks x 4 destination blocks of <= 2


def test_unreachable_pairs_become_prohibitive_not_free(osrm: str) -> None:
    m = OsrmTravel(osrm, max_table_size=4).matrix([POINTS[0], ISLAND, POINTS[1]])
    assert m.durations[0, 1] == UNREACHABLE_SECONDS
    assert m.durations[1, 1] == 0
    assert m.durations[0, 2] > 0


def test_a_server_error_is_reported(osrm: str) -> None:
    with pytest.raises(OsrmError, match="TooBig"):
        OsrmTravel(osrm, max_table_size=10).matrix(POINTS)
    with pytest.raises(OsrmError, match="InvalidUrl"):
        OsrmTravel(osrm, profile="walking").matrix(POINTS[:2])


def test_planning_fills_the_matrix_from_osrm_before_the_solver_runs(osrm: str) -> None:
    engineer = Engineer(id="E", skills={}, shift=TimeWindow(at(0), at(480)), start=POINTS[0], end=POINTS[0])
    jobs = [Job(id=f"J{k}", location=p, duration=timedelta(minutes=20)) for k, p in enumerate(POINTS[1:])]
    config = PlanningConfig(osrm_url=osrm, osrm_max_table_size=4)
    travel = config.travel_for([POINTS[0], *POINTS[1:], POINTS[0]])
    calls = len(FakeOsrm.requests)
    plan = solve([engineer], jobs, travel, quick())
    assert len(FakeOsrm.requests) == calls  # the solver itself does no I/O
    assert validate_plan(plan, [engineer], jobs, travel, quick()) == []
    assert validate_plan(plan, [engineer], jobs, ROADS, quick()) == []
    assert not plan.unassigned
