"""Automation: rules engine, escalation, tasks, proactive care, integrations (webhooks, ERP/finance)."""
