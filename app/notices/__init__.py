"""Notices and reminders to patients (SMS), sent after commit through a pluggable channel."""
