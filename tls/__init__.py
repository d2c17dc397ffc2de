"""TLS support: a library with no import of securekv (see DESIGN.md)."""
