"""The currency picker: cost pages show one currency at a time, and the choice follows the user across pages."""

from typing import NoReturn

import streamlit as st

from finops import fx
from finops.currency import default_currency, pick
from finops.markup import plain
from finops.ui.loaders import currency_totals, exchange_rates_version, store_status

KEY = "finops_currency"  # the choice, kept in st.session_state for every cost page
FORMATS = {"USD": "dollar", "EUR": "euro", "JPY": "yen"}  # st.column_config's money formats


def currency_picker() -> str | None:
    """The currency the page shows: the sidebar picker's choice when the store holds several currencies, else
    its only one (no picker); None for an empty store. With exchange rates imported the picker also offers
    `fx.ALL`: every currency converted to USD."""
    totals = currency_totals(store_status().version)
    currencies = [str(c) for c in totals["currency"]]
    default = default_currency(totals)
    if len(currencies) <= 1:
        return default
    available = currencies + ([fx.ALL] if exchange_rates_version() else [])
    current = pick(st.session_state.get(KEY), available, default)
    choice = st.sidebar.selectbox(
        "Currency", available, index=available.index(current) if current in available else 0,
        format_func=lambda c: fx.ALL_LABEL if c == fx.ALL else c, key="currency_picker",
        help="Amounts in different currencies are never added: the pages show one at a time, or all of them "
        "converted to USD at the imported exchange rates (Data Sources).",
    )  # fmt: skip
    st.session_state[KEY] = choice
    return choice


def unit(currency: str | None, converted: bool) -> str:
    """What figures are in, for titles and captions: "EUR", or "USD, converted" (at imported rates)."""
    return f"{currency or 'USD'}, converted" if converted else (currency or "USD")


def refuse_conversion(exc: fx.NoRate) -> NoReturn:
    """Say why figures cannot be converted to USD (a day without a rate) and stop the page: no partial figure."""
    st.error(f"Cannot convert to USD: {plain(exc)}. Import the missing rates on Data Sources (Exchange rates).")
    st.stop()
    raise AssertionError("st.stop() returned")  # pragma: no cover


def store_currency() -> str:
    """The store's default currency (`currency.default_currency`; USD for an empty store): forecasts and anomalies
    are made in it."""
    return default_currency(currency_totals(store_status().version)) or "USD"


def money_format(currency: str | None) -> str:
    """st.column_config's number format for amounts in `currency` (its symbol where Streamlit knows one)."""
    return FORMATS.get(currency or "USD", "localized")
