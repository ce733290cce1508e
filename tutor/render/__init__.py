"""Printers over one solved run: each output format is one module here."""
