"""The official statistics (统计报表): the figures officials publish, per member and period,
with their trends, on the console and the API, and exported to Excel and PDF
(docs/reports.md)."""

from fundwall.reports.figures import official_figures

__all__ = ["official_figures"]
