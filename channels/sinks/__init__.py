"""Sinks: where routed work is materialised for agents (Redis queues, webhooks, team channels)."""
