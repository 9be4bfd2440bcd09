"""The shape of ORDERS_UNIFIED as the business has it: column names and their kinds.

Production has about 417 columns in three groups (order details, one INT column per garment
size, additional details). This catalogue holds the columns the demo database is built with
and the kinds the hasher needs; a real database is reflected instead, and only the kinds of
its columns are read from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """How a column's values are canonicalised; independent of the database dialect."""

    TEXT = "text"
    INT = "int"
    DECIMAL = "decimal"
    DATETIME = "datetime"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind
    length: int | None = None  # NVARCHAR length; None means MAX for text
    precision: tuple[int, int] | None = None  # DECIMAL(p, s)


RECORD_UUID = "record_uuid"
RECORD_HASH = "record_hash"
ORDER_NUMBER = "AAG ORDER NUMBER"
CUSTOMER_NAME = "CUSTOMER NAME"
SOURCE_CUSTOMER_NAME = "SOURCE_CUSTOMER_NAME"
PO_NUMBER = "PO NUMBER"
STYLE = "CUSTOMER STYLE"
COLOUR = "CUSTOMER COLOUR DESCRIPTION"
FIRST_SIZE_AFTER = "UNIT OF MEASURE"  # size columns sit between this one ...
TOTAL_QTY = "TOTAL QTY"  # ... and this one


def _t(name: str, length: int | None = 100) -> Column:
    return Column(name, Kind.TEXT, length)


def _dt(name: str) -> Column:
    return Column(name, Kind.DATETIME)


def _dec(name: str, p: int, s: int) -> Column:
    return Column(name, Kind.DECIMAL, precision=(p, s))


ORDER_DETAIL_COLUMNS: tuple[Column, ...] = (
    _t(ORDER_NUMBER, 50),
    _t(CUSTOMER_NAME, 100),
    _t(SOURCE_CUSTOMER_NAME, 100),
    _dt("ORDER DATE PO RECEIVED"),
    _t(PO_NUMBER, 50),
    _t("CUSTOMER ALT PO", 50),
    _t("AAG SEASON", 20),
    _t("CUSTOMER SEASON", 20),
    _t("DROP", 20),
    _t("MONTH", 20),
    _t("RANGE / COLLECTION"),
    _t("PROMO GROUP / CAMPAIGN (HOT 30/GLOBAL EDIT)"),
    _t("CATEGORY"),
    _t("PATTERN ID", 50),
    _t("PLANNER", 50),
    _t("MAKE OR BUY", 10),
    _t("ORIGINAL ALIAS/RELATED ITEM"),
    _t("PRICING ALIAS/RELATED ITEM"),
    _t("ALIAS/RELATED ITEM"),
    _t(STYLE, 50),
    _t("STYLE DESCRIPTION", 255),
    _t("CUSTOMER'S COLOUR CODE (CUSTOM FIELD) CUSTOMER PROVIDES THIS", 50),
    _t(COLOUR, 100),
    _t("INFOR WAREHOUSE CODE", 20),
    _t("BULK AGREEMENT NUMBER", 50),
    _t("INFOR FACILITY CODE", 20),
    _t("INFOR BUSINESS UNIT AREA", 50),
    _t("BULK AGREEMENT DESCRIPTION", 255),
    _t("CO NUMBER - INITIAL DISTRO", 50),
    _t("INFOR CUSTOMER CODE", 20),
    _t("CO NUMBER - ALLOCATION DISTRO", 50),
    _t("INFOR ORDER TYPE", 20),
    _t("INFOR SEASON CODE", 20),
    _t("ITEM TYPE CODE", 20),
    _t("PRODUCT GROUP CODE", 20),
    _t("ITEM GROUP CODE", 20),
    _t("GENDER GROUP CODE", 20),
    _t("FABRIC TYPE CODE", 20),
    _t("INFOR COLOUR CODE", 20),
    _t("FACILITY CODE", 20),
    _t("CUSTOMER CODE", 20),
    _t("AAG SEASON CODE", 20),
    _t("MAKE/BUY CODE", 10),
    _t(FIRST_SIZE_AFTER, 20),
)

