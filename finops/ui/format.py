"""Number formatting for cards and captions."""

import math

from finops.markup import plain  # noqa: F401  (re-exported: the pages escape through ui.plain)

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def money(value: float | None, currency: str = "USD", decimals: int = 0) -> str:
    """ "$12,345" style; an em dash for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    symbol = SYMBOLS.get(currency)
    text = f"{abs(value):,.{decimals}f}"
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency}"


def pct(value: float | None, decimals: int = 1) -> str | None:
    """ "+3.2%" style; None for a missing value (st.metric then shows no delta)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return f"{value:+.{decimals}f}%"


def ratio_pct(value: float | None, decimals: int = 1) -> str:
    """A ratio as "4.2 %" (0.042); an em dash for a missing value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{100 * value:.{decimals}f} %"
