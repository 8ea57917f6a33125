"""ORM models of devices, telemetry, alarms and the dead-letter store (filled in by the IoT work)."""