# One INT column per garment size, in the order production has them (by family).
SIZE_NAMES: tuple[str, ...] = (
    # baby and child
    "2T", "3T", "4T", "0-3M", "3-6M", "6-12M", "12-18M", "18-24M", "3/6 MTHS", "2/3",
    "3-4 years", "4/5", "6/7", "8/9", "10/11", "12/13", "S(6-8)", "M(8-10)", "L(10-12)",
    "11-14",
    # numeric
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15",
    "16", "18", "20", "22", "24", "26", "28", "30", "32", "34", "36", "38", "40", "42",
    "44", "46", "48", "50", "52", "54", "56", "58", "60",
    # letter
    "XXXS", "XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL", "2XL", "3XL", "4XL", "1X",
    "2X", "3X", "4X", "S/M", "M/L", "L/XL", "XL/XXL", "XS/S", "S+", "S/P", "XS-PETITE",
    "S-PETITE",
    # combined
    "04/XXS", "06/XS", "08/S", "10/M", "12/L", "14/XL", "16/XXL", "18/XXXL", "CD/XS",
    "C/XS", "D/XS", "AB/S", "AB/M", "C/S", "C/M", "C/L", "D/S", "D/M", "D/L",
    # waist / length
    "28-30L", "30-30L", "30-31L", "30/32", "30x30", "30x32", "31/32", "32/34", "32x30",
    "34x34", "36x32", "38x34", "40x30", "28/30", "29/30", "29/32", "30/30", "31/30",
    "32/30", "32/32", "33/32", "34/30", "34/32", "36/30", "36/32", "36/34", "38/30", "38/32",
    "40/32", "42/32",
    # bra
    "32C", "32D", "32DD", "32DDD", "34C", "34D", "34DD", "34DDD", "36C", "36D", "36DD",
    "38C", "38D", "38DD",
    # one size
    "OS", "ONE SIZE", "One_Size", "One Sz", "O/S",
    # other
    "0w", "2w", "4w", "6w", "8w", "10w", "12w", "1Y", "2Y", "3Y", "4Y", "4XT",
)  # fmt: skip

SIZE_COLUMNS: tuple[Column, ...] = tuple(Column(name, Kind.INT) for name in SIZE_NAMES)

ADDITIONAL_COLUMNS: tuple[Column, ...] = (
    Column(TOTAL_QTY, Kind.INT),
    _t("DESTINATION"),
    _t("DESTINATION WAREHOUSE"),
    _t("ALLOCATION (CHANNEL)"),
    _t("SHOP NAME"),
    _t("SHOP CODE", 20),
    _t("COLLECTION DELIVERY", 50),
    _dt("ETA CUSTOMER WAREHOUSE DATE"),
    _dt("EX FACTORY DATE"),
    _t("DELIVERY TERMS", 20),
    _t("PLANNED DELIVERY METHOD", 50),
    _t("NOTES", 1000),
    _t("ORDER TYPE", 50),
    _t("VALIDATION", 50),
    _dec("CUSTOMER PRICE", 10, 4),
    _dec("EX WORKS (USD)", 10, 4),
    _dec("FX CHARGE", 10, 4),
    _dec("HANDLING", 10, 4),
    _dec("FINAL FOB (USD)", 17, 4),
    _t("HS CODE", 20),
    _dec("US DUTY RATE", 10, 6),
    _dec("US DUTY", 10, 4),
    _dec("FREIGHT", 18, 4),
    _dec("DDP US (USD)", 10, 4),
    _dec("UK DUTY RATE", 10, 6),
    _dec("DDP UK (USD)", 10, 4),
    _t("FINAL PRICES Y/N", 5),
    _t("NOTES FOR PRICE", 255),
    _t("∆", 50),
    _t("TRACKING NUMBER", 50),
    _t("COUNTRY OF ORIGIN", 50),
    _t("INVOICE MONTH", 20),
    Column("INVOICE YEAR", Kind.INT),
    _dec("MARGIN", 10, 4),
    _dec("US Price 2 Dec", 10, 2),
    _dec("RMB price (ex. VAT)", 10, 2),
)

DEMO_COLUMNS: tuple[Column, ...] = ORDER_DETAIL_COLUMNS + SIZE_COLUMNS + ADDITIONAL_COLUMNS


def size_columns_between(names: list[str]) -> list[str]:
    """Size columns of a real table: every column after UNIT OF MEASURE and before TOTAL QTY.

    Reading them by position (not from a fixed list) keeps a renamed, added or dropped size
    column working: it simply is, or is no longer, a size.
    """
    try:
        start = names.index(FIRST_SIZE_AFTER) + 1
        end = names.index(TOTAL_QTY)
    except ValueError as exc:
        raise ValueError(
            f"ORDERS_UNIFIED must have the columns [{FIRST_SIZE_AFTER}] and [{TOTAL_QTY}] "
            "around its size columns"
        ) from exc
    return names[start:end]
