"""Models of cost, pure (DataFrames in, DataFrames out) and never imported by pages directly.

`forecaster` (Prophet) with `forecast_backtest` (its error beside the seasonal-naive baseline) and
`forecast_batch` (many series in worker processes); `anomaly_detector` (one daily series) with
`anomaly_breakdown` (every service and account of the cost rows, and what moved).
"""
