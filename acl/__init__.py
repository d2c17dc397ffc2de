"""The ACL engine: a library with no import of securekv (see DESIGN.md)."""
