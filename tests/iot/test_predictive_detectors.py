"""The predictive scenario with the real detectors (`iot.detection`): a Theil–Sen trend on vibration.

Time is compressed: the simulated machine degrades to failure in 7 s, so the profile's window, buckets
and lead time are seconds instead of days; the rules are the production ones.
"""

from __future__ import annotations

import sqlalchemy as sa

from core.store.models import WorkOrder
from fieldops.wiring import System
from iot.detection_adapter import DetectionFactory
from iot.models import Alarm
from iot.mqtt import BrokerUrl
from tests.iot.conftest import WorkerFactory
from tests.iot.test_predictive import run_degradation
from tests.world import World

PROFILE = {
    "model": "chiller (compressed time)",
    "lead_time": "PT5S",
    "metrics": {
        "vibration": {
            "unit": "mm/s",
            "trend": {"op": "above", "limit": 7.1, "window": "PT4S", "points": 8, "min_points": 5},
        },
        "temperature": {"unit": "°C", "threshold": [{"op": "above", "limit": 80, "hysteresis": 2}]},
    },
    "fault_codes": {"FAIL": {"severity": "critical", "message": "machine stopped"}},
}


def test_real_detectors_raise_one_predictive_work_order_before_the_failure(
    system: System, world: World, embedded_url: BrokerUrl, ingest: WorkerFactory
) -> None:
    sim, failure = run_degradation(system, world, embedded_url, ingest, DetectionFactory(), PROFILE)
    with system.runtime.sessions() as s:
        wos = s.scalars(sa.select(WorkOrder).where(WorkOrder.source == "telemetry")).all()
        alarms = s.scalars(sa.select(Alarm).order_by(Alarm.id)).all()
    trend = [a for a in alarms if a.alarm_type == "trend:vibration"]
    assert len(trend) == 1 and trend[0].device_id == sim.report.degraded[0]
    assert [(w.kind, w.asset_id) for w in wos] == [("predictive", trend[0].asset_id)]
    assert wos[0].created_at.timestamp() < failure
    evidence = trend[0].evidence
    assert evidence["limit"] == 7.1 and evidence["time_to_limit_s"] <= 5 and evidence["values"]
    # The machine's own FAIL report is a critical alarm by the profile, covered by the open work order.
    assert {a.alarm_type for a in alarms} <= {"trend:vibration", "fault:FAIL"}
