"""`fieldops iot …`, `fieldops ingest` and `fieldops simulate` (filled in by the IoT work)."""

import click


@click.group()
def iot() -> None:
    """Devices, broker access lists and telemetry."""
