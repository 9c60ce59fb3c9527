"""Counsellors' availability, slot search, holds and booking that never double-books."""
