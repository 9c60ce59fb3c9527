"""Askel's pages for people."""
