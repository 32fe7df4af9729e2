"""Adapters from real MetaTrader 5 terminals to the Terminal interface: the Windows module and mt5linux."""
