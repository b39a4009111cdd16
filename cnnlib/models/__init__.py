"""Model families, one file each, and a plain registry (see ``registry.py``)."""
