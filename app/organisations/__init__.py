"""Regions, municipalities, health-station units and the municipal counselling services."""
