"""Schema revisions, oldest first; each names the revision it follows."""
