"""Rule packs as people work with them (规则包管理): the pack library, the registry's use
cases (register, promote, run in shadow), how each version decided, shadow against live,
and stored backtests side by side.

The engine's own side of the registry (what it runs, its storage) is
`fundwall.engine.registry`; every change to it by a person goes through a use case here.
"""
