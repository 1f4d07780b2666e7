"""Forecasting models: Prophet behind `forecast.fit_forecast`, never imported by pages directly."""
