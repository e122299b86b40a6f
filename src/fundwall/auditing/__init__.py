"""Reading the audit log (审计日志) and verifying its chain, for auditors: use cases."""

from fundwall.auditing.log import AuditFilter, audit_records, verify_audit_chain

__all__ = ["AuditFilter", "audit_records", "verify_audit_chain"]
