"""The window's panels: customers, change set (with sizes), staged rows, batches."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from .models import Col, FrameModel

# Key columns first: at 1024×700 a pane shows what it is about (the customer with its
# counts and its open batch; a row's change and status) before anything is cut off.
CUSTOMER_COLUMNS = [
    Col("customer", "Customer"),
    Col("new", "NEW", numeric=True),
    Col("changed", "CHANGED", numeric=True),
    Col("deleted", "DELETED", numeric=True),
    Col("open_batch", "Open batch"),
    Col("invalid", "INVALID", numeric=True),
    Col("unchanged", "UNCHANGED", numeric=True),
    Col("last_sync", "Last sync"),
]
# The same names for the same fields in every table (and in exports).
CHANGE_COLUMNS = [
    Col("include", ""),
    Col("change", "Change", tint=True),
    Col("order", "AAG ORDER NUMBER", tooltip="order"),
    Col("po", "PO NUMBER"),
    Col("style", "CUSTOMER STYLE"),
    Col("colour", "COLOUR"),
    Col("qty", "Order qty", numeric=True),
    Col("diff", "Changed fields (old → new)", tooltip="diff_full"),
]
SIZE_COLUMNS = [
    Col("size", "Size"),
    Col("old", "Order qty (pushed)", numeric=True),
    Col("new", "Order qty (now)", numeric=True),
    Col("change", "Change", tint=True),
]
STAGED_COLUMNS = [
    Col("change_type", "Change", tint=True),
    Col("order_number", "AAG ORDER NUMBER"),
    Col("stg_status", "Status", tint=True),
    Col("po_number", "PO NUMBER"),
    Col("style", "CUSTOMER STYLE"),
    Col("colour", "COLOUR"),
    Col("order_qty", "Order qty", numeric=True),
    Col("stg_monday_item_id", "monday item"),
    Col("stg_retry_count", "Retries", numeric=True),
    Col("stg_error_message", "monday.com message", tooltip="stg_error_message"),
]
SUBITEM_COLUMNS = [
    Col("order_number", "AAG ORDER NUMBER"),
    Col("size_label", "Size"),
    Col("change_type", "Change", tint=True),
    Col("previous_qty", "Qty before", numeric=True),
    Col("order_qty", "Qty", numeric=True),
    Col("stg_status", "Status", tint=True),
    Col("stg_monday_subitem_id", "monday subitem"),
    Col("stg_retry_count", "Retries", numeric=True),
    Col("stg_error_message", "monday.com message", tooltip="stg_error_message"),
]
BATCH_COLUMNS = [
    Col("batch_id", "Batch", numeric=True),
    Col("customer", "Customer"),
    Col("status", "Status", tint=True),
    Col("operator", "Operator"),
    Col("created_at", "Created"),
    Col("item_count", "Items", numeric=True),
    Col("subitem_count", "Subitems", numeric=True),
    Col("new_count", "New", numeric=True),
    Col("changed_count", "Changed", numeric=True),
    Col("deleted_count", "Deleted", numeric=True),
    Col("succeeded_count", "OK", numeric=True),
    Col("failed_count", "Failed", numeric=True),
    Col("message", "Message", tooltip="message"),
]


def table(model: FrameModel, *, stretch_last: bool = True) -> QTableView:
    view = QTableView()
    view.setModel(model)
    # No sort until the operator clicks a header (Qt would otherwise sort column 0
    # descending at once); the model sorts itself (numpy), no proxy.
    view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
    view.setSortingEnabled(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(24)
    view.setWordWrap(False)
    header = view.horizontalHeader()
    header.setStretchLastSection(stretch_last)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setHighlightSections(False)
    # Fit widths to the visible rows only: measuring 1,000 rows per column calls data()
    # from Python ~80,000 times (300 ms for the staged rows, measured in bench_gui.py).
    header.setResizeContentsPrecision(0)
    fit_columns(view)
    return view


def fit_columns(view: QTableView, minimum: int = 44, maximum: int = 260, sample: int = 200) -> None:
    """Widths from the header text and the first rows' text, so no header is clipped.

    Measured from the model's own values (a couple of hundred rows), not through Qt's
    resizeColumnsToContents, which calls data() from Python for every sampled cell: 1.8 s
    for a 1,000-row batch while a push held the interpreter (bench_gui.py).
    """
    model = view.model()
    if not isinstance(model, FrameModel):
        view.resizeColumnsToContents()
        return
    header = view.horizontalHeader()
    head_metrics = header.fontMetrics()
    cell_metrics = view.fontMetrics()
    for c, col in enumerate(model.columns):
        widths = [head_metrics.horizontalAdvance(col.title) + 22, minimum]
        widths += [
            cell_metrics.horizontalAdvance(text) + 14 for text in model.sample_texts(c, sample)
        ]
        view.setColumnWidth(c, min(max(widths), maximum))


class CustomerPanel(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.model = FrameModel(CUSTOMER_COLUMNS)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter customers…")
        self.filter.setClearButtonEnabled(True)
        self.view = table(self.model, stretch_last=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        # Wide enough for the customer, its counts and its open batch at 1024×700.
        self.setMinimumWidth(440)
        layout.addWidget(QLabel("<b>Customers</b>"))
        layout.addWidget(self.filter)
        layout.addWidget(self.view)


class ChangeSetPanel(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.title = QLabel("Select a customer to see what changed since the last sync.")
        self.title.setWordWrap(True)  # a long title wraps: it never widens the window
        self.type_filter = QComboBox()
        for label in ("All changes", "NEW", "CHANGED", "DELETED"):
            self.type_filter.addItem(label)
        self.po = QLineEdit()
        self.po.setPlaceholderText("PO")
        self.po.setToolTip("Only this PO: a pilot batch (e.g. 4755)")
        self.po.setFixedWidth(90)
        self.limit = QSpinBox()
        self.limit.setRange(0, 1_000_000)
        self.limit.setSpecialValueText("all orders")
        self.limit.setPrefix("first ")
        self.limit.setMinimumWidth(120)
        self.limit.setToolTip("Stage only the first N orders (0: all)")
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.po)
        top.addWidget(self.limit)
        top.addWidget(self.type_filter)
        self.model = FrameModel(CHANGE_COLUMNS, check_key="include")
        self.view = table(self.model)
        self.view.setColumnWidth(0, 28)
        self.sizes_title = QLabel("Sizes of the selected order (subitems)")
        self.sizes = FrameModel(SIZE_COLUMNS)
        self.sizes_view = table(self.sizes)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.sizes_title)
        lower_layout.addWidget(self.sizes_view)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(lower)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.splitter)


class StagedPanel(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.title = QLabel("No batch selected: stage a change set, or pick a batch.")
        self.title.setWordWrap(True)
        self.rows = FrameModel(STAGED_COLUMNS)
        self.rows_view = table(self.rows)
        self.sub_filter = QLineEdit()
        self.sub_filter.setPlaceholderText("Filter subitems (order, size, status)…")
        self.sub_filter.setClearButtonEnabled(True)
        self.subitems = FrameModel(SUBITEM_COLUMNS)
        self.sub_view = table(self.subitems)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.sub_filter)
        lower_layout.addWidget(self.sub_view)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.rows_view)
        self.splitter.addWidget(lower)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.splitter)


class BatchesPanel(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.model = FrameModel(BATCH_COLUMNS)
        self.view = table(self.model)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(
            QLabel(
                "Batch history, newest first. Select one to see its rows, "
                "push it, or roll it back / undo it."
            )
        )
        layout.addWidget(self.view)
