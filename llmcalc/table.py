"""A table as the views describe it; Rich's own `Table` is made only when Rich must lay it out.

Importing `rich.table` takes about 5 ms and 0.7 MiB (its column ratios bring in `fractions`
and `decimal`), as much as the rest of a table command's own work, and a table of text cells is
drawn and measured without it (`fitted.py`). This `Table` takes `rich.table.Table`'s
arguments and its `add_column`, `add_row` and `add_section`, and keeps what they set under the
same names, with the same defaults and the same normalising (rich 15): what `fitted` and
`render.show` read. `rich_table()` makes the `rich.table.Table` with the same attributes, for a table
Rich must lay out. tests/test_table.py checks every attribute against Rich's after the same calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Optional, Union

from rich import box as boxes

if TYPE_CHECKING:
    import rich.table
    from rich.console import Console, JustifyMethod, OverflowMethod, RenderableType
    from rich.style import StyleType
    from rich.text import TextType


class Column:
    """rich.table.Column's fields, as add_column sets them."""

    def __init__(self, index: int, header: RenderableType = "", footer: RenderableType = "", *,
                 header_style: StyleType = "", footer_style: StyleType = "", style: StyleType = "",
                 justify: JustifyMethod = "left", vertical: str = "top", overflow: OverflowMethod = "ellipsis",
                 width: Optional[int] = None, min_width: Optional[int] = None, max_width: Optional[int] = None,
                 ratio: Optional[int] = None, no_wrap: bool = False, highlight: bool = False) -> None:
        self._index = index
        self.header, self.footer = header, footer
        self.header_style, self.footer_style, self.style = header_style, footer_style, style
        self.justify, self.vertical, self.overflow = justify, vertical, overflow
        self.width, self.min_width, self.max_width, self.ratio = width, min_width, max_width, ratio
        self.no_wrap, self.highlight = no_wrap, highlight
        self._cells: list[RenderableType] = []

    @property
    def cells(self) -> Iterator[RenderableType]:
        return iter(self._cells)


class Row:
    def __init__(self, style: Optional[StyleType] = None, end_section: bool = False) -> None:
        self.style, self.end_section = style, end_section


