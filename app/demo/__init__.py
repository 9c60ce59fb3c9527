"""Synthetic data, every person in it invented: the demo region of the embedded default
(`region`), its year of history written through the services (`history`), and a national-size
dataset for benchmarks (`national`)."""
