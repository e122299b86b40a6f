"""`python -m fundwall`: the same command line as `fundwall`."""

from fundwall.cli import main

main()
