"""Account governance: members report their accounts' life to the account directory."""

from fundwall.accounts.reports import (
    AccountOpening,
    Holder,
    change_account,
    open_account,
)

__all__ = ["AccountOpening", "Holder", "change_account", "open_account"]
