"""Example detection profiles, as the JSON documents an operator would store per asset model.

The demo loads them (`decode_profile(EXAMPLE_PROFILES["chiller"])`). Limits are plausible, not
authoritative: vibration limits follow the ISO 10816 zone boundaries for the machine class, temperatures
the usual manufacturer trip points. Real sites tune them per model.
"""

from __future__ import annotations

from typing import Any

CHILLER: dict[str, Any] = {
    "model": "chiller",
    # A compressor overhaul needs parts ordered and a two-person crew: three days' warning.
    "lead_time": "P3D",
    "offline_grace": "PT15M",
    "metrics": {
        "discharge_temp_c": {
            "unit": "°C",
            "threshold": [
                {"op": "above", "limit": 105, "hysteresis": 3, "min_duration": "PT5M", "severity": "major"},
                {
                    "op": "above",
                    "limit": 115,
                    "hysteresis": 3,
                    "min_duration": "PT1M",
                    "severity": "critical",
                    "alarm_type": "threshold:discharge_temp_c:critical",
                },
            ],
            "anomaly": {"window": 121, "warmup": 60, "z": 6, "clear_z": 3, "min_scale": 0.2},
            "trend": {"op": "above", "limit": 105, "window": "P3D", "points": 72},
        },
        "vibration_mm_s": {
            "unit": "mm/s",
            "threshold": [
                {"op": "above", "limit": 7.1, "hysteresis": 0.5, "min_duration": "PT10M", "severity": "major"}
            ],
            "anomaly": {"window": 121, "warmup": 60, "z": 6, "clear_z": 3, "min_scale": 0.05},
            "trend": {"op": "above", "limit": 7.1, "window": "P3D", "points": 72},
        },
        "current_a": {
            "unit": "A",
            "threshold": [
                {"op": "above", "limit": 180, "hysteresis": 10, "min_duration": "PT2M", "severity": "major"}
            ],
            # A compressor's current jumps on a stuck valve or a failing winding; load changes are slower.
            "rate_of_change": {"max_per_minute": 20, "window": "PT5M", "severity": "minor"},
            "anomaly": {
                "window": 121,
                "warmup": 60,
                "z": 7,
                "clear_z": 3,
                "min_scale": 1.0,
                "severity": "minor",
            },
        },
    },
    "fault_codes": {
        "E42": {"severity": "critical", "message": "compressor overcurrent"},
        "E17": {"severity": "major", "message": "low refrigerant pressure"},
        "E05": {"severity": "minor", "message": "temperature sensor failure"},
    },
}

LIFT: dict[str, Any] = {
    "model": "lift",
    "lead_time": "P2D",
    # Lifts are safety equipment: notice a silent controller sooner.
    "offline_grace": "PT10M",
    "metrics": {
        # A cumulative counter. The trend predicts when the door operator reaches its rated cycles (a
        # service interval), and a sustained high cycling rate means a door re-opening in a loop.
        "door_cycles": {
            "unit": "cycles",
            "rate_of_change": {
                "max_per_minute": 6,
                "window": "PT10M",
                "direction": "up",
                "min_duration": "PT10M",
                "severity": "minor",
            },
            "trend": {
                "op": "above",
                "limit": 1000000,
                "window": "P7D",
                "points": 56,
                "lead_time": "P14D",
                "severity": "warning",
            },
        },
        "motor_temp_c": {
            "unit": "°C",
            "threshold": [
                {"op": "above", "limit": 90, "hysteresis": 5, "min_duration": "PT3M", "severity": "major"}
            ],
            "anomaly": {"window": 121, "warmup": 60, "z": 6, "clear_z": 3, "min_scale": 0.5},
            # Whole days, so the daily load cycle averages out instead of reading as a trend.
            "trend": {"op": "above", "limit": 90, "window": "P2D", "points": 48},
        },
    },
    "fault_codes": {
        "DOOR_OBSTRUCTED": {"alarm_type": "fault:door", "severity": "minor", "message": "door obstructed"},
        "OVERSPEED": {"severity": "critical", "message": "overspeed governor tripped"},
        "LEVELING": {"severity": "major", "message": "car not levelling at floor"},
    },
}

PUMP: dict[str, Any] = {
    "model": "pump",
    "lead_time": "P2D",
    "offline_grace": "PT15M",
    "metrics": {
        "discharge_pressure_bar": {
            "unit": "bar",
            # Pressure collapsing means lost prime or a burst line: raise fast, clear only once recovered.
            "threshold": [
                {
                    "op": "below",
                    "limit": 2.0,
                    "hysteresis": 0.3,
                    "min_duration": "PT2M",
                    "clear_duration": "PT5M",
                    "severity": "critical",
                }
            ],
            "rate_of_change": {
                "max_per_minute": 0.5,
                "window": "PT5M",
                "direction": "down",
                "severity": "major",
            },
            "anomaly": {"window": 121, "warmup": 60, "z": 6, "clear_z": 3, "min_scale": 0.02},
        },
        "bearing_temp_c": {
            "unit": "°C",
            "threshold": [
                {"op": "above", "limit": 85, "hysteresis": 5, "min_duration": "PT5M", "severity": "major"}
            ],
            "trend": {"op": "above", "limit": 85, "window": "P2D", "points": 48},
        },
        "vibration_mm_s": {
            "unit": "mm/s",
            "threshold": [
                {"op": "above", "limit": 4.5, "hysteresis": 0.4, "min_duration": "PT10M", "severity": "major"}
            ],
            "anomaly": {"window": 121, "warmup": 60, "z": 6, "clear_z": 3, "min_scale": 0.05},
            "trend": {"op": "above", "limit": 4.5, "window": "P2D", "points": 48},
        },
        "flow_m3h": {
            "unit": "m³/h",
            "threshold": [
                {"op": "below", "limit": 5, "hysteresis": 1, "min_duration": "PT10M", "severity": "minor"}
            ],
        },
    },
    "fault_codes": {
        "DRY_RUN": {"severity": "critical", "message": "dry running"},
        "SEAL_LEAK": {"severity": "major", "message": "mechanical seal leak"},
        "VFD_FAULT": {"severity": "major", "message": "drive fault"},
    },
}

# `iot.simulator`'s devices on its compressed clock: vibration climbs from 2 to 8 mm/s in about a minute
# of one message per second, so windows and lead time are seconds here.
SIMULATOR: dict[str, Any] = {
    "model": "simulated chiller",
    "lead_time": "PT15S",
    "offline_grace": "PT30S",
    "metrics": {
        # Trend only: the degrading device must yield exactly one predictive alarm (a threshold near
        # the failure level would add a second alarm type for the same wear).
        "vibration": {
            "unit": "mm/s",
            "trend": {"op": "above", "limit": 8.0, "window": "PT20S", "points": 10, "min_points": 7},
        },
        "temperature": {
            "unit": "°C",
            "anomaly": {"window": 121, "warmup": 60, "z": 8, "clear_z": 4, "min_scale": 0.2},
        },
        "pressure": {
            "unit": "bar",
            "threshold": [{"op": "below", "limit": 4.0, "hysteresis": 0.3, "min_duration": "PT3S"}],
        },
    },
    "fault_codes": {
        "E42": {"severity": "critical", "message": "compressor overcurrent"},
        "FAIL": {"severity": "critical", "message": "stopped: vibration beyond the failure level"},
    },
}

EXAMPLE_PROFILES: dict[str, dict[str, Any]] = {
    "chiller": CHILLER,
    "lift": LIFT,
    "pump": PUMP,
    "simulator": SIMULATOR,
}
