"""Askel: physical-activity counselling between wellbeing services counties and municipalities."""
