"""Account governance: members report their accounts' life to the account directory
(`reports`); restrictions and standing statuses (`controls`); the punishment list
(`punishments`, 惩戒)."""

from fundwall.accounts.model import AccountOpening, Holder
from fundwall.accounts.reports import change_account, open_account

__all__ = ["AccountOpening", "Holder", "change_account", "open_account"]
