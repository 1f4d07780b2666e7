"""Data Sources' exchange rates: the imported rates, and for admins an upload that imports a rates file."""

import streamlit as st

from finops.auth import current_user
from finops.data import db, exchange_rates
from finops.markup import plain
from finops.ui.loaders import exchange_rate_table, exchange_rates_version
from finops.ui.tables import table


def exchange_rates_section() -> None:
    """The rates to USD (table and CSV) and, for admins, a CSV upload (currency,day,rate) imported all or nothing."""
    st.subheader("Exchange rates")
    st.caption(
        "Rates to USD, the reporting currency: with them the currency picker offers every currency converted to "
        "USD, each day's amount at the latest rate on or before that day. File: `currency,day,rate` (USD per unit, "
        "in force from that day); see docs/currencies.md."
    )
    table(exchange_rate_table(), csv=("exchange_rates.csv", "Download exchange rates", "dl_fx_rates"))
    user = current_user()
    if user is None or not user.is_admin:
        return
    with st.form("fx_upload", clear_on_submit=True):
        upload = st.file_uploader("Rates file (CSV: currency,day,rate)", type=["csv"], key="fx_file")
        if st.form_submit_button("Import rates", key="fx_import") and upload is not None:
            try:
                with db.session() as s:
                    done = exchange_rates.import_rates(
                        s, upload.name, actor=user.username, text=upload.getvalue().decode("utf-8-sig")
                    )
            except (exchange_rates.RateFileError, UnicodeDecodeError) as exc:
                st.error(f"Refused, nothing imported: {plain(exc)}")
            else:
                exchange_rate_table.clear()
                exchange_rates_version.clear()
                st.success(f"Imported {done.rows:,} rates of {', '.join(done.currencies)} "
                           f"({done.first_day} to {done.last_day}).")  # fmt: skip
