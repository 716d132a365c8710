"""The audit report: records, totals, and report.json / report.md / report.html."""
