"""Dispatch: the pure optimizer (`dispatch.optimizer`) and planning in the service (`dispatch.planning`).

Kept empty so that importing `dispatch` does not load OR-Tools.
"""
