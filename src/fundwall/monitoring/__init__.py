"""Monitoring (监测): a member's transactions and the decisions on them
(`fundwall.monitoring.transactions`), and the overview of decisions, interceptions and alerts
(`fundwall.monitoring.overview`). Every read is a use case."""
