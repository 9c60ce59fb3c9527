"""Who the caller is (authentication), what they may do (permissions) and the audit log."""
