"""The currency picker: cost pages show one currency at a time, and the choice follows the user across pages."""

import streamlit as st

from finops.currency import default_currency, pick
from finops.ui.loaders import currency_totals, store_status

KEY = "finops_currency"  # the choice, kept in st.session_state for every cost page
FORMATS = {"USD": "dollar", "EUR": "euro", "JPY": "yen"}  # st.column_config's money formats


def currency_picker() -> str | None:
    """The currency the page shows: the sidebar picker's choice when the store holds several currencies, else
    its only one (no picker); None for an empty store."""
    totals = currency_totals(store_status().version)
    available = [str(c) for c in totals["currency"]]
    default = default_currency(totals)
    if len(available) <= 1:
        return default
    current = pick(st.session_state.get(KEY), available, default)
    choice = st.sidebar.selectbox(
        "Currency", available, index=available.index(current) if current in available else 0,
        key="currency_picker", help="Amounts in different currencies are never added: the pages show one at a time.",
    )  # fmt: skip
    st.session_state[KEY] = choice
    return choice


def store_currency() -> str:
    """The store's default currency (`currency.default_currency`; USD for an empty store): forecasts and anomalies
    are made in it."""
    return default_currency(currency_totals(store_status().version)) or "USD"


def money_format(currency: str | None) -> str:
    """st.column_config's number format for amounts in `currency` (its symbol where Streamlit knows one)."""
    return FORMATS.get(currency or "USD", "localized")
