"""REFI-QDA exchange: safe reading of untrusted files, import, mapping, export."""

from __future__ import annotations
