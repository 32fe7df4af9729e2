"""Pattern service: TA-Lib indicators, candlestick patterns and chart-pattern analysis (port 5003)."""
