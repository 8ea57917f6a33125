"""Numbers and durations in the short English the alarm messages use."""

from __future__ import annotations


def num(value: float, unit: str = "") -> str:
    text = f"{value:.4g}"
    return f"{text} {unit}" if unit else text


def duration(seconds: float) -> str:
    """'45 s', '12 min', '3 h 20 min', '2 d 4 h' — two units at most; precise enough for a person."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    m = s // 60
    if m < 60:
        return f"{m} min"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h} h {m} min" if m else f"{h} h"
    d, h = divmod(h, 24)
    return f"{d} d {h} h" if h else f"{d} d"
