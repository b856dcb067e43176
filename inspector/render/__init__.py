"""Renderers: text for people (tabulate, rustc-style findings), JSON for machines."""
