"""The automation feature's tables."""
