"""Account-base screening (存量账户排查, docs/accounts.md): runs of checks over the account
base (`runs`), their work lists, bulk actions tracked per account (`actions`), and the
evaluation against a simulated region's planted truth (`evaluation`). The checks themselves
are columnar functions of an account base (`checks`, `base`)."""
