"""Helpers shared by several test modules (material builders, comparisons); no tests here."""
