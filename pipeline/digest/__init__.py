"""Digests: the model (``model``), building from stored rows (``build``), rendering (``render``)."""
