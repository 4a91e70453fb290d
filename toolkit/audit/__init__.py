"""``nianbao audit``: an evaluator's scorecard for each published report of a set.

``audit_reports(paths)`` reads each report (toolkit/importers ``import_report``), runs the audit
rules (rules.py, weights and limits in templates/audit.yaml), scores and ranks the set; outputs.py
writes the JSON, xlsx and HTML forms.
"""

from toolkit.audit.run import AuditResult, AuditedReport, audit_reports, load_scorecard

__all__ = ["AuditResult", "AuditedReport", "audit_reports", "load_scorecard"]
