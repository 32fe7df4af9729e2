"""A test stand-in for a child that dies at start every time."""

raise SystemExit(3)
