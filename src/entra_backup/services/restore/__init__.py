"""Restore: the planner (``plan``) and the executor of a reviewed plan."""
