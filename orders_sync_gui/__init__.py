"""orders-sync: keeps a monday.com board in step with the ORDERS_UNIFIED order table."""

__version__ = "0.1.0"
APP_NAME = "orders-sync"
