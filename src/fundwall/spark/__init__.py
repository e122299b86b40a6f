"""The bulk work on Apache Spark: replay, backtest, training features and the trace
evaluation of a region spread over a Spark cluster's executors (docs/scale.md).

PySpark is imported inside the functions that use it, so neither the command line nor the
engine needs it to start.
"""
