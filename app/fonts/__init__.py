"""The fonts Askel draws text in: the municipality card's charts and the access report's PDF.
DejaVu Sans covers every Latin letter, so Åkerström, Čukić or Ánde Niillas prints as written,
which neither Pillow's own font nor the PDF standard fonts can promise. Vendored from npm with
their licence (`python -m app.fonts.vendor`), so nothing depends on the machine's fonts."""

from __future__ import annotations

from pathlib import Path

DEJAVU = Path(__file__).resolve().parent / "dejavu"
REGULAR = DEJAVU / "DejaVuSans.ttf"
BOLD = DEJAVU / "DejaVuSans-Bold.ttf"
