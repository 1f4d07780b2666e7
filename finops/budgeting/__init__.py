"""Budgets as pure logic: calendar periods, the budget language people write (forms, JSON, YAML) and what a
budget's figures mean (limits, crossed thresholds, status). No store, no Streamlit: `finops.data.budgets` and
friends bring the data."""
