"""The business core: pure types and rules, no I/O, no framework imports."""
