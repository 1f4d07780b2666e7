"""Currencies, pure: which one a view shows by default, and how a figure names its currency.

Amounts in different currencies are never added: every cost view shows one currency at a time (or, with imported
exchange rates, all of them converted to the reporting currency; see `finops.fx`).
"""

import pandas as pd

PREFERRED = "USD"  # the default whenever the store holds it


def default_currency(totals: pd.DataFrame) -> str | None:
    """The currency a view shows unless one is picked: USD when present, else the one with the most cost
    (ties: alphabetical); None for an empty store.

    Expects `currency, unblended_cost` (one row per currency, or many: they are summed per currency).
    """
    if totals.empty:
        return None
    per = totals.groupby("currency")["unblended_cost"].sum()
    if PREFERRED in per.index:
        return PREFERRED
    ranked = sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))
    return str(ranked[0][0])


def pick(choice: str | None, available: list[str], default: str | None) -> str | None:
    """`choice` when the store holds it, else `default` (a currency picked on another store, say)."""
    return choice if choice in available else default


def cost_title(currency: str | None, label: str = "Cost", converted: bool = False) -> str:
    """ "Cost (EUR)", or "Cost (USD, converted)" for figures converted at imported rates."""
    if not currency:
        return label
    return f"{label} ({currency}, converted)" if converted else f"{label} ({currency})"
