"""The raise/clear state machine every stateful rule shares.

A rule turns each sample into two booleans: `on` (the raise condition holds) and `off` (the clear
condition holds). They are separated by the rule's hysteresis, so in the band between them neither holds
and nothing changes. The latch raises once when `on` has held for `min_duration`, and clears once when
`off` has held for `clear_duration` — so a signal is emitted at the edges, never on every sample.
"""

from __future__ import annotations

import msgspec

NONE, RAISE, CLEAR = 0, 1, -1


class Latch(msgspec.Struct, kw_only=True):
    active: bool = False
    onset: float | None = None  # when the current run of `on` samples began (kept while active)
    clear_onset: float | None = None  # when the current run of `off` samples began, while active

    def step(self, t: float, on: bool, off: bool, min_duration: float, clear_duration: float) -> int:
        if not self.active:
            if not on:
                self.onset = None
                return NONE
            if self.onset is None:
                self.onset = t
            if t - self.onset >= min_duration:
                self.active = True
                self.clear_onset = None
                return RAISE
            return NONE
        if not off:
            self.clear_onset = None
            return NONE
        if self.clear_onset is None:
            self.clear_onset = t
        if t - self.clear_onset >= clear_duration:
            self.active = False
            self.onset = None
            self.clear_onset = None
            return CLEAR
        return NONE
