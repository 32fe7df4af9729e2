"""The mt5 service's domain logic: the terminal interface, its adapters and the simulated terminal."""
