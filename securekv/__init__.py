"""securekv: a Redis-compatible server built for public endpoints."""

__version__ = "0.1.0"
REDIS_VERSION = "7.0.15"