class Table:
    """rich.table.Table's description of a table, without its layout."""

    def __init__(self, *headers: str, title: Optional[TextType] = None, caption: Optional[TextType] = None,
                 width: Optional[int] = None, min_width: Optional[int] = None,
                 box: Optional[boxes.Box] = boxes.HEAVY_HEAD, safe_box: Optional[bool] = None,
                 padding: Union[int, tuple[int, ...]] = (0, 1), collapse_padding: bool = False,
                 pad_edge: bool = True, expand: bool = False, show_header: bool = True, show_footer: bool = False,
                 show_edge: bool = True, show_lines: bool = False, leading: int = 0, style: StyleType = "none",
                 row_styles: Optional[Iterable[StyleType]] = None,
                 header_style: Optional[StyleType] = "table.header", footer_style: Optional[StyleType] = "table.footer",
                 border_style: Optional[StyleType] = None, title_style: Optional[StyleType] = None,
                 caption_style: Optional[StyleType] = None, title_justify: JustifyMethod = "center",
                 caption_justify: JustifyMethod = "center", highlight: bool = False) -> None:
        self.columns: list[Column] = []
        self.rows: list[Row] = []
        self.title, self.caption = title, caption
        self.width, self.min_width = width, min_width
        self.box, self.safe_box = box, safe_box
        self.padding = _unpack(padding)
        self.collapse_padding, self.pad_edge, self._expand = collapse_padding, pad_edge, expand
        self.show_header, self.show_footer, self.show_edge = show_header, show_footer, show_edge
        self.show_lines, self.leading, self.style = show_lines, leading, style
        self.row_styles: Sequence[StyleType] = list(row_styles or [])
        self.header_style, self.footer_style = header_style or "", footer_style or ""
        self.border_style, self.title_style, self.caption_style = border_style, title_style, caption_style
        self.title_justify, self.caption_justify = title_justify, caption_justify
        self.highlight = highlight
        for header in headers:
            self.add_column(header)

    @property
    def expand(self) -> bool:
        return self._expand or self.width is not None

    @property
    def _extra_width(self) -> int:
        """The box's edges and the dividers between columns."""
        return ((2 if self.box and self.show_edge else 0) + (len(self.columns) - 1 if self.box else 0))

    def get_row_style(self, console: Console, index: int) -> StyleType:
        from rich.style import Style

        style = Style.null()
        if self.row_styles:
            style += console.get_style(self.row_styles[index % len(self.row_styles)])
        row_style = self.rows[index].style
        if row_style is not None:
            style += console.get_style(row_style)
        return style

    def add_column(self, header: RenderableType = "", footer: RenderableType = "", *,
                   header_style: Optional[StyleType] = None, highlight: Optional[bool] = None,
                   footer_style: Optional[StyleType] = None, style: Optional[StyleType] = None,
                   justify: JustifyMethod = "left", vertical: str = "top", overflow: OverflowMethod = "ellipsis",
                   width: Optional[int] = None, min_width: Optional[int] = None, max_width: Optional[int] = None,
                   ratio: Optional[int] = None, no_wrap: bool = False) -> None:
        self.columns.append(Column(
            len(self.columns), header, footer, header_style=header_style or "", footer_style=footer_style or "",
            style=style or "", highlight=self.highlight if highlight is None else highlight, justify=justify,
            vertical=vertical, overflow=overflow, width=width, min_width=min_width, max_width=max_width,
            ratio=ratio, no_wrap=no_wrap))

    def add_row(self, *cells: Optional[RenderableType], style: Optional[StyleType] = None,
                end_section: bool = False) -> None:
        """A row; a missing or None cell is empty, and a cell past the last column adds a column."""
        from rich.text import Text

        for index, cell in enumerate([*cells, *[None] * (len(self.columns) - len(cells))]):
            if index == len(self.columns):
                self.columns.append(Column(index, highlight=self.highlight))
                self.columns[-1]._cells.extend(Text("") for _ in self.rows)
            self.columns[index]._cells.append("" if cell is None else cell)
        self.rows.append(Row(style, end_section))

    def add_section(self) -> None:
        if self.rows:
            self.rows[-1].end_section = True

    def rich_table(self) -> rich.table.Table:
        """The rich.table.Table with these attributes."""
        from rich.table import Column as RichColumn, Row as RichRow, Table as RichTable

        table = RichTable(
            title=self.title, caption=self.caption, width=self.width, min_width=self.min_width, box=self.box,
            safe_box=self.safe_box, padding=self.padding, collapse_padding=self.collapse_padding,
            pad_edge=self.pad_edge, expand=self._expand, show_header=self.show_header, show_footer=self.show_footer,
            show_edge=self.show_edge, show_lines=self.show_lines, leading=self.leading, style=self.style,
            row_styles=self.row_styles, header_style=self.header_style, footer_style=self.footer_style,
            border_style=self.border_style, title_style=self.title_style, caption_style=self.caption_style,
            title_justify=self.title_justify, caption_justify=self.caption_justify, highlight=self.highlight)
        table.columns.extend(RichColumn(
            _index=column._index, header=column.header, footer=column.footer, header_style=column.header_style,
            footer_style=column.footer_style, style=column.style, justify=column.justify,
            vertical=column.vertical, overflow=column.overflow,  # type: ignore[arg-type]
            width=column.width, min_width=column.min_width, max_width=column.max_width, ratio=column.ratio,
            no_wrap=column.no_wrap, highlight=column.highlight, _cells=list(column._cells)) for column in self.columns)
        table.rows.extend(RichRow(style=row.style, end_section=row.end_section) for row in self.rows)
        return table


def _unpack(padding: Union[int, tuple[int, ...]]) -> tuple[int, int, int, int]:
    """Padding.unpack: CSS-style padding as (top, right, bottom, left)."""
    if isinstance(padding, int):
        return (padding, padding, padding, padding)
    if len(padding) == 1:
        return (padding[0],) * 4  # type: ignore[return-value]
    if len(padding) == 2:
        return (padding[0], padding[1], padding[0], padding[1])
    if len(padding) == 4:
        return tuple(padding)  # type: ignore[return-value]
    raise ValueError(f"1, 2 or 4 integers required for padding; {len(padding)} given")
