"""Proactive care and insight, run by the automation worker (`fieldops worker`, any number at once).

- consumables: per asset model, what wears out (a usage counter from telemetry or meter readings, or a
  run-out cycle); the run-out date per asset; a task and/or a portal notice N days ahead, one open notice
  per (asset, consumable), updated on repeats, resolved when the consumable is replaced;
- key dates: contract renewals, warranty ends, installation anniversaries → one reminder task each for
  the customer's account owner;
- churn risk per customer from service signals (ratings, repeat work, SLA breaches, ticket spikes), with
  the reasons;
- service-volume forecast per territory and week, with its backtest error against a seasonal naive
  baseline.

Every write is idempotent (unique keys, upserts), so two workers running the same pass agree; a lease
(`care_runs`) only saves the second one the work.
"""
